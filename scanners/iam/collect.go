package iam

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/paging"
)

// API is the part of the IAM client the scanner uses: reads only, plus
// GenerateCredentialReport.
type API interface {
	ReportAPI
	iam.ListUsersAPIClient
	iam.ListAccessKeysAPIClient
	iam.ListMFADevicesAPIClient
	iam.ListServerCertificatesAPIClient
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}

// Options configures the IAM scanner.
type Options struct {
	// Report bounds the wait for the credential report.
	Report ReportWait
}

// Scanner returns the IAM scanner (global: once per account) with its
// checks and the default credential report wait.
func Scanner() check.Service[Inventory] { return NewScanner(Options{}) }

// NewScanner returns the IAM scanner with the given options.
func NewScanner(opts Options) check.Service[Inventory] {
	return check.Service[Inventory]{
		Name: "iam", IsGlobal: true, List: Checks(),
		Collect: func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
			return collect(ctx, iam.NewFromConfig(scope.Config), scope, opts, gaps)
		},
	}
}

func collect(ctx context.Context, api API, scope check.Scope, opts Options, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Partition: scope.Partition, Users: []User{}, ServerCertificates: []ServerCertificate{}}
	if scope.Wants(PartCredentialReport) {
		rep, err := FetchReport(ctx, api, opts.Report)
		if err != nil {
			op := "GenerateCredentialReport"
			var re *ReportError
			if errors.As(err, &re) {
				op = re.Operation
			}
			gaps.Add(PartCredentialReport, op, "", err)
		} else {
			inv.Report = rep
		}
	}
	if scope.Wants(PartUsers) {
		collectUsers(ctx, api, scope, inv, gaps)
	}
	if scope.Wants(PartAccountSummary) {
		out, err := api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			gaps.Add(PartAccountSummary, "GetAccountSummary", "", err)
		} else {
			inv.Summary = &AccountSummary{
				RootAccessKeysPresent: out.SummaryMap[string(types.SummaryKeyTypeAccountAccessKeysPresent)] > 0,
				RootMFAEnabled:        out.SummaryMap[string(types.SummaryKeyTypeAccountMFAEnabled)] > 0,
			}
		}
	}
	if scope.Wants(PartPasswordPolicy) {
		out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		var noSuch *types.NoSuchEntityException
		switch {
		case errors.As(err, &noSuch): // no policy: IAM's defaults apply
		case err != nil:
			gaps.Add(PartPasswordPolicy, "GetAccountPasswordPolicy", "", err)
		case out.PasswordPolicy != nil:
			p := out.PasswordPolicy
			inv.PasswordPolicy = &PasswordPolicy{
				MinimumLength: int(aws.ToInt32(p.MinimumPasswordLength)), ReusePrevention: int(aws.ToInt32(p.PasswordReusePrevention)),
				RequireSymbols: p.RequireSymbols, RequireNumbers: p.RequireNumbers, RequireUpper: p.RequireUppercaseCharacters,
				RequireLower: p.RequireLowercaseCharacters, MaxAgeDays: int(aws.ToInt32(p.MaxPasswordAge)),
			}
		}
	}
	if scope.Wants(PartServerCertificates) {
		listed, err := paging.All(ctx, iam.NewListServerCertificatesPaginator(api, &iam.ListServerCertificatesInput{}),
			func(page *iam.ListServerCertificatesOutput) []types.ServerCertificateMetadata {
				return page.ServerCertificateMetadataList
			})
		if err != nil {
			gaps.Add(PartServerCertificates, "ListServerCertificates", "", err)
			inv.ServerCertificates = nil
		}
		for _, c := range listed {
			inv.ServerCertificates = append(inv.ServerCertificates, ServerCertificate{
				Name: aws.ToString(c.ServerCertificateName), ID: aws.ToString(c.ServerCertificateId), ARN: aws.ToString(c.Arn),
				UploadedAt: check.UTC(c.UploadDate), Expiration: check.UTC(c.Expiration),
			})
		}
	}
	return inv
}

// collectUsers lists the users (live), then per user their access keys,
// the last use of each active key, and the console password and MFA of the
// users the report says have a password or does not know.
func collectUsers(ctx context.Context, api API, scope check.Scope, inv *Inventory, gaps *check.Gaps) {
	listed, err := paging.All(ctx, iam.NewListUsersPaginator(api, &iam.ListUsersInput{}),
		func(page *iam.ListUsersOutput) []types.User { return page.Users })
	if err != nil {
		gaps.Add(PartUsers, "ListUsers", "", err)
		inv.Users = nil
		return
	}
	for _, u := range listed {
		inv.Users = append(inv.Users, User{
			Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn), CreatedAt: aws.ToTime(u.CreateDate).UTC(),
			PasswordLastUsed: check.UTC(u.PasswordLastUsed), Keys: []AccessKey{},
		})
	}
	fanout.Each(ctx, len(inv.Users), scope.CallConcurrency, func(ctx context.Context, i int) {
		u := &inv.Users[i]
		if scope.Wants(PartAccessKeys) {
			collectKeys(ctx, api, scope, u, gaps)
		}
		if scope.Wants(PartConsole) && inv.Report != nil {
			collectConsole(ctx, api, inv.Report, u, gaps)
		}
	})
}

func collectKeys(ctx context.Context, api API, scope check.Scope, u *User, gaps *check.Gaps) {
	listed, err := paging.All(ctx, iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(u.Name)}),
		func(page *iam.ListAccessKeysOutput) []types.AccessKeyMetadata { return page.AccessKeyMetadata })
	if err != nil {
		gaps.Add(PartAccessKeys, "ListAccessKeys", u.Name, err)
		u.KeysError = check.ErrorText(err)
		u.Keys = nil
		return
	}
	for _, k := range listed {
		u.Keys = append(u.Keys, AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreatedAt: aws.ToTime(k.CreateDate).UTC()})
	}
	if !scope.Wants(PartKeyLastUsed) {
		return
	}
	for i := range u.Keys {
		k := &u.Keys[i]
		if !k.Active() {
			continue
		}
		out, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
		if err != nil {
			gaps.Add(PartKeyLastUsed, "GetAccessKeyLastUsed", k.ID, err)
			k.LastUsedError = check.ErrorText(err)
			continue
		}
		k.LastUsedRead = true
		if lu := out.AccessKeyLastUsed; lu != nil {
			k.LastUsed = check.UTC(lu.LastUsedDate)
			if s := aws.ToString(lu.ServiceName); s != "N/A" {
				k.LastUsedService = s
			}
		}
	}
}

// collectConsole decides whether the user has a console password and MFA.
// The report is the index: a user it says has no password is taken at its
// word (a password set since the report was generated is seen by the next
// report); a user it says has one, or a user it does not list, is
// confirmed live with GetLoginProfile and ListMFADevices.
func collectConsole(ctx context.Context, api API, rep *Report, u *User, gaps *check.Gaps) {
	row, inReport := rep.User(u.Name)
	u.InReport = inReport
	if inReport && !row.PasswordEnabled {
		return
	}
	var reportView *Console
	if inReport {
		reportView = &Console{PasswordCreatedAt: row.PasswordLastChanged, PasswordSource: SourceReport, MFAActive: row.MFAActive, MFASource: SourceReport, ReportPasswordLastUsed: row.PasswordLastUsed}
	}
	profile, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(u.Name)})
	var noSuch *types.NoSuchEntityException
	switch {
	case errors.As(err, &noSuch):
		return // no password (any more)
	case err != nil:
		gaps.Add(PartConsole, "GetLoginProfile", u.Name, err)
		u.ConsoleError = "GetLoginProfile: " + check.ErrorText(err)
		u.Console = reportView
		return
	}
	c := &Console{PasswordSource: SourceLoginProfile, MFASource: SourceMFADevices}
	if profile.LoginProfile != nil {
		c.PasswordCreatedAt = check.UTC(profile.LoginProfile.CreateDate)
	}
	if reportView != nil {
		c.ReportPasswordLastUsed = reportView.ReportPasswordLastUsed
		if c.PasswordCreatedAt == nil {
			c.PasswordCreatedAt = reportView.PasswordCreatedAt
		}
	}
	mfa, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(u.Name)})
	if err != nil {
		gaps.Add(PartConsole, "ListMFADevices", u.Name, err)
		u.ConsoleError = "ListMFADevices: " + check.ErrorText(err)
		if reportView != nil {
			c.MFAActive, c.MFASource = reportView.MFAActive, SourceReport
		}
		u.Console = c
		return
	}
	c.MFAActive = len(mfa.MFADevices) > 0
	u.Console = c
}

package iam

import (
	"context"
	"errors"
	"time"

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
// users the report says have a password or does not know. The report, when
// collected, is the index for the keys too: see collectKeys.
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
			collectKeys(ctx, api, scope, inv.Report, u, gaps)
		}
		if scope.Wants(PartConsole) && inv.Report != nil {
			collectConsole(ctx, api, inv.Report, u, gaps)
		}
	})
}

// collectKeys reads the user's access keys and the last use of each active
// one. With a credential report, the report is the index, as for console
// passwords:
//   - a user whose row shows no active key is taken at its word (no
//     ListAccessKeys: no check has a result for an inactive key, and a key
//     created or activated since the report is seen by the next report);
//   - an active key whose report view already clears the unused-credential
//     threshold (used, or if never used created, fewer than UnusedDays days
//     ago: a later use only makes it more recent) takes its last use from
//     the report; GetAccessKeyLastUsed confirms live only the keys the
//     report shows idle for the threshold or longer, and keys the report
//     does not identify (by creation second and status).
//
// A user the report does not list (created since) is read live.
func collectKeys(ctx context.Context, api API, scope check.Scope, rep *Report, u *User, gaps *check.Gaps) {
	row, inReport := rep.User(u.Name)
	if inReport && !row.Keys[0].Active && !row.Keys[1].Active {
		u.KeysSource = SourceReport
		return
	}
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
	params := scope.Params
	if params.Now.IsZero() {
		params = check.DefaultParams(time.Now().UTC()) // as the checks will
	}
	for i := range u.Keys {
		k := &u.Keys[i]
		if !k.Active() {
			continue
		}
		if inReport && lastUseFromReport(row, u.Keys, k, params) {
			continue
		}
		out, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
		if err != nil {
			gaps.Add(PartKeyLastUsed, "GetAccessKeyLastUsed", k.ID, err)
			k.LastUsedError = check.ErrorText(err)
			continue
		}
		k.LastUsedRead, k.LastUsedSource = true, SourceKeyLastUsed
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

// lastUseFromReport fills k's last use from its report column when the
// report identifies the key (one active report key rotated in the same
// second as k was created, and no other active key of the user created in
// that second) and its view already keeps k under the unused-credential
// threshold, and reports whether it did.
func lastUseFromReport(row ReportRow, keys []AccessKey, k *AccessKey, p check.Params) bool {
	created := k.CreatedAt.Truncate(time.Second)
	var match *ReportKey
	for i := range row.Keys {
		rk := &row.Keys[i]
		if rk.Active && rk.LastRotated != nil && rk.LastRotated.Truncate(time.Second).Equal(created) {
			if match != nil {
				return false
			}
			match = rk
		}
	}
	if match == nil {
		return false
	}
	for _, other := range keys {
		if other.ID != k.ID && other.Active() && other.CreatedAt.Truncate(time.Second).Equal(created) {
			return false
		}
	}
	since := k.CreatedAt
	if match.LastUsed != nil {
		since = *match.LastUsed
	}
	if check.AgeDays(since, p.Now) >= p.Credentials.UnusedDays {
		return false // idle by the report: maybe used since, confirm live
	}
	k.LastUsed, k.LastUsedRead, k.LastUsedSource = check.UTC(match.LastUsed), true, SourceReport
	return true
}

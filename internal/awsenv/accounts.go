package awsenv

// Reaching other accounts: sts:AssumeRole of a role every target account
// trusts, with credentials cached and refreshed before they expire (a scan of
// hundreds of accounts can outlast one session), and the member accounts of
// an organization from organizations:ListAccounts.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/paging"
)

// Role session durations sts:AssumeRole accepts (the upper bound also
// depends on the role's MaxSessionDuration).
const (
	MinRoleDuration     = 15 * time.Minute
	MaxRoleDuration     = 12 * time.Hour
	DefaultRoleDuration = time.Hour
	// DefaultRoleName is the role AWS Organizations creates in the accounts
	// it creates.
	DefaultRoleName = "OrganizationAccountAccessRole"
)

// Role says how to assume the scanning role in a target account.
type Role struct {
	// Name is the role's name, optionally with its path ("audit/Scanner").
	Name string
	// ExternalID is passed to AssumeRole when set.
	ExternalID string
	// SessionName names the session in the target's CloudTrail.
	SessionName string
	// Duration is the session's lifetime; zero uses DefaultRoleDuration.
	Duration time.Duration
}

// RoleARN returns the ARN of the role named name in account.
func RoleARN(partition, account, name string) string {
	if partition == "" {
		partition = "aws"
	}
	name = strings.Trim(name, "/")
	return "arn:" + partition + ":iam::" + account + ":role/" + name
}

// sessionNameChars are the characters a role session name may not contain.
var sessionNameChars = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName returns a role session name that identifies the tool, e.g.
// "posture-0.1.0-dev", reduced to the characters and length STS accepts
// ([\w+=,.@-], 2 to 64).
func SessionName(tool, version string) string {
	s := sessionNameChars.ReplaceAllString(tool+"-"+version, "_")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// AssumeRoleConfig returns a copy of base whose credentials are those of
// the role assumed in account (base's credentials call sts:AssumeRole),
// cached and refreshed five minutes before they expire. Nothing is called
// until the credentials are first needed; Reach calls them at once.
func AssumeRoleConfig(base aws.Config, partition, account string, role Role) aws.Config {
	duration := role.Duration
	if duration == 0 {
		duration = DefaultRoleDuration
	}
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), RoleARN(partition, account, role.Name), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.SessionName
		o.Duration = duration
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
	})
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = 5 * time.Minute
	})
	return cfg
}

// Reach assumes the role in account and checks that it worked, so that an
// account whose role cannot be assumed is known before any scope runs. Its
// error is a *RoleError.
func Reach(ctx context.Context, base aws.Config, partition, account string, role Role) (aws.Config, error) {
	cfg := AssumeRoleConfig(base, partition, account, role)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, &RoleError{Account: account, RoleARN: RoleARN(partition, account, role.Name), Err: err}
	}
	return cfg, nil
}

// RoleError is a failed sts:AssumeRole into a target account.
type RoleError struct {
	// Account is the target account; RoleARN the role that was tried.
	Account, RoleARN string
	// Management is true when Account is the organization's management
	// account, where AWS Organizations creates no access role.
	Management bool
	// Err is the SDK's error.
	Err error
}

// Error returns the role that was tried and the SDK's error.
func (e *RoleError) Error() string {
	return "assume role " + e.RoleARN + ": " + e.Err.Error()
}

// Unwrap returns the SDK's error.
func (e *RoleError) Unwrap() error { return e.Err }

// Explain says, for a coverage gap, which role was tried, the AWS error
// code and message (no request IDs, so two runs read the same), and for
// the management account why the role is likely missing there and what to
// do about it.
func (e *RoleError) Explain() string {
	detail := e.Err.Error()
	var apiErr smithy.APIError
	if errors.As(e.Err, &apiErr) {
		detail = apiErr.ErrorCode()
		if msg := apiErr.ErrorMessage(); msg != "" {
			detail += ": " + msg
		}
	}
	text := fmt.Sprintf("could not assume role %s (%s)", e.RoleARN, detail)
	if !e.Management {
		return text
	}
	name := e.RoleARN[strings.Index(e.RoleARN, ":role/")+len(":role/"):]
	if name == DefaultRoleName {
		return text + fmt.Sprintf("; account %s is the organization's management account: AWS Organizations creates %s only in the member accounts it creates, never in the management account; deploy the scanning role there, or pass --role-name of a role that exists in every account", e.Account, DefaultRoleName)
	}
	return text + fmt.Sprintf("; account %s is the organization's management account, which a role deployed to the member accounts (e.g. by a service-managed StackSet) does not reach; deploy %s there too, or pass --role-name of a role that exists in every account", e.Account, name)
}

// ManagementAccount returns the ID of the management account of the
// caller's organization (organizations:DescribeOrganization, which any
// account of the organization may call).
func ManagementAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", fmt.Errorf("describe the organization with organizations:DescribeOrganization: %w", err)
	}
	if out.Organization == nil || aws.ToString(out.Organization.MasterAccountId) == "" {
		return "", errors.New("organizations:DescribeOrganization returned no management account")
	}
	return aws.ToString(out.Organization.MasterAccountId), nil
}

// OrgAccount is an account of an organization.
type OrgAccount struct {
	ID   string
	Name string
}

// ListAccounts returns the ACTIVE accounts of the caller's organization
// (organizations:ListAccounts, every page), the management account among
// them. The caller must be the management account or a delegated
// administrator.
func ListAccounts(ctx context.Context, cfg aws.Config) ([]OrgAccount, error) {
	var accounts []OrgAccount
	listed, err := paging.All(ctx, organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{}),
		func(page *organizations.ListAccountsOutput) []orgtypes.Account { return page.Accounts })
	if err != nil {
		return nil, fmt.Errorf("list the organization's accounts with organizations:ListAccounts: %w", err)
	}
	for _, a := range listed {
		if !active(a) {
			continue
		}
		accounts = append(accounts, OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
	}
	return accounts, nil
}

// active reports whether an organization's account is ACTIVE: its State,
// or, from endpoints that do not set State yet, its deprecated Status.
func active(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
}

// AccountRegions resolves the regions to scan in one account of a
// multi-account scan. For `all` (or nothing requested) it is SelectRegions
// over the account's own DescribeRegions. An explicit list (already
// validated for the caller's partition) is split into the regions the
// account has enabled and those it has not, which are reported as
// unavailable instead of failing the scan; with known nil (DescribeRegions
// failed) the list is taken unchecked.
func AccountRegions(requested []string, known []Region, partition string) (regions, disabled []string, err error) {
	if len(requested) == 0 || (len(requested) == 1 && requested[0] == "all") {
		regions, err = SelectRegions(requested, known, partition)
		return regions, nil, err
	}
	var enabled []string
	byName := map[string]Region{}
	for _, r := range known {
		byName[r.Name] = r
	}
	for _, name := range requested {
		if r, ok := byName[name]; known != nil && (!ok || !r.Enabled()) {
			disabled = append(disabled, name)
			continue
		}
		enabled = append(enabled, name)
	}
	if len(enabled) > 0 {
		// Validates the names and partitions, sorts and deduplicates.
		if enabled, err = SelectRegions(enabled, nil, partition); err != nil {
			return nil, nil, err
		}
	}
	return enabled, disabled, nil
}

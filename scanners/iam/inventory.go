// Package iam collects the account's IAM credentials (once per account, in
// the pseudo-region "global"): the credential report, users with their
// access keys and console passwords, the root user, the password policy and
// server certificates; and it holds the checks that read them.
//
// # Where each datum comes from
//
// The credential report is one call for the whole account, but AWS may serve
// a copy up to four hours old. It is the index of who has a console password
// and the only source of the root user's row; every decision that a recent
// change could flip is confirmed with a live call:
//
//   - access keys (status, creation date): ListAccessKeys for every user the
//     report shows with an active key or does not list, so that a key
//     rotated an hour ago is seen as new; a user the report shows without
//     an active key is taken at its word (the next report shows a key
//     created since);
//   - last use of a key: the report's, when it already keeps the key under
//     the unused-credential threshold (a later use only makes it more
//     recent); GetAccessKeyLastUsed for every other active key;
//   - last use of a password: ListUsers (PasswordLastUsed), live;
//   - console password and MFA: the report names the users with a password;
//     GetLoginProfile and ListMFADevices confirm each of them, and decide for
//     users created after the report;
//   - root access keys and MFA: GetAccountSummary (live) decides, the
//     report's <root_account> row adds detail to the evidence.
package iam

import "time"

// Inventory parts.
const (
	// PartCredentialReport is GenerateCredentialReport + GetCredentialReport.
	PartCredentialReport = "credential-report"
	// PartUsers is ListUsers.
	PartUsers = "users"
	// PartAccessKeys is ListAccessKeys, per user with an active key (or not
	// in the credential report).
	PartAccessKeys = "access-keys"
	// PartKeyLastUsed is GetAccessKeyLastUsed, per active key the
	// credential report does not already keep under the threshold.
	PartKeyLastUsed = "access-key-last-used"
	// PartConsole is GetLoginProfile and ListMFADevices, per console user.
	PartConsole = "console-access"
	// PartAccountSummary is GetAccountSummary.
	PartAccountSummary = "account-summary"
	// PartPasswordPolicy is GetAccountPasswordPolicy.
	PartPasswordPolicy = "password-policy"
	// PartServerCertificates is ListServerCertificates.
	PartServerCertificates = "server-certificates"
)

// Sources recorded in the evidence.
const (
	SourceReport       = "credential_report"
	SourceListUsers    = "ListUsers"
	SourceAccessKeys   = "ListAccessKeys"
	SourceKeyLastUsed  = "GetAccessKeyLastUsed"
	SourceLoginProfile = "GetLoginProfile"
	SourceMFADevices   = "ListMFADevices"
	SourceSummary      = "GetAccountSummary"
)

// Inventory is what the IAM scanner collects for one account.
type Inventory struct {
	AccountID string `json:"account_id"`
	Partition string `json:"partition"`
	// Report is the parsed credential report; nil when it was not collected.
	Report *Report `json:"credential_report,omitempty"`
	Users  []User  `json:"users"`
	// Summary is GetAccountSummary's root facts; nil when not collected.
	Summary *AccountSummary `json:"account_summary,omitempty"`
	// PasswordPolicy is nil when the account has none (or it was not read:
	// see the coverage of PartPasswordPolicy).
	PasswordPolicy     *PasswordPolicy     `json:"password_policy,omitempty"`
	ServerCertificates []ServerCertificate `json:"server_certificates"`
}

// User is one IAM user with its credentials.
type User struct {
	Name      string    `json:"name"`
	ARN       string    `json:"arn"`
	CreatedAt time.Time `json:"created_at"`
	// PasswordLastUsed is ListUsers' PasswordLastUsed (live); nil when the
	// password was never used or the user has none.
	PasswordLastUsed *time.Time `json:"password_last_used,omitempty"`
	// InReport tells whether the credential report has a row for the user
	// (users created after the report was generated have none).
	InReport bool `json:"in_report"`
	// Console is the user's console password and MFA; nil when the user has
	// no console password.
	Console *Console `json:"console,omitempty"`
	// ConsoleError is set when the live confirmation of the console password
	// or MFA failed; Console is then the report's view, unconfirmed.
	ConsoleError string `json:"console_error,omitempty"`
	// Keys are the user's access keys (ListAccessKeys), active and inactive.
	Keys []AccessKey `json:"access_keys"`
	// KeysError is set when ListAccessKeys failed for the user.
	KeysError string `json:"access_keys_error,omitempty"`
	// KeysSource is SourceReport when the report showed the user without an
	// active key and ListAccessKeys was not called (Keys is then empty);
	// empty when Keys come from ListAccessKeys.
	KeysSource string `json:"access_keys_source,omitempty"`
}

// Console is a console password and the MFA that protects it.
type Console struct {
	// PasswordCreatedAt is when the password was set: GetLoginProfile's
	// CreateDate, else the report's password_last_changed.
	PasswordCreatedAt *time.Time `json:"password_created_at,omitempty"`
	// PasswordSource names where the password's existence was read.
	PasswordSource string `json:"password_source"`
	MFAActive      bool   `json:"mfa_active"`
	MFASource      string `json:"mfa_source"`
	// ReportPasswordLastUsed is the report's password_last_used, used when
	// ListUsers has none.
	ReportPasswordLastUsed *time.Time `json:"report_password_last_used,omitempty"`
}

// AccessKey is one access key of a user.
type AccessKey struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"` // Active or Inactive
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is GetAccessKeyLastUsed's LastUsedDate; nil when never used
	// (or not read: see LastUsedError).
	LastUsed        *time.Time `json:"last_used,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRead    bool       `json:"last_used_read"`
	// LastUsedSource names where LastUsed was read: SourceKeyLastUsed, or
	// SourceReport when the report's view sufficed (see collectKeys).
	LastUsedSource string `json:"last_used_source,omitempty"`
	LastUsedError  string `json:"last_used_error,omitempty"`
}

// Active reports whether the key is active.
func (k AccessKey) Active() bool { return k.Status == "Active" }

// AccountSummary holds GetAccountSummary's root facts.
type AccountSummary struct {
	// RootAccessKeysPresent is AccountAccessKeysPresent: 1 when the root
	// user has an access key (active or not).
	RootAccessKeysPresent bool `json:"root_access_keys_present"`
	// RootMFAEnabled is AccountMFAEnabled.
	RootMFAEnabled bool `json:"root_mfa_enabled"`
}

// PasswordPolicy is the account password policy.
type PasswordPolicy struct {
	MinimumLength   int  `json:"minimum_length"`
	ReusePrevention int  `json:"reuse_prevention"`
	RequireSymbols  bool `json:"require_symbols"`
	RequireNumbers  bool `json:"require_numbers"`
	RequireUpper    bool `json:"require_uppercase"`
	RequireLower    bool `json:"require_lowercase"`
	MaxAgeDays      int  `json:"max_age_days,omitempty"`
}

// ServerCertificate is an IAM server certificate's metadata.
type ServerCertificate struct {
	Name       string     `json:"name"`
	ID         string     `json:"id"`
	ARN        string     `json:"arn"`
	UploadedAt *time.Time `json:"uploaded_at,omitempty"`
	Expiration *time.Time `json:"expiration,omitempty"`
}

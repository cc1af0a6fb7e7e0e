package iam

import (
	"fmt"
	"strings"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const (
	userType    = "AWS::IAM::User"
	keyType     = "AWS::IAM::AccessKey"
	accountType = "AWS::::Account"
	reportDoc   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html"
	iamHubDoc   = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
	rootDoc     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html"
)

// Checks returns the IAM checks.
func Checks() []check.Check[Inventory] {
	meta := func(id, title string, sev model.Severity, resourceType, rationale, remediation string, refs ...string) check.Meta {
		return check.Meta{ID: id, Title: title, Family: model.FamilyCredentials, Service: "iam", Severity: sev, ResourceType: resourceType,
			Rationale: rationale, Remediation: remediation, References: refs}
	}
	return []check.Check[Inventory]{
		{
			Meta: meta("iam-access-key-unrotated", "IAM access key not rotated within the maximum age", model.SeverityMedium, keyType,
				"A long-lived access key has had the most chances to leak (laptops, CI logs, repositories) and keeps working until it is rotated.",
				"Create a new key, move its users to it, deactivate and then delete the old key; prefer roles and temporary credentials.",
				"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console", iamHubDoc+"#iam-3"),
			Needs:    []string{PartUsers},
			Reads:    []string{PartAccessKeys},
			EvalWith: keyUnrotatedCheck,
		},
		{
			Meta: meta("iam-credential-unused", "IAM user has a password or active access key unused for too long", model.SeverityMedium, userType,
				"A credential nobody uses is pure risk: it can only be used by someone who should not have it, and its misuse stands out to no one.",
				"Deactivate or delete the unused access keys and remove the unused console password (delete the login profile).",
				reportDoc, iamHubDoc+"#iam-22"),
			Needs:    []string{PartUsers, PartCredentialReport},
			Reads:    []string{PartAccessKeys, PartKeyLastUsed, PartConsole},
			EvalWith: credentialUnusedCheck,
		},
		{
			Meta: meta("iam-user-console-without-mfa", "IAM user with a console password has no MFA", model.SeverityHigh, userType,
				"A console password alone falls to phishing, reuse and guessing; MFA makes a stolen password insufficient.",
				"Enable an MFA device (a FIDO security key or virtual MFA) for the user, and require MFA in a policy.",
				"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable.html", iamHubDoc+"#iam-5"),
			Needs: []string{PartUsers, PartCredentialReport},
			Reads: []string{PartConsole},
			Eval:  consoleWithoutMFACheck,
		},
		{
			Meta: meta("iam-user-multiple-active-keys", "IAM user has two active access keys", model.SeverityLow, userType,
				"Two active keys are normal only during a rotation; left in place, they double the keys to protect and often mean an old key was never retired.",
				"Finish the rotation: deactivate and delete the older key.",
				"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"),
			Needs: []string{PartUsers},
			Reads: []string{PartAccessKeys},
			Eval:  multipleActiveKeysCheck,
		},
		{
			Meta: meta("iam-root-access-key-present", "The root user has an access key", model.SeverityCritical, accountType,
				"The root user's access key has every permission in the account and cannot be limited by IAM policies; it should not exist.",
				"Delete the root user's access keys (sign in as root, Security credentials) and use IAM roles instead.",
				rootDoc, iamHubDoc+"#iam-4"),
			Needs: []string{PartAccountSummary},
			Reads: []string{PartCredentialReport},
			Eval:  rootKeyCheck,
		},
		{
			Meta: meta("iam-root-mfa-disabled", "The root user has no MFA", model.SeverityCritical, accountType,
				"Whoever learns the root password controls the account, including closing it; MFA on root is the last line of defence.",
				"Enable MFA for the root user, preferably a hardware security key kept in a safe place.",
				rootDoc, iamHubDoc+"#iam-9"),
			Needs: []string{PartAccountSummary},
			Reads: []string{PartCredentialReport},
			Eval:  rootMFACheck,
		},
		{
			Meta: meta("iam-password-policy-weak", "Account password policy is missing or weak", model.SeverityMedium, accountType,
				"Without a policy of long passwords that cannot be reused, console passwords are easier to guess and old leaked ones come back.",
				"Set an account password policy (UpdateAccountPasswordPolicy) with the minimum length and reuse prevention required.",
				"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html", iamHubDoc+"#iam-15", iamHubDoc+"#iam-16"),
			Needs:    []string{PartPasswordPolicy},
			EvalWith: passwordPolicyCheck,
		},
		{
			Meta: meta("iam-server-certificate-expired", "IAM server certificate has expired", model.SeverityHigh, "AWS::IAM::ServerCertificate",
				"An expired certificate still attached to a load balancer or CloudFront breaks TLS for its clients, and an expired one kept around can be attached by mistake.",
				"Upload a renewed certificate (or move to ACM), switch its users to it, and delete the expired one (DeleteServerCertificate).",
				"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_server-certs.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"),
			Needs:    []string{PartServerCertificates},
			EvalWith: serverCertificateCheck,
		},
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func keyUnrotatedCheck(inv *Inventory, p check.Params) []check.Finding {
	limit := p.Credentials.MaxKeyAgeDays
	var out []check.Finding
	for _, u := range inv.Users {
		if u.KeysError != "" {
			out = append(out, check.Error(u.Name, u.ARN, fmt.Sprintf("cannot list the access keys of user %s: %s", u.Name, u.KeysError), map[string]any{"user": u.Name}))
			continue
		}
		for _, k := range u.Keys {
			if !k.Active() {
				continue // an inactive key cannot be used: not a result
			}
			age := check.AgeDays(k.CreatedAt, p.Now)
			evidence := map[string]any{"user": u.Name, "access_key_id": k.ID, "created_at": stamp(k.CreatedAt), "age_days": age, "max_age_days": limit, "source": SourceAccessKeys}
			msg := fmt.Sprintf("access key %s of user %s was created %d days ago (maximum %d)", k.ID, u.Name, age, limit)
			if age > limit {
				out = append(out, check.Fail(k.ID, u.ARN, msg, evidence))
			} else {
				out = append(out, check.Pass(k.ID, u.ARN, msg, evidence))
			}
		}
	}
	return out
}

// credentialUnusedCheck yields one result per user with a console password
// or an active access key: FAIL when any of them has been idle for the
// threshold or longer (never used: counted from its creation).
func credentialUnusedCheck(inv *Inventory, p check.Params) []check.Finding {
	limit := p.Credentials.UnusedDays
	var out []check.Finding
	for _, u := range inv.Users {
		var creds []map[string]any
		var stale, unknown []string
		judge := func(name string, lastUsed *time.Time, lastUsedSource string, created *time.Time, createdSource string) {
			c := map[string]any{"credential": name}
			var since *time.Time
			switch {
			case lastUsed != nil:
				since = lastUsed
				c["last_used"], c["last_used_source"] = stamp(*lastUsed), lastUsedSource
			case created != nil:
				since = created
				c["last_used"], c["created_at"], c["created_source"] = "never", stamp(*created), createdSource
			}
			if since == nil {
				unknown = append(unknown, name+": no last-use or creation date")
				creds = append(creds, c)
				return
			}
			idle := check.AgeDays(*since, p.Now)
			c["idle_days"] = idle
			if idle >= limit {
				stale = append(stale, fmt.Sprintf("%s idle %d days", name, idle))
			}
			creds = append(creds, c)
		}
		if u.ConsoleError != "" {
			unknown = append(unknown, "console password: "+u.ConsoleError)
		}
		if c := u.Console; c != nil {
			lastUsed, source := u.PasswordLastUsed, SourceListUsers
			if lastUsed == nil && c.ReportPasswordLastUsed != nil {
				lastUsed, source = c.ReportPasswordLastUsed, SourceReport
			}
			judge("console password", lastUsed, source, c.PasswordCreatedAt, c.PasswordSource)
		}
		if u.KeysError != "" {
			unknown = append(unknown, "access keys: "+u.KeysError)
		}
		for _, k := range u.Keys {
			if !k.Active() {
				continue
			}
			if !k.LastUsedRead {
				reason := k.LastUsedError
				if reason == "" {
					reason = "not read"
				}
				unknown = append(unknown, "access key "+k.ID+" last use: "+reason)
				creds = append(creds, map[string]any{"credential": "access key " + k.ID})
				continue
			}
			created := k.CreatedAt
			source := k.LastUsedSource
			if source == "" {
				source = SourceKeyLastUsed
			}
			judge("access key "+k.ID, k.LastUsed, source, &created, SourceAccessKeys)
		}
		if len(creds) == 0 && len(unknown) == 0 {
			continue // no password and no active key: nothing to be unused
		}
		evidence := map[string]any{"credentials": creds, "unused_days": limit}
		switch {
		case len(stale) > 0:
			out = append(out, check.Fail(u.Name, u.ARN, fmt.Sprintf("user %s has credentials unused for %d days or more: %s", u.Name, limit, strings.Join(stale, "; ")), evidence))
		case len(unknown) > 0:
			evidence["unreadable"] = unknown
			out = append(out, check.Error(u.Name, u.ARN, fmt.Sprintf("cannot tell whether the credentials of user %s are used: %s", u.Name, strings.Join(unknown, "; ")), evidence))
		default:
			out = append(out, check.Pass(u.Name, u.ARN, fmt.Sprintf("every credential of user %s was used within %d days", u.Name, limit), evidence))
		}
	}
	return out
}

func consoleWithoutMFACheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, u := range inv.Users {
		if u.ConsoleError != "" {
			out = append(out, check.Error(u.Name, u.ARN, fmt.Sprintf("cannot confirm the console password or MFA of user %s: %s", u.Name, u.ConsoleError), map[string]any{"in_report": u.InReport}))
			continue
		}
		c := u.Console
		if c == nil {
			continue // no console password: not in scope
		}
		evidence := map[string]any{"console_password": true, "password_source": c.PasswordSource, "mfa_active": c.MFAActive, "mfa_source": c.MFASource, "in_report": u.InReport}
		if c.MFAActive {
			out = append(out, check.Pass(u.Name, u.ARN, fmt.Sprintf("user %s has a console password and an MFA device", u.Name), evidence))
			continue
		}
		out = append(out, check.Fail(u.Name, u.ARN, fmt.Sprintf("user %s has a console password and no MFA device", u.Name), evidence))
	}
	return out
}

func multipleActiveKeysCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, u := range inv.Users {
		if u.KeysError != "" {
			out = append(out, check.Error(u.Name, u.ARN, fmt.Sprintf("cannot list the access keys of user %s: %s", u.Name, u.KeysError), nil))
			continue
		}
		var active []string
		for _, k := range u.Keys {
			if k.Active() {
				active = append(active, k.ID)
			}
		}
		source := SourceAccessKeys
		if u.KeysSource != "" {
			source = u.KeysSource
		}
		evidence := map[string]any{"active_keys": len(active), "access_key_ids": active, "source": source}
		if active == nil {
			evidence["access_key_ids"] = []string{}
		}
		if len(active) > 1 {
			out = append(out, check.Fail(u.Name, u.ARN, fmt.Sprintf("user %s has %d active access keys: %s", u.Name, len(active), strings.Join(active, ", ")), evidence))
			continue
		}
		out = append(out, check.Pass(u.Name, u.ARN, fmt.Sprintf("user %s has %d active access key(s)", u.Name, len(active)), evidence))
	}
	return out
}

func rootARN(inv *Inventory) string {
	return check.ARN(inv.Partition, "iam", "", inv.AccountID, "root")
}

// rootRowEvidence describes the report's root row, or why there is none.
func rootRowEvidence(inv *Inventory, evidence map[string]any) *ReportRow {
	switch {
	case inv.Report == nil:
		evidence["credential_report"] = "not available"
	case inv.Report.Root == nil:
		evidence["credential_report"] = "no <root_account> row"
	default:
		evidence["credential_report_generated_at"] = stamp(inv.Report.GeneratedAt)
		return inv.Report.Root
	}
	return nil
}

// rootKeyCheck decides with GetAccountSummary (live); the report's root
// row, when there is one, adds which keys are active and when they were
// rotated and used.
func rootKeyCheck(inv *Inventory) []check.Finding {
	id, arn := inv.AccountID, rootARN(inv)
	evidence := map[string]any{"account_access_keys_present": inv.Summary.RootAccessKeysPresent, "source": SourceSummary}
	if row := rootRowEvidence(inv, evidence); row != nil {
		var keys []map[string]any
		for i, k := range row.Keys {
			if k.LastRotated == nil && !k.Active {
				continue
			}
			key := map[string]any{"slot": i + 1, "active": k.Active}
			if k.LastRotated != nil {
				key["last_rotated"] = stamp(*k.LastRotated)
			}
			if k.LastUsed != nil {
				key["last_used"] = stamp(*k.LastUsed)
			}
			keys = append(keys, key)
		}
		evidence["report_root_keys"] = keys
	}
	if inv.Summary.RootAccessKeysPresent {
		return []check.Finding{check.Fail(id, arn, fmt.Sprintf("the root user of account %s has an access key", id), evidence)}
	}
	return []check.Finding{check.Pass(id, arn, fmt.Sprintf("the root user of account %s has no access key", id), evidence)}
}

func rootMFACheck(inv *Inventory) []check.Finding {
	id, arn := inv.AccountID, rootARN(inv)
	evidence := map[string]any{"account_mfa_enabled": inv.Summary.RootMFAEnabled, "source": SourceSummary}
	if row := rootRowEvidence(inv, evidence); row != nil {
		evidence["report_root_mfa_active"] = row.MFAActive
	}
	if inv.Summary.RootMFAEnabled {
		return []check.Finding{check.Pass(id, arn, fmt.Sprintf("the root user of account %s has MFA enabled", id), evidence)}
	}
	return []check.Finding{check.Fail(id, arn, fmt.Sprintf("the root user of account %s has no MFA", id), evidence)}
}

func passwordPolicyCheck(inv *Inventory, p check.Params) []check.Finding {
	id, arn := inv.AccountID, rootARN(inv)
	minLen, reuse := p.Credentials.PasswordMinLength, p.Credentials.PasswordReusePrevention
	evidence := map[string]any{"required_min_length": minLen, "required_reuse_prevention": reuse}
	pp := inv.PasswordPolicy
	if pp == nil {
		evidence["password_policy"] = "none"
		return []check.Finding{check.Fail(id, arn, fmt.Sprintf("account %s has no password policy", id), evidence)}
	}
	evidence["password_policy"] = *pp
	var weak []string
	if pp.MinimumLength < minLen {
		weak = append(weak, fmt.Sprintf("minimum length %d < %d", pp.MinimumLength, minLen))
	}
	if pp.ReusePrevention < reuse {
		weak = append(weak, fmt.Sprintf("reuse prevention %d < %d", pp.ReusePrevention, reuse))
	}
	if len(weak) > 0 {
		return []check.Finding{check.Fail(id, arn, fmt.Sprintf("account %s has a weak password policy: %s", id, strings.Join(weak, ", ")), evidence)}
	}
	return []check.Finding{check.Pass(id, arn, fmt.Sprintf("account %s requires passwords of %d+ characters and prevents reuse of the last %d", id, pp.MinimumLength, pp.ReusePrevention), evidence)}
}

func serverCertificateCheck(inv *Inventory, p check.Params) []check.Finding {
	var out []check.Finding
	for _, c := range inv.ServerCertificates {
		evidence := map[string]any{"server_certificate_id": c.ID, "source": "ListServerCertificates"}
		if c.UploadedAt != nil {
			evidence["uploaded_at"] = stamp(*c.UploadedAt)
		}
		if c.Expiration == nil {
			out = append(out, check.Error(c.Name, c.ARN, fmt.Sprintf("server certificate %s has no expiration date", c.Name), evidence))
			continue
		}
		evidence["expiration"] = stamp(*c.Expiration)
		if !c.Expiration.After(p.Now) {
			out = append(out, check.Fail(c.Name, c.ARN, fmt.Sprintf("server certificate %s expired on %s", c.Name, c.Expiration.Format(time.DateOnly)), evidence))
			continue
		}
		out = append(out, check.Pass(c.Name, c.ARN, fmt.Sprintf("server certificate %s expires on %s", c.Name, c.Expiration.Format(time.DateOnly)), evidence))
	}
	return out
}

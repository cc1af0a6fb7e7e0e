package iam

import (
	"reflect"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func ago(d time.Duration) *time.Time { t := now.Add(-d); return &t }

func key(id, status string, age time.Duration, lastUsed *time.Time) AccessKey {
	return AccessKey{ID: id, Status: status, CreatedAt: now.Add(-age), LastUsed: lastUsed, LastUsedRead: true}
}

func user(name string, keys ...AccessKey) User {
	return User{Name: name, ARN: "arn:aws:iam::111122223333:user/" + name, CreatedAt: now.Add(-1000 * day), Keys: append([]AccessKey{}, keys...), InReport: true}
}

func evaluate(t *testing.T, id string, inv *Inventory, p check.Params) map[string]check.Finding {
	t.Helper()
	c, ok := check.Lookup(Checks(), id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	out := map[string]check.Finding{}
	for _, f := range c.Evaluate(inv, p) {
		if _, dup := out[f.ResourceID]; dup {
			t.Errorf("%s: two results for %s", id, f.ResourceID)
		}
		out[f.ResourceID] = f
	}
	return out
}

func statuses(fs map[string]check.Finding) map[string]model.Status {
	out := map[string]model.Status{}
	for id, f := range fs {
		out[id] = f.Status
	}
	return out
}

const P, F, E = model.StatusPass, model.StatusFail, model.StatusError

func TestScannerValidates(t *testing.T) {
	s := Scanner()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !s.Global() || s.Service() != "iam" || len(s.Checks()) != 8 {
		t.Errorf("scanner %s global %v with %d checks", s.Service(), s.Global(), len(s.Checks()))
	}
}

func TestKeyUnrotated(t *testing.T) {
	inv := &Inventory{Users: []User{
		user("alice", key("AKIAOLD", "Active", 120*day, nil), key("AKIANEW", "Active", 2*day, nil)),
		user("bob", key("AKIAEXACT", "Active", 90*day, nil), key("AKIAINACTIVEOLD", "Inactive", 400*day, nil)),
		user("carol", key("AKIAJUSTOVER", "Active", 91*day, nil)),
		user("dave"),
		{Name: "erin", ARN: "arn:aws:iam::111122223333:user/erin", KeysError: "AccessDenied: no"},
	}}
	got := evaluate(t, "iam-access-key-unrotated", inv, check.DefaultParams(now))
	want := map[string]model.Status{"AKIAOLD": F, "AKIANEW": P, "AKIAEXACT": P, "AKIAJUSTOVER": F, "erin": E}
	if !reflect.DeepEqual(statuses(got), want) {
		t.Errorf("got %v, want %v (inactive keys and users without keys are no results)", statuses(got), want)
	}
	old := got["AKIAOLD"]
	if old.Message != "access key AKIAOLD of user alice was created 120 days ago (maximum 90)" || old.ResourceARN != "arn:aws:iam::111122223333:user/alice" ||
		old.Evidence["age_days"] != 120 || old.Evidence["source"] != "ListAccessKeys" || old.Evidence["created_at"] != "2026-02-01T12:00:00Z" {
		t.Errorf("old key finding %+v", old)
	}
	p := check.DefaultParams(now)
	p.Credentials.MaxKeyAgeDays = 365
	for id, st := range statuses(evaluate(t, "iam-access-key-unrotated", inv, p)) {
		if st == F {
			t.Errorf("%s fails with a 365-day maximum", id)
		}
	}
}

func TestCredentialUnused(t *testing.T) {
	console := func(created *time.Time, reportLastUsed *time.Time) *Console {
		return &Console{PasswordCreatedAt: created, PasswordSource: SourceLoginProfile, MFAActive: true, MFASource: SourceMFADevices, ReportPasswordLastUsed: reportLastUsed}
	}
	withConsole := func(u User, c *Console, lastUsed *time.Time) User {
		u.Console, u.PasswordLastUsed = c, lastUsed
		return u
	}
	unreadKey := key("AKIAUNREAD", "Active", 10*day, nil)
	unreadKey.LastUsedRead, unreadKey.LastUsedError = false, "AccessDenied: no"
	inv := &Inventory{Users: []User{
		user("key-used-recently", key("AKIA1", "Active", 300*day, ago(1*day))),
		user("key-used-45-days-ago", key("AKIA2", "Active", 300*day, ago(45*day))),
		user("key-used-44-days-ago", key("AKIA3", "Active", 300*day, ago(44*day+23*time.Hour))),
		user("key-never-used-old", key("AKIA4", "Active", 50*day, nil)),
		user("key-never-used-new", key("AKIA5", "Active", 3*day, nil)),
		user("inactive-stale-key-only", key("AKIA6", "Inactive", 300*day, nil)),
		user("no-credentials"),
		withConsole(user("password-used"), console(ago(300*day), nil), ago(2*day)),
		withConsole(user("password-stale"), console(ago(300*day), nil), ago(100*day)),
		withConsole(user("password-never-used-old"), console(ago(60*day), nil), nil),
		withConsole(user("password-never-used-new"), console(ago(6*day), nil), nil),
		withConsole(user("password-report-only"), console(ago(300*day), ago(50*day)), nil),
		withConsole(user("password-no-dates"), console(nil, nil), nil),
		withConsole(user("fresh-password-stale-key", key("AKIA7", "Active", 90*day, ago(80*day))), console(ago(300*day), nil), ago(1*day)),
		user("unread-key", unreadKey),
		{Name: "keys-denied", ARN: "arn:aws:iam::111122223333:user/keys-denied", KeysError: "AccessDenied: no"},
		{Name: "console-denied", ARN: "arn:aws:iam::111122223333:user/console-denied", ConsoleError: "GetLoginProfile: AccessDenied: no", Keys: []AccessKey{key("AKIA8", "Active", 300*day, ago(200*day))}},
	}}
	got := evaluate(t, "iam-credential-unused", inv, check.DefaultParams(now))
	want := map[string]model.Status{
		"key-used-recently": P, "key-used-45-days-ago": F, "key-used-44-days-ago": P, "key-never-used-old": F, "key-never-used-new": P,
		"password-used": P, "password-stale": F, "password-never-used-old": F, "password-never-used-new": P, "password-report-only": F,
		"password-no-dates": E, "fresh-password-stale-key": F, "unread-key": E, "keys-denied": E,
		"console-denied": F, // a known stale key fails whatever the password
	}
	if !reflect.DeepEqual(statuses(got), want) {
		t.Errorf("got  %v\nwant %v", statuses(got), want)
	}
	f := got["key-never-used-old"]
	if f.Message != "user key-never-used-old has credentials unused for 45 days or more: access key AKIA4 idle 50 days" {
		t.Errorf("message %q", f.Message)
	}
	creds := f.Evidence["credentials"].([]map[string]any)
	if creds[0]["last_used"] != "never" || creds[0]["created_source"] != "ListAccessKeys" || creds[0]["idle_days"] != 50 {
		t.Errorf("evidence %v", creds)
	}
	if c := got["password-report-only"].Evidence["credentials"].([]map[string]any)[0]; c["last_used_source"] != SourceReport {
		t.Errorf("password-report-only evidence %v", c)
	}
	if c := got["password-stale"].Evidence["credentials"].([]map[string]any)[0]; c["last_used_source"] != SourceListUsers || c["idle_days"] != 100 {
		t.Errorf("password-stale evidence %v", c)
	}
	p := check.DefaultParams(now)
	p.Credentials.UnusedDays = 400
	for id, st := range statuses(evaluate(t, "iam-credential-unused", inv, p)) {
		if st == F {
			t.Errorf("%s fails with 400 unused days", id)
		}
	}
}

func TestConsoleWithoutMFA(t *testing.T) {
	withConsole := func(name string, mfa bool) User {
		u := user(name)
		u.Console = &Console{PasswordSource: SourceReport, MFAActive: mfa, MFASource: SourceMFADevices}
		return u
	}
	denied := user("denied")
	denied.ConsoleError = "ListMFADevices: AccessDenied: no"
	inv := &Inventory{Users: []User{withConsole("no-mfa", false), withConsole("mfa", true), user("api-only", key("AKIA1", "Active", day, nil)), denied}}
	got := evaluate(t, "iam-user-console-without-mfa", inv, check.DefaultParams(now))
	if want := map[string]model.Status{"no-mfa": F, "mfa": P, "denied": E}; !reflect.DeepEqual(statuses(got), want) {
		t.Errorf("got %v, want %v", statuses(got), want)
	}
	if f := got["no-mfa"]; f.Message != "user no-mfa has a console password and no MFA device" || f.Evidence["mfa_source"] != SourceMFADevices {
		t.Errorf("%+v", f)
	}
}

func TestMultipleActiveKeys(t *testing.T) {
	inv := &Inventory{Users: []User{
		user("two", key("AKIA1", "Active", day, nil), key("AKIA2", "Active", day, nil)),
		user("one-active-one-inactive", key("AKIA3", "Active", day, nil), key("AKIA4", "Inactive", day, nil)),
		user("none"),
		{Name: "denied", KeysError: "AccessDenied: no"},
	}}
	got := evaluate(t, "iam-user-multiple-active-keys", inv, check.DefaultParams(now))
	if want := map[string]model.Status{"two": F, "one-active-one-inactive": P, "none": P, "denied": E}; !reflect.DeepEqual(statuses(got), want) {
		t.Errorf("got %v, want %v", statuses(got), want)
	}
	if f := got["two"]; f.Message != "user two has 2 active access keys: AKIA1, AKIA2" {
		t.Errorf("%q", f.Message)
	}
}

func TestRootChecks(t *testing.T) {
	row := &ReportRow{User: RootUser, MFAActive: true, Keys: [2]ReportKey{{Active: true, LastRotated: ago(500 * day), LastUsed: ago(3 * day)}}}
	cases := []struct {
		name          string
		summary       AccountSummary
		report        *Report
		key, mfa      model.Status
		reportEvident string
	}{
		{"keys and no MFA, no report row (the emulator)", AccountSummary{RootAccessKeysPresent: true}, &Report{}, F, F, "no <root_account> row"},
		{"no keys and MFA", AccountSummary{RootMFAEnabled: true}, &Report{Root: &ReportRow{User: RootUser, MFAActive: true}}, P, P, ""},
		{"report missing", AccountSummary{RootMFAEnabled: true}, nil, P, P, "not available"},
		// The summary is live and decides; the report row (up to 4 hours
		// old) is evidence only.
		{"key deleted since the report", AccountSummary{RootMFAEnabled: true}, &Report{Root: row}, P, P, ""},
		{"key present with report detail", AccountSummary{RootAccessKeysPresent: true, RootMFAEnabled: true}, &Report{Root: row}, F, P, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Partition: "aws", Summary: &c.summary, Report: c.report}
			k := evaluate(t, "iam-root-access-key-present", inv, check.DefaultParams(now))["111122223333"]
			m := evaluate(t, "iam-root-mfa-disabled", inv, check.DefaultParams(now))["111122223333"]
			if k.Status != c.key || m.Status != c.mfa || k.ResourceARN != "arn:aws:iam::111122223333:root" {
				t.Errorf("key %s (%s), mfa %s (%s)", k.Status, k.Message, m.Status, m.Message)
			}
			if c.reportEvident != "" && k.Evidence["credential_report"] != c.reportEvident {
				t.Errorf("evidence %v", k.Evidence)
			}
			if c.report != nil && c.report.Root == row {
				keys := k.Evidence["report_root_keys"].([]map[string]any)
				if len(keys) != 1 || keys[0]["active"] != true || keys[0]["last_rotated"] != "2025-01-17T12:00:00Z" {
					t.Errorf("report root keys %v", keys)
				}
			}
		})
	}
}

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy *PasswordPolicy
		want   model.Status
		msg    string
	}{
		{"none", nil, F, "account 111122223333 has no password policy"},
		{"short", &PasswordPolicy{MinimumLength: 8, ReusePrevention: 24}, F, "account 111122223333 has a weak password policy: minimum length 8 < 14"},
		{"no reuse prevention", &PasswordPolicy{MinimumLength: 20}, F, "account 111122223333 has a weak password policy: reuse prevention 0 < 24"},
		{"both weak", &PasswordPolicy{MinimumLength: 13, ReusePrevention: 23}, F, "account 111122223333 has a weak password policy: minimum length 13 < 14, reuse prevention 23 < 24"},
		{"exactly the thresholds", &PasswordPolicy{MinimumLength: 14, ReusePrevention: 24}, P, "account 111122223333 requires passwords of 14+ characters and prevents reuse of the last 24"},
	}
	for _, c := range cases {
		inv := &Inventory{AccountID: "111122223333", PasswordPolicy: c.policy}
		f := evaluate(t, "iam-password-policy-weak", inv, check.DefaultParams(now))["111122223333"]
		if f.Status != c.want || f.Message != c.msg {
			t.Errorf("%s: %s %q", c.name, f.Status, f.Message)
		}
	}
	p := check.DefaultParams(now)
	p.Credentials.PasswordMinLength, p.Credentials.PasswordReusePrevention = 8, 1
	inv := &Inventory{AccountID: "111122223333", PasswordPolicy: &PasswordPolicy{MinimumLength: 8, ReusePrevention: 1}}
	if f := evaluate(t, "iam-password-policy-weak", inv, p)["111122223333"]; f.Status != P {
		t.Errorf("lowered thresholds: %s", f.Status)
	}
}

func TestServerCertificateExpired(t *testing.T) {
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	inv := &Inventory{ServerCertificates: []ServerCertificate{
		{Name: "expired", ARN: "arn:aws:iam::111122223333:server-certificate/expired", Expiration: in(-day)},
		{Name: "expires-now", Expiration: in(0)},
		{Name: "valid", Expiration: in(10 * day)},
		{Name: "no-date"},
	}}
	got := evaluate(t, "iam-server-certificate-expired", inv, check.DefaultParams(now))
	if want := map[string]model.Status{"expired": F, "expires-now": F, "valid": P, "no-date": E}; !reflect.DeepEqual(statuses(got), want) {
		t.Errorf("got %v, want %v", statuses(got), want)
	}
	if f := got["expired"]; f.Message != "server certificate expired expired on 2026-05-31" || f.Evidence["expiration"] != "2026-05-31T12:00:00Z" {
		t.Errorf("%+v", f)
	}
}

package nightly

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// envOf returns a getenv over vars.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadSettings(t *testing.T) {
	base := func(extra ...string) map[string]string {
		vars := map[string]string{EnvBucket: "acme-posture-evidence"}
		for i := 0; i+1 < len(extra); i += 2 {
			vars[extra[i]] = extra[i+1]
		}
		return vars
	}
	tests := []struct {
		name  string
		vars  map[string]string
		check func(t *testing.T, s Settings)
		err   string // every line must appear in the error
	}{
		{name: "defaults", vars: base(), check: func(t *testing.T, s Settings) {
			if s.Bucket != "acme-posture-evidence" || s.WorkBucket != s.Bucket || s.Prefix != "posture/" || s.Regions != nil || s.Org || s.Accounts != nil ||
				s.RoleName != "" || s.Frameworks != nil || s.ConfigKey != "" || s.TopicARN != "" || s.SignKMSKey != "" || s.LogLevel != slog.LevelInfo {
				t.Errorf("defaults: %+v", s)
			}
			if len(s.SelectedChecks) < 20 {
				t.Errorf("every check is selected by default, got %d", len(s.SelectedChecks))
			}
		}},
		{name: "everything set", vars: base(
			EnvPrefix, "/nightly/prod", EnvRegions, " eu-west-1, us-east-1 ,eu-west-1", EnvAccounts, "111111111111, 222222222222,111111111111",
			EnvRoleName, "audit/PostureScanner", EnvExternalID, "acme-posture-2026", EnvFrameworks, "cis-aws-5.0.0,soc2",
			EnvConfig, "config/posture.yaml", EnvSignKMSKey, "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			EnvTopicARN, "arn:aws:sns:eu-west-1:123456789012:posture-summary", EnvChecks, "ec2-sg-open-admin-port,s3-bucket-public,s3-bucket-unencrypted",
			EnvExcludeChecks, "s3-bucket-public", EnvLogLevel, "DEBUG"),
			check: func(t *testing.T, s Settings) {
				if s.Prefix != "nightly/prod/" || strings.Join(s.Regions, ",") != "eu-west-1,us-east-1" ||
					strings.Join(s.Accounts, ",") != "111111111111,222222222222" || s.RoleName != "audit/PostureScanner" ||
					s.ExternalID != "acme-posture-2026" || strings.Join(s.Frameworks, ",") != "cis-aws-5.0.0,soc2" || s.ConfigKey != "config/posture.yaml" ||
					s.LogLevel != slog.LevelDebug || strings.Join(s.SelectedChecks, ",") != "ec2-sg-open-admin-port,s3-bucket-unencrypted" {
					t.Errorf("settings: %+v", s)
				}
			}},
		{name: "org", vars: base(EnvOrg, "TRUE", EnvRoleName, "OrganizationAccountAccessRole", EnvRegions, "all", EnvPrefix, "/"),
			check: func(t *testing.T, s Settings) {
				if !s.Org || s.Regions != nil || s.Prefix != "" {
					t.Errorf("settings: %+v", s)
				}
			}},
		{name: "work bucket", vars: base(EnvWorkBucket, "acme-posture-work"), check: func(t *testing.T, s Settings) {
			if s.Bucket != "acme-posture-evidence" || s.WorkBucket != "acme-posture-work" {
				t.Errorf("buckets %q, %q", s.Bucket, s.WorkBucket)
			}
		}},
		{name: "bad work bucket", vars: base(EnvWorkBucket, "Work_Bucket"), err: `POSTURE_WORK_BUCKET: "Work_Bucket" is not a bucket name`},
		{name: "no bucket", vars: map[string]string{}, err: "POSTURE_BUCKET: required"},
		{name: "bucket URI", vars: base(EnvBucket, "s3://acme"), err: `POSTURE_BUCKET: "s3://acme": give the bucket's name`},
		{name: "bucket uppercase", vars: base(EnvBucket, "Acme-Evidence"), err: `POSTURE_BUCKET: "Acme-Evidence" is not a bucket name`},
		{name: "bucket dots", vars: base(EnvBucket, "acme..evidence"), err: `POSTURE_BUCKET: "acme..evidence" is not a bucket name (no two adjacent periods`},
		{name: "bucket IP", vars: base(EnvBucket, "192.168.1.10"), err: `POSTURE_BUCKET: "192.168.1.10" is not a bucket name (formatted as an IP address)`},
		{name: "bucket reserved", vars: base(EnvBucket, "xn--acme"), err: `POSTURE_BUCKET: "xn--acme" is not a bucket name (a reserved prefix or suffix)`},
		{name: "prefix dot-dot", vars: base(EnvPrefix, "posture/../other"), err: `POSTURE_PREFIX: "posture/../other": empty, "." or ".." path segment`},
		{name: "prefix double slash", vars: base(EnvPrefix, "a//b"), err: `POSTURE_PREFIX: "a//b": empty`},
		{name: "region shape", vars: base(EnvRegions, "us-east-1,us_west_2"), err: `POSTURE_REGIONS: "us_west_2" is not a region name (expected e.g. us-east-1)`},
		{name: "region all and more", vars: base(EnvRegions, "all,us-east-1"), err: `POSTURE_REGIONS: "all" cannot be combined with other regions`},
		{name: "regions of two partitions", vars: base(EnvRegions, "us-east-1,cn-north-1"), err: `POSTURE_REGIONS: "cn-north-1" is in partition aws-cn, the other regions in aws`},
		{name: "org not boolean", vars: base(EnvOrg, "yes"), err: `POSTURE_ORG: "yes": want true or false`},
		{name: "org and accounts", vars: base(EnvOrg, "true", EnvAccounts, "111111111111", EnvRoleName, "R"), err: "POSTURE_ACCOUNTS: cannot be combined with POSTURE_ORG=true"},
		{name: "bad account", vars: base(EnvAccounts, "111111111111,12345", EnvRoleName, "R"), err: `POSTURE_ACCOUNTS: account IDs must be 12 digits: "12345"`},
		{name: "org without role", vars: base(EnvOrg, "true"), err: "POSTURE_ROLE_NAME: required with POSTURE_ORG=true or POSTURE_ACCOUNTS"},
		{name: "accounts without role", vars: base(EnvAccounts, "111111111111"), err: "POSTURE_ROLE_NAME: required"},
		{name: "role name", vars: base(EnvOrg, "true", EnvRoleName, "arn:aws:iam::1:role/x"), err: `POSTURE_ROLE_NAME: "arn:aws:iam::1:role/x" is not a role name`},
		{name: "external ID", vars: base(EnvExternalID, "x"), err: "POSTURE_EXTERNAL_ID: not an external ID"},
		{name: "framework", vars: base(EnvFrameworks, "cis-aws-5.0.0,iso-9001"), err: "POSTURE_FRAMEWORKS: unknown framework ID(s): iso-9001"},
		{name: "config URI", vars: base(EnvConfig, "s3://acme/posture.yaml"), err: `POSTURE_CONFIG: "s3://acme/posture.yaml": give the key in POSTURE_BUCKET`},
		{name: "config slash", vars: base(EnvConfig, "/posture.yaml"), err: `POSTURE_CONFIG: "/posture.yaml": an S3 key does not start with /`},
		{name: "KMS key", vars: base(EnvSignKMSKey, "my-key"), err: `POSTURE_SIGN_KMS_KEY: "my-key" is not a KMS key ARN, key ID or alias`},
		{name: "topic", vars: base(EnvTopicARN, "arn:aws:sqs:us-east-1:123456789012:q"), err: `POSTURE_TOPIC_ARN: "arn:aws:sqs:us-east-1:123456789012:q" is not an SNS topic ARN`},
		{name: "unknown check", vars: base(EnvChecks, "ec2-sg-open-admin-port,ec2-everything"), err: "POSTURE_CHECKS: unknown check ID(s): ec2-everything"},
		{name: "unknown excluded check", vars: base(EnvExcludeChecks, "s3-nothing"), err: "POSTURE_EXCLUDE_CHECKS: unknown check ID(s): s3-nothing"},
		{name: "nothing left", vars: base(EnvChecks, "s3-bucket-public", EnvExcludeChecks, "s3-bucket-public"), err: "POSTURE_EXCLUDE_CHECKS: POSTURE_CHECKS less POSTURE_EXCLUDE_CHECKS leaves no check to run"},
		{name: "log level", vars: base(EnvLogLevel, "verbose"), err: `POSTURE_LOG_LEVEL: "verbose": want debug, info, warn or error`},
		{name: "every bad setting at once", vars: map[string]string{EnvRegions: "mars", EnvOrg: "1"},
			err: "POSTURE_BUCKET: required\nPOSTURE_REGIONS: \"mars\" is not a region name\nPOSTURE_ORG: \"1\": want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadSettings(envOf(tt.vars))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				tt.check(t, s)
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.err)
			}
			for _, line := range strings.Split(tt.err, "\n") {
				if !strings.Contains(err.Error(), line) {
					t.Errorf("error %q lacks %q", err, line)
				}
			}
		})
	}
}

// TestScope: the scope is the request (org or accounts, regions, checks),
// in any order, and nothing else.
func TestScope(t *testing.T) {
	load := func(vars map[string]string) string {
		vars[EnvBucket] = "b1-evidence"
		s, err := LoadSettings(envOf(vars))
		if err != nil {
			t.Fatal(err)
		}
		return s.Scope()
	}
	a := load(map[string]string{EnvRegions: "us-east-1,eu-west-1", EnvChecks: "s3-bucket-public,ec2-sg-open-admin-port"})
	if b := load(map[string]string{EnvRegions: "eu-west-1,us-east-1", EnvChecks: "ec2-sg-open-admin-port,s3-bucket-public",
		EnvPrefix: "other/", EnvTopicARN: "arn:aws:sns:us-east-1:123456789012:t"}); a != b {
		t.Errorf("the same request in another order, or other outputs, is another scope: %s, %s", a, b)
	}
	for name, vars := range map[string]map[string]string{
		"regions":  {EnvRegions: "us-east-1", EnvChecks: "s3-bucket-public,ec2-sg-open-admin-port"},
		"checks":   {EnvRegions: "us-east-1,eu-west-1", EnvChecks: "s3-bucket-public"},
		"excluded": {EnvRegions: "us-east-1,eu-west-1", EnvChecks: "s3-bucket-public,ec2-sg-open-admin-port", EnvExcludeChecks: "s3-bucket-public"},
		"org":      {EnvRegions: "us-east-1,eu-west-1", EnvChecks: "s3-bucket-public,ec2-sg-open-admin-port", EnvOrg: "true", EnvRoleName: "R"},
		"accounts": {EnvRegions: "us-east-1,eu-west-1", EnvChecks: "s3-bucket-public,ec2-sg-open-admin-port", EnvAccounts: "111111111111", EnvRoleName: "R"},
	} {
		if b := load(vars); b == a {
			t.Errorf("another %s is the same scope", name)
		}
	}
}

// TestHandleSettingsAndEvents: a bad setting fails the invocation naming
// the variable, and an unknown action or an incomplete fan-out event fails
// naming it, both before any AWS call.
func TestHandleSettingsAndEvents(t *testing.T) {
	ctx := context.Background()
	h := Handler{Getenv: envOf(map[string]string{EnvRegions: "us-east-1,us-mars"})}
	_, err := h.Handle(ctx, json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), "POSTURE_BUCKET: required") || !strings.Contains(err.Error(), `POSTURE_REGIONS: "us-mars" is not a region name`) {
		t.Errorf("bad settings: %v", err)
	}
	h = Handler{Getenv: envOf(map[string]string{EnvBucket: "acme-evidence", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})}
	for event, want := range map[string]string{
		`{"action":"explode"}`:                    `event: unknown action "explode" (want run, plan, scan-account or assemble)`,
		`{"action":"scan-account","scan_id":"x"}`: `event: action scan-account: scan_id "x" is not a scan ID`,
		`{"action":"scan-account","scan_id":"20261203T010203Z-0a1b2c3d","account_id":"12"}`: `account_id "12" is not a 12-digit account ID`,
		`{"action":"assemble","scan_id":"../../etc"}`:                                       `event: action assemble: scan_id "../../etc" is not a scan ID`,
		`[1,2]`: "event: not a JSON object of this function",
	} {
		if _, err := h.Handle(ctx, json.RawMessage(event)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("event %s: error %v, want %q", event, err, want)
		}
	}
	for event, action := range map[string]string{
		``: ActionRun, `null`: ActionRun, `{}`: ActionRun, `{"action":"run"}`: ActionRun, `{"action":"plan"}`: ActionPlan,
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`:                                             ActionRun,
		`{"action":"assemble","scan_id":"20261203T010203Z-0a1b2c3d","map_error":{"Error":"States.ExceedToleratedFailureThreshold","Cause":"c"}}`: ActionAssemble,
	} {
		ev, err := ParseEvent(json.RawMessage(event))
		if err != nil || ev.Action != action {
			t.Errorf("event %q: %+v, %v; want action %s", event, ev, err, action)
		}
	}
	ev, _ := ParseEvent(json.RawMessage(`{"action":"assemble","scan_id":"20261203T010203Z-0a1b2c3d","map_error":{"Error":"E","Cause":"C"}}`))
	if ev.MapError == nil || ev.MapError.Error != "E" || ev.MapError.Cause != "C" {
		t.Errorf("map_error: %+v", ev.MapError)
	}
}

// TestMessage: the SNS subject is printable ASCII of at most 100
// characters; the body lists the first 20 new critical/high findings, then
// how many more, the counts, the gaps and the baseline.
func TestMessage(t *testing.T) {
	start := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	scan := &model.Scan{Scan: model.ScanInfo{ID: "20261203T020000Z-0a1b2c3d", StartedAt: start, FinishedAt: start.Add(3 * time.Minute),
		Accounts: []string{"111111111111", "222222222222"}},
		Coverage: []model.Coverage{{AccountID: "222222222222", Region: "global", Service: "account", Status: model.CoverageError,
			Failures: []model.Failure{{Operation: "ScanAccount", Code: PartialMissingCode}}}},
		Results: []model.Result{{Status: model.StatusFail, Severity: model.SeverityCritical}, {Status: model.StatusPass}, {Status: model.StatusError}, {Status: model.StatusMuted}}}
	d := &model.Diff{Context: model.DiffContext{Old: model.ScanRef{ID: "20261202T020000Z-00000000", FinishedAt: start.Add(-24 * time.Hour)}, WindowSeconds: 86400 + 180}}
	for i := range 23 {
		d.New = append(d.New, model.DiffEntry{CheckID: "ec2-sg-open-admin-port", AccountID: "111111111111", Region: "us-east-1",
			ResourceID: "sg-" + strings.Repeat("0", 2) + string(rune('a'+i)), NewStatus: model.StatusFail, NewSeverity: model.SeverityCritical})
	}
	d.New = append(d.New, model.DiffEntry{CheckID: "s3-bucket-public", NewStatus: model.StatusFail, NewSeverity: model.SeverityMedium})
	desc := Descriptor{ScanID: scan.Scan.ID, Package: "s3://b/posture/runs/" + scan.Scan.ID + "/"}
	s := Summarise(scan, d, desc)
	if s.Counts != (Counts{Pass: 1, Fail: 1, Error: 1, Muted: 1}) || s.SeverityFailed["critical"] != 1 || s.SeverityFailed["low"] != 0 ||
		s.NewCriticalHighTotal != 23 || len(s.NewCriticalHigh) != 23 || s.Gaps != 1 || s.Baseline != "20261202T020000Z-00000000" || s.Diff.New != 24 {
		t.Errorf("summary %+v", s)
	}
	subject, body := Message(s, scan, d)
	if subject != "posture 20261203T020000Z-0a1b2c3d: 23 new critical/high, 1 FAIL, 1 gaps" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{
		"Package: s3://b/posture/runs/20261203T020000Z-0a1b2c3d/\n",
		"Compared with: 20261202T020000Z-00000000 (finished 2026-12-02 02:00:00Z, 1d 0h 3m earlier)\n",
		"Results: 1 PASS, 1 FAIL, 1 ERROR, 1 MUTED\n",
		"FAIL by severity: critical 1, high 0, medium 0, low 0, informational 0\n",
		"Since the baseline: 24 new, 0 resolved, 0 changed, 0 not observed, 0 unchanged\n",
		"New critical/high findings: 23\n  - CRITICAL ec2-sg-open-admin-port 111111111111 us-east-1 sg-00a\n",
		"  - CRITICAL ec2-sg-open-admin-port 111111111111 us-east-1 sg-00t\n  and 3 more (see diff.json)\n",
		"Coverage gaps: 1\n  - 222222222222 global account: PartialMissing\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "sg-00u") {
		t.Errorf("the message lists more than 20 findings:\n%s", body)
	}
	long := &Summary{ScanID: strings.Repeat("x", 120) + "é"}
	if subject, _ := Message(long, scan, nil); len(subject) > 100 || strings.ContainsFunc(subject, func(r rune) bool { return r > 0x7e || r < 0x20 }) {
		t.Errorf("subject %q: over 100 characters or not printable ASCII", subject)
	}
}

// TestEngineContext: the engine stops DefaultStopMargin before the
// invocation's deadline, or a quarter of the time left when the function's
// timeout is short, or StopMargin when set; without a deadline it does not
// stop.
func TestEngineContext(t *testing.T) {
	for _, c := range []struct {
		left, margin, want time.Duration
	}{
		{15 * time.Minute, 0, DefaultStopMargin},
		{100 * time.Second, 0, 25 * time.Second},
		{100 * time.Second, 10 * time.Second, 10 * time.Second},
	} {
		deadline := time.Now().Add(c.left)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		e := &env{h: Handler{StopMargin: c.margin}}
		eng, stop := e.engineContext(ctx)
		got, _ := eng.Deadline()
		if d := deadline.Sub(got); d < c.want-time.Second || d > c.want+time.Second {
			t.Errorf("%s left, margin %s: the engine stops %s before the deadline, want %s", c.left, c.margin, d, c.want)
		}
		stop()
		cancel()
	}
	e := &env{}
	eng, stop := e.engineContext(context.Background())
	defer stop()
	if _, ok := eng.Deadline(); ok {
		t.Error("a deadline without one")
	}
}

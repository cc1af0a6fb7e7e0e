package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// runInProcess runs the CLI's run function with args.
func runInProcess(args ...string) cliRun {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return cliRun{code, stdout.String(), stderr.String()}
}

func ingress(t *testing.T, c *ec2.Client, group string, port int32, revoke bool) {
	t.Helper()
	ctx := context.Background()
	var err error
	if revoke {
		_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(group),
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIp: aws.String("0.0.0.0/0")})
	} else {
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group),
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIp: aws.String("0.0.0.0/0")})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func group(t *testing.T, c *ec2.Client, name string) string {
	t.Helper()
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(sg.GroupId)
}

// TestDiffAgainstTheEmulator scans an account, changes it (fixes a
// finding, opens a new one, makes a passing one fail, deletes a failing
// resource, denies a whole service through the fault proxy), scans again
// with --baseline, and checks where each change lands, in diff.json and in
// `posture diff`: the denied service's findings are not_observed, never
// resolved.
func TestDiffAgainstTheEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	ec2c, sqsc, snsc := ec2.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)

	web := group(t, ec2c, "web")
	ingress(t, ec2c, web, 22, false) // admin port open: FAIL, fixed later
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs-plain"),
		Attributes: map[string]string{"SqsManagedSseEnabled": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")}); err != nil {
		t.Fatal(err)
	}

	const checks = "ec2-sg-open-admin-port,ec2-sg-open-database-port,sqs-queue-unencrypted,sns-topic-unencrypted"
	dir := t.TempDir()
	out1, out2 := filepath.Join(dir, "monday"), filepath.Join(dir, "tuesday")
	first := runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--checks", checks, "--out", out1)
	if first.code != exitOK {
		t.Fatalf("first scan: exit %d\n%s", first.code, first.stderr)
	}
	if _, err := os.Stat(filepath.Join(out1, "diff.json")); !os.IsNotExist(err) {
		t.Errorf("a scan without --baseline wrote diff.json: %v", err)
	}

	ingress(t, ec2c, web, 22, true)    // fixed: admin port FAIL -> PASS (resolved)
	ingress(t, ec2c, web, 3306, false) // database port PASS -> FAIL (changed)
	db := group(t, ec2c, "db")
	ingress(t, ec2c, db, 5432, false) // a new group, database port open: new high FAIL
	if _, err := sqsc.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err) // a failing queue deleted: resolved (absent from a covered scope)
	}
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sns", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	second := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--regions", "us-east-1", "--checks", checks,
		"--baseline", filepath.Join(out1, "scan.json"), "--format", "csv", "--out", out2)
	if second.code != exitGaps {
		t.Fatalf("second scan: exit %d (want %d: sns denied)\n%s", second.code, exitGaps, second.stderr)
	}
	if !strings.Contains(second.stderr, "2 new, 2 resolved, 1 changed, 1 not observed") {
		t.Errorf("the scan's summary lacks the diff line:\n%s", second.stderr)
	}

	oldScan, err := reports.ReadScan(filepath.Join(out1, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	newScan, err := reports.ReadScan(filepath.Join(out2, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b := newScan.Scan.Baseline; b == nil || b.ID != oldScan.Scan.ID || !b.StartedAt.Equal(oldScan.Scan.StartedAt) || b.ToolVersion != version {
		t.Errorf("scan.baseline = %+v, want the first scan %s", b, oldScan.Scan.ID)
	}
	// first_seen: the first scan's start for every result of the first
	// scan, and in the second for every finding with the same status; the
	// second scan's start for the others.
	for _, r := range oldScan.Results {
		if r.FirstSeen == nil || !r.FirstSeen.Equal(oldScan.Scan.StartedAt) {
			t.Errorf("first scan %s %s: first_seen %v", r.CheckID, r.ResourceID, r.FirstSeen)
		}
	}
	oldStatus := map[string]model.Status{}
	for _, r := range oldScan.Results {
		oldStatus[r.Fingerprint] = r.Status
	}
	carried := 0
	for _, r := range newScan.Results {
		want := newScan.Scan.StartedAt
		if oldStatus[r.Fingerprint] == r.Status {
			want = oldScan.Scan.StartedAt
			carried++
		}
		if r.FirstSeen == nil || !r.FirstSeen.Equal(want) {
			t.Errorf("second scan %s %s %s: first_seen %v, want %v", r.CheckID, r.ResourceID, r.Status, r.FirstSeen, want)
		}
	}
	if carried == 0 {
		t.Error("no first_seen carried forward")
	}

	written, err := os.ReadFile(filepath.Join(out2, "diff.json"))
	if err != nil {
		t.Fatalf("--baseline did not write diff.json (with --format csv): %v", err)
	}
	if st, _ := os.Stat(filepath.Join(out2, "diff.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("diff.json mode %v", st.Mode())
	}
	cmd := runInProcess("diff", "--format", "json", filepath.Join(out1, "scan.json"), filepath.Join(out2, "scan.json"))
	if cmd.code != exitOK {
		t.Fatalf("posture diff: exit %d\n%s", cmd.code, cmd.stderr)
	}
	if cmd.stdout != string(written) {
		t.Errorf("posture diff --format json differs from the scan's diff.json:\n%s\n---\n%s", cmd.stdout, written)
	}
	var d model.Diff
	if err := json.Unmarshal(written, &d); err != nil {
		t.Fatal(err)
	}

	type key struct{ check, resource string }
	where := map[key]string{}
	entries := map[key]model.DiffEntry{}
	for name, list := range map[string][]model.DiffEntry{"new": d.New, "resolved": d.Resolved, "changed": d.Changed,
		"not_observed": d.NotObserved, "outside_old_scope": d.Context.OutsideOldScope} {
		for _, e := range list {
			k := key{e.CheckID, e.ResourceID}
			if prev, dup := where[k]; dup {
				t.Errorf("%v in %s and %s", k, prev, name)
			}
			where[k], entries[k] = name, e
		}
	}
	for _, tt := range []struct {
		check, resource, category string
		from, to                  model.Status
	}{
		{"ec2-sg-open-admin-port", web, "resolved", "FAIL", "PASS"},
		{"sqs-queue-unencrypted", "jobs-plain", "resolved", "FAIL", ""},
		{"ec2-sg-open-database-port", web, "changed", "PASS", "FAIL"},
		{"ec2-sg-open-database-port", db, "new", "", "FAIL"},
		{"ec2-sg-open-admin-port", db, "new", "", "PASS"},
		{"sns-topic-unencrypted", "alerts", "not_observed", "FAIL", ""},
	} {
		k := key{tt.check, tt.resource}
		e := entries[k]
		if where[k] != tt.category || e.OldStatus != tt.from || e.NewStatus != tt.to {
			t.Errorf("%s %s: in %q %s -> %s, want %q %s -> %s", tt.check, tt.resource, where[k], e.OldStatus, e.NewStatus, tt.category, tt.from, tt.to)
		}
	}
	if len(where) != 6 {
		t.Errorf("%d findings listed, want the 6 changes: %v", len(where), where)
	}
	if r := entries[key{"sns-topic-unencrypted", "alerts"}].Reason; !strings.HasPrefix(r, "coverage gap in NEW (") || !strings.Contains(r, "AccessDenied") {
		t.Errorf("not_observed reason %q", r)
	}
	for _, e := range d.Resolved {
		if e.Service == "sns" {
			t.Errorf("a finding of the denied service is resolved: %+v", e)
		}
	}
	// Everything else (the default group, the SNS ERROR marker aside) is unchanged.
	unchanged := 0
	for _, r := range newScan.Results {
		if s, ok := oldStatus[r.Fingerprint]; ok && s == r.Status {
			unchanged++
		}
	}
	if d.UnchangedCount != unchanged || unchanged == 0 {
		t.Errorf("unchanged_count %d, want %d", d.UnchangedCount, unchanged)
	}
	if d.Context.NewGaps != 1 || d.Context.OldGaps != 0 || !strings.Contains(strings.Join(d.Context.Warnings, "\n"), "NEW has 1 coverage gap(s)") {
		t.Errorf("gaps %d/%d, warnings %q", d.Context.OldGaps, d.Context.NewGaps, d.Context.Warnings)
	}
	// Control changes: exactly the controls whose status differs between
	// the two scan.json files, and every control of both in the matrix.
	oldControl := map[string]model.ControlState{}
	for _, c := range oldScan.Controls {
		oldControl[c.Framework+":"+c.ControlID] = c.Status
	}
	wantChanges, total := map[string]bool{}, map[string]int{}
	for _, c := range newScan.Controls {
		if s, ok := oldControl[c.Framework+":"+c.ControlID]; ok {
			total[c.Framework]++
			if s != c.Status {
				wantChanges[c.Framework+":"+c.ControlID+":"+string(s)+">"+string(c.Status)] = true
			}
		}
	}
	gotChanges, toError := map[string]bool{}, 0
	for _, fw := range d.Controls {
		n := 0
		for _, row := range fw.Transitions {
			for _, v := range row {
				n += v
			}
		}
		if n != total[fw.Framework] {
			t.Errorf("%s: %d transitions, want %d controls", fw.Framework, n, total[fw.Framework])
		}
		for _, c := range fw.Changes {
			gotChanges[fw.Framework+":"+c.ControlID+":"+string(c.Old)+">"+string(c.New)] = true
			if c.New == model.ControlError {
				toError++
			}
		}
	}
	if len(d.Controls) != 8 || len(gotChanges) != len(wantChanges) || toError == 0 {
		t.Errorf("%d frameworks, %d control changes (want %d), %d to ERROR", len(d.Controls), len(gotChanges), len(wantChanges), toError)
	}
	for c := range wantChanges {
		if !gotChanges[c] {
			t.Errorf("control change %s missing", c)
		}
	}

	// The text report, and --fail-on-new for CI: the new failures are high.
	text := runInProcess("diff", filepath.Join(out1, "scan.json"), filepath.Join(out2, "scan.json"))
	for _, want := range []string{"  OLD  " + oldScan.Scan.ID, "  NEW  " + newScan.Scan.ID, "window: ", "\nNEW (2)\n",
		"ec2-sg-open-database-port  123456789012  us-east-1  " + db, "NOT OBSERVED (1)", "sns-topic-unencrypted"} {
		if text.code != exitOK || !strings.Contains(text.stdout, want) {
			t.Errorf("text diff (exit %d) lacks %q:\n%s", text.code, want, text.stdout)
		}
	}
	high := runInProcess("diff", "--fail-on-new", "high", filepath.Join(out1, "scan.json"), filepath.Join(out2, "scan.json"))
	if high.code != exitFailures || !strings.Contains(high.stderr, "2 new failure(s) at or above high") {
		t.Errorf("--fail-on-new high: exit %d\n%s", high.code, high.stderr)
	}
	critical := runInProcess("diff", filepath.Join(out1, "scan.json"), filepath.Join(out2, "scan.json"), "--fail-on-new", "critical")
	if critical.code != exitOK {
		t.Errorf("--fail-on-new critical with only high new: exit %d\n%s", critical.code, critical.stderr)
	}
	mdFile := filepath.Join(dir, "pr", "comment.md")
	md := runInProcess("diff", "--format", "markdown", "--out", mdFile, filepath.Join(out1, "scan.json"), filepath.Join(out2, "scan.json"))
	body, err := os.ReadFile(mdFile)
	if md.code != exitOK || err != nil || !bytes.HasPrefix(body, []byte("## posture diff\n")) || md.stdout != "" {
		t.Errorf("--format markdown --out: exit %d, %v\n%s", md.code, err, body)
	}
	if st, err := os.Stat(mdFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--out file mode: %v %v", st.Mode(), err)
	}
}

// TestDiffBadInput: a missing, corrupt or non-scan file is exit 2 naming
// the file, for `posture diff` and for `posture scan --baseline` (before
// any AWS call); so are bad flags.
func TestDiffBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	notScan := filepath.Join(dir, "other.json")
	if err := os.WriteFile(corrupt, []byte(`{"schema_version": 1, "results": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notScan, []byte(`{"hello": "world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"corrupt OLD", []string{"diff", corrupt, notScan}, "OLD: " + corrupt + ": not a valid posture scan.json: decode: unexpected end of JSON input"},
		{"missing NEW", []string{"diff", notScan, filepath.Join(dir, "none.json")}, "OLD: " + notScan + ": not a valid posture scan.json: schema_version 0, want 1"},
		{"one file", []string{"diff", corrupt}, "diff takes two scan.json files, OLD and NEW; got 1"},
		{"bad format", []string{"diff", "--format", "html", corrupt, notScan}, `--format "html": want text, json or markdown`},
		{"bad severity", []string{"diff", "--fail-on-new", "severe", corrupt, notScan}, `--fail-on-new "severe"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runInProcess(tt.args...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", got.code, exitUsage, tt.stderr, got.stderr)
			}
		})
	}
	// A good OLD and a missing NEW names NEW.
	srv := emutest.Fresh(t)
	out := filepath.Join(dir, "scan")
	if r := runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--checks", "sqs-queue-unencrypted", "--out", out); r.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	missing := filepath.Join(dir, "none.json")
	if got := runInProcess("diff", filepath.Join(out, "scan.json"), missing); got.code != exitUsage || !strings.Contains(got.stderr, "NEW: read scan "+missing) {
		t.Errorf("missing NEW: exit %d\n%s", got.code, got.stderr)
	}
	// --baseline is read before any AWS call: the endpoint is unreachable,
	// yet the exit is 2 naming the file, not 1.
	r := runCLI(t, nil, "scan", "--endpoint-url", "http://127.0.0.1:1", "--max-attempts", "1", "--baseline", corrupt, "--out", filepath.Join(dir, "x"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "--baseline: "+corrupt+": not a valid posture scan.json") {
		t.Errorf("scan --baseline corrupt: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("a scan with a bad --baseline wrote its output folder: %v", err)
	}
}

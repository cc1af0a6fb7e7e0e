package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/reports"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// An endpoint that refuses connections fails the identity call at once (no
// ten retries with backoff) and says what was tried and what to check.
func TestScanUnreachableEndpointFailsFast(t *testing.T) {
	endpoint := "http://" + closedPort(t)
	start := time.Now()
	run := runCLI(t, nil, "scan", "--endpoint-url", endpoint, "--out", t.TempDir())
	elapsed := time.Since(start)
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	if elapsed > 10*time.Second {
		t.Errorf("took %s to fail; want a few seconds", elapsed)
	}
	for _, want := range []string{"cannot reach AWS STS at " + endpoint + " (region us-east-1)", "--endpoint-url or AWS_ENDPOINT_URL", "connection refused"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// No credentials anywhere: the message names the ways to provide them.
func TestScanWithoutCredentials(t *testing.T) {
	run := runCLI(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_EC2_METADATA_DISABLED=true"},
		"scan", "--endpoint-url", "http://"+closedPort(t), "--out", t.TempDir())
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	for _, want := range []string{"no usable AWS credentials were found", "--profile NAME", "AWS_PROFILE", "aws sso login", "AWS_ACCESS_KEY_ID"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// An unknown profile is a usage error that lists the profiles there are.
func TestScanUnknownProfile(t *testing.T) {
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n[sso-session corp]\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[ci]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := runCLI(t, []string{"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + creds}, "scan", "--profile", "staging", "--out", t.TempDir())
	if run.code != exitUsage {
		t.Errorf("exit %d, want %d\n%s", run.code, exitUsage, run.stderr)
	}
	if want := `AWS profile "staging" is not defined; profiles found: ci, default, prod`; !strings.Contains(run.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
	}
}

// Credentials that AWS refuses: the message names the source that was
// tried and what to do.
func TestScanRejectedCredentials(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Action: "GetCallerIdentity", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--out", t.TempDir())
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	for _, want := range []string{"AWS rejected the credentials from EnvConfigCredentials (AccessDenied)", "aws sso login"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// Inputs that mean nothing are usage errors that say what to type instead.
func TestScanMeaninglessInputs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--regions", ","}, `"," lists nothing`},
		{[]string{"scan", "--checks", " , "}, `lists nothing`},
		{[]string{"scan", "--timeout", "5"}, `"5" has no unit: use a unit, e.g. 5m`},
		{[]string{"scan", "--timeout", "soon"}, `"soon" is not a duration`},
		{[]string{"scan", "--role-duration", "2"}, `"2" has no unit`},
		{[]string{"scan", "--region", "Frankfurt"}, `--region "Frankfurt": not a region name`},
		{[]string{"checks", "ec2"}, `checks takes no arguments`},
		{[]string{"version", "now"}, `version takes no arguments`},
		{[]string{"controls", "--framework", "nope"}, `--framework: unknown framework ID(s): nope`},
	} {
		run := runCLI(t, nil, tt.args...)
		if run.code != exitUsage || !strings.Contains(run.stderr, tt.want) {
			t.Errorf("%q: exit %d, want %d and %q in:\n%s", tt.args, run.code, exitUsage, tt.want, run.stderr)
		}
	}
}

// --region X without --regions scans X only, as an AWS CLI user means it;
// --fail-on says on its last line why the exit code is 3.
func TestScanRegionMeansThisRegion(t *testing.T) {
	srv := emutest.Fresh(t)
	openGroup(t, srv.URL, "eu-west-1", "ssh-open")
	out := filepath.Join(t.TempDir(), "out")
	run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--region", "eu-west-1", "--checks", "ec2-sg-open-admin-port",
		"--fail-on", "high", "--format", "json", "--out", out)
	if run.code != exitFailures {
		t.Fatalf("exit %d, want %d\n%s", run.code, exitFailures, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Scan.Regions) != 1 || scan.Scan.Regions[0] != "eu-west-1" {
		t.Errorf("regions scanned %v, want [eu-west-1]", scan.Scan.Regions)
	}
	lines := strings.Split(strings.TrimSpace(run.stderr), "\n")
	if last := lines[len(lines)-1]; last != "posture: exit 3: 1 result(s) at high or above failed (--fail-on high)" {
		t.Errorf("last line %q", last)
	}
}

// A scan that reached no account is not a clean result.
func TestScanReachedNoAccount(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Action: "AssumeRole", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := filepath.Join(t.TempDir(), "out")
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--accounts", "111122223333", "--regions", "us-east-1",
		"--checks", "ec2-sg-open-admin-port", "--out", out)
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	if want := "no account was scanned: none of the 1 target account(s) could be reached"; !strings.Contains(run.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "scan.json")); err != nil {
		t.Errorf("the gaps are still written: %v", err)
	}
}

// An output path that cannot be used is a usage error before the first AWS
// call (the endpoint here refuses connections: reaching it would exit 1).
func TestScanOutCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + closedPort(t)
	for _, tt := range []struct {
		out  string
		want string
	}{
		{file, "--out: " + file + " is a file, not a folder"},
		{filepath.Join(file, "sub"), "--out: cannot create " + filepath.Join(file, "sub")},
		{"", "--out: empty path"},
	} {
		run := runCLI(t, nil, "scan", "--endpoint-url", endpoint, "--out", tt.out)
		if run.code != exitUsage || !strings.Contains(run.stderr, tt.want) {
			t.Errorf("--out %q: exit %d, want %d and %q:\n%s", tt.out, run.code, exitUsage, tt.want, run.stderr)
		}
	}
}

// A folder keeps one scan: a second scan into it is refused unless
// --overwrite, which removes the earlier package files (so no findings.csv
// of the first scan stays beside the second's scan.json) and never a file
// that is not one.
func TestScanOutHoldsOneScan(t *testing.T) {
	srv := emutest.Fresh(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"scan", "--endpoint-url", srv.URL, "--regions", "us-east-1", "--checks", "ec2-sg-open-admin-port", "--out", out}
	if run := runCLI(t, nil, append(args, "--format", "json,csv")...); run.code != exitOK {
		t.Fatalf("first scan: exit %d\n%s", run.code, run.stderr)
	}
	run := runCLI(t, nil, append(args, "--format", "json")...)
	if run.code != exitUsage || !strings.Contains(run.stderr, "already holds a scan's files (SHA256SUMS, findings.csv, manifest.json, scan.json): choose another folder, or pass --overwrite") {
		t.Errorf("second scan: exit %d\n%s", run.code, run.stderr)
	}
	if run := runCLI(t, nil, append(args, "--format", "json", "--overwrite")...); run.code != exitOK {
		t.Fatalf("--overwrite: exit %d\n%s", run.code, run.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "findings.csv")); !os.IsNotExist(err) {
		t.Errorf("the first scan's findings.csv is still there: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	run = runCLI(t, nil, append(args, "--overwrite")...)
	if run.code != exitUsage || !strings.Contains(run.stderr, "holds files that are not part of a posture package (notes.txt)") {
		t.Errorf("folder with a file of the user's: exit %d\n%s", run.code, run.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "notes.txt")); err != nil {
		t.Errorf("the user's file was touched: %v", err)
	}
}

// Without --out each scan gets posture-output/<scan-id>/, and
// posture-output/latest links to the newest.
func TestScanDefaultOutputLayout(t *testing.T) {
	srv := emutest.Fresh(t)
	work := t.TempDir()
	var ids []string
	for i := 0; i < 2; i++ {
		cmd := exec.Command(binary, "scan", "--endpoint-url", srv.URL, "--regions", "us-east-1", "--checks", "ec2-sg-open-admin-port", "--format", "json")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scan %d: %v\n%s", i, err, out)
		}
		link, err := os.Readlink(filepath.Join(work, "posture-output", "latest"))
		if err != nil {
			t.Fatal(err)
		}
		scan, err := reports.ReadScan(filepath.Join(work, "posture-output", link, "scan.json"))
		if err != nil {
			t.Fatal(err)
		}
		if link != scan.Scan.ID {
			t.Errorf("latest -> %s, holding scan %s", link, scan.Scan.ID)
		}
		ids = append(ids, scan.Scan.ID)
	}
	if ids[0] == ids[1] {
		t.Fatalf("two scans with one ID %s", ids[0])
	}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(work, "posture-output", id, "scan.json")); err != nil {
			t.Errorf("scan %s: %v", id, err)
		}
	}
}

// The CLI keeps the habits of its users: help on stdout, `help VERB`,
// suggestions for a mistyped verb or flag, one dash on a long flag
// explained, shell completion.
func TestCLIHabits(t *testing.T) {
	for _, tt := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"--help"}, exitOK, "Available Commands:", ""},
		{[]string{"help", "scan"}, exitOK, "--regions list", ""},
		{[]string{"scan", "--help"}, exitOK, "--fail-on string", ""},
		{[]string{"--version"}, exitOK, "posture ", ""},
		{[]string{"completion", "bash"}, exitOK, "bash completion", ""},
		{[]string{"scna"}, exitUsage, "", "unknown command \"scna\" for \"posture\"\n\nDid you mean this?\n\tscan"},
		{[]string{"scan", "--regoins", "us-east-1"}, exitUsage, "", "unknown flag: --regoins (did you mean --regions?)"},
		{[]string{"scan", "-regions", "us-east-1"}, exitUsage, "", "long flags take two dashes: --regions"},
		{[]string{"controls", "--framwork", "soc2"}, exitUsage, "", "did you mean --framework?"},
		{nil, exitUsage, "", "Available Commands:"},
	} {
		run := runCLI(t, nil, tt.args...)
		if run.code != tt.code || !strings.Contains(run.stdout, tt.stdout) || !strings.Contains(run.stderr, tt.errs) {
			t.Errorf("%q: exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", tt.args, run.code, tt.code, tt.stdout, run.stdout, tt.errs, run.stderr)
		}
	}
}

// A key given twice in the config file is an error, not a silent override.
func TestScanConfigDuplicateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posture.yaml")
	if err := os.WriteFile(path, []byte("credentials:\n  max_key_age_days: 90\n  max_key_age_days: 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := runCLI(t, nil, "scan", "--config", path, "--endpoint-url", "http://"+closedPort(t), "--out", t.TempDir())
	if want := "credentials.max_key_age_days (line 3): given twice (first at line 2)"; run.code != exitUsage || !strings.Contains(run.stderr, want) {
		t.Errorf("exit %d, want %d and %q:\n%s", run.code, exitUsage, want, run.stderr)
	}
}

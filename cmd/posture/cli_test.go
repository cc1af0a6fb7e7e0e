package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "posture-cli-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "posture")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := emutest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs the built binary with the emulator's credentials and env.
func runCLI(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return cliRun{code, stdout.String(), stderr.String()}
}

func openGroup(t *testing.T, url, region, name string) string {
	c := ec2.NewFromConfig(emutest.Config(t, url, region))
	ctx := context.Background()
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(sg.GroupId)
}

func TestScanTwoRegionsWritesThePackage(t *testing.T) {
	srv := emutest.Fresh(t)
	use1 := openGroup(t, srv.URL, "us-east-1", "rdp-use1")
	euw1 := openGroup(t, srv.URL, "eu-west-1", "rdp-euw1")
	aps2 := openGroup(t, srv.URL, "ap-southeast-2", "rdp-aps2")
	out := filepath.Join(t.TempDir(), "report")
	run := runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1,eu-west-1", "--out", out)
	if run.code != exitOK {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	for _, want := range []string{"results:", "failures by severity: critical", "public-exposure", "ec2-sg-open-admin-port", "coverage: complete"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.stderr)
		}
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("output dir mode: %v %v", st.Mode(), err)
	}
	for _, f := range []string{"scan.json", "findings.csv"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode: %v %v", f, st.Mode(), err)
		}
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatalf("scan.json does not keep the contract: %v", err)
	}
	if got := strings.Join(scan.Scan.Regions, ","); got != "eu-west-1,us-east-1" {
		t.Errorf("scan regions %s", got)
	}
	if len(scan.Scan.Accounts) != 1 || scan.Scan.Accounts[0] != "123456789012" || len(scan.Scan.Checks) != 24 {
		t.Errorf("scan info: %+v", scan.Scan)
	}
	regionOf := map[string]string{}
	for _, r := range scan.Results {
		if r.Region != "us-east-1" && r.Region != "eu-west-1" && r.Region != "global" {
			t.Errorf("result outside the scanned regions: %+v", r)
		}
		if r.CheckID == "ec2-sg-open-admin-port" && r.Status == model.StatusFail {
			regionOf[r.ResourceID] = r.Region
		}
	}
	if regionOf[use1] != "us-east-1" || regionOf[euw1] != "eu-west-1" || regionOf[aps2] != "" || len(regionOf) != 2 {
		t.Errorf("open admin groups by region: %v (want %s in us-east-1, %s in eu-west-1)", regionOf, use1, euw1)
	}
	f, err := os.Open(filepath.Join(out, "findings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(scan.Results)+1 || strings.Join(rows[0], ",") != strings.Join(reports.CSVHeader, ",") {
		t.Errorf("CSV has %d rows for %d results; header %v", len(rows), len(scan.Results), rows[0])
	}
}

func TestScanAllRegionsIsTheEnabledCommercialOnes(t *testing.T) {
	srv := emutest.Fresh(t)
	out := t.TempDir()
	run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--regions", "all", "--checks", "ec2-sg-default-not-restricted", "--out", out)
	if run.code != exitOK {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	// What the emulator reports as enabled in the commercial partition,
	// computed here independently of awsenv.SelectRegions.
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	described, err := ec2.NewFromConfig(cfg).DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range described.Regions {
		name, status := aws.ToString(r.RegionName), aws.ToString(r.OptInStatus)
		if strings.HasPrefix(name, "cn-") || strings.HasPrefix(name, "us-gov-") || status == "not-opted-in" {
			continue
		}
		want = append(want, name)
	}
	sort.Strings(want)
	if strings.Join(scan.Scan.Regions, ",") != strings.Join(want, ",") || len(want) < 15 {
		t.Errorf("regions scanned:\n %v\nwant the enabled commercial regions:\n %v", scan.Scan.Regions, want)
	}
	perRegion := map[string]int{}
	for _, r := range scan.Results {
		perRegion[r.Region]++
	}
	for _, r := range want {
		if perRegion[r] != 1 { // each region's default VPC has one default group
			t.Errorf("%s: %d default security group results, want 1", r, perRegion[r])
		}
	}
	if awsenv.PartitionOf("cn-north-1") != "aws-cn" {
		t.Error("partition of cn-north-1")
	}
}

func TestExitCodes(t *testing.T) {
	srv := emutest.Fresh(t)
	openGroup(t, srv.URL, "us-east-1", "rdp")
	env := []string{"AWS_ENDPOINT_URL=" + srv.URL}
	dir := t.TempDir()
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"critical failure with --fail-on high", []string{"scan", "--regions", "us-east-1", "--fail-on", "high"}, exitFailures, "critical"},
		{"no failure at or above --fail-on", []string{"scan", "--regions", "us-east-1", "--checks", "rds-instance-public", "--fail-on", "low"}, exitOK, "results: 0"},
		{"unknown check", []string{"scan", "--checks", "ec2-sg-nope"}, exitUsage, "unknown check ID(s): ec2-sg-nope"},
		{"unknown excluded check", []string{"scan", "--exclude-checks", "nope"}, exitUsage, "unknown check ID(s): nope"},
		{"unknown region", []string{"scan", "--regions", "us-east-9"}, exitUsage, `region "us-east-9": unknown region`},
		{"malformed region", []string{"scan", "--regions", "useast1"}, exitUsage, "not a region name"},
		{"region of another partition", []string{"scan", "--regions", "cn-north-1"}, exitUsage, "partition aws-cn"},
		{"region not opted in", []string{"scan", "--regions", "ap-east-1"}, exitUsage, "not enabled"},
		{"unknown format", []string{"scan", "--format", "docx"}, exitUsage, `unknown format "docx"`},
		{"bad severity", []string{"scan", "--fail-on", "severe"}, exitUsage, "--fail-on"},
		{"unknown flag", []string{"scan", "--nope"}, exitUsage, "flag provided but not defined"},
		{"unknown command", []string{"scna"}, exitUsage, `unknown command "scna"`},
		{"unreachable endpoint", []string{"scan", "--endpoint-url", "http://127.0.0.1:1", "--max-attempts", "1"}, exitError, "sts:GetCallerIdentity"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args, "--out", filepath.Join(dir, string(rune('a'+i))))
			if c.args[0] != "scan" {
				args = c.args
			}
			run := runCLI(t, env, args...)
			if run.code != c.code || !strings.Contains(run.stderr, c.stderr) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", run.code, c.code, c.stderr, run.stderr)
			}
		})
	}
}

func TestCoverageGapExitsFour(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "redshift", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := t.TempDir()
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--regions", "us-east-1", "--out", out)
	if run.code != exitGaps || !strings.Contains(run.stderr, "coverage gaps: 1 of") || !strings.Contains(run.stderr, "123456789012 us-east-1 redshift: DescribeClusters: AccessDenied") {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range scan.Results {
		if (r.Service == "redshift") != (r.Status == model.StatusError) {
			t.Errorf("result %s %s %s", r.CheckID, r.ResourceID, r.Status)
		}
	}
}

func TestChecksAndVersion(t *testing.T) {
	run := runCLI(t, nil, "checks")
	if run.code != 0 || !strings.Contains(run.stdout, "24 checks") {
		t.Fatalf("checks: exit %d\n%s", run.code, run.stdout)
	}
	for _, id := range []string{"ec2-sg-open-admin-port", "ec2-sg-open-database-port", "ec2-sg-open-all-ports", "ec2-sg-default-not-restricted",
		"ec2-nacl-open-admin-port", "ec2-instance-internet-exposed", "rds-instance-public", "redshift-cluster-public", "s3-bucket-public",
		"s3-account-public-access-block-off", "ec2-snapshot-public", "rds-snapshot-public",
		"iam-access-key-unrotated", "iam-credential-unused", "iam-user-console-without-mfa", "iam-user-multiple-active-keys",
		"iam-root-access-key-present", "iam-root-mfa-disabled", "iam-password-policy-weak", "kms-key-rotation-disabled",
		"secretsmanager-rotation-disabled", "secretsmanager-secret-unrotated", "acm-certificate-expiring", "iam-server-certificate-expired"} {
		if !strings.Contains(run.stdout, id) {
			t.Errorf("checks lacks %s", id)
		}
	}
	if run := runCLI(t, nil, "version"); run.code != 0 || !strings.HasPrefix(run.stdout, "posture ") {
		t.Errorf("version: %d %q", run.code, run.stdout)
	}
	if run := runCLI(t, nil, "checks", "--json"); run.code != 0 || !strings.Contains(run.stdout, `"remediation"`) {
		t.Errorf("checks --json: %d", run.code)
	}
}

func TestScanConfig(t *testing.T) {
	srv := emutest.Fresh(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("credentials:\n  max_key_age_days: -3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--config", bad, "--out", filepath.Join(dir, "bad"))
	if run.code != exitUsage || !strings.Contains(run.stderr, "credentials.max_key_age_days: must be a positive integer, got -3") {
		t.Errorf("invalid config: exit %d\n%s", run.code, run.stderr)
	}
	run = runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--config", filepath.Join(dir, "missing.yaml"), "--out", filepath.Join(dir, "missing"))
	if run.code != exitUsage || !strings.Contains(run.stderr, "read config") {
		t.Errorf("missing config: exit %d\n%s", run.code, run.stderr)
	}

	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("credentials:\n  secret_max_age_days: 365\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "good")
	run = runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--checks", "secretsmanager-secret-unrotated", "--config", good, "--out", out)
	if run.code != exitOK {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"credentials.max_key_age_days": 90, "credentials.unused_days": 45, "credentials.password_min_length": 14,
		"credentials.password_reuse_prevention": 24, "credentials.secret_max_age_days": 365, "credentials.certificate_warning_days": 30,
	}
	if !reflect.DeepEqual(scan.Scan.Thresholds, want) {
		t.Errorf("scan.thresholds = %v, want %v", scan.Scan.Thresholds, want)
	}
	// The example file in the repository is a valid configuration.
	run = runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--checks", "kms-key-rotation-disabled", "--config", "../../posture.example.yaml", "--out", filepath.Join(dir, "example"))
	if run.code != exitOK {
		t.Errorf("example config: exit %d\n%s", run.code, run.stderr)
	}
}

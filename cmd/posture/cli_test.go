package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
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
	"github.com/posture-dev/posture/scanners"
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
	if len(scan.Scan.Accounts) != 1 || scan.Scan.Accounts[0] != "123456789012" || len(scan.Scan.Checks) != len(scanners.Catalogue(scanners.All())) {
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
	if len(rows) != len(scan.Results)+1 || strings.Join(rows[0], ",") != strings.Join(reports.CSVHeader(), ",") {
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
		{"unknown flag", []string{"scan", "--nope"}, exitUsage, "unknown flag: --nope"},
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
	catalogue := scanners.Catalogue(scanners.All())
	if run.code != 0 || !strings.Contains(run.stdout, fmt.Sprintf("\n%d checks\n", len(catalogue))) {
		t.Fatalf("checks: exit %d\n%s", run.code, run.stdout)
	}
	// Every registered check is listed on its own line with its severity
	// and family.
	lines := map[string][]string{}
	for line := range strings.Lines(run.stdout) {
		if f := strings.Fields(line); len(f) > 3 {
			lines[f[0]] = f
		}
	}
	for _, m := range catalogue {
		f := lines[m.ID]
		if f == nil || f[1] != string(m.Severity) || f[2] != string(m.Family) {
			t.Errorf("checks lists %s as %v, want severity %s family %s", m.ID, f, m.Severity, m.Family)
		}
	}
	if run := runCLI(t, nil, "version"); run.code != 0 || !strings.HasPrefix(run.stdout, "posture ") {
		t.Errorf("version: %d %q", run.code, run.stdout)
	}
	if run := runCLI(t, nil, "checks", "--json"); run.code != 0 || !strings.Contains(run.stdout, `"remediation"`) {
		t.Errorf("checks --json: %d", run.code)
	}
}

func TestControlsVerb(t *testing.T) {
	run := runCLI(t, nil, "controls")
	if run.code != exitOK || !strings.Contains(run.stdout, "\n8 frameworks;") {
		t.Fatalf("controls: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	for _, want := range []string{
		"ID              VERSION                              CONTROLS  AUTOMATED  MANUAL  NAME\n",
		"cis-aws-5.0.0   5.0.0                                63        21         42      CIS Amazon Web Services Foundations Benchmark\n",
		"soc2            2017 (revised points of focus 2022)  61        5          56      SOC 2 Trust Services Criteria\n",
		"hipaa           45 CFR Part 164 Subpart C            57        8          49      HIPAA Security Rule\n",
	} {
		if !strings.Contains(run.stdout, want) {
			t.Errorf("controls lacks %q:\n%s", want, run.stdout)
		}
	}

	run = runCLI(t, nil, "controls", "--framework", "cis-aws-5.0.0")
	if run.code != exitOK {
		t.Fatalf("controls --framework: exit %d\n%s", run.code, run.stderr)
	}
	for _, want := range []string{
		"cis-aws-5.0.0: CIS Amazon Web Services Foundations Benchmark 5.0.0 (Center for Internet Security (CIS))\n",
		"5.3      automated  full      ec2-sg-open-admin-port",
		"1.1      manual     -         -",
		"\n63 controls: 21 automated, 42 manual\n",
	} {
		if !strings.Contains(run.stdout, want) {
			t.Errorf("controls --framework lacks %q:\n%s", want, run.stdout)
		}
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(good, []byte("framework: {id: acme, name: Acme controls, version: \"1\", publisher: Acme}\n"+
		"controls:\n  - {id: NET-1, title: No open admin ports, type: automated, checks: [ec2-sg-open-admin-port]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run = runCLI(t, nil, "controls", "--framework-file", good, "--framework", "acme")
	if run.code != exitOK || !strings.Contains(run.stdout, "NET-1    automated  partial   ec2-sg-open-admin-port  No open admin ports") {
		t.Errorf("custom framework: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	run = runCLI(t, nil, "controls", "--framework", "cis-9")
	if run.code != exitUsage || !strings.Contains(run.stderr, "--framework: unknown framework ID(s): cis-9 (known: cis-aws-3.0.0, cis-aws-5.0.0,") {
		t.Errorf("unknown framework: exit %d\n%s", run.code, run.stderr)
	}
}

// TestScanFrameworkFlags: --frameworks limits the controls section and the
// summary; an unknown framework or a malformed --framework-file is a usage
// error naming it, before any AWS call.
func TestScanFrameworkFlags(t *testing.T) {
	srv := emutest.Fresh(t)
	sg := openGroup(t, srv.URL, "us-east-1", "rdp")
	env := []string{"AWS_ENDPOINT_URL=" + srv.URL}
	dir := t.TempDir()
	custom := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(custom, []byte("framework: {id: acme, name: Acme controls, version: \"1\", publisher: Acme}\n"+
		"controls:\n  - {id: NET-1, title: No open admin ports, type: automated, checks: [ec2-sg-open-admin-port]}\n"+
		"  - {id: GOV-1, title: Access reviewed quarterly, type: manual}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	run := runCLI(t, env, "scan", "--regions", "us-east-1", "--frameworks", "cis-aws-5.0.0,acme", "--framework-file", custom, "--out", out)
	if run.code != exitOK {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	for _, want := range []string{"\nframework      controls passing", "\ncis-aws-5.0.0  ", "\nacme           0/1 (0%)"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.stderr)
		}
	}
	if strings.Contains(run.stderr, "soc2") {
		t.Errorf("summary shows a framework that was not selected:\n%s", run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	perFramework := map[string]int{}
	status := map[string]model.ControlState{}
	for _, c := range scan.Controls {
		perFramework[c.Framework]++
		status[c.Framework+":"+c.ControlID] = c.Status
	}
	if len(perFramework) != 2 || perFramework["cis-aws-5.0.0"] != 63 || perFramework["acme"] != 2 {
		t.Errorf("controls per framework: %v", perFramework)
	}
	if status["acme:NET-1"] != "FAIL" || status["acme:GOV-1"] != "MANUAL" || status["cis-aws-5.0.0:5.3"] != "FAIL" || status["cis-aws-5.0.0:1.1"] != "MANUAL" {
		t.Errorf("statuses: NET-1 %s, GOV-1 %s, 5.3 %s, 1.1 %s", status["acme:NET-1"], status["acme:GOV-1"], status["cis-aws-5.0.0:5.3"], status["cis-aws-5.0.0:1.1"])
	}
	for _, r := range scan.Results {
		if r.CheckID == "ec2-sg-open-admin-port" && r.ResourceID == sg {
			if got := strings.Join(r.Controls, ","); got != "cis-aws-5.0.0:5.3,cis-aws-5.0.0:5.4,acme:NET-1" {
				t.Errorf("controls of the open group's result: %s", got)
			}
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("framework: {id: acme, name: Acme, version: \"1\", publisher: Acme}\n"+
		"controls:\n  - id: NET-1\n    title: No open admin ports\n    type: automated\n    checks: [ec2-sg-open-ssh]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown framework", []string{"--frameworks", "cis-aws-5.0.0,sox"}, "--frameworks: unknown framework ID(s): sox (known: cis-aws-3.0.0, cis-aws-5.0.0, aws-fsbp, soc2, pci-dss-4.0.1, nist-800-53-r5, iso-27001-2022, hipaa)"},
		{"malformed framework file", []string{"--framework-file", bad}, bad + `:6: controls[0].checks[0]: unknown check ID "ec2-sg-open-ssh"`},
		{"missing framework file", []string{"--framework-file", filepath.Join(dir, "none.yaml")}, "none.yaml: no such file or directory"},
		{"framework file reusing a built-in ID", []string{"--framework-file", strings.Replace(custom, "acme.yaml", "soc2.yaml", 1)}, `framework ID "soc2" is already defined by builtin:soc2.yaml`},
	}
	if err := os.WriteFile(strings.Replace(custom, "acme.yaml", "soc2.yaml", 1), []byte("framework: {id: soc2, name: Mine, version: \"1\", publisher: Me}\n"+
		"controls:\n  - {id: X, title: x, type: manual}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := runCLI(t, []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1"}, append([]string{"scan", "--out", filepath.Join(dir, "x")}, c.args...)...)
			if run.code != exitUsage || !strings.Contains(run.stderr, c.stderr) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", run.code, exitUsage, c.stderr, run.stderr)
			}
		})
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

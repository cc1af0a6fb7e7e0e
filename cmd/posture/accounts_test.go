package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// orgChecks are the checks of the multi-account tests: regional EC2 and RDS
// scopes and the global S3 scope.
var orgChecks = "ec2-sg-open-admin-port,ec2-sg-open-database-port,ec2-ebs-volume-unencrypted,s3-bucket-unencrypted,s3-bucket-public,rds-instance-public,rds-instance-unencrypted"

// management is the emulator's default account, the caller's.
const management = "123456789012"

// seeded is a resource the test created in one account, with the failing
// result it must produce there.
type seeded struct {
	account, region, check, resource string
}

// org is an emulated organization: the management account and five members,
// each seeded with different resources.
type org struct {
	url     string
	names   map[string]string // account ID -> name
	members []string
	seeded  []seeded
}

// newOrg creates the organization and its accounts in the emulator and
// seeds every account differently.
func newOrg(t *testing.T, url string) *org {
	t.Helper()
	ctx := context.Background()
	mgmt := emutest.Config(t, url, "us-east-1")
	oc := organizations.NewFromConfig(mgmt)
	if _, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	o := &org{url: url, names: map[string]string{}}
	for i := range 5 {
		out, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		if id := aws.ToString(out.CreateAccountStatus.AccountId); id == "" {
			t.Fatalf("CreateAccount: no account ID: %+v", out.CreateAccountStatus)
		}
	}
	listed, err := awsenv.ListAccounts(ctx, mgmt)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listed {
		o.names[a.ID] = a.Name
		if a.ID != management {
			o.members = append(o.members, a.ID)
		}
	}
	sort.Strings(o.members)
	if len(o.members) != 5 || o.names[management] == "" {
		t.Fatalf("organization accounts: %v", o.names)
	}

	ports := []int32{22, 3389, 5432, 3306, 1433}
	for i, id := range o.members {
		creds := o.assume(t, id)
		use1, euw1 := withCreds(mgmt, creds, "us-east-1"), withCreds(mgmt, creds, "eu-west-1")
		check := "ec2-sg-open-database-port"
		if ports[i] == 22 || ports[i] == 3389 {
			check = "ec2-sg-open-admin-port"
		}
		o.seeded = append(o.seeded,
			seeded{id, "us-east-1", check, openPort(t, use1, fmt.Sprintf("open-%d", i), ports[i])},
			seeded{id, "eu-west-1", "ec2-ebs-volume-unencrypted", volume(t, euw1, int32(i+1))},
			seeded{id, "us-east-1", "s3-bucket-unencrypted", bucket(t, use1, fmt.Sprintf("posture-member-%d", i))},
		)
	}
	o.seeded = append(o.seeded, seeded{management, "eu-west-1", "ec2-sg-open-admin-port", openPort(t, emutest.Config(t, url, "eu-west-1"), "mgmt-open", 22)})
	return o
}

// assume returns credentials of the member account, as the scan gets them.
func (o *org) assume(t *testing.T, account string) aws.Credentials {
	out, err := sts.NewFromConfig(emutest.Config(t, o.url, "us-east-1")).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(awsenv.RoleARN("aws", account, awsenv.DefaultRoleName)), RoleSessionName: aws.String("seed")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

func withCreds(base aws.Config, c aws.Credentials, region string) aws.Config {
	cfg := base.Copy()
	cfg.Region = region
	cfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	return cfg
}

func openPort(t *testing.T, cfg aws.Config, name string, port int32) string {
	c := ec2.NewFromConfig(cfg)
	ctx := context.Background()
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(sg.GroupId)
}

func volume(t *testing.T, cfg aws.Config, size int32) string {
	v, err := ec2.NewFromConfig(cfg).CreateVolume(context.Background(), &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(cfg.Region + "a"), Size: aws.Int32(size), Encrypted: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(v.VolumeId)
}

func bucket(t *testing.T, cfg aws.Config, name string) string {
	if _, err := awsenv.S3(cfg, cfg.Region).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}

// tuple is what the tests compare between scans.
type tuple struct{ check, account, region, resource, status string }

func tuples(scan *model.Scan) map[tuple]bool {
	out := map[tuple]bool{}
	for _, r := range scan.Results {
		out[tuple{r.CheckID, r.AccountID, r.Region, r.ResourceID, string(r.Status)}] = true
	}
	return out
}

// diff describes how two tuple sets differ, or returns "".
func diff(got, want map[tuple]bool) string {
	var lines []string
	for k := range want {
		if !got[k] {
			lines = append(lines, fmt.Sprintf("missing %v", k))
		}
	}
	for k := range got {
		if !want[k] {
			lines = append(lines, fmt.Sprintf("unexpected %v", k))
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

// scanCLI runs `posture scan` with args and returns the exit code and the
// scan it wrote.
func scanCLI(t *testing.T, endpoint string, args ...string) (int, *model.Scan, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	args = append([]string{"scan", "--endpoint-url", endpoint, "--regions", "us-east-1,eu-west-1", "--checks", orgChecks, "--out", out}, args...)
	run := runCLI(t, nil, args...)
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatalf("exit %d, no scan.json: %v\n%s", run.code, err, run.stderr)
	}
	return run.code, scan, run.stderr
}

// TestOrgScan scans an organization of six accounts through the CLI: every
// account has results, each seeded resource is attributed to its account,
// name and region, and the result set is the union of scanning each account
// alone. Then AssumeRole denied into one account, and RDS denied in another,
// change only what they must.
func TestOrgScan(t *testing.T) {
	srv := emutest.Fresh(t)
	o := newOrg(t, srv.URL)
	all := append([]string{management}, o.members...)

	code, scan, stderr := scanCLI(t, srv.URL, "--org", "--role-name", "OrganizationAccountAccessRole")
	if code != exitOK || len(scan.Gaps()) != 0 {
		t.Fatalf("org scan: exit %d, gaps %+v\n%s", code, scan.Gaps(), stderr)
	}
	if !strings.Contains(stderr, "critical+high") {
		t.Errorf("the summary of an org scan lacks its account table:\n%s", stderr)
	}
	for id, name := range o.names {
		if !strings.Contains(stderr, id+"  "+name) {
			t.Errorf("the summary's account table lacks %s %s:\n%s", id, name, stderr)
		}
	}
	if got := strings.Join(scan.Scan.Accounts, ","); got != strings.Join(sortedIDs(all), ",") {
		t.Errorf("scan.accounts = %s, want %v", got, all)
	}
	for id, name := range o.names {
		if scan.Scan.AccountNames[id] != name {
			t.Errorf("scan.account_names[%s] = %q, want %q", id, scan.Scan.AccountNames[id], name)
		}
	}
	perAccount := map[string]int{}
	for _, r := range scan.Results {
		perAccount[r.AccountID]++
		if r.AccountName != o.names[r.AccountID] {
			t.Errorf("result %s %s: account name %q, want %q", r.CheckID, r.ResourceID, r.AccountName, o.names[r.AccountID])
		}
	}
	for _, id := range all {
		if perAccount[id] == 0 {
			t.Errorf("account %s has no results", id)
		}
	}
	for _, s := range o.seeded {
		var found []model.Result
		for _, r := range scan.Results {
			if r.CheckID == s.check && r.ResourceID == s.resource {
				found = append(found, r)
			}
		}
		if len(found) != 1 || found[0].AccountID != s.account || found[0].AccountName != o.names[s.account] ||
			found[0].Region != s.region || found[0].Status != model.StatusFail {
			t.Errorf("seeded %+v: results %+v", s, found)
		}
	}

	// The union of the accounts scanned one by one.
	union := map[tuple]bool{}
	for _, id := range all {
		code, alone, stderr := scanCLI(t, srv.URL, "--accounts", id)
		if code != exitOK {
			t.Fatalf("scan of %s alone: exit %d\n%s", id, code, stderr)
		}
		for k := range tuples(alone) {
			union[k] = true
		}
	}
	baseline := tuples(scan)
	if d := diff(baseline, union); d != "" {
		t.Errorf("org scan differs from the union of single-account scans:\n%s", d)
	}

	t.Run("AssumeRole denied into one account", func(t *testing.T) {
		denied := o.members[2]
		p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Action: "AssumeRole", BodyContains: denied, Fault: faultproxy.AccessDenied})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		code, scan, stderr := scanCLI(t, p.URL, "--org")
		if code != exitGaps {
			t.Errorf("exit %d, want %d\n%s", code, exitGaps, stderr)
		}
		gaps := scan.Gaps()
		if len(gaps) != 1 || gaps[0].AccountID != denied || gaps[0].Service != model.ServiceAccount || gaps[0].Region != model.GlobalRegion ||
			gaps[0].Failures[0].Code != "AccessDenied" || gaps[0].Failures[0].Operation != "AssumeRole" {
			t.Fatalf("gaps: %+v", gaps)
		}
		want := map[tuple]bool{}
		for k := range baseline {
			if k.account != denied {
				want[k] = true
			}
		}
		for _, c := range strings.Split(orgChecks, ",") {
			want[tuple{c, denied, model.GlobalRegion, "", string(model.StatusError)}] = true
		}
		if d := diff(tuples(scan), want); d != "" {
			t.Errorf("under denial:\n%s", d)
		}
		if n := len(scan.Results); n != len(want) {
			t.Errorf("%d results, want %d (duplicates?)", n, len(want))
		}
	})

	t.Run("RDS denied in one account", func(t *testing.T) {
		denied := o.members[4]
		p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "rds", AccountID: denied, Fault: faultproxy.AccessDenied})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		code, scan, stderr := scanCLI(t, p.URL, "--org")
		if code != exitGaps {
			t.Errorf("exit %d, want %d\n%s", code, exitGaps, stderr)
		}
		gaps := scan.Gaps()
		if len(gaps) != 2 {
			t.Fatalf("want the 2 rds scopes of %s as gaps, got %+v", denied, gaps)
		}
		for _, g := range gaps {
			if g.AccountID != denied || g.Service != "rds" || g.Failures[0].Code != "AccessDenied" {
				t.Errorf("gap %+v", g)
			}
		}
		want := map[tuple]bool{}
		for k := range baseline {
			if k.account != denied || !strings.HasPrefix(k.check, "rds-") {
				want[k] = true
			}
		}
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			for _, c := range []string{"rds-instance-public", "rds-instance-unencrypted"} {
				want[tuple{c, denied, region, "", string(model.StatusError)}] = true
			}
		}
		if d := diff(tuples(scan), want); d != "" {
			t.Errorf("under rds denial:\n%s", d)
		}
	})
}

func sortedIDs(ids []string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

// TestAccountsRegionNotEnabled: with --accounts, a region an account has not
// enabled is a gap of that account, not a usage error.
func TestAccountsRegionNotEnabled(t *testing.T) {
	srv := emutest.Fresh(t)
	out := filepath.Join(t.TempDir(), "out")
	// me-south-1 is an opt-in region the emulator reports as not opted in.
	run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--accounts", management, "--regions", "us-east-1,me-south-1",
		"--checks", "ec2-sg-open-admin-port", "--out", out)
	if run.code != exitGaps {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || gaps[0].Region != "me-south-1" || gaps[0].Service != model.ServiceRegion || gaps[0].Failures[0].Code != model.CodeRegionNotEnabled {
		t.Errorf("gaps %+v", gaps)
	}
	errs := 0
	for _, r := range scan.Results {
		if r.Region == "me-south-1" {
			errs++
			if r.Status != model.StatusError || r.CheckID != "ec2-sg-open-admin-port" || r.ResourceID != "" {
				t.Errorf("result in the region not enabled: %+v", r)
			}
		}
	}
	if errs != 1 {
		t.Errorf("%d results in the region not enabled, want 1 ERROR", errs)
	}
}

// TestAccountsNoRegionEnabled: when no requested region is enabled in an
// account, its global scanners keep none of their region-bound resources:
// a bucket in us-east-1 is not reported by a scan of me-south-1 alone.
func TestAccountsNoRegionEnabled(t *testing.T) {
	srv := emutest.Fresh(t)
	s3c := awsenv.S3(emutest.Config(t, srv.URL, "us-east-1"), "us-east-1")
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("outside-the-scan")}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--accounts", management, "--regions", "me-south-1",
		"--checks", "s3-bucket-unencrypted,ec2-sg-open-admin-port", "--out", out)
	if run.code != exitGaps {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range scan.Results {
		if r.CheckID == "s3-bucket-unencrypted" {
			t.Errorf("bucket result outside the scanned regions: %+v", r)
		}
	}
	if gaps := scan.Gaps(); len(gaps) != 1 || gaps[0].Failures[0].Code != model.CodeRegionNotEnabled {
		t.Errorf("gaps %+v, want the one region not enabled", gaps)
	}
}

// TestScanCancelledBeforeItStarts: a --timeout that expires before the
// engine starts (here, during sts:GetCallerIdentity) exits 5 and writes no
// report, as nothing was collected.
func TestScanCancelledBeforeItStarts(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Fault: faultproxy.Latency, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := filepath.Join(t.TempDir(), "out")
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--regions", "us-east-1", "--timeout", "1s", "--out", out)
	if run.code != exitCancelled || !strings.Contains(run.stderr, "cancelled before it started") {
		t.Fatalf("exit %d, want %d\n%s", run.code, exitCancelled, run.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "scan.json")); !os.IsNotExist(err) {
		t.Errorf("scan.json of a scan that never started: %v", err)
	}
}

// TestScanCancelled: a scan stopped by --timeout while RDS calls hang writes
// scan.json with what it collected, the unfinished scopes as Cancelled gaps,
// scan.cancelled set, and exits 5.
func TestScanCancelled(t *testing.T) {
	srv := emutest.Fresh(t)
	sg := openGroup(t, srv.URL, "us-east-1", "rdp")
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "rds", Fault: faultproxy.Latency, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := filepath.Join(t.TempDir(), "out")
	begin := time.Now()
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--regions", "us-east-1,eu-west-1", "--timeout", "6s",
		"--checks", "ec2-sg-open-admin-port,rds-instance-public", "--out", out)
	if run.code != exitCancelled {
		t.Fatalf("exit %d, want %d\n%s", run.code, exitCancelled, run.stderr)
	}
	if took := time.Since(begin); took > 30*time.Second {
		t.Errorf("the cancelled scan took %s", took)
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !scan.Scan.Cancelled {
		t.Error("scan.cancelled not set")
	}
	cancelled := 0
	for _, c := range scan.Coverage {
		switch {
		case c.Service == "rds":
			if c.Status != model.CoverageError || c.Failures[0].Code != model.CodeCancelled {
				t.Errorf("rds scope %+v", c)
			}
			cancelled++
		case c.Status != model.CoverageOK:
			t.Errorf("scope %+v", c)
		}
	}
	if cancelled != 2 || len(scan.Coverage) != 4 {
		t.Errorf("coverage %+v", scan.Coverage)
	}
	var collected bool
	for _, r := range scan.Results {
		if r.CheckID == "ec2-sg-open-admin-port" && r.ResourceID == sg && r.Status == model.StatusFail {
			collected = true
		}
		if r.Service == "rds" && (r.Status != model.StatusError || !strings.Contains(r.Message, "cancelled")) {
			t.Errorf("rds result %+v", r)
		}
	}
	if !collected {
		t.Error("what was collected before the timeout is not in scan.json")
	}
}

// TestScanInterrupted: SIGINT during a scan ends it the same way as
// --timeout: scan.json written, scan.cancelled set, exit 5.
func TestScanInterrupted(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "rds", Fault: faultproxy.Latency, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(binary, "scan", "--endpoint-url", p.URL, "--regions", "us-east-1", "--checks", "ec2-sg-open-admin-port,rds-instance-public", "--out", out)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the RDS call hangs in the proxy and every other call is
	// done (no new request for 500 ms), then interrupt.
	deadline := time.Now().Add(20 * time.Second)
	for p.Injected()[faultproxy.Latency] == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for n := -1; n != p.Requests() && time.Now().Before(deadline); {
		n = p.Requests()
		time.Sleep(500 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitCancelled {
		t.Fatalf("exit %v, want %d\n%s", err, exitCancelled, stderr.String())
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !scan.Scan.Cancelled || len(scan.Gaps()) != 1 || scan.Gaps()[0].Service != "rds" || scan.Gaps()[0].Failures[0].Code != model.CodeCancelled {
		t.Errorf("cancelled %v, gaps %+v", scan.Scan.Cancelled, scan.Gaps())
	}
}

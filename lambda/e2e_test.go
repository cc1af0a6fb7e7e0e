package main_test

// End-to-end tests of the nightly run: the real bootstrap (this package,
// built with -tags lambda.norpc) under the AWS Lambda Runtime Interface
// Emulator, writing to moto's S3; and moto executing the state machine
// template.yaml deploys (statemachine/posture.asl.json), its Lambda tasks
// sent through a loopback bridge to a pool of emulators running the same
// bootstrap. No AWS, no Docker.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/lambdatest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/statemachine"
)

func TestMain(m *testing.M) { os.Exit(lambdatest.Main(m)) }

const (
	evidenceBucket = "posture-evidence"
	prefix         = "posture/"
	management     = "123456789012" // the emulator's default account, the caller's
	functionArn    = "arn:aws:lambda:us-east-1:123456789012:function:posture"
)

// descriptor is latest.json and index/<scan-id>.json.
type descriptor struct {
	ScanID         string `json:"scan_id"`
	Cancelled      bool   `json:"cancelled"`
	Complete       bool   `json:"complete"`
	Scope          string `json:"scope"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Package        string `json:"package"`
	ScanKey        string `json:"scan_key"`
}

// store reads the evidence bucket.
type store struct {
	t   testing.TB
	s3  *s3.Client
	ctx context.Context
}

func newStore(t testing.TB, cfg aws.Config) *store {
	return &store{t: t, s3: awsenv.S3(cfg, "us-east-1"), ctx: context.Background()}
}

func (s *store) get(key string) []byte {
	s.t.Helper()
	out, err := s.s3.GetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String(evidenceBucket), Key: aws.String(key)})
	if err != nil {
		s.t.Fatalf("get s3://%s/%s: %v", evidenceBucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *store) json(key string, v any) {
	s.t.Helper()
	if err := json.Unmarshal(s.get(key), v); err != nil {
		s.t.Fatalf("s3://%s/%s: %v", evidenceBucket, key, err)
	}
}

// list returns every key under p (all pages).
func (s *store) list(p string) []string {
	s.t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(evidenceBucket), Prefix: aws.String(p)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(s.ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// download copies the package folder runs/<id>/ into a new local folder.
func (s *store) download(scanID string) string {
	s.t.Helper()
	dir := s.t.TempDir()
	p := prefix + "runs/" + scanID + "/"
	keys := s.list(p)
	if len(keys) == 0 {
		s.t.Fatalf("no object under s3://%s/%s", evidenceBucket, p)
	}
	for _, k := range keys {
		name := strings.TrimPrefix(k, p)
		if strings.Contains(name, "/") {
			s.t.Errorf("the package folder holds a sub-folder object %s", k)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), s.get(k), 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
	return dir
}

func (s *store) remove(key string) {
	s.t.Helper()
	if _, err := s.s3.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: aws.String(evidenceBucket), Key: aws.String(key)}); err != nil {
		s.t.Fatal(err)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// verifyPackage downloads runs/<id>/ and checks it as an auditor would.
func verifyPackage(t testing.TB, st *store, scanID string) (string, *model.Scan) {
	t.Helper()
	dir := st.download(scanID)
	v, err := reports.VerifyPackage(dir, reports.VerifyOptions{})
	if err != nil {
		t.Fatalf("verify the downloaded package: %v", err)
	}
	if len(v.Problems) > 0 {
		t.Errorf("the downloaded package is not intact: %+v", v.Problems)
	}
	for _, name := range []string{"scan.json", "findings.csv", "findings.ocsf.json", "evidence.xlsx", "report-soc2.pdf",
		"report-cis-aws-5.0.0.pdf", "manifest.json", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("package runs/%s/ lacks %s", scanID, name)
		}
	}
	scan, err := reports.ReadScanFile(filepath.Join(dir, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if scan.Scan.ID != scanID {
		t.Errorf("runs/%s/scan.json has scan id %s", scanID, scan.Scan.ID)
	}
	return dir, scan
}

func manifestOf(t testing.TB, dir string) reports.Manifest {
	t.Helper()
	var m reports.Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func openPort(t testing.TB, cfg aws.Config, name string, port int32) string {
	t.Helper()
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

func closePort(t testing.TB, cfg aws.Config, group string, port int32) {
	t.Helper()
	if _, err := ec2.NewFromConfig(cfg).RevokeSecurityGroupIngress(context.Background(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(group),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
}

func findResult(scan *model.Scan, checkID, resourceID string) *model.Result {
	for i := range scan.Results {
		if r := &scan.Results[i]; r.CheckID == checkID && r.ResourceID == resourceID {
			return r
		}
	}
	return nil
}

func entryIDs(entries []model.DiffEntry, checkID string) []string {
	var ids []string
	for _, e := range entries {
		if e.CheckID == checkID {
			ids = append(ids, e.ResourceID)
		}
	}
	sort.Strings(ids)
	return ids
}

// TestSingleRunUnderTheRuntimeEmulator: the scheduled single run, twice,
// through the real bootstrap. Each run writes an intact package to
// runs/<id>/; the second is diffed against the first (one finding fixed,
// one new), its manifest chains to the first's, and latest.json moves to
// it only after the package is written.
func TestSingleRunUnderTheRuntimeEmulator(t *testing.T) {
	boot := lambdatest.Build(t, "./lambda")
	sf := lambdatest.StartSFN(t, nil) // moto 5.2.5+, used here for S3 and the scanned account
	cfg := sf.Config(t, "us-east-1")
	st := newStore(t, cfg)
	if _, err := st.s3.CreateBucket(st.ctx, &s3.CreateBucketInput{Bucket: aws.String(evidenceBucket)}); err != nil {
		t.Fatal(err)
	}
	admin := openPort(t, cfg, "admin-open", 22)

	rie := lambdatest.StartRIE(t, boot, map[string]string{
		"POSTURE_BUCKET":   evidenceBucket,
		"POSTURE_REGIONS":  "us-east-1",
		"AWS_ENDPOINT_URL": sf.MotoURL,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	out1, err := rie.Invoke(ctx, []byte(`{"action":"run"}`))
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, rie.Logs())
	}
	var sum1 struct {
		ScanID  string `json:"scan_id"`
		Package string `json:"package"`
	}
	if err := json.Unmarshal(out1, &sum1); err != nil || sum1.ScanID == "" {
		t.Fatalf("first run's summary %s: %v", out1, err)
	}
	if want := "s3://" + evidenceBucket + "/" + prefix + "runs/" + sum1.ScanID + "/"; sum1.Package != want {
		t.Errorf("package = %q, want %q", sum1.Package, want)
	}
	dir1, scan1 := verifyPackage(t, st, sum1.ScanID)
	if r := findResult(scan1, "ec2-sg-open-admin-port", admin); r == nil || r.Status != model.StatusFail {
		t.Errorf("run 1: %s open to the internet on 22 is not a FAIL: %+v", admin, r)
	}
	if scan1.Scan.Baseline != nil {
		t.Errorf("run 1 has a baseline %+v; there was no earlier run", scan1.Scan.Baseline)
	}
	var latest descriptor
	st.json(prefix+"latest.json", &latest)
	if latest.ScanID != sum1.ScanID || latest.ScanKey != prefix+"runs/"+sum1.ScanID+"/scan.json" {
		t.Errorf("latest.json after run 1 = %+v", latest)
	}
	m1 := st.get(prefix + "runs/" + sum1.ScanID + "/manifest.json")
	if latest.ManifestSHA256 != sha(m1) {
		t.Errorf("latest.json manifest_sha256 %s, the manifest object hashes to %s", latest.ManifestSHA256, sha(m1))
	}
	if manifestOf(t, dir1).PreviousManifestSHA256 != "" {
		t.Errorf("run 1's manifest chains to %q; it is the first", manifestOf(t, dir1).PreviousManifestSHA256)
	}

	// Overnight: the admin port is closed, a database port is opened.
	closePort(t, cfg, admin, 22)
	db := openPort(t, cfg, "db-open", 5432)

	// The second run arrives as EventBridge Scheduler's scheduled event.
	event := `{"version":"0","id":"d2f0a7b4-0000-0000-0000-000000000000","detail-type":"Scheduled Event","source":"aws.scheduler",` +
		`"account":"123456789012","time":"2026-12-04T02:00:00Z","region":"us-east-1","resources":[],"detail":{}}`
	out2, err := rie.Invoke(ctx, []byte(event))
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, rie.Logs())
	}
	var sum2 struct {
		ScanID   string `json:"scan_id"`
		Baseline string `json:"baseline"`
	}
	if err := json.Unmarshal(out2, &sum2); err != nil || sum2.ScanID == "" || sum2.ScanID == sum1.ScanID {
		t.Fatalf("second run's summary %s: %v", out2, err)
	}
	if sum2.Baseline != sum1.ScanID {
		t.Errorf("second run compared with %q, want run 1 %s", sum2.Baseline, sum1.ScanID)
	}
	dir2, scan2 := verifyPackage(t, st, sum2.ScanID)
	if scan2.Scan.Baseline == nil || scan2.Scan.Baseline.ID != sum1.ScanID {
		t.Errorf("run 2's scan.json baseline = %+v, want %s", scan2.Scan.Baseline, sum1.ScanID)
	}
	if got := manifestOf(t, dir2).PreviousManifestSHA256; got != sha(m1) {
		t.Errorf("run 2's manifest chains to %q, want the sha256 of run 1's manifest.json %s", got, sha(m1))
	}
	var d model.Diff
	if err := json.Unmarshal(st.get(prefix+"runs/"+sum2.ScanID+"/diff.json"), &d); err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(d.New, "ec2-sg-open-database-port"); len(got) != 1 || got[0] != db {
		t.Errorf("diff new (ec2-sg-open-database-port) = %v, want [%s]", got, db)
	}
	if got := entryIDs(d.Resolved, "ec2-sg-open-admin-port"); len(got) != 1 || got[0] != admin {
		t.Errorf("diff resolved (ec2-sg-open-admin-port) = %v, want [%s]", got, admin)
	}
	// The new group's passing results are new too (a new resource); the
	// failures are exactly the opened port, the resolved exactly the closed.
	var newFailures []model.DiffEntry
	for _, e := range d.New {
		if e.NewStatus == model.StatusFail {
			newFailures = append(newFailures, e)
		} else if e.ResourceID != db {
			t.Errorf("diff new: %+v is not about the new group %s", e, db)
		}
	}
	if len(newFailures) != 1 || len(d.Resolved) != 1 {
		t.Errorf("diff: %d new failures, %d resolved; want exactly the opened and the closed port:\nnew %+v\nresolved %+v", len(newFailures), len(d.Resolved), newFailures, d.Resolved)
	}
	st.json(prefix+"latest.json", &latest)
	if latest.ScanID != sum2.ScanID {
		t.Errorf("latest.json after run 2 names %s, want %s", latest.ScanID, sum2.ScanID)
	}
	for _, id := range []string{sum1.ScanID, sum2.ScanID} {
		var ix descriptor
		st.json(prefix+"index/"+id+".json", &ix)
		if ix.ScanID != id || ix.Cancelled {
			t.Errorf("index/%s.json = %+v", id, ix)
		}
	}

	// A bad setting fails the invocation with a message naming it.
	bad := lambdatest.StartRIE(t, boot, map[string]string{"POSTURE_BUCKET": evidenceBucket, "POSTURE_REGIONS": "us_east_1", "AWS_ENDPOINT_URL": sf.MotoURL})
	_, err = bad.Invoke(ctx, []byte(`{"action":"run"}`))
	var fe *lambdatest.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "POSTURE_REGIONS") {
		t.Errorf("a malformed POSTURE_REGIONS: err = %v, want a function error naming POSTURE_REGIONS", err)
	}
}

// denyingInvoker fails every scan-account invocation of one account, as a
// function that times out does.
type denyingInvoker struct {
	inner   lambdatest.Invoker
	account string
}

func (d *denyingInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if bytes.Contains(payload, []byte(`"scan-account"`)) && bytes.Contains(payload, []byte(d.account)) {
		return nil, &lambdatest.FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 900.00 seconds",
			Payload: []byte(`{"errorMessage":"Task timed out after 900.00 seconds","errorType":"Sandbox.Timedout"}`)}
	}
	return d.inner.Invoke(ctx, payload)
}

// comparable is what must be equal between the fan-out's results and the
// CLI's: everything but first_seen, which is each scan's own start time.
func comparable(t testing.TB, scan *model.Scan) []string {
	t.Helper()
	var out []string
	for _, r := range scan.Results {
		r.FirstSeen = nil
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func coverageOf(scan *model.Scan, account string) []model.Coverage {
	var out []model.Coverage
	for _, c := range scan.Coverage {
		if c.AccountID == account {
			out = append(out, c)
		}
	}
	return out
}

// TestFanOutOnStepFunctions: moto executes the state machine template.yaml
// deploys, over an organization of 22 accounts with one member whose role
// cannot be assumed. The package equals a CLI `posture scan --org` of the
// same accounts, the denied account being a gap in both. A second
// execution, where one account's invocation times out, still writes its
// package: that account is a PartialMissing gap with ERROR results, never
// resolved in the diff.
func TestFanOutOnStepFunctions(t *testing.T) {
	const members = 21
	f := newFanOut(t, members, 4)
	ids, denied, timedOut := f.members, f.members[3], f.members[7]
	opened := map[string]string{}
	for _, id := range []string{ids[0], denied, timedOut} {
		opened[id] = openPort(t, f.memberConfig(t, id), "open-"+id, 3389)
	}
	f.deny(t, denied)
	st, ctx, execute, pool, sf, cli := f.store, f.ctx, f.execute, f.pool, f.sfn, f.cli
	setup := f.setup

	out1, took1 := execute("nightly-1")
	if out1.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution 1: %s %s %s", out1.Status, aws.ToString(out1.Error), aws.ToString(out1.Cause))
	}
	var latest descriptor
	st.json(prefix+"latest.json", &latest)
	dir1, fan := verifyPackage(t, st, latest.ScanID)
	if n := len(st.list(prefix + "work/" + latest.ScanID + "/accounts/")); n != members+1 {
		t.Errorf("%d partials under work/%s/accounts/, want %d", n, latest.ScanID, members+1)
	}

	// The CLI's scan of the same organization, through the same denial.
	outDir := filepath.Join(t.TempDir(), "cli")
	cmd := exec.CommandContext(ctx, cli, "scan", "--org", "--role-name", awsenv.DefaultRoleName, "--regions", "us-east-1", "--out", outDir)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+f.proxy.URL, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 { // 4: the denied account is a gap
			t.Fatalf("posture scan --org: %v\n%s", err, stderr.String())
		}
	}
	cliScan, err := reports.ReadScanFile(filepath.Join(outDir, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := comparable(t, fan), comparable(t, cliScan)
	if len(a) != len(b) {
		t.Errorf("the fan-out has %d results, the CLI --org scan %d", len(a), len(b))
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			t.Errorf("result %d differs:\nfan-out %s\nCLI     %s", i, a[i], b[i])
			break
		}
	}
	if !slices.Equal(fan.Scan.Accounts, cliScan.Scan.Accounts) || len(fan.Scan.Accounts) != members+1 {
		t.Errorf("accounts: fan-out %v, CLI %v", fan.Scan.Accounts, cliScan.Scan.Accounts)
	}
	for _, scan := range []*model.Scan{fan, cliScan} {
		cov := coverageOf(scan, denied)
		if len(cov) != 1 || cov[0].Service != model.ServiceAccount || cov[0].Status != model.CoverageError ||
			len(cov[0].Failures) != 1 || cov[0].Failures[0].Code != "AccessDenied" {
			t.Errorf("denied account %s: coverage %+v, want one account gap AccessDenied", denied, cov)
		}
	}
	if r := findResult(fan, "ec2-sg-open-admin-port", opened[ids[0]]); r == nil || r.Status != model.StatusFail || r.AccountID != ids[0] {
		t.Errorf("member %s's open port: %+v", ids[0], r)
	}
	m1 := st.get(prefix + "runs/" + latest.ScanID + "/manifest.json")
	_ = dir1

	// Night 2: one account's invocation times out (every try).
	sf.SetInvoker(&denyingInvoker{inner: pool, account: timedOut})
	out2, took2 := execute("nightly-2")
	// moto does not enforce ToleratedFailureCount: the Map run succeeds and
	// Assemble runs (on AWS, one failure within the tolerance does the same).
	if out2.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution 2: %s %s %s", out2.Status, aws.ToString(out2.Error), aws.ToString(out2.Cause))
	}
	first := latest.ScanID
	st.json(prefix+"latest.json", &latest)
	if latest.ScanID == first {
		t.Fatalf("latest.json did not move after execution 2")
	}
	dir2, night2 := verifyPackage(t, st, latest.ScanID)
	cov := coverageOf(night2, timedOut)
	if len(cov) != 1 || cov[0].Service != model.ServiceAccount || len(cov[0].Failures) != 1 || cov[0].Failures[0].Code != "PartialMissing" {
		t.Errorf("timed-out account %s: coverage %+v, want one PartialMissing account gap", timedOut, cov)
	}
	errorsFor := 0
	for _, r := range night2.Results {
		if r.AccountID == timedOut {
			if r.Status != model.StatusError {
				t.Errorf("timed-out account %s has a %s result: %+v", timedOut, r.Status, r)
			}
			errorsFor++
		}
	}
	if errorsFor != len(night2.Scan.Checks) {
		t.Errorf("timed-out account: %d ERROR results, want one per check (%d)", errorsFor, len(night2.Scan.Checks))
	}
	if got := manifestOf(t, dir2).PreviousManifestSHA256; got != sha(m1) {
		t.Errorf("night 2's manifest chains to %q, want night 1's %s", got, sha(m1))
	}
	var d model.Diff
	if err := json.Unmarshal(st.get(path.Join(prefix, "runs", latest.ScanID, "diff.json")), &d); err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Resolved {
		if e.AccountID == timedOut {
			t.Errorf("a finding of the timed-out account is resolved: %+v", e)
		}
	}
	if got := entryIDs(d.NotObserved, "ec2-sg-open-admin-port"); !slices.Contains(got, opened[timedOut]) {
		t.Errorf("the timed-out account's open port is not in not_observed: %v", got)
	}
	t.Logf("22 accounts, 1 region: setup %v, execution 1 %v, execution 2 %v; handler invocations: %s",
		setup.Round(time.Millisecond), took1.Round(time.Millisecond), took2.Round(time.Millisecond), lambdatest.Summarize(pool.Stats()))
}

// fanOut is the fixture of the fan-out tests: moto (5.2.5+) with Step
// Functions execution on, an organization of the management account and
// members, the evidence bucket, a faultproxy in front of moto (the Lambda
// and the CLI reach AWS through it), a pool of Runtime Interface Emulators
// running the real bootstrap behind the bridge, and the state machine of
// statemachine/posture.asl.json.
type fanOut struct {
	ctx     context.Context
	sfn     *lambdatest.SFN
	cfg     aws.Config
	members []string
	store   *store
	proxy   *faultproxy.Proxy
	pool    *lambdatest.Pool
	cli     string
	sm      string
	setup   time.Duration
	execute func(name string) (*sfn.DescribeExecutionOutput, time.Duration)
}

func newFanOut(t testing.TB, members, concurrency int) *fanOut {
	t.Helper()
	testStart := time.Now()
	boot := lambdatest.Build(t, "./lambda")
	cli := lambdatest.Build(t, "./cmd/posture")
	sf := lambdatest.StartSFN(t, nil)
	cfg := sf.Config(t, "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)

	oc := organizations.NewFromConfig(cfg)
	if _, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	for i := range members {
		if _, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%03d", i)), Email: aws.String(fmt.Sprintf("member-%03d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := awsenv.ListAccounts(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range listed {
		if a.ID != management {
			ids = append(ids, a.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) != members {
		t.Fatalf("%d member accounts, want %d", len(ids), members)
	}
	st := newStore(t, cfg)
	if _, err := st.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(evidenceBucket)}); err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.New(sf.MotoURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	pool := lambdatest.NewPool(t, boot, map[string]string{
		"POSTURE_BUCKET":    evidenceBucket,
		"POSTURE_ORG":       "true",
		"POSTURE_ROLE_NAME": awsenv.DefaultRoleName,
		"POSTURE_REGIONS":   "us-east-1",
		"AWS_ENDPOINT_URL":  proxy.URL,
	}, concurrency)
	sf.SetInvoker(pool)

	definition, err := statemachine.Render(map[string]string{"PostureFunctionArn": functionArn,
		"MaxConcurrency": fmt.Sprint(concurrency), "ToleratedFailureCount": "2"})
	if err != nil {
		t.Fatal(err)
	}
	sfc := sfn.NewFromConfig(cfg)
	sm, err := sfc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("posture-nightly"), Definition: aws.String(definition),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/posture-states")})
	if err != nil {
		t.Fatalf("create the state machine from %s: %v", statemachine.File, err)
	}
	f := &fanOut{ctx: ctx, sfn: sf, cfg: cfg, members: ids, store: st, proxy: proxy, pool: pool, cli: cli,
		sm: aws.ToString(sm.StateMachineArn), setup: time.Since(testStart)}
	f.execute = func(name string) (*sfn.DescribeExecutionOutput, time.Duration) {
		t.Helper()
		start := time.Now()
		ex, err := sfc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(f.sm), Name: aws.String(name), Input: aws.String("{}")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := lambdatest.WaitExecution(ctx, sfc, aws.ToString(ex.ExecutionArn))
		if err != nil {
			t.Fatalf("%s: %v\nmoto: %s", name, err, sf.Logs())
		}
		return out, time.Since(start)
	}
	return f
}

// memberConfig reaches a member account as the seeding test does.
func (f *fanOut) memberConfig(t testing.TB, account string) aws.Config {
	t.Helper()
	cfg, err := awsenv.Reach(f.ctx, f.cfg, "aws", account, awsenv.Role{Name: awsenv.DefaultRoleName, SessionName: "seed"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deny makes the account's role impossible to assume (AccessDenied at
// sts:AssumeRole), for the Lambda and the CLI alike.
func (f *fanOut) deny(t testing.TB, account string) {
	t.Helper()
	if err := f.proxy.SetRules(faultproxy.Rule{Service: "sts", Action: "AssumeRole", BodyContains: account, Fault: faultproxy.AccessDenied}); err != nil {
		t.Fatal(err)
	}
}

package nightly

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/scanners"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const (
	evidenceBucket = "posture-evidence"
	// workBucket holds the fan-out's working files in TestFanOut.
	workBucket = "posture-work"
	// account is the emulator's default account, the function's own.
	account = "123456789012"
)

// lockedBuffer is a log sink written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a fresh emulator with the evidence bucket, and the function's
// environment.
type fixture struct {
	t    *testing.T
	url  string
	cfg  aws.Config // the test's own client configuration (mutations allowed)
	s3   *s3.Client
	vars map[string]string
	logs *lockedBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := emutest.Fresh(t)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "", "AWS_SESSION_TOKEN": ""} {
		t.Setenv(k, v)
	}
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle, o.DisableLogOutputChecksumValidationSkipped = true, true })
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(evidenceBucket)}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, url: srv.URL, cfg: cfg, s3: client, logs: &lockedBuffer{}, vars: map[string]string{
		EnvBucket: evidenceBucket, "AWS_ENDPOINT_URL": srv.URL, "AWS_LAMBDA_FUNCTION_NAME": "posture-nightly", EnvLogLevel: "debug",
	}}
}

// handler is the function as the Lambda runtime calls it, with the test's
// environment and a log the test can read.
func (f *fixture) handler() Handler {
	return Handler{
		Getenv:  envOf(f.vars),
		Logger:  slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version: "test",
		AWS:     awsEnvOptions(),
	}
}

func (f *fixture) invoke(ctx context.Context, event string) (any, error) {
	return f.handler().Handle(ctx, json.RawMessage(event))
}

// run invokes a single run and returns its summary.
func (f *fixture) run(event string) *Summary {
	f.t.Helper()
	out, err := f.invoke(context.Background(), event)
	if err != nil {
		f.t.Fatalf("run %s: %v\nlog:\n%s", event, err, f.logs)
	}
	return out.(*Summary)
}

func (f *fixture) get(key string) []byte {
	f.t.Helper()
	return f.getIn(evidenceBucket, key)
}

func (f *fixture) getIn(bucket, key string) []byte {
	f.t.Helper()
	out, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		f.t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		f.t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) put(key string, body []byte) {
	f.t.Helper()
	f.putIn(evidenceBucket, key, body)
}

func (f *fixture) putIn(bucket, key string, body []byte) {
	f.t.Helper()
	if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) list(prefix string) []string {
	f.t.Helper()
	return f.listIn(evidenceBucket, prefix)
}

func (f *fixture) listIn(bucket, prefix string) []string {
	f.t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(f.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// download copies every object under prefix into a new folder.
func (f *fixture) download(prefix string) string {
	f.t.Helper()
	dir := filepath.Join(f.t.TempDir(), "pkg")
	if err := os.Mkdir(dir, 0o700); err != nil {
		f.t.Fatal(err)
	}
	for _, key := range f.list(prefix) {
		if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(key, prefix)), f.get(key), 0o600); err != nil {
			f.t.Fatal(err)
		}
	}
	return dir
}

func (f *fixture) scanJSON(id string) *model.Scan {
	f.t.Helper()
	scan, err := reports.DecodeScan(f.get("posture/runs/" + id + "/scan.json"))
	if err != nil {
		f.t.Fatal(err)
	}
	return scan
}

func (f *fixture) descriptor(key string) Descriptor {
	f.t.Helper()
	var d Descriptor
	if err := json.Unmarshal(f.get(key), &d); err != nil {
		f.t.Fatalf("%s: %v", key, err)
	}
	return d
}

func (f *fixture) manifest(id string) reports.Manifest {
	f.t.Helper()
	var m reports.Manifest
	if err := json.Unmarshal(f.get("posture/runs/"+id+"/manifest.json"), &m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func openGroup(t *testing.T, cfg aws.Config, name string, port int32) string {
	t.Helper()
	c := ec2.NewFromConfig(cfg)
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(sg.GroupId)
}

// outcome is what the tests compare of a result.
type outcome struct{ check, account, region, resource, status string }

func outcomes(scan *model.Scan) map[outcome]bool {
	out := map[outcome]bool{}
	for _, r := range scan.Results {
		out[outcome{r.CheckID, r.AccountID, r.Region, r.ResourceID, string(r.Status)}] = true
	}
	return out
}

func sameSet[K comparable](got, want map[K]bool) string {
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
	return strings.Join(lines, "\n")
}

// inbox subscribes a new SQS queue to a new SNS topic and returns the
// topic's ARN and a function that returns the messages delivered so far
// (subject and message of each SNS envelope).
func inbox(t *testing.T, cfg aws.Config) (string, func() [][2]string) {
	t.Helper()
	ctx := context.Background()
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("posture-summary")})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("summary-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(topic.TopicArn), func() [][2]string {
		var msgs [][2]string
		for {
			out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				return msgs
			}
			for _, m := range out.Messages {
				var env struct{ Subject, Message string }
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
					t.Fatalf("SNS envelope %q: %v", aws.ToString(m.Body), err)
				}
				msgs = append(msgs, [2]string{env.Subject, env.Message})
				if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: queue.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestSingleRunTwice: two scheduled single runs of one account, with one
// finding fixed and one added between them. Both packages are in the
// bucket, intact; the second is chained to the first's manifest, diffed
// against it (exactly the new and the resolved finding), latest.json names
// it, the index has both, and the SNS summary says what changed.
func TestSingleRunTwice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sgA := openGroup(t, f.cfg, "open-a", 22)
	sgB := openGroup(t, f.cfg, "open-b", 3389)
	if _, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data-a")}); err != nil {
		t.Fatal(err)
	}
	config := []byte(fmt.Sprintf(`# the nightly run's config
waivers:
  - id: evidence-bucket
    check: s3-bucket-unencrypted
    resources: [%s]
    reason: encrypted with SSE-KMS on every upload by the nightly run
    owner: security@example.com
    expires: %s
`, evidenceBucket, time.Now().AddDate(0, 1, 0).Format("2006-01-02")))
	f.put("config/posture.yaml", config)
	topic, messages := inbox(t, f.cfg)
	f.vars[EnvRegions] = "us-east-1"
	f.vars[EnvChecks] = "ec2-sg-open-admin-port,s3-bucket-unencrypted"
	f.vars[EnvFrameworks] = "cis-aws-5.0.0,soc2"
	f.vars[EnvConfig] = "config/posture.yaml"
	f.vars[EnvTopicARN] = topic
	caller, err := sts.NewFromConfig(f.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}

	s1 := f.run(`{}`)
	id1 := s1.ScanID
	ec2c := ec2.NewFromConfig(f.cfg)
	if _, err := ec2c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sgA),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	sgC := openGroup(t, f.cfg, "open-c", 22)
	time.Sleep(1100 * time.Millisecond) // scan IDs have a resolution of one second
	s2 := f.run(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events",` +
		`"account":"123456789012","time":"2026-12-03T02:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/nightly"],"detail":{}}`)
	id2 := s2.ScanID
	if id2 <= id1 {
		t.Fatalf("scan IDs %s then %s", id1, id2)
	}

	// The packages: every object under runs/<id>/, downloaded, verifies
	// (the manifest lists every file with its hash, and nothing else is
	// there).
	want := map[string][]string{
		id1: {"evidence.xlsx", "findings.csv", "findings.ocsf.json", "manifest.json", "report-cis-aws-5.0.0.pdf", "report-soc2.pdf", "scan.json", "SHA256SUMS"},
		id2: {"diff.json", "evidence.xlsx", "findings.csv", "findings.ocsf.json", "manifest.json", "report-cis-aws-5.0.0.pdf", "report-soc2.pdf", "scan.json", "SHA256SUMS"},
	}
	for id, names := range want {
		prefix := "posture/runs/" + id + "/"
		var got []string
		for _, k := range f.list(prefix) {
			got = append(got, strings.TrimPrefix(k, prefix))
		}
		sort.Strings(names)
		if strings.Join(got, " ") != strings.Join(names, " ") {
			t.Errorf("objects of run %s: %v, want %v", id, got, names)
		}
		v, err := reports.VerifyPackage(f.download(prefix), reports.VerifyOptions{})
		if err != nil || !v.Intact() {
			t.Errorf("run %s downloaded: %v, problems %v", id, err, v.Problems)
		}
	}
	for key, ct := range map[string]string{
		"posture/runs/" + id2 + "/report-soc2.pdf": "application/pdf", "posture/runs/" + id2 + "/SHA256SUMS": "text/plain; charset=utf-8",
		"posture/runs/" + id2 + "/evidence.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"posture/runs/" + id2 + "/scan.json":     "application/json", "posture/latest.json": "application/json",
	} {
		out, err := f.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(evidenceBucket), Key: aws.String(key)})
		if err != nil || aws.ToString(out.ContentType) != ct || out.ServerSideEncryption != "aws:kms" {
			t.Errorf("%s: content type %q, SSE %q (%v); want %s, aws:kms", key, aws.ToString(out.ContentType), out.ServerSideEncryption, err, ct)
		}
	}

	// The chain: run 1 starts it, run 2 names run 1's manifest.json.
	if m := f.manifest(id1); m.PreviousManifestSHA256 != "" {
		t.Errorf("run 1 chains to %q, want nothing (the first run)", m.PreviousManifestSHA256)
	}
	m1 := sha(f.get("posture/runs/" + id1 + "/manifest.json"))
	if m := f.manifest(id2); m.PreviousManifestSHA256 != m1 {
		t.Errorf("run 2's previous_manifest_sha256 = %q, want run 1's manifest %s", m.PreviousManifestSHA256, m1)
	}

	// What each scan.json records, and its results.
	scan1, scan2 := f.scanJSON(id1), f.scanJSON(id2)
	for _, c := range []struct {
		scan       *model.Scan
		invocation string
	}{{scan1, "lambda posture-nightly (action run)"}, {scan2, "lambda posture-nightly (action run, Scheduled Event)"}} {
		s := c.scan.Scan
		if s.Invocation != c.invocation || s.Principal != aws.ToString(caller.Arn) || s.ConfigFile != "s3://posture-evidence/config/posture.yaml" ||
			s.ConfigSHA256 != sha(config) || strings.Join(s.RequestedRegions, ",") != "us-east-1" || strings.Join(c.scan.FrameworkIDs(), ",") != "cis-aws-5.0.0,soc2" {
			t.Errorf("scan %s records invocation %q, principal %q, config %q %q, regions %v, frameworks %v", s.ID, s.Invocation, s.Principal,
				s.ConfigFile, s.ConfigSHA256, s.RequestedRegions, c.scan.FrameworkIDs())
		}
	}
	if scan1.Scan.Baseline != nil || scan2.Scan.Baseline == nil || scan2.Scan.Baseline.ID != id1 {
		t.Errorf("baselines: run 1 %+v, run 2 %+v; want none, then %s", scan1.Scan.Baseline, scan2.Scan.Baseline, id1)
	}
	defaultSG := ""
	for _, r := range scan1.Results {
		if r.CheckID == "ec2-sg-open-admin-port" && r.ResourceID != sgA && r.ResourceID != sgB {
			defaultSG = r.ResourceID
		}
	}
	o := func(check, resource, status string) outcome {
		return outcome{check, account, "us-east-1", resource, status}
	}
	sgCheck, s3Check := "ec2-sg-open-admin-port", "s3-bucket-unencrypted"
	if d := sameSet(outcomes(scan1), map[outcome]bool{
		o(sgCheck, defaultSG, "PASS"): true, o(sgCheck, sgA, "FAIL"): true, o(sgCheck, sgB, "FAIL"): true,
		o(s3Check, "data-a", "FAIL"): true, o(s3Check, evidenceBucket, "MUTED"): true,
	}); d != "" || defaultSG == "" {
		t.Errorf("run 1 results:\n%s", d)
	}
	if d := sameSet(outcomes(scan2), map[outcome]bool{
		o(sgCheck, defaultSG, "PASS"): true, o(sgCheck, sgA, "PASS"): true, o(sgCheck, sgB, "FAIL"): true, o(sgCheck, sgC, "FAIL"): true,
		o(s3Check, "data-a", "FAIL"): true, o(s3Check, evidenceBucket, "MUTED"): true,
	}); d != "" {
		t.Errorf("run 2 results:\n%s", d)
	}

	// diff.json: exactly the new and the resolved finding.
	d, err := reports.DecodeDiff(f.get("posture/runs/" + id2 + "/diff.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.New) != 1 || d.New[0].ResourceID != sgC || d.New[0].CheckID != sgCheck || d.New[0].NewStatus != model.StatusFail ||
		len(d.Resolved) != 1 || d.Resolved[0].ResourceID != sgA || d.Resolved[0].NewStatus != model.StatusPass ||
		len(d.Changed) != 0 || len(d.NotObserved) != 0 || d.UnchangedCount != 4 || d.Context.Old.ID != id1 || d.Context.New.ID != id2 {
		t.Errorf("diff.json: new %+v, resolved %+v, changed %+v, not observed %+v, unchanged %d, old %s",
			d.New, d.Resolved, d.Changed, d.NotObserved, d.UnchangedCount, d.Context.Old.ID)
	}

	// latest.json and the index.
	latest := f.descriptor("posture/latest.json")
	settings, _ := LoadSettings(envOf(f.vars))
	wantLatest := Descriptor{ScanID: id2, StartedAt: scan2.Scan.StartedAt, FinishedAt: scan2.Scan.FinishedAt, Complete: true,
		Scope: settings.Scope(), ManifestSHA256: sha(f.get("posture/runs/" + id2 + "/manifest.json")),
		Package: "s3://posture-evidence/posture/runs/" + id2 + "/", ScanKey: "posture/runs/" + id2 + "/scan.json"}
	if !latest.StartedAt.Equal(wantLatest.StartedAt) || !latest.FinishedAt.Equal(wantLatest.FinishedAt) {
		t.Errorf("latest.json times %s %s, want %s %s", latest.StartedAt, latest.FinishedAt, wantLatest.StartedAt, wantLatest.FinishedAt)
	}
	latest.StartedAt, latest.FinishedAt = wantLatest.StartedAt, wantLatest.FinishedAt
	if latest != wantLatest {
		t.Errorf("latest.json = %+v\nwant %+v", latest, wantLatest)
	}
	if idx := f.list("posture/index/"); strings.Join(idx, " ") != "posture/index/"+id1+".json posture/index/"+id2+".json" {
		t.Errorf("index: %v", idx)
	}
	if d1 := f.descriptor("posture/index/" + id1 + ".json"); d1.ManifestSHA256 != m1 || d1.Cancelled || !d1.Complete {
		t.Errorf("index entry of run 1: %+v", d1)
	}

	// The summaries returned.
	if s1.Baseline != "" || s1.Counts != (Counts{Pass: 1, Fail: 3, Muted: 1}) || s1.SeverityFailed["critical"] != 2 || s1.SeverityFailed["high"] != 1 ||
		len(s1.NewCriticalHigh) != 0 || s1.Diff != (DiffCount{}) || s1.Gaps != 0 {
		t.Errorf("summary 1: %+v", s1)
	}
	if s2.Baseline != id1 || s2.Counts != (Counts{Pass: 2, Fail: 3, Muted: 1}) || s2.Diff != (DiffCount{New: 1, Resolved: 1}) ||
		len(s2.NewCriticalHigh) != 1 || s2.NewCriticalHigh[0] != (NewFinding{sgCheck, account, "us-east-1", sgC, "critical"}) ||
		s2.Package != "s3://posture-evidence/posture/runs/"+id2+"/" || s2.NotifyError != "" {
		t.Errorf("summary 2: %+v", s2)
	}

	// The SNS summaries, as a subscriber reads them.
	msgs := messages()
	if len(msgs) != 2 {
		t.Fatalf("%d SNS messages, want 2: %q", len(msgs), msgs)
	}
	var second [2]string
	for _, m := range msgs {
		if strings.Contains(m[0], id2) {
			second = m
		}
	}
	if second[0] != "posture "+id2+": 1 new critical/high, 3 FAIL, complete" {
		t.Errorf("subject %q", second[0])
	}
	for _, line := range []string{
		"posture nightly scan " + id2 + " (complete)\n",
		"Package: s3://posture-evidence/posture/runs/" + id2 + "/\n",
		"Compared with: " + id1 + " (finished ",
		"Results: 2 PASS, 3 FAIL, 0 ERROR, 1 MUTED\n",
		"FAIL by severity: critical 2, high 1, medium 0, low 0, informational 0\n",
		"Since the baseline: 1 new, 1 resolved, 0 changed, 0 not observed, 4 unchanged\n",
		"New critical/high findings: 1\n  - CRITICAL ec2-sg-open-admin-port 123456789012 us-east-1 " + sgC + "\n",
		"Coverage gaps: 0\n",
	} {
		if !strings.Contains(second[1], line) {
			t.Errorf("the SNS message lacks %q:\n%s", line, second[1])
		}
	}
}

// awsEnvOptions are the function's AWS options in the tests: fast retries
// against the fault proxy, no client-side rate limits on the emulator.
func awsEnvOptions() awsenv.Options {
	return awsenv.Options{MaxBackoff: 20 * time.Millisecond, NoRateLimits: true}
}

// TestBaselineSelection: the baseline is the newest earlier run of the same
// scope that was not cancelled; the manifest chain follows latest.json
// whatever that run was; a corrupt latest.json starts a new chain and a
// corrupt baseline leaves the run without a diff, neither failing the run.
func TestBaselineSelection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	openGroup(t, f.cfg, "open-a", 22)
	f.vars[EnvRegions] = "us-east-1"
	f.vars[EnvChecks] = "ec2-sg-open-admin-port"
	f.vars[EnvFrameworks] = "soc2"
	next := func() { time.Sleep(1100 * time.Millisecond) } // scan IDs have a resolution of one second

	a := f.run(`{"action":"run"}`)
	next()

	// B: same scope, cancelled: EC2 hangs, and the engine stops StopMargin
	// before the invocation's deadline; the package is still written.
	p, err := faultproxy.New(f.url, faultproxy.Rule{Service: "ec2", Action: "DescribeSecurityGroups", Fault: faultproxy.Latency, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f.vars["AWS_ENDPOINT_URL"] = p.URL
	h := f.handler()
	h.StopMargin = 20 * time.Second
	cctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	out, err := h.Handle(cctx, json.RawMessage(`{}`))
	cancel()
	if err != nil {
		t.Fatalf("cancelled run: %v\n%s", err, f.logs)
	}
	b := out.(*Summary)
	f.vars["AWS_ENDPOINT_URL"] = f.url
	if !b.Cancelled || b.Complete || b.Baseline != a.ScanID {
		t.Errorf("cancelled run: %+v", b)
	}
	if d := f.descriptor("posture/index/" + b.ScanID + ".json"); !d.Cancelled || d.Complete {
		t.Errorf("index entry of the cancelled run: %+v", d)
	}
	if scan := f.scanJSON(b.ScanID); !scan.Scan.Cancelled {
		t.Error("the cancelled run's scan.json is not marked cancelled")
	}
	next()

	// C: another scope (two regions).
	f.vars[EnvRegions] = "us-east-1,eu-west-1"
	c := f.run(`{}`)
	if c.Baseline != "" {
		t.Errorf("a run of a new scope is compared with %s", c.Baseline)
	}
	next()

	// D: the first scope again: compared with A (B is cancelled, C of
	// another scope), chained to C (latest.json).
	f.vars[EnvRegions] = "us-east-1"
	d := f.run(`{}`)
	if d.Baseline != a.ScanID {
		t.Errorf("baseline %q, want %s (not the cancelled %s, not %s of another scope)", d.Baseline, a.ScanID, b.ScanID, c.ScanID)
	}
	if got, want := f.manifest(d.ScanID).PreviousManifestSHA256, sha(f.get("posture/runs/"+c.ScanID+"/manifest.json")); got != want {
		t.Errorf("run D chains to %s, want C's manifest %s", got, want)
	}
	if got, want := f.manifest(c.ScanID).PreviousManifestSHA256, sha(f.get("posture/runs/"+b.ScanID+"/manifest.json")); got != want {
		t.Errorf("run C chains to %s, want the cancelled B's manifest %s", got, want)
	}
	next()

	// E: latest.json corrupt: a new chain starts, the baseline is D.
	f.put("posture/latest.json", []byte("{not json"))
	e := f.run(`{}`)
	if m := f.manifest(e.ScanID); m.PreviousManifestSHA256 != "" || e.Baseline != d.ScanID {
		t.Errorf("after a corrupt latest.json: previous %q, baseline %q (want none, %s)", m.PreviousManifestSHA256, e.Baseline, d.ScanID)
	}
	if !strings.Contains(f.logs.String(), "latest.json corrupt: this run starts a new manifest chain") {
		t.Error("the corrupt latest.json is not logged")
	}
	if latest := f.descriptor("posture/latest.json"); latest.ScanID != e.ScanID {
		t.Errorf("latest.json names %s, want %s", latest.ScanID, e.ScanID)
	}
	next()

	// F: the baseline's scan.json corrupt: no diff, the run goes on.
	f.put("posture/runs/"+e.ScanID+"/scan.json", []byte(`{"schema_version":1}`))
	g := f.run(`{}`)
	if g.Baseline != "" || g.Diff != (DiffCount{}) {
		t.Errorf("with a corrupt baseline: %+v", g)
	}
	if keys := f.list("posture/runs/" + g.ScanID + "/diff.json"); len(keys) != 0 {
		t.Errorf("diff.json written without a readable baseline: %v", keys)
	}
	if !strings.Contains(f.logs.String(), "the baseline's scan.json cannot be read; the run goes on without a diff") {
		t.Error("the corrupt baseline is not logged")
	}
	if m := f.manifest(g.ScanID); m.PreviousManifestSHA256 != sha(f.get("posture/runs/"+e.ScanID+"/manifest.json")) {
		t.Errorf("run F is not chained to E")
	}
}

// TestRegionSettingChecked: a region that does not exist fails the
// invocation naming POSTURE_REGIONS, before anything is written.
func TestRegionSettingChecked(t *testing.T) {
	f := newFixture(t)
	f.vars[EnvRegions] = "us-east-1,us-mars-1"
	for _, event := range []string{`{}`, `{"action":"plan"}`} {
		_, err := f.invoke(context.Background(), event)
		if err == nil || !strings.Contains(err.Error(), `POSTURE_REGIONS: "us-mars-1" is not a region (ec2:DescribeRegions does not list it)`) {
			t.Errorf("%s: error %v", event, err)
		}
	}
	if keys := f.list(""); len(keys) != 0 {
		t.Errorf("objects written: %v", keys)
	}
}

// org creates an organization with n member accounts, each with one open
// security group in us-east-1, and returns the member IDs (sorted) and
// every account's name.
func org(t *testing.T, f *fixture, n int) ([]string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	oc := organizations.NewFromConfig(f.cfg)
	if _, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := oc.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	var members []string
	for _, a := range listed.Accounts {
		names[aws.ToString(a.Id)] = aws.ToString(a.Name)
		if aws.ToString(a.Id) != account {
			members = append(members, aws.ToString(a.Id))
		}
	}
	sort.Strings(members)
	if len(members) != n {
		t.Fatalf("members %v", members)
	}
	for i, id := range members {
		out, err := sts.NewFromConfig(f.cfg).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String(awsenv.RoleARN("aws", id, awsenv.DefaultRoleName)), RoleSessionName: aws.String("seed")})
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.cfg.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
			aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
		openGroup(t, cfg, fmt.Sprintf("open-%d", i), 22)
	}
	return members, names
}

// result is what the fan-out test compares of a result.
type result struct{ fingerprint, check, account, region, resource, status, severity, message string }

func results(scan *model.Scan) map[result]bool {
	out := map[result]bool{}
	for _, r := range scan.Results {
		out[result{r.Fingerprint, r.CheckID, r.AccountID, r.Region, r.ResourceID, string(r.Status), string(r.Severity), r.Message}] = true
	}
	return out
}

// fanOut runs plan, scan-account for every planned account, and assemble
// (after between, given the plan), in process, as the state machine does.
func fanOut(t *testing.T, f *fixture, between func(plan *PlanOutput), assembleEvent func(id string) string) (*PlanOutput, []PlanItem, map[string]*AccountOutput, *Summary) {
	t.Helper()
	ctx := context.Background()
	out, err := f.invoke(ctx, `{"action":"plan"}`)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, f.logs)
	}
	plan := out.(*PlanOutput)
	if plan.Bucket != workBucket || plan.Prefix != "posture/" || plan.PlanKey != "posture/work/"+plan.ScanID+"/plan.json" {
		t.Errorf("plan output %+v", plan)
	}
	var items []PlanItem
	if err := json.Unmarshal(f.getIn(plan.Bucket, plan.PlanKey), &items); err != nil {
		t.Fatal(err)
	}
	parts := map[string]*AccountOutput{}
	for _, it := range items {
		ev, _ := json.Marshal(map[string]string{"action": "scan-account", "scan_id": plan.ScanID, "account_id": it.AccountID, "account_name": it.AccountName})
		begin := time.Now()
		out, err := f.invoke(ctx, string(ev))
		if err != nil {
			t.Fatalf("scan-account %s: %v\n%s", it.AccountID, err, f.logs)
		}
		t.Logf("scan-account %s: %s", it.AccountID, time.Since(begin).Round(time.Millisecond))
		parts[it.AccountID] = out.(*AccountOutput)
	}
	if between != nil {
		between(plan)
	}
	out, err = f.invoke(ctx, assembleEvent(plan.ScanID))
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, f.logs)
	}
	return plan, items, parts, out.(*Summary)
}

// TestFanOut: plan, scan-account per account and assemble, in process,
// over an organization of five accounts, one of which denies AssumeRole,
// give the results of the CLI's --org scan of the same accounts, the denied
// account a gap in both. A second run whose partials are missing or corrupt
// for two accounts records them as PartialMissing gaps with ERROR results,
// and its diff sees their findings as not observed, never resolved.
func TestFanOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	members, names := org(t, f, 4)
	denied := members[1]
	p, err := faultproxy.New(f.url, faultproxy.Rule{Service: "sts", Action: "AssumeRole", BodyContains: denied, Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	checks := "ec2-sg-open-admin-port,s3-bucket-unencrypted"
	if _, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(workBucket)}); err != nil {
		t.Fatal(err)
	}
	f.vars[EnvWorkBucket] = workBucket
	f.vars["AWS_ENDPOINT_URL"] = p.URL
	f.vars[EnvOrg] = "true"
	f.vars[EnvRoleName] = awsenv.DefaultRoleName
	f.vars[EnvRegions] = "us-east-1"
	f.vars[EnvChecks] = checks
	f.vars[EnvFrameworks] = "soc2"

	plan, items, parts, sum := fanOut(t, f, nil, func(id string) string { return `{"action":"assemble","scan_id":"` + id + `"}` })
	all := append([]string{account}, members...)
	sort.Strings(all)
	var planned []string
	for _, it := range items {
		planned = append(planned, it.AccountID)
		if it.AccountName != names[it.AccountID] {
			t.Errorf("plan.json: %s named %q, want %q", it.AccountID, it.AccountName, names[it.AccountID])
		}
	}
	sort.Strings(planned)
	if strings.Join(planned, ",") != strings.Join(all, ",") || plan.Accounts != len(all) {
		t.Fatalf("plan.json accounts %v (%d), want %v", planned, plan.Accounts, all)
	}
	for id, part := range parts {
		wantGaps, wantScopes := 0, 2
		if id == denied {
			wantGaps, wantScopes = 1, 0
		}
		if part.AccountID != id || part.PartialKey != "posture/work/"+plan.ScanID+"/accounts/"+id+".json" || part.Gaps != wantGaps || part.Scopes != wantScopes {
			t.Errorf("scan-account %s: %+v, want %d gaps and %d scopes", id, part, wantGaps, wantScopes)
		}
	}
	if keys := f.list("posture/work/"); len(keys) != 0 {
		t.Errorf("work files in the evidence bucket: %v", keys)
	}
	if keys := f.listIn(workBucket, "posture/work/"+plan.ScanID+"/"); len(keys) != 2+len(all) {
		t.Errorf("work files %v, want plan.json, run.json and %d partials", keys, len(all))
	}
	var run RunFile
	if err := json.Unmarshal(f.getIn(workBucket, "posture/work/"+plan.ScanID+"/run.json"), &run); err != nil || run.ScanID != plan.ScanID || !run.Org ||
		strings.Join(run.Checks, ",") != checks || run.RoleName != awsenv.DefaultRoleName || strings.Join(run.Regions, ",") != "us-east-1" || run.Planned != 5 {
		t.Errorf("run.json %+v (%v)", run, err)
	}
	scan := f.scanJSON(plan.ScanID)
	if sum.ScanID != plan.ScanID || scan.Scan.ID != plan.ScanID || !scan.Scan.StartedAt.Equal(plan.StartedAt) || !sum.Complete || sum.Gaps != 1 {
		t.Errorf("assembled scan %s started %s, summary %+v; want %s started %s", scan.Scan.ID, scan.Scan.StartedAt, sum, plan.ScanID, plan.StartedAt)
	}
	if scan.Scan.Invocation != "lambda posture-nightly (fan-out: action plan, scan-account for 5 accounts, assemble)" {
		t.Errorf("invocation %q", scan.Scan.Invocation)
	}
	for id, name := range names {
		if scan.Scan.AccountNames[id] != name {
			t.Errorf("account %s named %q, want %q", id, scan.Scan.AccountNames[id], name)
		}
	}
	if v, err := reports.VerifyPackage(f.download("posture/runs/"+plan.ScanID+"/"), reports.VerifyOptions{}); err != nil || !v.Intact() {
		t.Errorf("the assembled package: %v %v", err, v.Problems)
	}

	// The CLI's --org scan of the same accounts, in process.
	cfg, err := awsenv.Load(ctx, awsenv.Options{EndpointURL: p.URL, MaxBackoff: 20 * time.Millisecond, NoRateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := scanrun.Targets(ctx, cfg, caller, scanrun.Targeting{Regions: []string{"us-east-1"}, Org: true,
		Role: awsenv.Role{Name: awsenv.DefaultRoleName, SessionName: "posture-test"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cli := engine.Run(ctx, targets, engine.Options{Scanners: scanners.All(), Checks: strings.Split(checks, ",")})
	if d := sameSet(results(scan), results(cli)); d != "" || len(scan.Results) != len(cli.Results) {
		t.Errorf("the fan-out's results differ from the --org scan's (%d, %d):\n%s", len(scan.Results), len(cli.Results), d)
	}
	for name, s := range map[string]*model.Scan{"fan-out": scan, "--org": cli} {
		gaps := s.Gaps()
		if len(gaps) != 1 || gaps[0].AccountID != denied || gaps[0].Service != model.ServiceAccount || gaps[0].Region != model.GlobalRegion ||
			gaps[0].Failures[0].Code != "AccessDenied" || gaps[0].Failures[0].Operation != "AssumeRole" {
			t.Errorf("%s gaps: %+v", name, gaps)
		}
		want := map[outcome]bool{}
		for _, c := range strings.Split(checks, ",") {
			want[outcome{c, denied, model.GlobalRegion, "", "ERROR"}] = true
		}
		got := map[outcome]bool{}
		for o := range outcomes(s) {
			if o.account == denied {
				got[o] = true
			}
		}
		if d := sameSet(got, want); d != "" {
			t.Errorf("%s: the denied account's results:\n%s", name, d)
		}
	}
	fails := 0
	for _, r := range scan.Results {
		if r.CheckID == "ec2-sg-open-admin-port" && r.Status == model.StatusFail {
			fails++
		}
	}
	if fails != 3 {
		t.Errorf("%d open groups found, want those of the 3 reachable members", fails)
	}

	// A second run: one partial deleted, one corrupt, the Map failed.
	missing, corrupt := members[0], members[2]
	time.Sleep(1100 * time.Millisecond)
	plan2, _, _, sum2 := fanOut(t, f, func(plan *PlanOutput) {
		if _, err := f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(workBucket),
			Key: aws.String("posture/work/" + plan.ScanID + "/accounts/" + missing + ".json")}); err != nil {
			t.Fatal(err)
		}
		f.putIn(workBucket, "posture/work/"+plan.ScanID+"/accounts/"+corrupt+".json", []byte(`{"schema_version":1,"scopes":[`))
	}, func(id string) string {
		return `{"action":"assemble","scan_id":"` + id + `","map_error":{"Error":"States.ExceedToleratedFailureThreshold","Cause":"The specified tolerated failure threshold was exceeded"}}`
	})
	scan2 := f.scanJSON(plan2.ScanID)
	if sum2.Complete || sum2.Gaps != 3 || sum2.Baseline != plan.ScanID || sum2.Diff.Resolved != 0 {
		t.Errorf("second run: %+v", sum2)
	}
	if d := f.descriptor("posture/index/" + plan2.ScanID + ".json"); d.Complete || d.Cancelled {
		t.Errorf("index entry of the incomplete run: %+v", d)
	}
	for _, id := range []string{missing, corrupt} {
		var gap *model.Coverage
		for i, c := range scan2.Coverage {
			if c.AccountID == id {
				gap = &scan2.Coverage[i]
			}
		}
		if gap == nil || gap.Service != model.ServiceAccount || gap.Region != model.GlobalRegion || gap.Status != model.CoverageError ||
			gap.Failures[0].Code != PartialMissingCode || gap.Failures[0].Operation != "ScanAccount" ||
			!strings.Contains(gap.Failures[0].Error, "the fan-out invocation for account "+id+" did not write its result") ||
			!strings.Contains(gap.Failures[0].Error, "States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded") {
			t.Errorf("coverage of %s: %+v", id, gap)
		}
		got := map[outcome]bool{}
		for o := range outcomes(scan2) {
			if o.account == id {
				got[o] = true
			}
		}
		want := map[outcome]bool{}
		for _, c := range strings.Split(checks, ",") {
			want[outcome{c, id, model.GlobalRegion, "", "ERROR"}] = true
		}
		if d := sameSet(got, want); d != "" {
			t.Errorf("results of %s, whose partial is missing:\n%s", id, d)
		}
	}
	if !strings.Contains(f.logs.String(), "partial unreadable: the account is recorded as missing") {
		t.Error("the corrupt partial is not logged")
	}
	// Every other account's results are the first run's.
	strip := func(s *model.Scan) map[result]bool {
		out := map[result]bool{}
		for r := range results(s) {
			if r.account != missing && r.account != corrupt {
				out[r] = true
			}
		}
		return out
	}
	if d := sameSet(strip(scan2), strip(scan)); d != "" {
		t.Errorf("the other accounts' results changed:\n%s", d)
	}
	// The diff: the missing accounts' findings are not observed, not
	// resolved.
	diff, err := reports.DecodeDiff(f.get("posture/runs/" + plan2.ScanID + "/diff.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantNotObserved := map[string]bool{}
	for _, r := range scan.Results {
		if r.AccountID == missing || r.AccountID == corrupt {
			wantNotObserved[r.Fingerprint] = true
		}
	}
	gotNotObserved := map[string]bool{}
	for _, e := range diff.NotObserved {
		gotNotObserved[e.Fingerprint] = true
	}
	if d := sameSet(gotNotObserved, wantNotObserved); d != "" || len(diff.Resolved) != 0 || len(wantNotObserved) == 0 {
		t.Errorf("diff: resolved %+v; not observed:\n%s", diff.Resolved, d)
	}
}

// TestDemoSingleRun: the single run over the demo account (both regions,
// every check and framework) reports every row of the demo story, and logs
// its duration and the process's peak heap (sampled every 20 ms) for
// BENCHMARKS.md:
//
//	go test -count=1 -v -run TestDemoSingleRun ./internal/nightly/
func TestDemoSingleRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo account takes a while to seed")
	}
	f := newFixture(t)
	inv, err := demo.Seed(context.Background(), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.vars[EnvRegions] = strings.Join(demo.Regions(), ",")
	f.vars[EnvLogLevel] = "info"

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak, peakSys uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak, peakSys = max(peak, m.HeapAlloc), max(peakSys, m.Sys)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	begin := time.Now()
	sum := f.run(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	took := time.Since(begin)
	close(stop)
	<-done
	t.Logf("demo single run: %s, peak heap %.1f MiB (%.1f MiB before the run), memory from the OS %.1f MiB, %d results, %d FAIL, %d gaps",
		took.Round(10*time.Millisecond), float64(peak)/(1<<20), float64(base.HeapAlloc)/(1<<20), float64(peakSys)/(1<<20),
		sum.Counts.Pass+sum.Counts.Fail+sum.Counts.Error+sum.Counts.Muted, sum.Counts.Fail, sum.Gaps)

	scan := f.scanJSON(sum.ScanID)
	type key struct{ check, region, resource string }
	got := map[key]model.Status{}
	for _, r := range scan.Results {
		got[key{r.CheckID, r.Region, r.ResourceID}] = r.Status
	}
	for _, e := range demo.Expectations() {
		id := inv.ID(e.Role)
		if st, ok := got[key{e.Check, e.Region, id}]; !ok || string(st) != e.Want {
			t.Errorf("%s %s %s (%s): got %q, want %s (%s)", e.Check, e.Region, e.Role, id, st, e.Want, e.Why)
		}
	}
	if sum.Gaps != 0 || len(scan.Scan.Checks) != len(scanners.Catalogue(scanners.All())) {
		t.Errorf("gaps %d, %d checks", sum.Gaps, len(scan.Scan.Checks))
	}
	if v, err := reports.VerifyPackage(f.download("posture/runs/"+sum.ScanID+"/"), reports.VerifyOptions{}); err != nil || !v.Intact() {
		t.Errorf("package: %v %v", err, v.Problems)
	}
}

// TestScanAccountTimeOut: one account's scan-account invocation reaches its
// deadline (EC2 hangs for that account only): its unfinished scope is a
// TimedOut gap with ERROR results, the partial is still written, and the
// assembled run is not cancelled (it stays a baseline) but not complete;
// the next run is compared with it.
func TestScanAccountTimeOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	members, _ := org(t, f, 2)
	slow := members[0]
	p, err := faultproxy.New(f.url, faultproxy.Rule{Service: "ec2", Action: "DescribeSecurityGroups", AccountID: slow,
		Fault: faultproxy.Latency, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f.vars["AWS_ENDPOINT_URL"] = p.URL
	f.vars[EnvOrg] = "true"
	f.vars[EnvRoleName] = awsenv.DefaultRoleName
	f.vars[EnvRegions] = "us-east-1"
	f.vars[EnvChecks] = "ec2-sg-open-admin-port,s3-bucket-unencrypted"
	f.vars[EnvFrameworks] = "soc2"

	out, err := f.invoke(ctx, `{"action":"plan"}`)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, f.logs)
	}
	plan := out.(*PlanOutput)
	var items []PlanItem
	if err := json.Unmarshal(f.getIn(plan.Bucket, plan.PlanKey), &items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		ev, _ := json.Marshal(map[string]string{"action": "scan-account", "scan_id": plan.ScanID, "account_id": it.AccountID, "account_name": it.AccountName})
		h := f.handler()
		ictx, cancel := context.WithCancel(ctx)
		if it.AccountID == slow {
			// The invocation's deadline: the engine stops StopMargin before it.
			h.StopMargin = 2 * time.Second
			ictx, cancel = context.WithTimeout(ctx, 5*time.Second)
		}
		out, err := h.Handle(ictx, ev)
		cancel()
		if err != nil {
			t.Fatalf("scan-account %s: %v\n%s", it.AccountID, err, f.logs)
		}
		if part := out.(*AccountOutput); (it.AccountID == slow) != (part.Gaps == 1) {
			t.Errorf("scan-account %s: %+v", it.AccountID, part)
		}
	}
	out, err = f.invoke(ctx, `{"action":"assemble","scan_id":"`+plan.ScanID+`"}`)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, f.logs)
	}
	sum := out.(*Summary)
	if sum.Cancelled || sum.Complete || sum.Gaps != 1 {
		t.Errorf("summary: cancelled %v, complete %v, %d gaps; want not cancelled, not complete, 1 gap", sum.Cancelled, sum.Complete, sum.Gaps)
	}
	scan := f.scanJSON(plan.ScanID)
	if scan.Scan.Cancelled {
		t.Error("scan.json is marked cancelled: one account's time-out is a gap of that account")
	}
	var gaps []string
	for _, c := range scan.Gaps() {
		gaps = append(gaps, fmt.Sprintf("%s %s %s %s", c.AccountID, c.Region, c.Service, c.Failures[0].Code))
	}
	if want := []string{slow + " us-east-1 ec2 " + model.CodeTimedOut}; fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %q, want %q", gaps, want)
	}
	for _, r := range scan.Results {
		if r.AccountID == slow && r.CheckID == "ec2-sg-open-admin-port" && (r.Status != model.StatusError || r.Evidence["error_code"] != model.CodeTimedOut) {
			t.Errorf("the slow account's EC2 result: %+v", r)
		}
		if r.AccountID == slow && r.CheckID == "s3-bucket-unencrypted" && r.Status == model.StatusError {
			t.Errorf("the slow account's S3 scope finished in time, yet: %+v", r)
		}
	}
	if d := f.descriptor("posture/index/" + plan.ScanID + ".json"); d.Cancelled || d.Complete {
		t.Errorf("index entry: %+v, want not cancelled and not complete", d)
	}

	// The next night, in time everywhere: compared with the timed-out run.
	time.Sleep(1100 * time.Millisecond) // scan IDs have a resolution of one second
	f.vars["AWS_ENDPOINT_URL"] = f.url
	next := f.run(`{"action":"run"}`)
	if next.Baseline != plan.ScanID {
		t.Errorf("the next run's baseline is %q, want the timed-out (not cancelled) run %s", next.Baseline, plan.ScanID)
	}
}

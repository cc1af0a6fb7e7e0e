package engine_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/readonly"
	"github.com/posture-dev/posture/internal/scantest"
	"github.com/posture-dev/posture/scanners"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

var regions = []string{"eu-west-1", "us-east-1"}

// seed creates a little of everything in two regions: an open security
// group, a public and a private DB instance, and three buckets.
func seed(t *testing.T, url string) {
	ctx := context.Background()
	for _, region := range regions {
		cfg := emutest.Config(t, url, region)
		sg, err := ec2.NewFromConfig(cfg).CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh-open"), Description: aws.String("ssh")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ec2.NewFromConfig(cfg).AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
			t.Fatal(err)
		}
		for id, public := range map[string]bool{"db-public": true, "db-private": false} {
			if _, err := rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
				DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20),
				MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("not-a-real-password-1"), PubliclyAccessible: aws.Bool(public)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s3c := awsenv.S3(emutest.Config(t, url, "us-east-1"), "us-east-1")
	for _, b := range []string{"fault-open", "fault-denied", "fault-private"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s3c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("fault-open"), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
}

func proxy(t *testing.T, target string, rules ...faultproxy.Rule) *faultproxy.Proxy {
	p, err := faultproxy.New(target, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// byKey indexes results by check, region and resource.
func byKey(scan *model.Scan) map[scantest.Key]model.Result {
	out := map[scantest.Key]model.Result{}
	for _, r := range scan.Results {
		out[scantest.Key{Check: r.CheckID, Region: r.Region, Resource: r.ResourceID}] = r
	}
	return out
}

// TestDeniedServiceIsAGapOnlyThere: with every RDS call denied, the RDS
// scopes are coverage gaps with one ERROR result per RDS check and region,
// and every other result is exactly what the fault-free scan says.
func TestDeniedServiceIsAGapOnlyThere(t *testing.T) {
	srv := emutest.Fresh(t)
	seed(t, srv.URL)
	baseline := scantest.Scan(t, srv.URL, regions)
	if gaps := baseline.Gaps(); len(gaps) > 0 {
		t.Fatalf("baseline has gaps: %+v", gaps)
	}
	p := proxy(t, srv.URL, faultproxy.Rule{Service: "rds", Fault: faultproxy.AccessDenied})
	denied := scantest.Scan(t, p.URL, regions)

	gaps := denied.Gaps()
	if len(gaps) != 2 {
		t.Fatalf("want 2 gaps (rds in each region), got %+v", gaps)
	}
	for _, g := range gaps {
		if g.Service != "rds" || g.Failures[0].Code != "AccessDenied" || !strings.Contains(g.Error, "DescribeDBInstances") {
			t.Errorf("gap: %+v", g)
		}
	}
	want := 0
	for _, r := range denied.Results {
		if r.Service != "rds" {
			continue
		}
		want++
		if r.Status != model.StatusError || r.ResourceID != "" || !strings.Contains(r.Message, "AccessDenied") {
			t.Errorf("rds result under denial: %+v", r)
		}
	}
	rdsChecks := 0
	for _, m := range scanners.Catalogue(scanners.All()) {
		if m.Service == "rds" {
			rdsChecks++
		}
	}
	if want != rdsChecks*len(regions) { // one scope ERROR per RDS check and region
		t.Errorf("want %d rds ERROR results (%d checks, %d regions), got %d", rdsChecks*len(regions), rdsChecks, len(regions), want)
	}
	base, got := byKey(baseline), byKey(denied)
	compared := 0
	for k, b := range base {
		if b.Service == "rds" {
			continue
		}
		g, ok := got[k]
		if !ok || g.Status != b.Status || g.Message != b.Message || g.Fingerprint != b.Fingerprint {
			t.Errorf("%s: under rds denial %+v, baseline %+v", k, g, b)
		}
		compared++
	}
	if nonRDS := len(denied.Results) - want; nonRDS != compared {
		t.Errorf("non-rds results: %d under denial, %d in baseline", nonRDS, compared)
	}
	if p.Injected()[faultproxy.AccessDenied] == 0 {
		t.Error("the proxy injected nothing")
	}
}

// TestDeniedPerResourceCall: GetBucketPolicy denied for one bucket turns
// that bucket's result into ERROR; the other buckets are still judged.
func TestDeniedPerResourceCall(t *testing.T) {
	srv := emutest.Fresh(t)
	seed(t, srv.URL)
	p := proxy(t, srv.URL, faultproxy.Rule{Service: "s3", PathContains: "/fault-denied", QueryHas: "policy", Fault: faultproxy.AccessDenied})
	scan := scantest.Scan(t, p.URL, regions, "s3-bucket-public", "s3-account-public-access-block-off")
	denied := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "fault-denied")
	if denied.Status != model.StatusError || !strings.Contains(denied.Message, "policy: AccessDenied") {
		t.Errorf("denied bucket: %s %q", denied.Status, denied.Message)
	}
	if r := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "fault-open"); r.Status != model.StatusFail {
		t.Errorf("open bucket: %s %q", r.Status, r.Message)
	}
	if r := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "fault-private"); r.Status != model.StatusPass {
		t.Errorf("private bucket: %s %q", r.Status, r.Message)
	}
	if r := scantest.Find(t, scan, "s3-account-public-access-block-off", "global", "123456789012"); r.Status != model.StatusFail {
		t.Errorf("account block: %s %q", r.Status, r.Message)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || gaps[0].Region != "global" || gaps[0].Service != "s3" || len(gaps[0].Failures) != 1 ||
		gaps[0].Failures[0].Resource != "fault-denied" || gaps[0].Failures[0].Operation != "GetBucketPolicy" {
		t.Errorf("gaps: %+v", gaps)
	}
}

// recorder is a reverse proxy that records the operation of every request
// that reaches the emulator.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (rec *recorder) handler(target *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := r.Method + " " + r.URL.Path // S3 REST: the method says whether it writes
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			op = target[strings.LastIndex(target, ".")+1:]
		} else if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			op = v.Get("Action")
		}
		// The service of the SigV4 credential scope, and the REST calls
		// checked as the transport checks them (method, path, query).
		service := ""
		if _, rest, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
			cred, _, _ := strings.Cut(rest, ",")
			if parts := strings.Split(cred, "/"); len(parts) == 5 {
				service = parts[3]
			}
		}
		if strings.HasPrefix(op, r.Method+" ") && readonly.CheckRequest(r) != nil {
			op = "refused " + op
		}
		op = service + " " + op
		rec.mu.Lock()
		rec.ops = append(rec.ops, op)
		rec.mu.Unlock()
		rp.ServeHTTP(w, r)
	})
}

// TestScanIsReadOnlyOnTheWire records every request a full scan sends and
// checks that each is a read.
func TestScanIsReadOnlyOnTheWire(t *testing.T) {
	srv := emutest.Fresh(t)
	seed(t, srv.URL)
	target, _ := url.Parse(srv.URL)
	rec := &recorder{}
	front := httptest.NewServer(rec.handler(target))
	defer front.Close()
	scan := scantest.Scan(t, front.URL, regions)
	if len(scan.Results) == 0 || len(rec.ops) == 0 {
		t.Fatalf("scan produced %d results over %d requests", len(scan.Results), len(rec.ops))
	}
	generated := 0
	for _, rop := range rec.ops {
		service, op, _ := strings.Cut(rop, " ")
		if strings.HasPrefix(op, "GET ") {
			continue // a REST read the transport check identified as on the list
		}
		// GenerateCredentialReport is the one documented exception
		// (DESIGN.md section 2): AWS builds the report on request, and it
		// changes nothing a user owns.
		if service == "iam" && op == "GenerateCredentialReport" {
			generated++
			continue
		}
		if !readonly.AllowedOnWire(service, op) || !(strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get")) {
			t.Errorf("the scan sent an operation that is not a read on the allow-list: %s", rop)
		}
	}
	if generated == 0 {
		t.Error("the scan never asked for the credential report")
	}
	t.Logf("%d requests, all reads but %d GenerateCredentialReport", len(rec.ops), generated)
}

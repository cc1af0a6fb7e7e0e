package awsenv_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/scanners"
)

// sdkServiceIDs are the SDK service IDs of every client the product builds:
// the scanners' services, plus STS (identity, AssumeRole), S3 Control (the
// account's public access block) and Organizations (--org).
var sdkServiceIDs = []string{
	acm.ServiceID, cloudtrail.ServiceID, dynamodb.ServiceID, ec2.ServiceID, efs.ServiceID,
	elasticache.ServiceID, iam.ServiceID, kinesis.ServiceID, kms.ServiceID, lambda.ServiceID,
	organizations.ServiceID, rds.ServiceID, redshift.ServiceID, s3.ServiceID, s3control.ServiceID,
	secretsmanager.ServiceID, sns.ServiceID, sqs.ServiceID, sts.ServiceID,
}

func TestRateLimitsCoverEveryService(t *testing.T) {
	for _, sc := range scanners.All() {
		if _, ok := awsenv.LimitFor(sc.Service(), "AnyOperation"); !ok {
			t.Errorf("scanner service %q has no rate-limit row", sc.Service())
		}
	}
	for _, id := range sdkServiceIDs {
		if _, ok := awsenv.LimitFor(awsenv.ServiceKey(id), "AnyOperation"); !ok {
			t.Errorf("SDK service %q (key %q) has no rate-limit row", id, awsenv.ServiceKey(id))
		}
	}
}

func TestRateLimitRowsCiteTheirQuota(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range awsenv.RateLimits() {
		name := r.Service + " " + strings.Join(r.Operations, ",")
		if r.Quota == "" || !strings.HasPrefix(r.Source, "https://docs.aws.amazon.com/") {
			t.Errorf("%s: want a quota and an AWS documentation URL, got %q %q", name, r.Quota, r.Source)
		}
		if r.Rate <= 0 || r.Burst < 1 {
			t.Errorf("%s: rate %v burst %d", name, r.Rate, r.Burst)
		}
		keys := r.Operations
		if len(keys) == 0 {
			keys = []string{"*"}
		}
		for _, op := range keys {
			if seen[r.Service+" "+op] {
				t.Errorf("%s %s: two rows", r.Service, op)
			}
			seen[r.Service+" "+op] = true
		}
	}
	if l, _ := awsenv.LimitFor("kms", "DescribeKey"); len(l.Operations) == 0 {
		t.Errorf("kms DescribeKey falls back to the service row: %+v", l)
	}
	if l, _ := awsenv.LimitFor("kms", "ListResourceTags"); len(l.Operations) != 0 {
		t.Errorf("kms ListResourceTags: want the service row, got %+v", l)
	}
}

func TestLimiterWaitsPerKeyAndHonoursCancellation(t *testing.T) {
	l := awsenv.NewLimiterFor([]awsenv.RateLimit{{Service: "sts", Rate: 5, Burst: 1}})
	ctx := context.Background()
	begin := time.Now()
	for range 3 { // one from the full bucket, two at 5 per second
		if err := l.Wait(ctx, "AKIA1", "us-east-1", "sts", "GetCallerIdentity"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(begin); d < 350*time.Millisecond {
		t.Errorf("3 calls at 5/s with burst 1 took %v, want >= 400ms", d)
	}
	// Another access key, another region, an unlisted service: own buckets, no wait.
	begin = time.Now()
	for _, k := range [][3]string{{"AKIA2", "us-east-1", "sts"}, {"AKIA1", "eu-west-1", "sts"}, {"AKIA1", "us-east-1", "ec2"}} {
		if err := l.Wait(ctx, k[0], k[1], k[2], "Op"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(begin); d > 100*time.Millisecond {
		t.Errorf("independent buckets waited %v", d)
	}

	slow := awsenv.NewLimiterFor([]awsenv.RateLimit{{Service: "sts", Rate: 0.01, Burst: 1}})
	_ = slow.Wait(ctx, "AKIA1", "us-east-1", "sts", "GetCallerIdentity") // empties the bucket
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	begin = time.Now()
	err := slow.Wait(cctx, "AKIA1", "us-east-1", "sts", "GetCallerIdentity")
	if err == nil || time.Since(begin) > 2*time.Second {
		t.Errorf("cancelled wait: err %v after %v", err, time.Since(begin))
	}
}

// fakeSTS answers every request with a GetCallerIdentity response and counts them.
type fakeSTS struct{ calls atomic.Int32 }

func (f *fakeSTS) Do(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	body := `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn>` +
		`<UserId>X</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestRateLimitMiddlewareWaitsWithTheRequestContext(t *testing.T) {
	l := awsenv.NewLimiterFor([]awsenv.RateLimit{{Service: "sts", Rate: 0.5, Burst: 1}})
	fake := &fakeSTS{}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDRATELIMIT", "secret", ""),
		HTTPClient:  fake,
		APIOptions:  []func(*middleware.Stack) error{l.Install},
	}
	client := sts.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := client.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second call within 2 s: err %v, want the context's deadline", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("the cancelled wait took %v", d)
	}
	if n := fake.calls.Load(); n != 1 {
		t.Errorf("%d requests sent, want 1 (the second waited and was cancelled)", n)
	}
}

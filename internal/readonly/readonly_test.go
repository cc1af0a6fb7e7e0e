package readonly_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/readonly"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		service, op string
		want        bool
	}{
		// On the list.
		{"EC2", "DescribeInstances", true},
		{"EC2", "DescribeSnapshotAttribute", true},
		{"EC2", "GetManagedPrefixListEntries", true},
		{"EC2", "DescribeRegions", true},
		{"RDS", "DescribeDBSnapshotAttributes", true},
		{"S3", "ListBuckets", true},
		{"S3", "GetBucketAcl", true},
		{"S3", "GetPublicAccessBlock", true},
		{"S3 Control", "GetPublicAccessBlock", true},
		{"IAM", "GenerateCredentialReport", true},
		{"IAM", "GetCredentialReport", true},
		{"STS", "GetCallerIdentity", true},
		{"STS", "AssumeRole", true},
		{"Organizations", "ListAccounts", true},
		{"Lambda", "ListFunctions", true},
		{"Secrets Manager", "ListSecrets", true},
		{"KMS", "DescribeKey", true},
		// Reads that return secrets, or create something: not on it.
		{"Lambda", "GetFunction", false},
		{"Lambda", "GetFunctionConfiguration", false},
		{"EC2", "DescribeInstanceAttribute", false},
		{"EC2", "GetConsoleOutput", false},
		{"EC2", "GetPasswordData", false},
		{"EC2", "GetLaunchTemplateData", false},
		{"Cognito Identity", "GetId", false},
		{"Secrets Manager", "GetSecretValue", false},
		{"Secrets Manager", "BatchGetSecretValue", false},
		{"SSM", "GetParameter", false},
		{"S3", "GetObject", false},
		{"S3", "ListObjectsV2", false},
		{"STS", "GetSessionToken", false},
		// Reads not needed by any scanner.
		{"EC2", "DescribeImages", false},
		{"IAM", "GetUser", false},
		// The signing client's calls need AllowOnClient.
		{"KMS", "Sign", false},
		{"KMS", "GetPublicKey", false},
		// The nightly run's delivery calls need AllowOnClient too.
		{"S3", "PutObject", false},
		{"S3", "GetObject", false},
		{"S3", "ListObjectsV2", false},
		{"SNS", "Publish", false},
		// Mutations.
		{"EC2", "CreateVpc", false},
		{"S3", "PutBucketPolicy", false},
		{"IAM", "CreateUser", false},
		{"KMS", "ScheduleKeyDeletion", false},
		// The pair, not the name alone: an operation of another service.
		{"EC2", "ListFunctions", false},
		{"S3 Control", "GetBucketAcl", false},
		{"", "DescribeVpcs", false},
		{"ec2", "DescribeVpcs", false},
		{"EC2", "describeVpcs", false},
		{"EC2", "", false},
	}
	for _, tt := range tests {
		if got := readonly.Allowed(tt.service, tt.op); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.service, tt.op, got, tt.want)
		}
	}
}

// TestEveryCallIsWellFormed: each call names a service ID, an operation and
// an IAM action, and no call is listed twice.
func TestEveryCallIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	all := append(readonly.Signing(), readonly.Delivery()...)
	for _, g := range readonly.Scanning() {
		if g.Title == "" || len(g.Calls) == 0 {
			t.Errorf("group %+v", g)
		}
		all = append(all, g.Calls...)
	}
	for _, c := range all {
		if c.Service == "" || c.Operation == "" || c.Prefix() == "" || c.Name() == "" || strings.ContainsAny(c.Action, " ,()`") {
			t.Errorf("call %+v", c)
		}
		if key := c.Service + " " + c.Operation; seen[key] {
			t.Errorf("%s listed twice", key)
		} else {
			seen[key] = true
		}
	}
	for _, c := range append(readonly.Signing(), readonly.Delivery()...) {
		if readonly.Allowed(c.Service, c.Operation) {
			t.Errorf("signing or delivery call %s %s is also on the scanning list", c.Service, c.Operation)
		}
	}
}

func TestRefusedErrorMessage(t *testing.T) {
	err := &readonly.RefusedError{Service: "EC2", Operation: "CreateVpc"}
	if got := err.Error(); !strings.Contains(got, "read-only") || !strings.Contains(got, "EC2 CreateVpc") {
		t.Errorf("Error() = %q", got)
	}
}

// recorder is an HTTP server standing in for AWS: it counts every request
// and answers the EC2 query protocol with an empty DescribeVpcs result.
type recorder struct {
	count   atomic.Int32
	mu      sync.Mutex
	actions []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.count.Add(1)
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.actions = append(rec.actions, r.Method+" "+r.URL.Path+" "+string(body))
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
  <vpcSet/>
</DescribeVpcsResponse>`)
}

func guardedConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   http.DefaultClient,
		APIOptions:   []func(*middleware.Stack) error{readonly.Install},
	}
}

// TestMiddlewareRefusesBeforeSending proves the guard stops a mutating call
// inside the process: the server never sees it, while a read goes through.
func TestMiddlewareRefusesBeforeSending(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	client := ec2.NewFromConfig(guardedConfig(srv.URL))
	ctx := context.Background()

	_, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	var refused *readonly.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("CreateVpc error = %v (%T), want a *readonly.RefusedError", err, err)
	}
	if refused.Operation != "CreateVpc" || refused.Service != "EC2" {
		t.Errorf("refused = %+v, want EC2 CreateVpc", refused)
	}
	if n := rec.count.Load(); n != 0 {
		t.Fatalf("the server saw %d request(s) for a refused CreateVpc, want 0", n)
	}

	for _, call := range []func() error{
		func() error {
			_, err := client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-1")})
			return err
		},
		func() error {
			_, err := client.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-1")})
			return err
		},
		func() error {
			_, err := client.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String("i-1")})
			return err
		},
		func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		},
	} {
		if err := call(); !errors.As(err, &refused) {
			t.Errorf("error = %v, want a *readonly.RefusedError", err)
		}
	}
	if n := rec.count.Load(); n != 0 {
		t.Fatalf("the server saw %d request(s) for refused calls, want 0", n)
	}

	out, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	if len(out.Vpcs) != 0 {
		t.Errorf("DescribeVpcs returned %d VPCs, want 0", len(out.Vpcs))
	}
	if n := rec.count.Load(); n != 1 {
		t.Fatalf("the server saw %d request(s) after DescribeVpcs, want 1", n)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !strings.Contains(rec.actions[0], "Action=DescribeVpcs") {
		t.Errorf("the one request sent was %q, want DescribeVpcs", rec.actions[0])
	}
}

// TestMiddlewareRefusesObjectRead proves the guard also keeps object contents
// unread on a client of another service built from the same configuration.
func TestMiddlewareRefusesObjectRead(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	client := s3.NewFromConfig(guardedConfig(srv.URL), func(o *s3.Options) { o.UsePathStyle = true })

	_, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	var refused *readonly.RefusedError
	if !errors.As(err, &refused) || refused.Operation != "GetObject" || refused.Service != "S3" {
		t.Fatalf("GetObject error = %v, want S3 GetObject refused", err)
	}
	_, err = client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if !errors.As(err, &refused) || refused.Operation != "PutObject" {
		t.Fatalf("PutObject error = %v, want refused", err)
	}
	if n := rec.count.Load(); n != 0 {
		t.Fatalf("the server saw %d request(s), want 0", n)
	}
}

package readonly_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/readonly"
)

// signed returns a request signed (in form) with SigV4 for service.
func signed(method, target, service string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
	return r
}

func TestCheckRequest(t *testing.T) {
	json := func(service, target string) *http.Request {
		r := signed("POST", "https://"+service+".us-east-1.amazonaws.com/", service)
		r.Header.Set("X-Amz-Target", target)
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		ok   bool
	}{
		{"JSON on the list", json("kms", "TrentService.ListKeys"), true},
		{"JSON not on the list", json("kms", "TrentService.ScheduleKeyDeletion"), false},
		{"JSON secret read", json("secretsmanager", "secretsmanager.GetSecretValue"), false},
		{"JSON of the wrong service", json("secretsmanager", "TrentService.ListKeys"), false},
		{"cognito-identity GetId", json("cognito-identity", "AWSCognitoIdentityService.GetId"), false},
		{"query Action in the URL", signed("GET", "https://ec2.amazonaws.com/?Action=DescribeVpcs&Version=2016-11-15", "ec2"), true},
		{"query Action mutating", signed("GET", "https://ec2.amazonaws.com/?Action=CreateVpc&Version=2016-11-15", "ec2"), false},
		{"S3 ListBuckets", signed("GET", "https://s3.us-east-1.amazonaws.com/?max-buckets=1000&x-id=ListBuckets", "s3"), true},
		{"S3 GetBucketAcl path-style", signed("GET", "http://127.0.0.1:5000/bucket?acl", "s3"), true},
		{"S3 GetBucketPolicy virtual-hosted", signed("GET", "https://bucket.s3.eu-west-1.amazonaws.com/?policy", "s3"), true},
		{"S3 GetBucketEncryption", signed("GET", "http://127.0.0.1:5000/bucket?encryption", "s3"), true},
		{"S3 GetObject", signed("GET", "http://127.0.0.1:5000/bucket/key?x-id=GetObject", "s3"), false},
		{"S3 GetObjectAcl path-style", signed("GET", "http://127.0.0.1:5000/bucket/key?acl", "s3"), false},
		{"S3 GetObjectAcl virtual-hosted", signed("GET", "https://bucket.s3.eu-west-1.amazonaws.com/key?acl", "s3"), false},
		{"S3 ListObjects", signed("GET", "http://127.0.0.1:5000/bucket", "s3"), false},
		{"S3 ListObjectsV2", signed("GET", "http://127.0.0.1:5000/bucket?list-type=2&prefix=p", "s3"), false},
		{"S3 PutObject", signed("PUT", "http://127.0.0.1:5000/bucket/key?x-id=PutObject", "s3"), false},
		{"SNS Publish", signed("GET", "https://sns.us-east-1.amazonaws.com/?Action=Publish", "sns"), false},
		{"S3 PutBucketAcl", signed("PUT", "http://127.0.0.1:5000/bucket?acl", "s3"), false},
		{"S3 DeleteBucket", signed("DELETE", "http://127.0.0.1:5000/bucket", "s3"), false},
		{"S3 two subresources", signed("GET", "http://127.0.0.1:5000/bucket?acl&policy", "s3"), false},
		{"S3 Control account block", signed("GET", "https://123456789012.s3-control.us-east-1.amazonaws.com/v20180820/configuration/publicAccessBlock", "s3"), true},
		{"S3 Control delete block", signed("DELETE", "https://123456789012.s3-control.us-east-1.amazonaws.com/v20180820/configuration/publicAccessBlock", "s3"), false},
		{"Lambda ListFunctions", signed("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/", "lambda"), true},
		{"Lambda GetFunction", signed("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f", "lambda"), false},
		{"Lambda GetFunctionConfiguration", signed("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/configuration", "lambda"), false},
		{"EFS DescribeFileSystems", signed("GET", "https://elasticfilesystem.us-east-1.amazonaws.com/2015-02-01/file-systems", "elasticfilesystem"), true},
		{"EFS DescribeFileSystems of lambda's route", signed("GET", "https://lambda.us-east-1.amazonaws.com/2015-02-01/file-systems", "lambda"), false},
		{"unsigned to an AWS endpoint", httptest.NewRequest("GET", "https://s3.amazonaws.com/bucket?acl", nil), false},
		{"instance metadata token", httptest.NewRequest("PUT", "http://169.254.169.254/latest/api/token", nil), true},
		{"container credentials", httptest.NewRequest("GET", "http://169.254.170.2/v2/credentials/x", nil), true},
		{"SSO role credentials", httptest.NewRequest("GET", "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?role_name=r", nil), true},
	}
	for _, tt := range tests {
		err := readonly.CheckRequest(tt.req)
		var refused *readonly.RefusedError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case !tt.ok && !errors.As(err, &refused):
			t.Errorf("%s: error %v, want a refusal", tt.name, err)
		}
	}
}

// guardedHTTPClient is an HTTP client whose transport has the wire check.
func guardedHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	readonly.GuardTransport(tr)
	return &http.Client{Transport: tr}
}

// bareOptions are client options without the guard middleware: only the
// transport can refuse.
func bareOptions(url string) (aws.CredentialsProvider, *string, *http.Client) {
	return credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), aws.String(url), guardedHTTPClient()
}

// TestTransportRefusesWithoutMiddleware: clients built without the guard
// middleware, on a guarded transport, are refused before anything is sent,
// and their reads on the list go through.
func TestTransportRefusesWithoutMiddleware(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.String())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	creds, endpoint, hc := bareOptions(srv.URL)
	ctx := context.Background()
	var refused *readonly.RefusedError

	lc := lambda.New(lambda.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, Retryer: aws.NopRetryer{}})
	if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")}); !errors.As(err, &refused) || refused.Service != "lambda" {
		t.Errorf("GetFunction: %v, want refused at the transport", err)
	}
	if _, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")}); !errors.As(err, &refused) {
		t.Errorf("GetFunctionConfiguration: %v, want refused", err)
	}
	sc := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, UsePathStyle: true, Retryer: aws.NopRetryer{}})
	if _, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); !errors.As(err, &refused) {
		t.Errorf("GetObject: %v, want refused", err)
	}
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("x")}); !errors.As(err, &refused) {
		t.Errorf("PutObject: %v, want refused", err)
	}
	kc := kms.New(kms.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, Retryer: aws.NopRetryer{}})
	sign := &kms.SignInput{KeyId: aws.String("k"), Message: []byte("x"), SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256}
	if _, err := kc.Sign(ctx, sign); !errors.As(err, &refused) {
		t.Errorf("kms:Sign of a client without AllowOnClient: %v, want refused", err)
	}
	if len(seen) != 0 {
		t.Fatalf("the server saw %v, want nothing", seen)
	}

	if _, err := lc.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("ListFunctions: %v", err)
	}
	if _, err := kc.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Errorf("ListKeys: %v", err)
	}
	// The signing client's guard passes its one extra call to the transport.
	if _, err := kc.Sign(ctx, sign, func(o *kms.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("KMS", "Sign"))
	}); err != nil {
		t.Errorf("kms:Sign with AllowOnClient: %v", err)
	}
	// AllowOnClient allows only calls of the Signing list.
	if _, err := kc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String("k")}, func(o *kms.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("KMS", "ScheduleKeyDeletion"))
	}); !errors.As(err, &refused) {
		t.Errorf("ScheduleKeyDeletion with AllowOnClient: %v, want refused", err)
	}
	if len(seen) != 3 {
		t.Errorf("the server saw %v, want ListFunctions, ListKeys and Sign", seen)
	}
}

// TestRefusalIsNotRetried: a refusal at the transport fails the call at
// once, however many attempts the retryer allows.
func TestRefusalIsNotRetried(t *testing.T) {
	creds, endpoint, hc := bareOptions("http://127.0.0.1:1")
	attempts := 0
	count := func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("count", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			attempts++
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
	lc := lambda.New(lambda.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, APIOptions: []func(*middleware.Stack) error{count}})
	var refused *readonly.RefusedError
	if _, err := lc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("f")}); !errors.As(err, &refused) {
		t.Fatalf("GetFunction: %v", err)
	}
	if attempts != 1 {
		t.Errorf("%d attempts, want 1", attempts)
	}
}

// TestDeliveryClient: the nightly run's own clients (AllowOnClient with the
// Delivery list) may write, read and list objects and publish to SNS, both
// past the guard middleware and on the guarded transport, while a scanning
// client on the same transport and configuration refuses every one of those
// calls before anything is sent, and AllowOnClient still allows nothing
// outside its lists.
func TestDeliveryClient(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		if strings.Contains(r.URL.Host+r.URL.Path, "sns") || r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>`))
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		if r.URL.Query().Get("list-type") == "2" {
			_, _ = w.Write([]byte(`<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
			return
		}
		_, _ = w.Write([]byte(`x`))
	}))
	defer srv.Close()
	creds, endpoint, hc := bareOptions(srv.URL)
	ctx := context.Background()
	var refused *readonly.RefusedError

	// Scanning clients: the guard middleware and the transport both refuse.
	guarded := []func(*middleware.Stack) error{readonly.Install}
	sc := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, UsePathStyle: true, Retryer: aws.NopRetryer{}, APIOptions: guarded})
	snc := sns.New(sns.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, Retryer: aws.NopRetryer{}, APIOptions: guarded})
	bareS3 := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, UsePathStyle: true, Retryer: aws.NopRetryer{}})
	bareSNS := sns.New(sns.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: endpoint, HTTPClient: hc, Retryer: aws.NopRetryer{}})
	put := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("runs/k.json"), Body: strings.NewReader("{}")}
	get := &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	list := &s3.ListObjectsV2Input{Bucket: aws.String("b"), Prefix: aws.String("p/")}
	publish := &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), Message: aws.String("m")}
	for _, client := range []*s3.Client{sc, bareS3} {
		if _, err := client.PutObject(ctx, put); !errors.As(err, &refused) || refused.Operation != "PutObject" {
			t.Errorf("scanning client PutObject: %v, want refused", err)
		}
		if _, err := client.GetObject(ctx, get); !errors.As(err, &refused) {
			t.Errorf("scanning client GetObject: %v, want refused", err)
		}
		if _, err := client.ListObjectsV2(ctx, list); !errors.As(err, &refused) {
			t.Errorf("scanning client ListObjectsV2: %v, want refused", err)
		}
	}
	for _, client := range []*sns.Client{snc, bareSNS} {
		if _, err := client.Publish(ctx, publish); !errors.As(err, &refused) || refused.Operation != "Publish" {
			t.Errorf("scanning client Publish: %v, want refused", err)
		}
	}
	if len(seen) != 0 {
		t.Fatalf("the server saw %v, want nothing", seen)
	}

	// The nightly run's store and notifier.
	store := func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("S3", "PutObject", "GetObject", "ListObjectsV2"))
	}
	if _, err := sc.PutObject(ctx, put, store); err != nil {
		t.Errorf("store PutObject: %v", err)
	}
	if _, err := sc.GetObject(ctx, get, store); err != nil {
		t.Errorf("store GetObject: %v", err)
	}
	if _, err := sc.ListObjectsV2(ctx, list, store); err != nil {
		t.Errorf("store ListObjectsV2: %v", err)
	}
	if _, err := bareS3.PutObject(ctx, put, store); err != nil {
		t.Errorf("store PutObject without the scanning guard: %v", err)
	}
	if _, err := snc.Publish(ctx, publish, func(o *sns.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("SNS", "Publish"))
	}); err != nil {
		t.Errorf("notifier Publish: %v", err)
	}
	if len(seen) != 5 {
		t.Errorf("the server saw %v, want the 5 delivery calls", seen)
	}
	// The store's client allows nothing beyond its calls.
	if _, err := sc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("S3", "PutObject", "DeleteObject"))
	}); !errors.As(err, &refused) {
		t.Errorf("DeleteObject with AllowOnClient: %v, want refused", err)
	}
	if _, err := sc.GetObject(ctx, get, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("S3", "PutObject"))
	}); !errors.As(err, &refused) {
		t.Errorf("GetObject on a client allowed only PutObject: %v, want refused", err)
	}
	if len(seen) != 5 {
		t.Errorf("the server saw %v after refused calls", seen)
	}
}

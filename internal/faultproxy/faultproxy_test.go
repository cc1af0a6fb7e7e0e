package faultproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/ec2query"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const region = "us-east-1"

// newProxy starts a proxy in front of target and closes it when the test ends.
func newProxy(t *testing.T, target string, rules ...faultproxy.Rule) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target, rules...)
	if err != nil {
		t.Fatalf("faultproxy.New: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// proxiedConfig is an SDK config aimed at the proxy, with a standard retryer
// of maxAttempts attempts and a 5 ms backoff so that retries are fast.
func proxiedConfig(t *testing.T, p *faultproxy.Proxy, maxAttempts int) aws.Config {
	t.Helper()
	cfg := emutest.Config(t, p.URL, region)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = 5 * time.Millisecond
		})
	}
	return cfg
}

// apiError returns err's smithy.APIError, failing the test if there is none.
func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want an API error")
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	return apiErr
}

// httpStatus returns the HTTP status of the response behind err.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v has no HTTP response", err)
	}
	return re.HTTPStatusCode()
}

// isThrottle reports whether the SDK's default retryer classifies err as throttling.
func isThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

func TestEC2AccessDeniedLeavesSTSAlone(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "ec2", Fault: faultproxy.AccessDenied})
	cfg := proxiedConfig(t, p, 3)
	ctx := context.Background()

	_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if code := apiError(t, err).ErrorCode(); code != "UnauthorizedOperation" {
		t.Errorf("DescribeVpcs error code = %q, want UnauthorizedOperation (err: %v)", code, err)
	}
	if got := httpStatus(t, err); got != http.StatusForbidden {
		t.Errorf("DescribeVpcs status = %d, want 403", got)
	}
	if got := p.Injected()[faultproxy.AccessDenied]; got != 1 {
		t.Errorf("injected AccessDenied = %d, want 1 (access denied is not retried)", got)
	}

	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity through the proxy: %v", err)
	}
	if aws.ToString(out.Account) == "" {
		t.Error("GetCallerIdentity returned no account")
	}
	if got := p.Requests(); got != 2 {
		t.Errorf("Requests = %d, want 2", got)
	}
}

func TestEC2ThrottleIsRequestLimitExceeded(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "ec2", Action: "DescribeSecurityGroups", Fault: faultproxy.Throttle})
	client := ec2.NewFromConfig(proxiedConfig(t, p, 2))
	ctx := context.Background()

	_, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if code := apiError(t, err).ErrorCode(); code != "RequestLimitExceeded" {
		t.Errorf("error code = %q, want RequestLimitExceeded", code)
	}
	if !isThrottle(err) {
		t.Errorf("error %v not classified as throttling", err)
	}
	if got := p.Injected()[faultproxy.Throttle]; got != 2 {
		t.Errorf("injected Throttle = %d, want 2 (one per attempt)", got)
	}
	// Another EC2 action is untouched.
	if _, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs: %v", err)
	}
}

func TestS3AccessDeniedForOneBucketsEncryption(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	pathStyle := func(o *s3.Options) { o.UsePathStyle = true }

	// Set up two encrypted buckets directly on moto.
	setup := s3.NewFromConfig(emutest.Config(t, srv.URL, region), pathStyle)
	for _, b := range []string{"denied-bucket", "open-bucket"} {
		if _, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("CreateBucket %s: %v", b, err)
		}
		_, err := setup.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: aws.String(b),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
						SSEAlgorithm: s3types.ServerSideEncryptionAes256,
					},
				}},
			},
		})
		if err != nil {
			t.Fatalf("PutBucketEncryption %s: %v", b, err)
		}
	}

	p := newProxy(t, srv.URL, faultproxy.Rule{
		Service:      "s3",
		PathContains: "/denied-bucket",
		QueryHas:     "encryption",
		Fault:        faultproxy.AccessDenied,
	})
	client := s3.NewFromConfig(proxiedConfig(t, p, 3), pathStyle)

	_, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("denied-bucket")})
	if code := apiError(t, err).ErrorCode(); code != "AccessDenied" {
		t.Errorf("GetBucketEncryption(denied-bucket) error code = %q, want AccessDenied (err: %v)", code, err)
	}
	if got := httpStatus(t, err); got != http.StatusForbidden {
		t.Errorf("GetBucketEncryption(denied-bucket) status = %d, want 403", got)
	}

	out, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("open-bucket")})
	if err != nil {
		t.Fatalf("GetBucketEncryption(open-bucket): %v", err)
	}
	if rules := out.ServerSideEncryptionConfiguration.Rules; len(rules) != 1 {
		t.Errorf("open-bucket encryption rules = %d, want 1", len(rules))
	}

	// Other sub-resources of the denied bucket are forwarded.
	if _, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("denied-bucket")}); err != nil {
		t.Errorf("GetBucketVersioning(denied-bucket): %v", err)
	}
	if got := p.Injected(); got[faultproxy.AccessDenied] != 1 || len(got) != 1 {
		t.Errorf("Injected = %v, want exactly one AccessDenied", got)
	}
}

// baseEndpoint is an s3control endpoint resolver that keeps the configured
// endpoint: the default one prefixes the account ID to the host.
type baseEndpoint struct{}

func (baseEndpoint) ResolveEndpoint(_ context.Context, params s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(aws.ToString(params.Endpoint))
	if err != nil {
		return smithyendpoints.Endpoint{}, err
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}

func TestS3ControlAccessDenied(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "s3", PathContains: "/v20180820/", Fault: faultproxy.AccessDenied})
	client := s3control.NewFromConfig(proxiedConfig(t, p, 3), func(o *s3control.Options) {
		o.EndpointResolverV2 = baseEndpoint{}
	})

	_, err := client.GetPublicAccessBlock(context.Background(), &s3control.GetPublicAccessBlockInput{AccountId: aws.String("123456789012")})
	if code := apiError(t, err).ErrorCode(); code != "AccessDenied" {
		t.Errorf("GetPublicAccessBlock error code = %q, want AccessDenied (err: %v)", code, err)
	}
	if got := p.Injected()[faultproxy.AccessDenied]; got != 1 {
		t.Errorf("injected AccessDenied = %d, want 1", got)
	}
}

func TestRDSThrottleExhaustsRetries(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "rds", Action: "DescribeDBInstances", Fault: faultproxy.Throttle, Probability: 1})
	client := rds.NewFromConfig(proxiedConfig(t, p, 3))
	ctx := context.Background()

	_, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if code := apiError(t, err).ErrorCode(); code != "Throttling" {
		t.Errorf("error code = %q, want Throttling (err: %v)", code, err)
	}
	if !isThrottle(err) {
		t.Errorf("error %v not classified as throttling", err)
	}
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) {
		t.Errorf("error %v is not a MaxAttemptsError: the SDK did not retry", err)
	}
	if got := p.Injected()[faultproxy.Throttle]; got != 3 {
		t.Errorf("injected Throttle = %d, want 3 (one per attempt)", got)
	}

	// Another RDS action is forwarded.
	if _, err := client.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{}); err != nil {
		t.Errorf("DescribeDBClusters: %v", err)
	}
	if got := p.Injected()[faultproxy.Throttle]; got != 3 {
		t.Errorf("injected Throttle after DescribeDBClusters = %d, want still 3", got)
	}
}

func TestRDSOccasionalThrottleAbsorbedByRetries(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "rds", Action: "DescribeDBInstances", Fault: faultproxy.Throttle, Probability: 0.3})
	client := rds.NewFromConfig(proxiedConfig(t, p, 10))
	ctx := context.Background()

	const calls = 30
	for i := range calls {
		if _, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	throttled := p.Injected()[faultproxy.Throttle]
	if throttled == 0 {
		t.Fatal("no throttles injected at probability 0.3")
	}
	if got, want := p.Requests(), calls+throttled; got != want {
		t.Errorf("Requests = %d, want %d calls + %d retries", got, calls, throttled)
	}
	t.Logf("%d calls, %d throttled attempts absorbed", calls, throttled)
}

func TestRedshiftServerErrorIsRetried(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{Service: "redshift", Fault: faultproxy.ServerError})
	client := redshift.NewFromConfig(proxiedConfig(t, p, 3))

	_, err := client.DescribeClusters(context.Background(), &redshift.DescribeClustersInput{})
	if code := apiError(t, err).ErrorCode(); code != "InternalFailure" {
		t.Errorf("error code = %q, want InternalFailure", code)
	}
	if got := httpStatus(t, err); got != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", got)
	}
	if got := p.Injected()[faultproxy.ServerError]; got != 3 {
		t.Errorf("injected ServerError = %d, want 3 (a 500 is retried)", got)
	}

	// Lifting the fault lets the same client through.
	if err := p.SetRules(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeClusters(context.Background(), &redshift.DescribeClustersInput{}); err != nil {
		t.Errorf("DescribeClusters after SetRules(): %v", err)
	}
}

func TestAccessKeyTargetsOneCaller(t *testing.T) {
	srv := emutest.Fresh(t)
	p := newProxy(t, srv.URL, faultproxy.Rule{AccessKeyID: "AKIADENIEDCALLER", Fault: faultproxy.AccessDenied})
	ctx := context.Background()

	deniedCfg := proxiedConfig(t, p, 3)
	deniedCfg.Credentials = credentials.NewStaticCredentialsProvider("AKIADENIEDCALLER", "secret", "")
	_, err := sts.NewFromConfig(deniedCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := apiError(t, err).ErrorCode(); code != "AccessDenied" {
		t.Errorf("denied caller error code = %q, want AccessDenied (err: %v)", code, err)
	}

	if _, err := sts.NewFromConfig(proxiedConfig(t, p, 3)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("other caller: %v", err)
	}
}

func TestDropConnectionAndLatency(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()

	t.Run("drop", func(t *testing.T) {
		p := newProxy(t, srv.URL, faultproxy.Rule{Service: "sts", Fault: faultproxy.DropConnection})
		_, err := sts.NewFromConfig(proxiedConfig(t, p, 2)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			t.Fatal("GetCallerIdentity succeeded over a dropped connection")
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			t.Errorf("dropped connection surfaced as API error %v", apiErr)
		}
		if got := p.Injected()[faultproxy.DropConnection]; got < 2 {
			t.Errorf("injected DropConnection = %d, want >= 2 (the SDK retries connection errors)", got)
		}
	})

	t.Run("latency", func(t *testing.T) {
		const delay = 200 * time.Millisecond
		p := newProxy(t, srv.URL, faultproxy.Rule{Service: "sts", Fault: faultproxy.Latency, Delay: delay})
		start := time.Now()
		if _, err := sts.NewFromConfig(proxiedConfig(t, p, 1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("call took %v, want >= %v", elapsed, delay)
		}
		if got := p.Injected()[faultproxy.Latency]; got != 1 {
			t.Errorf("injected Latency = %d, want 1", got)
		}
	})
}

// recorder is a backend that records what reaches it and answers 200.
type recorder struct {
	mu   sync.Mutex
	host string
	path string
	body string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.host, rec.path, rec.body = r.Host, r.URL.RequestURI(), string(b)
	rec.mu.Unlock()
	io.WriteString(w, "ok")
}

// signedRequest builds a request to the proxy as the SDK would sign it for service.
func signedRequest(t *testing.T, method, rawURL, service, body string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// do sends req and returns the response with its body read.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestForwardsUnchanged(t *testing.T) {
	rec := &recorder{}
	backend := httptest.NewServer(rec)
	defer backend.Close()
	p := newProxy(t, backend.URL, faultproxy.Rule{Service: "iam", Action: "ListUsers", Fault: faultproxy.AccessDenied})

	form := "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fa%2F"
	req := signedRequest(t, http.MethodPost, p.URL+"/some/path?x=1", "iam", form,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("response %s %q, want 200 ok", resp.Status, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := strings.TrimPrefix(backend.URL, "http://"); rec.host != want {
		t.Errorf("backend saw Host %q, want the target host %q", rec.host, want)
	}
	if rec.path != "/some/path?x=1" {
		t.Errorf("backend saw path %q", rec.path)
	}
	if rec.body != form {
		t.Errorf("backend saw body %q, want %q", rec.body, form)
	}
}

func TestErrorShapes(t *testing.T) {
	backend := httptest.NewServer(&recorder{})
	defer backend.Close()
	p := newProxy(t, backend.URL,
		faultproxy.Rule{Action: "ListTables", Fault: faultproxy.AccessDenied},
		faultproxy.Rule{Action: "ListKeys", Fault: faultproxy.Throttle},
		faultproxy.Rule{PathContains: "/functions", QueryHas: "MaxItems", Fault: faultproxy.AccessDenied},
		faultproxy.Rule{PathContains: "/functions", Fault: faultproxy.Throttle},
		faultproxy.Rule{Service: "iam", Fault: faultproxy.Throttle},
		faultproxy.Rule{Service: "ec2", Fault: faultproxy.ServerError},
		faultproxy.Rule{PathContains: "/v20180820/", Fault: faultproxy.AccessDenied},
	)

	jsonError := func(t *testing.T, body []byte) string {
		t.Helper()
		code, _, err := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(body)))
		if err != nil {
			t.Fatalf("parse JSON error %q: %v", body, err)
		}
		return code
	}

	t.Run("json", func(t *testing.T) {
		req := signedRequest(t, http.MethodPost, p.URL+"/", "dynamodb", "{}", map[string]string{
			"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"})
		resp, body := do(t, req)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Errorf("status %d, X-Amzn-ErrorType %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
		if code := jsonError(t, body); code != "AccessDeniedException" {
			t.Errorf("__type = %q", code)
		}

		req = signedRequest(t, http.MethodPost, p.URL+"/", "kms", "{}", map[string]string{
			"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"})
		resp, body = do(t, req)
		if code := jsonError(t, body); resp.StatusCode != 400 || code != "ThrottlingException" {
			t.Errorf("throttle: status %d, __type %q", resp.StatusCode, code)
		}
	})

	t.Run("rest-json", func(t *testing.T) {
		req := signedRequest(t, http.MethodGet, p.URL+"/2015-03-31/functions/?MaxItems=50", "lambda", "", nil)
		resp, body := do(t, req)
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Errorf("status %d, X-Amzn-ErrorType %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil || m["message"] == "" {
			t.Errorf("body %q: want {\"message\": ...} (%v)", body, err)
		}

		req = signedRequest(t, http.MethodGet, p.URL+"/2015-03-31/functions/", "lambda", "", nil)
		resp, _ = do(t, req)
		if resp.StatusCode != 429 || resp.Header.Get("X-Amzn-ErrorType") != "TooManyRequestsException" {
			t.Errorf("throttle: status %d, X-Amzn-ErrorType %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
	})

	t.Run("query", func(t *testing.T) {
		req := signedRequest(t, http.MethodPost, p.URL+"/", "iam", "Action=ListUsers&Version=2010-05-08",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		resp, body := do(t, req)
		ec, err := awsxml.GetErrorResponseComponents(bytes.NewReader(body), false)
		if err != nil {
			t.Fatalf("parse %q: %v", body, err)
		}
		if resp.StatusCode != 400 || ec.Code != "Throttling" || ec.RequestID == "" {
			t.Errorf("status %d, components %+v", resp.StatusCode, ec)
		}
	})

	t.Run("ec2", func(t *testing.T) {
		req := signedRequest(t, http.MethodPost, p.URL+"/", "ec2", "Action=DescribeVpcs&Version=2016-11-15",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		resp, body := do(t, req)
		ec, err := ec2query.GetErrorResponseComponents(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse %q: %v", body, err)
		}
		if resp.StatusCode != 500 || ec.Code != "InternalError" || ec.RequestID == "" {
			t.Errorf("status %d, components %+v", resp.StatusCode, ec)
		}
	})

	t.Run("s3control", func(t *testing.T) {
		req := signedRequest(t, http.MethodGet, p.URL+"/v20180820/configuration/publicAccessBlock", "s3", "",
			map[string]string{"X-Amz-Account-Id": "123456789012"})
		resp, body := do(t, req)
		ec, err := awsxml.GetErrorResponseComponents(bytes.NewReader(body), false)
		if err != nil {
			t.Fatalf("parse %q: %v", body, err)
		}
		if resp.StatusCode != 403 || ec.Code != "AccessDenied" {
			t.Errorf("status %d, components %+v", resp.StatusCode, ec)
		}
	})
}

func TestProbabilityIsReproducible(t *testing.T) {
	backend := httptest.NewServer(&recorder{})
	defer backend.Close()

	pattern := func() string {
		p, err := faultproxy.NewWithOptions(backend.URL, faultproxy.Options{Seed: 42},
			faultproxy.Rule{Fault: faultproxy.ServerError, Probability: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var b strings.Builder
		for range 40 {
			resp, _ := do(t, signedRequest(t, http.MethodGet, p.URL+"/", "s3", "", nil))
			if resp.StatusCode == http.StatusOK {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	first, second := pattern(), pattern()
	if first != second {
		t.Errorf("same seed, different faults:\n%s\n%s", first, second)
	}
	if n := strings.Count(first, "x"); n == 0 || n == len(first) {
		t.Errorf("probability 0.5 injected %d of %d", n, len(first))
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		target string
		rule   faultproxy.Rule
	}{
		"no scheme":   {"127.0.0.1:1", faultproxy.Rule{Fault: faultproxy.Throttle}},
		"no fault":    {"http://127.0.0.1:1", faultproxy.Rule{}},
		"probability": {"http://127.0.0.1:1", faultproxy.Rule{Fault: faultproxy.Throttle, Probability: 1.5}},
	} {
		if p, err := faultproxy.New(tc.target, tc.rule); err == nil {
			p.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestBodyContainsTargetsOneResource: JSON and query protocols name the
// resource in the body, so BodyContains faults one table and forwards the
// same operation on another.
func TestBodyContainsTargetsOneResource(t *testing.T) {
	rec := &recorder{}
	backend := httptest.NewServer(rec)
	defer backend.Close()
	p := newProxy(t, backend.URL, faultproxy.Rule{Service: "dynamodb", Action: "DescribeTable", BodyContains: `"TableName":"denied"`, Fault: faultproxy.AccessDenied})

	send := func(table string) (*http.Response, []byte) {
		req := signedRequest(t, http.MethodPost, p.URL+"/", "dynamodb", `{"TableName":"`+table+`"}`,
			map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.DescribeTable"})
		return do(t, req)
	}
	if resp, body := send("denied"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "AccessDeniedException") {
		t.Errorf("denied table: %s %s", resp.Status, body)
	}
	if resp, body := send("allowed"); resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("allowed table: %s %q, want it forwarded", resp.Status, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.body != `{"TableName":"allowed"}` {
		t.Errorf("backend saw body %q, want the allowed table's request intact", rec.body)
	}
	if got := p.Injected()[faultproxy.AccessDenied]; got != 1 {
		t.Errorf("injected AccessDenied = %d, want 1", got)
	}
}

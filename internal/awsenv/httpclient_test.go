package awsenv_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/posture-dev/posture/internal/awsenv"
)

// TestOneHTTPClientPerProcess: every client built from every Load shares
// the one HTTP client, and its transport has timeouts and a pool. (With
// AWS_CA_BUNDLE set, the SDK's LoadDefaultConfig derives a copy with the
// bundle per Load: every client of one Load still shares that copy, see
// TestOneHTTPClientPerLoadWithCABundle.)
func TestOneHTTPClientPerProcess(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()
	a, err := awsenv.Load(ctx, awsenv.Options{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := awsenv.Load(ctx, awsenv.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	shared := awsenv.SharedHTTPClient()
	clients := map[string]any{
		"cfg a":      a.HTTPClient,
		"cfg b":      b.HTTPClient,
		"ec2 of a":   ec2.NewFromConfig(a).Options().HTTPClient,
		"s3 of a":    awsenv.S3(a, "us-east-1").Options().HTTPClient,
		"ec2 of b":   ec2.NewFromConfig(b.Copy()).Options().HTTPClient,
		"s3 control": awsenv.S3Control(a).Options().HTTPClient,
	}
	for name, c := range clients {
		if c != any(shared) {
			t.Errorf("%s uses HTTP client %p, want the shared %p", name, c, shared)
		}
	}
	tr := shared.GetTransport()
	if tr.MaxIdleConnsPerHost < 64 || tr.ResponseHeaderTimeout == 0 || tr.TLSHandshakeTimeout == 0 {
		t.Errorf("transport: idle/host %d, header timeout %v, TLS timeout %v", tr.MaxIdleConnsPerHost, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
	if shared.GetDialer().Timeout == 0 {
		t.Error("dialer has no timeout")
	}
}

func TestOneHTTPClientPerLoadWithCABundle(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	if os.Getenv("AWS_CA_BUNDLE") == "" {
		t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
	}
	if _, err := os.Stat(os.Getenv("AWS_CA_BUNDLE")); err != nil {
		t.Skipf("no CA bundle: %v", err)
	}
	cfg, err := awsenv.Load(context.Background(), awsenv.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]any{
		"ec2":        ec2.NewFromConfig(cfg).Options().HTTPClient,
		"ec2 copy":   ec2.NewFromConfig(cfg.Copy()).Options().HTTPClient,
		"s3":         awsenv.S3(cfg, "eu-west-1").Options().HTTPClient,
		"s3 control": awsenv.S3Control(cfg).Options().HTTPClient,
	} {
		if c != any(cfg.HTTPClient) {
			t.Errorf("%s uses HTTP client %p, want the Load's %p", name, c, cfg.HTTPClient)
		}
	}
}

package awsenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

func TestIsConnectionError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, true},
		{fmt.Errorf("send: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, true},
		{fmt.Errorf("wrapped: %w", syscall.ENETUNREACH), true},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
		{&smithy.GenericAPIError{Code: "Throttling"}, false},
		{errors.New("boom"), false},
	} {
		if got := IsConnectionError(tt.err); got != tt.want {
			t.Errorf("IsConnectionError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// The identity call's retryer gives up on a connection error at once but
// keeps retrying throttling and server errors.
func TestFailFastRetryer(t *testing.T) {
	r := failFastRetryer{NewRetryer(10).(aws.RetryerV2)}
	if r.IsErrorRetryable(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}) {
		t.Error("a refused connection is retried")
	}
	if !r.IsErrorRetryable(&smithy.GenericAPIError{Code: "Throttling"}) {
		t.Error("throttling is not retried")
	}
	if r.MaxAttempts() != 10 {
		t.Errorf("MaxAttempts %d", r.MaxAttempts())
	}
}

func TestSharedProfiles(t *testing.T) {
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[default]\n[profile prod]\n[ profile  dev ]\n[sso-session corp]\n[services local]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[ci]\n[prod]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	if got, want := SharedProfiles(), []string{"ci", "default", "dev", "prod"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SharedProfiles() = %v, want %v", got, want)
	}
	_, err := Load(t.Context(), Options{Profile: "staging"})
	var pnf *ProfileNotFoundError
	if !errors.As(err, &pnf) || pnf.Profile != "staging" || !reflect.DeepEqual(pnf.Known, []string{"ci", "default", "dev", "prod"}) {
		t.Errorf("Load with an unknown profile: %v", err)
	}
}

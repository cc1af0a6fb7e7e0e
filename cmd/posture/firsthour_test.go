package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// An endpoint that refuses connections fails the identity call at once (no
// ten retries with backoff) and says what was tried and what to check.
func TestScanUnreachableEndpointFailsFast(t *testing.T) {
	endpoint := "http://" + closedPort(t)
	start := time.Now()
	run := runCLI(t, nil, "scan", "--endpoint-url", endpoint, "--out", t.TempDir())
	elapsed := time.Since(start)
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	if elapsed > 10*time.Second {
		t.Errorf("took %s to fail; want a few seconds", elapsed)
	}
	for _, want := range []string{"cannot reach AWS STS at " + endpoint + " (region us-east-1)", "--endpoint-url or AWS_ENDPOINT_URL", "connection refused"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// No credentials anywhere: the message names the ways to provide them.
func TestScanWithoutCredentials(t *testing.T) {
	run := runCLI(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_EC2_METADATA_DISABLED=true"},
		"scan", "--endpoint-url", "http://"+closedPort(t), "--out", t.TempDir())
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	for _, want := range []string{"no usable AWS credentials were found", "--profile NAME", "AWS_PROFILE", "aws sso login", "AWS_ACCESS_KEY_ID"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// An unknown profile is a usage error that lists the profiles there are.
func TestScanUnknownProfile(t *testing.T) {
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n[sso-session corp]\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[ci]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := runCLI(t, []string{"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + creds}, "scan", "--profile", "staging", "--out", t.TempDir())
	if run.code != exitUsage {
		t.Errorf("exit %d, want %d\n%s", run.code, exitUsage, run.stderr)
	}
	if want := `AWS profile "staging" is not defined; profiles found: ci, default, prod`; !strings.Contains(run.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
	}
}

// Credentials that AWS refuses: the message names the source that was
// tried and what to do.
func TestScanRejectedCredentials(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Action: "GetCallerIdentity", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := runCLI(t, nil, "scan", "--endpoint-url", p.URL, "--out", t.TempDir())
	if run.code != exitError {
		t.Errorf("exit %d, want %d\n%s", run.code, exitError, run.stderr)
	}
	for _, want := range []string{"AWS rejected the credentials from EnvConfigCredentials (AccessDenied)", "aws sso login"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

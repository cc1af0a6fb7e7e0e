// Package emutest shares one moto_server per test binary between the tests
// of a package. It imports "testing" and is only for tests.
//
// Use it as
//
//	func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := emutest.Fresh(t)
//		cfg := emutest.Config(t, srv.URL, "us-east-1")
//		...
//	}
//
// Fresh resets the shared server, so tests that use it must not run in
// parallel with each other (do not call t.Parallel in them).
package emutest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posture-dev/posture/internal/emulator"
)

// shared is the test binary's moto servers, started by the first Fresh (or
// FreshFaked) call and stopped by Main.
var shared struct {
	mu      sync.Mutex
	inMain  bool // Main is running the tests
	started bool // a start was attempted (srv or err is set)
	srv     *emulator.Server
	err     error

	fakedStarted bool // the same for the server under libfaketime
	faked        *emulator.Server
	fakedErr     error
}

// Main is used as `func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }`;
// it runs the tests and then stops the shared server if one was started.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.inMain = false
	for _, srv := range []**emulator.Server{&shared.srv, &shared.faked} {
		if *srv == nil {
			continue
		}
		if err := (*srv).Close(); err != nil {
			os.Stderr.WriteString("emutest: " + err.Error() + "\n")
			if code == 0 {
				code = 1
			}
		}
		*srv = nil
	}
	return code
}

// Fresh returns the package's shared moto server (started lazily on first
// call, once per test binary), reset to empty state (POST /moto-api/reset) so
// each test starts clean.
//
// When moto_server cannot be located: if the environment variable CI is
// non-empty the test fails (a missing emulator in CI is a failure); otherwise
// it is skipped. The package must use Main in its TestMain, or Fresh fails the
// test rather than leak a moto process.
func Fresh(t testing.TB) *emulator.Server {
	t.Helper()
	srv, err := server()
	switch {
	case errors.Is(err, errNoMain):
		t.Fatalf("emutest: %v", err)
	case errors.Is(err, emulator.ErrNotFound):
		if os.Getenv("CI") != "" {
			t.Fatalf("emutest: CI is set and %v", err)
		}
		t.Skipf("moto_server not found (run `make emulator` or put moto_server on PATH): integration test skipped")
	case err != nil:
		t.Fatalf("emutest: start moto_server: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("emutest: %v", err)
	}
	return srv
}

// FreshFaked is Fresh for a second shared server that runs under
// libfaketime (emulator.Options.FakeTime), reset and with its clock at the
// real time. Age resources with SetClock.
//
// When libfaketime (Debian package faketime) or moto_server is missing: if
// CI is set the test fails; otherwise it is skipped.
func FreshFaked(t testing.TB) *emulator.Server {
	t.Helper()
	srv, err := fakedServer()
	switch {
	case errors.Is(err, errNoMain):
		t.Fatalf("emutest: %v", err)
	case errors.Is(err, emulator.ErrNotFound), errors.Is(err, emulator.ErrFaketimeNotFound):
		if os.Getenv("CI") != "" {
			t.Fatalf("emutest: CI is set and %v", err)
		}
		t.Skipf("%v: ageing test skipped (apt-get install faketime)", err)
	case err != nil:
		t.Fatalf("emutest: start moto_server under libfaketime: %v", err)
	}
	if err := srv.SetClockOffset(0); err != nil {
		t.Fatalf("emutest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("emutest: %v", err)
	}
	return srv
}

// SetClock moves the clock of a server from FreshFaked by offset from the
// real time (negative: into the past), and puts it back at the real time
// when the test ends.
func SetClock(t testing.TB, srv *emulator.Server, offset time.Duration) {
	t.Helper()
	if err := srv.SetClockOffset(offset); err != nil {
		t.Fatalf("emutest: set the emulator clock: %v", err)
	}
	t.Cleanup(func() { _ = srv.SetClockOffset(0) })
}

// fakedServer returns the shared server under libfaketime, starting it on
// first use.
func fakedServer() (*emulator.Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		return nil, errNoMain
	}
	if !shared.fakedStarted {
		shared.fakedStarted = true
		shared.faked, shared.fakedErr = emulator.Start(context.Background(), emulator.Options{FakeTime: true})
	}
	return shared.faked, shared.fakedErr
}

// errNoMain is returned by server when the package's TestMain does not use Main.
var errNoMain = errors.New("the package's TestMain must call emutest.Main (func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }) so that the shared moto_server is stopped")

// server returns the shared server, starting it on first use. A failed start
// is remembered and reported to every later caller.
func server() (*emulator.Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		return nil, errNoMain
	}
	if !shared.started {
		shared.started = true
		shared.srv, shared.err = emulator.Start(context.Background(), emulator.Options{})
	}
	return shared.srv, shared.err
}

// Config returns an aws.Config aimed at the emulator for setting up test
// resources (mutating calls allowed): static credentials "testing"/"testing",
// Region region, BaseEndpoint url, and a standard retryer with MaxAttempts 3.
// It does not read the environment or shared config files, so a developer's
// AWS settings cannot leak into tests.
func Config(t testing.TB, url, region string) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(url),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3 })
		},
	}
}

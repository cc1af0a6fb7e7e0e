// Package emulator starts and stops a local moto_server, the AWS emulator that
// posture's integration tests and demo run against (see DESIGN.md section 5).
//
// A Server is one moto_server process listening on a free loopback port. It
// serves every AWS service, account and region on a single endpoint; point the
// AWS SDK at Server.URL with static credentials and a region.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is returned (wrapped) by Locate when no moto_server executable exists.
var ErrNotFound = errors.New("moto_server not found")

const (
	// startTimeout bounds how long Start waits for moto_server to answer HTTP.
	startTimeout = 60 * time.Second
	// pollInterval is the delay between readiness probes.
	pollInterval = 100 * time.Millisecond
	// startAttempts is how many ports Start tries when the chosen one was taken.
	startAttempts = 3
	// tailSize is how much of moto's output is kept for error messages.
	tailSize = 2048
	// stopTimeout is how long Close waits after SIGTERM before sending SIGKILL.
	stopTimeout = 5 * time.Second
)

// Locate returns the moto_server executable: $MOTO_SERVER if set, else
// `moto_server` on PATH, else <module root>/.venv/bin/moto_server, where the
// module root is the nearest ancestor directory of the working directory that
// contains go.mod. When none exists the error wraps ErrNotFound and tells the
// user to run `make emulator`.
func Locate() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%w: MOTO_SERVER=%q is not an executable (%v); run `make emulator` or fix MOTO_SERVER", ErrNotFound, p, err)
		}
		return path, nil
	}
	if path, err := exec.LookPath("moto_server"); err == nil {
		return path, nil
	}
	var venv string
	if root, err := ModuleRoot(); err == nil {
		venv = filepath.Join(root, ".venv", "bin", "moto_server")
		if isExecutable(venv) {
			return venv, nil
		}
	}
	msg := "not on PATH"
	if venv != "" {
		msg += " nor at " + venv
	}
	return "", fmt.Errorf("%w (%s): run `make emulator` to install it, or set MOTO_SERVER", ErrNotFound, msg)
}

// ModuleRoot returns the nearest ancestor of the working directory that
// holds a go.mod file: where the repository's tools (.venv, .tools) are.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// isExecutable reports whether path is a regular file with an execute bit set.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Options configures Start.
type Options struct {
	// Binary is the moto_server executable to run; empty means Locate().
	Binary string
	// Env is extra environment for the moto process (e.g. LD_PRELOAD for
	// libfaketime). Entries override the inherited environment.
	Env []string
	// Log receives moto's stdout and stderr; nil discards them.
	Log io.Writer
	// FakeTime runs moto under libfaketime with a rewritable time file, so
	// that Server.SetClockOffset can age the resources created next (see
	// DESIGN.md section 5). Start fails with an error wrapping
	// ErrFaketimeNotFound when libfaketime is not installed.
	FakeTime bool
}

// Server is a running moto_server on a loopback port.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT.
	URL string

	cmd    *exec.Cmd
	out    *tailWriter
	clock  *clock        // nil unless started with FakeTime
	exited chan struct{} // closed when the process has been waited for
	client *http.Client

	closeOnce sync.Once
	closeErr  error
}

// Start runs moto_server on a free loopback port and waits until it answers
// HTTP. ctx bounds the start-up only (in addition to a 60 s deadline): the
// server keeps running until Close.
//
// The process gets the current environment without MOTO_ACCOUNT_ID (so that
// several accounts can be emulated), plus MOTO_EC2_LOAD_DEFAULT_AMIS=false,
// plus opts.Env. It runs in its own process group, which Close terminates.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = Locate(); err != nil {
			return nil, err
		}
	}
	var clk *clock
	if opts.FakeTime {
		lib, err := LocateFaketime()
		if err != nil {
			return nil, err
		}
		var env []string
		if clk, env, err = newClock(lib); err != nil {
			return nil, err
		}
		opts.Env = append(append([]string{}, opts.Env...), env...)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, bin, port, opts)
		if err == nil {
			s.clock = clk
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	if clk != nil {
		_ = os.RemoveAll(clk.dir)
	}
	return nil, lastErr
}

// errPortInUse marks a start that failed because another process took the port.
var errPortInUse = errors.New("port already in use")

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("release probe port %d: %w", port, err)
	}
	return port, nil
}

// start launches one moto_server on port and waits for it to be ready.
func start(ctx context.Context, bin string, port int, opts Options) (*Server, error) {
	out := &tailWriter{max: tailSize, next: opts.Log}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = environ(opts.Env)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = stopTimeout
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}

	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:    cmd,
		out:    out,
		exited: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}},
	}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(s.exited)
	}()

	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if s.ready(ctx) {
			return s, nil
		}
		select {
		case <-s.exited:
			tail := out.Tail()
			err := fmt.Errorf("moto_server exited before answering on port %d (%v); last output:\n%s", port, waitErr, tail)
			if strings.Contains(tail, "Address already in use") {
				err = fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return nil, err
		case <-ctx.Done():
			_ = s.Close()
			return nil, fmt.Errorf("moto_server did not answer on %s: %w; last output:\n%s", s.URL, ctx.Err(), out.Tail())
		case <-ticker.C:
		}
	}
}

// environ builds the moto process environment.
func environ(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "MOTO_EC2_LOAD_DEFAULT_AMIS=false")
	return append(env, extra...)
}

// ready reports whether the server answers an HTTP request (any status).
func (s *Server) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
	if err != nil {
		return false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return true
}

// Reset wipes all emulated state (POST {URL}/moto-api/reset).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("build moto reset request: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto at %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto at %s: status %s: %s", s.URL, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Close terminates the moto process and its process group and waits for it
// to exit. It is safe to call more than once; later calls return the first
// call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.client.CloseIdleConnections()
		if s.clock != nil {
			defer os.RemoveAll(s.clock.dir)
		}
		select {
		case <-s.exited:
			return // already gone
		default:
		}
		if err := terminate(s.cmd); err != nil {
			s.closeErr = fmt.Errorf("stop moto_server: %w", err)
		}
		select {
		case <-s.exited:
			return
		case <-time.After(stopTimeout):
		}
		if err := kill(s.cmd); err != nil {
			s.closeErr = fmt.Errorf("kill moto_server: %w", err)
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			s.closeErr = fmt.Errorf("moto_server (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
		}
	})
	return s.closeErr
}

// tailWriter keeps the last max bytes written to it and forwards every write
// to next, if set. It is safe for concurrent use.
type tailWriter struct {
	mu   sync.Mutex
	max  int
	buf  []byte
	next io.Writer
}

// Write implements io.Writer. It never fails because of next: moto must not
// block or die because its log destination did.
func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	if w.next != nil {
		_, _ = w.next.Write(p)
	}
	return len(p), nil
}

// Tail returns the last bytes written.
func (w *tailWriter) Tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

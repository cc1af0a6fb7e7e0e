package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// RIEVersion is the pinned Runtime Interface Emulator that `make test`
// installs into .tools/bin.
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// rieInstall is the command that installs the pinned emulator.
const rieInstall = "GOBIN=$PWD/.tools/bin go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@" + RIEVersion

// InvokePath is the only path the emulator serves: the Lambda Invoke API for
// the function named "function".
const InvokePath = "/2015-03-31/functions/function/invocations"

const (
	rieStartTimeout = 15 * time.Second
	rieLogMax       = 256 << 10
	stopTimeout     = 5 * time.Second
)

// DefaultEnv is the environment a bootstrap gets under StartRIE unless the
// caller's env overrides it: what Lambda itself sets that the emulator does
// not (AWS_REGION, credentials), a 15-minute timeout (Lambda's maximum; the
// emulator's default is 300 s) and no instance metadata lookups. The
// emulator adds AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_VERSION,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE (3008 unless set), AWS_LAMBDA_LOG_* and
// passes its own environment (PATH, HOME, these, and env) through.
var DefaultEnv = map[string]string{
	"AWS_REGION":                  "us-east-1",
	"AWS_DEFAULT_REGION":          "us-east-1",
	"AWS_ACCESS_KEY_ID":           "testing",
	"AWS_SECRET_ACCESS_KEY":       "testing",
	"AWS_EC2_METADATA_DISABLED":   "true",
	"AWS_LAMBDA_FUNCTION_NAME":    "function",
	"AWS_LAMBDA_FUNCTION_TIMEOUT": "900",
}

// FunctionError is a handler failure as Lambda reports it: the invocation
// worked, the function did not. Type is the payload's errorType (aws-lambda-go
// puts the Go type name of the returned error there, e.g. "errorString" for
// errors.New, "wrapError" for fmt.Errorf with %w; Step Functions uses it as
// the error name), or "Runtime.ExitError" when the process exited or
// panicked, or "Sandbox.Timedout" when the function timeout passed.
type FunctionError struct {
	Type    string
	Message string
	// Payload is the error document in Lambda's form,
	// {"errorMessage":...,"errorType":...[,"stackTrace":...]}.
	Payload []byte
}

// Error implements error.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambda function error %s: %s", e.Type, e.Message)
}

// Invocation is what was measured for one invocation.
type Invocation struct {
	Start    time.Time
	Duration time.Duration // wall time of the Invoke call, seen by the client
	// PID is the bootstrap process that served it (0 if it was gone when
	// measured), Cold whether that process was started by this invocation.
	PID  int
	Cold bool
	// PeakRSS is the bootstrap's peak resident set size (VmHWM) during the
	// invocation in bytes: the high-water mark is reset before each warm
	// invocation, so it covers this one only (for a cold one, init too). 0
	// when it could not be read (the process exited).
	PeakRSS int64
	// Err is the invocation's error text, "" on success.
	Err string
}

// Invoker runs one Lambda invocation: an *RIE or a *Pool. A handler failure
// is returned as a *FunctionError; any other error means the emulator or the
// harness failed.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// RIE is one AWS Lambda Runtime Interface Emulator process on loopback
// running one bootstrap. It serves one invocation at a time (two at once
// crash the emulator), so Invoke serialises.
type RIE struct {
	// URL is the emulator's endpoint, http://127.0.0.1:PORT.
	URL string

	bootstrap string
	cmd       *exec.Cmd
	logs      *logBuffer
	exited    chan struct{}
	client    *lambda.Client
	raw       *rawRecorder

	mu      sync.Mutex // one invocation in flight
	lastPID int

	statsMu sync.Mutex
	stats   []Invocation
}

// LocateRIE returns the emulator executable: $POSTURE_RIE, else
// <module root>/.tools/bin/aws-lambda-rie, else aws-lambda-rie on PATH.
func LocateRIE() (string, error) {
	if p := os.Getenv("POSTURE_RIE"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("POSTURE_RIE=%q is not an executable: %w", p, err)
		}
		return path, nil
	}
	var tried []string
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	tried = append(tried, "aws-lambda-rie on PATH")
	return "", fmt.Errorf("the Lambda Runtime Interface Emulator is not at %s (`make test` installs it: %s)", strings.Join(tried, " nor "), rieInstall)
}

// StartRIE runs the emulator with bootstrap as the function on free loopback
// ports and returns once it accepts connections; the bootstrap itself starts
// on the first invocation (a cold start). env is added to DefaultEnv and
// given to the emulator process, which passes its whole environment to the
// bootstrap; the emulator is not given the test's own environment, only
// PATH, a private HOME and TMPDIR.
//
// The emulator and the bootstrap are killed when the test ends; if the test
// failed, the emulator's log (which includes the bootstrap's stdout and
// stderr) is printed. A missing emulator skips the test, or fails it when CI
// is set.
func StartRIE(t testing.TB, bootstrap string, env map[string]string) *RIE {
	t.Helper()
	bin, err := LocateRIE()
	if err != nil {
		skipOrFail(t, "lambdatest: %v", err)
	}
	if _, ok := env["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
		t.Fatalf("lambdatest: AWS_LAMBDA_MAX_CONCURRENCY switches the emulator to its managed-instances mode; do not set it")
	}
	home := t.TempDir()
	var lastErr error
	for range 3 {
		r, err := startRIE(bin, bootstrap, home, env)
		if err == nil {
			t.Cleanup(func() {
				if err := r.Close(); err != nil {
					t.Errorf("lambdatest: %v", err)
				}
				if t.Failed() {
					t.Logf("lambdatest: emulator log (%s):\n%s", r.URL, r.Logs())
				}
			})
			return r
		}
		lastErr = err
	}
	t.Fatalf("lambdatest: start the emulator: %v", lastErr)
	return nil
}

func startRIE(bin, bootstrap, home string, env map[string]string) (*RIE, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	apiAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	logs := &logBuffer{max: rieLogMax}
	cmd := exec.Command(bin, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = rieEnv(home, env)
	cmd.Stdout = logs
	cmd.Stderr = logs
	cmd.WaitDelay = stopTimeout
	// Own process group; and if the test binary dies without cleaning up,
	// the kernel kills the emulator (the bootstrap then exits on its next
	// Runtime API call).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	r := &RIE{
		URL:       "http://" + addr,
		bootstrap: bootstrap,
		cmd:       cmd,
		logs:      logs,
		exited:    make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	deadline := time.Now().Add(rieStartTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-r.exited:
			return nil, fmt.Errorf("the emulator exited before listening on %s: %s", addr, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = r.Close()
			return nil, fmt.Errorf("the emulator did not listen on %s within %s: %s", addr, rieStartTimeout, logs.String())
		}
	}
	r.raw = &rawRecorder{next: &http.Client{Transport: &http.Transport{Proxy: nil}}}
	r.client = lambda.New(lambda.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(r.URL),
		HTTPClient:   r.raw,
		Retryer:      aws.NopRetryer{},
	})
	return r, nil
}

// rieEnv is the emulator's environment: PATH, HOME, TMPDIR, DefaultEnv, env.
func rieEnv(home string, env map[string]string) []string {
	merged := map[string]string{"PATH": os.Getenv("PATH"), "HOME": home, "TMPDIR": os.TempDir()}
	for k, v := range DefaultEnv {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+merged[k])
	}
	return out
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Invoke runs one invocation with the SDK's Lambda client (FunctionName
// "function", no retries) and returns the function's response payload. A
// handler error, panic, exit or timeout is returned as a *FunctionError.
// Calls are serialised: one invocation is in flight per emulator.
func (r *RIE) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.exited:
		return nil, fmt.Errorf("the emulator at %s has exited; log:\n%s", r.URL, r.logs.Tail(4096))
	default:
	}
	warmPID := r.lastPID
	if warmPID != 0 && !r.childAlive(warmPID) {
		warmPID = 0
	}
	if warmPID != 0 {
		resetPeak(warmPID)
	}
	start := time.Now()
	out, err := r.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("function"), Payload: payload})
	dur := time.Since(start)
	status, body := r.raw.take()

	var res []byte
	switch {
	case err == nil && out.FunctionError != nil:
		err = functionError(aws.ToString(out.FunctionError), out.Payload)
	case err == nil:
		res = out.Payload
		if fe := payloadError(out.Payload); fe != nil {
			res, err = nil, fe
		}
	case status == http.StatusBadGateway:
		// The runtime exited (os.Exit, or a panic, which aws-lambda-go reports
		// and then exits): the emulator answers 502 with the error document.
		if fe := payloadError(body); fe != nil {
			err = fe
		} else {
			err = &FunctionError{Type: "Runtime.ExitError", Message: string(body), Payload: errorDoc("Runtime.ExitError", string(body))}
		}
	default:
		err = fmt.Errorf("invoke the emulator at %s (HTTP %d %s): %w", r.URL, status, bytes.TrimSpace(body), err)
	}

	inv := Invocation{Start: start, Duration: dur}
	if pid := r.childPID(); pid != 0 {
		inv.PID, inv.Cold = pid, pid != warmPID
		inv.PeakRSS = peakRSS(pid)
		r.lastPID = pid
	}
	if err != nil {
		inv.Err = err.Error()
	}
	r.statsMu.Lock()
	r.stats = append(r.stats, inv)
	r.statsMu.Unlock()
	return res, err
}

// timedOut is the emulator's whole response when the function timeout passed.
var timedOut = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// payloadError recognises an error answered with HTTP 200: the error document
// (an object of errorMessage, errorType and optionally stackTrace, nothing
// else) or the emulator's timeout text.
func payloadError(p []byte) *FunctionError {
	p = bytes.TrimSpace(p)
	if timedOut.Match(p) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(p), Payload: errorDoc("Sandbox.Timedout", string(p))}
	}
	if len(p) == 0 || p[0] != '{' {
		return nil
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(p, &doc) != nil {
		return nil
	}
	for k := range doc {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return nil
		}
	}
	if _, ok := doc["errorType"]; !ok {
		return nil
	}
	if _, ok := doc["errorMessage"]; !ok {
		return nil
	}
	return functionError("Unhandled", p)
}

// functionError decodes an error document; header is X-Amz-Function-Error.
func functionError(header string, p []byte) *FunctionError {
	var doc struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	_ = json.Unmarshal(p, &doc)
	if doc.Type == "" {
		doc.Type = header
	}
	return &FunctionError{Type: doc.Type, Message: doc.Message, Payload: append([]byte(nil), p...)}
}

// errorDoc renders Lambda's error document.
func errorDoc(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

// Stats returns every invocation measured so far, in order.
func (r *RIE) Stats() []Invocation {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return append([]Invocation(nil), r.stats...)
}

// Logs returns the emulator's captured output (the last 256 KiB), which
// includes the bootstrap's stdout and stderr.
func (r *RIE) Logs() string { return r.logs.String() }

// Close kills the bootstrap and the emulator (each in its own process group)
// and waits for the emulator to exit. StartRIE registers it with t.Cleanup.
func (r *RIE) Close() error {
	select {
	case <-r.exited:
		return nil
	default:
	}
	for _, pid := range r.children() {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the bootstrap leads its own group
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill the emulator (pid %d): %w", r.cmd.Process.Pid, err)
	}
	select {
	case <-r.exited:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("the emulator (pid %d) did not exit after SIGKILL", r.cmd.Process.Pid)
	}
}

// children lists the emulator's child processes (the bootstrap).
func (r *RIE) children() []int {
	pid := r.cmd.Process.Pid
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	var out []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// childPID returns the running bootstrap's pid, 0 if there is none.
func (r *RIE) childPID() int {
	for _, pid := range r.children() {
		if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); err == nil && sameFile(exe, r.bootstrap) {
			return pid
		}
	}
	return 0
}

// childAlive reports whether pid is still the emulator's bootstrap.
func (r *RIE) childAlive(pid int) bool { return r.childPID() == pid }

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// resetPeak resets pid's VmHWM to its current RSS (Linux clear_refs 5).
func resetPeak(pid int) {
	_ = os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0)
}

// peakRSS reads pid's VmHWM in bytes; 0 if unavailable.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10
				}
			}
		}
	}
	return 0
}

// rawRecorder is the Lambda client's HTTP client: it keeps the status and
// body of the last response, which the SDK's error does not carry (the
// emulator's 502 body is the runtime's error document). One invocation is in
// flight per RIE, so one slot suffices.
type rawRecorder struct {
	next   *http.Client
	mu     sync.Mutex
	status int
	body   []byte
}

// Do implements the SDK's HTTPClient.
func (c *rawRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the emulator's response: %w", err)
	}
	c.mu.Lock()
	c.status, c.body = resp.StatusCode, body
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// take returns and clears the last response.
func (c *rawRecorder) take() (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, b := c.status, c.body
	c.status, c.body = 0, nil
	return s, b
}

// logBuffer keeps the last max bytes written to it; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer.
func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

// String returns everything kept.
func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// Tail returns the last n bytes kept.
func (w *logBuffer) Tail(n int) string {
	s := w.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

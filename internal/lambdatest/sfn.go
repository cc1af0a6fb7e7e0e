package lambdatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posture-dev/posture/internal/emulator"
	"github.com/posture-dev/posture/internal/emulator/emutest"
)

// minMotoSFN is the first moto that runs more than one Step Functions
// execution per process (5.2.1 fails every execution after the first).
var minMotoSFN = [3]int{5, 2, 5}

// invokeRoute matches the Lambda Invoke API path; the function name may be
// a name or an ARN (no slashes either way).
var invokeRoute = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)

// SFN is a moto server that executes Step Functions state machines, behind
// a loopback bridge: moto runs with MOTO_PORT set to the bridge's port, so
// the boto3 clients its executor uses for task states
// (http://localhost:${MOTO_PORT}) reach the bridge. The bridge answers
// Lambda Invoke calls (POST /2015-03-31/functions/<name>/invocations) with an
// Invoker and forwards every other request to moto.
type SFN struct {
	// URL is the bridge, http://127.0.0.1:PORT: point SDK clients for any
	// service here (or at MotoURL; both reach the same moto).
	URL string
	// MotoURL is moto itself.
	MotoURL string
	// Moto is the moto process.
	Moto *emulator.Server

	moto  *url.URL
	proxy *httputil.ReverseProxy
	logs  *logBuffer

	mu    sync.Mutex
	inv   Invoker
	calls map[string]int
	wg    sync.WaitGroup // asynchronous (Event) invocations
}

// StartSFN starts moto (5.2.5 or later: see LocateMotoSFN) with Step
// Functions execution enabled (POST {"stepfunctions":
// {"execute_state_machine": true}} to /moto-api/config) and the bridge in
// front of it, both on loopback; every Lambda function name is served by
// inv. inv may be nil and set with SetInvoker before the first execution,
// for an invoker whose environment needs the bridge's or moto's URL (the
// bridge answers Lambda.ServiceException while none is set). Both stop when
// the test ends, and moto's log is printed if the test
// failed. Without a suitable moto the test is skipped, or fails when CI is
// set.
func StartSFN(t testing.TB, inv Invoker) *SFN {
	t.Helper()
	bin, version, err := LocateMotoSFN()
	if err != nil {
		skipOrFail(t, "lambdatest: %v", err)
	}

	// The bridge's port must be known before moto starts (MOTO_PORT). Listen
	// on 127.0.0.1, and on ::1 with the same port where IPv6 exists, since
	// "localhost" may resolve to either.
	l4, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("lambdatest: listen for the bridge: %v", err)
	}
	port := l4.Addr().(*net.TCPAddr).Port
	listeners := []net.Listener{l4}
	if l6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		listeners = append(listeners, l6)
	}

	s := &SFN{
		URL:   "http://127.0.0.1:" + strconv.Itoa(port),
		inv:   inv,
		logs:  &logBuffer{max: rieLogMax},
		calls: map[string]int{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := emulator.Start(ctx, emulator.Options{
		Binary: bin,
		Env:    []string{"MOTO_PORT=" + strconv.Itoa(port)},
		Log:    s.logs,
	})
	if err != nil {
		for _, l := range listeners {
			_ = l.Close()
		}
		t.Fatalf("lambdatest: start moto %s (%s): %v", version, bin, err)
	}
	s.Moto, s.MotoURL = srv, srv.URL
	if s.moto, err = url.Parse(srv.URL); err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(s.moto); r.Out.Host = r.In.Host },
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	for _, l := range listeners {
		go func() { _ = hs.Serve(l) }()
	}
	t.Cleanup(func() {
		_ = hs.Close()
		s.wg.Wait()
		if err := srv.Close(); err != nil {
			t.Errorf("lambdatest: %v", err)
		}
		if t.Failed() {
			t.Logf("lambdatest: moto %s log (last %d bytes):\n%s", version, 16<<10, s.logs.Tail(16<<10))
		}
	})
	if err := s.enableExecution(ctx); err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	return s
}

// enableExecution turns on moto's Step Functions executor.
func (s *SFN) enableExecution(ctx context.Context) error {
	body := []byte(`{"stepfunctions": {"execute_state_machine": true}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.MotoURL+"/moto-api/config", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build the moto config request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("set moto's config: %w", err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	// moto answers 201 with the config, but its config view leaves the
	// stepfunctions section out: only the status can be checked here.
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("enable moto's Step Functions execution: HTTP %d %s", resp.StatusCode, got)
	}
	return nil
}

// ServeHTTP is the bridge: Lambda Invoke to the Invoker, the rest to moto.
func (s *SFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := invokeRoute.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil {
		s.proxy.ServeHTTP(w, r)
		return
	}
	name := m[1]
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		lambdaServiceError(w, fmt.Errorf("read the invoke request: %w", err))
		return
	}
	s.mu.Lock()
	s.calls[name]++
	inv := s.inv
	s.mu.Unlock()
	if inv == nil {
		lambdaServiceError(w, errors.New("lambdatest: the bridge has no invoker (SFN.SetInvoker)"))
		return
	}

	// boto3 reads the request id into ResponseMetadata, and moto's Lambda
	// task reads it from there when it reports a service error (KeyError
	// without it).
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_, _ = inv.Invoke(context.Background(), payload)
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out, err := inv.Invoke(r.Context(), payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		// What Lambda answers for a failed function: boto3 sets FunctionError
		// from this header and moto's task fails with the payload's errorType
		// as the error name.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(fe.Payload)
	case err != nil:
		lambdaServiceError(w, err)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
}

// requestID returns a random request id in UUID form.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// lambdaServiceError answers as Lambda does for a service fault; Step
// Functions reports it as Lambda.ServiceException.
func lambdaServiceError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "ServiceException")
	w.WriteHeader(http.StatusInternalServerError)
	b, _ := json.Marshal(map[string]string{"Type": "Service", "message": err.Error()})
	_, _ = w.Write(b)
}

// SetInvoker sets the Invoker that serves Lambda Invoke calls.
func (s *SFN) SetInvoker(inv Invoker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inv = inv
}

// Calls returns how many Lambda Invoke calls the bridge received for the
// function name (as the task's FunctionName gave it: a name or an ARN).
func (s *SFN) Calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// Config returns an aws.Config aimed at the bridge (emutest.Config).
func (s *SFN) Config(t testing.TB, region string) aws.Config {
	t.Helper()
	return emutest.Config(t, s.URL, region)
}

// Logs returns the end of moto's output.
func (s *SFN) Logs() string { return s.logs.String() }

// WaitExecution polls DescribeExecution every 100 ms until the execution is
// no longer RUNNING or ctx ends, and returns the last description.
func WaitExecution(ctx context.Context, client *sfn.Client, executionArn string) (*sfn.DescribeExecutionOutput, error) {
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArn)})
		if err != nil {
			return nil, fmt.Errorf("describe execution %s: %w", executionArn, err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning && out.Status != sfntypes.ExecutionStatusPendingRedrive {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("execution %s still %s: %w", executionArn, out.Status, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LocateMotoSFN returns a moto_server that can execute state machines and
// its version: the first of $MOTO_SERVER, <module root>/.venv/bin/moto_server
// (where `make emulator` installs 5.2.5+) and moto_server on PATH whose
// version is 5.2.5 or later. A candidate whose version cannot be read is
// taken only when no candidate is known to be recent enough.
func LocateMotoSFN() (bin, version string, err error) {
	var cands []string
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		cands = append(cands, p)
	}
	if root, err := moduleRoot(); err == nil {
		cands = append(cands, filepath.Join(root, ".venv", "bin", "moto_server"))
	}
	cands = append(cands, "moto_server")
	var unknown string
	var old []string
	for _, c := range cands {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		v := motoVersion(path)
		switch {
		case v == "":
			if unknown == "" {
				unknown = path
			}
		case versionAtLeast(v, minMotoSFN):
			return path, v, nil
		default:
			old = append(old, path+" is "+v)
		}
	}
	if unknown != "" {
		return unknown, "(version unknown)", nil
	}
	if len(old) > 0 {
		return "", "", fmt.Errorf("Step Functions tests need moto 5.2.5 or later (older ones fail every execution after the first), but %s: run `make emulator` or set MOTO_SERVER", strings.Join(old, ", "))
	}
	return "", "", fmt.Errorf("moto_server not found (run `make emulator` or set MOTO_SERVER)")
}

// motoVersion asks Python for moto's version: the interpreter named on
// moto_server's #! line, else a python3 beside moto_server (a virtualenv's
// bin or pyenv's shims); "" when neither answers.
func motoVersion(path string) string {
	var pythons []string
	if f, err := os.Open(path); err == nil {
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		_ = f.Close()
		line, _, _ := strings.Cut(string(head[:n]), "\n")
		if interp, ok := strings.CutPrefix(line, "#!"); ok {
			if fields := strings.Fields(interp); len(fields) == 1 && strings.Contains(filepath.Base(fields[0]), "python") {
				pythons = append(pythons, fields[0])
			}
		}
	}
	pythons = append(pythons, filepath.Join(filepath.Dir(path), "python3"))
	for _, py := range pythons {
		out, err := exec.Command(py, "-c", "import moto; print(moto.__version__)").Output()
		if v := strings.TrimSpace(string(out)); err == nil && v != "" {
			return v
		}
	}
	return ""
}

// versionAtLeast compares the leading numeric parts of a version.
func versionAtLeast(v string, min [3]int) bool {
	parts := strings.SplitN(v, ".", 4)
	for i := range 3 {
		if i >= len(parts) {
			return false
		}
		digits := parts[i]
		if end := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
			digits = digits[:end]
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			return false
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}

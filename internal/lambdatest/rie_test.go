package lambdatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/lambdatest"
)

func TestMain(m *testing.M) { os.Exit(lambdatest.Main(m)) }

// echoPkg is the stand-in bootstrap, relative to the module root.
const echoPkg = "./internal/lambdatest/echo"

// echoed is the echo bootstrap's answer.
type echoed struct {
	Echo       json.RawMessage    `json:"echo"`
	Env        map[string]*string `json:"env"`
	PID        int                `json:"pid"`
	RequestID  string             `json:"request_id"`
	DeadlineMS int64              `json:"deadline_ms"`
	StartedNS  int64              `json:"started_ns"`
	EndedNS    int64              `json:"ended_ns"`
	Put        string             `json:"put"`
}

func invokeEcho(t *testing.T, inv lambdatest.Invoker, event any) echoed {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := inv.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	var got echoed
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	return got
}

func TestRIEEchoesEventAndEnvironment(t *testing.T) {
	boot := lambdatest.Build(t, echoPkg)
	t.Setenv("LAMBDATEST_NOT_PASSED", "from the test process")
	rie := lambdatest.StartRIE(t, boot, map[string]string{
		"POSTURE_BUCKET": "evidence",
		"POSTURE_PREFIX": "a b=c/",
		"AWS_REGION":     "eu-west-2",
	})
	names := []string{"POSTURE_BUCKET", "POSTURE_PREFIX", "AWS_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_RUNTIME_API", "LAMBDATEST_NOT_PASSED"}
	got := invokeEcho(t, rie, map[string]any{"echo": map[string]any{"n": 1, "s": []string{"x", "y"}}, "env": names})

	if string(got.Echo) != `{"n":1,"s":["x","y"]}` {
		t.Errorf("echo = %s", got.Echo)
	}
	want := map[string]string{
		"POSTURE_BUCKET":                  "evidence",
		"POSTURE_PREFIX":                  "a b=c/",
		"AWS_REGION":                      "eu-west-2", // env overrides DefaultEnv
		"AWS_ACCESS_KEY_ID":               "testing",
		"AWS_LAMBDA_FUNCTION_NAME":        "function",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
	}
	for k, v := range want {
		if got.Env[k] == nil || *got.Env[k] != v {
			t.Errorf("env %s = %v, want %q", k, got.Env[k], v)
		}
	}
	if api := got.Env["AWS_LAMBDA_RUNTIME_API"]; api == nil || !strings.HasPrefix(*api, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %v, want a loopback address", api)
	}
	if v, ok := got.Env["LAMBDATEST_NOT_PASSED"]; !ok || v != nil {
		t.Errorf("the test's own environment leaked into the function: %v", v)
	}
	// AWS_LAMBDA_FUNCTION_TIMEOUT=900 in DefaultEnv: the handler's deadline.
	if got.DeadlineMS < 890_000 || got.DeadlineMS > 900_000 {
		t.Errorf("deadline in %d ms, want about 900000", got.DeadlineMS)
	}

	again := invokeEcho(t, rie, map[string]any{"echo": 2})
	if again.PID != got.PID || again.RequestID == got.RequestID {
		t.Errorf("second invocation: pid %d request %s, first pid %d request %s; want the same process, a new request", again.PID, again.RequestID, got.PID, got.RequestID)
	}
	stats := rie.Stats()
	if len(stats) != 2 {
		t.Fatalf("stats: %d invocations, want 2", len(stats))
	}
	if !stats[0].Cold || stats[1].Cold || stats[0].PID != got.PID || stats[1].PID != got.PID {
		t.Errorf("stats = %+v, want a cold then a warm invocation of pid %d", stats, got.PID)
	}
	for i, s := range stats {
		if s.PeakRSS < 1<<20 || s.Duration <= 0 || s.Err != "" {
			t.Errorf("stats[%d] = %+v, want a peak RSS over 1 MiB, a duration and no error", i, s)
		}
		t.Logf("invocation %d: cold=%v %v peak RSS %.1f MiB", i, s.Cold, s.Duration, float64(s.PeakRSS)/(1<<20))
	}
}

func TestRIEPeakRSSIsPerInvocation(t *testing.T) {
	rie := lambdatest.StartRIE(t, lambdatest.Build(t, echoPkg), nil)
	invokeEcho(t, rie, map[string]any{"echo": 1})
	invokeEcho(t, rie, map[string]any{"alloc_mb": 64})
	invokeEcho(t, rie, map[string]any{"echo": 3})
	s := rie.Stats()
	// The 64 MiB stay allocated, so the third invocation's peak is above
	// the first's too; the second's covers the allocation.
	if s[1].PeakRSS < s[0].PeakRSS+60<<20 {
		t.Errorf("peak RSS %d then %d after allocating 64 MiB", s[0].PeakRSS, s[1].PeakRSS)
	}
	if s[2].PeakRSS < s[1].PeakRSS-8<<20 || s[2].PeakRSS > s[1].PeakRSS+8<<20 {
		t.Errorf("peak RSS of the third invocation %d, want about the retained %d", s[2].PeakRSS, s[1].PeakRSS)
	}
}

func TestRIEFunctionErrors(t *testing.T) {
	rie := lambdatest.StartRIE(t, lambdatest.Build(t, echoPkg), map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "1"})
	ctx := context.Background()
	first := invokeEcho(t, rie, map[string]any{"echo": 0})

	cases := []struct {
		event    string
		typ, msg string
		newPID   bool // the runtime was restarted after it
	}{
		{event: `{"fail":"boom"}`, typ: "EchoFailed", msg: "boom"},
		{event: `{"panic":"aargh"}`, typ: "string", msg: "aargh", newPID: true},
		{event: `{"exit":3}`, typ: "Runtime.ExitError", msg: "exit status 3", newPID: true},
		{event: `{"sleep_ms":2500}`, typ: "Sandbox.Timedout", msg: "Task timed out after 1.00 seconds", newPID: true},
	}
	pid := first.PID
	for _, c := range cases {
		out, err := rie.Invoke(ctx, []byte(c.event))
		var fe *lambdatest.FunctionError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: got %q, %v; want a *FunctionError", c.event, out, err)
		}
		if fe.Type != c.typ || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%s: error %s %q, want %s containing %q", c.event, fe.Type, fe.Message, c.typ, c.msg)
		}
		var doc struct{ ErrorType, ErrorMessage string }
		if err := json.Unmarshal(fe.Payload, &doc); err != nil || doc.ErrorType != c.typ {
			t.Errorf("%s: payload %s is not an error document of type %s", c.event, fe.Payload, c.typ)
		}
		// The function keeps working after each failure.
		next := invokeEcho(t, rie, map[string]any{"echo": 1})
		if (next.PID != pid) != c.newPID {
			t.Errorf("%s: pid %d after, %d before; want a new process: %v", c.event, next.PID, pid, c.newPID)
		}
		pid = next.PID
	}
}

func TestRIESerialisesConcurrentInvocations(t *testing.T) {
	rie := lambdatest.StartRIE(t, lambdatest.Build(t, echoPkg), nil)
	invokeEcho(t, rie, map[string]any{"echo": 0}) // start the runtime
	var wg sync.WaitGroup
	got := make([]echoed, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = invokeEcho(t, rie, map[string]any{"echo": i, "sleep_ms": 300})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	a, b := got[0], got[1]
	if string(a.Echo) != "0" || string(b.Echo) != "1" || a.PID != b.PID {
		t.Fatalf("answers %+v %+v", a, b)
	}
	if a.StartedNS > b.StartedNS {
		a, b = b, a
	}
	if a.EndedNS > b.StartedNS {
		t.Errorf("the handler ran both invocations at once: [%d,%d] and [%d,%d]", a.StartedNS, a.EndedNS, b.StartedNS, b.EndedNS)
	}
}

func TestRIEBootstrapWritesToMotoS3(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	client := s3.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatal(err)
	}
	rie := lambdatest.StartRIE(t, lambdatest.Build(t, echoPkg), map[string]string{"AWS_ENDPOINT_URL": srv.URL})
	got := invokeEcho(t, rie, map[string]any{"put": map[string]string{"bucket": "evidence", "key": "runs/x/hello.txt", "body": "hello from the bootstrap"}})
	if got.Put != "s3://evidence/runs/x/hello.txt" {
		t.Errorf("put = %q", got.Put)
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("runs/x/hello.txt")})
	if err != nil {
		t.Fatalf("read back the object: %v", err)
	}
	defer obj.Body.Close()
	body, _ := io.ReadAll(obj.Body)
	if string(body) != "hello from the bootstrap" {
		t.Errorf("object body %q", body)
	}
}

func TestPoolRunsInParallelUpToItsSize(t *testing.T) {
	pool := lambdatest.NewPool(t, lambdatest.Build(t, echoPkg), nil, 3)
	const n = 9
	got := make([]echoed, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = invokeEcho(t, pool, map[string]any{"echo": i, "sleep_ms": 200})
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}
	pids := map[int]bool{}
	maxInFlight := 0
	for i, g := range got {
		if string(g.Echo) != strings.TrimSpace(string(mustJSON(t, i))) {
			t.Errorf("answer %d echoed %s", i, g.Echo)
		}
		pids[g.PID] = true
		inFlight := 0
		for _, h := range got {
			if h.StartedNS <= g.StartedNS && g.StartedNS < h.EndedNS {
				inFlight++
			}
		}
		maxInFlight = max(maxInFlight, inFlight)
	}
	if len(pids) != 3 || maxInFlight < 2 || maxInFlight > 3 {
		t.Errorf("%d processes, at most %d invocations at once; want 3 processes, 2-3 at once", len(pids), maxInFlight)
	}
	if elapsed >= n*200*time.Millisecond {
		t.Errorf("9 invocations of 200 ms on 3 emulators took %v: not parallel", elapsed)
	}
	if s := pool.Stats(); len(s) != n {
		t.Errorf("pool stats: %d invocations, want %d", len(s), n)
	}
	t.Logf("9 x 200 ms on a pool of 3: %v", elapsed)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRIEWarmInvocationOverhead(t *testing.T) {
	rie := lambdatest.StartRIE(t, lambdatest.Build(t, echoPkg), nil)
	first := invokeEcho(t, rie, map[string]any{"echo": 0})
	for i := 1; i <= 50; i++ {
		if got := invokeEcho(t, rie, map[string]any{"echo": i}); got.PID != first.PID {
			t.Fatalf("invocation %d ran in pid %d, want the warm %d", i, got.PID, first.PID)
		}
	}
	stats := rie.Stats()
	warm := lambdatest.Summarize(stats[1:])
	if warm.N != 50 || warm.Cold != 0 || warm.Errors != 0 || warm.PeakRSS == 0 {
		t.Errorf("warm invocations: %+v", warm)
	}
	t.Logf("cold: %v; warm: %s", stats[0].Duration, warm)
}

package lambdatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posture-dev/posture/internal/lambdatest"
)

// functionArn is the FunctionName every task of the test state machine uses.
const functionArn = "arn:aws:lambda:us-east-1:123456789012:function:posture"

// fanOutASL has the shape of statemachine/posture.asl.json (NIGHTLY.md):
// Plan -> Distributed Map over the plan's S3 item list -> Assemble, with a
// Catch on the Map to AssembleIncomplete -> Fail. Differences: Plan passes
// the execution input's item count and failing items to the stand-in, and
// the inner Retry also names EchoFailed (the stand-in's handler error) with
// a 1 s interval, so that a failing item is retried. The bridge's answer
// to an injected service fault (faultyInvoker) proves the contract's own
// entries: Lambda.ServiceException is retried.
const fanOutASL = `{
  "Comment": "lambdatest: the nightly fan-out's shape",
  "StartAt": "Plan",
  "States": {
    "Plan": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "FUNCTION", "Payload": {"action": "plan", "items.$": "$.items", "fail_items.$": "$.fail_items", "no_plan.$": "$.no_plan"}},
      "OutputPath": "$.Payload",
      "Next": "ScanAccounts"
    },
    "ScanAccounts": {
      "Type": "Map",
      "ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.plan_key"}
      },
      "ItemSelector": {
        "action": "scan-account",
        "scan_id.$": "$.scan_id",
        "account_id.$": "$$.Map.Item.Value.account_id",
        "account_name.$": "$$.Map.Item.Value.account_name"
      },
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "ScanAccount",
        "States": {
          "ScanAccount": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "FUNCTION", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Retry": [{
              "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException", "EchoFailed"],
              "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1
            }],
            "End": true
          }
        }
      },
      "MaxConcurrency": 4,
      "ToleratedFailureCount": TOLERATED,
      "ResultPath": null,
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.map_error", "Next": "AssembleIncomplete"}],
      "Next": "Assemble"
    },
    "Assemble": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "FUNCTION", "Payload": {"action": "assemble", "scan_id.$": "$.scan_id"}},
      "OutputPath": "$.Payload",
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"},
    "AssembleIncomplete": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "FUNCTION", "Payload": {"action": "assemble", "scan_id.$": "$.scan_id", "map_error.$": "$.map_error"}},
      "OutputPath": "$.Payload",
      "Next": "AccountsFailed"
    },
    "AccountsFailed": {"Type": "Fail", "Error": "AccountsFailed", "Cause": "one or more accounts failed"}
  }
}`

// assembled is the stand-in's assemble output.
type assembled struct {
	ScanID   string          `json:"scan_id"`
	Partials int             `json:"partials"`
	Accounts []string        `json:"accounts"`
	MapError json.RawMessage `json:"map_error"`
}

func TestStepFunctionsFanOutOnMoto(t *testing.T) {
	testStart := time.Now()
	boot := lambdatest.Build(t, echoPkg)
	bridge := lambdatest.StartSFN(t, nil)
	const bucket = "posture-evidence"
	pool := lambdatest.NewPool(t, boot, map[string]string{"POSTURE_BUCKET": bucket, "AWS_ENDPOINT_URL": bridge.MotoURL}, 4)
	faults := &faultyInvoker{inner: pool}
	bridge.SetInvoker(faults)
	t.Logf("setup (build, moto, 4 emulators): %v", time.Since(testStart))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := bridge.Config(t, "us-east-1")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sfc := sfn.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	machine := func(name string, tolerated int) string {
		def := strings.NewReplacer("FUNCTION", functionArn, "TOLERATED", string(mustJSON(t, tolerated))).Replace(fanOutASL)
		out, err := sfc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name: aws.String(name), Definition: aws.String(def),
			RoleArn: aws.String("arn:aws:iam::123456789012:role/posture-states"),
		})
		if err != nil {
			t.Fatalf("create state machine %s: %v", name, err)
		}
		return aws.ToString(out.StateMachineArn)
	}
	executions := 0
	run := func(smArn, input string) (*sfn.DescribeExecutionOutput, time.Duration) {
		t.Helper()
		start := time.Now()
		// moto names an execution started without a Name "None", so a
		// second one fails with ExecutionAlreadyExists: always name it.
		executions++
		ex, err := sfc.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(smArn), Input: aws.String(input),
			Name: aws.String("run-" + string(mustJSON(t, executions))),
		})
		if err != nil {
			t.Fatalf("start execution: %v", err)
		}
		out, err := lambdatest.WaitExecution(ctx, sfc, aws.ToString(ex.ExecutionArn))
		if err != nil {
			t.Fatal(err)
		}
		return out, time.Since(start)
	}
	keys := func(prefix string) []string {
		t.Helper()
		var out []string
		p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				out = append(out, strings.TrimPrefix(aws.ToString(o.Key), prefix))
			}
		}
		sort.Strings(out)
		return out
	}

	tolerant := machine("posture-fanout", 1)
	var calls int
	var wantAccounts []string
	for i := range 25 {
		wantAccounts = append(wantAccounts, string(mustJSON(t, 100000000000+i)))
	}

	// Two executions in the same moto both succeed (5.2.1 failed the second).
	// In the second, one account's first invocation fails in Lambda itself
	// (the bridge answers ServiceException): the Retry on
	// Lambda.ServiceException invokes it again.
	scans := map[string]bool{}
	for i := range 2 {
		retried := 0
		if i == 1 {
			faults.arm(wantAccounts[11])
			retried = 1
		}
		calls = bridge.Calls(functionArn)
		out, took := run(tolerant, `{"items": 25, "fail_items": [], "no_plan": false}`)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %d: %s %s %s", i+1, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		var got assembled
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
			t.Fatalf("execution %d output %s: %v", i+1, aws.ToString(out.Output), err)
		}
		sort.Strings(got.Accounts)
		if got.Partials != 25 || strings.Join(got.Accounts, ",") != strings.Join(wantAccounts, ",") || scans[got.ScanID] {
			t.Errorf("execution %d: assemble returned %+v, want 25 new partials", i+1, got)
		}
		scans[got.ScanID] = true
		markers := keys("work/" + got.ScanID + "/accounts/")
		if len(markers) != 25 || markers[0] != "100000000000.json" || markers[24] != "100000000024.json" {
			t.Errorf("execution %d: markers %v", i+1, markers)
		}
		if n := bridge.Calls(functionArn) - calls; n != 27+retried {
			t.Errorf("execution %d: %d Lambda invocations, want %d (plan, 25 accounts, %d retried, assemble)", i+1, n, 27+retried, retried)
		}
		if n := len(keys("work/" + got.ScanID + "/attempts/" + wantAccounts[11] + "/")); n != 1 {
			t.Errorf("execution %d: the handler ran %d times for account %s, want 1", i+1, n, wantAccounts[11])
		}
		t.Logf("execution %d: 25-item Distributed Map (MaxConcurrency 4, 4 emulators) SUCCEEDED in %v", i+1, took)
	}

	// Accounts that fail on every attempt (three invocations each: the
	// inner Retry works). moto 5.2.5 does not enforce ToleratedFailureCount:
	// a failed item never fails its Map run, even with 0 tolerated, so the
	// Map's Catch is not taken and Assemble runs with the missing partials.
	strict := machine("posture-fanout-strict", 0)
	for _, c := range []struct {
		machine   string
		tolerated int
		fail      []int
	}{
		{tolerant, 1, []int{7}},    // AWS: succeeds too (1 <= 1)
		{strict, 0, []int{7}},      // AWS: the Map fails, the Catch runs
		{tolerant, 1, []int{3, 7}}, // AWS: the Map fails, the Catch runs
	} {
		calls = bridge.Calls(functionArn)
		out, took := run(c.machine, `{"items": 25, "fail_items": `+string(mustJSON(t, c.fail))+`, "no_plan": false}`)
		hist := history(ctx, t, sfc, aws.ToString(out.ExecutionArn))
		name := "tolerated " + string(mustJSON(t, c.tolerated)) + ", failing " + string(mustJSON(t, c.fail))
		t.Logf("%s: %s in %v, %d invocations", name, out.Status, took, bridge.Calls(functionArn)-calls)
		if out.Status != sfntypes.ExecutionStatusSucceeded || !contains(hist, "MapRunSucceeded") || contains(hist, "MapRunFailed") {
			t.Errorf("%s: %s %q; events %s; want SUCCEEDED with MapRunSucceeded (moto ignores the tolerance)", name, out.Status, aws.ToString(out.Error), strings.Join(hist, " "))
			continue
		}
		var got assembled
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
			t.Fatalf("%s: output %s: %v", name, aws.ToString(out.Output), err)
		}
		if got.Partials != 25-len(c.fail) || len(got.MapError) != 0 {
			t.Errorf("%s: assemble returned %+v, want %d partials and no map_error", name, got, 25-len(c.fail))
		}
		for _, i := range c.fail {
			account := wantAccounts[i]
			if n := len(keys("work/" + got.ScanID + "/attempts/" + account + "/")); n != 3 {
				t.Errorf("%s: account %s invoked %d times, want 3 (1 + 2 retries)", name, account, n)
			}
			if contains(got.Accounts, account) {
				t.Errorf("%s: failing account %s has a partial", name, account)
			}
		}
		scans[got.ScanID] = true
		runs, err := sfc.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: out.ExecutionArn})
		if err != nil || len(runs.MapRuns) != 1 {
			t.Fatalf("%s: list map runs: %v, %+v", name, err, runs)
		}
		mr, err := sfc.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: runs.MapRuns[0].MapRunArn})
		if err != nil {
			t.Fatalf("%s: describe map run: %v", name, err)
		}
		if ic := mr.ItemCounts; mr.Status != sfntypes.MapRunStatusSucceeded || ic == nil || ic.Total != 25 || ic.Failed != int64(len(c.fail)) || ic.Succeeded != int64(25-len(c.fail)) || mr.ToleratedFailureCount != int64(c.tolerated) {
			t.Errorf("%s: map run %s, item counts %+v, tolerated %d; want SUCCEEDED with %d failed of 25", name, mr.Status, ic, mr.ToleratedFailureCount, len(c.fail))
		}
		if n := bridge.Calls(functionArn) - calls; n != 27+2*len(c.fail) {
			t.Errorf("%s: %d invocations, want %d", name, n, 27+2*len(c.fail))
		}
	}

	// The Catch path does run when the Map run itself fails: here its
	// ItemReader cannot read the plan. AssembleIncomplete gets the error as
	// map_error, then the execution fails with AccountsFailed.
	calls = bridge.Calls(functionArn)
	out, took := run(tolerant, `{"items": 25, "fail_items": [], "no_plan": true}`)
	hist := history(ctx, t, sfc, aws.ToString(out.ExecutionArn))
	t.Logf("missing plan: %s %q in %v; events %s", out.Status, aws.ToString(out.Error), took, strings.Join(hist, " "))
	if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "AccountsFailed" || !contains(hist, "MapRunFailed") {
		t.Errorf("missing plan: %s %q, want FAILED with AccountsFailed after MapRunFailed", out.Status, aws.ToString(out.Error))
	}
	if n := bridge.Calls(functionArn) - calls; n != 2 {
		t.Errorf("missing plan: %d invocations, want 2 (plan, assemble)", n)
	}
	var scanID string
	for _, k := range keys("work/") {
		if id, _, _ := strings.Cut(k, "/"); !scans[id] {
			scanID = id
		}
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("work/" + scanID + "/assembled.json")})
	if err != nil {
		t.Fatalf("missing plan: AssembleIncomplete's output (scan %q): %v", scanID, err)
	}
	defer obj.Body.Close()
	var incomplete struct {
		Partials int `json:"partials"`
		MapError struct {
			Error string `json:"Error"`
			Cause string `json:"Cause"`
		} `json:"map_error"`
	}
	if err := json.NewDecoder(obj.Body).Decode(&incomplete); err != nil {
		t.Fatal(err)
	}
	t.Logf("missing plan: map_error %+v", incomplete.MapError)
	if incomplete.Partials != 0 || incomplete.MapError.Error == "" {
		t.Errorf("missing plan: AssembleIncomplete got %+v, want 0 partials and the Map's error", incomplete)
	}
	t.Logf("the bootstrap under the emulators: %s", lambdatest.Summarize(pool.Stats()))
	t.Logf("whole test: %v", time.Since(testStart))
}

// faultyInvoker fails the first scan-account invocation of an armed account
// with an infrastructure error, before it reaches the function.
type faultyInvoker struct {
	inner   lambdatest.Invoker
	mu      sync.Mutex
	account string
}

func (f *faultyInvoker) arm(account string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.account = account
}

func (f *faultyInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev struct {
		Action    string `json:"action"`
		AccountID string `json:"account_id"`
	}
	_ = json.Unmarshal(payload, &ev)
	f.mu.Lock()
	fail := ev.Action == "scan-account" && ev.AccountID != "" && ev.AccountID == f.account
	if fail {
		f.account = ""
	}
	f.mu.Unlock()
	if fail {
		return nil, errors.New("injected Lambda service fault")
	}
	return f.inner.Invoke(ctx, payload)
}

// history returns the execution's event types in order, with a Map run's
// and a task's error name appended after a colon.
func history(ctx context.Context, t *testing.T, c *sfn.Client, arn string) []string {
	t.Helper()
	var out []string
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("execution history: %v", err)
		}
		for _, e := range page.Events {
			s := string(e.Type)
			switch {
			case e.TaskFailedEventDetails != nil:
				s += ":" + aws.ToString(e.TaskFailedEventDetails.Error)
			case e.MapRunFailedEventDetails != nil:
				s += ":" + aws.ToString(e.MapRunFailedEventDetails.Error)
			case e.ExecutionFailedEventDetails != nil:
				s += ":" + aws.ToString(e.ExecutionFailedEventDetails.Error)
			}
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want || strings.HasPrefix(s, want+":") {
			return true
		}
	}
	return false
}

package statemachine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const testFunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:posture"

// rendered renders the definition with the template's defaults and decodes it.
func rendered(t *testing.T) map[string]any {
	t.Helper()
	out, err := Render(map[string]string{
		"PostureFunctionArn":    testFunctionArn,
		"MaxConcurrency":        "20",
		"ToleratedFailureCount": "5",
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(out), &def); err != nil {
		t.Fatalf("rendered definition: %v", err)
	}
	return def
}

func obj(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T (%v), want an object", what, v, v)
	}
	return m
}

func state(t *testing.T, states map[string]any, name string) map[string]any {
	t.Helper()
	return obj(t, states[name], "state "+name)
}

func TestPlaceholders(t *testing.T) {
	want := []string{"MaxConcurrency", "PostureFunctionArn", "ToleratedFailureCount"}
	if got := Placeholders(); !slices.Equal(got, want) {
		t.Fatalf("Placeholders() = %v, want %v", got, want)
	}
}

func TestSourceIsJSONOnlyOnceRendered(t *testing.T) {
	// The numbers stand unquoted (see the package comment): the file itself
	// does not parse, and a quoted placeholder would be a string after
	// rendering, which Step Functions rejects.
	if json.Valid([]byte(Source())) {
		t.Fatal("the source parses as JSON: are MaxConcurrency/ToleratedFailureCount quoted placeholders? They must render to numbers")
	}
	for _, n := range []string{"MaxConcurrency", "ToleratedFailureCount"} {
		if strings.Contains(Source(), `"${`+n+`}"`) {
			t.Errorf("${%s} is quoted: it would render to a string", n)
		}
	}
}

func TestRenderRefusesMissingAndUnknownValues(t *testing.T) {
	_, err := Render(map[string]string{"PostureFunctionArn": testFunctionArn, "MaxConcurrency": "20"})
	if err == nil || !strings.Contains(err.Error(), "ToleratedFailureCount") {
		t.Errorf("Render without ToleratedFailureCount: err = %v, want it named", err)
	}
	_, err = Render(map[string]string{"PostureFunctionArn": testFunctionArn, "MaxConcurrency": "20",
		"ToleratedFailureCount": "5", "Extra": "x"})
	if err == nil || !strings.Contains(err.Error(), "Extra") {
		t.Errorf("Render with Extra: err = %v, want it named", err)
	}
	_, err = Render(map[string]string{"PostureFunctionArn": testFunctionArn, "MaxConcurrency": "twenty",
		"ToleratedFailureCount": "5"})
	if err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("Render with a non-number MaxConcurrency: err = %v, want not JSON", err)
	}
}

func TestFlow(t *testing.T) {
	def := rendered(t)
	states := obj(t, def["States"], "States")
	if def["StartAt"] != "Plan" {
		t.Errorf("StartAt = %v, want Plan", def["StartAt"])
	}
	// Plan -> ScanAccounts -> Assemble -> Succeed; ScanAccounts catches into
	// AssembleIncomplete -> Fail AccountsFailed.
	next := map[string]string{"Plan": "ScanAccounts", "ScanAccounts": "Assemble", "AssembleIncomplete": "AccountsFailed"}
	for from, to := range next {
		if got := state(t, states, from)["Next"]; got != to {
			t.Errorf("%s.Next = %v, want %s", from, got, to)
		}
	}
	done := state(t, states, state(t, states, "Assemble")["Next"].(string))
	if done["Type"] != "Succeed" {
		t.Errorf("Assemble leads to a %v state, want Succeed", done["Type"])
	}
	fail := state(t, states, "AccountsFailed")
	if fail["Type"] != "Fail" || fail["Error"] != "AccountsFailed" {
		t.Errorf("AccountsFailed = %v, want a Fail state with Error AccountsFailed", fail)
	}
	catch := obj(t, state(t, states, "ScanAccounts")["Catch"].([]any)[0], "ScanAccounts.Catch[0]")
	if !slices.Equal(catch["ErrorEquals"].([]any), []any{"States.ALL"}) || catch["ResultPath"] != "$.map_error" ||
		catch["Next"] != "AssembleIncomplete" {
		t.Errorf("ScanAccounts.Catch[0] = %v, want States.ALL, ResultPath $.map_error, Next AssembleIncomplete", catch)
	}
	// Every state is reachable and every transition names a state.
	reached := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		if reached[name] {
			return
		}
		s, ok := states[name].(map[string]any)
		if !ok {
			t.Errorf("a transition names %q, which is no state", name)
			return
		}
		reached[name] = true
		if n, ok := s["Next"].(string); ok {
			walk(n)
		}
		if cs, ok := s["Catch"].([]any); ok {
			for _, c := range cs {
				walk(c.(map[string]any)["Next"].(string))
			}
		}
	}
	walk(def["StartAt"].(string))
	for name := range states {
		if !reached[name] {
			t.Errorf("state %s is unreachable", name)
		}
	}
}

func TestLambdaTasks(t *testing.T) {
	def := rendered(t)
	states := obj(t, def["States"], "States")
	inner := obj(t, obj(t, state(t, states, "ScanAccounts")["ItemProcessor"], "ItemProcessor")["States"], "ItemProcessor.States")
	payloads := map[string]any{
		"Plan":               map[string]any{"action": "plan"},
		"ScanAccount":        nil, // the ItemSelector's object, as it is
		"Assemble":           map[string]any{"action": "assemble", "scan_id.$": "$.scan_id"},
		"AssembleIncomplete": map[string]any{"action": "assemble", "scan_id.$": "$.scan_id", "map_error.$": "$.map_error"},
	}
	for name, payload := range payloads {
		s, ok := states[name].(map[string]any)
		if !ok {
			s = state(t, inner, name)
		}
		if s["Type"] != "Task" || s["Resource"] != "arn:aws:states:::lambda:invoke" {
			t.Errorf("%s: Type %v Resource %v, want a lambda:invoke Task", name, s["Type"], s["Resource"])
		}
		params := obj(t, s["Parameters"], name+".Parameters")
		if params["FunctionName"] != testFunctionArn {
			t.Errorf("%s: FunctionName = %v, want the substituted function ARN", name, params["FunctionName"])
		}
		if payload == nil {
			if params["Payload.$"] != "$" {
				t.Errorf("%s: Payload.$ = %v, want $ (the ItemSelector's object)", name, params["Payload.$"])
			}
		} else if got, _ := json.Marshal(params["Payload"]); string(got) != mustJSON(t, payload) {
			t.Errorf("%s: Payload = %s, want %s", name, got, mustJSON(t, payload))
		}
		if ts, ok := s["TimeoutSeconds"].(float64); !ok || ts <= 0 || ts > 900 {
			t.Errorf("%s: TimeoutSeconds = %v, want 1..900 (Lambda's own limit)", name, s["TimeoutSeconds"])
		}
		if len(asList(s["Retry"])) == 0 {
			t.Errorf("%s: no Retry", name)
		}
		for _, r := range asList(s["Retry"]) {
			r := obj(t, r, name+".Retry")
			if b, _ := r["BackoffRate"].(float64); b < 1 {
				t.Errorf("%s: Retry BackoffRate %v, want >= 1", name, r["BackoffRate"])
			}
			if r["JitterStrategy"] != "FULL" {
				t.Errorf("%s: Retry JitterStrategy %v, want FULL", name, r["JitterStrategy"])
			}
			for _, e := range asList(r["ErrorEquals"]) {
				if !strings.HasPrefix(e.(string), "Lambda.") {
					t.Errorf("%s: retries %v: only Lambda service errors are retried (a handler error means infrastructure failed)", name, e)
				}
			}
		}
	}
	if got := state(t, states, "Plan")["OutputPath"]; got != "$.Payload" {
		t.Errorf("Plan.OutputPath = %v, want $.Payload", got)
	}
	if got := state(t, states, "Assemble")["OutputPath"]; got != "$.Payload" {
		t.Errorf("Assemble.OutputPath = %v, want $.Payload", got)
	}
	scan := state(t, inner, "ScanAccount")
	if v, ok := scan["ResultPath"]; !ok || v != nil {
		t.Errorf("ScanAccount.ResultPath = %v (present %v), want null", v, ok)
	}
	var retried []string
	for _, r := range asList(scan["Retry"]) {
		for _, e := range asList(r.(map[string]any)["ErrorEquals"]) {
			retried = append(retried, e.(string))
		}
	}
	for _, e := range []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"} {
		if !slices.Contains(retried, e) {
			t.Errorf("ScanAccount does not retry %s", e)
		}
	}
}

func TestDistributedMap(t *testing.T) {
	def := rendered(t)
	m := state(t, obj(t, def["States"], "States"), "ScanAccounts")
	if m["Type"] != "Map" {
		t.Fatalf("ScanAccounts.Type = %v, want Map", m["Type"])
	}
	proc := obj(t, m["ItemProcessor"], "ItemProcessor")
	cfg := obj(t, proc["ProcessorConfig"], "ProcessorConfig")
	if cfg["Mode"] != "DISTRIBUTED" || cfg["ExecutionType"] != "STANDARD" {
		t.Errorf("ProcessorConfig = %v, want Mode DISTRIBUTED, ExecutionType STANDARD (moto rejects EXPRESS children)", cfg)
	}
	if m["MaxConcurrency"] != 20.0 {
		t.Errorf("MaxConcurrency = %#v, want the number 20", m["MaxConcurrency"])
	}
	if m["ToleratedFailureCount"] != 5.0 {
		t.Errorf("ToleratedFailureCount = %#v, want the number 5", m["ToleratedFailureCount"])
	}
	for _, k := range []string{"ItemBatcher", "ToleratedFailurePercentage", "ItemsPath"} {
		if _, ok := m[k]; ok {
			t.Errorf("ScanAccounts has %s: moto 5.2.5 rejects ItemBatcher and an integer ToleratedFailurePercentage; the items come from the ItemReader", k)
		}
	}
	if strings.Contains(Source(), "JSONL") {
		t.Error("the definition mentions JSONL: moto 5.2.5 rejects JSONL item sources")
	}
	reader := obj(t, m["ItemReader"], "ItemReader")
	if reader["Resource"] != "arn:aws:states:::s3:getObject" {
		t.Errorf("ItemReader.Resource = %v", reader["Resource"])
	}
	if got := obj(t, reader["ReaderConfig"], "ReaderConfig")["InputType"]; got != "JSON" {
		t.Errorf("ItemReader InputType = %v, want JSON", got)
	}
	wantParams := map[string]any{"Bucket.$": "$.bucket", "Key.$": "$.plan_key"}
	if got := mustJSON(t, reader["Parameters"]); got != mustJSON(t, wantParams) {
		t.Errorf("ItemReader.Parameters = %s, want %s", got, mustJSON(t, wantParams))
	}
	wantSel := map[string]any{"action": "scan-account", "scan_id.$": "$.scan_id",
		"account_id.$": "$$.Map.Item.Value.account_id", "account_name.$": "$$.Map.Item.Value.account_name"}
	if got := mustJSON(t, m["ItemSelector"]); got != mustJSON(t, wantSel) {
		t.Errorf("ItemSelector = %s, want %s", got, mustJSON(t, wantSel))
	}
	// The Map's output is its input (the plan): Assemble reads $.scan_id.
	if v, ok := m["ResultPath"]; !ok || v != nil {
		t.Errorf("ScanAccounts.ResultPath = %v (present %v), want null", v, ok)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

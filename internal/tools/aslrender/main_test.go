package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunWritesTheDeployedDefinition(t *testing.T) {
	out := filepath.Join(t.TempDir(), "asl.json")
	if err := run("../../../template.yaml", "PostureStateMachine", out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		States map[string]struct {
			MaxConcurrency        any
			ToleratedFailureCount any
			Parameters            struct{ FunctionName string }
		}
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	m := def.States["ScanAccounts"]
	if m.MaxConcurrency != 20.0 || m.ToleratedFailureCount != 5.0 {
		t.Errorf("MaxConcurrency %v, ToleratedFailureCount %v: want the template defaults 20 and 5", m.MaxConcurrency, m.ToleratedFailureCount)
	}
	if fn := def.States["Plan"].Parameters.FunctionName; !strings.HasPrefix(fn, "arn:aws:lambda:") {
		t.Errorf("Plan FunctionName = %q, want a sample Lambda ARN", fn)
	}
}

func TestRunRefusesAnotherDefinition(t *testing.T) {
	tpl := filepath.Join(t.TempDir(), "t.yaml")
	body := "Resources:\n  SM:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: other.json\n"
	if err := os.WriteFile(tpl, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(tpl, "SM", ""); err == nil || !strings.Contains(err.Error(), "other.json") {
		t.Errorf("err = %v, want the DefinitionUri named", err)
	}
}

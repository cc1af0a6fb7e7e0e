package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/posture-dev/posture/internal/nightly"
)

// TestHandlerThroughRuntime: the handler as aws-lambda-go wraps it (the
// runtime's JSON in, JSON or an error out): a bad setting fails the
// invocation naming the variable; so does an unknown action.
func TestHandlerThroughRuntime(t *testing.T) {
	env := map[string]string{nightly.EnvBucket: "acme-evidence", nightly.EnvRegions: "us-east-1,mars"}
	h := nightly.Handler{Getenv: func(k string) string { return env[k] }, Version: version}
	_, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), []byte(`{"action":"run"}`))
	if err == nil || !strings.Contains(err.Error(), `POSTURE_REGIONS: "mars" is not a region name`) {
		t.Errorf("bad setting: %v", err)
	}
	env[nightly.EnvRegions] = "us-east-1"
	_, err = lambda.NewHandler(h.Handle).Invoke(context.Background(), []byte(`{"action":"explode"}`))
	if err == nil || !strings.Contains(err.Error(), `unknown action "explode"`) {
		t.Errorf("unknown action: %v", err)
	}
}

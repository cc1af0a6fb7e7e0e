package emutest_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/posture-dev/posture/internal/emulator/emutest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func TestFresh(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()

	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	resp, err := http.Get(srv.URL + "/moto-api/")
	if err != nil {
		t.Fatalf("GET /moto-api/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /moto-api/: status %s, want 200", resp.Status)
	}

	// The second call returns the same, shared server.
	if again := emutest.Fresh(t); again != srv {
		t.Fatalf("Fresh returned a different server: %s, then %s", srv.URL, again.URL)
	}

	// Config reaches the emulator with the SDK.
	out, err := sts.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if out.Account == nil || *out.Account == "" {
		t.Fatalf("GetCallerIdentity returned no account")
	}
}

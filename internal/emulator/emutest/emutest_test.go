package emutest_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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

// TestFreshFakedAgesResources creates a user with the clock 120 days back
// and one at the real time, and reads their creation dates.
func TestFreshFakedAgesResources(t *testing.T) {
	srv := emutest.FreshFaked(t)
	if !srv.FakeTime() {
		t.Fatal("FreshFaked server does not run under libfaketime")
	}
	ctx := context.Background()
	c := iam.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	emutest.SetClock(t, srv, -120*24*time.Hour)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	emutest.SetClock(t, srv, 0)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	for name, wantDays := range map[string]float64{"old": 120, "new": 0} {
		out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		age := time.Since(aws.ToTime(out.User.CreateDate)).Hours() / 24
		if age < wantDays-0.1 || age > wantDays+0.1 {
			t.Errorf("user %s is %.2f days old, want %v", name, age, wantDays)
		}
	}
	if err := emutest.Fresh(t).SetClockOffset(0); err == nil {
		t.Error("the plain server accepted a clock offset")
	}
}

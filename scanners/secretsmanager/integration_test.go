package secretsmanager_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const day = 24 * time.Hour

// TestSecretsAgainstEmulator ages secrets for real: the emulator runs under
// libfaketime and the old secrets are created (and rotated) 200 days back.
func TestSecretsAgainstEmulator(t *testing.T) {
	srv := emutest.FreshFaked(t)
	ctx := context.Background()
	clients := map[string]*secretsmanager.Client{
		"us-east-1": secretsmanager.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1")),
		"eu-west-1": secretsmanager.NewFromConfig(emutest.Config(t, srv.URL, "eu-west-1")),
	}
	create := func(region, name string, rotate bool) {
		t.Helper()
		c := clients[region]
		if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("s3cr3t")}); err != nil {
			t.Fatal(err)
		}
		if rotate {
			// Without a rotation function the emulator rotates at once and
			// records the date (RotateSecret is test setup; the scanner
			// never calls it).
			if _, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name),
				RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	emutest.SetClock(t, srv, -200*day)
	create("us-east-1", "old-never-rotated", false)
	create("us-east-1", "old-rotation-stalled", true)
	create("eu-west-1", "eu-old-never-rotated", false)
	emutest.SetClock(t, srv, 0)
	create("us-east-1", "new-rotated", true)
	create("us-east-1", "new-never-rotated", false)
	create("eu-west-1", "eu-new-rotated", true)

	regions := []string{"us-east-1", "eu-west-1"}
	scan := scantest.Scan(t, srv.URL, regions, "secretsmanager-rotation-disabled", "secretsmanager-secret-unrotated")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	const P, F = model.StatusPass, model.StatusFail
	want := func(check string, statuses map[string]model.Status) map[scantest.Key]model.Status {
		out := map[scantest.Key]model.Status{}
		for name, st := range statuses {
			region := "us-east-1"
			if name[:3] == "eu-" {
				region = "eu-west-1"
			}
			out[scantest.Key{Check: check, Region: region, Resource: name}] = st
		}
		return out
	}
	scantest.ExpectExactly(t, scan, "secretsmanager-rotation-disabled", want("secretsmanager-rotation-disabled", map[string]model.Status{
		"old-never-rotated": F, "old-rotation-stalled": P, "eu-old-never-rotated": F, "new-rotated": P, "new-never-rotated": F, "eu-new-rotated": P,
	}), nil)
	unrotated := map[string]model.Status{
		"old-never-rotated": F, "old-rotation-stalled": F, "eu-old-never-rotated": F, "new-rotated": P, "new-never-rotated": P, "eu-new-rotated": P,
	}
	scantest.ExpectExactly(t, scan, "secretsmanager-secret-unrotated", want("secretsmanager-secret-unrotated", unrotated), nil)
	r := scantest.Find(t, scan, "secretsmanager-secret-unrotated", "us-east-1", "old-never-rotated")
	if r.Message != "secret old-never-rotated was never rotated; created 200 days ago (maximum 90)" {
		t.Errorf("message %q", r.Message)
	}
	if r := scantest.Find(t, scan, "secretsmanager-secret-unrotated", "us-east-1", "old-rotation-stalled"); r.Evidence["last_rotated_at"] == nil {
		t.Errorf("stalled rotation evidence %v", r.Evidence)
	}

	// A 365-day maximum: no secret is old enough.
	raised, err := config.Parse([]byte("credentials:\n  secret_max_age_days: 365\n"))
	if err != nil {
		t.Fatal(err)
	}
	scan = scantest.ScanWith(t, srv.URL, regions, scantest.Options{Config: &raised}, "secretsmanager-secret-unrotated")
	for name := range unrotated {
		unrotated[name] = P
	}
	scantest.ExpectExactly(t, scan, "secretsmanager-secret-unrotated", want("secretsmanager-secret-unrotated", unrotated), nil)
}

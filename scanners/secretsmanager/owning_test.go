package secretsmanager

import (
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// TestSecretOwnedByAnotherService: a secret another service manages (an
// RDS-managed master password) is judged like any other, and both checks
// say which service owns it, in the message and the evidence.
func TestSecretOwnedByAnotherService(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	created, rotated := now.Add(-200*24*time.Hour), now.Add(-3*24*time.Hour)
	inv := &Inventory{Secrets: []Secret{
		{Name: "rds!db-1", ARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-1-AbCdEf", OwningService: "rds",
			RotationEnabled: true, RotationDays: 7, CreatedAt: &created, LastRotatedAt: &rotated},
		{Name: "rds!db-2", ARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-2-AbCdEf", OwningService: "rds", CreatedAt: &created},
		{Name: "app", ARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf", CreatedAt: &created},
	}}
	params := check.DefaultParams(now)
	want := map[string]map[string]struct {
		status model.Status
		msg    string
	}{
		"secretsmanager-rotation-disabled": {
			"rds!db-1": {model.StatusPass, "secret rds!db-1 (managed by rds) rotates automatically every 7 days"},
			"rds!db-2": {model.StatusFail, "secret rds!db-2 (managed by rds) has no rotation configured"},
			"app":      {model.StatusFail, "secret app has no rotation configured"},
		},
		"secretsmanager-secret-unrotated": {
			"rds!db-1": {model.StatusPass, "secret rds!db-1 (managed by rds) was last rotated 3 days ago (maximum 90)"},
			"rds!db-2": {model.StatusFail, "secret rds!db-2 (managed by rds) was never rotated; created 200 days ago (maximum 90)"},
			"app":      {model.StatusFail, "secret app was never rotated; created 200 days ago (maximum 90)"},
		},
	}
	for id, byName := range want {
		c, ok := check.Lookup(Checks(), id)
		if !ok {
			t.Fatalf("no check %s", id)
		}
		findings := c.Evaluate(inv, params)
		if len(findings) != len(byName) {
			t.Fatalf("%s: %d findings", id, len(findings))
		}
		for _, f := range findings {
			w := byName[f.ResourceID]
			if f.Status != w.status || f.Message != w.msg {
				t.Errorf("%s %s: %s %q, want %s %q", id, f.ResourceID, f.Status, f.Message, w.status, w.msg)
			}
			owner, has := f.Evidence["owning_service"]
			if f.ResourceID == "app" && has {
				t.Errorf("%s app: owning_service %v in the evidence of a secret of the account's own", id, owner)
			}
			if f.ResourceID != "app" && owner != "rds" {
				t.Errorf("%s %s: owning_service = %v, want rds", id, f.ResourceID, owner)
			}
		}
	}
}

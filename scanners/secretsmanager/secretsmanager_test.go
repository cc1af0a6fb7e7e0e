package secretsmanager

import (
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestRotationChecks(t *testing.T) {
	if err := Scanner().Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour
	secret := func(name string, rotation bool, created, rotated *time.Time) Secret {
		return Secret{Name: name, ARN: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:" + name + "-AbCdEf", RotationEnabled: rotation, RotationDays: 30, CreatedAt: created, LastRotatedAt: rotated}
	}
	inv := &Inventory{Secrets: []Secret{
		secret("never-rotated-old", false, ago(200*day), nil),
		secret("never-rotated-new", false, ago(3*day), nil),
		secret("rotated-recently", true, ago(400*day), ago(10*day)),
		secret("rotation-broken", true, ago(400*day), ago(200*day)),
		secret("exactly-90", false, ago(90*day), nil),
		secret("just-over-91", true, ago(200*day), ago(91*day)),
		secret("no-dates", false, nil, nil),
	}}
	disabled, _ := check.Lookup(Checks(), "secretsmanager-rotation-disabled")
	unrotated, _ := check.Lookup(Checks(), "secretsmanager-secret-unrotated")
	const P, F, E = model.StatusPass, model.StatusFail, model.StatusError
	cases := []struct {
		check check.Check[Inventory]
		max   int
		want  []model.Status
	}{
		{disabled, 90, []model.Status{F, F, P, P, F, P, F}},
		{unrotated, 90, []model.Status{F, P, P, F, P, F, E}},
		{unrotated, 365, []model.Status{P, P, P, P, P, P, E}},
		{unrotated, 1, []model.Status{F, F, F, F, F, F, E}},
	}
	for _, c := range cases {
		p := check.DefaultParams(now)
		p.Credentials.SecretMaxAgeDays = c.max
		got := c.check.Evaluate(inv, p)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d findings", c.check.ID, len(got))
		}
		for i, f := range got {
			if f.Status != c.want[i] || f.ResourceID != inv.Secrets[i].Name {
				t.Errorf("%s max %d: %s %s, want %s (%s)", c.check.ID, c.max, f.ResourceID, f.Status, c.want[i], f.Message)
			}
		}
	}
	f := unrotated.Evaluate(inv, check.DefaultParams(now))[0]
	if f.Message != "secret never-rotated-old was never rotated; created 200 days ago (maximum 90)" || f.Evidence["age_days"] != 200 || f.Evidence["created_at"] != "2025-11-13T12:00:00Z" {
		t.Errorf("%q %v", f.Message, f.Evidence)
	}
	f = unrotated.Evaluate(inv, check.DefaultParams(now))[3]
	if f.Message != "secret rotation-broken was last rotated 200 days ago (maximum 90)" || f.Evidence["last_rotated_at"] == nil {
		t.Errorf("%q %v", f.Message, f.Evidence)
	}
}

package acm

import (
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestExpiringCheck(t *testing.T) {
	if err := Scanner().Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	day := 24 * time.Hour
	cert := func(id string, notAfter *time.Time) Certificate {
		return Certificate{ARN: "arn:aws:acm:us-east-1:111122223333:certificate/" + id, DomainName: id + ".example.com", Type: "IMPORTED", NotAfter: notAfter}
	}
	inv := &Inventory{Certificates: []Certificate{
		cert("expired", at(-10*day)),
		cert("expires-now", at(0)),
		cert("tomorrow", at(day)),
		cert("at-warning", at(30*day)),
		cert("after-warning", at(30*day+time.Second)),
		cert("next-year", at(365*day)),
		{ARN: "arn:aws:acm:us-east-1:111122223333:certificate/unread", DomainName: "unread.example.com", DetailError: "AccessDeniedException: no"},
	}}
	type want struct {
		status   model.Status
		severity model.Severity
	}
	wants := map[string]want{
		"expired":       {model.StatusFail, model.SeverityHigh},
		"expires-now":   {model.StatusFail, model.SeverityHigh},
		"tomorrow":      {model.StatusFail, model.SeverityMedium},
		"at-warning":    {model.StatusFail, model.SeverityMedium},
		"after-warning": {model.StatusPass, ""},
		"next-year":     {model.StatusPass, ""},
		"unread":        {model.StatusError, ""},
	}
	c, _ := check.Lookup(Checks(), "acm-certificate-expiring")
	params := check.DefaultParams(now)
	findings := c.Evaluate(inv, params)
	if len(findings) != len(wants) {
		t.Fatalf("%d findings, want %d", len(findings), len(wants))
	}
	for _, f := range findings {
		w := wants[f.ResourceID]
		if f.Status != w.status || f.Severity != w.severity {
			t.Errorf("%s: %s/%q, want %s/%q (%s)", f.ResourceID, f.Status, f.Severity, w.status, w.severity, f.Message)
		}
		if f.ResourceARN == "" || f.ResourceARN == f.ResourceID {
			t.Errorf("%s: ARN %q", f.ResourceID, f.ResourceARN)
		}
	}
	if f := findings[2]; f.Message != "certificate for tomorrow.example.com expires on 2026-06-02, in 1 days (warning at 30)" || f.Evidence["not_after"] != "2026-06-02T12:00:00Z" {
		t.Errorf("message %q evidence %v", f.Message, f.Evidence)
	}
	// A wider warning window catches the certificate a year away; a
	// narrower one lets the one in 30 days pass.
	params.Credentials.CertificateWarningDays = 400
	if f := c.Evaluate(inv, params)[5]; f.Status != model.StatusFail || f.Severity != model.SeverityMedium {
		t.Errorf("next-year with 400 warning days: %s", f.Status)
	}
	params.Credentials.CertificateWarningDays = 29
	if f := c.Evaluate(inv, params)[3]; f.Status != model.StatusPass {
		t.Errorf("at-warning with 29 warning days: %s", f.Status)
	}
}

package waivers

import (
	"reflect"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

const (
	acct1 = "111111111111"
	acct2 = "222222222222"
)

func res(check string, status model.Status, account, region, id, arn string) model.Result {
	return model.Result{CheckID: check, Status: status, Severity: model.SeverityHigh, Family: model.FamilyPublicExposure,
		AccountID: account, Region: region, Service: "ec2", ResourceID: id, ResourceARN: arn, Message: "m " + id,
		Evidence: map[string]any{"rule": "tcp 22"}, Fingerprint: model.Fingerprint(check, account, region, id)}
}

func date(s string) time.Time {
	t, err := time.Parse(config.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"sg-1", "sg-1", true},
		{"sg-1", "sg-12", false},
		{"sg-*", "sg-12", true},
		{"sg-*", "sg-", true},
		{"sg-*", "vol-1", false},
		{"*", "", true},
		{"*", "arn:aws:s3:::logs/x", true},
		{"arn:aws:s3:::logs-*", "arn:aws:s3:::logs-2026", true},
		{"arn:aws:ec2:*:111111111111:security-group/*", "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1", true},
		{"arn:aws:ec2:*:111111111111:security-group/*", "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-1", false},
		{"*-prod-*", "db-prod-1", true},
		{"*-prod-*", "db-prod", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"Logs", "logs", false}, // case-sensitive
		{"sg-?", "sg-1", false}, // only * is special
		{"**", "x", true},
	} {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	r := res("ec2-sg-open-admin-port", model.StatusFail, acct1, "eu-west-1", "sg-0abc",
		"arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0abc")
	base := config.Waiver{Check: "ec2-sg-open-admin-port", Resources: []string{"sg-0abc"}}
	with := func(f func(*config.Waiver)) config.Waiver {
		w := base
		f(&w)
		return w
	}
	for _, tt := range []struct {
		name string
		w    config.Waiver
		want bool
	}{
		{"resource id", base, true},
		{"other check", with(func(w *config.Waiver) { w.Check = "ec2-sg-open-all-ports" }), false},
		{"other resource", with(func(w *config.Waiver) { w.Resources = []string{"sg-0abd"} }), false},
		{"glob on resource id", with(func(w *config.Waiver) { w.Resources = []string{"sg-0a*"} }), true},
		{"exact ARN", with(func(w *config.Waiver) { w.Resources = []string{r.ResourceARN} }), true},
		{"glob on ARN", with(func(w *config.Waiver) { w.Resources = []string{"arn:aws:ec2:*:111111111111:security-group/*"} }), true},
		{"glob on another account's ARN", with(func(w *config.Waiver) { w.Resources = []string{"arn:aws:ec2:*:222222222222:*"} }), false},
		{"any of the resources", with(func(w *config.Waiver) { w.Resources = []string{"sg-x", "sg-0abc"} }), true},
		{"account listed", with(func(w *config.Waiver) { w.Accounts = []string{acct2, acct1} }), true},
		{"account not listed", with(func(w *config.Waiver) { w.Accounts = []string{acct2} }), false},
		{"account glob", with(func(w *config.Waiver) { w.Accounts = []string{"1111*"} }), true},
		{"region listed", with(func(w *config.Waiver) { w.Regions = []string{"eu-west-1"} }), true},
		{"region not listed", with(func(w *config.Waiver) { w.Regions = []string{"us-east-1"} }), false},
		{"region glob", with(func(w *config.Waiver) { w.Regions = []string{"eu-*"} }), true},
		{"region glob not matching", with(func(w *config.Waiver) { w.Regions = []string{"us-*"} }), false},
		{"account and region both needed", with(func(w *config.Waiver) { w.Accounts = []string{acct1}; w.Regions = []string{"us-*"} }), false},
	} {
		if got := Matches(tt.w, r); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A result without an ARN matches on its ID only; an empty resource ID
	// (a scope's ERROR) matches no resource pattern but "*" on the ARN.
	noARN := r
	noARN.ResourceARN = ""
	if Matches(with(func(w *config.Waiver) { w.Resources = []string{"arn:*"} }), noARN) {
		t.Error("an ARN pattern matched a result without an ARN")
	}
}

// TestApply runs one scan through a register of every kind of waiver and
// checks every result and the register exactly.
func TestApply(t *testing.T) {
	const check = "ec2-sg-open-admin-port"
	arn := func(region, account, id string) string {
		return "arn:aws:ec2:" + region + ":" + account + ":security-group/" + id
	}
	scan := &model.Scan{Results: []model.Result{
		res(check, model.StatusFail, acct1, "us-east-1", "sg-1", arn("us-east-1", acct1, "sg-1")),  // 0: muted by "bastion" (id)
		res(check, model.StatusPass, acct1, "us-east-1", "sg-2", arn("us-east-1", acct1, "sg-2")),  // 1: PASS, never muted
		res(check, model.StatusError, acct1, "us-east-1", "", ""),                                  // 2: ERROR, never muted
		res(check, model.StatusFail, acct2, "eu-west-1", "sg-3", arn("eu-west-1", acct2, "sg-3")),  // 3: muted by "eu-lab" (ARN glob, account, region)
		res(check, model.StatusFail, acct2, "us-east-1", "sg-4", arn("us-east-1", acct2, "sg-4")),  // 4: eu-lab's region does not match: FAIL
		res(check, model.StatusFail, acct1, "eu-west-1", "sg-5", arn("eu-west-1", acct1, "sg-5")),  // 5: eu-lab's account does not match: FAIL
		res(check, model.StatusFail, acct1, "us-east-1", "sg-6", arn("us-east-1", acct1, "sg-6")),  // 6: only the expired waiver matches: FAIL
		res(check, model.StatusFail, acct2, "eu-west-1", "sg-7", arn("eu-west-1", acct2, "sg-7")),  // 7: "eu-lab" and "eu-dup" match: the first mutes
		res("s3-bucket-public", model.StatusFail, acct1, "us-east-1", "logs", "arn:aws:s3:::logs"), // 8: muted by "last-day" on its expiry day
	}}
	scan.Results[3].Severity = model.SeverityCritical
	list := []config.Waiver{
		{ID: "bastion", Check: check, Resources: []string{"sg-1", "sg-2"}, Reason: "vendor access", Owner: "ops", Ticket: "SEC-1", Expires: date("2026-03-31")},
		{ID: "eu-lab", Check: check, Resources: []string{"arn:aws:ec2:*:" + acct2 + ":security-group/*"}, Accounts: []string{"2222*"}, Regions: []string{"eu-*"},
			Reason: "lab", Owner: "lab-team", Expires: date("2026-12-31"), ApprovedBy: "ciso"},
		{ID: "old", Check: check, Resources: []string{"sg-6"}, Reason: "old", Owner: "ops", Expires: date("2026-02-28")},
		{ID: "last-day", Check: "s3-bucket-public", Resources: []string{"logs"}, Reason: "public logs", Owner: "web", Expires: date("2026-03-01")},
		{ID: "spare", Check: "rds-instance-public", Resources: []string{"*"}, Reason: "not selected", Owner: "db", Expires: date("2026-12-31")},
		{ID: "eu-dup", Check: check, Resources: []string{"sg-7"}, Reason: "dup", Owner: "lab-team", Expires: date("2026-12-31")},
	}
	// The scan starts late on 2026-03-01 UTC (early on 2026-03-02 in
	// Tokyo): "last-day" expires that day and still mutes; "old" expired the
	// day before.
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("JST", 9*3600)) // 2026-03-01T23:00Z
	before := make([]model.Result, len(scan.Results))
	copy(before, scan.Results)
	Apply(scan, list, now)

	wantStatus := []model.Status{model.StatusMuted, model.StatusPass, model.StatusError, model.StatusMuted, model.StatusFail,
		model.StatusFail, model.StatusFail, model.StatusMuted, model.StatusMuted}
	wantWaiver := []string{"bastion", "", "", "eu-lab", "", "", "", "eu-lab", "last-day"}
	for i, r := range scan.Results {
		if r.Status != wantStatus[i] || r.WaiverID != wantWaiver[i] {
			t.Errorf("result %d (%s): status %s waiver %q, want %s %q", i, r.ResourceID, r.Status, r.WaiverID, wantStatus[i], wantWaiver[i])
		}
		if r.Severity != before[i].Severity || r.Fingerprint != before[i].Fingerprint || r.Message != before[i].Message {
			t.Errorf("result %d: severity, fingerprint or message changed: %+v", i, r)
		}
		if r.Status != model.StatusMuted {
			if !reflect.DeepEqual(r.Evidence, before[i].Evidence) {
				t.Errorf("result %d: evidence of an unmuted result changed: %v", i, r.Evidence)
			}
			continue
		}
		w := list[0]
		for _, x := range list {
			if x.ID == r.WaiverID {
				w = x
			}
		}
		want := map[string]any{"rule": "tcp 22", "waiver": map[string]any{"id": w.ID, "owner": w.Owner, "reason": w.Reason,
			"ticket": w.Ticket, "expires": w.ExpiresOn()}}
		if !reflect.DeepEqual(r.Evidence, want) {
			t.Errorf("result %d evidence %v, want %v", i, r.Evidence, want)
		}
	}
	if scan.Results[3].Severity != model.SeverityCritical {
		t.Error("a muted result lost its severity")
	}
	if _, shared := before[0].Evidence["waiver"]; shared {
		t.Error("Apply changed an evidence map in place")
	}

	want := []model.Waiver{
		{ID: "bastion", Check: check, Resources: []string{"sg-1", "sg-2"}, Reason: "vendor access", Owner: "ops", Ticket: "SEC-1",
			Expires: "2026-03-31", State: model.WaiverActive, Muted: 1},
		{ID: "eu-lab", Check: check, Resources: []string{"arn:aws:ec2:*:" + acct2 + ":security-group/*"}, Accounts: []string{"2222*"},
			Regions: []string{"eu-*"}, Reason: "lab", Owner: "lab-team", Expires: "2026-12-31", ApprovedBy: "ciso", State: model.WaiverActive, Muted: 2},
		{ID: "old", Check: check, Resources: []string{"sg-6"}, Reason: "old", Owner: "ops", Expires: "2026-02-28", State: model.WaiverExpired},
		{ID: "last-day", Check: "s3-bucket-public", Resources: []string{"logs"}, Reason: "public logs", Owner: "web",
			Expires: "2026-03-01", State: model.WaiverActive, Muted: 1},
		{ID: "spare", Check: "rds-instance-public", Resources: []string{"*"}, Reason: "not selected", Owner: "db",
			Expires: "2026-12-31", State: model.WaiverUnused},
		{ID: "eu-dup", Check: check, Resources: []string{"sg-7"}, Reason: "dup", Owner: "lab-team",
			Expires: "2026-12-31", State: model.WaiverUnused},
	}
	if !reflect.DeepEqual(scan.Waivers, want) {
		t.Errorf("register:\n got %+v\nwant %+v", scan.Waivers, want)
	}

	// A day later "last-day" has expired too: the bucket FAILs again.
	scan2 := &model.Scan{Results: append([]model.Result(nil), before...)}
	Apply(scan2, list, now.Add(24*time.Hour))
	if scan2.Results[8].Status != model.StatusFail || scan2.Waivers[3].State != model.WaiverExpired || scan2.Waivers[3].Muted != 0 {
		t.Errorf("the day after its expiry: result %s, waiver %+v", scan2.Results[8].Status, scan2.Waivers[3])
	}
}

func TestApplyNoWaivers(t *testing.T) {
	scan := &model.Scan{Results: []model.Result{res("c", model.StatusFail, acct1, "us-east-1", "x", "")},
		Waivers: []model.Waiver{{ID: "stale"}}}
	Apply(scan, nil, time.Now())
	if scan.Waivers != nil || scan.Results[0].Status != model.StatusFail {
		t.Errorf("no waivers: %+v", scan)
	}
}

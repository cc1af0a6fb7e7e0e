package diff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/reports/diff"
)

const (
	acct  = "111111111111"
	acct2 = "222222222222"
	use1  = "us-east-1"
	euw1  = "eu-west-1"

	admin = "ec2-sg-open-admin-port"    // critical
	db    = "ec2-sg-open-database-port" // high
	rdsP  = "rds-instance-public"       // high
	s3P   = "s3-bucket-public"          // high
)

var t0 = time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)

func res(account, check string, status model.Status, sev model.Severity, region, resource string) model.Result {
	return model.Result{
		CheckID: check, Status: status, Severity: sev, Family: model.FamilyPublicExposure,
		AccountID: account, Region: region, Service: strings.SplitN(check, "-", 2)[0],
		ResourceType: "AWS::Test::Thing", ResourceID: resource, ResourceARN: "arn:aws:test:" + region + ":" + account + ":" + resource,
		Message: check + " " + string(status) + " " + resource, Evidence: map[string]any{}, Controls: []string{},
		Fingerprint: model.Fingerprint(check, account, region, resource),
	}
}

// r is a result of the default account.
func r(check string, status model.Status, sev model.Severity, region, resource string) model.Result {
	return res(acct, check, status, sev, region, resource)
}

func scopeError(account, check, region string) model.Result {
	x := res(account, check, model.StatusError, model.SeverityHigh, region, "")
	x.Message = "not evaluated"
	return x
}

func gap(account, region, service, operation, code string) model.Coverage {
	return model.Coverage{AccountID: account, Region: region, Service: service, Status: model.CoverageError,
		Error:    operation + ": " + code,
		Failures: []model.Failure{{Part: "part", Operation: operation, Code: code, Error: code + ": denied"}}}
}

// scan is one account in two regions, with ec2 and rds collected in both
// and s3 (global) collected once, every scope without a gap.
func scan(id string, start time.Time, results ...model.Result) *model.Scan {
	s := &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.0.0"},
		Scan: model.ScanInfo{ID: id, StartedAt: start, FinishedAt: start.Add(time.Minute),
			Accounts: []string{acct}, Regions: []string{euw1, use1},
			Checks:     []string{admin, db, rdsP, s3P},
			Thresholds: map[string]int{"credentials.max_key_age_days": 90}},
		Results:  append([]model.Result{}, results...),
		Controls: []model.ControlStatus{},
	}
	for _, region := range []string{euw1, use1} {
		for _, svc := range []string{"ec2", "rds"} {
			s.Coverage = append(s.Coverage, model.Coverage{AccountID: acct, Region: region, Service: svc, Status: model.CoverageOK})
		}
	}
	s.Coverage = append(s.Coverage, model.Coverage{AccountID: acct, Region: model.GlobalRegion, Service: "s3", Status: model.CoverageOK})
	return s
}

// setGap replaces a scope's coverage entry with a gap (or adds it).
func setGap(s *model.Scan, g model.Coverage) {
	for i, c := range s.Coverage {
		if c.AccountID == g.AccountID && c.Region == g.Region && c.Service == g.Service {
			s.Coverage[i] = g
			return
		}
	}
	s.Coverage = append(s.Coverage, g)
}

// place says where a fingerprint landed in a diff.
func place(d *model.Diff, fp string) (string, *model.DiffEntry) {
	for _, c := range []struct {
		name string
		list []model.DiffEntry
	}{{"new", d.New}, {"resolved", d.Resolved}, {"changed", d.Changed}, {"not_observed", d.NotObserved}, {"outside_old_scope", d.Context.OutsideOldScope}} {
		for i := range c.list {
			if c.list[i].Fingerprint == fp {
				return c.name, &c.list[i]
			}
		}
	}
	return "", nil
}

// counts are the sizes of every category, counted ones included.
func counts(d *model.Diff) map[string]int {
	return map[string]int{"new": len(d.New), "resolved": len(d.Resolved), "changed": len(d.Changed),
		"not_observed": len(d.NotObserved), "unchanged": d.UnchangedCount, "outside_old_scope": d.Context.OutsideOldScopeCount,
		"outside_listed": len(d.Context.OutsideOldScope), "removed": d.Context.RemovedCount}
}

func TestCategories(t *testing.T) {
	sg1 := func(s model.Status) model.Result { return r(admin, s, model.SeverityCritical, use1, "sg-1") }
	type tc struct {
		name     string
		old, new []model.Result
		mutate   func(old, new *model.Scan)
		finding  model.Result // the finding whose place is asserted
		want     string       // category; "" for none (a counted category)
		counts   map[string]int
		reason   string // substring of the entry's Reason
		from, to model.Status
	}
	cases := []tc{
		{name: "FAIL to PASS is resolved", old: []model.Result{sg1("FAIL")}, new: []model.Result{sg1("PASS")}, finding: sg1("FAIL"),
			want: "resolved", counts: map[string]int{"resolved": 1}, from: "FAIL", to: "PASS"},
		{name: "FAIL to absent in a covered scope is resolved", old: []model.Result{sg1("FAIL")}, finding: sg1("FAIL"),
			want: "resolved", counts: map[string]int{"resolved": 1}, from: "FAIL", to: ""},
		{name: "FAIL to PASS in a scope with a gap is still resolved: a PASS is evidence", old: []model.Result{sg1("FAIL")}, new: []model.Result{sg1("PASS")},
			mutate:  func(_, n *model.Scan) { setGap(n, gap(acct, use1, "ec2", "DescribeVolumes", "AccessDenied")) },
			finding: sg1("FAIL"), want: "resolved", counts: map[string]int{"resolved": 1}, from: "FAIL", to: "PASS"},
		{name: "PASS to FAIL is changed", old: []model.Result{sg1("PASS")}, new: []model.Result{sg1("FAIL")}, finding: sg1("FAIL"),
			want: "changed", counts: map[string]int{"changed": 1}, from: "PASS", to: "FAIL"},
		{name: "FAIL to ERROR (one resource unreadable) is changed", old: []model.Result{sg1("FAIL")}, new: []model.Result{sg1("ERROR")},
			mutate: func(_, n *model.Scan) {
				setGap(n, model.Coverage{AccountID: acct, Region: use1, Service: "ec2", Status: model.CoverageError,
					Failures: []model.Failure{{Part: "rules", Operation: "DescribeSecurityGroupRules", Resource: "sg-1", Code: "AccessDenied", Error: "x"}}})
			},
			finding: sg1("FAIL"), want: "changed", counts: map[string]int{"changed": 1}, from: "FAIL", to: "ERROR"},
		{name: "FAIL to MUTED (waived) is changed", old: []model.Result{sg1("FAIL")}, new: []model.Result{sg1("MUTED")}, finding: sg1("FAIL"),
			want: "changed", counts: map[string]int{"changed": 1}, from: "FAIL", to: "MUTED"},
		{name: "MUTED to FAIL (waiver expired) is changed", old: []model.Result{sg1("MUTED")}, new: []model.Result{sg1("FAIL")}, finding: sg1("FAIL"),
			want: "changed", counts: map[string]int{"changed": 1}, from: "MUTED", to: "FAIL"},
		{name: "MUTED to PASS is changed, not resolved", old: []model.Result{sg1("MUTED")}, new: []model.Result{sg1("PASS")}, finding: sg1("FAIL"),
			want: "changed", counts: map[string]int{"changed": 1}, from: "MUTED", to: "PASS"},
		{name: "ERROR to PASS is changed", old: []model.Result{sg1("ERROR")}, new: []model.Result{sg1("PASS")}, finding: sg1("FAIL"),
			want: "changed", counts: map[string]int{"changed": 1}, from: "ERROR", to: "PASS"},
		{name: "a severity change alone is changed",
			old:     []model.Result{r("acm-certificate-expiring", "FAIL", model.SeverityMedium, use1, "cert-1")},
			new:     []model.Result{r("acm-certificate-expiring", "FAIL", model.SeverityHigh, use1, "cert-1")},
			mutate:  func(o, n *model.Scan) { addCheck(o, n, "acm-certificate-expiring", use1) },
			finding: r("acm-certificate-expiring", "FAIL", model.SeverityHigh, use1, "cert-1"),
			want:    "changed", counts: map[string]int{"changed": 1}, from: "FAIL", to: "FAIL"},
		{name: "same status and severity is unchanged, counted", old: []model.Result{sg1("PASS")}, new: []model.Result{sg1("PASS")}, finding: sg1("PASS"),
			counts: map[string]int{"unchanged": 1}},
		{name: "unchanged FAIL is counted", old: []model.Result{sg1("FAIL")}, new: []model.Result{sg1("FAIL")}, finding: sg1("FAIL"),
			counts: map[string]int{"unchanged": 1}},
		{name: "a new FAIL in a covered scope is new", new: []model.Result{sg1("FAIL")}, finding: sg1("FAIL"),
			want: "new", counts: map[string]int{"new": 1}, to: "FAIL"},
		{name: "a new PASS in a covered scope is new", new: []model.Result{sg1("PASS")}, finding: sg1("PASS"),
			want: "new", counts: map[string]int{"new": 1}, to: "PASS"},
		{name: "a new FAIL of a global service's bucket is new", new: []model.Result{r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1")},
			finding: r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1"), want: "new", counts: map[string]int{"new": 1}, to: "FAIL"},
		{name: "a FAIL in a region OLD did not scan is not new",
			new:     []model.Result{r(admin, "FAIL", model.SeverityCritical, "ap-south-1", "sg-9")},
			mutate:  func(_, n *model.Scan) { addRegion(n, "ap-south-1") },
			finding: r(admin, "FAIL", model.SeverityCritical, "ap-south-1", "sg-9"),
			want:    "outside_old_scope", counts: map[string]int{"outside_old_scope": 1, "outside_listed": 1}, reason: "region not in OLD's scope", to: "FAIL"},
		{name: "a FAIL in an account OLD did not scan is not new",
			new:     []model.Result{res(acct2, admin, "FAIL", model.SeverityCritical, use1, "sg-9")},
			mutate:  func(_, n *model.Scan) { addAccount(n, acct2) },
			finding: res(acct2, admin, "FAIL", model.SeverityCritical, use1, "sg-9"),
			want:    "outside_old_scope", counts: map[string]int{"outside_old_scope": 1, "outside_listed": 1}, reason: "account not in OLD's scope", to: "FAIL"},
		{name: "a PASS of a check OLD did not run is counted apart, not listed",
			new:     []model.Result{r("rds-instance-unencrypted", "PASS", model.SeverityHigh, use1, "db-1")},
			mutate:  func(_, n *model.Scan) { n.Scan.Checks = append(n.Scan.Checks, "rds-instance-unencrypted") },
			finding: r("rds-instance-unencrypted", "PASS", model.SeverityHigh, use1, "db-1"),
			counts:  map[string]int{"outside_old_scope": 1}},
		{name: "a FAIL in a scope OLD could not collect is not new", new: []model.Result{sg1("FAIL")},
			mutate:  func(o, _ *model.Scan) { setGap(o, gap(acct, use1, "ec2", "DescribeSecurityGroups", "AccessDenied")) },
			finding: sg1("FAIL"), want: "outside_old_scope", counts: map[string]int{"outside_old_scope": 1, "outside_listed": 1},
			reason: "coverage gap in OLD (DescribeSecurityGroups: AccessDenied)", to: "FAIL"},
		{name: "a gap in NEW makes OLD's findings not_observed, never resolved",
			old: []model.Result{sg1("FAIL")}, new: []model.Result{scopeError(acct, admin, use1)},
			mutate: func(_, n *model.Scan) {
				setGap(n, gap(acct, use1, "ec2", "DescribeSecurityGroups", "UnauthorizedOperation"))
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "coverage gap in NEW (DescribeSecurityGroups: UnauthorizedOperation)", from: "FAIL"},
		{name: "a PASS under a gap in NEW is not_observed too",
			old: []model.Result{sg1("PASS")}, new: []model.Result{scopeError(acct, admin, use1)},
			mutate:  func(_, n *model.Scan) { setGap(n, gap(acct, use1, "ec2", "DescribeSecurityGroups", "AccessDenied")) },
			finding: sg1("PASS"), want: "not_observed", counts: map[string]int{"not_observed": 1}, reason: "coverage gap in NEW", from: "PASS"},
		{name: "scope-wide ERROR results in both scans are neither listed nor counted",
			old: []model.Result{scopeError(acct, admin, use1)}, new: []model.Result{scopeError(acct, admin, use1)},
			mutate: func(o, n *model.Scan) {
				setGap(o, gap(acct, use1, "ec2", "DescribeSecurityGroups", "AccessDenied"))
				setGap(n, gap(acct, use1, "ec2", "DescribeSecurityGroups", "AccessDenied"))
			},
			finding: scopeError(acct, admin, use1), counts: map[string]int{}},
		{name: "a gap closed: the scope-wide ERROR of OLD is not resolved",
			old: []model.Result{scopeError(acct, admin, use1)}, new: []model.Result{sg1("FAIL")},
			mutate:  func(o, _ *model.Scan) { setGap(o, gap(acct, use1, "ec2", "DescribeSecurityGroups", "AccessDenied")) },
			finding: sg1("FAIL"), want: "outside_old_scope", counts: map[string]int{"outside_old_scope": 1, "outside_listed": 1}, to: "FAIL"},
		{name: "a check not selected in NEW is not_observed", old: []model.Result{sg1("FAIL")},
			mutate: func(_, n *model.Scan) {
				n.Scan.Checks = slices.DeleteFunc(n.Scan.Checks, func(c string) bool { return c == admin })
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1}, reason: "check not selected in NEW", from: "FAIL"},
		{name: "an account not in NEW is not_observed", old: []model.Result{res(acct2, admin, "FAIL", model.SeverityCritical, use1, "sg-2")},
			mutate:  func(o, _ *model.Scan) { addAccount(o, acct2) },
			finding: res(acct2, admin, "FAIL", model.SeverityCritical, use1, "sg-2"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "account not in NEW's scope", from: "FAIL"},
		{name: "a region not in NEW is not_observed", old: []model.Result{r(admin, "FAIL", model.SeverityCritical, euw1, "sg-3")},
			mutate: func(_, n *model.Scan) {
				n.Scan.Regions = []string{use1}
				n.Coverage = slices.DeleteFunc(n.Coverage, func(c model.Coverage) bool { return c.Region == euw1 })
			},
			finding: r(admin, "FAIL", model.SeverityCritical, euw1, "sg-3"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "region not in NEW's scope", from: "FAIL"},
		{name: "a bucket in a region not in NEW is not_observed though s3 was collected", old: []model.Result{r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1")},
			mutate: func(_, n *model.Scan) {
				n.Scan.Regions = []string{use1}
				n.Coverage = slices.DeleteFunc(n.Coverage, func(c model.Coverage) bool { return c.Region == euw1 })
			},
			finding: r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "region not in NEW's scope", from: "FAIL"},
		{name: "a bucket gone from a clean s3 scope is resolved", old: []model.Result{r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1")},
			finding: r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1"), want: "resolved", counts: map[string]int{"resolved": 1}, from: "FAIL"},
		{name: "a bucket under an s3 gap is not_observed", old: []model.Result{r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1")},
			mutate:  func(_, n *model.Scan) { setGap(n, gap(acct, model.GlobalRegion, "s3", "ListBuckets", "AccessDenied")) },
			finding: r(s3P, "FAIL", model.SeverityHigh, euw1, "bucket-1"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "coverage gap in NEW (ListBuckets: AccessDenied)", from: "FAIL"},
		{name: "an account NEW could not reach is not_observed", old: []model.Result{sg1("FAIL")},
			mutate: func(_, n *model.Scan) {
				n.Coverage = []model.Coverage{gap(acct, model.GlobalRegion, model.ServiceAccount, "AssumeRole", "AccessDenied")}
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "account not reached in NEW (AssumeRole: AccessDenied)", from: "FAIL"},
		{name: "a region NEW's account has not enabled is not_observed", old: []model.Result{sg1("FAIL")},
			mutate: func(_, n *model.Scan) {
				n.Coverage = slices.DeleteFunc(n.Coverage, func(c model.Coverage) bool { return c.Region == use1 })
				n.Coverage = append(n.Coverage, model.Coverage{AccountID: acct, Region: use1, Service: model.ServiceRegion, Status: model.CoverageError,
					Failures: []model.Failure{{Part: "region", Code: model.CodeRegionNotEnabled, Error: "not enabled"}}})
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "region not scanned in NEW (RegionNotEnabled)", from: "FAIL"},
		{name: "a scope a cancelled NEW did not finish is not_observed", old: []model.Result{sg1("FAIL")},
			new: []model.Result{scopeError(acct, admin, use1)},
			mutate: func(_, n *model.Scan) {
				n.Scan.Cancelled = true
				setGap(n, model.Coverage{AccountID: acct, Region: use1, Service: "ec2", Status: model.CoverageError,
					Failures: []model.Failure{{Part: "scope", Code: model.CodeCancelled, Error: "scan cancelled"}}})
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "NEW scan cancelled before this scope was collected", from: "FAIL"},
		{name: "an account a cancelled NEW never reached is not_observed", old: []model.Result{sg1("FAIL")},
			mutate: func(_, n *model.Scan) {
				n.Scan.Cancelled = true
				n.Coverage = []model.Coverage{gap(acct, model.GlobalRegion, model.ServiceAccount, "PrepareAccount", model.CodeCancelled)}
			},
			finding: sg1("FAIL"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "NEW scan cancelled before the account was reached", from: "FAIL"},
		{name: "a scope NEW has no coverage entry for is not_observed", old: []model.Result{r(rdsP, "FAIL", model.SeverityHigh, use1, "db-1")},
			mutate: func(_, n *model.Scan) {
				n.Coverage = slices.DeleteFunc(n.Coverage, func(c model.Coverage) bool { return c.Service == "rds" && c.Region == use1 })
			},
			finding: r(rdsP, "FAIL", model.SeverityHigh, use1, "db-1"), want: "not_observed", counts: map[string]int{"not_observed": 1},
			reason: "scope not collected in NEW", from: "FAIL"},
		{name: "a PASS gone from a covered scope is removed, counted", old: []model.Result{sg1("PASS")}, finding: sg1("PASS"),
			counts: map[string]int{"removed": 1}},
		{name: "a MUTED gone from a covered scope is removed, counted", old: []model.Result{sg1("MUTED")}, finding: sg1("MUTED"),
			counts: map[string]int{"removed": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := scan("scan-old", t0, c.old...)
			new := scan("scan-new", t0.Add(24*time.Hour), c.new...)
			if c.mutate != nil {
				c.mutate(old, new)
			}
			oldJSON, newJSON := mustJSON(t, old), mustJSON(t, new)
			d := diff.Compute(old, new)
			if !bytes.Equal(oldJSON, mustJSON(t, old)) || !bytes.Equal(newJSON, mustJSON(t, new)) {
				t.Error("Compute modified its inputs")
			}
			got, e := place(d, c.finding.Fingerprint)
			if got != c.want {
				t.Fatalf("finding landed in %q, want %q; diff: %s", got, c.want, mustJSON(t, d))
			}
			want := map[string]int{"new": 0, "resolved": 0, "changed": 0, "not_observed": 0, "unchanged": 0,
				"outside_old_scope": 0, "outside_listed": 0, "removed": 0}
			for k, v := range c.counts {
				want[k] = v
			}
			if g := counts(d); !reflect.DeepEqual(g, want) {
				t.Errorf("counts %v, want %v", g, want)
			}
			if e == nil {
				return
			}
			if e.OldStatus != c.from || e.NewStatus != c.to {
				t.Errorf("entry %s -> %s, want %s -> %s", e.OldStatus, e.NewStatus, c.from, c.to)
			}
			needsReason := c.want == "not_observed" || c.want == "outside_old_scope"
			if needsReason != (e.Reason != "") || !strings.Contains(e.Reason, c.reason) {
				t.Errorf("reason %q, want one containing %q", e.Reason, c.reason)
			}
			if e.CheckID != c.finding.CheckID || e.AccountID != c.finding.AccountID || e.Region != c.finding.Region || e.ResourceID != c.finding.ResourceID {
				t.Errorf("entry names %s %s %s %s", e.CheckID, e.AccountID, e.Region, e.ResourceID)
			}
		})
	}
}

func addCheck(o, n *model.Scan, check, region string) {
	for _, s := range []*model.Scan{o, n} {
		s.Scan.Checks = append(s.Scan.Checks, check)
		s.Coverage = append(s.Coverage, model.Coverage{AccountID: acct, Region: region, Service: strings.SplitN(check, "-", 2)[0], Status: model.CoverageOK})
	}
}

func addRegion(s *model.Scan, region string) {
	s.Scan.Regions = append(s.Scan.Regions, region)
	for _, svc := range []string{"ec2", "rds"} {
		s.Coverage = append(s.Coverage, model.Coverage{AccountID: acct, Region: region, Service: svc, Status: model.CoverageOK})
	}
}

func addAccount(s *model.Scan, account string) {
	s.Scan.Accounts = append(s.Scan.Accounts, account)
	for _, region := range s.Scan.Regions {
		for _, svc := range []string{"ec2", "rds"} {
			s.Coverage = append(s.Coverage, model.Coverage{AccountID: account, Region: region, Service: svc, Status: model.CoverageOK})
		}
	}
	s.Coverage = append(s.Coverage, model.Coverage{AccountID: account, Region: model.GlobalRegion, Service: "s3", Status: model.CoverageOK})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEveryFindingLandsOnce: in a mixed diff, every finding of OLD is in
// exactly one of resolved, changed, not_observed, unchanged or removed, and
// every finding of NEW in exactly one of new, changed, unchanged, resolved
// or outside_old_scope; the lists are sorted severity first.
func TestEveryFindingLandsOnce(t *testing.T) {
	old := scan("scan-old", t0,
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-1"), // resolved (PASS)
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-2"), // resolved (absent)
		r(db, "PASS", model.SeverityHigh, use1, "sg-1"),        // changed to FAIL
		r(db, "PASS", model.SeverityHigh, use1, "sg-2"),        // removed
		r(admin, "PASS", model.SeverityCritical, euw1, "sg-5"), // unchanged
		r(rdsP, "FAIL", model.SeverityHigh, euw1, "db-1"),      // not observed (gap)
		r(rdsP, "PASS", model.SeverityHigh, euw1, "db-2"),      // not observed (gap)
	)
	new := scan("scan-new", t0.Add(26*time.Hour+5*time.Minute),
		r(admin, "PASS", model.SeverityCritical, use1, "sg-1"),
		r(db, "FAIL", model.SeverityHigh, use1, "sg-1"),
		r(admin, "PASS", model.SeverityCritical, euw1, "sg-5"),
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-7"), // new
		r(db, "FAIL", model.SeverityHigh, use1, "sg-7"),        // new
		r(db, "PASS", model.SeverityHigh, euw1, "sg-5"),        // new
		scopeError(acct, rdsP, euw1),
		res(acct2, admin, "FAIL", model.SeverityCritical, use1, "sg-8"), // outside
	)
	setGap(new, gap(acct, euw1, "rds", "DescribeDBInstances", "AccessDenied"))
	addAccount(new, acct2)
	d := diff.Compute(old, new)

	if got := counts(d); !reflect.DeepEqual(got, map[string]int{"new": 3, "resolved": 2, "changed": 1, "not_observed": 2,
		"unchanged": 1, "outside_old_scope": 1, "outside_listed": 1, "removed": 1}) {
		t.Errorf("counts %v", got)
	}
	seen := map[string]string{}
	for _, list := range [][]model.DiffEntry{d.New, d.Resolved, d.Changed, d.NotObserved, d.Context.OutsideOldScope} {
		for _, e := range list {
			if prev, dup := seen[e.Fingerprint]; dup {
				t.Errorf("%s listed twice (%s)", e.Fingerprint, prev)
			}
			seen[e.Fingerprint] = e.CheckID
		}
	}
	var order []string
	for _, e := range d.New {
		order = append(order, fmt.Sprintf("%s/%s/%s", e.NewSeverity, e.CheckID, e.ResourceID))
	}
	if want := []string{"critical/" + admin + "/sg-7", "high/" + db + "/sg-5", "high/" + db + "/sg-7"}; !reflect.DeepEqual(order, want) {
		t.Errorf("new in order %v, want %v", order, want)
	}
	if d.Resolved[0].ResourceID != "sg-1" || d.Resolved[0].NewStatus != "PASS" || d.Resolved[1].ResourceID != "sg-2" || d.Resolved[1].NewStatus != "" {
		t.Errorf("resolved %+v", d.Resolved)
	}
	if d.Context.WindowSeconds != 26*3600+5*60 || diff.Window(d.Context.WindowSeconds) != "1d 2h 5m" {
		t.Errorf("window %d (%s)", d.Context.WindowSeconds, diff.Window(d.Context.WindowSeconds))
	}
	if d.Context.Old.ID != "scan-old" || d.Context.New.ID != "scan-new" || d.Context.OldGaps != 0 || d.Context.NewGaps != 1 {
		t.Errorf("context %+v", d.Context)
	}

	// Compute is deterministic whatever the input order.
	slices.Reverse(old.Results)
	slices.Reverse(new.Results)
	if again := diff.Compute(old, new); !bytes.Equal(mustJSON(t, again), mustJSON(t, d)) {
		t.Error("the diff depends on the order of the results")
	}

	hits := diff.NewFailures(d, model.SeverityHigh)
	var names []string
	for _, e := range hits {
		names = append(names, e.CheckID+"/"+e.ResourceID)
	}
	if want := []string{admin + "/sg-7", db + "/sg-1", db + "/sg-7"}; !reflect.DeepEqual(names, want) {
		t.Errorf("NewFailures(high) = %v, want %v (new FAILs and the PASS->FAIL; never the account outside OLD's scope)", names, want)
	}
	if hits := diff.NewFailures(d, model.SeverityCritical); len(hits) != 1 || hits[0].ResourceID != "sg-7" {
		t.Errorf("NewFailures(critical) = %+v", hits)
	}
}

func TestNewFailures(t *testing.T) {
	e := func(from, to model.Status, fromSev, toSev model.Severity) model.DiffEntry {
		return model.DiffEntry{CheckID: "c", OldStatus: from, NewStatus: to, OldSeverity: fromSev, NewSeverity: toSev}
	}
	for _, tt := range []struct {
		name string
		d    model.Diff
		min  model.Severity
		want int
	}{
		{"new high FAIL, min high", model.Diff{New: []model.DiffEntry{e("", "FAIL", "", "high")}}, model.SeverityHigh, 1},
		{"new high FAIL, min critical", model.Diff{New: []model.DiffEntry{e("", "FAIL", "", "high")}}, model.SeverityCritical, 0},
		{"new critical PASS", model.Diff{New: []model.DiffEntry{e("", "PASS", "", "critical")}}, model.SeverityLow, 0},
		{"new critical ERROR", model.Diff{New: []model.DiffEntry{e("", "ERROR", "", "critical")}}, model.SeverityLow, 0},
		{"PASS to FAIL", model.Diff{Changed: []model.DiffEntry{e("PASS", "FAIL", "high", "high")}}, model.SeverityHigh, 1},
		{"MUTED to FAIL (waiver expired)", model.Diff{Changed: []model.DiffEntry{e("MUTED", "FAIL", "high", "high")}}, model.SeverityHigh, 1},
		{"ERROR to FAIL", model.Diff{Changed: []model.DiffEntry{e("ERROR", "FAIL", "high", "high")}}, model.SeverityHigh, 1},
		{"FAIL medium to FAIL high crosses high", model.Diff{Changed: []model.DiffEntry{e("FAIL", "FAIL", "medium", "high")}}, model.SeverityHigh, 1},
		{"FAIL high to FAIL critical was already high", model.Diff{Changed: []model.DiffEntry{e("FAIL", "FAIL", "high", "critical")}}, model.SeverityHigh, 0},
		{"FAIL to MUTED", model.Diff{Changed: []model.DiffEntry{e("FAIL", "MUTED", "high", "high")}}, model.SeverityLow, 0},
		{"outside OLD's scope", model.Diff{Context: model.DiffContext{OutsideOldScope: []model.DiffEntry{e("", "FAIL", "", "critical")}}}, model.SeverityLow, 0},
	} {
		if got := len(diff.NewFailures(&tt.d, tt.min)); got != tt.want {
			t.Errorf("%s: %d hits, want %d", tt.name, got, tt.want)
		}
	}
}

// TestControlTransitions builds a control for every pair of states and
// checks that each changed pair is listed and each pair counted once.
func TestControlTransitions(t *testing.T) {
	old, new := scan("scan-old", t0), scan("scan-new", t0.Add(time.Hour))
	states := model.ControlStates()
	type pair struct{ from, to model.ControlState }
	var changed []pair
	for _, from := range states {
		for _, to := range states {
			id := fmt.Sprintf("%s>%s", from, to)
			old.Controls = append(old.Controls, model.ControlStatus{Framework: "fw", ControlID: id, Title: "t " + id, Status: from})
			new.Controls = append(new.Controls, model.ControlStatus{Framework: "fw", ControlID: id, Title: "t " + id, Status: to})
			if from != to {
				changed = append(changed, pair{from, to})
			}
		}
	}
	// A control only in one scan and a framework only in NEW are catalogue
	// changes: warned about, not transitions.
	old.Controls = append(old.Controls, model.ControlStatus{Framework: "fw", ControlID: "retired", Title: "r", Status: "FAIL"})
	new.Controls = append(new.Controls, model.ControlStatus{Framework: "fw", ControlID: "added", Title: "a", Status: "PASS"},
		model.ControlStatus{Framework: "fw2", ControlID: "x", Title: "x", Status: "FAIL"})
	d := diff.Compute(old, new)
	if len(d.Controls) != 1 || d.Controls[0].Framework != "fw" {
		t.Fatalf("controls %+v", d.Controls)
	}
	fw := d.Controls[0]
	var got []pair
	for _, c := range fw.Changes {
		got = append(got, pair{c.Old, c.New})
		if c.ControlID != fmt.Sprintf("%s>%s", c.Old, c.New) || c.Title != "t "+c.ControlID {
			t.Errorf("change %+v", c)
		}
	}
	if !reflect.DeepEqual(got, changed) || len(got) != len(states)*(len(states)-1) {
		t.Errorf("changes %v\nwant %v", got, changed)
	}
	total := 0
	for _, from := range states {
		for _, to := range states {
			if fw.Transitions[from][to] != 1 {
				t.Errorf("transitions[%s][%s] = %d, want 1", from, to, fw.Transitions[from][to])
			}
			total += fw.Transitions[from][to]
		}
	}
	if total != len(states)*len(states) {
		t.Errorf("transitions count %d controls", total)
	}
	w := strings.Join(d.Context.Warnings, "\n")
	for _, want := range []string{"frameworks differ (only in NEW: fw2): a catalogue change, not a posture change",
		"framework fw catalogue changed (controls only in OLD: retired; controls only in NEW: added)"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(old, new *model.Scan)
		want   []string
	}{
		{"same selection", func(_, _ *model.Scan) {}, nil},
		{"regions", func(_, n *model.Scan) { n.Scan.Regions = []string{use1, "us-west-2"} },
			[]string{"regions differ (only in OLD: eu-west-1; only in NEW: us-west-2)"}},
		{"accounts", func(_, n *model.Scan) { addAccount(n, acct2) }, []string{"accounts differ (only in NEW: 222222222222)"}},
		{"checks", func(o, _ *model.Scan) { o.Scan.Checks = append(o.Scan.Checks, "kms-key-rotation-disabled") },
			[]string{"checks differ (only in OLD: kms-key-rotation-disabled)"}},
		{"thresholds", func(_, n *model.Scan) {
			n.Scan.Thresholds = map[string]int{"credentials.max_key_age_days": 30, "credentials.unused_days": 45}
		}, []string{"thresholds differ (credentials.max_key_age_days 90 -> 30, credentials.unused_days unset -> 45)"}},
		{"framework version", func(o, n *model.Scan) {
			o.Frameworks = []model.Framework{{ID: "acme", Name: "Acme", Version: "1"}}
			n.Frameworks = []model.Framework{{ID: "acme", Name: "Acme", Version: "2"}}
		}, []string{"framework acme catalogue changed (version 1 -> 2): a catalogue change, not a posture change"}},
		{"framework mapping", func(o, n *model.Scan) {
			o.Controls = []model.ControlStatus{{Framework: "acme", ControlID: "N-1", Title: "n", Status: "PASS", Checks: []string{admin}}}
			n.Controls = []model.ControlStatus{{Framework: "acme", ControlID: "N-1", Title: "n", Status: "PASS", Checks: []string{admin, db}}}
		}, []string{"framework acme catalogue changed (controls mapped to other checks: N-1)"}},
		{"frameworks", func(o, _ *model.Scan) {
			o.Frameworks = []model.Framework{{ID: "soc2"}}
		}, []string{"frameworks differ (only in OLD: soc2): a catalogue change, not a posture change"}},
		{"check catalogue", func(o, n *model.Scan) {
			o.Catalogue = []model.CheckInfo{{ID: admin, Severity: model.SeverityHigh}}
			n.Catalogue = []model.CheckInfo{{ID: admin, Severity: model.SeverityCritical}}
		}, []string{"check catalogue changed (ec2-sg-open-admin-port severity high -> critical)"}},
		{"tool versions", func(_, n *model.Scan) { n.Tool.Version = "1.1.0" }, []string{"tool versions differ (OLD 1.0.0, NEW 1.1.0)"}},
		{"cancelled and gaps", func(_, n *model.Scan) {
			n.Scan.Cancelled = true
			setGap(n, gap(acct, use1, "rds", "DescribeDBInstances", model.CodeCancelled))
		}, []string{"NEW scan was cancelled", "NEW has 1 coverage gap(s) the other scan did not: 111111111111 us-east-1 rds (DescribeDBInstances: Cancelled); their OLD findings are not_observed"}},
		{"old gap", func(o, _ *model.Scan) { setGap(o, gap(acct, use1, "rds", "DescribeDBInstances", "AccessDenied")) },
			[]string{"OLD has 1 coverage gap(s) the other scan did not"}},
		{"reversed", func(o, n *model.Scan) { o.Scan.FinishedAt = n.Scan.FinishedAt.Add(time.Hour) },
			[]string{"OLD finished after NEW: are the arguments reversed?"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old, new := scan("scan-old", t0), scan("scan-new", t0.Add(time.Hour))
			tt.mutate(old, new)
			w := diff.Compute(old, new).Context.Warnings
			if len(w) != len(tt.want) {
				t.Errorf("%d warnings, want %d: %q", len(w), len(tt.want), w)
			}
			all := strings.Join(w, "\n")
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("warnings lack %q:\n%s", want, all)
				}
			}
		})
	}
}

func TestFirstSeen(t *testing.T) {
	earlier := t0.Add(-72 * time.Hour)
	base := scan("scan-old", t0,
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-1"), // same status, with first_seen: carried
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-2"), // same status, no first_seen (older tool): baseline start
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-3"), // status changed: reset
	)
	base.Results[0].FirstSeen = &earlier
	cur := scan("scan-new", t0.Add(24*time.Hour),
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-1"),
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-2"),
		r(admin, "PASS", model.SeverityCritical, use1, "sg-3"),
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-4"), // new
		scopeError(acct, rdsP, use1),
	)
	diff.FirstSeen(cur, base)
	want := []time.Time{earlier, t0, t0.Add(24 * time.Hour), t0.Add(24 * time.Hour), t0.Add(24 * time.Hour)}
	for i, r := range cur.Results {
		if r.FirstSeen == nil || !r.FirstSeen.Equal(want[i]) {
			t.Errorf("%s: first_seen %v, want %v", r.ResourceID, r.FirstSeen, want[i])
		}
	}
	diff.FirstSeen(base, nil)
	for _, r := range base.Results {
		if r.FirstSeen == nil || !r.FirstSeen.Equal(t0) {
			t.Errorf("without a baseline first_seen is the scan's start: %v", r.FirstSeen)
		}
	}
}

// TestRenderers reads each format back: JSON has exactly the documented
// keys and round-trips; text and Markdown show the header, the warnings,
// the counts, each category and the control changes.
func TestRenderers(t *testing.T) {
	old := scan("scan-old", t0,
		r(admin, "FAIL", model.SeverityCritical, use1, "sg-1"),
		r(db, "PASS", model.SeverityHigh, use1, "sg-1"),
		r(rdsP, "FAIL", model.SeverityHigh, euw1, "db|1"),
	)
	old.Controls = []model.ControlStatus{{Framework: "cis", ControlID: "5.3", Title: "No admin ports open", Status: "FAIL"}}
	new := scan("scan-new", t0.Add(25*time.Hour),
		r(admin, "PASS", model.SeverityCritical, use1, "sg-1"),
		r(db, "FAIL", model.SeverityHigh, use1, "sg-1"),
		r(db, "FAIL", model.SeverityHigh, use1, "sg-9"),
		r(db, "PASS", model.SeverityHigh, use1, "sg-10"),
		scopeError(acct, rdsP, euw1),
	)
	new.Controls = []model.ControlStatus{{Framework: "cis", ControlID: "5.3", Title: "No admin ports open", Status: "PASS"}}
	new.Scan.Regions = []string{euw1, use1, "us-west-2"}
	setGap(new, gap(acct, euw1, "rds", "DescribeDBInstances", "AccessDenied"))
	d := diff.Compute(old, new)

	var buf bytes.Buffer
	if err := diff.WriteJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range top {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"changed", "context", "controls", "new", "not_observed", "resolved", "schema_version", "unchanged_count"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("diff.json keys %v, want %v", keys, want)
	}
	var back model.Diff
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(&back, d) {
		t.Errorf("diff.json does not round-trip: %v", err)
	}

	buf.Reset()
	if err := diff.WriteText(&buf, d); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"  OLD  scan-old  2026-01-10 02:00:00Z -> 2026-01-10 02:01:00Z  (posture 1.0.0)\n",
		"  NEW  scan-new  2026-01-11 03:00:00Z -> 2026-01-11 03:01:00Z  (posture 1.0.0)\n",
		"  window: 1d 1h 0m between the two scans' finish times\n",
		"  ! regions differ (only in NEW: us-west-2)",
		"  new                  2 (1 failing: 1 high)\n",
		"  not observed         1 (1 were FAIL; NEW did not cover them: never counted as resolved)\n",
		"\nNEW (2)\n", "  high      FAIL    ec2-sg-open-database-port  111111111111  us-east-1  sg-9\n",
		"  and 1 new resource(s) that PASS (listed in diff.json)\n",
		"\nRESOLVED (1)\n", "  critical  FAIL -> PASS  ec2-sg-open-admin-port  111111111111  us-east-1  sg-1\n",
		"\nCHANGED (1)\n", "  high      PASS -> FAIL  ec2-sg-open-database-port",
		"  coverage gap in NEW (DescribeDBInstances: AccessDenied): 1 finding(s), 1 were FAIL\n",
		"    high      was FAIL  rds-instance-public  111111111111  eu-west-1  db|1\n",
		"  cis: 1 control(s) changed status\n", "    5.3  FAIL -> PASS  No admin ports open\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "\nNEW (") > strings.Index(text, "\nRESOLVED (") || strings.Index(text, "\nCHANGED (") > strings.Index(text, "\nNOT OBSERVED (") {
		t.Errorf("sections out of order:\n%s", text)
	}
	if strings.Contains(text, "sg-10") {
		t.Errorf("text lists a new PASS:\n%s", text)
	}

	buf.Reset()
	if err := diff.WriteMarkdown(&buf, d); err != nil {
		t.Fatal(err)
	}
	mdText := buf.String()
	for _, want := range []string{
		"| OLD | `scan-old` | 2026-01-10 02:00:00Z | 2026-01-10 02:01:00Z | posture 1.0.0 |\n",
		"Window: **1d 1h 0m**",
		"### New (2)\n\n| severity | status | check | account | region | resource |\n|---|---|---|---|---|---|\n| high | FAIL | `ec2-sg-open-database-port` | 111111111111 | us-east-1 | `sg-9` |\n",
		"### Resolved (1)", "| critical | FAIL → PASS | `ec2-sg-open-admin-port` |",
		"### Not observed (1)", "| high | was FAIL | `rds-instance-public` | 111111111111 | eu-west-1 | `db\\|1` | coverage gap in NEW (DescribeDBInstances: AccessDenied) |",
		"#### cis: 1 control(s) changed status\n\n| control | OLD | NEW | title |\n|---|---|---|---|\n| 5.3 | FAIL | PASS | No admin ports open |\n",
		"| OLD \\ NEW | FAIL | PASS |\n|---|---:|---:|\n| FAIL | 0 | 1 |\n",
	} {
		if !strings.Contains(mdText, want) {
			t.Errorf("markdown lacks %q:\n%s", want, mdText)
		}
	}
}

func TestReadScanFile(t *testing.T) {
	dir := t.TempDir()
	s := scan("scan-old", t0, r(admin, "FAIL", model.SeverityCritical, use1, "sg-1"))
	data := mustJSON(t, s)
	// A newer schema-1 writer adds fields at every level.
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["added_by_a_newer_version"] = map[string]any{"x": 1}
	doc["results"].([]any)[0].(map[string]any)["risk_score"] = 9.5
	doc["scan"].(map[string]any)["trigger"] = "schedule"
	newer := filepath.Join(dir, "newer.json")
	writeJSON(t, newer, doc)
	got, err := reports.ReadScanFile(newer)
	if err != nil {
		t.Fatalf("a scan.json with unknown fields is not read: %v", err)
	}
	if got.Scan.ID != "scan-old" || len(got.Results) != 1 || got.Results[0].ResourceID != "sg-1" {
		t.Errorf("read %+v", got.Scan)
	}
	if _, err := reports.ReadScan(newer); err == nil {
		t.Error("the strict reader should still refuse unknown fields")
	}

	for _, tt := range []struct {
		name, content, want string
	}{
		{"corrupt", `{"schema_version": 1, "tool": {`, "not a valid posture scan.json: decode: unexpected end of JSON input"},
		{"not a scan", `{"new": [], "resolved": []}`, "not a valid posture scan.json: schema_version 0, want 1"},
		{"invalid result", strings.Replace(string(data), `"status":"FAIL"`, `"status":"BROKEN"`, 1), `results[0]: status "BROKEN"`},
		{"empty", ``, "not a valid posture scan.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := reports.ReadScanFile(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tt.want)
			}
		})
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := reports.ReadScanFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.WriteFile(path, mustJSON(t, v), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDiffWriter: the "diff" report format writes diff.json only when the
// scan has a baseline.
func TestDiffWriter(t *testing.T) {
	w := reports.Writers()["diff"]
	if w == nil {
		t.Fatal("no diff writer registered")
	}
	s := scan("scan-new", t0)
	if files := w.Files(reports.Input{Scan: s}); len(files) != 0 {
		t.Errorf("files without a baseline: %v", files)
	}
	d := diff.Compute(scan("scan-old", t0.Add(-time.Hour)), s)
	dir := t.TempDir()
	paths, err := reports.WriteDir(dir, reports.Input{Scan: s, Diff: d}, []reports.Writer{w})
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != "diff.json" {
		t.Fatalf("WriteDir: %v %v", paths, err)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var back model.Diff
	if err := json.Unmarshal(data, &back); err != nil || back.Context.Old.ID != "scan-old" || back.Context.New.ID != "scan-new" {
		t.Errorf("diff.json: %v %+v", err, back.Context)
	}
}

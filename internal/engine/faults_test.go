package engine_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/apicount"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
	"github.com/posture-dev/posture/scanners"
)

// faultSeed makes the proxies' probability draws the same on every run.
const faultSeed = 20261130

// scanDemo scans the demo account through url with the product's
// configuration (standard retryer, adaptive rate limits, read-only guard), with a
// short MaxBackoff so that retries do not make the test slow.
func scanDemo(t *testing.T, url string) (*model.Scan, *apicount.Counter, time.Duration) {
	t.Helper()
	counter := &apicount.Counter{}
	begin := time.Now()
	scan := scantest.ScanWith(t, url, demo.Regions(), scantest.Options{
		MaxAttempts: awsenv.DefaultMaxAttempts, MaxBackoff: 100 * time.Millisecond,
		APIOptions: []func(*middleware.Stack) error{counter.Install},
	})
	return scan, counter, time.Since(begin)
}

// resultKey is what must not change under faults: the check, the scope, the
// resource and the verdict.
func resultKey(r model.Result) string {
	return strings.Join([]string{r.CheckID, r.AccountID, r.Region, r.ResourceID, string(r.Status)}, " ")
}

// resultSet returns the result keys of the results keep selects.
func resultSet(scan *model.Scan, keep func(model.Result) bool) map[string]bool {
	out := map[string]bool{}
	for _, r := range scan.Results {
		if keep == nil || keep(r) {
			out[resultKey(r)] = true
		}
	}
	return out
}

// diffSets describes how got differs from want ("" when equal).
func diffSets(want, got map[string]bool) string {
	var lines []string
	for k := range want {
		if !got[k] {
			lines = append(lines, "  missing: "+k)
		}
	}
	for k := range got {
		if !want[k] {
			lines = append(lines, "  extra:   "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// faultProxy starts a seeded proxy in front of target.
func faultProxy(t *testing.T, target string, rules ...faultproxy.Rule) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.NewWithOptions(target, faultproxy.Options{Seed: faultSeed}, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestDemoScanSurvivesFaults seeds the demo account once, scans it without
// faults, then under throttling, under server errors and dropped
// connections, and with one service denied, and compares.
func TestDemoScanSurvivesFaults(t *testing.T) {
	srv := emutest.Fresh(t)
	if _, err := demo.Seed(context.Background(), emutest.Config(t, srv.URL, demo.PrimaryRegion)); err != nil {
		t.Fatalf("seed the demo account: %v", err)
	}
	baseline, baseCount, baseTime := scanDemo(t, srv.URL)
	if gaps := baseline.Gaps(); len(gaps) > 0 {
		t.Fatalf("the fault-free scan has gaps: %+v", gaps)
	}
	calls, _ := baseCount.Total()
	t.Logf("fault-free: %d results, %d API calls, %v", len(baseline.Results), calls, baseTime.Round(time.Millisecond))
	want := resultSet(baseline, nil)

	t.Run("throttled 30%", func(t *testing.T) {
		p := faultProxy(t, srv.URL, faultproxy.Rule{Fault: faultproxy.Throttle, Probability: 0.3})
		scan, counter, elapsed := scanDemo(t, p.URL)
		if d := diffSets(want, resultSet(scan, nil)); d != "" || len(scan.Gaps()) > 0 {
			t.Errorf("results under throttling differ from the fault-free scan:\n%s\ngaps: %+v", d, scan.Gaps())
		}
		throttled := p.Injected()[faultproxy.Throttle]
		if throttled == 0 {
			t.Error("the proxy throttled nothing")
		}
		calls, attempts := counter.Total()
		t.Logf("throttled %d of %d requests; %d calls, %d attempts; %v (fault-free %v)",
			throttled, p.Requests(), calls, attempts, elapsed.Round(time.Millisecond), baseTime.Round(time.Millisecond))
	})

	t.Run("6% server errors and 6% dropped connections", func(t *testing.T) {
		// Probabilities are drawn per matching rule, in order: 6% of all
		// requests get a 500, 6% of the rest (5.64% of all) are dropped.
		p := faultProxy(t, srv.URL,
			faultproxy.Rule{Fault: faultproxy.ServerError, Probability: 0.06},
			faultproxy.Rule{Fault: faultproxy.DropConnection, Probability: 0.06 / 0.94})
		scan, counter, elapsed := scanDemo(t, p.URL)
		if d := diffSets(want, resultSet(scan, nil)); d != "" || len(scan.Gaps()) > 0 {
			t.Errorf("results under 5xx and drops differ from the fault-free scan:\n%s\ngaps: %+v", d, scan.Gaps())
		}
		inj := p.Injected()
		if inj[faultproxy.ServerError] == 0 || inj[faultproxy.DropConnection] == 0 {
			t.Errorf("injected %v, want both kinds", inj)
		}
		calls, attempts := counter.Total()
		t.Logf("injected %d 500s and %d drops of %d requests; %d calls, %d attempts; %v",
			inj[faultproxy.ServerError], inj[faultproxy.DropConnection], p.Requests(), calls, attempts, elapsed.Round(time.Millisecond))
	})

	t.Run("rds denied", func(t *testing.T) {
		p := faultProxy(t, srv.URL, faultproxy.Rule{Service: "rds", Fault: faultproxy.AccessDenied})
		scan, _, _ := scanDemo(t, p.URL)
		gaps := scan.Gaps()
		gapScopes := map[string]bool{}
		for _, g := range gaps {
			if g.Service != "rds" {
				t.Errorf("gap outside rds: %+v", g)
			}
			gapScopes[g.Region] = true
		}
		for _, region := range demo.Regions() {
			if !gapScopes[region] {
				t.Errorf("rds in %s is not a coverage gap (gaps: %+v)", region, gaps)
			}
		}
		rdsChecks := map[string]bool{}
		for _, m := range scanners.Catalogue(scanners.All()) {
			if m.Service == "rds" {
				rdsChecks[m.ID] = true
			}
		}
		errors := 0
		for _, r := range scan.Results {
			if !rdsChecks[r.CheckID] {
				continue
			}
			if r.Status != model.StatusError {
				t.Errorf("rds result under denial is not ERROR: %s", resultKey(r))
			}
			errors++
		}
		if wantErrors := len(rdsChecks) * len(demo.Regions()); errors != wantErrors {
			t.Errorf("%d rds ERROR results, want %d (one per rds check and region)", errors, wantErrors)
		}
		notRDS := func(r model.Result) bool { return !rdsChecks[r.CheckID] }
		if d := diffSets(resultSet(baseline, notRDS), resultSet(scan, notRDS)); d != "" {
			t.Errorf("results outside rds differ from the fault-free scan:\n%s", d)
		}
		if p.Injected()[faultproxy.AccessDenied] == 0 {
			t.Error("the proxy denied nothing")
		}
	})
}

// TestResultKeyNamesTheVerdict keeps the comparison honest: a changed status
// is a different key.
func TestResultKeyNamesTheVerdict(t *testing.T) {
	a := model.Result{CheckID: "c", AccountID: "1", Region: "r", ResourceID: "x", Status: model.StatusPass}
	b := a
	b.Status = model.StatusFail
	if resultKey(a) == resultKey(b) {
		t.Errorf("%q == %q", resultKey(a), resultKey(b))
	}
}

package engine_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
)

// stub is a scanner that needs no AWS: it passes one resource per scope,
// and calls hook (if set) before it does.
type stub struct {
	name   string
	global bool
	hook   func(ctx context.Context, scope check.Scope)
}

func (s stub) Service() string { return s.name }
func (s stub) Global() bool    { return s.global }
func (s stub) Checks() []check.Meta {
	return []check.Meta{{ID: s.name + "-a-b", Service: s.name, Severity: model.SeverityHigh, Family: model.FamilyPublicExposure, ResourceType: "T"}}
}
func (s stub) Scan(ctx context.Context, scope check.Scope, selected map[string]bool) ([]model.Result, model.Coverage) {
	return s.service().Scan(ctx, scope, selected)
}
func (s stub) CollectSnapshot(ctx context.Context, scope check.Scope, selected map[string]bool) check.Snapshot {
	return s.service().CollectSnapshot(ctx, scope, selected)
}
func (s stub) Evaluate(snap check.Snapshot, selected map[string]bool, p check.Params) ([]model.Result, model.Coverage) {
	return s.service().Evaluate(snap, selected, p)
}

// stubInventory is the stub's inventory: the resources of the scope.
type stubInventory struct{ Resources []string }

// service is the stub as a check.Service: its collector calls the hook and
// records the cancellation of ctx as a gap.
func (s stub) service() check.Service[stubInventory] {
	return check.Service[stubInventory]{
		Name: s.name, IsGlobal: s.global,
		Collect: func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *stubInventory {
			if s.hook != nil {
				s.hook(ctx, scope)
			}
			if ctx.Err() != nil {
				gaps.Add("resources", "List", "", ctx.Err())
				return &stubInventory{}
			}
			return &stubInventory{Resources: []string{"r-" + scope.Region}}
		},
		List: []check.Check[stubInventory]{{Meta: s.Checks()[0], Needs: []string{"resources"},
			Eval: func(inv *stubInventory) []check.Finding {
				var out []check.Finding
				for _, r := range inv.Resources {
					out = append(out, check.Pass(r, "", "", nil))
				}
				return out
			}}},
	}
}

// counter is an Observer that counts its calls.
type counter struct {
	mu                                     sync.Mutex
	started, planned, done, gaps, finished int
	unreached                              int
}

func (c *counter) AccountStarted(string) { c.mu.Lock(); c.started++; c.mu.Unlock() }
func (c *counter) ScopesPlanned(_ string, n int) {
	c.mu.Lock()
	c.planned += n
	c.mu.Unlock()
}
func (c *counter) ScopeDone(_, _, _ string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if !ok {
		c.gaps++
	}
}
func (c *counter) AccountDone(_ string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished++
	if !ok {
		c.unreached++
	}
}

var stubs = []check.Scanner{stub{name: "ec2"}, stub{name: "rds"}, stub{name: "iam", global: true}}

func allChecks() []string { return []string{"ec2-a-b", "rds-a-b", "iam-a-b"} }

// denied is the error AssumeRole returns when the role may not be assumed.
var denied = &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
	Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}

func TestAccountGapAndObserver(t *testing.T) {
	prepared := func(regions []string, unavailable ...engine.UnavailableRegion) func(context.Context) (engine.Prepared, error) {
		return func(context.Context) (engine.Prepared, error) {
			return engine.Prepared{Regions: regions, Unavailable: unavailable}, nil
		}
	}
	targets := []engine.Target{
		{Account: engine.Account{ID: "111111111111", Name: "one"}, Prepare: prepared([]string{"us-east-1", "eu-west-1"})},
		{Account: engine.Account{ID: "222222222222", Name: "two"}, Prepare: func(context.Context) (engine.Prepared, error) {
			return engine.Prepared{}, fmt.Errorf("assume role: %w", denied)
		}},
		{Account: engine.Account{ID: "333333333333", Name: "three"}, Prepare: prepared([]string{"us-east-1"},
			engine.UnavailableRegion{Region: "eu-west-1", Code: model.CodeRegionNotEnabled, Reason: "region eu-west-1 is not enabled"})},
	}
	obs := &counter{}
	scan := engine.Run(context.Background(), targets, engine.Options{Scanners: stubs, Checks: allChecks(), Observer: obs})

	// Scopes: account one 2 regions x 2 + iam = 5; account three 1x2 + iam + 1 unavailable = 4.
	if obs.started != 3 || obs.finished != 3 || obs.unreached != 1 || obs.planned != 9 || obs.done != 9 || obs.gaps != 1 {
		t.Errorf("observer counts: %+v", obs)
	}
	if scan.Scan.Cancelled {
		t.Error("scan marked cancelled")
	}
	if got := scan.Scan.AccountNames; len(got) != 3 || got["222222222222"] != "two" {
		t.Errorf("account names %v", got)
	}
	var accountGaps, regionGaps int
	for _, g := range scan.Gaps() {
		switch {
		case g.AccountID == "222222222222":
			accountGaps++
			if g.Service != model.ServiceAccount || g.Region != model.GlobalRegion || len(g.Failures) != 1 ||
				g.Failures[0].Code != "AccessDenied" || g.Failures[0].Operation != "AssumeRole" {
				t.Errorf("account gap %+v", g)
			}
		case g.AccountID == "333333333333":
			regionGaps++
			if g.Service != model.ServiceRegion || g.Region != "eu-west-1" || g.Failures[0].Code != model.CodeRegionNotEnabled {
				t.Errorf("region gap %+v", g)
			}
		default:
			t.Errorf("unexpected gap %+v", g)
		}
	}
	if accountGaps != 1 || regionGaps != 1 {
		t.Errorf("%d account gaps, %d region gaps", accountGaps, regionGaps)
	}
	perAccount := map[string]map[model.Status]int{}
	for _, r := range scan.Results {
		if perAccount[r.AccountID] == nil {
			perAccount[r.AccountID] = map[model.Status]int{}
		}
		perAccount[r.AccountID][r.Status]++
		if r.AccountName != scan.Scan.AccountNames[r.AccountID] {
			t.Errorf("result %s of %s has account name %q", r.CheckID, r.AccountID, r.AccountName)
		}
		if r.Status == model.StatusError && r.ResourceID != "" {
			t.Errorf("scope-wide ERROR with a resource: %+v", r)
		}
	}
	// Unreached: one ERROR per selected check. Region not enabled: one per
	// regional check in that region.
	want := map[string]map[model.Status]int{
		"111111111111": {model.StatusPass: 5},
		"222222222222": {model.StatusError: 3},
		"333333333333": {model.StatusPass: 3, model.StatusError: 2},
	}
	if fmt.Sprint(perAccount) != fmt.Sprint(want) {
		t.Errorf("results per account %v, want %v", perAccount, want)
	}
}

// TestCancelledScopesAreGaps: cancelled after the first scope, the run
// still records every other scope, started or not, as a cancelled gap.
func TestCancelledScopesAreGaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	hook := func(context.Context, check.Scope) { once.Do(cancel) }
	scanners := []check.Scanner{stub{name: "ec2", hook: hook}, stub{name: "rds", hook: hook}}
	targets := []engine.Target{
		{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1", "eu-west-1", "ap-south-1"}},
		{Account: engine.Account{ID: "222222222222"}, Prepare: func(ctx context.Context) (engine.Prepared, error) {
			if err := ctx.Err(); err != nil {
				return engine.Prepared{}, fmt.Errorf("assume role: %w", err)
			}
			return engine.Prepared{Regions: []string{"us-east-1"}}, nil
		}},
	}
	scan := engine.Run(ctx, targets, engine.Options{Scanners: scanners, Checks: []string{"ec2-a-b", "rds-a-b"},
		AccountConcurrency: 1, ScopeConcurrency: 1})
	if !scan.Scan.Cancelled {
		t.Fatal("scan.cancelled not set")
	}
	var cancelled, ok int
	for _, c := range scan.Coverage {
		if c.Status == model.CoverageOK {
			ok++
			continue
		}
		if len(c.Failures) != 1 || c.Failures[0].Code != model.CodeCancelled {
			t.Errorf("gap %+v", c)
		}
		cancelled++
	}
	// Account one: 6 scopes, every one cancelled (the first is cut by its
	// own cancellation); account two: one account-level gap.
	if ok != 0 || cancelled != 7 {
		t.Errorf("%d ok and %d cancelled scopes: %+v", ok, cancelled, scan.Coverage)
	}
	errs := 0
	for _, r := range scan.Results {
		if r.Status == model.StatusError {
			errs++
		}
	}
	if errs != 8 || len(scan.Results) != 8 { // one per cancelled scope, two for the unreached account
		t.Errorf("%d ERROR results of %d, want 8", errs, len(scan.Results))
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Error("context not cancelled")
	}
}

// TestUnreachedAccountResultIsExact pins every field of the ERROR result the
// engine builds, through check.NewResult as the scanners' results are, for
// a check of an account it cannot reach.
func TestUnreachedAccountResultIsExact(t *testing.T) {
	targets := []engine.Target{{Account: engine.Account{ID: "222222222222", Name: "two"},
		Prepare: func(context.Context) (engine.Prepared, error) {
			return engine.Prepared{}, fmt.Errorf("assume role: %w", denied)
		}}}
	scan := engine.Run(context.Background(), targets, engine.Options{Scanners: []check.Scanner{stub{name: "rds"}}, Checks: []string{"rds-a-b"}})
	if len(scan.Results) != 1 {
		t.Fatalf("%d results, want 1: %+v", len(scan.Results), scan.Results)
	}
	want := model.Result{
		CheckID: "rds-a-b", Status: model.StatusError, Severity: model.SeverityHigh, Family: model.FamilyPublicExposure,
		AccountID: "222222222222", AccountName: "two", Region: model.GlobalRegion, Service: "rds", ResourceType: "T",
		Message:  "not evaluated: the account could not be reached (AssumeRole): AccessDenied: not authorized to perform sts:AssumeRole",
		Evidence: map[string]any{"operation": "AssumeRole", "error_code": "AccessDenied"},
		Controls: []string{}, Fingerprint: model.Fingerprint("rds-a-b", "222222222222", model.GlobalRegion, ""),
	}
	if got := scan.Results[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("result\n%#v\nwant\n%#v", got, want)
	}
}

// Package engine runs a scan: for each target account, for each of its
// regions, every selected scanner collects its inventory and evaluates its
// checks, with bounded concurrency at the account and scope levels. The CLI
// and the scheduled Lambda both call Run.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
)

// Default concurrency: I/O-bound work, sized for a laptop and for the API
// rate limits of one account, not for the number of CPUs.
const (
	DefaultAccountConcurrency = 4
	DefaultScopeConcurrency   = 8
)

// Account is one AWS account to scan, with the configuration that reaches it.
type Account struct {
	ID string
	// Name is the account's name in AWS Organizations; empty when unknown.
	Name      string
	Partition string
	Config    aws.Config
}

// Target is an account and the regions to scan in it.
type Target struct {
	Account Account
	Regions []string
	// Prepare, when set, is called in the account's own goroutine before any
	// of its scopes runs, so that many accounts are reached concurrently: it
	// reaches the account (assumes a role) and resolves its regions, which
	// replace Account.Config and Regions. An error makes the whole account
	// one coverage gap (service "account", region "global") with an ERROR
	// result per selected check; the other accounts go on. An error with an
	// Explain() string method (e.g. *awsenv.RoleError) gives the gap its
	// text; otherwise the AWS code and message are used.
	Prepare func(ctx context.Context) (Prepared, error)
}

// Prepared is what Target.Prepare resolved for an account.
type Prepared struct {
	// Config reaches the account.
	Config aws.Config
	// Regions are the regions to scan in the account.
	Regions []string
	// Unavailable are requested regions the account cannot be scanned in;
	// each becomes a coverage gap with ERROR results for the regional checks.
	Unavailable []UnavailableRegion
}

// UnavailableRegion is a requested region that one account cannot be
// scanned in.
type UnavailableRegion struct {
	Region string
	// Code is the error code of the gap, e.g. model.CodeRegionNotEnabled.
	Code string
	// Reason says why, for the report.
	Reason string
}

// Observer is told how a run progresses, e.g. to draw a progress display.
// Its methods are called from many goroutines at once.
type Observer interface {
	// AccountStarted is called when the run starts on an account.
	AccountStarted(accountID string)
	// ScopesPlanned is called once an account's scopes are known (after
	// Prepare), with their number, unavailable regions included.
	ScopesPlanned(accountID string, scopes int)
	// ScopeDone is called when one (region, service) scope is finished; ok
	// is false when it is a coverage gap.
	ScopeDone(accountID, region, service string, ok bool)
	// AccountDone is called when every scope of the account is finished;
	// ok is false when the account could not be reached at all.
	AccountDone(accountID string, ok bool)
}

// nopObserver is the Observer of a run without one.
type nopObserver struct{}

func (nopObserver) AccountStarted(string)                  {}
func (nopObserver) ScopesPlanned(string, int)              {}
func (nopObserver) ScopeDone(string, string, string, bool) {}
func (nopObserver) AccountDone(string, bool)               {}

// Options configures a run.
type Options struct {
	// Scanners are the scanners to run; their checks listed in Checks are evaluated.
	Scanners []check.Scanner
	// Checks are the IDs of the selected checks.
	Checks []string
	// AccountConcurrency bounds how many accounts are scanned at once.
	AccountConcurrency int
	// ScopeConcurrency bounds how many (region, service) scopes of one
	// account are collected at once.
	ScopeConcurrency int
	// CallConcurrency bounds the per-resource calls of one scope made at
	// once (check.Scope.CallConcurrency); zero uses fanout.DefaultLimit.
	CallConcurrency int
	Tool            model.Tool
	// Config holds the check thresholds; nil uses config.Default(). The
	// checks measure ages against the scan's start time.
	Config *config.Config
	// Now is the clock; nil uses time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Observer is told of the run's progress; nil for none.
	Observer Observer
	// Offered says whether AWS offers a service in a region; nil uses
	// awsenv.Offered (the SDK's endpoint metadata). A regional scope whose
	// service is not offered is not run: it is recorded as not applicable
	// (status ok, Note model.NoteNotOffered, no results), never as a gap.
	Offered func(service, region string) bool
}

// Run scans every target and returns the scan document: RunInventory
// without the inventory.
func Run(ctx context.Context, targets []Target, opts Options) *model.Scan {
	scan, _ := RunInventory(ctx, targets, opts)
	return scan
}

// RunInventory scans every target: it collects the inventory (Collect) and
// evaluates it (Evaluate), and returns both. It does not fail: what could
// not be collected is recorded as coverage gaps and ERROR results. When ctx
// is cancelled, the scopes not finished (started or not) are recorded as
// gaps with the code model.CodeCancelled, scan.cancelled is set, and it
// returns promptly with what was collected.
func RunInventory(ctx context.Context, targets []Target, opts Options) (*model.Scan, *inventory.Inventory) {
	inv := Collect(ctx, targets, opts)
	return Evaluate(inv, opts), inv
}

// Collect makes every AWS call of the scan and returns its inventory: the
// snapshot of every (account, region, service) scope of the selected
// checks, and the scan-level gaps (accounts not reached, regions not
// available, scopes cancelled or not offered).
func Collect(ctx context.Context, targets []Target, opts Options) *inventory.Inventory {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	observer := opts.Observer
	if observer == nil {
		observer = nopObserver{}
	}
	selected := map[string]bool{}
	for _, id := range opts.Checks {
		selected[id] = true
	}
	started := now().UTC()
	cfg := config.Default()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	inv := &inventory.Inventory{
		SchemaVersion: inventory.SchemaVersion,
		Tool:          opts.Tool,
		Scan: inventory.Scan{
			ID:         newScanID(started),
			StartedAt:  started,
			Checks:     sortedCopy(opts.Checks),
			Thresholds: cfg.Thresholds(),
			Config:     cfg,
			Accounts:   []inventory.Account{},
			Regions:    []string{},
		},
		Scopes:   []check.Snapshot{},
		ScanGaps: []inventory.ScanGap{},
	}
	r := &runner{
		opts:      opts,
		params:    check.Params{Now: started, Credentials: cfg.Credentials},
		selected:  selected,
		logger:    logger,
		observer:  observer,
		inv:       inv,
		regionSet: map[string]bool{},
	}

	accounts := errgroup.Group{}
	accounts.SetLimit(positive(opts.AccountConcurrency, DefaultAccountConcurrency))
	for _, t := range targets {
		accounts.Go(func() error {
			r.scanAccount(ctx, t)
			return nil
		})
	}
	_ = accounts.Wait() // the goroutines return no errors: failures are data

	for region := range r.regionSet {
		inv.Scan.Regions = append(inv.Scan.Regions, region)
	}
	inv.Sort()
	inv.Scan.FinishedAt = now().UTC()
	return inv
}

func scopeKey(account, region, service string) string {
	return account + "\x00" + region + "\x00" + service
}

// runner is the state of one Collect shared by its goroutines.
type runner struct {
	opts     Options
	params   check.Params
	selected map[string]bool
	logger   *slog.Logger
	observer Observer

	mu        sync.Mutex // guards inv and regionSet
	inv       *inventory.Inventory
	regionSet map[string]bool
}

// addSnapshot adds one scope's snapshot to the inventory.
func (r *runner) addSnapshot(snap check.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.Scopes = append(r.inv.Scopes, snap)
}

// addGap adds a scan-level gap to the inventory.
func (r *runner) addGap(g inventory.ScanGap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.ScanGaps = append(r.inv.ScanGaps, g)
}

// scope is one (region, scanner) unit of an account.
type scope struct {
	scanner check.Scanner
	// region is the scanned region or model.GlobalRegion; callRegion is the
	// region the calls go to.
	region, callRegion string
}

// scanAccount reaches one account, then collects every (region, scanner)
// scope of it.
func (r *runner) scanAccount(ctx context.Context, t Target) {
	account, regions := t.Account, t.Regions
	r.observer.AccountStarted(account.ID)
	var unavailable []UnavailableRegion
	if t.Prepare != nil {
		err := ctx.Err()
		var p Prepared
		if err == nil {
			p, err = t.Prepare(ctx)
		}
		if err != nil {
			r.addAccount(account, nil)
			r.accountGap(ctx, account, err)
			r.observer.AccountDone(account.ID, false)
			return
		}
		account.Config, regions, unavailable = p.Config, p.Regions, p.Unavailable
	}
	r.addAccount(account, regions)

	offered := r.opts.Offered
	if offered == nil {
		offered = awsenv.Offered
	}
	var plan, notOffered []scope
	for _, sc := range r.opts.Scanners {
		if !anySelected(sc, r.selected) {
			continue
		}
		if sc.Global() {
			plan = append(plan, scope{sc, model.GlobalRegion, awsenv.HomeRegion(account.Partition)})
			continue
		}
		for _, region := range regions {
			if !offered(sc.Service(), region) {
				notOffered = append(notOffered, scope{sc, region, region})
				continue
			}
			plan = append(plan, scope{sc, region, region})
		}
	}
	r.observer.ScopesPlanned(account.ID, len(plan)+len(notOffered)+len(unavailable))
	for _, u := range unavailable {
		r.addGap(inventory.ScanGap{Kind: inventory.GapRegion, AccountID: account.ID, Region: u.Region, Code: u.Code, Message: u.Reason})
		r.observer.ScopeDone(account.ID, u.Region, model.ServiceRegion, false)
	}
	for _, s := range notOffered {
		service := s.scanner.Service()
		r.logger.Debug("service not offered in region", "account", account.ID, "region", s.region, "service", service)
		r.addGap(inventory.ScanGap{Kind: inventory.GapNotOffered, AccountID: account.ID, Region: s.region, Service: service})
		r.observer.ScopeDone(account.ID, s.region, service, true)
	}

	scopes := errgroup.Group{}
	scopes.SetLimit(positive(r.opts.ScopeConcurrency, DefaultScopeConcurrency))
	for _, s := range plan {
		scopes.Go(func() error {
			r.runScope(ctx, account, regions, s)
			return nil
		})
	}
	_ = scopes.Wait()
	r.observer.AccountDone(account.ID, true)
}

// addAccount records a target account and its scanned regions.
func (r *runner) addAccount(account Account, regions []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, region := range regions {
		r.regionSet[region] = true
	}
	r.inv.Scan.Accounts = append(r.inv.Scan.Accounts, inventory.Account{ID: account.ID, Name: account.Name,
		Partition: account.Partition, Regions: append([]string{}, regions...)})
}

// runScope collects one scope. A scope that the cancellation of ctx kept
// from starting or finishing is recorded as cancelled.
func (r *runner) runScope(ctx context.Context, account Account, regions []string, s scope) {
	service := s.scanner.Service()
	if ctx.Err() != nil {
		r.cancelledScope(account, s)
		return
	}
	cfg := account.Config.Copy()
	cfg.Region = s.callRegion
	sc := check.Scope{
		AccountID:       account.ID,
		Partition:       account.Partition,
		Region:          s.region,
		Regions:         regions,
		Config:          cfg,
		Params:          r.params,
		CallConcurrency: r.opts.CallConcurrency,
	}
	begin := time.Now()
	// The rate limits key their buckets by the account (awsenv.Limiter).
	snap := s.scanner.CollectSnapshot(awsenv.WithAccount(ctx, account.ID), sc, r.selected)
	if len(snap.Gaps) > 0 && ctx.Err() != nil {
		// Interrupted: what failed is the cancellation, not AWS.
		r.cancelledScope(account, s)
		return
	}
	r.logger.Debug("scope collected", "account", account.ID, "region", s.region, "service", service,
		"bytes", len(snap.Inventory), "gaps", len(snap.Gaps), "elapsed", time.Since(begin).Round(time.Millisecond))
	for _, g := range snap.Gaps {
		r.logger.Warn("coverage gap", "account", account.ID, "region", s.region, "service", service,
			"operation", g.Operation, "resource", g.Resource, "error", g.Message)
	}
	r.addSnapshot(snap)
	r.observer.ScopeDone(account.ID, s.region, service, len(snap.Gaps) == 0)
}

// cancelledScope records a scope the scan did not finish because ctx was
// cancelled.
func (r *runner) cancelledScope(account Account, s scope) {
	r.addGap(inventory.ScanGap{Kind: inventory.GapCancelled, AccountID: account.ID, Region: s.region, Service: s.scanner.Service(),
		Code: model.CodeCancelled, Message: cancelledMessage})
	r.observer.ScopeDone(account.ID, s.region, s.scanner.Service(), false)
}

const cancelledMessage = "scan cancelled before this scope was collected"

// accountGap records an account that could not be reached.
func (r *runner) accountGap(ctx context.Context, account Account, err error) {
	operation := "PrepareAccount"
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		operation = opErr.Operation()
	}
	code, text := check.ErrorCode(err), check.ErrorText(err)
	var explained interface{ Explain() string }
	if errors.As(err, &explained) {
		text = explained.Explain()
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		code, text = model.CodeCancelled, "scan cancelled before the account was reached"
	}
	r.logger.Warn("account not reached", "account", account.ID, "operation", operation, "error", err)
	r.addGap(inventory.ScanGap{Kind: inventory.GapAccount, AccountID: account.ID, Region: model.GlobalRegion,
		Operation: operation, Code: code, Message: text})
}

// Evaluate turns an inventory into the scan document, with no AWS call:
// every snapshot is evaluated by its scanner over the checks of
// opts.Checks, with the thresholds of opts.Config (nil: the defaults) and
// ages measured against the inventory's start time; the scan-level gaps
// become their coverage entries and ERROR results. A selected check whose
// scope or parts the inventory did not collect is ERROR with the code
// check.NotCollectedCode, never PASS. The scan's ID and times are the
// inventory's, so evaluating a scan's own inventory reproduces it.
func Evaluate(inv *inventory.Inventory, opts Options) *model.Scan {
	selected := map[string]bool{}
	for _, id := range opts.Checks {
		selected[id] = true
	}
	cfg := config.Default()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	scan := &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          opts.Tool,
		Scan: model.ScanInfo{
			ID:         inv.Scan.ID,
			StartedAt:  inv.Scan.StartedAt,
			FinishedAt: inv.Scan.FinishedAt,
			Regions:    append([]string(nil), inv.Scan.Regions...),
			Checks:     sortedCopy(opts.Checks),
			Thresholds: cfg.Thresholds(),
		},
		Coverage: []model.Coverage{},
		Results:  []model.Result{},
		Controls: []model.ControlStatus{},
	}
	if len(scan.Scan.Regions) == 0 {
		scan.Scan.Regions = nil
	}
	e := &evaluator{opts: opts, selected: selected, scan: scan,
		params: check.Params{Now: inv.Scan.StartedAt, Credentials: cfg.Credentials}, names: map[string]string{}}
	for _, a := range inv.Scan.Accounts {
		scan.Scan.Accounts = append(scan.Scan.Accounts, a.ID)
		if a.Name != "" {
			if scan.Scan.AccountNames == nil {
				scan.Scan.AccountNames = map[string]string{}
			}
			scan.Scan.AccountNames[a.ID] = a.Name
			e.names[a.ID] = a.Name
		}
	}
	byService := map[string]check.Scanner{}
	for _, sc := range opts.Scanners {
		byService[sc.Service()] = sc
	}
	covered := map[string]bool{}
	reached := map[string]bool{}
	for _, g := range inv.ScanGaps {
		covered[scopeKey(g.AccountID, g.Region, g.Service)] = true
		switch g.Kind {
		case inventory.GapAccount:
			e.accountGap(g)
		case inventory.GapRegion:
			e.regionGap(g)
		case inventory.GapCancelled, inventory.GapTimedOut:
			if sc, ok := byService[g.Service]; ok && anySelected(sc, selected) {
				e.cancelledScope(sc, g)
			}
		case inventory.GapNotOffered:
			if sc, ok := byService[g.Service]; ok && anySelected(sc, selected) {
				e.add(g.AccountID, nil, model.Coverage{AccountID: g.AccountID, Region: g.Region, Service: g.Service,
					Status: model.CoverageOK, Note: model.NoteNotOffered})
			}
		}
	}
	for _, snap := range inv.Scopes {
		covered[scopeKey(snap.AccountID, snap.Region, snap.Service)] = true
		sc, ok := byService[snap.Service]
		if !ok || !anySelected(sc, selected) {
			continue
		}
		results, cov := sc.Evaluate(snap, selected, e.params)
		e.add(snap.AccountID, results, cov)
	}
	// Scopes of selected checks that the inventory has no trace of (their
	// scanner was not selected at collection) are not collected.
	unreached := map[string]bool{}
	unavailable := map[string]bool{}
	for _, g := range inv.ScanGaps {
		switch g.Kind {
		case inventory.GapAccount:
			unreached[g.AccountID] = true
		case inventory.GapRegion:
			unavailable[g.AccountID+"\x00"+g.Region] = true
		}
	}
	for _, a := range inv.Scan.Accounts {
		if unreached[a.ID] {
			continue
		}
		reached[a.ID] = true
		for _, sc := range opts.Scanners {
			if !anySelected(sc, selected) {
				continue
			}
			regions := a.Regions
			if sc.Global() {
				regions = []string{model.GlobalRegion}
			}
			for _, region := range regions {
				if !covered[scopeKey(a.ID, region, sc.Service())] && !unavailable[a.ID+"\x00"+region] {
					e.notCollected(sc, a.ID, region)
				}
			}
		}
	}

	SortResults(scan.Results)
	sort.Slice(scan.Coverage, func(i, j int) bool {
		a, b := scan.Coverage[i], scan.Coverage[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Service < b.Service
	})
	return scan
}

// evaluator is the state of one Evaluate.
type evaluator struct {
	opts     Options
	selected map[string]bool
	params   check.Params
	names    map[string]string
	scan     *model.Scan
}

// add adds one scope's outcome to the scan.
func (e *evaluator) add(accountID string, results []model.Result, cov model.Coverage) {
	resources := map[string]bool{}
	for i := range results {
		results[i].AccountName = e.names[accountID]
		cov.Results++
		if results[i].Status == model.StatusError {
			cov.Errors++
		}
		if id := results[i].ResourceID; id != "" {
			resources[results[i].Region+"\x00"+id] = true
		}
	}
	cov.Resources = len(resources)
	e.scan.Results = append(e.scan.Results, results...)
	e.scan.Coverage = append(e.scan.Coverage, cov)
	for _, f := range cov.Failures {
		if f.Code == model.CodeCancelled {
			e.scan.Scan.Cancelled = true
		}
	}
}

// cancelledScope evaluates a scope that was not finished because the scan
// was cancelled (code model.CodeCancelled, which marks the scan cancelled)
// or because one account's collection timed out (GapTimedOut, its own code
// and message): a gap and an ERROR result per selected check of the
// scanner.
func (e *evaluator) cancelledScope(sc check.Scanner, g inventory.ScanGap) {
	code, msg := model.CodeCancelled, cancelledMessage
	if g.Kind == inventory.GapTimedOut {
		code, msg = model.CodeTimedOut, "this account's collection reached its time limit before this scope was collected"
		if g.Code != "" {
			code = g.Code
		}
		if g.Message != "" {
			msg = g.Message
		}
	}
	failure := model.Failure{Part: "scope", Code: code, Error: msg}
	var results []model.Result
	for _, m := range selectedChecks(sc, e.selected) {
		results = append(results, errorResult(m, g.AccountID, g.Region, "not evaluated: "+msg,
			map[string]any{"error_code": code}))
	}
	cov := model.Coverage{AccountID: g.AccountID, Region: g.Region, Service: sc.Service(),
		Status: model.CoverageError, Error: code + ": " + msg, Failures: []model.Failure{failure}}
	e.add(g.AccountID, results, cov)
}

// notCollected evaluates a scope of selected checks that the inventory did
// not collect: a gap with the code check.NotCollectedCode and an ERROR
// result per selected check of the scanner.
func (e *evaluator) notCollected(sc check.Scanner, accountID, region string) {
	const msg = "not collected in this inventory"
	var results []model.Result
	for _, m := range selectedChecks(sc, e.selected) {
		results = append(results, errorResult(m, accountID, region, "not evaluated: "+msg,
			map[string]any{"error_code": check.NotCollectedCode}))
	}
	cov := model.Coverage{AccountID: accountID, Region: region, Service: sc.Service(),
		Status: model.CoverageError, Error: check.NotCollectedCode + ": " + msg,
		Failures: []model.Failure{{Part: "scope", Code: check.NotCollectedCode, Error: msg}}}
	e.add(accountID, results, cov)
}

// accountGap evaluates an account that could not be reached: one coverage
// entry (service "account", region "global") and an ERROR result per
// selected check.
func (e *evaluator) accountGap(g inventory.ScanGap) {
	var results []model.Result
	for _, sc := range e.opts.Scanners {
		for _, m := range selectedChecks(sc, e.selected) {
			results = append(results, errorResult(m, g.AccountID, model.GlobalRegion,
				fmt.Sprintf("not evaluated: the account could not be reached (%s): %s", g.Operation, g.Message),
				map[string]any{"operation": g.Operation, "error_code": g.Code}))
		}
	}
	cov := model.Coverage{AccountID: g.AccountID, Region: model.GlobalRegion, Service: model.ServiceAccount,
		Status: model.CoverageError, Error: g.Operation + ": " + g.Message,
		Failures: []model.Failure{{Part: "account", Operation: g.Operation, Code: g.Code, Error: g.Message}}}
	e.add(g.AccountID, results, cov)
}

// regionGap evaluates a requested region the account cannot be scanned in:
// one coverage entry (service "region") and an ERROR result per selected
// regional check.
func (e *evaluator) regionGap(g inventory.ScanGap) {
	var results []model.Result
	for _, sc := range e.opts.Scanners {
		if sc.Global() {
			continue
		}
		for _, m := range selectedChecks(sc, e.selected) {
			results = append(results, errorResult(m, g.AccountID, g.Region, "not evaluated: "+g.Message,
				map[string]any{"error_code": g.Code}))
		}
	}
	cov := model.Coverage{AccountID: g.AccountID, Region: g.Region, Service: model.ServiceRegion,
		Status: model.CoverageError, Error: g.Code + ": " + g.Message,
		Failures: []model.Failure{{Part: "region", Code: g.Code, Error: g.Message}}}
	e.add(g.AccountID, results, cov)
}

// selectedChecks returns the metadata of the scanner's selected checks.
func selectedChecks(sc check.Scanner, selected map[string]bool) []check.Meta {
	var out []check.Meta
	for _, m := range sc.Checks() {
		if selected[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// errorResult is a scope-wide ERROR result of check m (no resource).
func errorResult(m check.Meta, accountID, region, msg string, evidence map[string]any) model.Result {
	return check.NewResult(m, check.Scope{AccountID: accountID, Region: region}, check.Error("", "", msg, evidence))
}

func anySelected(sc check.Scanner, selected map[string]bool) bool {
	for _, m := range sc.Checks() {
		if selected[m.ID] {
			return true
		}
	}
	return false
}

// SortResults orders results deterministically: account, region, check,
// resource.
func SortResults(results []model.Result) {
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		return a.ResourceID < b.ResourceID
	})
}

func positive(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// newScanID returns an ID that sorts by time and is unique across runs.
func newScanID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// NewScanID returns a new scan ID for a scan started at t (UTC): the form
// the engine gives every scan, which sorts by time and is unique across
// runs. The nightly fan-out names its run with it before any account is
// collected.
func NewScanID(t time.Time) string { return newScanID(t.UTC()) }

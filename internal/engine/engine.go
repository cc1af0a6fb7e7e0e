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

// Run scans every target and returns the scan document. It does not fail:
// what could not be collected is recorded as coverage gaps and ERROR results.
// When ctx is cancelled, the scopes not finished (started or not) are
// recorded as gaps with the code model.CodeCancelled, scan.cancelled is set,
// and Run returns promptly with what was collected.
func Run(ctx context.Context, targets []Target, opts Options) *model.Scan {
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
	scan := &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          opts.Tool,
		Scan: model.ScanInfo{
			ID:         newScanID(started),
			StartedAt:  started,
			Checks:     sortedCopy(opts.Checks),
			Thresholds: cfg.Thresholds(),
		},
		Coverage: []model.Coverage{},
		Results:  []model.Result{},
		Controls: []model.ControlStatus{},
	}
	r := &runner{
		opts:      opts,
		params:    check.Params{Now: started, Credentials: cfg.Credentials},
		selected:  selected,
		logger:    logger,
		observer:  observer,
		scan:      scan,
		regionSet: map[string]bool{},
	}

	accounts := errgroup.Group{}
	accounts.SetLimit(positive(opts.AccountConcurrency, DefaultAccountConcurrency))
	for _, t := range targets {
		scan.Scan.Accounts = append(scan.Scan.Accounts, t.Account.ID)
		if t.Account.Name != "" {
			if scan.Scan.AccountNames == nil {
				scan.Scan.AccountNames = map[string]string{}
			}
			scan.Scan.AccountNames[t.Account.ID] = t.Account.Name
		}
		accounts.Go(func() error {
			r.scanAccount(ctx, t)
			return nil
		})
	}
	_ = accounts.Wait() // the goroutines return no errors: failures are data

	for region := range r.regionSet {
		scan.Scan.Regions = append(scan.Scan.Regions, region)
	}
	sort.Strings(scan.Scan.Regions)
	sort.Strings(scan.Scan.Accounts)
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
	scan.Scan.FinishedAt = now().UTC()
	return scan
}

// runner is the state of one Run shared by its goroutines.
type runner struct {
	opts     Options
	params   check.Params
	selected map[string]bool
	logger   *slog.Logger
	observer Observer

	mu        sync.Mutex // guards scan and regionSet
	scan      *model.Scan
	regionSet map[string]bool
}

// collect adds one scope's outcome to the scan.
func (r *runner) collect(account Account, results []model.Result, cov model.Coverage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	resources := map[string]bool{}
	for i := range results {
		results[i].AccountName = account.Name
		cov.Results++
		if results[i].Status == model.StatusError {
			cov.Errors++
		}
		if id := results[i].ResourceID; id != "" {
			resources[results[i].Region+"\x00"+id] = true
		}
	}
	cov.Resources = len(resources)
	r.scan.Results = append(r.scan.Results, results...)
	r.scan.Coverage = append(r.scan.Coverage, cov)
	for _, f := range cov.Failures {
		if f.Code == model.CodeCancelled {
			r.scan.Scan.Cancelled = true
		}
	}
}

// scope is one (region, scanner) unit of an account.
type scope struct {
	scanner check.Scanner
	// region is the scanned region or model.GlobalRegion; callRegion is the
	// region the calls go to.
	region, callRegion string
}

// scanAccount reaches one account, then runs every (region, scanner) scope
// of it.
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
			r.accountGap(ctx, account, err)
			r.observer.AccountDone(account.ID, false)
			return
		}
		account.Config, regions, unavailable = p.Config, p.Regions, p.Unavailable
	}
	r.mu.Lock()
	for _, region := range regions {
		r.regionSet[region] = true
	}
	r.mu.Unlock()

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
		r.regionGap(account, u)
	}
	for _, s := range notOffered {
		r.notApplicable(account, s)
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

// runScope collects and evaluates one scope. A scope that the cancellation
// of ctx kept from starting or finishing is recorded as cancelled.
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
	results, cov := s.scanner.Scan(awsenv.WithAccount(ctx, account.ID), sc, r.selected)
	if cov.Status != model.CoverageOK && ctx.Err() != nil {
		// Interrupted: what failed is the cancellation, not AWS.
		r.cancelledScope(account, s)
		return
	}
	r.logger.Debug("scope scanned", "account", account.ID, "region", s.region, "service", service,
		"results", len(results), "coverage", cov.Status, "elapsed", time.Since(begin).Round(time.Millisecond))
	if cov.Status != model.CoverageOK {
		r.logger.Warn("coverage gap", "account", account.ID, "region", s.region, "service", service, "error", cov.Error)
	}
	r.collect(account, results, cov)
	r.observer.ScopeDone(account.ID, s.region, service, cov.Status == model.CoverageOK)
}

// cancelledScope records a scope the scan did not finish because ctx was
// cancelled: a gap with the code model.CodeCancelled and an ERROR result
// per selected check of the scanner.
func (r *runner) cancelledScope(account Account, s scope) {
	const msg = "scan cancelled before this scope was collected"
	failure := model.Failure{Part: "scope", Code: model.CodeCancelled, Error: msg}
	var results []model.Result
	for _, m := range r.selectedChecks(s.scanner) {
		results = append(results, errorResult(m, account.ID, s.region, "not evaluated: "+msg,
			map[string]any{"error_code": model.CodeCancelled}))
	}
	cov := model.Coverage{AccountID: account.ID, Region: s.region, Service: s.scanner.Service(),
		Status: model.CoverageError, Error: model.CodeCancelled + ": " + msg, Failures: []model.Failure{failure}}
	r.collect(account, results, cov)
	r.observer.ScopeDone(account.ID, s.region, s.scanner.Service(), false)
}

// notApplicable records a regional scope whose service AWS does not offer
// in the region: nothing to collect and nothing missing, so status ok with
// the note model.NoteNotOffered and no results.
func (r *runner) notApplicable(account Account, s scope) {
	service := s.scanner.Service()
	r.logger.Debug("service not offered in region", "account", account.ID, "region", s.region, "service", service)
	r.collect(account, nil, model.Coverage{AccountID: account.ID, Region: s.region, Service: service,
		Status: model.CoverageOK, Note: model.NoteNotOffered})
	r.observer.ScopeDone(account.ID, s.region, service, true)
}

// accountGap records an account that could not be reached: one coverage
// entry (service "account", region "global") and an ERROR result per
// selected check.
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
	var results []model.Result
	for _, sc := range r.opts.Scanners {
		for _, m := range r.selectedChecks(sc) {
			results = append(results, errorResult(m, account.ID, model.GlobalRegion,
				fmt.Sprintf("not evaluated: the account could not be reached (%s): %s", operation, text),
				map[string]any{"operation": operation, "error_code": code}))
		}
	}
	cov := model.Coverage{AccountID: account.ID, Region: model.GlobalRegion, Service: model.ServiceAccount,
		Status: model.CoverageError, Error: operation + ": " + text,
		Failures: []model.Failure{{Part: "account", Operation: operation, Code: code, Error: text}}}
	r.collect(account, results, cov)
}

// regionGap records a requested region the account cannot be scanned in:
// one coverage entry (service "region") and an ERROR result per selected
// regional check.
func (r *runner) regionGap(account Account, u UnavailableRegion) {
	var results []model.Result
	for _, sc := range r.opts.Scanners {
		if sc.Global() {
			continue
		}
		for _, m := range r.selectedChecks(sc) {
			results = append(results, errorResult(m, account.ID, u.Region, "not evaluated: "+u.Reason,
				map[string]any{"error_code": u.Code}))
		}
	}
	cov := model.Coverage{AccountID: account.ID, Region: u.Region, Service: model.ServiceRegion,
		Status: model.CoverageError, Error: u.Code + ": " + u.Reason,
		Failures: []model.Failure{{Part: "region", Code: u.Code, Error: u.Reason}}}
	r.collect(account, results, cov)
	r.observer.ScopeDone(account.ID, u.Region, model.ServiceRegion, false)
}

// selectedChecks returns the metadata of the scanner's selected checks.
func (r *runner) selectedChecks(sc check.Scanner) []check.Meta {
	var out []check.Meta
	for _, m := range sc.Checks() {
		if r.selected[m.ID] {
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

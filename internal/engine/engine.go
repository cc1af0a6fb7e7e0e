// Package engine runs a scan: for each target account, for each of its
// regions, every selected scanner collects its inventory and evaluates its
// checks, with bounded concurrency at the account and scope levels. The CLI
// and the scheduled Lambda both call Run.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	ID        string
	Name      string
	Partition string
	Config    aws.Config
}

// Target is an account and the regions to scan in it.
type Target struct {
	Account Account
	Regions []string
}

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
	Tool             model.Tool
	// Config holds the check thresholds; nil uses config.Default(). The
	// checks measure ages against the scan's start time.
	Config *config.Config
	// Now is the clock; nil uses time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Run scans every target and returns the scan document. It does not fail:
// what could not be collected is recorded as coverage gaps and ERROR results.
func Run(ctx context.Context, targets []Target, opts Options) *model.Scan {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
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
	params := check.Params{Now: started, Credentials: cfg.Credentials}
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

	var mu sync.Mutex
	collect := func(results []model.Result, cov model.Coverage) {
		mu.Lock()
		defer mu.Unlock()
		scan.Results = append(scan.Results, results...)
		scan.Coverage = append(scan.Coverage, cov)
	}

	accounts := errgroup.Group{}
	accounts.SetLimit(positive(opts.AccountConcurrency, DefaultAccountConcurrency))
	regionSet := map[string]bool{}
	for _, t := range targets {
		scan.Scan.Accounts = append(scan.Scan.Accounts, t.Account.ID)
		for _, r := range t.Regions {
			regionSet[r] = true
		}
		accounts.Go(func() error {
			scanAccount(ctx, t, opts, params, selected, logger, collect)
			return nil
		})
	}
	_ = accounts.Wait() // the goroutines return no errors: failures are data

	for r := range regionSet {
		scan.Scan.Regions = append(scan.Scan.Regions, r)
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

// scanAccount runs every (region, scanner) scope of one account.
func scanAccount(ctx context.Context, t Target, opts Options, params check.Params, selected map[string]bool, logger *slog.Logger, collect func([]model.Result, model.Coverage)) {
	scopes := errgroup.Group{}
	scopes.SetLimit(positive(opts.ScopeConcurrency, DefaultScopeConcurrency))
	run := func(sc check.Scanner, region, callRegion string) {
		scopes.Go(func() error {
			cfg := t.Account.Config.Copy()
			cfg.Region = callRegion
			scope := check.Scope{
				AccountID: t.Account.ID,
				Partition: t.Account.Partition,
				Region:    region,
				Regions:   t.Regions,
				Config:    cfg,
				Params:    params,
			}
			begin := time.Now()
			results, cov := sc.Scan(ctx, scope, selected)
			logger.Debug("scope scanned", "account", t.Account.ID, "region", region, "service", sc.Service(),
				"results", len(results), "coverage", cov.Status, "elapsed", time.Since(begin).Round(time.Millisecond))
			if cov.Status != model.CoverageOK {
				logger.Warn("coverage gap", "account", t.Account.ID, "region", region, "service", sc.Service(), "error", cov.Error)
			}
			collect(results, cov)
			return nil
		})
	}
	for _, sc := range opts.Scanners {
		if !anySelected(sc, selected) {
			continue
		}
		if sc.Global() {
			run(sc, model.GlobalRegion, awsenv.HomeRegion(t.Account.Partition))
			continue
		}
		for _, region := range t.Regions {
			run(sc, region, region)
		}
	}
	_ = scopes.Wait()
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

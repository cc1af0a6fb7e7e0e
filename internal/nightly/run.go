package nightly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/reports"
)

// PartialMissingCode is the gap code of a planned account whose fan-out
// invocation wrote no partial.
const PartialMissingCode = "PartialMissing"

// PlanOutput is the output of the plan action: the Map's item source.
type PlanOutput struct {
	ScanID    string    `json:"scan_id"`
	StartedAt time.Time `json:"started_at"`
	Bucket    string    `json:"bucket"`
	Prefix    string    `json:"prefix"`
	PlanKey   string    `json:"plan_key"`
	Accounts  int       `json:"accounts"`
}

// PlanItem is one item of plan.json: one account to scan.
type PlanItem struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
}

// AccountOutput is the output of the scan-account action.
type AccountOutput struct {
	AccountID  string `json:"account_id"`
	PartialKey string `json:"partial_key"`
	// Scopes are the (region, service) scopes collected.
	Scopes int `json:"scopes"`
	// Gaps are the account's coverage gaps: an unreachable account or
	// region, a cancelled scope, a scope with a failed collection.
	Gaps int `json:"gaps"`
}

// RunFile is work/<scan-id>/run.json: the plan's snapshot of the settings,
// which scan-account and assemble use, so that a change of the function's
// settings during a run does not split it.
type RunFile struct {
	ScanID    string    `json:"scan_id"`
	StartedAt time.Time `json:"started_at"`
	// Scope is Settings.Scope at plan time.
	Scope string `json:"scope"`
	// Regions are the requested regions (["all"] for every enabled one).
	Regions []string `json:"regions"`
	// Checks are the selected check IDs; RequestedChecks and ExcludeChecks
	// the lists they came from.
	Checks          []string `json:"checks"`
	RequestedChecks []string `json:"requested_checks,omitempty"`
	ExcludeChecks   []string `json:"exclude_checks,omitempty"`
	// Frameworks are the framework IDs (empty: all).
	Frameworks []string `json:"frameworks,omitempty"`
	Org        bool     `json:"org"`
	Accounts   []string `json:"accounts,omitempty"`
	RoleName   string   `json:"role_name,omitempty"`
	// ConfigSource is the config file's s3:// URI; ConfigKey its copy
	// taken at plan time, which the run reads; ConfigSHA256 the copy's hash.
	ConfigSource string `json:"config_source,omitempty"`
	ConfigKey    string `json:"config_key,omitempty"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// Principal is the plan's caller; Planned the number of accounts.
	Principal string `json:"principal"`
	Planned   int    `json:"planned"`
}

func (r RunFile) requestedRegions() []string {
	if len(r.Regions) == 1 && r.Regions[0] == "all" {
		return nil
	}
	return r.Regions
}

// workKey is the key of a fan-out working file of the scan.
func (e *env) workKey(scanID, name string) string { return e.key("work/" + scanID + "/" + name) }

// partialKey is the key of one account's partial.
func (e *env) partialKey(scanID, account string) string {
	return e.workKey(scanID, "accounts/"+account+".json")
}

// singleRun scans every target in this invocation and finishes the run.
func (e *env) singleRun(ctx context.Context) (*Summary, error) {
	s := e.s
	if err := e.checkRegions(ctx, s.Regions); err != nil {
		return nil, err
	}
	cfgFile, err := e.readConfig(ctx, e.store, s.ConfigKey, e.store.URI(s.ConfigKey), time.Now())
	if err != nil {
		return nil, err
	}
	signer, err := e.signer(ctx)
	if err != nil {
		return nil, err
	}
	engCtx, cancel := e.engineContext(ctx)
	defer cancel()
	targets, err := scanrun.Targets(engCtx, e.cfg, e.caller, e.targeting(s.Regions, s.Accounts, s.Org, s.RoleName), e.logger)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", settingErr(err))
	}
	e.logger.Info("scan starting", "accounts", len(targets), "checks", len(s.SelectedChecks), "regions", regionsText(s.Regions))
	scan, _ := engine.RunInventory(engCtx, targets, e.engineOptions(s.SelectedChecks, &cfgFile.Config))
	if scan.Scan.Cancelled {
		e.logger.Warn("scan stopped before the invocation's deadline; writing what was collected", "cause", context.Cause(engCtx))
	}
	return e.finish(ctx, finishInput{
		scan: scan, config: cfgFile, regions: s.Regions, frameworks: s.Frameworks, scope: s.Scope(),
		complete: !scan.Scan.Cancelled, invocation: e.invocation, signer: signer,
	})
}

func regionsText(r []string) string {
	if len(r) == 0 {
		return "all"
	}
	return strings.Join(r, ",")
}

// plan names the run, lists its accounts and writes the fan-out's working
// files: plan.json (the Map's item source), run.json (the settings
// snapshot) and config.yaml (the config file's copy).
func (e *env) plan(ctx context.Context) (*PlanOutput, error) {
	s := e.s
	started := e.h.now()
	id := engine.NewScanID(started)
	if err := e.checkRegions(ctx, s.Regions); err != nil {
		return nil, err
	}
	list, err := scanrun.ListAccounts(ctx, e.cfg, e.caller, e.targeting(s.Regions, s.Accounts, s.Org, s.RoleName))
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", settingErr(err))
	}
	run := RunFile{
		ScanID: id, StartedAt: started, Scope: s.Scope(), Regions: s.Regions, Checks: s.SelectedChecks,
		RequestedChecks: s.Checks, ExcludeChecks: s.ExcludeChecks, Frameworks: s.Frameworks,
		Org: s.Org, Accounts: s.Accounts, RoleName: s.RoleName, Principal: e.caller.ARN, Planned: len(list),
	}
	if len(run.Regions) == 0 {
		run.Regions = []string{"all"}
	}
	if s.ConfigKey != "" {
		cfgFile, err := e.readConfig(ctx, e.store, s.ConfigKey, e.store.URI(s.ConfigKey), time.Now())
		if err != nil {
			return nil, err
		}
		run.ConfigSource, run.ConfigKey, run.ConfigSHA256 = cfgFile.File, e.workKey(id, "config.yaml"), cfgFile.SHA256
		if err := e.work.Put(ctx, run.ConfigKey, cfgFile.Data, contentType("config.yaml")); err != nil {
			return nil, err
		}
	}
	items := make([]PlanItem, 0, len(list))
	for _, a := range list {
		items = append(items, PlanItem{AccountID: a.ID, AccountName: a.Name})
	}
	planKey := e.workKey(id, "plan.json")
	if err := putJSON(ctx, e.work, e.workKey(id, "run.json"), run); err != nil {
		return nil, err
	}
	if err := putJSON(ctx, e.work, planKey, items); err != nil {
		return nil, err
	}
	e.logger.Info("planned", "scan_id", id, "accounts", len(items), "plan", e.work.URI(planKey))
	return &PlanOutput{ScanID: id, StartedAt: started, Bucket: s.WorkBucket, Prefix: s.Prefix, PlanKey: planKey, Accounts: len(items)}, nil
}

// readRun reads the plan's run.json.
func (e *env) readRun(ctx context.Context, scanID string) (*RunFile, error) {
	data, err := e.work.Get(ctx, e.workKey(scanID, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("the plan of scan %s: %w", scanID, err)
	}
	var run RunFile
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("the plan of scan %s: %s: %w", scanID, e.workKey(scanID, "run.json"), err)
	}
	if run.ScanID != scanID || len(run.Checks) == 0 {
		return nil, fmt.Errorf("the plan of scan %s: run.json is of scan %q with %d checks", scanID, run.ScanID, len(run.Checks))
	}
	return &run, nil
}

// runConfig reads the plan's copy of the config file.
func (e *env) runConfig(ctx context.Context, run *RunFile) (loadedConfig, error) {
	if run.ConfigKey == "" {
		return e.readConfig(ctx, e.work, "", "", time.Now())
	}
	cfgFile, err := e.readConfig(ctx, e.work, run.ConfigKey, run.ConfigSource, time.Now())
	if err != nil {
		return loadedConfig{}, err
	}
	if cfgFile.SHA256 != run.ConfigSHA256 {
		return loadedConfig{}, fmt.Errorf("%s: SHA-256 %s, the plan recorded %s", e.work.URI(run.ConfigKey), cfgFile.SHA256, run.ConfigSHA256)
	}
	return cfgFile, nil
}

// scanAccount collects one account, every requested region, through the
// role, exactly as the CLI's --accounts or --org target it, and writes its
// partial (the account's inventory). An account that cannot be reached is
// a gap inside the partial, not an error; an error means the partial could
// not be written. A retry overwrites the partial.
func (e *env) scanAccount(ctx context.Context, ev Event) (*AccountOutput, error) {
	run, err := e.readRun(ctx, ev.ScanID)
	if err != nil {
		return nil, err
	}
	cfgFile, err := e.runConfig(ctx, run)
	if err != nil {
		return nil, err
	}
	engCtx, cancel := e.engineContext(ctx)
	defer cancel()
	list := []awsenv.OrgAccount{{ID: ev.AccountID, Name: ev.AccountName}}
	targets := scanrun.AccountTargets(engCtx, e.cfg, e.caller, list, e.targeting(run.requestedRegions(), run.Accounts, run.Org, run.RoleName), e.logger)
	inv := engine.Collect(engCtx, targets, e.engineOptions(run.Checks, &cfgFile.Config))
	if timedOut := markTimedOut(inv); timedOut > 0 {
		e.logger.Warn("the account's collection reached the invocation's time limit; its unfinished scopes are coverage gaps (TimedOut)",
			"scan_id", ev.ScanID, "account", ev.AccountID, "scopes", timedOut)
	}
	var buf bytes.Buffer
	if err := inventory.Encode(&buf, inv); err != nil {
		return nil, err
	}
	key := e.partialKey(ev.ScanID, ev.AccountID)
	if err := e.work.Put(ctx, key, buf.Bytes(), "application/json"); err != nil {
		return nil, err
	}
	gaps := 0
	for _, g := range inv.ScanGaps {
		if g.Kind != inventory.GapNotOffered {
			gaps++
		}
	}
	for _, snap := range inv.Scopes {
		if len(snap.Gaps) > 0 {
			gaps++
		}
	}
	e.logger.Info("account collected", "scan_id", ev.ScanID, "account", ev.AccountID, "scopes", len(inv.Scopes), "gaps", gaps, "partial", e.work.URI(key))
	return &AccountOutput{AccountID: ev.AccountID, PartialKey: key, Scopes: len(inv.Scopes), Gaps: gaps}, nil
}

// markTimedOut turns the cancelled gaps of one account's collection into
// time-outs and returns how many there were. In scan-account the only
// cancellation is the invocation's own deadline (engineContext): the
// account ran out of time, the run did not, so the assembled scan is not
// cancelled (it stays a baseline) and the account's unfinished scopes are
// gaps with the code model.CodeTimedOut.
func markTimedOut(inv *inventory.Inventory) int {
	n := 0
	for i, g := range inv.ScanGaps {
		if g.Code != model.CodeCancelled {
			continue
		}
		n++
		g.Code = model.CodeTimedOut
		switch g.Kind {
		case inventory.GapCancelled:
			g.Kind = inventory.GapTimedOut
			g.Message = "this account's scan-account invocation reached its time limit (the function's Timeout) before this scope was collected; the other accounts went on"
		case inventory.GapAccount:
			g.Message = "this account's scan-account invocation reached its time limit (the function's Timeout) before the account was reached"
		}
		inv.ScanGaps[i] = g
	}
	return n
}

// assemble reads every partial, records each planned account without one
// as an account gap (PartialMissing, with ERROR results), merges and
// evaluates them, and finishes the run as the single run does.
func (e *env) assemble(ctx context.Context, ev Event) (*Summary, error) {
	run, err := e.readRun(ctx, ev.ScanID)
	if err != nil {
		return nil, err
	}
	data, err := e.work.Get(ctx, e.workKey(ev.ScanID, "plan.json"))
	if err != nil {
		return nil, fmt.Errorf("the plan of scan %s: %w", ev.ScanID, err)
	}
	var planned []PlanItem
	if err := json.Unmarshal(data, &planned); err != nil {
		return nil, fmt.Errorf("the plan of scan %s: plan.json: %w", ev.ScanID, err)
	}
	cfgFile, err := e.runConfig(ctx, run)
	if err != nil {
		return nil, err
	}
	signer, err := e.signer(ctx)
	if err != nil {
		return nil, err
	}
	plannedIDs := map[string]bool{}
	for _, p := range planned {
		plannedIDs[p.AccountID] = true
	}
	prefix := e.workKey(ev.ScanID, "accounts/")
	keys, err := e.work.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	checks := append([]string{}, run.Checks...)
	sort.Strings(checks)
	var parts []*inventory.Inventory
	have := map[string]bool{}
	for _, key := range keys {
		account := strings.TrimSuffix(strings.TrimPrefix(key, prefix), ".json")
		if !plannedIDs[account] {
			e.logger.Warn("a partial of an account the plan does not list is ignored", "key", key)
			continue
		}
		part, err := e.readPartial(ctx, key, account, checks)
		if err != nil {
			e.logger.Error("partial unreadable: the account is recorded as missing", "account", account, "key", key, "error", err)
			continue
		}
		parts = append(parts, part)
		have[account] = true
	}
	merged, err := inventory.Merge(ev.ScanID, run.StartedAt, parts)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		merged.Tool = model.Tool{Name: "posture", Version: e.version}
		merged.Scan.Checks = checks
		merged.Scan.Thresholds = cfgFile.Config.Thresholds()
		merged.Scan.Config = cfgFile.Config
	}
	missing := 0
	for _, p := range planned {
		if have[p.AccountID] {
			continue
		}
		missing++
		merged.AddUnreachedAccount(p.AccountID, p.AccountName, e.caller.Partition, "ScanAccount", PartialMissingCode, missingMessage(p.AccountID, ev.MapError))
	}
	if missing > 0 {
		e.logger.Warn("accounts without a partial are recorded as coverage gaps", "scan_id", ev.ScanID, "missing", missing, "planned", len(planned))
	}
	scan := engine.Evaluate(merged, e.engineOptions(run.Checks, &cfgFile.Config))
	function := e.h.getenv("AWS_LAMBDA_FUNCTION_NAME")
	if function == "" {
		function = "posture"
	}
	return e.finish(ctx, finishInput{
		scan: scan, config: cfgFile, regions: run.requestedRegions(), frameworks: run.Frameworks, scope: run.Scope,
		complete:   !scan.Scan.Cancelled && missing == 0 && !hasCode(scan, model.CodeTimedOut),
		invocation: fmt.Sprintf("lambda %s (fan-out: action plan, scan-account for %d accounts, assemble)", function, len(planned)),
		signer:     signer, principal: run.Principal,
	})
}

// hasCode reports whether a coverage gap of the scan has the code.
func hasCode(scan *model.Scan, code string) bool {
	for _, c := range scan.Coverage {
		for _, f := range c.Failures {
			if f.Code == code {
				return true
			}
		}
	}
	return false
}

// readPartial reads and checks one account's partial: an inventory of that
// account alone, collected for the run's checks.
func (e *env) readPartial(ctx context.Context, key, account string, checks []string) (*inventory.Inventory, error) {
	data, err := e.work.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	part, err := inventory.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	if len(part.Scan.Accounts) != 1 || part.Scan.Accounts[0].ID != account {
		return nil, errors.New("the partial is not of this account alone")
	}
	got := append([]string{}, part.Scan.Checks...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(checks, ",") {
		return nil, fmt.Errorf("the partial was collected for other checks than the plan's (%d, want %d)", len(got), len(checks))
	}
	return part, nil
}

// missingMessage is the gap text of a planned account with no partial.
func missingMessage(account string, mapErr *MapError) string {
	msg := fmt.Sprintf("the fan-out invocation for account %s did not write its result (it timed out or failed, or the Map stopped before it ran); the account was not scanned in this run", account)
	if mapErr != nil && (mapErr.Error != "" || mapErr.Cause != "") {
		cause := mapErr.Cause
		if len(cause) > 500 {
			cause = cause[:500] + "..."
		}
		msg += fmt.Sprintf("; the state machine's Map failed: %s: %s", mapErr.Error, cause)
	}
	return msg
}

// putJSON writes v as indented JSON to key in store.
func putJSON(ctx context.Context, store *Store, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return store.Put(ctx, key, append(data, '\n'), "application/json")
}

// signer returns the package signer when POSTURE_SIGN_KMS_KEY is set,
// checked before the scan with the function's own credentials.
func (e *env) signer(ctx context.Context) (reports.Signer, error) {
	if e.s.SignKMSKey == "" {
		return nil, nil
	}
	s, err := newKMSSigner(ctx, e.cfg, e.s.SignKMSKey)
	if err != nil {
		return nil, &SettingError{Variable: EnvSignKMSKey, Err: err}
	}
	return s, nil
}

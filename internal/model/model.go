// Package model holds the types of a scan's outcome: results, coverage and the
// scan.json document (schema version 1, see DESIGN.md section 3). Fields may be
// added to these types, never renamed.
package model

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the version of the scan.json document written by this build.
const SchemaVersion = 1

// GlobalRegion is the region recorded for resources of global services.
const GlobalRegion = "global"

// Status is the outcome of one check for one resource.
type Status string

// The statuses a result can have.
const (
	StatusPass  Status = "PASS"
	StatusFail  Status = "FAIL"
	StatusError Status = "ERROR"
	StatusMuted Status = "MUTED"
)

// Severity ranks how bad a failing result is.
type Severity string

// The severities, from worst to mildest.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "informational"
)

// Severities lists every severity from worst to mildest, in a new slice
// each call: callers may sort or change it without changing anyone else's.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}
}

// Rank orders severities: critical is 5, informational 1, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 5
	case SeverityHigh:
		return 4
	case SeverityMedium:
		return 3
	case SeverityLow:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// ParseSeverity accepts a severity name in any letter case.
func ParseSeverity(s string) (Severity, bool) {
	sev := Severity(strings.ToLower(strings.TrimSpace(s)))
	if sev == "info" {
		sev = SeverityInfo
	}
	return sev, sev.Rank() > 0
}

// Family is one of the four families of risk the product looks for.
type Family string

// The check families.
const (
	FamilyPublicExposure Family = "public-exposure"
	FamilyOutsideVPC     Family = "outside-vpc"
	FamilyUnencrypted    Family = "unencrypted"
	FamilyCredentials    Family = "credentials"
)

// Families returns the families in the order the product presents them.
func Families() []Family {
	return []Family{FamilyPublicExposure, FamilyOutsideVPC, FamilyUnencrypted, FamilyCredentials}
}

// Rank is the family's position in Families, from 1; an unknown family
// ranks after every known one.
func (f Family) Rank() int {
	for i, x := range Families() {
		if x == f {
			return i + 1
		}
	}
	return len(Families()) + 1
}

// Result is the outcome of one check for one resource (or, for ERROR results
// of a scope that could not be collected, for the whole scope).
type Result struct {
	CheckID   string   `json:"check_id"`
	Status    Status   `json:"status"`
	Severity  Severity `json:"severity"`
	Family    Family   `json:"family"`
	AccountID string   `json:"account_id"`
	// AccountName is the account's name in AWS Organizations, when the scan
	// knows it (posture scan --org).
	AccountName  string         `json:"account_name,omitempty"`
	Region       string         `json:"region"`
	Service      string         `json:"service"`
	ResourceType string         `json:"resource_type"`
	ResourceID   string         `json:"resource_id"`
	ResourceARN  string         `json:"resource_arn"`
	Message      string         `json:"message"`
	Evidence     map[string]any `json:"evidence"`
	Controls     []string       `json:"controls"`
	Fingerprint  string         `json:"fingerprint"`
	// WaiverID names the waiver (Scan.Waivers) that turned this FAIL into
	// MUTED; empty for every other result.
	WaiverID string `json:"waiver_id,omitempty"`
	// FirstSeen is when this finding (same fingerprint, same status) was
	// first observed: carried forward from the baseline scan, else the
	// scan's start.
	FirstSeen *time.Time `json:"first_seen,omitempty"`
}

// Fingerprint derives a result's stable identity from check, account, region
// and resource, so that diffs and waivers match the same finding across runs.
func Fingerprint(checkID, accountID, region, resourceID string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{checkID, accountID, region, resourceID}, "\x00")))
	return hex.EncodeToString(h[:16])
}

// CoverageStatus says whether a scope was collected completely.
type CoverageStatus string

// The coverage statuses.
const (
	CoverageOK    CoverageStatus = "ok"
	CoverageError CoverageStatus = "error"
)

// Coverage records what was collected for one account, region and service.
// A scope with status error is a coverage gap: the checks over the missing
// data report ERROR there.
type Coverage struct {
	AccountID string         `json:"account_id"`
	Region    string         `json:"region"`
	Service   string         `json:"service"`
	Status    CoverageStatus `json:"status"`
	Error     string         `json:"error,omitempty"`
	// Failures details each failed collection of the scope.
	Failures []Failure `json:"failures,omitempty"`
	// Resources, Results and Errors are the scope's population: distinct
	// resources evaluated, results, and ERROR results among them. They
	// reconcile the evidence: every result belongs to exactly one scope.
	Resources int `json:"resources"`
	Results   int `json:"results"`
	Errors    int `json:"errors"`
	// Note qualifies a scope that is not a gap: NoteNotOffered for a
	// service AWS does not offer in the region (status ok, no results).
	Note string `json:"note,omitempty"`
}

// NoteNotOffered is the Coverage.Note of a (region, service) scope whose
// service AWS does not offer in the region: not applicable, not collected,
// and not a gap.
const NoteNotOffered = "not applicable: service not offered in region"

// Failure is one failed API collection inside a scope.
type Failure struct {
	// Part is the inventory part that is missing, e.g. "security-groups".
	Part string `json:"part"`
	// Operation is the AWS API operation that failed, e.g. "DescribeSecurityGroups".
	Operation string `json:"operation"`
	// Resource is set when the call was for one resource (a bucket, a snapshot).
	Resource string `json:"resource,omitempty"`
	// Code is the AWS error code when there is one, e.g. "AccessDenied".
	Code  string `json:"code,omitempty"`
	Error string `json:"error"`
}

// Error codes of the gaps the scan itself records (the others are AWS
// error codes).
const (
	// CodeCancelled marks a scope the scan did not finish because it was
	// cancelled.
	CodeCancelled = "Cancelled"
	// CodeTimedOut marks a scope that one account's own collection did not
	// finish within its time limit (the nightly fan-out's per-account
	// invocation), while the run as a whole went on: a coverage gap of that
	// account, not a cancelled scan.
	CodeTimedOut = "TimedOut"
	// CodeRegionNotEnabled marks a requested region that the account has
	// not enabled.
	CodeRegionNotEnabled = "RegionNotEnabled"
)

// Services of the coverage entries that are not AWS services: an account
// that could not be reached, a region that could not be scanned.
const (
	ServiceAccount = "account"
	ServiceRegion  = "region"
)

// Tool identifies the program that produced a scan.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ScanInfo describes the run.
type ScanInfo struct {
	ID         string    `json:"id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Accounts   []string  `json:"accounts"`
	Regions    []string  `json:"regions"`
	Checks     []string  `json:"checks"`
	// Thresholds are the check thresholds the scan used, keyed by their
	// name in the configuration file, e.g. "credentials.max_key_age_days".
	Thresholds map[string]int `json:"thresholds,omitempty"`
	// AccountNames maps account IDs to their names in AWS Organizations,
	// for the accounts whose name the scan knows.
	AccountNames map[string]string `json:"account_names,omitempty"`
	// Cancelled is true when the scan was interrupted (Ctrl-C or --timeout)
	// before every scope was collected; the scopes it did not finish are
	// coverage gaps with the error code CodeCancelled.
	Cancelled bool `json:"cancelled,omitempty"`
	// Principal is the ARN of the identity that ran the scan
	// (sts:GetCallerIdentity).
	Principal string `json:"principal,omitempty"`
	// Invocation is what started the run: the command line of the CLI, or a
	// description of the Lambda event.
	Invocation string `json:"invocation,omitempty"`
	// RequestedRegions are the regions the user asked for ("all" or a
	// list); Regions are the regions actually scanned.
	RequestedRegions []string `json:"requested_regions,omitempty"`
	// ConfigFile and ConfigSHA256 identify the --config file the scan read
	// (thresholds, waivers); empty when none.
	ConfigFile   string `json:"config_file,omitempty"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// Baseline identifies the earlier scan this one was compared with
	// (posture scan --baseline); nil when none.
	Baseline *ScanRef `json:"baseline,omitempty"`
}

// ScanRef identifies a scan: its ID and times, and the tool that made it.
type ScanRef struct {
	ID          string    `json:"id"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	ToolVersion string    `json:"tool_version,omitempty"`
}

// ControlState is the status of a framework control, rolled up from the
// results of its checks (see package controls for the rules).
type ControlState string

// The control states, worst first.
const (
	// ControlFail: at least one result of the control's checks FAILed.
	ControlFail ControlState = "FAIL"
	// ControlError: no failure, but part of the evidence is missing (an
	// ERROR result, which is how a coverage gap appears).
	ControlError ControlState = "ERROR"
	// ControlWaived: no failure and no error, but some failures are MUTED by
	// a live waiver: the control holds only by accepted exceptions.
	ControlWaived ControlState = "WAIVED"
	// ControlPass: every result of the control's checks passed.
	ControlPass ControlState = "PASS"
	// ControlNotApplicable: the control has checks but they produced no
	// result (no resource in scope, or the checks did not run).
	ControlNotApplicable ControlState = "NOT_APPLICABLE"
	// ControlManual: no check covers the control; it needs manual evidence.
	ControlManual ControlState = "MANUAL"
)

// ControlStates lists every control state, worst first.
func ControlStates() []ControlState {
	return []ControlState{ControlFail, ControlError, ControlWaived, ControlPass, ControlNotApplicable, ControlManual}
}

// Evaluated reports whether the state counts in a pass rate: FAIL, ERROR,
// WAIVED or PASS.
func (s ControlState) Evaluated() bool {
	return s == ControlFail || s == ControlError || s == ControlWaived || s == ControlPass
}

// How much of a control its checks evidence (ControlStatus.Coverage).
const (
	// CoverageFull: the checks test the whole control.
	CoverageFull = "full"
	// CoveragePartial: the checks test part of the control; a PASS means
	// "the automated part passes", never "the control is satisfied".
	CoveragePartial = "partial"
)

// ControlStatus is the roll-up of results for one framework control (see
// package controls for the status rules).
type ControlStatus struct {
	Framework string `json:"framework"`
	ControlID string `json:"control_id"`
	Title     string `json:"title"`
	// Status is FAIL, ERROR, WAIVED, PASS, NOT_APPLICABLE or MANUAL.
	Status ControlState `json:"status"`
	// Coverage is CoverageFull or CoveragePartial for a control with checks,
	// empty for a MANUAL one.
	Coverage string `json:"coverage,omitempty"`
	// Passed, Failed, Errors and Muted count the results of the control's checks.
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	Errors int `json:"errors"`
	Muted  int `json:"muted"`
	// Accounts are the accounts with a FAIL or ERROR result for the control.
	Accounts []string `json:"accounts"`
	// Checks are the checks that are evidence for the control (none: MANUAL).
	Checks []string `json:"checks"`
	// Note explains a status that needs it: manual evidence, no resource in
	// scope, or checks that did not run in this scan.
	Note string `json:"note,omitempty"`
}

// Framework describes one framework whose controls the scan rolled up, so
// that reports rendered from scan.json alone can name it.
type Framework struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Publisher string `json:"publisher,omitempty"`
	URL       string `json:"url,omitempty"`
	// Scope says what part of the framework the catalogue covers, when it
	// is not the whole framework.
	Scope string `json:"scope,omitempty"`
	// Source is the catalogue: "builtin:<name>" or the custom file's path.
	Source string `json:"source,omitempty"`
}

// CheckInfo is the catalogue entry of a check the scan ran, so that reports
// rendered from scan.json alone describe each check as this version of the
// tool ran it.
type CheckInfo struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Family       Family   `json:"family"`
	Service      string   `json:"service"`
	Severity     Severity `json:"severity"`
	ResourceType string   `json:"resource_type"`
	Rationale    string   `json:"rationale"`
	Remediation  string   `json:"remediation"`
	References   []string `json:"references,omitempty"`
}

// Waiver is one accepted exception from the --config file, as the scan
// applied it: a live waiver turns matching FAIL results into MUTED ones.
type Waiver struct {
	// ID is the waiver's id in the config file, or "waiver-N" (its position,
	// from 1) when it has none.
	ID        string   `json:"id"`
	Check     string   `json:"check"`
	Resources []string `json:"resources,omitempty"`
	Accounts  []string `json:"accounts,omitempty"`
	Regions   []string `json:"regions,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Owner     string   `json:"owner,omitempty"`
	Ticket    string   `json:"ticket,omitempty"`
	// Expires is the last day (UTC, YYYY-MM-DD) the waiver mutes.
	Expires    string `json:"expires"`
	ApprovedBy string `json:"approved_by,omitempty"`
	// State is WaiverActive, WaiverExpired or WaiverUnused.
	State string `json:"state"`
	// Muted is how many results it muted in this scan.
	Muted int `json:"muted"`
}

// Waiver states.
const (
	// WaiverActive: live, and it muted at least one result.
	WaiverActive = "active"
	// WaiverExpired: past its expiry; it mutes nothing.
	WaiverExpired = "expired"
	// WaiverUnused: live, but no failing result matched it.
	WaiverUnused = "unused"
)

// Scan is the scan.json document.
type Scan struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          Tool            `json:"tool"`
	Scan          ScanInfo        `json:"scan"`
	Coverage      []Coverage      `json:"coverage"`
	Results       []Result        `json:"results"`
	Controls      []ControlStatus `json:"controls"`
	// Frameworks are the frameworks rolled up in Controls, in their order.
	Frameworks []Framework `json:"frameworks,omitempty"`
	// Catalogue describes the checks the scan ran, in ID order.
	Catalogue []CheckInfo `json:"catalogue,omitempty"`
	// Waivers lists every waiver of the config file with its state in this
	// scan: the exception register.
	Waivers []Waiver `json:"waivers,omitempty"`
}

// FrameworkIDs lists the frameworks of the scan: Frameworks, and any
// framework of Controls that is not there (a scan from before Frameworks
// existed), in order of appearance.
func (s *Scan) FrameworkIDs() []string {
	var ids []string
	for _, f := range s.Frameworks {
		if !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	for _, c := range s.Controls {
		if !slices.Contains(ids, c.Framework) {
			ids = append(ids, c.Framework)
		}
	}
	return ids
}

// Gaps returns the coverage entries whose status is error.
func (s *Scan) Gaps() []Coverage {
	var gaps []Coverage
	for _, c := range s.Coverage {
		if c.Status != CoverageOK {
			gaps = append(gaps, c)
		}
	}
	return gaps
}

// Diff is diff.json: the changes between two scans of the same estate, by
// finding fingerprint (see package diff for the rules).
type Diff struct {
	SchemaVersion int         `json:"schema_version"`
	Context       DiffContext `json:"context"`
	// New are findings in NEW but not in OLD, where OLD covered that scope
	// with that check.
	New []DiffEntry `json:"new"`
	// Resolved are FAILs of OLD that NEW saw PASS, or absent from a scope
	// NEW collected without a gap with that check.
	Resolved []DiffEntry `json:"resolved"`
	// Changed are findings in both whose status or severity changed.
	Changed []DiffEntry `json:"changed"`
	// NotObserved are findings of OLD absent from NEW because NEW did not
	// cover them (gap, cancelled, account/region/check not selected).
	NotObserved    []DiffEntry `json:"not_observed"`
	UnchangedCount int         `json:"unchanged_count"`
	// Controls lists, per framework, the controls whose status changed.
	Controls []DiffFramework `json:"controls"`
}

// DiffContext says which two scans were compared, and how comparable they are.
type DiffContext struct {
	Old ScanRef `json:"old"`
	New ScanRef `json:"new"`
	// WindowSeconds is the time from OLD's finish to NEW's finish.
	WindowSeconds int64 `json:"window_seconds"`
	// Warnings say where the two scans differ in scope, checks, thresholds or
	// catalogues, so that a difference of selection is not read as a
	// difference of posture.
	Warnings []string `json:"warnings"`
	// OutsideOldScope lists the findings of NEW whose scope or check OLD did
	// not cover (a new account or region, a check OLD did not run, a scope
	// OLD could not collect): they are not "new", they were never compared.
	// Only FAIL, MUTED and per-resource ERROR findings are listed, each with
	// a Reason; OutsideOldScopeCount counts them all, PASS included.
	OutsideOldScope      []DiffEntry `json:"outside_old_scope"`
	OutsideOldScopeCount int         `json:"outside_old_scope_count"`
	// RemovedCount counts findings of OLD that were not FAIL (PASS, MUTED,
	// per-resource ERROR) and are absent from a scope NEW covered: the
	// resource was deleted or left the check's scope.
	RemovedCount int `json:"removed_count"`
	// OldGaps and NewGaps count each scan's coverage gaps (coverage entries
	// with status error).
	OldGaps int `json:"old_gaps"`
	NewGaps int `json:"new_gaps"`
}

// DiffEntry is one finding in a diff category.
type DiffEntry struct {
	Fingerprint  string   `json:"fingerprint"`
	CheckID      string   `json:"check_id"`
	AccountID    string   `json:"account_id"`
	AccountName  string   `json:"account_name,omitempty"`
	Region       string   `json:"region"`
	Service      string   `json:"service"`
	ResourceType string   `json:"resource_type,omitempty"`
	ResourceID   string   `json:"resource_id"`
	ResourceARN  string   `json:"resource_arn,omitempty"`
	OldStatus    Status   `json:"old_status,omitempty"`
	NewStatus    Status   `json:"new_status,omitempty"`
	OldSeverity  Severity `json:"old_severity,omitempty"`
	NewSeverity  Severity `json:"new_severity,omitempty"`
	Message      string   `json:"message,omitempty"`
	// Reason says why a finding is not_observed, e.g. "coverage gap
	// (AccessDenied)" or "check not selected in NEW".
	Reason string `json:"reason,omitempty"`
}

// DiffFramework is the control-level change of one framework.
type DiffFramework struct {
	Framework string          `json:"framework"`
	Changes   []ControlChange `json:"changes"`
	// Transitions counts controls by old and new status:
	// Transitions["PASS"]["FAIL"] is how many went from PASS to FAIL.
	Transitions map[ControlState]map[ControlState]int `json:"transitions"`
}

// ControlChange is one control whose status changed between two scans.
type ControlChange struct {
	ControlID string       `json:"control_id"`
	Title     string       `json:"title"`
	Old       ControlState `json:"old"`
	New       ControlState `json:"new"`
}

// Package model holds the types of a scan's outcome: results, coverage and the
// scan.json document (schema version 1, see DESIGN.md section 3). Fields may be
// added to these types, never renamed.
package model

import (
	"crypto/sha256"
	"encoding/hex"
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

// Severities lists every severity from worst to mildest.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

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
}

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
}

// ControlStatus is the roll-up of results for one framework control (see
// package controls for the status rules).
type ControlStatus struct {
	Framework string `json:"framework"`
	ControlID string `json:"control_id"`
	Title     string `json:"title"`
	// Status is FAIL, ERROR, PASS, NOT_APPLICABLE or MANUAL.
	Status string `json:"status"`
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

// Scan is the scan.json document.
type Scan struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          Tool            `json:"tool"`
	Scan          ScanInfo        `json:"scan"`
	Coverage      []Coverage      `json:"coverage"`
	Results       []Result        `json:"results"`
	Controls      []ControlStatus `json:"controls"`
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

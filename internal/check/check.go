// Package check defines what a check is (metadata plus a pure function over a
// service's typed inventory), what a scanner is (a collector of that inventory
// plus its checks), and the adapter that turns both into results and coverage.
//
// Checks never call AWS. A scanner collects inventory for one scope (an
// account and a region, or an account for global services) and records every
// failed collection as a Gap; a check that needs a part with a gap reports
// ERROR for the scope instead of a misleading PASS.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

// Meta is the description of a check that users, reports and frameworks see.
type Meta struct {
	// ID is stable, lowercase, service-resource-condition.
	ID       string
	Title    string
	Family   model.Family
	Service  string
	Severity model.Severity
	// ResourceType is the kind of resource tested, e.g. "AWS::EC2::SecurityGroup".
	ResourceType string
	// Rationale says why a failure matters; Remediation how to fix it.
	Rationale   string
	Remediation string
	References  []string
}

// Info is the check's catalogue entry as scan.json records it.
func (m Meta) Info() model.CheckInfo {
	return model.CheckInfo{ID: m.ID, Title: m.Title, Family: m.Family, Service: m.Service, Severity: m.Severity,
		ResourceType: m.ResourceType, Rationale: m.Rationale, Remediation: m.Remediation,
		References: append([]string(nil), m.References...)}
}

// Finding is what a check says about one resource.
type Finding struct {
	ResourceID  string
	ResourceARN string
	// Region overrides the scope's region, for resources of a global service
	// that live in a region (S3 buckets).
	Region   string
	Status   model.Status
	Message  string
	Evidence map[string]any
	// Severity overrides the check's default severity for this result when
	// set (an expired certificate is high, one about to expire medium).
	Severity model.Severity
	// ResourceType overrides the check's resource type for this result when
	// set (rds-snapshot-public judges DB snapshots and DB cluster snapshots).
	ResourceType string
}

// Pass builds a passing finding.
func Pass(id, arn, msg string, evidence map[string]any) Finding {
	return Finding{ResourceID: id, ResourceARN: arn, Status: model.StatusPass, Message: msg, Evidence: evidence}
}

// Fail builds a failing finding.
func Fail(id, arn, msg string, evidence map[string]any) Finding {
	return Finding{ResourceID: id, ResourceARN: arn, Status: model.StatusFail, Message: msg, Evidence: evidence}
}

// Error builds a finding for a resource whose data could not be collected.
func Error(id, arn, msg string, evidence map[string]any) Finding {
	return Finding{ResourceID: id, ResourceARN: arn, Status: model.StatusError, Message: msg, Evidence: evidence}
}

// Check is a check over the inventory type I of one service.
type Check[I any] struct {
	Meta
	// Needs names the inventory parts the check reads. If any of them could
	// not be collected, the check reports ERROR for the scope.
	Needs []string
	// Reads names further parts the check reads but whose gaps it judges
	// itself, resource by resource (a bucket whose policy could not be read
	// is ERROR, the others are evaluated).
	Reads []string
	// Eval returns one finding per resource in scope.
	Eval func(inv *I) []Finding
	// EvalWith is Eval for checks that depend on the scan's parameters
	// (thresholds, the time of the scan). A check sets exactly one of Eval
	// and EvalWith; it stays a pure function of its arguments.
	EvalWith func(inv *I, p Params) []Finding
}

// Params are the inputs of a check besides the inventory: the configured
// thresholds and the time the scan started, which ages are measured against.
// Checks read the clock only from here, so that they stay pure and a saved
// inventory re-evaluates to the same results.
type Params struct {
	// Now is when the scan started.
	Now time.Time
	// Credentials are the thresholds of the credentials family.
	Credentials config.Credentials
}

// DefaultParams returns the default thresholds at time now.
func DefaultParams(now time.Time) Params {
	return Params{Now: now, Credentials: config.Default().Credentials}
}

// evaluate runs the check's function, whichever of Eval and EvalWith is set.
func (c Check[I]) evaluate(inv *I, p Params) []Finding {
	if c.EvalWith != nil {
		return c.EvalWith(inv, p)
	}
	return c.Eval(inv)
}

// Evaluate runs the check over inv with the parameters p, as a scan does;
// tests use it to call a check whichever function it sets.
func (c Check[I]) Evaluate(inv *I, p Params) []Finding { return c.evaluate(inv, p) }

// Scope is one unit of collection: an account and a region, or an account
// and the pseudo-region "global" for global services.
type Scope struct {
	AccountID string
	Partition string
	// Region is the scanned region, or model.GlobalRegion.
	Region string
	// Regions lists the account's scanned regions; global scanners use it to
	// keep only resources that live in a scanned region. Nil means no region
	// filter (a scope built outside a scan); an empty, non-nil list means
	// that no region of the account is scanned.
	Regions []string
	// Config is the account's AWS configuration, its Region set to Region (or,
	// for global services, to the partition's home region).
	Config aws.Config
	// Params are the thresholds and the scan time given to the checks. A
	// zero Now means the defaults at the time the scope is evaluated.
	Params Params
	// CallConcurrency bounds the per-resource calls of the scope made at
	// once (fanout.Each); zero or less uses fanout.DefaultLimit.
	CallConcurrency int
	// wants is the union of the parts needed by the selected checks.
	wants map[string]bool
}

// Wants reports whether a selected check needs the inventory part, so that a
// collector makes no API call whose data nobody reads.
func (s Scope) Wants(part string) bool { return s.wants == nil || s.wants[part] }

// InScope reports whether a region-bound resource of a global service is in
// one of the scanned regions (every region when Regions is nil).
func (s Scope) InScope(region string) bool {
	for _, r := range s.Regions {
		if r == region {
			return true
		}
	}
	return s.Regions == nil
}

// Gap is a collection that failed.
type Gap struct {
	Part      string
	Operation string
	Resource  string
	Err       error
}

// Gaps gathers the failed collections of a scope; it is safe for concurrent use.
type Gaps struct {
	mu   sync.Mutex
	list []Gap
}

// Add records that part (or, with resource set, one resource's part) could
// not be collected because operation failed with err.
func (g *Gaps) Add(part, operation, resource string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.list = append(g.list, Gap{Part: part, Operation: operation, Resource: resource, Err: err})
}

// Part returns the first scope-wide gap (one without a resource) of part.
func (g *Gaps) Part(part string) (Gap, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, gap := range g.list {
		if gap.Part == part && gap.Resource == "" {
			return gap, true
		}
	}
	return Gap{}, false
}

// List returns a copy of every gap recorded.
func (g *Gaps) List() []Gap {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Gap(nil), g.list...)
}

// Scanner collects one service's inventory for a scope and evaluates the
// service's checks over it.
type Scanner interface {
	// Service is the AWS service name, e.g. "ec2".
	Service() string
	// Global reports whether the service is scanned once per account.
	Global() bool
	// Checks describes the checks the scanner evaluates.
	Checks() []Meta
	// Scan collects the scope and evaluates the selected checks (CollectSnapshot
	// then Evaluate). It never fails: what could not be collected is in the
	// coverage entry and in ERROR results.
	Scan(ctx context.Context, scope Scope, selected map[string]bool) ([]model.Result, model.Coverage)
	// CollectSnapshot gathers the inventory parts the selected checks need in the
	// scope, with the gaps, as a serialisable Snapshot. It makes every AWS
	// call of the scope and never fails.
	CollectSnapshot(ctx context.Context, scope Scope, selected map[string]bool) Snapshot
	// Evaluate runs the selected checks over a snapshot with the parameters
	// p: a pure function, that needs no AWS. A check whose parts the
	// snapshot did not collect is ERROR, never evaluated over missing data.
	Evaluate(snap Snapshot, selected map[string]bool, p Params) ([]model.Result, model.Coverage)
}

// Snapshot is the outcome of one scope's collection: the observed
// configuration (the service's typed inventory, as JSON) and what could not
// be collected. It is what a saved inventory holds per scope and holds no
// secret value (collectors never read one).
type Snapshot struct {
	Service   string `json:"service"`
	AccountID string `json:"account_id"`
	// Region is the scanned region or model.GlobalRegion.
	Region string `json:"region"`
	// Collected are the inventory parts that were wanted (and called for);
	// a check needing another part is not evaluated from this snapshot.
	Collected []string `json:"collected"`
	// Gaps are the failed collections, with their code and text as they
	// were rendered at collection time.
	Gaps []GapRecord `json:"gaps"`
	// Inventory is the service's inventory type, marshalled.
	Inventory json.RawMessage `json:"inventory"`
}

// GapRecord is a Gap as a snapshot keeps it: the error reduced to the AWS
// code and the report text (ErrorCode and ErrorText at collection time), so
// that a re-evaluation renders exactly what the live scan did.
type GapRecord struct {
	Part      string `json:"part"`
	Operation string `json:"operation,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
}

// Record reduces a gap to its record.
func (g Gap) Record() GapRecord {
	return GapRecord{Part: g.Part, Operation: g.Operation, Resource: g.Resource, Code: ErrorCode(g.Err), Message: ErrorText(g.Err)}
}

// NotCollectedCode is the error code of a check that a re-evaluated
// inventory cannot judge because a part it reads was not collected.
const NotCollectedCode = "NotCollected"

// Service adapts a typed collector and its checks to the Scanner interface.
type Service[I any] struct {
	Name     string
	IsGlobal bool
	// Collect gathers the inventory of the scope, recording failures in gaps.
	// It must return a non-nil inventory, however partial.
	Collect func(ctx context.Context, scope Scope, gaps *Gaps) *I
	List    []Check[I]
}

// Service returns the service name.
func (s Service[I]) Service() string { return s.Name }

// Validate checks the service's checks (ValidateChecks): the registry test
// calls it for every scanner that has it.
func (s Service[I]) Validate() error { return ValidateChecks(s.List) }

// Global reports whether the service is global.
func (s Service[I]) Global() bool { return s.IsGlobal }

// InventoryType returns the service's inventory type, for tests that check
// that every inventory survives a JSON round trip.
func (s Service[I]) InventoryType() reflect.Type { return reflect.TypeFor[I]() }

// Checks returns the metadata of the service's checks.
func (s Service[I]) Checks() []Meta {
	metas := make([]Meta, len(s.List))
	for i, c := range s.List {
		metas[i] = c.Meta
	}
	return metas
}

// Scan implements Scanner: Collect, then Evaluate with the scope's
// parameters. The live scan evaluates the marshalled inventory, exactly as
// a re-evaluation of a saved one does.
func (s Service[I]) Scan(ctx context.Context, scope Scope, selected map[string]bool) ([]model.Result, model.Coverage) {
	params := scope.Params
	if params.Now.IsZero() {
		params = DefaultParams(time.Now().UTC())
	}
	return s.Evaluate(s.CollectSnapshot(ctx, scope, selected), selected, params)
}

// selectedChecks returns the service's selected checks and the parts they
// need or read.
func (s Service[I]) selectedChecks(selected map[string]bool) ([]Check[I], map[string]bool) {
	var checks []Check[I]
	wants := map[string]bool{}
	for _, c := range s.List {
		if selected[c.ID] {
			checks = append(checks, c)
			for _, p := range c.Needs {
				wants[p] = true
			}
			for _, p := range c.Reads {
				wants[p] = true
			}
		}
	}
	return checks, wants
}

// CollectSnapshot implements Scanner.
func (s Service[I]) CollectSnapshot(ctx context.Context, scope Scope, selected map[string]bool) Snapshot {
	checks, wants := s.selectedChecks(selected)
	snap := Snapshot{Service: s.Name, AccountID: scope.AccountID, Region: scope.Region, Collected: []string{}, Gaps: []GapRecord{}}
	for p := range wants {
		snap.Collected = append(snap.Collected, p)
	}
	sort.Strings(snap.Collected)
	if len(checks) == 0 {
		snap.Inventory = json.RawMessage("null")
		return snap
	}
	scope.wants = wants
	gaps := &Gaps{}
	inv := s.Collect(ctx, scope, gaps)
	for _, g := range gaps.List() {
		snap.Gaps = append(snap.Gaps, g.Record())
	}
	raw, err := json.Marshal(inv)
	if err != nil {
		// An inventory type is plain data (a test checks every one); a
		// failure here is a bug, kept visible as a gap of the scope.
		snap.Gaps = append(snap.Gaps, GapRecord{Part: "inventory", Operation: "MarshalInventory", Message: err.Error()})
		raw = json.RawMessage("null")
	}
	snap.Inventory = raw
	return snap
}

// Evaluate implements Scanner.
func (s Service[I]) Evaluate(snap Snapshot, selected map[string]bool, params Params) ([]model.Result, model.Coverage) {
	checks, _ := s.selectedChecks(selected)
	cov := model.Coverage{AccountID: snap.AccountID, Region: snap.Region, Service: s.Name, Status: model.CoverageOK}
	if len(checks) == 0 {
		return nil, cov
	}
	scope := Scope{AccountID: snap.AccountID, Region: snap.Region}
	inv := new(I)
	var invErr error
	if len(snap.Inventory) > 0 && string(snap.Inventory) != "null" {
		if err := json.Unmarshal(snap.Inventory, inv); err != nil {
			invErr = fmt.Errorf("read the %s inventory of %s/%s: %w", s.Name, snap.AccountID, snap.Region, err)
		}
	}
	collected := map[string]bool{}
	for _, p := range snap.Collected {
		collected[p] = true
	}
	gaps := append([]GapRecord(nil), snap.Gaps...)
	if invErr != nil {
		gaps = append(gaps, GapRecord{Part: "inventory", Operation: "ReadInventory", Message: invErr.Error()})
	}

	var results []model.Result
	for _, c := range checks {
		if invErr != nil {
			results = append(results, NewResult(c.Meta, scope, Error("", "", "not evaluated: "+invErr.Error(),
				map[string]any{"missing_part": "inventory"})))
			continue
		}
		if part, missing := notCollected(collected, c); missing {
			results = append(results, NewResult(c.Meta, scope, Error("", "", fmt.Sprintf("not evaluated: %s was not collected in this inventory", part),
				map[string]any{"missing_part": part, "error_code": NotCollectedCode})))
			continue
		}
		if gap, missing := firstGap(snap.Gaps, c.Needs); missing {
			msg := fmt.Sprintf("not evaluated: %s could not be collected (%s): %s", gap.Part, gap.Operation, gap.Message)
			results = append(results, NewResult(c.Meta, scope, Error("", "", msg, map[string]any{
				"missing_part": gap.Part, "operation": gap.Operation, "error_code": gap.Code,
			})))
			continue
		}
		for _, f := range c.evaluate(inv, params) {
			results = append(results, NewResult(c.Meta, scope, f))
		}
	}
	for _, gap := range gaps {
		cov.Status = model.CoverageError
		cov.Failures = append(cov.Failures, model.Failure{
			Part: gap.Part, Operation: gap.Operation, Resource: gap.Resource,
			Code: gap.Code, Error: gap.Message,
		})
	}
	if len(cov.Failures) > 0 {
		sort.SliceStable(cov.Failures, func(i, j int) bool {
			a, b := cov.Failures[i], cov.Failures[j]
			if a.Part != b.Part {
				return a.Part < b.Part
			}
			return a.Resource < b.Resource
		})
		var texts []string
		for _, f := range cov.Failures {
			what := f.Operation
			if f.Resource != "" {
				what += " " + f.Resource
			}
			texts = append(texts, what+": "+f.Error)
		}
		cov.Error = strings.Join(texts, "; ")
	}
	return results, cov
}

// notCollected returns the first part check c needs or reads that the
// snapshot did not collect.
func notCollected[I any](collected map[string]bool, c Check[I]) (string, bool) {
	for _, list := range [][]string{c.Needs, c.Reads} {
		for _, p := range list {
			if !collected[p] {
				return p, true
			}
		}
	}
	return "", false
}

// firstGap returns the first scope-wide gap (one without a resource) of the
// first needed part that has one.
func firstGap(gaps []GapRecord, needs []string) (GapRecord, bool) {
	for _, p := range needs {
		for _, gap := range gaps {
			if gap.Part == p && gap.Resource == "" {
				return gap, true
			}
		}
	}
	return GapRecord{}, false
}

// NewResult is the one constructor of a result: check m's finding f in the
// scope's account and region (f.Region, f.Severity and f.ResourceType
// override the scope's and the check's), with its fingerprint, no controls
// yet and evidence never nil. The engine builds its account, region and
// cancellation ERROR results with it too.
func NewResult(m Meta, scope Scope, f Finding) model.Result {
	region := scope.Region
	if f.Region != "" {
		region = f.Region
	}
	evidence := f.Evidence
	if evidence == nil {
		evidence = map[string]any{}
	}
	severity := m.Severity
	if f.Severity != "" {
		severity = f.Severity
	}
	resourceType := m.ResourceType
	if f.ResourceType != "" {
		resourceType = f.ResourceType
	}
	return model.Result{
		CheckID:      m.ID,
		Status:       f.Status,
		Severity:     severity,
		Family:       m.Family,
		AccountID:    scope.AccountID,
		Region:       region,
		Service:      m.Service,
		ResourceType: resourceType,
		ResourceID:   f.ResourceID,
		ResourceARN:  f.ResourceARN,
		Message:      f.Message,
		Evidence:     evidence,
		Controls:     []string{},
		Fingerprint:  model.Fingerprint(m.ID, scope.AccountID, region, f.ResourceID),
	}
}

// AgeDays returns the whole days (24-hour periods) elapsed from t to now,
// rounded down; thresholds in days compare against it, so a key created
// exactly 90 days ago is 90 days old and one created 90 days and 23 hours
// ago is still 90.
func AgeDays(t, now time.Time) int {
	return int(now.Sub(t) / (24 * time.Hour))
}

// UTC returns an AWS timestamp for an inventory: t in UTC, or nil when AWS
// gave none (t nil or zero).
func UTC(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ErrorCode returns the AWS error code of err ("AccessDenied", "Throttling"),
// or "" when err carries none.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// requestIDPattern matches the per-request IDs of an SDK response error: the
// RequestID of every service and the HostID (x-amz-id-2) that S3 adds.
var requestIDPattern = regexp.MustCompile(`,?\s*(RequestID|HostID): [^,]*`)

// ErrorText renders err for a report: the AWS code and message when there is
// one, without the per-request IDs that would make two runs differ.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.ErrorMessage()
		if msg == "" {
			return apiErr.ErrorCode()
		}
		return apiErr.ErrorCode() + ": " + msg
	}
	return requestIDPattern.ReplaceAllString(err.Error(), "")
}

// Validate checks a list of check metadata: IDs unique and well formed, every
// descriptive field filled, a known family and severity.
func Validate(metas []Meta) error {
	idPattern := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)
	seen := map[string]bool{}
	var errs []error
	for _, m := range metas {
		switch {
		case !idPattern.MatchString(m.ID):
			errs = append(errs, fmt.Errorf("check %q: ID is not lowercase service-resource-condition", m.ID))
		case seen[m.ID]:
			errs = append(errs, fmt.Errorf("check %q: duplicate ID", m.ID))
		}
		seen[m.ID] = true
		if m.Title == "" || m.Service == "" || m.ResourceType == "" || m.Rationale == "" || m.Remediation == "" || len(m.References) == 0 {
			errs = append(errs, fmt.Errorf("check %q: title, service, resource type, rationale, remediation and references are all required", m.ID))
		}
		if !strings.HasPrefix(m.ID, m.Service+"-") {
			errs = append(errs, fmt.Errorf("check %q: ID must start with its service %q", m.ID, m.Service))
		}
		if m.Severity.Rank() == 0 {
			errs = append(errs, fmt.Errorf("check %q: unknown severity %q", m.ID, m.Severity))
		}
		switch m.Family {
		case model.FamilyPublicExposure, model.FamilyOutsideVPC, model.FamilyUnencrypted, model.FamilyCredentials:
		default:
			errs = append(errs, fmt.Errorf("check %q: unknown family %q", m.ID, m.Family))
		}
	}
	return errors.Join(errs...)
}

// ValidateChecks validates a service's checks: their metadata (Validate)
// and that each sets exactly one of Eval and EvalWith.
func ValidateChecks[I any](checks []Check[I]) error {
	var errs []error
	metas := make([]Meta, len(checks))
	for i, c := range checks {
		metas[i] = c.Meta
		if (c.Eval == nil) == (c.EvalWith == nil) {
			errs = append(errs, fmt.Errorf("check %q: set exactly one of Eval and EvalWith", c.ID))
		}
	}
	return errors.Join(append([]error{Validate(metas)}, errs...)...)
}

// Lookup returns the check with the given ID from a service's checks.
func Lookup[I any](checks []Check[I], id string) (Check[I], bool) {
	for _, c := range checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check[I]{}, false
}

// ARN builds the ARN of a resource: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE,
// in the aws partition when partition is empty. Region is empty for global
// resources (IAM).
func ARN(partition, service, region, account, resource string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource
}

// OrAbsent returns s, or "absent" when s is empty, for evidence that must
// say that AWS reported no value rather than show an empty string.
func OrAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

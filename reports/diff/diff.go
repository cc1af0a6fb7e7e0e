// Package diff compares two scans of the same estate (diff.json): which
// findings are new, resolved, changed or not observed, how framework
// controls moved, and how comparable the two scans are. It is pure: a
// function of the two scan documents, with no AWS, clock or CLI dependency,
// so the CLI, the Lambda and every report render the same comparison.
//
// Findings match by fingerprint (check, account, region, resource). Each
// finding of OLD lands in exactly one of resolved, changed, not_observed,
// unchanged or removed (counted in the context); each finding of NEW in new,
// changed, unchanged, resolved (a PASS after a FAIL) or outside_old_scope
// (context). The rules:
//
//   - new: in NEW, absent from OLD, and OLD covered that scope with that
//     check (ran the check, had the account and region, collected the
//     (account, region, service) scope without a gap). A NEW finding whose
//     scope OLD did not cover is never "new": it is listed in
//     context.outside_old_scope (FAIL, MUTED, ERROR) with a reason, and
//     counted in context.outside_old_scope_count (PASS included).
//   - resolved: FAIL in OLD, and PASS in NEW (a check never reports PASS
//     over missing data), or absent from NEW where NEW ran the check and
//     collected that scope without a gap.
//   - not_observed: in OLD, absent from NEW because NEW did not cover it:
//     check not selected, account or region not in NEW's scope, account not
//     reached, region not enabled, a coverage gap, a cancelled scan. Never
//     counted as resolved; each entry has a Reason.
//   - changed: in both, status or severity differ (except FAIL to PASS,
//     which is resolved).
//   - unchanged: in both with the same status and severity; counted.
//   - removed (context.removed_count): PASS, MUTED or per-resource ERROR in
//     OLD, absent from a scope NEW covered (the resource is gone).
//
// A scope-wide ERROR result (empty resource_id) is the marker of a coverage
// gap, not a finding about a resource: it is neither listed nor counted. The
// gap it marks is in the context (gap counts and a warning), and the OLD
// findings of that scope become not_observed.
package diff

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// Ref identifies a scan for a diff or a baseline: its ID, times and the
// version of the tool that made it.
func Ref(scan *model.Scan) model.ScanRef {
	return model.ScanRef{ID: scan.Scan.ID, StartedAt: scan.Scan.StartedAt, FinishedAt: scan.Scan.FinishedAt,
		ToolVersion: scan.Tool.Version}
}

// Compute compares OLD with NEW. Both must be valid scan documents
// (reports.ReadScanFile); neither is modified.
func Compute(old, new *model.Scan) *model.Diff {
	d := &model.Diff{
		SchemaVersion: model.SchemaVersion,
		Context: model.DiffContext{
			Old:             Ref(old),
			New:             Ref(new),
			WindowSeconds:   int64(new.Scan.FinishedAt.Sub(old.Scan.FinishedAt) / time.Second),
			Warnings:        []string{},
			OutsideOldScope: []model.DiffEntry{},
			OldGaps:         len(old.Gaps()),
			NewGaps:         len(new.Gaps()),
		},
		New:         []model.DiffEntry{},
		Resolved:    []model.DiffEntry{},
		Changed:     []model.DiffEntry{},
		NotObserved: []model.DiffEntry{},
		Controls:    []model.DiffFramework{},
	}
	oldCov, newCov := newCoverage(old, "OLD"), newCoverage(new, "NEW")
	oldByFP, newByFP := findings(old), findings(new)

	for _, fp := range sortedKeys(oldByFP) {
		o := oldByFP[fp]
		n, inNew := newByFP[fp]
		switch {
		case inNew && o.Status == model.StatusFail && n.Status == model.StatusPass:
			d.Resolved = append(d.Resolved, entry(o, n))
		case inNew && (o.Status != n.Status || o.Severity != n.Severity):
			d.Changed = append(d.Changed, entry(o, n))
		case inNew:
			d.UnchangedCount++
		default:
			if reason := newCov.missing(o); reason != "" {
				e := entry(o, nil)
				e.Reason = reason
				d.NotObserved = append(d.NotObserved, e)
			} else if o.Status == model.StatusFail {
				d.Resolved = append(d.Resolved, entry(o, nil))
			} else {
				d.Context.RemovedCount++
			}
		}
	}
	for _, fp := range sortedKeys(newByFP) {
		n := newByFP[fp]
		if _, inOld := oldByFP[fp]; inOld {
			continue
		}
		if reason := oldCov.missing(n); reason != "" {
			d.Context.OutsideOldScopeCount++
			if n.Status != model.StatusPass {
				e := entry(nil, n)
				e.Reason = reason
				d.Context.OutsideOldScope = append(d.Context.OutsideOldScope, e)
			}
			continue
		}
		d.New = append(d.New, entry(nil, n))
	}
	for _, list := range [][]model.DiffEntry{d.New, d.Resolved, d.Changed, d.NotObserved, d.Context.OutsideOldScope} {
		sortEntries(list)
	}
	d.Controls = compareControls(old, new)
	d.Context.Warnings = warnings(old, new, d)
	return d
}

// NewFailures returns the entries that make `--fail-on-new` fail: a new
// FAIL at or above min, or a changed finding that is now a FAIL at or above
// min and was not one before (from PASS, ERROR or MUTED, or a FAIL whose
// severity rose to min). Findings outside OLD's scope are not new.
func NewFailures(d *model.Diff, min model.Severity) []model.DiffEntry {
	var out []model.DiffEntry
	for _, e := range d.New {
		if e.NewStatus == model.StatusFail && e.NewSeverity.Rank() >= min.Rank() {
			out = append(out, e)
		}
	}
	for _, e := range d.Changed {
		if e.NewStatus != model.StatusFail || e.NewSeverity.Rank() < min.Rank() {
			continue
		}
		if e.OldStatus != model.StatusFail || e.OldSeverity.Rank() < min.Rank() {
			out = append(out, e)
		}
	}
	sortEntries(out)
	return out
}

// FirstSeen sets every result's first_seen: carried forward from baseline
// when baseline has the same fingerprint with the same status (its
// first_seen, or its start when it has none), else the scan's start. With
// no baseline every result is first seen at the scan's start.
func FirstSeen(scan, baseline *model.Scan) {
	var prior map[string]model.Result
	if baseline != nil {
		prior = make(map[string]model.Result, len(baseline.Results))
		for _, r := range baseline.Results {
			prior[r.Fingerprint] = r
		}
	}
	for i := range scan.Results {
		r := &scan.Results[i]
		seen := scan.Scan.StartedAt
		if b, ok := prior[r.Fingerprint]; ok && b.Status == r.Status {
			seen = baseline.Scan.StartedAt
			if b.FirstSeen != nil && !b.FirstSeen.IsZero() {
				seen = *b.FirstSeen
			}
		}
		seen = seen.UTC()
		r.FirstSeen = &seen
	}
}

// findings indexes a scan's results by fingerprint, leaving out the
// scope-wide ERROR results (gap markers, not findings).
func findings(scan *model.Scan) map[string]*model.Result {
	out := make(map[string]*model.Result, len(scan.Results))
	for i := range scan.Results {
		r := &scan.Results[i]
		if r.Status == model.StatusError && r.ResourceID == "" {
			continue
		}
		out[r.Fingerprint] = r
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// entry builds a diff entry from the OLD and NEW results of a finding
// (either may be nil).
func entry(o, n *model.Result) model.DiffEntry {
	cur := n
	if cur == nil {
		cur = o
	}
	e := model.DiffEntry{
		Fingerprint: cur.Fingerprint, CheckID: cur.CheckID, AccountID: cur.AccountID, AccountName: cur.AccountName,
		Region: cur.Region, Service: cur.Service, ResourceType: cur.ResourceType, ResourceID: cur.ResourceID,
		ResourceARN: cur.ResourceARN, Message: cur.Message,
	}
	if e.AccountName == "" && o != nil {
		e.AccountName = o.AccountName
	}
	if o != nil {
		e.OldStatus, e.OldSeverity = o.Status, o.Severity
	}
	if n != nil {
		e.NewStatus, e.NewSeverity = n.Status, n.Severity
	}
	return e
}

// rank is the severity an entry sorts by: the worse of its old and new.
func rank(e model.DiffEntry) int {
	return max(e.OldSeverity.Rank(), e.NewSeverity.Rank())
}

// sortEntries orders a category: severity (worst first), then check,
// account, region, resource and fingerprint.
func sortEntries(list []model.DiffEntry) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra > rb
		}
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.ResourceID != b.ResourceID {
			return a.ResourceID < b.ResourceID
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// coverage answers whether a scan observed the scope of a finding.
type coverage struct {
	side     string // "OLD" or "NEW", for the reasons
	checks   map[string]bool
	accounts map[string]bool
	regions  map[string]bool
	// scopes are the coverage entries by account, region and service;
	// account and region gaps are among them (services "account" and
	// "region").
	scopes map[scopeKey]model.Coverage
}

type scopeKey struct{ account, region, service string }

func newCoverage(scan *model.Scan, side string) *coverage {
	c := &coverage{side: side, checks: set(scan.Scan.Checks), accounts: set(scan.Scan.Accounts),
		regions: set(scan.Scan.Regions), scopes: map[scopeKey]model.Coverage{}}
	for _, cov := range scan.Coverage {
		c.scopes[scopeKey{cov.AccountID, cov.Region, cov.Service}] = cov
	}
	return c
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// missing returns why the scan did not observe r's scope with r's check,
// or "" when it did: the check ran, the account and region were in scope
// and reached, and the (account, region, service) scope was collected
// without a gap. A regional resource of a global service (an S3 bucket) is
// covered by the service's global scope and its region being scanned.
func (c *coverage) missing(r *model.Result) string {
	switch {
	case !c.checks[r.CheckID]:
		return "check not selected in " + c.side
	case !c.accounts[r.AccountID]:
		return "account not in " + c.side + "'s scope"
	}
	if gap, ok := c.scopes[scopeKey{r.AccountID, model.GlobalRegion, model.ServiceAccount}]; ok && gap.Status != model.CoverageOK {
		if hasCode(gap, model.CodeCancelled) {
			return c.side + " scan cancelled before the account was reached"
		}
		return "account not reached in " + c.side + " (" + failures(gap) + ")"
	}
	if r.Region != model.GlobalRegion {
		if !c.regions[r.Region] {
			return "region not in " + c.side + "'s scope"
		}
		if gap, ok := c.scopes[scopeKey{r.AccountID, r.Region, model.ServiceRegion}]; ok && gap.Status != model.CoverageOK {
			return "region not scanned in " + c.side + " (" + failures(gap) + ")"
		}
	}
	cov, ok := c.scopes[scopeKey{r.AccountID, r.Region, r.Service}]
	if !ok {
		cov, ok = c.scopes[scopeKey{r.AccountID, model.GlobalRegion, r.Service}]
	}
	switch {
	case !ok:
		return "scope not collected in " + c.side
	case cov.Status == model.CoverageOK:
		return ""
	case hasCode(cov, model.CodeCancelled):
		return c.side + " scan cancelled before this scope was collected"
	default:
		return "coverage gap in " + c.side + " (" + failures(cov) + ")"
	}
}

func hasCode(cov model.Coverage, code string) bool {
	for _, f := range cov.Failures {
		if f.Code == code {
			return true
		}
	}
	return false
}

// failures summarises a gap's failures: "DescribeClusters: AccessDenied",
// distinct, in order.
func failures(cov model.Coverage) string {
	var parts []string
	for _, f := range cov.Failures {
		p := f.Operation
		code := f.Code
		if code == "" {
			code = f.Error
		}
		switch {
		case p == "":
			p = code
		case code != "":
			p += ": " + code
		}
		if p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return cov.Error
	}
	return strings.Join(parts, ", ")
}

// compareControls lists, per framework present in both scans (in NEW's
// order), the controls whose status changed and the transition counts of
// every control present in both.
func compareControls(old, new *model.Scan) []model.DiffFramework {
	type key struct{ fw, id string }
	oldStatus := map[key]model.ControlState{}
	oldFW := map[string]bool{}
	for _, c := range old.Controls {
		oldStatus[key{c.Framework, c.ControlID}] = c.Status
		oldFW[c.Framework] = true
	}
	out := []model.DiffFramework{}
	byFW := map[string]int{}
	for _, c := range new.Controls {
		if !oldFW[c.Framework] {
			continue
		}
		i, ok := byFW[c.Framework]
		if !ok {
			i = len(out)
			byFW[c.Framework] = i
			out = append(out, model.DiffFramework{Framework: c.Framework, Changes: []model.ControlChange{},
				Transitions: map[model.ControlState]map[model.ControlState]int{}})
		}
		was, ok := oldStatus[key{c.Framework, c.ControlID}]
		if !ok {
			continue // a catalogue change, warned about
		}
		fw := &out[i]
		if fw.Transitions[was] == nil {
			fw.Transitions[was] = map[model.ControlState]int{}
		}
		fw.Transitions[was][c.Status]++
		if was != c.Status {
			fw.Changes = append(fw.Changes, model.ControlChange{ControlID: c.ControlID, Title: c.Title, Old: was, New: c.Status})
		}
	}
	return out
}

// maxListed is how many items a warning names before "and N more".
const maxListed = 8

func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// only returns the items of a not in b, sorted.
func only(a, b []string) []string {
	in := set(b)
	var out []string
	for _, s := range a {
		if !in[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// setDiff says how two lists differ, or "" when they hold the same items.
func setDiff(what string, old, new []string, consequence string) string {
	gone, added := only(old, new), only(new, old)
	if len(gone) == 0 && len(added) == 0 {
		return ""
	}
	var parts []string
	if len(gone) > 0 {
		parts = append(parts, "only in OLD: "+list(gone))
	}
	if len(added) > 0 {
		parts = append(parts, "only in NEW: "+list(added))
	}
	return what + " differ (" + strings.Join(parts, "; ") + ")" + consequence
}

// warnings says where the two scans are not comparable one for one.
func warnings(old, new *model.Scan, d *model.Diff) []string {
	w := []string{}
	add := func(s string) {
		if s != "" {
			w = append(w, s)
		}
	}
	if old.Scan.ID == new.Scan.ID {
		add(fmt.Sprintf("OLD and NEW are the same scan (%s)", old.Scan.ID))
	} else if new.Scan.FinishedAt.Before(old.Scan.FinishedAt) {
		add("OLD finished after NEW: are the arguments reversed? (posture diff OLD NEW)")
	}
	if old.Tool.Version != new.Tool.Version {
		add(fmt.Sprintf("tool versions differ (OLD %s, NEW %s): a check's logic may differ between them", old.Tool.Version, new.Tool.Version))
	}
	const scopeNote = ": findings outside NEW's scope are not_observed, those outside OLD's are not new"
	add(setDiff("accounts", old.Scan.Accounts, new.Scan.Accounts, scopeNote))
	add(setDiff("regions", old.Scan.Regions, new.Scan.Regions, scopeNote))
	add(setDiff("checks", old.Scan.Checks, new.Scan.Checks, scopeNote))
	add(thresholds(old.Scan.Thresholds, new.Scan.Thresholds))
	for _, s := range []*model.Scan{old, new} {
		side := "OLD"
		if s == new {
			side = "NEW"
		}
		if s.Scan.Cancelled {
			add(fmt.Sprintf("%s scan was cancelled: the scopes it did not finish are coverage gaps", side))
		}
	}
	add(gaps("NEW", new, old, "their OLD findings are not_observed, never resolved"))
	add(gaps("OLD", old, new, "NEW findings there are outside OLD's scope, not new"))
	w = append(w, catalogueWarnings(old, new)...)
	return w
}

func thresholds(old, new map[string]int) string {
	var changes []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(old, new))) {
		o, okO := old[k]
		n, okN := new[k]
		if okO == okN && o == n {
			continue
		}
		show := func(v int, ok bool) string {
			if !ok {
				return "unset"
			}
			return fmt.Sprint(v)
		}
		changes = append(changes, fmt.Sprintf("%s %s -> %s", k, show(o, okO), show(n, okN)))
	}
	if len(changes) == 0 {
		return ""
	}
	return "thresholds differ (" + list(changes) + "): findings of those checks may change without any change in AWS"
}

func mergeKeys(a, b map[string]int) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// gaps warns about the coverage gaps of one scan that the other did not
// have in the same scope.
func gaps(side string, s, other *model.Scan, consequence string) string {
	otherGap := map[scopeKey]bool{}
	for _, g := range other.Gaps() {
		otherGap[scopeKey{g.AccountID, g.Region, g.Service}] = true
	}
	var scopes []string
	for _, g := range s.Gaps() {
		if otherGap[scopeKey{g.AccountID, g.Region, g.Service}] {
			continue
		}
		scopes = append(scopes, fmt.Sprintf("%s %s %s (%s)", g.AccountID, g.Region, g.Service, failures(g)))
	}
	if len(scopes) == 0 {
		return ""
	}
	return fmt.Sprintf("%s has %d coverage gap(s) the other scan did not: %s; %s", side, len(scopes), list(scopes), consequence)
}

// catalogueWarnings says where the frameworks, their controls or the check
// catalogue differ: a catalogue change, not a posture change.
func catalogueWarnings(old, new *model.Scan) []string {
	var w []string
	const note = ": a catalogue change, not a posture change"
	add := func(s string) {
		if s != "" {
			w = append(w, s)
		}
	}
	oldIDs, newIDs := old.FrameworkIDs(), new.FrameworkIDs()
	add(setDiff("frameworks", oldIDs, newIDs, note))
	oldFW, newFW := frameworks(old), frameworks(new)
	type ctl struct{ title, checks string }
	controlsOf := func(s *model.Scan, fw string) (ids []string, m map[string]ctl) {
		m = map[string]ctl{}
		for _, c := range s.Controls {
			if c.Framework == fw {
				ids = append(ids, c.ControlID)
				m[c.ControlID] = ctl{c.Title, strings.Join(slices.Sorted(slices.Values(c.Checks)), ",")}
			}
		}
		return ids, m
	}
	for _, id := range newIDs {
		if !slices.Contains(oldIDs, id) {
			continue
		}
		var parts []string
		o, n := oldFW[id], newFW[id]
		if o.Version != n.Version && o.Version != "" && n.Version != "" {
			parts = append(parts, fmt.Sprintf("version %s -> %s", o.Version, n.Version))
		}
		if o.Source != n.Source && o.Source != "" && n.Source != "" {
			parts = append(parts, fmt.Sprintf("source %s -> %s", o.Source, n.Source))
		}
		oIDs, oCtl := controlsOf(old, id)
		nIDs, nCtl := controlsOf(new, id)
		if gone := only(oIDs, nIDs); len(gone) > 0 {
			parts = append(parts, "controls only in OLD: "+list(gone))
		}
		if added := only(nIDs, oIDs); len(added) > 0 {
			parts = append(parts, "controls only in NEW: "+list(added))
		}
		var remapped []string
		for _, c := range nIDs {
			if oc, ok := oCtl[c]; ok && oc.checks != nCtl[c].checks {
				remapped = append(remapped, c)
			}
		}
		if len(remapped) > 0 {
			parts = append(parts, "controls mapped to other checks: "+list(remapped))
		}
		if len(parts) > 0 {
			w = append(w, "framework "+id+" catalogue changed ("+strings.Join(parts, "; ")+")"+note)
		}
	}
	// The check catalogue: a check whose default severity or service
	// changed between the two tool versions.
	if len(old.Catalogue) > 0 && len(new.Catalogue) > 0 {
		oldChecks := map[string]model.CheckInfo{}
		for _, c := range old.Catalogue {
			oldChecks[c.ID] = c
		}
		var changed []string
		for _, c := range new.Catalogue {
			if o, ok := oldChecks[c.ID]; ok && (o.Severity != c.Severity || o.ResourceType != c.ResourceType) {
				if o.Severity != c.Severity {
					changed = append(changed, fmt.Sprintf("%s severity %s -> %s", c.ID, o.Severity, c.Severity))
				} else {
					changed = append(changed, fmt.Sprintf("%s resource type %s -> %s", c.ID, o.ResourceType, c.ResourceType))
				}
			}
		}
		if len(changed) > 0 {
			w = append(w, "check catalogue changed ("+list(changed)+")"+note)
		}
	}
	return w
}

func frameworks(s *model.Scan) map[string]model.Framework {
	m := map[string]model.Framework{}
	for _, f := range s.Frameworks {
		m[f.ID] = f
	}
	return m
}

package controls

import (
	"fmt"
	"sort"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// The statuses of a control in scan.json's controls section (see
// model.ControlState for their meaning).
const (
	StatusFail          = model.ControlFail
	StatusError         = model.ControlError
	StatusWaived        = model.ControlWaived
	StatusPass          = model.ControlPass
	StatusNotApplicable = model.ControlNotApplicable
	StatusManual        = model.ControlManual
)

// Statuses lists every control status, worst first.
func Statuses() []model.ControlState { return model.ControlStates() }

// Select returns the frameworks whose IDs are listed, in the order of all.
// No IDs selects every framework. An unknown ID is an error naming it and
// the known ones.
func Select(all []Framework, ids []string) ([]Framework, error) {
	if len(ids) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var known, unknown []string
	var out []Framework
	for _, fw := range all {
		known = append(known, fw.ID)
		if want[fw.ID] {
			out = append(out, fw)
			delete(want, fw.ID)
		}
	}
	for _, id := range ids {
		if want[id] {
			unknown = append(unknown, id)
			delete(want, id)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown framework ID(s): %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// Merge appends custom frameworks to the built-in ones; a custom framework
// may not reuse an ID already taken.
func Merge(builtin []Framework, custom ...Framework) ([]Framework, error) {
	out := append([]Framework{}, builtin...)
	taken := map[string]string{}
	for _, fw := range builtin {
		taken[fw.ID] = fw.Source
	}
	for _, fw := range custom {
		if src, dup := taken[fw.ID]; dup {
			return nil, fmt.Errorf("%s: framework ID %q is already defined by %s; give your framework its own ID", fw.Source, fw.ID, src)
		}
		taken[fw.ID] = fw.Source
		out = append(out, fw)
	}
	return out, nil
}

// Index maps each check ID to the controls it is evidence for, written
// "<framework>:<control>", in framework order then catalogue order.
func Index(frameworks []Framework) map[string][]string {
	idx := map[string][]string{}
	for _, fw := range frameworks {
		for _, c := range fw.Controls {
			for _, check := range c.Checks {
				idx[check] = append(idx[check], Key(fw.ID, c.ID))
			}
		}
	}
	return idx
}

// Apply derives every result's controls from the frameworks and sets the
// scan's controls section to the roll-up. It is the only place that writes
// either: the mapping is never typed twice.
func Apply(scan *model.Scan, frameworks []Framework) {
	idx := Index(frameworks)
	for i := range scan.Results {
		scan.Results[i].Controls = append([]string{}, idx[scan.Results[i].CheckID]...)
	}
	scan.Controls = RollUp(frameworks, scan.Results, scan.Scan.Checks)
	scan.Frameworks = make([]model.Framework, len(frameworks))
	for i, fw := range frameworks {
		scan.Frameworks[i] = model.Framework{ID: fw.ID, Name: fw.Name, Version: fw.Version,
			Publisher: fw.Publisher, URL: fw.URL, Scope: fw.Scope, Source: fw.Source}
	}
}

// RollUp computes the status of every control of the frameworks from the
// results of a scan whose selected checks were ran:
//
//   - no check covers the control: MANUAL;
//   - any result of its checks FAILs: FAIL;
//   - else any is ERROR (evidence missing because of a coverage gap): ERROR;
//   - else any is MUTED (a failure waived by a live waiver): WAIVED, so a
//     control that holds only by accepted exceptions is never PASS;
//   - else any PASSes: PASS;
//   - else (no result: no resource in scope, or its checks did not run):
//     NOT_APPLICABLE.
//
// Counts are of results; accounts are those with a FAIL or ERROR result.
func RollUp(frameworks []Framework, results []model.Result, ran []string) []model.ControlStatus {
	byCheck := map[string][]model.Result{}
	for _, r := range results {
		byCheck[r.CheckID] = append(byCheck[r.CheckID], r)
	}
	selected := map[string]bool{}
	for _, id := range ran {
		selected[id] = true
	}
	out := []model.ControlStatus{}
	for _, fw := range frameworks {
		for _, c := range fw.Controls {
			out = append(out, rollUpControl(fw.ID, c, byCheck, selected))
		}
	}
	return out
}

func rollUpControl(framework string, c Control, byCheck map[string][]model.Result, selected map[string]bool) model.ControlStatus {
	cs := model.ControlStatus{
		Framework: framework,
		ControlID: c.ID,
		Title:     c.Title,
		Checks:    append([]string{}, c.Checks...),
		Coverage:  c.Coverage,
		Accounts:  []string{},
	}
	if len(c.Checks) == 0 {
		cs.Status = StatusManual
		cs.Note = "no automated check: needs manual evidence"
		return cs
	}
	affected := map[string]bool{}
	var notRun []string
	for _, check := range c.Checks {
		if !selected[check] {
			notRun = append(notRun, check)
		}
		for _, r := range byCheck[check] {
			switch r.Status {
			case model.StatusPass:
				cs.Passed++
			case model.StatusFail:
				cs.Failed++
				affected[r.AccountID] = true
			case model.StatusError:
				cs.Errors++
				affected[r.AccountID] = true
			case model.StatusMuted:
				cs.Muted++
			}
		}
	}
	for a := range affected {
		cs.Accounts = append(cs.Accounts, a)
	}
	sort.Strings(cs.Accounts)
	switch {
	case cs.Failed > 0:
		cs.Status = StatusFail
	case cs.Errors > 0:
		cs.Status = StatusError
	case cs.Muted > 0:
		cs.Status = StatusWaived
	case cs.Passed > 0:
		cs.Status = StatusPass
	default:
		cs.Status = StatusNotApplicable
	}
	switch {
	case len(notRun) == len(c.Checks):
		cs.Note = "not evaluated: none of its checks ran in this scan"
	case len(notRun) > 0:
		cs.Note = "partly evaluated: these checks did not run in this scan: " + strings.Join(notRun, ", ")
	case cs.Status == StatusNotApplicable:
		cs.Note = "no resource in scope"
	}
	return cs
}

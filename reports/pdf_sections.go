package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// shown is the sentence under a table that prints part of a population.
func shown(n, total int, where string) string {
	return fmt.Sprintf("showing %s of %s; the full population is in %s", num(n), num(total), where)
}

const findingsSheet = "evidence.xlsx (Findings sheet) and findings.csv"

func (r *pdfReport) completeness(d *pdfDoc) {
	r.heading(d, "Completeness statement")
	gaps := r.scan.Gaps()
	statement, complete := r.completenessStatement()
	if complete {
		d.banner(statement, rgb{223, 240, 216}, rgb{40, 100, 50}, 11)
	} else {
		d.banner(statement, rgb{200, 40, 40}, rgb{255, 255, 255}, 11)
	}
	total := len(r.scan.Coverage)
	d.para(fmt.Sprintf("The scan recorded %s (account, region, service): %s collected completely, %s could not be collected.",
		plural(total, "scope", "scopes"), num(total-len(gaps)), num(len(gaps))))
	if r.scan.Scan.Cancelled {
		d.para("The scan was cancelled (Ctrl-C, SIGTERM or --timeout) before every scope was collected: the scopes it did not finish are gaps with the code Cancelled, and their checks are ERROR.")
	}

	d.subheading("Reconciliation", 1)
	d.para("Every result belongs to exactly one scope. Per scope: the resources evaluated, the results, and the ERROR results among them; gaps first.")
	order := make([]int, len(r.scan.Coverage))
	for i := range order {
		order[i] = i
	}
	cov := r.scan.Coverage
	sort.SliceStable(order, func(i, j int) bool {
		return cov[order[i]].Status != model.CoverageOK && cov[order[j]].Status == model.CoverageOK
	})
	var rows [][]string
	var sumRes, sumResults, sumErr int
	for _, c := range cov {
		sumRes += c.Resources
		sumResults += c.Results
		sumErr += c.Errors
	}
	for _, i := range order[:min(len(order), pdfScopeBudget)] {
		c := cov[i]
		status := "ok"
		switch {
		case c.Status != model.CoverageOK:
			status = "ERROR\n" + strings.Join(gapCodes(c), ", ")
		case c.Note != "":
			status = "ok\n" + c.Note
		}
		rows = append(rows, []string{r.accountLabel(c.AccountID), c.Region, c.Service, status,
			num(c.Resources), num(c.Results), num(c.Errors)})
	}
	rows = append(rows, []string{"Total", "", plural(total, "scope", "scopes"), plural(len(gaps), "gap", "gaps"), num(sumRes), num(sumResults), num(sumErr)})
	d.table(table{caption: "Reconciliation", bold: map[int]bool{len(rows) - 1: true}, cols: []column{
		{title: "Account", width: 44}, {title: "Region", width: 24}, {title: "Service", width: 24},
		{title: "Status", width: 30, state: true}, {title: "Resources", width: 19, align: "R"},
		{title: "Results", width: 19, align: "R"}, {title: "Errors", width: 20, align: "R"}}}, rows)
	if total > pdfScopeBudget {
		d.note(fmt.Sprintf("showing %s of %s scopes (every gap first); the full reconciliation is in evidence.xlsx (Coverage sheet) and scan.json (coverage).", num(pdfScopeBudget), num(total)))
	}
	errs := 0
	for _, res := range r.scan.Results {
		if res.Status == model.StatusError {
			errs++
		}
	}
	if sumResults == len(r.scan.Results) && sumErr == errs {
		d.para(fmt.Sprintf("The totals reconcile with the result set: %s results in scan.json, %s of them ERROR.", num(len(r.scan.Results)), num(errs)))
	} else {
		d.paraStyled(fmt.Sprintf("The totals do not reconcile with the result set: the scopes count %s results and %s errors, scan.json holds %s results and %s errors.",
			num(sumResults), num(sumErr), num(len(r.scan.Results)), num(errs)), true, pdfBodySize, stateColours["FAIL"])
	}

	d.subheading("Coverage gaps", 1)
	if len(gaps) == 0 {
		d.para("None: every scope was collected.")
	} else {
		d.para("Each scope that could not be collected, with the AWS call that failed and its error code. The checks over the missing data are ERROR in that scope: not tested.")
		var grows [][]string
		total := 0
		for _, g := range gaps {
			fails := g.Failures
			if len(fails) == 0 {
				fails = []model.Failure{{Error: g.Error}}
			}
			for _, fl := range fails {
				total++
				if len(grows) >= pdfRowBudget {
					continue
				}
				call := fl.Operation
				if fl.Part != "" {
					call = strings.TrimSpace(fl.Part + "\n" + fl.Operation)
				}
				if fl.Resource != "" {
					call += "\n" + fl.Resource
				}
				code := fl.Code
				if code == "" {
					code = "-"
				}
				grows = append(grows, []string{r.accountLabel(g.AccountID), g.Region, g.Service, call, code, fl.Error})
			}
		}
		d.table(table{caption: "Coverage gaps", cols: []column{
			{title: "Account", width: 32}, {title: "Region", width: 20}, {title: "Service", width: 18},
			{title: "Part / call", width: 36}, {title: "Code", width: 26}, {title: "Error", width: 48}}}, grows)
		if total > len(grows) {
			d.note(shown(len(grows), total, "evidence.xlsx (Coverage sheet) and scan.json (coverage)"))
		}
	}

	d.subheading("Not tested versus not applicable", 1)
	d.para("Evidence is missing (not tested) where a scope could not be collected: the control's checks are ERROR there. A control is not applicable (NOT_APPLICABLE) when its checks ran and found no resource in scope, or did not run. The two are never merged. A control that FAILs elsewhere can still miss evidence, so every control with an ERROR result is listed here, whatever its status.")
	var notTested, notApplicable [][]string
	errorControls := 0
	for _, c := range r.controls {
		switch {
		case c.Errors > 0:
			if c.Status == model.ControlError {
				errorControls++
			}
			notTested = append(notTested, []string{c.ControlID, c.Title, string(c.Status),
				fmt.Sprintf("%s not tested; accounts with a failure or error: %s", plural(c.Errors, "ERROR result", "ERROR results"), strings.Join(c.Accounts, ", "))})
		case c.Status == model.ControlNotApplicable:
			notApplicable = append(notApplicable, []string{c.ControlID, c.Title, string(c.Status), c.Note})
		}
	}
	cols := []column{{title: "Control", width: 22}, {title: "Title", width: 70}, {title: "Status", width: 26, state: true}, {title: "Why", width: 62}}
	d.para(fmt.Sprintf("Evidence missing (gap): %s with ERROR results, %s of them ERROR overall (not tested).",
		plural(len(notTested), "control", "controls"), num(errorControls)))
	if len(notTested) > 0 {
		d.table(table{caption: "Evidence missing", cols: cols}, notTested)
	}
	d.para(fmt.Sprintf("Not applicable (nothing in scope): %s.", plural(len(notApplicable), "control", "controls")))
	if len(notApplicable) > 0 {
		d.table(table{caption: "Not applicable", cols: cols}, notApplicable)
	}
}

// resultCounts counts the framework population by status and the failures
// by severity.
func (r *pdfReport) resultCounts() (map[model.Status]int, map[model.Severity]int) {
	byStatus := map[model.Status]int{}
	bySev := map[model.Severity]int{}
	for _, i := range r.population {
		res := &r.scan.Results[i]
		byStatus[res.Status]++
		if res.Status == model.StatusFail {
			bySev[res.Severity]++
		}
	}
	return byStatus, bySev
}

var stateMeaning = map[model.ControlState]string{
	model.ControlFail:          "a result of its checks failed",
	model.ControlError:         "no failure, but evidence is missing (a coverage gap): not tested",
	model.ControlWaived:        "no failure or error, but failures are muted by a live waiver",
	model.ControlPass:          "every result of its checks passed",
	model.ControlNotApplicable: "its checks produced no result: nothing in scope, or not run",
	model.ControlManual:        "no automated check: needs manual evidence",
}

func (r *pdfReport) executiveSummary(d *pdfDoc) {
	r.heading(d, "Executive summary")
	evaluated, passing, partialPass := 0, 0, 0
	for _, c := range r.controls {
		if c.Status.Evaluated() {
			evaluated++
		}
		if c.Status == model.ControlPass {
			passing++
			if c.Coverage == model.CoveragePartial {
				partialPass++
			}
		}
	}
	d.paraStyled(fmt.Sprintf("%s of %s evaluated controls PASS (%d%%).", num(passing), num(evaluated), percent(passing, evaluated)), true, 13, colAccent)
	statement, complete := r.completenessStatement()
	if complete {
		d.para(statement + ".")
	} else {
		d.paraStyled(statement+". Controls over the missing scopes are ERROR: not tested.", true, pdfBodySize, stateColours["FAIL"])
	}
	d.para(fmt.Sprintf("Evaluated controls are those FAIL, ERROR, WAIVED or PASS; of the %s controls of the catalogue, %s are NOT_APPLICABLE and %s MANUAL (they need evidence gathered by people, section 7).",
		num(len(r.controls)), num(r.countState(model.ControlNotApplicable)), num(r.countState(model.ControlManual))))
	d.paraStyled(fmt.Sprintf("PASS on a control with partial coverage means only that the automated part of the control passes, never that the control is satisfied: the rest needs separate evidence. %s of the %s passing controls have partial coverage.",
		num(partialPass), num(passing)), true, pdfBodySize, colText)

	var bars []bar
	var rows [][]string
	for _, s := range model.ControlStates() {
		bars = append(bars, bar{label: string(s), value: r.countState(s), colour: stateColours[string(s)]})
		rows = append(rows, []string{string(s), num(r.countState(s)), stateMeaning[s]})
	}
	d.barChart("Controls by status", bars)
	d.table(table{caption: "Controls by status", cols: []column{
		{title: "Status", width: 32, state: true}, {title: "Controls", width: 20, align: "R"}, {title: "Meaning", width: 128}}}, rows)

	byStatus, bySev := r.resultCounts()
	var sevBars []bar
	for _, s := range model.Severities() {
		sevBars = append(sevBars, bar{label: string(s), value: bySev[s], colour: stateColours[string(s)]})
	}
	d.barChart("Failed results by severity (checks of this framework)", sevBars)
	d.para(fmt.Sprintf("The checks of this framework produced %s: PASS %s, FAIL %s, ERROR %s, MUTED %s.",
		plural(len(r.population), "result", "results"), num(byStatus[model.StatusPass]), num(byStatus[model.StatusFail]),
		num(byStatus[model.StatusError]), num(byStatus[model.StatusMuted])))

	var failing []model.ControlStatus
	for _, c := range r.controls {
		if c.Status == model.ControlFail {
			failing = append(failing, c)
		}
	}
	sort.SliceStable(failing, func(i, j int) bool { return failing[i].Failed > failing[j].Failed })
	if len(failing) > 0 {
		d.subheading("Controls with the most failures", 0)
		var frows [][]string
		for _, c := range failing[:min(10, len(failing))] {
			frows = append(frows, []string{c.ControlID, c.Title, num(c.Failed), num(len(c.Accounts))})
		}
		d.table(table{caption: "Controls with the most failures", cols: []column{
			{title: "Control", width: 25}, {title: "Title", width: 115}, {title: "Failed", width: 20, align: "R"}, {title: "Accounts", width: 20, align: "R"}}}, frows)
	}
}

func (r *pdfReport) controlMatrix(d *pdfDoc) {
	r.heading(d, "Control matrix")
	d.para(fmt.Sprintf("Every control of the catalogue (%s), MANUAL and NOT_APPLICABLE included, in catalogue order. Passed, failed, errors and muted count the results of the control's checks.", num(len(r.controls))))
	var rows [][]string
	for _, c := range r.controls {
		title := c.Title
		if c.Note != "" && c.Status != model.ControlManual {
			title += "\nNote: " + c.Note
		}
		coverage := c.Coverage
		if coverage == "" {
			coverage = "-"
		}
		counts := []string{num(c.Passed), num(c.Failed), num(c.Errors), num(c.Muted)}
		if c.Status == model.ControlManual {
			counts = []string{"-", "-", "-", "-"}
		}
		rows = append(rows, append([]string{c.ControlID, title, string(c.Status), coverage}, counts...))
	}
	d.table(table{caption: "Control matrix", cols: []column{
		{title: "Control", width: 20}, {title: "Title", width: 70}, {title: "Status", width: 26, state: true},
		{title: "Coverage", width: 16}, {title: "Passed", width: 12, align: "R"}, {title: "Failed", width: 12, align: "R"},
		{title: "Errors", width: 12, align: "R"}, {title: "Muted", width: 12, align: "R"}}}, rows)
}

// resultRow is one result as the population tables print it.
func (r *pdfReport) resultRow(res *model.Result) []string {
	resource := res.ResourceID
	if resource == "" {
		resource = "(the whole scope)"
	}
	status := string(res.Status) + "\n" + string(res.Severity)
	return []string{status, res.CheckID, resource, r.accountCell(res), res.Region, res.Message}
}

var resultColumns = []column{
	{title: "Status", width: 17, state: true}, {title: "Check", width: 33}, {title: "Resource", width: 44},
	{title: "Account", width: 24}, {title: "Region", width: 18}, {title: "Message", width: 44}}

func (r *pdfReport) controlSections(d *pdfDoc) {
	r.heading(d, "Tested population per control")
	d.para(fmt.Sprintf("One part per automated control: the results of its checks, failures first, then errors, muted results and passes. At most %s rows are printed per control; the rest are counted and listed in %s.", num(pdfRowBudget), findingsSheet))
	first := true
	for _, c := range r.controls {
		if c.Status == model.ControlManual {
			continue
		}
		checks := map[string]bool{}
		for _, id := range c.Checks {
			checks[id] = true
		}
		var rows [][]string
		total := 0
		for _, i := range r.population {
			res := &r.scan.Results[i]
			if !checks[res.CheckID] {
				continue
			}
			total++
			if len(rows) < pdfRowBudget {
				rows = append(rows, r.resultRow(res))
			}
		}
		if !first {
			d.room(60)
		}
		first = false
		d.subheading(c.ControlID+" "+c.Title, 1)
		coverage := c.Coverage
		if coverage == "" {
			coverage = "-"
		}
		facts := [][2]string{
			{"Status", string(c.Status) + " (" + stateMeaning[c.Status] + ")"},
			{"Coverage", coverage},
			{"Checks", strings.Join(c.Checks, ", ")},
			{"Population", fmt.Sprintf("%s: %s passed, %s failed, %s errors, %s muted", plural(total, "result", "results"), num(c.Passed), num(c.Failed), num(c.Errors), num(c.Muted))},
		}
		if len(c.Accounts) > 0 {
			facts = append(facts, [2]string{"Accounts affected", strings.Join(c.Accounts, ", ") + " (a failure or error)"})
		}
		if c.Note != "" {
			facts = append(facts, [2]string{"Note", c.Note})
		}
		d.facts(38, facts)
		if c.Status == model.ControlPass && c.Coverage == model.CoveragePartial {
			d.note("Partial coverage: this PASS means the automated part of the control passes, not that the control is satisfied.")
		}
		if total == 0 {
			d.para("No result: nothing was tested for this control in this scan.")
			continue
		}
		d.table(table{caption: c.ControlID + " population", cols: resultColumns}, rows)
		if total > len(rows) {
			d.paraStyled(shown(len(rows), total, findingsSheet), true, 8, colAccent)
		}
	}
}

// awsError is the AWS error behind an ERROR result: the failures of its
// scope (or of its region or account, when those could not be reached).
func (r *pdfReport) awsError(res *model.Result) string {
	for _, k := range []scopeKey{{res.AccountID, res.Region, res.Service}, {res.AccountID, res.Region, model.ServiceRegion},
		{res.AccountID, model.GlobalRegion, model.ServiceAccount}} {
		c, ok := r.coverage[k]
		if !ok || c.Status == model.CoverageOK {
			continue
		}
		var parts []string
		for _, f := range c.Failures {
			if f.Resource != "" && res.ResourceID != "" && f.Resource != res.ResourceID {
				continue
			}
			p := f.Operation
			if f.Code != "" {
				p = f.Code + " on " + f.Operation
			}
			parts = append(parts, strings.TrimSpace(p+": "+f.Error))
		}
		if len(parts) == 0 && c.Error != "" {
			parts = append(parts, c.Error)
		}
		if len(parts) > 0 {
			return strings.Join(parts, "\n")
		}
	}
	return res.Message
}

func (r *pdfReport) exceptions(d *pdfDoc) {
	r.heading(d, "Exceptions")
	var errRows, mutedRows [][]string
	errTotal, mutedTotal := 0, 0
	for _, i := range r.population {
		res := &r.scan.Results[i]
		switch res.Status {
		case model.StatusError:
			errTotal++
			if len(errRows) < pdfRowBudget {
				resource := res.ResourceID
				if resource == "" {
					resource = "(the whole scope)"
				}
				errRows = append(errRows, []string{res.CheckID, resource, r.accountCell(res), res.Region, r.awsError(res)})
			}
		case model.StatusMuted:
			mutedTotal++
			if len(mutedRows) < pdfRowBudget {
				w, ok := r.waivers[res.WaiverID]
				waiver := res.WaiverID
				if waiver == "" {
					waiver = "(not recorded)"
				}
				owner, reason, expires := "-", "-", "-"
				if ok {
					owner, reason, expires = w.Owner, w.Reason, w.Expires
					if w.Ticket != "" {
						reason += " (" + w.Ticket + ")"
					}
				}
				mutedRows = append(mutedRows, []string{res.CheckID, res.ResourceID, r.accountCell(res) + "\n" + res.Region, waiver, owner, reason, expires})
			}
		}
	}

	d.subheading("ERROR results: not tested", 1)
	if errTotal == 0 {
		d.para("None: every check of this framework was evaluated wherever it ran.")
	} else {
		d.para(fmt.Sprintf("%s of this framework's checks could not be evaluated. The AWS error comes from the coverage record of the scope.", plural(errTotal, "result", "results")))
		d.table(table{caption: "ERROR results", cols: []column{
			{title: "Check", width: 36}, {title: "Resource", width: 38}, {title: "Account", width: 24},
			{title: "Region", width: 18}, {title: "AWS error", width: 64}}}, errRows)
		if errTotal > len(errRows) {
			d.paraStyled(shown(len(errRows), errTotal, findingsSheet), true, 8, colAccent)
		}
	}

	d.subheading("MUTED results: accepted exceptions", 1)
	if mutedTotal == 0 {
		d.para("None: no failure of this framework's checks is muted by a waiver.")
	} else {
		d.para(fmt.Sprintf("%s failed and are muted by a live waiver from the configuration file: an accepted exception, not a pass.", plural(mutedTotal, "result", "results")))
		d.table(table{caption: "MUTED results", cols: []column{
			{title: "Check", width: 30}, {title: "Resource", width: 34}, {title: "Account / region", width: 26},
			{title: "Waiver", width: 20}, {title: "Owner", width: 22}, {title: "Reason", width: 30}, {title: "Expires", width: 18}}}, mutedRows)
		if mutedTotal > len(mutedRows) {
			d.paraStyled(shown(len(mutedRows), mutedTotal, findingsSheet), true, 8, colAccent)
		}
	}

	var wrows [][]string
	for _, w := range r.scan.Waivers {
		if !r.checks[w.Check] {
			continue
		}
		who := w.Owner
		if w.ApprovedBy != "" {
			who += "\napproved by " + w.ApprovedBy
		}
		reason := w.Reason
		if w.Ticket != "" {
			reason += " (" + w.Ticket + ")"
		}
		wrows = append(wrows, []string{w.ID, w.Check, w.State, num(w.Muted), who, reason, w.Expires})
	}
	if len(wrows) > 0 {
		d.subheading("Waiver register", 1)
		d.para("Every waiver of the configuration file on a check of this framework, with its state in this scan: active (muted results), expired (past its expiry: it mutes nothing, the failures count), unused (live, but nothing matched).")
		d.table(table{caption: "Waiver register", cols: []column{
			{title: "Waiver", width: 22}, {title: "Check", width: 32}, {title: "State", width: 16}, {title: "Muted", width: 12, align: "R"},
			{title: "Owner", width: 30}, {title: "Reason", width: 50}, {title: "Expires", width: 18}}}, wrows)
	}

	d.subheading("Manual controls awaiting evidence", 1)
	var mrows [][]string
	for _, c := range r.controls {
		if c.Status == model.ControlManual {
			mrows = append(mrows, []string{c.ControlID, c.Title})
		}
	}
	if len(mrows) == 0 {
		d.para("None: every control of this catalogue has an automated check.")
	} else {
		d.para(fmt.Sprintf("%s of this framework have no automated check: their evidence is gathered by people and is not part of this report.", plural(len(mrows), "control", "controls")))
		d.table(table{caption: "Manual controls", cols: []column{{title: "Control", width: 30}, {title: "Title", width: 150}}}, mrows)
	}
}

func (r *pdfReport) diffRow(e *model.DiffEntry) []string {
	status := string(e.NewStatus)
	if e.OldStatus != "" && e.NewStatus != "" && e.OldStatus != e.NewStatus {
		status = string(e.OldStatus) + " → " + string(e.NewStatus)
	} else if status == "" {
		status = string(e.OldStatus)
	}
	sev := e.NewSeverity
	if sev == "" {
		sev = e.OldSeverity
	}
	account := e.AccountID
	if e.AccountName != "" {
		account += "\n" + e.AccountName
	}
	msg := e.Message
	if e.Reason != "" {
		msg = strings.TrimSpace(msg + "\n" + e.Reason)
	}
	return []string{status + "\n" + string(sev), e.CheckID, e.ResourceID, account, e.Region, msg}
}

func (r *pdfReport) changes(d *pdfDoc) {
	df := r.diff
	r.heading(d, "Changes since the previous scan")
	d.facts(38, [][2]string{
		{"Previous scan", fmt.Sprintf("%s, %s to %s", df.Context.Old.ID, utc(df.Context.Old.StartedAt), utc(df.Context.Old.FinishedAt))},
		{"This scan", fmt.Sprintf("%s, %s to %s", df.Context.New.ID, utc(df.Context.New.StartedAt), utc(df.Context.New.FinishedAt))},
		{"Window", fmt.Sprintf("%s between the two finishes", (secondsDuration(df.Context.WindowSeconds)))},
	})
	for _, w := range df.Context.Warnings {
		d.paraStyled("Warning: "+w, true, 8.5, stateColours["ERROR"])
	}
	filter := func(es []model.DiffEntry) []*model.DiffEntry {
		var out []*model.DiffEntry
		for i := range es {
			if r.checks[es[i].CheckID] {
				out = append(out, &es[i])
			}
		}
		return out
	}
	newF, resolved, changed, notObs := filter(df.New), filter(df.Resolved), filter(df.Changed), filter(df.NotObserved)
	d.table(table{caption: "Changes", cols: []column{{title: "Category", width: 40}, {title: "All checks", width: 30, align: "R"},
		{title: "This framework's checks", width: 40, align: "R"}, {title: "Meaning", width: 70}}}, [][]string{
		{"New", num(len(df.New)), num(len(newF)), "findings not in the previous scan"},
		{"Resolved", num(len(df.Resolved)), num(len(resolved)), "failures seen passing, or gone from a scope collected without a gap"},
		{"Changed", num(len(df.Changed)), num(len(changed)), "status or severity changed"},
		{"Not observed", num(len(df.NotObserved)), num(len(notObs)), "not seen because this scan did not cover them: never resolved"},
		{"Unchanged", num(df.UnchangedCount), "-", ""},
	})

	d.subheading("Control status changes", 1)
	var crows [][]string
	for _, fwc := range df.Controls {
		if fwc.Framework != r.fw.ID {
			continue
		}
		for _, c := range fwc.Changes {
			crows = append(crows, []string{c.ControlID, c.Title, string(c.Old), string(c.New)})
		}
	}
	if len(crows) == 0 {
		d.para("No control of this framework changed status.")
	} else {
		d.table(table{caption: "Control status changes", cols: []column{{title: "Control", width: 25}, {title: "Title", width: 95},
			{title: "Before", width: 30, state: true}, {title: "Now", width: 30, state: true}}}, crows)
	}
	for _, part := range []struct {
		title string
		es    []*model.DiffEntry
	}{{"New findings", newF}, {"Resolved findings", resolved}, {"Changed findings", changed}} {
		d.subheading(part.title, 1)
		if len(part.es) == 0 {
			d.para("None for this framework's checks.")
			continue
		}
		var rows [][]string
		for _, e := range part.es[:min(len(part.es), pdfRowBudget)] {
			rows = append(rows, r.diffRow(e))
		}
		d.table(table{caption: part.title, cols: resultColumns}, rows)
		if len(part.es) > len(rows) {
			d.paraStyled(shown(len(rows), len(part.es), "diff.json"), true, 8, colAccent)
		}
	}
	if len(notObs) > 0 {
		reasons := map[string]int{}
		for _, e := range notObs {
			reasons[e.Reason]++
		}
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			label := k
			if label == "" {
				label = "no reason recorded"
			}
			parts = append(parts, fmt.Sprintf("%s: %s", label, num(reasons[k])))
		}
		d.para(fmt.Sprintf("%s of this framework's checks were not observed (listed in diff.json): %s.", plural(len(notObs), "finding", "findings"), strings.Join(parts, "; ")))
	}
}

func secondsDuration(s int64) string {
	days, rest := s/86400, s%86400
	h, m := rest/3600, rest%3600/60
	if days > 0 {
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	}
	return fmt.Sprintf("%dh %dm %ds", h, m, rest%60)
}

var glossary = [][]string{
	{"PASS", "result", "the resource meets the check"},
	{"FAIL", "result", "the resource does not meet the check"},
	{"ERROR", "result", "the check could not be evaluated: its data could not be collected (a coverage gap). Not tested, never a pass"},
	{"MUTED", "result", "a failure muted by a live waiver (owner, reason, expiry): an accepted exception, not a pass"},
	{"FAIL", "control", "a result of its checks failed"},
	{"ERROR", "control", "no failure, but evidence is missing: an ERROR result. ERROR wins over PASS"},
	{"WAIVED", "control", "no failure or error, but failures are muted: the control holds only by accepted exceptions"},
	{"PASS", "control", "every result of its checks passed (for partial coverage: the automated part passes)"},
	{"NOT_APPLICABLE", "control", "its checks produced no result: no resource in scope, or its checks did not run (the note says which)"},
	{"MANUAL", "control", "no check covers it: evidence is gathered by people"},
	{"full", "coverage", "the control's checks test the whole control"},
	{"partial", "coverage", "the checks test part of the control; a PASS means only that the automated part passes"},
}

func (r *pdfReport) appendix(d *pdfDoc) {
	r.heading(d, "Appendix")
	d.subheading("Check catalogue", 1)
	d.para("The checks that are evidence for this framework's controls, as this version of the tool ran them.")
	for _, id := range r.checkList() {
		info, ok := r.catalogue[id]
		d.room(24)
		if !ok {
			d.paraStyled(id, true, 9, colText)
			d.note("Not in the scan's catalogue (the scan did not record it).")
			continue
		}
		d.paraStyled(fmt.Sprintf("%s: %s (%s)", info.ID, info.Title, info.Severity), true, 9, colText)
		var pairs [][2]string
		if info.ResourceType != "" {
			pairs = append(pairs, [2]string{"Resource", info.ResourceType + ", " + info.Service})
		}
		pairs = append(pairs, [2]string{"Rationale", info.Rationale}, [2]string{"Remediation", info.Remediation})
		if len(info.References) > 0 {
			pairs = append(pairs, [2]string{"References", strings.Join(info.References, "\n")})
		}
		d.facts(28, pairs)
	}

	d.subheading("Status glossary", 1)
	d.table(table{caption: "Status glossary", cols: []column{{title: "Status", width: 32, state: true}, {title: "Of", width: 20}, {title: "Meaning", width: 128}}}, glossary)

	d.subheading("Verifying the evidence package", 1)
	d.para("The package folder holds manifest.json, listing every file with its size and SHA-256, and SHA256SUMS in the format of sha256sum. Verify it with no tool of ours:")
	d.paraStyled("cd PACKAGE-FOLDER && sha256sum -c SHA256SUMS", true, 9, colAccent)
	d.para("or with posture, which also checks manifest.json and its signature when there is one:")
	d.paraStyled("posture verify PACKAGE-FOLDER", true, 9, colAccent)
	d.para("The SHA-256 of scan.json printed on the cover must match its line in SHA256SUMS. Every report of the package is rendered from scan.json (and diff.json) alone, so `posture report` renders this file again byte for byte.")

	d.subheading("About this report", 1)
	d.para(fmt.Sprintf("A4 pages. Text is set in DejaVu Sans, embedded (Bitstream Vera / DejaVu licence): it draws Latin, Greek and Cyrillic; a character it has no glyph for (CJK, emoji) is printed as its code point, e.g. <U+65E5>, and scan.json and findings.csv keep the exact text. A table cell longer than %d lines is cut short and marked; scan.json holds the full text. Populations longer than %s rows are counted in full and printed in part, failures first.", pdfMaxLines, num(pdfRowBudget)))
}

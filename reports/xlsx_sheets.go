package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/posture-dev/posture/internal/model"
)

// methodStatement is the About sheet's account of how the evidence was
// produced.
const methodStatement = "posture collected the configuration of the accounts and regions in scope with read-only AWS API calls " +
	"(Describe*, List* and Get* operations, GenerateCredentialReport, and sts:AssumeRole to enter member accounts). " +
	"Every AWS client of the tool carries a read-only guard that refuses, before the request is signed or sent, any operation " +
	"outside that allow-list and the reads that return secret values or content (GetSecretValue, GetObject, GetParameter, ...): " +
	"the scan changed nothing in the accounts and read no secret value. Each check evaluates every resource of its type in scope " +
	"and records one result per resource (PASS or FAIL) with the configuration it saw as evidence, so the Findings sheet is the " +
	"whole tested population, not only the exceptions. A part of the inventory that could not be collected is a coverage gap " +
	"(Coverage sheet) and the checks over it report ERROR, never PASS. Results are rolled up into framework controls by the " +
	"tool's catalogues (Controls sheets). This workbook is rendered from scan.json alone (SHA-256 above): rendering the same " +
	"scan.json again gives the same bytes, and its dates are the scan's finish time."

// howToRead explains the workbook's vocabulary, one paragraph per topic.
var howToRead = [][2]string{
	{"Result statuses", "PASS: the resource meets the check. FAIL: it does not (see message and evidence). ERROR: the check could not be " +
		"evaluated because data was missing (a coverage gap or a denied call); it is 'not tested', never a pass. MUTED: a FAIL " +
		"accepted by a live waiver (waiver_id names it, Waivers lists it): an exception, not a pass."},
	{"Control statuses", "FAIL: a result of its checks failed. ERROR: no failure but evidence is missing. WAIVED: no failure and no " +
		"error, but failures are muted by waivers, so the control holds only by accepted exceptions. PASS: every result passed. " +
		"NOT_APPLICABLE: its checks produced no result (nothing in scope, or not run; see note). MANUAL: no automated check covers " +
		"it; gather the evidence by other means. Pass rate = PASS / (FAIL + ERROR + WAIVED + PASS)."},
	{"Partial coverage", "A control's coverage is 'full' when its checks test the whole control and 'partial' when they test only " +
		"part of it. PASS on a partial control means only that the automated part passes, never that the control is satisfied: " +
		"the rest needs manual evidence."},
	{"Not tested vs not applicable", "Coverage keeps them apart: a scope with a gap is 'not tested' (its checks report ERROR); a " +
		"scope collected without error that held no resource is 'not applicable'."},
	{"Findings order and links", "Findings lists every result, grouped by check (check ID order) and in the scan's order within a " +
		"check (account, region, resource); result_index is the result's position in scan.json's results array, from 0. The " +
		"findings link of a control opens the first Findings row of its checks; the control's results are the rows of the checks " +
		"it lists (Checks links to each check's rows), and filtering Findings' controls column on the control's key " +
		"(framework:control, e.g. 'contains cis-aws-5.0.0:5.2') shows exactly them."},
	{"Text cells", "Every value from the scanned accounts is stored as text, never as a formula; text that starts like a formula " +
		"(= + - @) carries Excel's quote prefix so that editing it does not run it. A value longer than a cell holds (32,767 " +
		"characters) is cut and ends with '… [truncated, N chars; full value in scan.json]'."},
}

// ---- About ------------------------------------------------------------------

func (b *workbook) about() error {
	scan, sh := b.scan, sheetAbout
	info := scan.Scan
	hash := <-b.sha
	if hash.err != nil {
		return hash.err
	}
	sum := hash.sum
	var total Counts
	for i := range scan.Results {
		total.add(scan.Results[i].Status)
	}
	gaps := scan.Gaps()
	coverage := fmt.Sprintf("complete: all %d scopes collected", len(scan.Coverage))
	if len(gaps) > 0 {
		coverage = fmt.Sprintf("incomplete: %d gaps of %d scopes (see Coverage); the checks over them report ERROR", len(gaps), len(scan.Coverage))
	}
	cancelled := "no"
	if info.Cancelled {
		cancelled = "yes: the scan was interrupted before every scope was collected; the unfinished scopes are gaps with code Cancelled"
	}
	orNone := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	requested := strings.Join(info.RequestedRegions, ", ")
	if requested == "" {
		requested = "not recorded"
	}
	baseline := "none"
	if ref := info.Baseline; ref != nil {
		baseline = fmt.Sprintf("%s (started %s, finished %s)", ref.ID, rfc3339UTC(ref.StartedAt), rfc3339UTC(ref.FinishedAt))
	}
	var fws []string
	for _, fw := range b.frameworks {
		s := fw.ID
		if fw.Name != "" && fw.Name != fw.ID {
			s += ": " + strings.TrimSpace(fw.Name+" "+fw.Version)
		}
		fws = append(fws, s)
	}
	dur := info.FinishedAt.Sub(info.StartedAt)
	facts := [][2]string{
		{"Scan ID", info.ID},
		{"Tool", scan.Tool.Name + " " + scan.Tool.Version},
		{"Started (UTC)", rfc3339UTC(info.StartedAt)},
		{"Finished (UTC)", rfc3339UTC(info.FinishedAt)},
		{"Duration", fmt.Sprintf("%s (%.0f seconds)", dur.Round(time.Second), math.Round(dur.Seconds()))},
		{"Run by (principal)", orNone(info.Principal)},
		{"Invocation", orNone(info.Invocation)},
		{"Config file", orNone(info.ConfigFile)},
		{"Config file SHA-256", orNone(info.ConfigSHA256)},
		{"Baseline scan", baseline},
		{"Cancelled", cancelled},
		{"Coverage", coverage},
		{"scan.json SHA-256", sum},
		{"", ""},
		{"Accounts", fmt.Sprintf("%d (listed below)", len(info.Accounts))},
		{"Regions requested", requested},
		{"Regions scanned", fmt.Sprintf("%d: %s", len(info.Regions), strings.Join(info.Regions, ", "))},
		{"Checks run", fmt.Sprintf("%d (see Checks)", len(info.Checks))},
		{"Frameworks", orNone(strings.Join(fws, "\n"))},
		{"Results", fmt.Sprintf("%d: PASS %d, FAIL %d, ERROR %d, MUTED %d", len(scan.Results), total.Pass, total.Fail, total.Error, total.Muted)},
		{"Waivers", fmt.Sprintf("%d (see Waivers)", len(scan.Waivers))},
	}
	if len(scan.Waivers) == 0 {
		facts[len(facts)-1][1] = "none"
	}
	keys := make([]string, 0, len(info.Thresholds))
	for k := range info.Thresholds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		facts = append(facts, [2]string{"Thresholds", "defaults (none recorded)"})
	}
	for _, k := range keys {
		facts = append(facts, [2]string{"Threshold " + k, itoa(info.Thresholds[k])})
	}

	if err := b.widths(sh, 30, 110); err != nil {
		return err
	}
	row := 1
	if err := b.put(sh, row, styled("Evidence workbook: posture scan "+info.ID, b.st.title)); err != nil {
		return err
	}
	row += 2
	if err := b.put(sh, row, styled("The scan", b.st.section)); err != nil {
		return err
	}
	row++
	for _, kv := range facts {
		if kv[0] != "" {
			if err := b.put(sh, row, styled(kv[0], b.st.label), styled(kv[1], b.st.wrap)); err != nil {
				return err
			}
			if err := b.fitRow(sh, row, kv[1], 110); err != nil {
				return err
			}
		}
		row++
	}
	row++
	if err := b.put(sh, row, styled("Method", b.st.section)); err != nil {
		return err
	}
	row++
	if err := b.put(sh, row, styled("How the evidence was produced", b.st.label), styled(methodStatement, b.st.wrap)); err != nil {
		return err
	}
	if err := b.fitRow(sh, row, methodStatement, 110); err != nil {
		return err
	}
	row += 2
	if err := b.put(sh, row, styled("How to read this workbook", b.st.section)); err != nil {
		return err
	}
	row++
	for _, kv := range howToRead {
		if err := b.put(sh, row, styled(kv[0], b.st.label), styled(kv[1], b.st.wrap)); err != nil {
			return err
		}
		if err := b.fitRow(sh, row, kv[1], 110); err != nil {
			return err
		}
		row++
	}
	row++
	if err := b.put(sh, row, styled("Accounts in scope", b.st.section)); err != nil {
		return err
	}
	row++
	if err := b.headerRow(sh, row, "account_id", "account_name"); err != nil {
		return err
	}
	for _, id := range info.Accounts {
		row++
		if err := b.put(sh, row, id, info.AccountNames[id]); err != nil {
			return err
		}
	}
	return nil
}

// fitRow sets the height of a row whose wrapped text s sits in a column of
// width characters, since not every reader sizes wrapped rows itself.
func (b *workbook) fitRow(sheet string, row int, s string, width float64) error {
	lines := 0
	for _, l := range strings.Split(s, "\n") {
		lines += int(math.Ceil(float64(utf16Len(l)+1) / (width * 1.05)))
	}
	if lines <= 1 {
		return nil
	}
	return b.f.SetRowHeight(sheet, row, math.Min(409, 15*float64(lines)))
}

// ---- Summary ----------------------------------------------------------------

func (b *workbook) summary() error {
	scan, sh := b.scan, sheetSummary
	states := model.ControlStates()
	// Failures by severity, per framework and overall.
	fwIndex := map[string]int{}
	for i, fw := range b.frameworks {
		fwIndex[fw.ID] = i
	}
	fwSev := make([]map[model.Severity]int, len(b.frameworks))
	for i := range fwSev {
		fwSev[i] = map[model.Severity]int{}
	}
	sev := map[model.Severity]int{}
	byFamily := map[model.Family]*Counts{}
	seen := make([]bool, len(b.frameworks))
	for i := range scan.Results {
		r := &scan.Results[i]
		if byFamily[r.Family] == nil {
			byFamily[r.Family] = &Counts{}
		}
		byFamily[r.Family].add(r.Status)
		if r.Status != model.StatusFail {
			continue
		}
		sev[r.Severity]++
		clear(seen)
		for _, key := range r.Controls {
			fw, _, _ := strings.Cut(key, ":")
			if j, ok := fwIndex[fw]; ok && !seen[j] {
				seen[j] = true
				fwSev[j][r.Severity]++
			}
		}
	}

	if err := b.widths(sh, 18, 34, 12, 10, 10, 10, 10, 8, 8, 9, 8, 16, 9, 14, 9, 9, 9, 9, 13); err != nil {
		return err
	}
	if err := b.put(sh, 1, styled("Summary of scan "+scan.Scan.ID, b.st.title)); err != nil {
		return err
	}
	if err := b.put(sh, 2, "Pass rate = PASS / evaluated (FAIL + ERROR + WAIVED + PASS). A PASS on a partially covered control means only the automated part passes. Failures count FAIL results (not MUTED ones)."); err != nil {
		return err
	}
	if err := b.put(sh, 4, styled("Controls per framework", b.st.section)); err != nil {
		return err
	}
	header := []string{"framework", "name", "version", "controls", "evaluated", "passing", "pass rate"}
	for _, s := range states {
		header = append(header, string(s))
	}
	header = append(header, "PASS (partial coverage)")
	for _, s := range model.Severities() {
		header = append(header, "failures "+string(s))
	}
	const fwHeaderRow = 5
	if err := b.headerRow(sh, fwHeaderRow, header...); err != nil {
		return err
	}
	row := fwHeaderRow
	for i, fw := range b.frameworks {
		row++
		count := map[model.ControlState]int{}
		partialPass, evaluated := 0, 0
		for _, c := range b.controlsOf[fw.ID] {
			count[c.Status]++
			if c.Status.Evaluated() {
				evaluated++
			}
			if c.Status == model.ControlPass && c.Coverage == model.CoveragePartial {
				partialPass++
			}
		}
		vals := []any{fw.ID, fw.Name, fw.Version, len(b.controlsOf[fw.ID]), evaluated, count[model.ControlPass],
			styled(pct(count[model.ControlPass], evaluated), b.st.percent)}
		for _, s := range states {
			vals = append(vals, count[s])
		}
		vals = append(vals, partialPass)
		for _, s := range model.Severities() {
			vals = append(vals, fwSev[i][s])
		}
		if err := b.put(sh, row, vals...); err != nil {
			return err
		}
	}
	if len(b.frameworks) == 0 {
		row++
		if err := b.put(sh, row, "no framework was selected for this scan"); err != nil {
			return err
		}
	}
	fwLastRow := row

	row += 2
	if err := b.put(sh, row, styled("Results by family and status", b.st.section)); err != nil {
		return err
	}
	row++
	if err := b.headerRow(sh, row, "family", "PASS", "FAIL", "ERROR", "MUTED", "total"); err != nil {
		return err
	}
	families := model.Families()
	for f := range byFamily {
		if !slices.Contains(families, f) {
			families = append(families, f)
		}
	}
	sort.SliceStable(families, func(i, j int) bool {
		if families[i].Rank() != families[j].Rank() {
			return families[i].Rank() < families[j].Rank()
		}
		return families[i] < families[j]
	})
	var all Counts
	for _, f := range families {
		c := byFamily[f]
		if c == nil {
			c = &Counts{}
		}
		all.Pass, all.Fail, all.Error, all.Muted = all.Pass+c.Pass, all.Fail+c.Fail, all.Error+c.Error, all.Muted+c.Muted
		row++
		if err := b.put(sh, row, string(f), c.Pass, c.Fail, c.Error, c.Muted, c.Pass+c.Fail+c.Error+c.Muted); err != nil {
			return err
		}
	}
	row++
	if err := b.put(sh, row, styled("total", b.st.label), all.Pass, all.Fail, all.Error, all.Muted, all.Pass+all.Fail+all.Error+all.Muted); err != nil {
		return err
	}

	row += 2
	if err := b.put(sh, row, styled("Failures by severity (FAIL results)", b.st.section)); err != nil {
		return err
	}
	row++
	if err := b.headerRow(sh, row, "severity", "failures"); err != nil {
		return err
	}
	sevFirst := row + 1
	for _, s := range model.Severities() {
		row++
		if err := b.put(sh, row, string(s), sev[s]); err != nil {
			return err
		}
	}
	sevLast := row

	// Charts, below the tables: control statuses per framework (stacked
	// bars), and failures by severity.
	row += 2
	if len(b.frameworks) > 0 {
		colors := map[model.ControlState]string{
			model.ControlFail: "C00000", model.ControlError: "ED7D31", model.ControlWaived: "FFC000",
			model.ControlPass: "70AD47", model.ControlNotApplicable: "A5A5A5", model.ControlManual: "5B9BD5",
		}
		var series []excelize.ChartSeries
		for k, s := range states {
			col := 8 + k // H..M
			series = append(series, excelize.ChartSeries{
				Name:       absRange(sh, col, fwHeaderRow, col, fwHeaderRow),
				Categories: absRange(sh, 1, fwHeaderRow+1, 1, fwLastRow),
				Values:     absRange(sh, col, fwHeaderRow+1, col, fwLastRow),
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colors[s]}},
			})
		}
		height := uint(120 + 40*len(b.frameworks))
		if err := b.f.AddChart(sh, cellName(1, row), &excelize.Chart{
			Type:      excelize.BarPercentStacked,
			Series:    series,
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Control statuses per framework"}}},
			Legend:    excelize.ChartLegend{Position: "bottom"},
			Dimension: excelize.ChartDimension{Width: 760, Height: height},
			YAxis:     excelize.ChartAxis{ReverseOrder: true},
		}); err != nil {
			return fmt.Errorf("control status chart: %w", err)
		}
		row += int(height/20) + 2
	}
	return b.f.AddChart(sh, cellName(1, row), &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{
			Name:       absRange(sh, 2, sevFirst-1, 2, sevFirst-1),
			Categories: absRange(sh, 1, sevFirst, 1, sevLast),
			Values:     absRange(sh, 2, sevFirst, 2, sevLast),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C00000"}},
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Failures by severity"}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 480, Height: 260},
	})
}

func cellName(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// ---- Controls - <framework> -------------------------------------------------

// controlsHeaderRow is the row of the Controls sheets' table header.
const controlsHeaderRow = 5

var controlsHeader = []string{"control_id", "title", "status", "coverage", "meaning", "checks", "results",
	"passed", "failed", "errors", "muted", "accounts_affected", "note", "findings"}

func (b *workbook) controls(index int, fw model.Framework) error {
	sh := b.controlSheet[fw.ID]
	controls := b.controlsOf[fw.ID]
	if err := b.widths(sh, 14, 48, 16, 10, 40, 34, 9, 8, 8, 8, 8, 28, 40, 18); err != nil {
		return err
	}
	title := strings.TrimSpace(fw.Name + " " + fw.Version)
	if title == "" {
		title = fw.ID
	}
	if err := b.put(sh, 1, styled(title+" ("+fw.ID+")", b.st.title)); err != nil {
		return err
	}
	var about []string
	for _, kv := range [][2]string{{"publisher", fw.Publisher}, {"link", fw.URL}, {"scope", fw.Scope}, {"catalogue", fw.Source}} {
		if kv[1] != "" {
			about = append(about, kv[0]+": "+kv[1])
		}
	}
	if err := b.put(sh, 2, strings.Join(about, " | ")); err != nil {
		return err
	}
	passing, evaluated := 0, 0
	for _, c := range controls {
		if c.Status.Evaluated() {
			evaluated++
		}
		if c.Status == model.ControlPass {
			passing++
		}
	}
	rate := "no control evaluated"
	if evaluated > 0 {
		rate = fmt.Sprintf("%.1f%%", 100*float64(passing)/float64(evaluated))
	}
	if err := b.put(sh, 3, fmt.Sprintf("Controls passing: %d of %d evaluated (%s); %d controls in all. "+
		"PASS on a 'partial' control means only its automated part passes. The findings link opens the first Findings row of the control's checks.",
		passing, evaluated, rate, len(controls))); err != nil {
		return err
	}
	if err := b.headerRow(sh, controlsHeaderRow, controlsHeader...); err != nil {
		return err
	}
	linkCol := len(controlsHeader)
	for i, c := range controls {
		row := controlsHeaderRow + 1 + i
		accounts := make([]string, len(c.Accounts))
		for k, a := range c.Accounts {
			accounts[k] = b.accountLabel(a)
		}
		coverage := c.Coverage
		if c.Status == model.ControlManual && coverage == "" {
			coverage = "none"
		}
		if err := b.put(sh, row,
			c.ControlID, styled(c.Title, b.st.wrap), styled(string(c.Status), b.st.status[string(c.Status)]), coverage,
			styled(controlMeaning(c), b.st.wrap), styled(strings.Join(c.Checks, ", "), b.st.wrap),
			c.Passed+c.Failed+c.Errors+c.Muted, c.Passed, c.Failed, c.Errors, c.Muted,
			styled(strings.Join(accounts, ", "), b.st.wrap), styled(c.Note, b.st.wrap)); err != nil {
			return err
		}
		first := 0
		for _, id := range c.Checks {
			if span, ok := b.checkRows[id]; ok && (first == 0 || span[0] < first) {
				first = span[0]
			}
		}
		cell := cellName(linkCol, row)
		if first == 0 {
			if err := b.put(sh, row, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "no result"); err != nil {
				return err
			}
			continue
		}
		n := c.Passed + c.Failed + c.Errors + c.Muted
		tip := fmt.Sprintf("First Findings row of the checks of %s:%s (%d results); filter Findings' controls column on %s:%s for all of them",
			c.Framework, c.ControlID, n, c.Framework, c.ControlID)
		if err := b.link(sh, cell, ref(sheetFindings, 1, first), fmt.Sprintf("Findings row %d", first), tip); err != nil {
			return err
		}
	}
	if err := b.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: controlsHeaderRow, TopLeftCell: cellName(1, controlsHeaderRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if len(controls) == 0 {
		return nil
	}
	return b.f.AddTable(sh, &excelize.Table{
		Range:     cellName(1, controlsHeaderRow) + ":" + cellName(linkCol, controlsHeaderRow+len(controls)),
		Name:      fmt.Sprintf("Controls%d", index+1),
		StyleName: "TableStyleLight9",
	})
}

// ---- Findings -----------------------------------------------------------------

func (b *workbook) findings() error {
	sw, err := b.f.NewStreamWriter(sheetFindings)
	if err != nil {
		return err
	}
	if err := streamWidths(sw, 8, 30, 40, 9, 12, 15, 14, 16, 13, 12, 26, 30, 50, 60, 60, 40, 14, 21, 34); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", b.streamHeader(findingsHeader...)); err != nil {
		return err
	}
	// The rows are written by findingsRows when the part is archived (see
	// xlsx_findings.go).
	part, err := b.findingsPart()
	if err != nil {
		return err
	}
	b.zip.rowsPart, b.zip.rows = part, b.newFindingsRows().writeTo
	last := len(b.order) + 1
	if last < 2 {
		last = 2
	}
	if err := sw.AddTable(&excelize.Table{
		Range:     "A1:" + cellName(len(findingsHeader), last),
		Name:      "Findings",
		StyleName: "TableStyleLight9",
	}); err != nil {
		return err
	}
	return sw.Flush()
}

// ---- Coverage -----------------------------------------------------------------

// coverageHeaderRow is the row of the Coverage sheet's table header.
const coverageHeaderRow = 4

var coverageHeader = []string{"account_id", "account_name", "region", "service", "status", "classification",
	"resources", "results", "errors", "failures", "error"}

// classification says whether a scope was tested, not tested (a gap) or not
// applicable (collected, nothing in scope).
func classification(c model.Coverage) string {
	if c.Status != model.CoverageOK {
		code := ""
		for _, f := range c.Failures {
			if f.Code != "" {
				code = f.Code
				break
			}
		}
		switch code {
		case model.CodeCancelled:
			return "not tested: scan cancelled"
		case model.CodeRegionNotEnabled:
			return "not tested: region not enabled"
		case "":
			return "not tested: coverage gap"
		}
		return "not tested: coverage gap (" + code + ")"
	}
	if c.Note != "" {
		return c.Note
	}
	switch {
	case c.Results == 0:
		return "not applicable: nothing in scope"
	case c.Errors > 0:
		return fmt.Sprintf("tested, %d results not evaluated (ERROR)", c.Errors)
	}
	return "tested"
}

func (b *workbook) coverage() error {
	scan := b.scan
	sw, err := b.f.NewStreamWriter(sheetCoverage)
	if err != nil {
		return err
	}
	if err := streamWidths(sw, 15, 18, 14, 16, 14, 36, 10, 10, 10, 20, 60); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: coverageHeaderRow, TopLeftCell: cellName(1, coverageHeaderRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	row := 1
	put := func(vals ...any) error {
		err := sw.SetRow(cellName(1, row), vals)
		row++
		return err
	}
	if err := put(excelize.Cell{Value: "Coverage: what was collected, per account, region and service", StyleID: b.st.title}); err != nil {
		return err
	}
	if err := put("Each scope's population: distinct resources evaluated, results, and ERROR results among them; every result belongs to exactly one scope. " +
		"classification keeps 'not tested' (a gap: its checks report ERROR) apart from 'not applicable' (collected without error, nothing in scope)."); err != nil {
		return err
	}
	row = coverageHeaderRow
	if err := put(b.streamHeader(coverageHeader...)...); err != nil {
		return err
	}
	var resources, results, errs, failures int
	for _, c := range scan.Coverage {
		resources, results, errs, failures = resources+c.Resources, results+c.Results, errs+c.Errors, failures+len(c.Failures)
		status := excelize.Cell{Value: string(c.Status), StyleID: b.st.status["PASS"]}
		if c.Status != model.CoverageOK {
			status.StyleID = b.st.status["ERROR"]
		}
		if err := put(b.cell(c.AccountID), b.cell(b.scan.Scan.AccountNames[c.AccountID]), b.cell(c.Region),
			b.cell(c.Service), status, b.cell(classification(c)), c.Resources, c.Results, c.Errors, len(c.Failures),
			b.cell(c.Error)); err != nil {
			return err
		}
	}
	tableEnd := row - 1
	if len(scan.Coverage) == 0 {
		if err := put("no scope recorded"); err != nil {
			return err
		}
		tableEnd = row - 1
	}
	if err := sw.AddTable(&excelize.Table{
		Range:     cellName(1, coverageHeaderRow) + ":" + cellName(len(coverageHeader), tableEnd),
		Name:      "Coverage",
		StyleName: "TableStyleLight9",
	}); err != nil {
		return err
	}
	gaps := scan.Gaps()
	label := func(s string) excelize.Cell { return excelize.Cell{Value: s, StyleID: b.st.label} }
	if err := put(label("total"), label(fmt.Sprintf("%d scopes, %d gaps", len(scan.Coverage), len(gaps))), nil, nil, nil, nil,
		label(itoa(resources)), label(itoa(results)), label(itoa(errs)), label(itoa(failures))); err != nil {
		return err
	}
	reconcile := fmt.Sprintf("Reconciliation: the scopes hold %d results; Findings has %d rows.", results, len(scan.Results))
	if results == len(scan.Results) {
		reconcile += " They agree: every result is accounted for by a scope."
	} else {
		reconcile += " They differ: this scan.json does not record every scope's population."
	}
	row++
	if err := put(reconcile); err != nil {
		return err
	}
	row++
	if err := put(excelize.Cell{Value: "Coverage gaps (not tested)", StyleID: b.st.section}); err != nil {
		return err
	}
	if len(gaps) == 0 {
		return errorsJoinFlush(sw, put("none: every scope was collected"))
	}
	if err := put(b.streamHeader("account_id", "account_name", "region", "service", "part", "operation", "resource", "code", "error")...); err != nil {
		return err
	}
	for _, g := range gaps {
		failures := g.Failures
		if len(failures) == 0 {
			failures = []model.Failure{{Error: g.Error}}
		}
		for _, f := range failures {
			if err := put(b.cell(g.AccountID), b.cell(b.scan.Scan.AccountNames[g.AccountID]), b.cell(g.Region), b.cell(g.Service),
				b.cell(f.Part), b.cell(f.Operation), b.cell(f.Resource), b.cell(f.Code), b.cell(f.Error)); err != nil {
				return err
			}
		}
	}
	return sw.Flush()
}

func errorsJoinFlush(sw *excelize.StreamWriter, err error) error {
	if err != nil {
		return err
	}
	return sw.Flush()
}

// ---- Checks -------------------------------------------------------------------

var checksHeader = []string{"check_id", "title", "family", "service", "severity", "resource_type", "results", "passed",
	"failed", "errors", "muted", "findings", "controls", "rationale", "remediation", "references"}

func (b *workbook) checks() error {
	scan, sh := b.scan, sheetChecks
	catalogue := append([]model.CheckInfo{}, scan.Catalogue...)
	known := map[string]bool{}
	for _, c := range catalogue {
		known[c.ID] = true
	}
	counts := map[string]*Counts{}
	for i := range scan.Results {
		r := &scan.Results[i]
		if counts[r.CheckID] == nil {
			counts[r.CheckID] = &Counts{}
		}
		counts[r.CheckID].add(r.Status)
		if !known[r.CheckID] {
			known[r.CheckID] = true
			catalogue = append(catalogue, model.CheckInfo{ID: r.CheckID, Family: r.Family, Service: r.Service, Severity: r.Severity, ResourceType: r.ResourceType})
		}
	}
	for _, id := range scan.Scan.Checks {
		if !known[id] {
			known[id] = true
			catalogue = append(catalogue, model.CheckInfo{ID: id})
		}
	}
	sort.SliceStable(catalogue, func(i, j int) bool { return catalogue[i].ID < catalogue[j].ID })
	mapped := checkControls(scan)

	if err := b.widths(sh, 32, 44, 15, 14, 12, 28, 9, 8, 8, 8, 8, 18, 40, 60, 60, 50); err != nil {
		return err
	}
	if err := b.headerRow(sh, 1, checksHeader...); err != nil {
		return err
	}
	for i, c := range catalogue {
		row := i + 2
		n := counts[c.ID]
		if n == nil {
			n = &Counts{}
		}
		if err := b.put(sh, row, c.ID, styled(c.Title, b.st.wrap), string(c.Family), c.Service, string(c.Severity), c.ResourceType,
			n.Pass+n.Fail+n.Error+n.Muted, n.Pass, n.Fail, n.Error, n.Muted, nil,
			styled(strings.Join(mapped[c.ID], ", "), b.st.wrap), styled(c.Rationale, b.st.wrap), styled(c.Remediation, b.st.wrap),
			styled(strings.Join(c.References, "\n"), b.st.wrap)); err != nil {
			return err
		}
		cell := cellName(12, row)
		span, ok := b.checkRows[c.ID]
		if !ok {
			if err := b.put(sh, row, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "no result"); err != nil {
				return err
			}
			continue
		}
		if err := b.link(sh, cell, ref(sheetFindings, 1, span[0]), fmt.Sprintf("rows %d-%d", span[0], span[1]),
			fmt.Sprintf("Findings rows %d to %d are the results of %s", span[0], span[1], c.ID)); err != nil {
			return err
		}
	}
	if err := b.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if len(catalogue) == 0 {
		return nil
	}
	return b.f.AddTable(sh, &excelize.Table{Range: "A1:" + cellName(len(checksHeader), len(catalogue)+1), Name: "Checks", StyleName: "TableStyleLight9"})
}

// ---- Waivers ------------------------------------------------------------------

var waiversHeader = []string{"waiver_id", "check", "resources", "accounts", "regions", "owner", "reason", "ticket",
	"approved_by", "expires", "state", "muted", "findings"}

func (b *workbook) waivers() error {
	scan, sh := b.scan, sheetWaivers
	if err := b.widths(sh, 16, 30, 34, 18, 16, 20, 48, 16, 20, 12, 10, 8, 18); err != nil {
		return err
	}
	if err := b.headerRow(sh, 1, waiversHeader...); err != nil {
		return err
	}
	for i, wv := range scan.Waivers {
		row := i + 2
		state := styled(wv.State, 0)
		switch wv.State {
		case model.WaiverExpired:
			state.StyleID = b.st.status["FAIL"]
		case model.WaiverActive:
			state.StyleID = b.st.status["WAIVED"]
		}
		if err := b.put(sh, row, wv.ID, wv.Check, styled(strings.Join(wv.Resources, "\n"), b.st.wrap),
			styled(strings.Join(wv.Accounts, "\n"), b.st.wrap), styled(strings.Join(wv.Regions, "\n"), b.st.wrap),
			wv.Owner, styled(wv.Reason, b.st.wrap), wv.Ticket, wv.ApprovedBy, wv.Expires, state, wv.Muted); err != nil {
			return err
		}
		if first, ok := b.waiverRow[wv.ID]; ok {
			if err := b.link(sh, cellName(13, row), ref(sheetFindings, 1, first), fmt.Sprintf("Findings row %d", first),
				"First result muted by "+wv.ID+"; filter Findings' waiver_id column for all of them"); err != nil {
				return err
			}
		}
	}
	if err := b.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return b.f.AddTable(sh, &excelize.Table{Range: "A1:" + cellName(len(waiversHeader), len(scan.Waivers)+1), Name: "Waivers", StyleName: "TableStyleLight9"})
}

// ---- Changes ------------------------------------------------------------------

var changesHeader = []string{"change", "fingerprint", "check_id", "account_id", "account_name", "region", "service",
	"resource_type", "resource_id", "resource_arn", "old_status", "new_status", "old_severity", "new_severity", "message", "reason"}

func (b *workbook) changes() error {
	d := b.in.Diff
	sw, err := b.f.NewStreamWriter(sheetChanges)
	if err != nil {
		return err
	}
	if err := streamWidths(sw, 24, 34, 30, 14, 16, 13, 12, 24, 30, 50, 11, 11, 12, 12, 60, 40); err != nil {
		return err
	}
	row := 1
	put := func(vals ...any) error {
		err := sw.SetRow(cellName(1, row), vals)
		row++
		return err
	}
	label := func(s string) excelize.Cell { return excelize.Cell{Value: s, StyleID: b.st.label} }
	if err := put(excelize.Cell{Value: "Changes since the baseline scan", StyleID: b.st.title}); err != nil {
		return err
	}
	row++
	window := time.Duration(d.Context.WindowSeconds) * time.Second
	facts := [][2]string{
		{"Old scan (baseline)", d.Context.Old.ID},
		{"Old scan started (UTC)", rfc3339UTC(d.Context.Old.StartedAt)},
		{"Old scan finished (UTC)", rfc3339UTC(d.Context.Old.FinishedAt)},
		{"Old scan tool version", d.Context.Old.ToolVersion},
		{"New scan", d.Context.New.ID},
		{"New scan started (UTC)", rfc3339UTC(d.Context.New.StartedAt)},
		{"New scan finished (UTC)", rfc3339UTC(d.Context.New.FinishedAt)},
		{"New scan tool version", d.Context.New.ToolVersion},
		{"Window (old finish to new finish)", fmt.Sprintf("%s (%d seconds)", window, d.Context.WindowSeconds)},
		{"New findings", itoa(len(d.New))},
		{"Resolved", itoa(len(d.Resolved))},
		{"Changed", itoa(len(d.Changed))},
		{"Not observed (not covered by the new scan: never resolved)", itoa(len(d.NotObserved))},
		{"Unchanged", itoa(d.UnchangedCount)},
	}
	for _, kv := range facts {
		if err := put(label(kv[0]), b.cell(kv[1])); err != nil {
			return err
		}
	}
	if len(d.Context.Warnings) == 0 {
		if err := put(label("Warnings"), "none: the two scans are comparable in scope, checks, thresholds and catalogues"); err != nil {
			return err
		}
	}
	for _, w := range d.Context.Warnings {
		if err := put(label("Warning"), b.cell(w)); err != nil {
			return err
		}
	}
	row++
	if err := put(excelize.Cell{Value: "Findings that changed", StyleID: b.st.section}); err != nil {
		return err
	}
	headerRow := row
	if err := put(b.streamHeader(changesHeader...)...); err != nil {
		return err
	}
	for _, cat := range []struct {
		name    string
		entries []model.DiffEntry
	}{{"new", d.New}, {"resolved", d.Resolved}, {"changed", d.Changed}, {"not_observed", d.NotObserved}} {
		for _, e := range cat.entries {
			if err := put(cat.name, b.cell(e.Fingerprint), b.cell(e.CheckID), b.cell(e.AccountID), b.cell(e.AccountName),
				b.cell(e.Region), b.cell(e.Service), b.cell(e.ResourceType), b.cell(e.ResourceID), b.cell(e.ResourceARN),
				b.cell(string(e.OldStatus)), b.cell(string(e.NewStatus)), b.cell(string(e.OldSeverity)),
				b.cell(string(e.NewSeverity)), b.cell(e.Message), b.cell(e.Reason)); err != nil {
				return err
			}
		}
	}
	if row-1 == headerRow {
		if err := put("none"); err != nil {
			return err
		}
	}
	if err := sw.AddTable(&excelize.Table{
		Range: cellName(1, headerRow) + ":" + cellName(len(changesHeader), row-1), Name: "Changes", StyleName: "TableStyleLight9",
	}); err != nil {
		return err
	}
	row++
	if err := put(excelize.Cell{Value: "Controls whose status changed", StyleID: b.st.section}); err != nil {
		return err
	}
	if err := put(b.streamHeader("framework", "control_id", "title", "old", "new")...); err != nil {
		return err
	}
	changed := 0
	for _, fw := range d.Controls {
		for _, c := range fw.Changes {
			changed++
			if err := put(b.cell(fw.Framework), b.cell(c.ControlID), b.cell(c.Title),
				excelize.Cell{Value: string(c.Old), StyleID: b.st.status[string(c.Old)]},
				excelize.Cell{Value: string(c.New), StyleID: b.st.status[string(c.New)]}); err != nil {
				return err
			}
		}
	}
	if changed == 0 {
		if err := put("none"); err != nil {
			return err
		}
	}
	row++
	if err := put(excelize.Cell{Value: "Control transitions (number of controls by old and new status)", StyleID: b.st.section}); err != nil {
		return err
	}
	if err := put(b.streamHeader("framework", "old", "new", "controls")...); err != nil {
		return err
	}
	for _, fw := range d.Controls {
		for _, from := range sortedStates(fw.Transitions) {
			for _, to := range sortedStates(fw.Transitions[from]) {
				if err := put(b.cell(fw.Framework), string(from), string(to), fw.Transitions[from][to]); err != nil {
					return err
				}
			}
		}
	}
	return sw.Flush()
}

// sortedStates returns the keys of m, worst state first (unknown states
// after, by name).
func sortedStates[V any](m map[model.ControlState]V) []model.ControlState {
	rank := func(s model.ControlState) int {
		if i := slices.Index(model.ControlStates(), s); i >= 0 {
			return i
		}
		return len(model.ControlStates())
	}
	keys := make([]model.ControlState, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}

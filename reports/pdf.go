package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/posture-dev/posture/internal/model"
)

// PDF writes report-<framework>.pdf: one report per framework of the scan,
// for an auditor. Each is rendered from the Input alone (dates are the
// scan's finish time), so the same scan gives the same bytes.
type PDF struct{}

// pdfRowBudget is how many rows of one population (a control's results, the
// exceptions, the changes) a report prints; the whole population is in
// findings.csv and evidence.xlsx.
const pdfRowBudget = 200

// pdfScopeBudget is how many coverage scopes the reconciliation table prints.
const pdfScopeBudget = 400

// Format implements Writer.
func (PDF) Format() string { return "pdf" }

// FileName is the report of one framework: report-<framework id>.pdf.
func (PDF) FileName(framework string) string {
	var b strings.Builder
	for _, r := range framework {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return "report-" + b.String() + ".pdf"
}

// Files implements Writer: one file per framework of the scan. The SHA-256
// of scan.json printed on each cover is computed once for all of them.
func (p PDF) Files(in Input) []File {
	if in.Scan == nil {
		return nil
	}
	hash := sync.OnceValues(in.scanHash)
	var files []File
	for _, fw := range pdfFrameworks(in.Scan) {
		files = append(files, File{Name: p.FileName(fw.ID), Render: func(w io.Writer) error {
			sum, err := hash()
			if err != nil {
				return err
			}
			return p.Write(w, in, fw, sum)
		}})
	}
	return files
}

// scanSHA256 is the SHA-256 of the scan's scan.json: the bytes of the JSON
// writer, so it equals the file's hash (a test holds the two together).
func scanSHA256(scan *model.Scan) (string, error) {
	h := sha256.New()
	if err := writeScanJSON(h, scan); err != nil {
		return "", fmt.Errorf("hash scan.json: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// resultsKey is where the results array sits in JSON{}.Write's output: a
// top-level key, so at an indent of two spaces after a newline, which no
// JSON string can contain.
const resultsKey = "\n  \"results\": ["

// writeScanJSON writes what JSON{}.Write writes, without holding the whole
// document in memory: the encoder indents a value only once it has
// encoded all of it (hundreds of MB for 100,000 results), so the document
// is written around an empty results array and the results are encoded
// one at a time at their depth.
func writeScanJSON(w io.Writer, scan *model.Scan) error {
	if len(scan.Results) == 0 {
		return (JSON{}).Write(w, scan)
	}
	shell := *scan
	shell.Results = []model.Result{}
	var doc bytes.Buffer
	if err := (JSON{}).Write(&doc, &shell); err != nil {
		return err
	}
	at := bytes.Index(doc.Bytes(), []byte(resultsKey+"]"))
	if at < 0 {
		return fmt.Errorf("scan.json has no results array")
	}
	at += len(resultsKey)
	if _, err := w.Write(doc.Bytes()[:at]); err != nil {
		return err
	}
	// Each result is encoded compact and indented by appendIndented, as
	// the encoder with SetIndent("    ", "  ") would, only faster; pieces of
	// the results are encoded on every processor and written in order.
	err := inOrder(len(scan.Results), resultsPerPiece, newResultEncoder, func(e *resultEncoder, buf []byte, from, to int) ([]byte, error) {
		for i := from; i < to; i++ {
			e.compact.Reset()
			if err := e.enc.Encode(&scan.Results[i]); err != nil {
				return buf, err
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, "\n    "...)
			buf = appendIndented(buf, bytes.TrimSuffix(e.compact.Bytes(), []byte("\n")), "    ", "  ")
		}
		return buf, nil
	}, w)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n  "); err != nil {
		return err
	}
	_, err = w.Write(doc.Bytes()[at:])
	return err
}

// resultsPerPiece is how many results writeScanJSON encodes at a time.
const resultsPerPiece = 256

// resultEncoder encodes results compact for writeScanJSON.
type resultEncoder struct {
	compact bytes.Buffer
	enc     *json.Encoder
}

func newResultEncoder() *resultEncoder {
	e := &resultEncoder{}
	e.enc = json.NewEncoder(&e.compact)
	e.enc.SetEscapeHTML(false)
	return e
}

// pdfFrameworks are the scan's frameworks; a scan.json written before
// frameworks were recorded names them by the IDs of its controls.
func pdfFrameworks(scan *model.Scan) []model.Framework {
	if len(scan.Frameworks) > 0 {
		return scan.Frameworks
	}
	var out []model.Framework
	seen := map[string]bool{}
	for _, c := range scan.Controls {
		if !seen[c.Framework] {
			seen[c.Framework] = true
			out = append(out, model.Framework{ID: c.Framework, Name: c.Framework})
		}
	}
	return out
}

// Write renders the report of one framework. scanHash is the SHA-256 of
// the scan's scan.json.
func (PDF) Write(w io.Writer, in Input, fw model.Framework, scanHash string) error {
	g, err := fontGlyphs()
	if err != nil {
		return fmt.Errorf("pdf font: %w", err)
	}
	r := newPDFReport(in, fw, scanHash)
	d := newPDFDoc(g, r)
	r.cover(d)
	r.scopeAndMethod(d)
	r.completeness(d)
	r.executiveSummary(d)
	r.controlMatrix(d)
	r.controlSections(d)
	r.exceptions(d)
	if in.Diff != nil {
		r.changes(d)
	}
	r.appendix(d)
	if err := d.f.Error(); err != nil {
		return fmt.Errorf("render %s: %w", PDF{}.FileName(fw.ID), err)
	}
	// Output closes the document; buffer it so that a write error is ours.
	var buf bytes.Buffer
	if err := d.f.Output(&buf); err != nil {
		return fmt.Errorf("render %s: %w", PDF{}.FileName(fw.ID), err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func newPDFDoc(g *glyphSet, r *pdfReport) *pdfDoc {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(pdfMargin, pdfTopMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfBottom)
	f.AliasNbPages(aliasPages)
	f.AddUTF8FontFromBytes(pdfFont, "", fontRegular)
	f.AddUTF8FontFromBytes(pdfFont, "B", fontBold)
	finished := r.scan.Scan.FinishedAt.UTC()
	if finished.IsZero() {
		// fpdf would stamp a zero date with the clock; never the clock.
		finished = time.Unix(0, 0).UTC()
	}
	f.SetCreationDate(finished)
	f.SetModificationDate(finished)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	tool := strings.TrimSpace(r.scan.Tool.Name + " " + r.scan.Tool.Version)
	f.SetTitle(drawable(g, r.fwTitle()+": compliance evidence report, scan "+r.scan.Scan.ID), true)
	f.SetSubject(drawable(g, "Evidence for "+r.fwTitle()+" from the posture scan "+r.scan.Scan.ID), true)
	f.SetAuthor(drawable(g, tool), true)
	f.SetCreator(drawable(g, tool), true)
	f.SetLang("en")
	w, h := f.GetPageSize()
	d := &pdfDoc{f: f, glyphs: g, pageW: w, pageH: h, width: w - 2*pdfMargin}
	name := PDF{}.FileName(r.fw.ID)
	f.SetHeaderFuncMode(func() {
		if f.PageNo() == 1 {
			return
		}
		d.font(false, 7)
		d.setColour(colMuted)
		f.SetXY(pdfMargin, 8)
		f.CellFormat(d.width, 4, d.text(r.fwTitle()), "", 0, "L", false, 0, "")
		f.SetXY(pdfMargin, 8)
		f.CellFormat(d.width, 4, d.text("scan "+r.scan.Scan.ID), "", 0, "R", false, 0, "")
		d.setDraw(colRule)
		f.Line(pdfMargin, 12.5, pdfMargin+d.width, 12.5)
		d.setColour(colText)
		d.font(false, pdfBodySize)
	}, true)
	f.SetFooterFunc(func() {
		d.font(false, 7)
		d.setColour(colMuted)
		f.SetXY(pdfMargin, h-11)
		f.CellFormat(d.width/2, 4, d.text(name+" · "+tool), "", 0, "L", false, 0, "")
		f.SetXY(pdfMargin+d.width/2, h-11)
		f.CellFormat(d.width/2, 4, fmt.Sprintf("Page %d of %s", f.PageNo(), aliasPages), "", 0, "R", false, 0, "")
		d.setColour(colText)
	})
	return d
}

// aliasPages is replaced by the page count when the document is closed,
// and tocAlias(n) by the first page of section n. They hold a control
// character, which drawable never lets through from the scan's text, so a
// resource name cannot be mistaken for them.
const aliasPages = "\x01nb\x01"

func tocAlias(n int) string { return fmt.Sprintf("\x01toc%d\x01", n) }

// pdfReport is what one framework's report is drawn from.
type pdfReport struct {
	scan     *model.Scan
	diff     *model.Diff
	fw       model.Framework
	scanHash string
	// controls are the framework's controls, in the scan's order.
	controls []model.ControlStatus
	// checks are the checks that are evidence for a control of the framework.
	checks map[string]bool
	// population indexes the results of those checks in report order:
	// failures first, then errors, muted and passes, worst severity first.
	population []int
	coverage   map[scopeKey]model.Coverage
	catalogue  map[string]model.CheckInfo
	waivers    map[string]model.Waiver
	section    int
}

type scopeKey struct{ account, region, service string }

var resultOrder = map[model.Status]int{model.StatusFail: 0, model.StatusError: 1, model.StatusMuted: 2, model.StatusPass: 3}

func newPDFReport(in Input, fw model.Framework, scanHash string) *pdfReport {
	scan := in.Scan
	r := &pdfReport{scan: scan, diff: in.Diff, fw: fw, scanHash: scanHash, checks: map[string]bool{},
		coverage: map[scopeKey]model.Coverage{}, catalogue: map[string]model.CheckInfo{}, waivers: map[string]model.Waiver{}}
	for _, c := range scan.Controls {
		if c.Framework == fw.ID {
			r.controls = append(r.controls, c)
			for _, id := range c.Checks {
				r.checks[id] = true
			}
		}
	}
	for i, res := range scan.Results {
		if r.checks[res.CheckID] {
			r.population = append(r.population, i)
		}
	}
	results := scan.Results
	sort.SliceStable(r.population, func(i, j int) bool {
		a, b := &results[r.population[i]], &results[r.population[j]]
		if resultOrder[a.Status] != resultOrder[b.Status] {
			return resultOrder[a.Status] < resultOrder[b.Status]
		}
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
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
		return a.ResourceID < b.ResourceID
	})
	for _, c := range scan.Coverage {
		r.coverage[scopeKey{c.AccountID, c.Region, c.Service}] = c
	}
	for _, c := range scan.Catalogue {
		r.catalogue[c.ID] = c
	}
	for _, w := range scan.Waivers {
		r.waivers[w.ID] = w
	}
	return r
}

func (r *pdfReport) fwTitle() string {
	t := r.fw.Name
	if t == "" {
		t = r.fw.ID
	}
	if r.fw.Version != "" {
		t += " " + r.fw.Version
	}
	return t
}

// heading starts the next numbered section.
func (r *pdfReport) heading(d *pdfDoc, title string) {
	r.section++
	d.section(fmt.Sprintf("%d. %s", r.section, title))
	d.f.RegisterAlias(tocAlias(r.section), strconv.Itoa(d.f.PageNo()))
}

// sectionTitles are the titles of the sections after the cover, in order.
func (r *pdfReport) sectionTitles() []string {
	titles := []string{"Scope and method", "Completeness statement", "Executive summary", "Control matrix",
		"Tested population per control", "Exceptions"}
	if r.diff != nil {
		titles = append(titles, "Changes since the previous scan")
	}
	return append(titles, "Appendix")
}

// contents lists the sections with the page each starts on.
func (r *pdfReport) contents(d *pdfDoc) {
	d.f.Ln(4)
	d.font(true, 10)
	d.setColour(colAccent)
	d.f.CellFormat(0, 6, "Contents", "", 1, "L", false, 0, "")
	d.font(false, 9)
	d.setColour(colText)
	for i, t := range r.sectionTitles() {
		d.f.SetX(pdfMargin)
		d.f.CellFormat(90, 5, fmt.Sprintf("%d. %s", i+2, t), "", 0, "L", false, 0, "")
		d.f.CellFormat(30, 5, "page "+tocAlias(i+2), "", 1, "L", false, 0, "")
	}
}

// checkList is the framework's checks, sorted.
func (r *pdfReport) checkList() []string {
	out := make([]string, 0, len(r.checks))
	for id := range r.checks {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (r *pdfReport) accountName(id string) string {
	return r.scan.Scan.AccountNames[id]
}

// accountLabel is "ID (name)", or the ID alone when the name is unknown.
func (r *pdfReport) accountLabel(id string) string {
	if n := r.accountName(id); n != "" {
		return id + " (" + n + ")"
	}
	return id
}

// accountCell is the account ID with its name on a second line.
func (r *pdfReport) accountCell(res *model.Result) string {
	name := res.AccountName
	if name == "" {
		name = r.accountName(res.AccountID)
	}
	if name != "" {
		return res.AccountID + "\n" + name
	}
	return res.AccountID
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// num writes n with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return num(n) + " " + one
	}
	return num(n) + " " + many
}

func percent(n, d int) int {
	if d == 0 {
		return 0
	}
	return n * 100 / d
}

// gapCodes lists the distinct error codes of a coverage gap's failures.
func gapCodes(c model.Coverage) []string {
	var codes []string
	seen := map[string]bool{}
	for _, f := range c.Failures {
		code := f.Code
		if code == "" {
			code = "no error code"
		}
		if !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		codes = append(codes, "no error code")
	}
	return codes
}

// completenessStatement is the cover's banner text and whether the scan is
// complete.
func (r *pdfReport) completenessStatement() (string, bool) {
	gaps := r.scan.Gaps()
	cancelled := r.scan.Scan.Cancelled
	if len(gaps) == 0 && !cancelled {
		return "Complete: every requested scope was collected", true
	}
	var s string
	switch {
	case len(gaps) > 0 && cancelled:
		s = fmt.Sprintf("INCOMPLETE: %s could not be collected; the scan was cancelled", plural(len(gaps), "scope", "scopes"))
	case len(gaps) > 0:
		s = fmt.Sprintf("INCOMPLETE: %s could not be collected", plural(len(gaps), "scope", "scopes"))
	default:
		s = "INCOMPLETE: the scan was cancelled"
	}
	byCode := map[string]int{}
	for _, g := range gaps {
		byCode[gapCodes(g)[0]]++
	}
	if len(byCode) > 0 {
		codes := make([]string, 0, len(byCode))
		for c := range byCode {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			if byCode[codes[i]] != byCode[codes[j]] {
				return byCode[codes[i]] > byCode[codes[j]]
			}
			return codes[i] < codes[j]
		})
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = fmt.Sprintf("%s %s", num(byCode[c]), c)
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s, false
}

func (r *pdfReport) cover(d *pdfDoc) {
	f := d.f
	r.section = 1
	f.AddPage()
	f.Bookmark("1. Cover", 0, -1)
	d.font(false, 10)
	d.setColour(colMuted)
	f.CellFormat(0, 6, "Compliance evidence report", "", 1, "L", false, 0, "")
	f.Ln(2)
	d.font(true, 22)
	d.setColour(colAccent)
	name := r.fw.Name
	if name == "" {
		name = r.fw.ID
	}
	f.MultiCell(0, 9.5, d.text(name), "", "L", false)
	d.font(false, 12)
	d.setColour(colText)
	var sub []string
	if r.fw.Version != "" {
		sub = append(sub, "Version "+r.fw.Version)
	}
	if r.fw.Publisher != "" {
		sub = append(sub, "published by "+r.fw.Publisher)
	}
	if len(sub) > 0 {
		f.MultiCell(0, 6, d.text(strings.Join(sub, ", ")), "", "L", false)
	}
	d.font(false, 8)
	d.setColour(colMuted)
	var about []string
	about = append(about, "Framework ID "+r.fw.ID)
	if r.fw.Source != "" {
		about = append(about, "catalogue "+r.fw.Source)
	}
	if r.fw.URL != "" {
		about = append(about, r.fw.URL)
	}
	f.MultiCell(0, 4, d.text(strings.Join(about, " · ")), "", "L", false)
	if r.fw.Scope != "" {
		f.MultiCell(0, 4, d.text("Catalogue scope: "+r.fw.Scope), "", "L", false)
	}
	f.Ln(5)

	statement, complete := r.completenessStatement()
	if complete {
		d.banner(statement, rgb{223, 240, 216}, rgb{40, 100, 50}, 12)
	} else {
		d.banner(statement, rgb{200, 40, 40}, rgb{255, 255, 255}, 13)
		d.para("Evidence from the scopes that were not collected is missing: the controls that depend on it are ERROR (not tested), never PASS. Section 3 names every gap with its error code.")
	}

	info := r.scan.Scan
	accounts := make([]string, 0, len(info.Accounts))
	for i, a := range info.Accounts {
		if i == 12 {
			accounts = append(accounts, fmt.Sprintf("and %s more (section 2)", num(len(info.Accounts)-12)))
			break
		}
		accounts = append(accounts, r.accountLabel(a))
	}
	regions := strings.Join(info.Regions, ", ")
	if len(info.RequestedRegions) > 0 {
		regions += " (requested: " + strings.Join(info.RequestedRegions, ", ") + ")"
	}
	tool := strings.TrimSpace(r.scan.Tool.Name + " " + r.scan.Tool.Version)
	principal := info.Principal
	if principal == "" {
		principal = "not recorded"
	}
	evaluated, passing := 0, 0
	for _, c := range r.controls {
		if c.Status.Evaluated() {
			evaluated++
		}
		if c.Status == model.ControlPass {
			passing++
		}
	}
	pairs := [][2]string{
		{"Scan ID", info.ID},
		{"Started", utc(info.StartedAt)},
		{"Finished", utc(info.FinishedAt)},
		{"Duration", info.FinishedAt.Sub(info.StartedAt).Round(time.Second).String()},
		{"Accounts", plural(len(info.Accounts), "account", "accounts") + ": " + strings.Join(accounts, ", ")},
		{"Regions", plural(len(info.Regions), "region", "regions") + ": " + regions},
		{"Generated by", tool},
		{"Run by", principal},
		{"scan.json SHA-256", r.scanHash},
		{"Controls", fmt.Sprintf("%s of %s evaluated controls PASS; %s controls in the catalogue (%d MANUAL)",
			num(passing), num(evaluated), num(len(r.controls)), r.countState(model.ControlManual))},
	}
	if b := info.Baseline; b != nil {
		pairs = append(pairs, [2]string{"Compared with", fmt.Sprintf("scan %s (finished %s)", b.ID, utc(b.FinishedAt))})
	}
	d.facts(38, pairs)
	d.note("The SHA-256 is that of scan.json in this evidence package (this report is rendered from it and from nothing else); compare it with SHA256SUMS and manifest.json, or run `posture verify DIR`. Times are UTC. The report's own dates are the scan's finish time, so rendering the same scan again gives the same file.")
	r.contents(d)
}

func (r *pdfReport) countState(s model.ControlState) int {
	n := 0
	for _, c := range r.controls {
		if c.Status == s {
			n++
		}
	}
	return n
}

func (r *pdfReport) scopeAndMethod(d *pdfDoc) {
	info := r.scan.Scan
	r.heading(d, "Scope and method")

	d.subheading("Accounts", 1)
	type acct struct{ scopes, gaps int }
	perAccount := map[string]*acct{}
	for _, c := range r.scan.Coverage {
		a := perAccount[c.AccountID]
		if a == nil {
			a = &acct{}
			perAccount[c.AccountID] = a
		}
		a.scopes++
		if c.Status != model.CoverageOK {
			a.gaps++
		}
	}
	d.para(fmt.Sprintf("The scan covered %s.", plural(len(info.Accounts), "account", "accounts")))
	var rows [][]string
	for _, id := range info.Accounts {
		a := perAccount[id]
		if a == nil {
			a = &acct{}
		}
		rows = append(rows, []string{id, r.accountName(id), num(a.scopes), num(a.gaps)})
	}
	d.table(table{caption: "Accounts", cols: []column{
		{title: "Account ID", width: 40}, {title: "Name", width: 80},
		{title: "Scopes", width: 30, align: "R"}, {title: "Gaps", width: 30, align: "R"}}}, rows)

	d.subheading("Regions", 1)
	requested := "all enabled regions"
	if len(info.RequestedRegions) > 0 {
		requested = strings.Join(info.RequestedRegions, ", ")
	}
	d.facts(38, [][2]string{
		{"Requested", requested},
		{"Scanned", fmt.Sprintf("%s: %s", plural(len(info.Regions), "region", "regions"), strings.Join(info.Regions, ", "))},
	})
	d.note("A requested region that an account has not enabled is a coverage gap of that account (code RegionNotEnabled, section 3), not a silent omission.")

	d.subheading("Checks run", 1)
	ran := map[string]bool{}
	for _, id := range info.Checks {
		ran[id] = true
	}
	var evidence, notRun []string
	for _, id := range r.checkList() {
		if ran[id] {
			evidence = append(evidence, id)
		} else {
			notRun = append(notRun, id)
		}
	}
	d.para(fmt.Sprintf("%s ran; %s of them are evidence for controls of this framework.", plural(len(info.Checks), "check", "checks"), num(len(evidence))))
	d.facts(38, [][2]string{{"Checks run", strings.Join(info.Checks, ", ")}})
	if len(notRun) > 0 {
		d.facts(38, [][2]string{{"Not run", strings.Join(notRun, ", ")}})
		d.note("These checks are evidence for controls of this framework but were not selected in this scan (--checks / --exclude-checks); the controls that depend on them say so in their notes.")
	}

	d.subheading("Thresholds and configuration", 1)
	keys := make([]string, 0, len(info.Thresholds))
	for k := range info.Thresholds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs [][2]string
	for _, k := range keys {
		pairs = append(pairs, [2]string{k, strconv.Itoa(info.Thresholds[k])})
	}
	if len(pairs) == 0 {
		d.para("No thresholds were recorded.")
	} else {
		d.facts(70, pairs)
	}
	config := "none: built-in thresholds, no waivers"
	if info.ConfigFile != "" {
		config = info.ConfigFile
	}
	configHash := info.ConfigSHA256
	if configHash == "" {
		configHash = "-"
	}
	invocation := info.Invocation
	if invocation == "" {
		invocation = "not recorded"
	}
	d.facts(38, [][2]string{{"Config file", config}, {"Config SHA-256", configHash}, {"Invocation", invocation}})

	d.subheading("Method: read-only", 1)
	d.para("The scanner only reads. Every AWS client it builds carries a guard that refuses, before the request leaves the process, any operation other than Describe, List and Get calls, GenerateCredentialReport and sts:AssumeRole; reads that return secrets or content (GetSecretValue, GetObject, GetParameter, GetPasswordData) are refused too. Secret values, objects and private keys are never read: secrets and certificates are judged from their metadata.")
	d.para("Each account is reached with the caller's credentials or through sts:AssumeRole of a read-only role. Every scope (account, region, service) that cannot be collected is recorded as a coverage gap with the AWS error code, and the checks over its data report ERROR there (section 3). The calls made, per service (the AWS managed policy SecurityAudit covers them all):")
	var prow [][]string
	for _, p := range Permissions() {
		prow = append(prow, []string{p.Service, p.Calls})
	}
	d.table(table{caption: "IAM permissions used", cols: []column{{title: "Service", width: 35}, {title: "Calls", width: 145}}}, prow)
}

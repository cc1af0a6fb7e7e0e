package reports

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/posture-dev/posture/internal/model"
)

// XLSX writes evidence.xlsx, the auditor's workbook: About, Summary (with
// charts), one Controls sheet per framework, Findings (the whole population
// of results), Coverage (the reconciliation of the population and every
// gap), Checks (the catalogue), and, when present, Waivers (the exception
// register) and Changes (the diff with the baseline scan).
//
// The workbook is a function of Input alone: its document dates are the
// scan's finish time, its zip entries carry that time too and are written in
// name order, so a re-render of the same scan gives the same bytes.
type XLSX struct{}

// Format implements Writer.
func (XLSX) Format() string { return "xlsx" }

// FileName is the file the format is written to.
func (XLSX) FileName() string { return "evidence.xlsx" }

// Files implements Writer.
func (x XLSX) Files(in Input) []File {
	return []File{{Name: x.FileName(), Render: func(w io.Writer) error { return x.Write(w, in) }}}
}

// Sheet names of the workbook (the Controls sheets are named by
// controlSheetNames).
const (
	sheetAbout    = "About"
	sheetSummary  = "Summary"
	sheetFindings = "Findings"
	sheetCoverage = "Coverage"
	sheetChecks   = "Checks"
	sheetWaivers  = "Waivers"
	sheetChanges  = "Changes"
)

// findingsHeader is the header row of the Findings sheet (and of its table).
var findingsHeader = []string{
	"result_index", "check_id", "check_title", "status", "severity", "family", "account_id", "account_name",
	"region", "service", "resource_type", "resource_id", "resource_arn", "message", "evidence",
	"controls", "waiver_id", "first_seen", "fingerprint",
}

// Write renders in as evidence.xlsx.
func (XLSX) Write(w io.Writer, in Input) error {
	if in.Scan == nil {
		return errors.New("xlsx: no scan to render")
	}
	// Hashing scan.json is as much work as a sheet: do it beside them.
	sha := make(chan shaResult, 1)
	go func() {
		sum, err := in.scanHash()
		sha <- shaResult{sum, err}
	}()
	b, err := newWorkbook(in)
	if err != nil {
		<-sha
		return fmt.Errorf("xlsx: %w", err)
	}
	b.sha = sha
	defer b.f.Close()
	if err := b.build(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	// excelize writes its parts through b.zip; the buffer it returns stays
	// empty.
	if _, err := b.f.WriteToBuffer(); err != nil {
		return fmt.Errorf("xlsx: write workbook: %w", err)
	}
	if err := b.zip.writeTo(w, in.Scan.Scan.FinishedAt); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// workbook holds the file being built and what the sheets share: the order
// of the Findings rows, so that the other sheets can link into it.
type workbook struct {
	in   Input
	scan *model.Scan
	f    *excelize.File
	st   xlsxStyles

	frameworks   []model.Framework
	controlsOf   map[string][]model.ControlStatus // framework ID -> its controls, in scan order
	controlSheet map[string]string                // framework ID -> sheet name

	// order lists the indexes of scan.Results in Findings order: grouped by
	// check ID, the scan's order within a check.
	order     []int
	checkRows map[string][2]int // check ID -> first and last Findings row
	waiverRow map[string]int    // waiver ID -> first Findings row it muted
	titles    map[string]string // check ID -> title, from the catalogue

	sha <-chan shaResult // the SHA-256 of scan.json, computed beside the sheets
	zip *canonicalZip
}

type shaResult struct {
	sum string
	err error
}

type xlsxStyles struct {
	title, section, label, header, wrap, link, percent, quote, quoteWrap int
	status                                                               map[string]int
}

func newWorkbook(in Input) (*workbook, error) {
	f := excelize.NewFile()
	z := &canonicalZip{}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return z })
	b := &workbook{in: in, scan: in.Scan, f: f, zip: z,
		controlsOf: map[string][]model.ControlStatus{}, checkRows: map[string][2]int{},
		waiverRow: map[string]int{}, titles: map[string]string{}}
	if err := b.newStyles(); err != nil {
		b.f.Close()
		return nil, err
	}
	b.frameworks = scanFrameworks(b.scan)
	for _, c := range b.scan.Controls {
		b.controlsOf[c.Framework] = append(b.controlsOf[c.Framework], c)
	}
	ids := make([]string, len(b.frameworks))
	for i, fw := range b.frameworks {
		ids[i] = fw.ID
	}
	b.controlSheet = controlSheetNames(ids)
	for _, c := range b.scan.Catalogue {
		b.titles[c.ID] = c.Title
	}

	results := b.scan.Results
	b.order = make([]int, len(results))
	for i := range b.order {
		b.order[i] = i
	}
	slices.SortStableFunc(b.order, func(i, j int) int { return strings.Compare(results[i].CheckID, results[j].CheckID) })
	for k, i := range b.order {
		row := k + 2
		r := &results[i]
		span, ok := b.checkRows[r.CheckID]
		if !ok {
			span[0] = row
		}
		span[1] = row
		b.checkRows[r.CheckID] = span
		if r.WaiverID != "" {
			if _, ok := b.waiverRow[r.WaiverID]; !ok {
				b.waiverRow[r.WaiverID] = row
			}
		}
	}
	return b, nil
}

// scanFrameworks lists the frameworks of the scan: scan.Frameworks in their
// order, then any framework that only appears in scan.Controls (a scan.json
// written before frameworks were recorded), in order of first appearance.
func scanFrameworks(scan *model.Scan) []model.Framework {
	out := append([]model.Framework{}, scan.Frameworks...)
	seen := map[string]bool{}
	for _, fw := range out {
		seen[fw.ID] = true
	}
	for _, c := range scan.Controls {
		if !seen[c.Framework] {
			seen[c.Framework] = true
			out = append(out, model.Framework{ID: c.Framework, Name: c.Framework})
		}
	}
	return out
}

// controlSheetNames names one sheet per framework, "Controls - <id>": at
// most 31 characters (UTF-16 units, as Excel counts), none of []:*?/\, no
// leading or trailing apostrophe, and unique ignoring letter case (as Excel
// compares sheet names). A name that would collide gets " (2)", " (3)", ...
// in framework order, so the names are deterministic.
func controlSheetNames(ids []string) map[string]string {
	taken := map[string]bool{}
	for _, s := range []string{sheetAbout, sheetSummary, sheetFindings, sheetCoverage, sheetChecks, sheetWaivers, sheetChanges} {
		taken[strings.ToLower(s)] = true
	}
	out := map[string]string{}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		clean := strings.Map(func(r rune) rune {
			if strings.ContainsRune(`[]:*?/\`, r) || r < 0x20 {
				return '_'
			}
			return r
		}, id)
		base := "Controls - " + clean
		name := fitSheetName(base, "")
		for n := 2; taken[strings.ToLower(name)]; n++ {
			name = fitSheetName(base, fmt.Sprintf(" (%d)", n))
		}
		taken[strings.ToLower(name)] = true
		out[id] = name
	}
	return out
}

// fitSheetName cuts base so that base+suffix fits Excel's 31 UTF-16 units,
// and drops a trailing apostrophe.
func fitSheetName(base, suffix string) string {
	budget := excelize.MaxSheetNameLength - utf16Len(suffix)
	used := 0
	for i, r := range base {
		w := utf16RuneLen(r)
		if used+w > budget {
			base = base[:i]
			break
		}
		used += w
	}
	return strings.TrimRight(base, "' ") + suffix
}

func (b *workbook) newStyles() error {
	f := b.f
	var errs []error
	style := func(s *excelize.Style) int {
		id, err := f.NewStyle(s)
		errs = append(errs, err)
		return id
	}
	header := &excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
	}
	top := &excelize.Alignment{Vertical: "top", WrapText: true}
	b.st = xlsxStyles{
		title:     style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}),
		section:   style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12, Color: "1F3864"}}),
		label:     style(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}}),
		header:    style(header),
		wrap:      style(&excelize.Style{Alignment: top}),
		link:      style(&excelize.Style{Font: &excelize.Font{Color: "1265BE", Underline: "single"}}),
		percent:   style(&excelize.Style{NumFmt: 10}), // 0.00%
		quote:     style(&excelize.Style{NumFmt: 49}), // Text
		quoteWrap: style(&excelize.Style{NumFmt: 49, Alignment: top}),
		status:    map[string]int{},
	}
	// A cell whose text starts like a formula gets Excel's quote prefix (the
	// invisible apostrophe of a cell typed as '=x) on top of the Text number
	// format: it is shown and kept as text, also after it is edited.
	// excelize has no option for the attribute, but its style sheet is
	// exported, so the flag is set on the cell formats directly.
	if len(errs) > 0 && errors.Join(errs...) == nil && f.Styles != nil && f.Styles.CellXfs != nil {
		yes := true
		for _, id := range []int{b.st.quote, b.st.quoteWrap} {
			if id < len(f.Styles.CellXfs.Xf) {
				f.Styles.CellXfs.Xf[id].QuotePrefix = &yes
			}
		}
	}
	// Fill and font colours per status, in a fixed order: style IDs are
	// assigned in creation order and must not vary between renders.
	for _, s := range [][3]string{
		{"FAIL", "FFC7CE", "9C0006"}, {"ERROR", "F8CBAD", "843C0C"}, {"WAIVED", "FFEB9C", "7F6000"},
		{"MUTED", "FFEB9C", "7F6000"}, {"PASS", "C6EFCE", "006100"}, {"NOT_APPLICABLE", "EDEDED", "404040"},
		{"MANUAL", "DDEBF7", "1F3864"},
	} {
		b.st.status[s[0]] = style(&excelize.Style{
			Font: &excelize.Font{Bold: true, Color: s[2]},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{s[1]}},
		})
	}
	return errors.Join(errs...)
}

func (b *workbook) build() error {
	scan := b.scan
	if err := b.f.SetSheetName("Sheet1", sheetAbout); err != nil {
		return err
	}
	sheets := []string{sheetSummary}
	for _, fw := range b.frameworks {
		sheets = append(sheets, b.controlSheet[fw.ID])
	}
	sheets = append(sheets, sheetFindings, sheetCoverage, sheetChecks)
	if len(scan.Waivers) > 0 {
		sheets = append(sheets, sheetWaivers)
	}
	if b.in.Diff != nil {
		sheets = append(sheets, sheetChanges)
	}
	for _, s := range sheets {
		if _, err := b.f.NewSheet(s); err != nil {
			return fmt.Errorf("add sheet %q: %w", s, err)
		}
	}
	steps := []struct {
		sheet string
		fn    func() error
	}{
		{sheetSummary, b.summary},
		{sheetFindings, b.findings},
		{sheetCoverage, b.coverage},
		{sheetChecks, b.checks},
	}
	for i, fw := range b.frameworks {
		steps = append(steps, struct {
			sheet string
			fn    func() error
		}{b.controlSheet[fw.ID], func() error { return b.controls(i, fw) }})
	}
	if len(scan.Waivers) > 0 {
		steps = append(steps, struct {
			sheet string
			fn    func() error
		}{sheetWaivers, b.waivers})
	}
	if b.in.Diff != nil {
		steps = append(steps, struct {
			sheet string
			fn    func() error
		}{sheetChanges, b.changes})
	}
	// About waits for the hash of scan.json, so it is written last.
	steps = append(steps, struct {
		sheet string
		fn    func() error
	}{sheetAbout, b.about})
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return fmt.Errorf("sheet %s: %w", s.sheet, err)
		}
	}
	b.f.SetActiveSheet(0)
	// excelize adds the image content types of a drawing from a map, in
	// random order: sort them so that two renders agree.
	if ct := b.f.ContentTypes; ct != nil {
		sort.SliceStable(ct.Defaults, func(i, j int) bool { return ct.Defaults[i].Extension < ct.Defaults[j].Extension })
	}
	finished := scan.Scan.FinishedAt.UTC().Format(time.RFC3339)
	return b.f.SetDocProps(&excelize.DocProperties{
		Created:        finished,
		Modified:       finished,
		Creator:        scan.Tool.Name + " " + scan.Tool.Version,
		LastModifiedBy: scan.Tool.Name + " " + scan.Tool.Version,
		Title:          "Evidence workbook of scan " + scan.Scan.ID,
		Subject:        "AWS configuration evidence",
		Identifier:     scan.Scan.ID,
		Language:       "en-US",
	})
}

// ---- cell values ----------------------------------------------------------

// truncatedMarker is appended to a value cut to fit a cell.
const truncatedMarker = "… [truncated, %d chars; full value in scan.json]"

// clip cuts s to Excel's cell limit of 32,767 characters (UTF-16 units),
// ending it with a visible marker that gives the full length in characters.
func clip(s string) string {
	if len(s) <= excelize.TotalCellChars || utf16Len(s) <= excelize.TotalCellChars {
		return s
	}
	marker := fmt.Sprintf(truncatedMarker, utf8.RuneCountInString(s))
	budget := excelize.TotalCellChars - utf16Len(marker)
	used := 0
	for i, r := range s {
		w := utf16RuneLen(r)
		if used+w > budget {
			return s[:i] + marker
		}
		used += w
	}
	return s
}

func utf16RuneLen(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16RuneLen(r)
	}
	return n
}

// looksLikeFormula is neutraliseFormula's test: text that a spreadsheet
// would run as a formula when typed.
func looksLikeFormula(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}

// text is a string cell: clipped to the cell limit, stored as a string (never
// a formula), and given the quote-prefix style when it starts like a
// formula. style is the cell's style otherwise; wrap says which quote style
// keeps its wrapping.
func (b *workbook) text(s string, style int) excelize.Cell {
	s = clip(s)
	if looksLikeFormula(s) {
		if style == b.st.wrap {
			style = b.st.quoteWrap
		} else {
			style = b.st.quote
		}
	}
	return excelize.Cell{StyleID: style, Value: s}
}

// cell is text for a StreamWriter row: nil (no cell at all) when s is
// empty, else b.text(s, 0).
func (b *workbook) cell(s string) any {
	if s == "" {
		return nil
	}
	return b.text(s, 0)
}

// put writes one row of a (non-streamed) sheet from column A. A value is a
// string (written as text), an excelize.Cell (its value with its style) or
// a number.
func (b *workbook) put(sheet string, row int, values ...any) error {
	for i, v := range values {
		cell, err := excelize.CoordinatesToCellName(i+1, row)
		if err != nil {
			return err
		}
		c, ok := v.(excelize.Cell)
		if !ok {
			c = excelize.Cell{Value: v}
		}
		if s, ok := c.Value.(string); ok {
			c = b.text(s, c.StyleID)
			err = b.f.SetCellStr(sheet, cell, c.Value.(string))
		} else if c.Value != nil {
			err = b.f.SetCellValue(sheet, cell, c.Value)
		}
		if err == nil && c.StyleID != 0 {
			err = b.f.SetCellStyle(sheet, cell, cell, c.StyleID)
		}
		if err != nil {
			return fmt.Errorf("cell %s: %w", cell, err)
		}
	}
	return nil
}

// styled is a cell with a style.
func styled(v any, style int) excelize.Cell { return excelize.Cell{Value: v, StyleID: style} }

// headerRow writes names as a header row of a non-streamed sheet.
func (b *workbook) headerRow(sheet string, row int, names ...string) error {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = styled(n, b.st.header)
	}
	return b.put(sheet, row, vals...)
}

// streamHeader is a header row for a StreamWriter.
func (b *workbook) streamHeader(names ...string) []any {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = excelize.Cell{Value: n, StyleID: b.st.header}
	}
	return vals
}

// link makes cell an internal hyperlink to target ("Sheet!A1") showing
// display.
func (b *workbook) link(sheet, cell, target, display, tooltip string) error {
	if err := b.f.SetCellStr(sheet, cell, display); err != nil {
		return err
	}
	if err := b.f.SetCellHyperLink(sheet, cell, target, "Location", excelize.HyperlinkOpts{Display: &display, Tooltip: &tooltip}); err != nil {
		return err
	}
	return b.f.SetCellStyle(sheet, cell, cell, b.st.link)
}

// ref is a reference to a cell of a sheet, quoted as Excel wants it.
func ref(sheet string, col, row int) string {
	cell, _ := excelize.CoordinatesToCellName(col, row)
	return quoteSheet(sheet) + "!" + cell
}

func quoteSheet(sheet string) string {
	return "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
}

// absRange is an absolute reference to a block of a sheet, for charts.
func absRange(sheet string, col1, row1, col2, row2 int) string {
	a, _ := excelize.CoordinatesToCellName(col1, row1, true)
	z, _ := excelize.CoordinatesToCellName(col2, row2, true)
	if a == z {
		return quoteSheet(sheet) + "!" + a
	}
	return quoteSheet(sheet) + "!" + a + ":" + z
}

func (b *workbook) widths(sheet string, widths ...float64) error {
	for i, w := range widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := b.f.SetColWidth(sheet, col, col, w); err != nil {
			return err
		}
	}
	return nil
}

func streamWidths(sw *excelize.StreamWriter, widths ...float64) error {
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	return nil
}

// rfc3339UTC renders t in UTC as RFC 3339; empty for the zero time.
func rfc3339UTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (b *workbook) accountLabel(id string) string {
	if name := b.scan.Scan.AccountNames[id]; name != "" {
		return id + " (" + name + ")"
	}
	return id
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// canonicalZip is the excelize.ZipWriter of the workbook: it deflates each
// part into its own buffer, and writeTo then writes the parts in a fixed
// order ([Content_Types].xml first, then by name) with every modification
// time set to one instant. excelize writes the parts of streamed sheets in
// map order and would stamp nothing, so without it two renders of the same
// scan could differ in bytes.
type canonicalZip struct {
	parts []*zipPart
	cur   *zipPart
	fw    *flate.Writer
	err   error

	// rows writes the rows of the part named rowsPart, which excelize
	// streams with its header row alone (see spliceRows).
	rowsPart string
	rows     func(io.Writer) error
	rowsDone bool
}

type zipPart struct {
	name string
	data blockBuffer // deflated
	crc  hash.Hash32
	size uint64
	fw   *flate.Writer
	// held is the part as excelize writes it, while its rows are to be
	// inserted.
	held *bytes.Buffer
}

func (p *zipPart) Write(b []byte) (int, error) {
	if p.held != nil {
		return p.held.Write(b)
	}
	p.crc.Write(b)
	p.size += uint64(len(b))
	return p.fw.Write(b)
}

// Create implements excelize.ZipWriter.
func (z *canonicalZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	p := &zipPart{name: name, crc: crc32.NewIEEE()}
	if z.fw == nil {
		// Fast compression: a third of the time of the default level, for
		// a slightly larger file.
		fw, err := flate.NewWriter(&p.data, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		z.fw = fw
	} else {
		z.fw.Reset(&p.data)
	}
	p.fw = z.fw
	if name == z.rowsPart && z.rows != nil {
		if z.rowsDone {
			return nil, fmt.Errorf("archive entry %s written twice", name)
		}
		p.held = &bytes.Buffer{}
	}
	z.cur = p
	z.parts = append(z.parts, p)
	return p, nil
}

// AddFS implements excelize.ZipWriter; the workbook never adds a file system.
func (z *canonicalZip) AddFS(fs.FS) error { return errors.New("AddFS is not supported") }

// Close implements excelize.ZipWriter: it ends the last part.
func (z *canonicalZip) Close() error { return z.finish() }

func (z *canonicalZip) finish() error {
	if z.cur != nil {
		p := z.cur
		z.cur = nil
		if held := p.held; held != nil {
			p.held = nil
			z.rowsDone = true
			if err := spliceRows(p, held.Bytes(), z.rows); err != nil {
				return fmt.Errorf("archive entry %s: %w", p.name, err)
			}
		}
		if err := p.fw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// writeTo writes the archive to w, every entry modified at mod.
func (z *canonicalZip) writeTo(w io.Writer, mod time.Time) error {
	if err := z.finish(); err != nil {
		return err
	}
	if z.rows != nil && !z.rowsDone {
		return fmt.Errorf("archive entry %s was not written", z.rowsPart)
	}
	parts := append([]*zipPart{}, z.parts...)
	sort.Slice(parts, func(i, j int) bool {
		a, b := parts[i].name, parts[j].name
		if (a == "[Content_Types].xml") != (b == "[Content_Types].xml") {
			return a == "[Content_Types].xml"
		}
		return a < b
	})
	date, clock := msDosTime(mod.UTC())
	zw := zip.NewWriter(w)
	for i, p := range parts {
		if i > 0 && p.name == parts[i-1].name {
			return fmt.Errorf("archive entry %s written twice", p.name)
		}
		dst, err := zw.CreateRaw(&zip.FileHeader{
			Name:               p.name,
			Method:             zip.Deflate,
			CRC32:              p.crc.Sum32(),
			CompressedSize64:   uint64(p.data.size),
			UncompressedSize64: p.size,
			ModifiedDate:       date,
			ModifiedTime:       clock,
		})
		if err != nil {
			return fmt.Errorf("archive entry %s: %w", p.name, err)
		}
		for _, blk := range p.data.blocks {
			if _, err := dst.Write(blk); err != nil {
				return fmt.Errorf("archive entry %s: %w", p.name, err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("close workbook archive: %w", err)
	}
	return nil
}

// blockBuffer is a buffer of fixed-size blocks: unlike a bytes.Buffer it
// never copies what it holds to grow, which for the deflated Findings sheet
// (tens of MB) saves as much garbage again at the peak of memory.
type blockBuffer struct {
	blocks [][]byte
	size   int
}

const blockSize = 256 << 10

func (b *blockBuffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(b.blocks) == 0 || len(b.blocks[len(b.blocks)-1]) == blockSize {
			b.blocks = append(b.blocks, make([]byte, 0, min(blockSize, max(len(p), 4<<10))))
		}
		last := &b.blocks[len(b.blocks)-1]
		room := blockSize - len(*last)
		k := min(room, len(p))
		*last = append(*last, p[:k]...)
		p = p[k:]
		b.size += k
	}
	return n, nil
}

// msDosTime converts t to the MS-DOS date and time of a zip header (2 s
// resolution, years 1980-2107).
func msDosTime(t time.Time) (date, clock uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}

// ---- helpers shared by the sheets ------------------------------------------

// checkControls maps each check to the controls it is evidence for
// ("<framework>:<control>"), from the controls' Checks lists, in framework
// then control order.
func checkControls(scan *model.Scan) map[string][]string {
	out := map[string][]string{}
	for _, c := range scan.Controls {
		key := c.Framework + ":" + c.ControlID
		for _, id := range c.Checks {
			if !slices.Contains(out[id], key) {
				out[id] = append(out[id], key)
			}
		}
	}
	return out
}

// controlMeaning says in words what a control's status means for an
// auditor.
func controlMeaning(c model.ControlStatus) string {
	switch c.Status {
	case model.ControlFail:
		return "at least one result of its checks failed"
	case model.ControlError:
		return "no failure, but part of the evidence is missing (not tested: coverage gap or error)"
	case model.ControlWaived:
		return "no failure and no error, but failures are muted by waivers: holds only by accepted exceptions"
	case model.ControlPass:
		if c.Coverage == model.CoveragePartial {
			return "the automated part passes; the rest of the control needs manual evidence"
		}
		return "every result of its checks passed"
	case model.ControlNotApplicable:
		return "its checks produced no result (nothing in scope, or not run)"
	case model.ControlManual:
		return "no automated check: needs manual evidence"
	}
	return ""
}

func pct(n, d int) any {
	if d == 0 {
		return "n/a"
	}
	return float64(n) / float64(d)
}

func itoa(n int) string { return strconv.Itoa(n) }

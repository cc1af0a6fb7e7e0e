package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// needTool skips a test when a command-line tool is missing, except under
// CI=true, where the tool is required.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI (apt-get install poppler-utils qpdf): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
}

// renderPDF renders the report of one framework through the Writer.
func renderPDF(t testing.TB, in Input, framework string) []byte {
	t.Helper()
	want := PDF{}.FileName(framework)
	for _, f := range (PDF{}).Files(in) {
		if f.Name != want {
			continue
		}
		var buf bytes.Buffer
		if err := f.Render(&buf); err != nil {
			t.Fatalf("render %s: %v", f.Name, err)
		}
		return buf.Bytes()
	}
	t.Fatalf("no file %s", want)
	return nil
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// extracted is the text of a PDF as pdftotext -raw gives it (content
// order: the lines of one table cell follow each other), whitespace
// collapsed, and the same with no whitespace at all, where an ID wrapped
// over several lines of its cell reads whole again.
type extracted struct{ text, joined string }

var spaces = regexp.MustCompile(`\s+`)

func pdfText(t *testing.T, data []byte) extracted {
	t.Helper()
	needTool(t, "pdftotext")
	raw := run(t, "pdftotext", "-raw", "-enc", "UTF-8", writeTemp(t, data), "-")
	return extracted{text: spaces.ReplaceAllString(raw, " "), joined: spaces.ReplaceAllString(raw, "")}
}

func (e extracted) has(s string) bool {
	return strings.Contains(e.text, spaces.ReplaceAllString(s, " "))
}
func (e extracted) hasID(s string) bool {
	return strings.Contains(e.joined, spaces.ReplaceAllString(s, ""))
}

// between is the text from the first occurrence of start to the first
// occurrence of end after it.
func (e extracted) between(t *testing.T, start, end string) string {
	t.Helper()
	i := strings.Index(e.text, start)
	if i < 0 {
		t.Fatalf("no %q in the text", start)
	}
	j := strings.Index(e.text[i:], end)
	if j < 0 {
		t.Fatalf("no %q after %q", end, start)
	}
	return e.text[i : i+j]
}

func frameworkOf(t *testing.T, scan *model.Scan, id string) model.Framework {
	t.Helper()
	for _, fw := range scan.Frameworks {
		if fw.ID == id {
			return fw
		}
	}
	t.Fatalf("no framework %s", id)
	return model.Framework{}
}

func TestPDFFilesOnePerFramework(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 1})
	if _, ok := Writers()["pdf"].(PDF); !ok {
		t.Fatal(`Writers()["pdf"] is not the PDF writer`)
	}
	files := (PDF{}).Files(Input{Scan: scan})
	if len(files) != len(scan.Frameworks) || len(files) != 8 {
		t.Fatalf("%d files for %d frameworks", len(files), len(scan.Frameworks))
	}
	for i, fw := range scan.Frameworks {
		if want := "report-" + fw.ID + ".pdf"; files[i].Name != want {
			t.Errorf("file %d = %s, want %s", i, files[i].Name, want)
		}
	}
	if got := (PDF{}).FileName("acme/2026 ü"); got != "report-acme_2026__.pdf" {
		t.Errorf("FileName of an unsafe ID = %s", got)
	}

	// A scan.json from before frameworks were recorded: named by the
	// controls' framework IDs.
	old := *scan
	old.Frameworks = nil
	files = (PDF{}).Files(Input{Scan: &old})
	if len(files) != 8 || files[0].Name != "report-cis-aws-3.0.0.pdf" || files[7].Name != "report-hipaa.pdf" {
		var names []string
		for _, f := range files {
			names = append(names, f.Name)
		}
		t.Errorf("files without Scan.Frameworks = %v", names)
	}
}

func TestPDFContents(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 3, gaps: true})
	const fwID = "cis-aws-3.0.0"
	fw := frameworkOf(t, scan, fwID)
	text := pdfText(t, renderPDF(t, Input{Scan: scan, Diff: sampleDiff(scan)}, fwID))

	var js bytes.Buffer
	if err := (JSON{}).Write(&js, scan); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(js.Bytes())
	for _, want := range []string{
		fw.Name, "Version " + fw.Version, fw.Publisher,
		scan.Scan.ID, "2026-03-14 09:26:53 UTC", "2026-03-14 09:28:30 UTC",
		"posture 1.4.0", scan.Scan.Principal, hex.EncodeToString(sum[:]),
		"3 accounts: 111111111111 (prod), 222222222222 (staging-Ωμέγα), 333333333333 (sandbox)",
		"2 regions: eu-west-1, us-east-1",
		"INCOMPLETE: 2 scopes could not be collected (2 AccessDenied)",
		// scope and method
		"46 checks ran", "credentials.max_key_age_days", scan.Scan.ConfigSHA256, "--config posture.yaml",
		"GenerateCredentialReport", "DescribeSecurityGroups", "ListSecrets (never GetSecretValue)",
		// completeness: the gaps with their codes, the reconciliation
		"DescribeDBInstances", "AccessDenied", "AssumeRole",
		fmt.Sprintf("The totals reconcile with the result set: %d results in scan.json", len(scan.Results)),
		"Not applicable (nothing in scope)",
		// summary
		"evaluated controls PASS", "PASS on a control with partial coverage means only that the automated part of the control passes",
		// exceptions
		"legacy-sg", "bastion replaced in Q2", "2026-06-30",
		"Manual controls awaiting evidence",
		// changes
		"Changes since the previous scan", "20260313T092653Z-0ld0", "thresholds differ", "S3 Block Public Access on buckets",
		// appendix
		"sha256sum -c SHA256SUMS", "posture verify", "manifest.json", "NOT_APPLICABLE", "WAIVED",
	} {
		if !text.has(want) {
			t.Errorf("the report does not say %q", want)
		}
	}

	if !text.hasID("platform-team@example.com") {
		t.Error("the waiver's owner is not named")
	}

	// Every control of the framework is in the control matrix.
	matrix := text.between(t, "Every control of the catalogue (", "One part per automated control")
	n := 0
	for _, c := range scan.Controls {
		if c.Framework != fwID {
			continue
		}
		n++
		if !regexp.MustCompile(`(^| )` + regexp.QuoteMeta(c.ControlID) + ` `).MatchString(matrix) {
			t.Errorf("control %s is not in the control matrix", c.ControlID)
		}
	}
	if n != 62 {
		t.Errorf("%d controls of %s in the fixture, want 62", n, fwID)
	}

	// Every failing resource of the framework's checks is named.
	checks := map[string]bool{}
	for _, c := range scan.Controls {
		if c.Framework == fwID {
			for _, id := range c.Checks {
				checks[id] = true
			}
		}
	}
	failing := 0
	for _, r := range scan.Results {
		if checks[r.CheckID] && r.Status == model.StatusFail {
			failing++
			if !text.hasID(r.ResourceID) {
				t.Errorf("failing resource %s (%s) is not in the report", r.ResourceID, r.CheckID)
			}
		}
	}
	if failing == 0 {
		t.Fatal("the fixture has no failure for the framework")
	}
	if !text.has("Every control of the catalogue (62)") {
		t.Error("the matrix does not count the catalogue's controls")
	}
}

func TestPDFUnicodeResourceNames(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 1})
	// s3-bucket-public is evidence for aws-fsbp (S3.8 and others).
	for i := range scan.Results {
		if scan.Results[i].ResourceID == unicodeBucket {
			scan.Results[i].Message = "tag {nb} and \x01nb\x01 stay as written"
		}
	}
	text := pdfText(t, renderPDF(t, Input{Scan: scan}, "aws-fsbp"))
	if !text.has("tag {nb} and nb stay as written") {
		t.Error("text from the scan that looks like a page-number alias was replaced")
	}
	if !text.has(unicodeBucket) {
		t.Errorf("the Latin-1/Greek/Cyrillic bucket name %q is not extracted intact", unicodeBucket)
	}
	// DejaVu has no CJK glyphs: the code points are printed instead of
	// empty boxes.
	if want := "données-ß-<U+65E5><U+672C>"; !text.hasID(want) {
		t.Errorf("the CJK bucket name is not printed as %q", want)
	}
	if !text.hasID(longARN) {
		t.Error("the long ID is not in the report")
	}
	if !text.has("staging-Ωμέγα") {
		t.Error("the Greek account name is not extracted intact")
	}
}

func TestPDFCompleteAndCancelled(t *testing.T) {
	complete := realisticScan(t, fixture{perCheck: 1})
	text := pdfText(t, renderPDF(t, Input{Scan: complete}, "aws-fsbp"))
	if !text.has("Complete: every requested scope was collected") {
		t.Error("a complete scan does not say so on the cover")
	}
	if text.has("INCOMPLETE") {
		t.Error("a complete scan says INCOMPLETE")
	}
	na := 0
	for _, c := range complete.Controls {
		if c.Framework == "aws-fsbp" && c.Status == model.ControlNotApplicable {
			na++
			if !text.has(c.ControlID + " " + c.Title + " NOT_APPLICABLE no resource in scope") {
				t.Errorf("the not-applicable control %s is not listed with its note", c.ControlID)
			}
		}
	}
	if want := fmt.Sprintf("Not applicable (nothing in scope): %d controls.", na); na == 0 || !text.has(want) {
		t.Errorf("the report does not say %q", want)
	}
	if text.has("Changes since the previous scan") {
		t.Error("a report without a diff has a changes section")
	}

	cancelled := realisticScan(t, fixture{perCheck: 1, gaps: true, cancelled: true})
	text = pdfText(t, renderPDF(t, Input{Scan: cancelled}, "soc2"))
	for _, want := range []string{
		"INCOMPLETE: 3 scopes could not be collected; the scan was cancelled (2 AccessDenied, 1 Cancelled)",
		"The scan was cancelled (Ctrl-C, SIGTERM or --timeout) before every scope was collected",
		"Cancelled on ListBuckets",
	} {
		if !text.has(want) {
			t.Errorf("the cancelled scan's report does not say %q", want)
		}
	}
	cover := text.between(t, "Compliance evidence report", "2. Scope and method")
	if !strings.Contains(cover, "the scan was cancelled") {
		t.Error("the cancellation is not on the cover")
	}
}

func TestPDFPageBudget(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 40, frameworks: []string{"cis-aws-3.0.0"}})
	text := pdfText(t, renderPDF(t, Input{Scan: scan}, "cis-aws-3.0.0"))
	// Control 5.2 maps two checks over security groups and network ACLs
	// in two regions of three accounts: more than 200 results.
	for _, c := range scan.Controls {
		total := c.Passed + c.Failed + c.Errors + c.Muted
		if total <= pdfRowBudget {
			continue
		}
		want := fmt.Sprintf("showing %d of %s; the full population is in evidence.xlsx (Findings sheet)", pdfRowBudget, num(total))
		if !text.has(want) {
			t.Errorf("control %s (%d results) does not say %q", c.ControlID, total, want)
		}
		return
	}
	t.Fatal("no control of the fixture has more than the page budget")
}

func TestPDFPagesAndBookmarks(t *testing.T) {
	needTool(t, "pdfinfo")
	needTool(t, "qpdf")
	scan := realisticScan(t, fixture{perCheck: 3, gaps: true})
	const fwID = "hipaa"
	path := writeTemp(t, renderPDF(t, Input{Scan: scan, Diff: sampleDiff(scan)}, fwID))

	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo gives no page count")
	}
	pages, _ := strconv.Atoi(m[1])
	if pages < 10 {
		t.Errorf("%d pages, want at least 10", pages)
	}
	if n := strings.TrimSpace(run(t, "qpdf", "--show-npages", path)); n != m[1] {
		t.Errorf("qpdf counts %s pages, pdfinfo %d", n, pages)
	}
	last := pdfText(t, mustRead(t, path)).text
	if want := fmt.Sprintf("Page %d of %d", pages, pages); !strings.Contains(last, want) {
		t.Errorf("no footer %q", want)
	}
	if strings.Contains(last, "\x01") {
		t.Error("a page-number alias was not replaced")
	}
	for i, s := range []string{"Scope and method", "Completeness statement", "Executive summary"} {
		if !regexp.MustCompile(fmt.Sprintf(`%d\. %s page \d+ `, i+2, s)).MatchString(last) {
			t.Errorf("the contents do not give the page of %q", s)
		}
	}
	// No page is empty or nearly so (a heading orphaned from its table, a
	// page break before nothing): pdftotext ends every page with a form feed.
	perPage := strings.Split(run(t, "pdftotext", "-layout", path, "-"), "\f")
	for i, page := range perPage[:pages] {
		lines := 0
		for _, l := range strings.Split(page, "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if lines < 6 {
			t.Errorf("page %d has %d lines of text", i+1, lines)
		}
	}

	var doc struct {
		Outlines []outline `json:"outlines"`
	}
	if err := json.Unmarshal([]byte(run(t, "qpdf", "--json", "--json-key=outlines", path)), &doc); err != nil {
		t.Fatal(err)
	}
	titles := map[string]int{}
	var walk func([]outline, int)
	walk = func(os []outline, level int) {
		for _, o := range os {
			titles[o.Title] = level
			walk(o.Kids, level+1)
		}
	}
	walk(doc.Outlines, 0)
	for i, s := range []string{"Cover", "Scope and method", "Completeness statement", "Executive summary", "Control matrix",
		"Tested population per control", "Exceptions", "Changes since the previous scan", "Appendix"} {
		title := fmt.Sprintf("%d. %s", i+1, s)
		if level, ok := titles[title]; !ok || level != 0 {
			t.Errorf("no top-level bookmark %q (have %v)", title, titles)
		}
	}
	for _, c := range scan.Controls {
		if c.Framework != fwID || c.Status == model.ControlManual {
			continue
		}
		if level, ok := titles[c.ControlID+" "+c.Title]; !ok || level != 1 {
			t.Errorf("no bookmark for control %s under its section", c.ControlID)
		}
	}
}

type outline struct {
	Title string    `json:"title"`
	Kids  []outline `json:"kids"`
}

// Two renders of the same scan, a second apart, give the same bytes.
func TestPDFDeterministic(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 2, gaps: true})
	in := Input{Scan: scan, Diff: sampleDiff(scan)}
	first := renderPDF(t, in, "pci-dss-4.0.1")
	time.Sleep(1100 * time.Millisecond)
	second := renderPDF(t, in, "pci-dss-4.0.1")
	if !bytes.Equal(first, second) {
		t.Fatalf("two renders differ (%d and %d bytes)", len(first), len(second))
	}
	for _, key := range []string{"CreationDate", "ModDate"} {
		m := regexp.MustCompile(`/` + key + ` \(D:(\d{14})`).FindSubmatch(first)
		if m == nil || string(m[1]) != "20260314092830" {
			t.Errorf("/%s is %q, want the scan's finish time 20260314092830", key, m)
		}
	}
}

// Several frameworks rendered at once (run with -race) give the bytes of
// a render on its own: the fonts are shared read-only.
func TestPDFConcurrentRendering(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 1, gaps: true})
	in := Input{Scan: scan}
	files := (PDF{}).Files(in)
	want := map[string][]byte{}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.Render(&buf); err != nil {
			t.Fatal(err)
		}
		want[f.Name] = buf.Bytes()
	}
	got := make([][]byte, len(files)*2)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			var buf bytes.Buffer
			if err := files[i%len(files)].Render(&buf); err != nil {
				t.Error(err)
			}
			got[i] = buf.Bytes()
		})
	}
	wg.Wait()
	for i, data := range got {
		name := files[i%len(files)].Name
		if !bytes.Equal(data, want[name]) {
			t.Errorf("%s rendered concurrently differs from its render alone", name)
		}
	}
}

// The hash on the cover is computed from a streamed scan.json: it must be
// the bytes the JSON writer writes.
func TestScanJSONStreamedIsTheFile(t *testing.T) {
	scan := realisticScan(t, fixture{perCheck: 2, gaps: true})
	scan.Results[0].Message = "<script>&amp; \"quoted\" \u2028 line\nbreak ü 日本"
	scan.Results[1].Evidence = map[string]any{"nested": map[string]any{"list": []any{1.5, "x", nil, true}}, "empty": map[string]any{}}
	empty := realisticScan(t, fixture{})
	empty.Results = []model.Result{}
	for _, s := range []*model.Scan{scan, empty} {
		var want, got bytes.Buffer
		if err := (JSON{}).Write(&want, s); err != nil {
			t.Fatal(err)
		}
		if err := writeScanJSON(&got, s); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("streamed scan.json differs from JSON{}.Write (%d and %d bytes)", got.Len(), want.Len())
		}
		sum := sha256.Sum256(want.Bytes())
		if h, err := scanSHA256(s); err != nil || h != hex.EncodeToString(sum[:]) {
			t.Errorf("scanSHA256 = %s, %v", h, err)
		}
	}
}

// TestPermissionsMatchREADME keeps the README's permissions table, row by
// row and word for word, equal to Permissions(), which is rendered from the
// read-only guard's allow-list (readonly.Scanning): the calls a user grants
// are exactly the calls the guard lets through.
func TestPermissionsMatchREADME(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "| service | calls |")
	if start < 0 {
		t.Fatal("README has no permissions table")
	}
	var got []Permission
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 2 {
			t.Fatalf("README table row %q", line)
		}
		clean := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "`", "")) }
		got = append(got, Permission{clean(cells[0]), clean(cells[1])})
	}
	want := Permissions()
	if len(got) != len(want) {
		t.Fatalf("README lists %d services, Permissions %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d: README %+v, Permissions %+v", i, got[i], want[i])
		}
	}
}

func TestDrawable(t *testing.T) {
	g, err := fontGlyphs()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"sg-0123 acme":           "sg-0123 acme",
		"données-ß-Ωμέγα-Жёлтый": "données-ß-Ωμέγα-Жёлтый",
		"données-ß-日本":           "données-ß-<U+65E5><U+672C>",
		"tab\there\x00":          "tab here ",
		"emoji 😀":                "emoji <U+1F600>",
		"two\nlines":             "two\nlines",
	} {
		if got := drawable(g, in); got != want {
			t.Errorf("drawable(%q) = %q, want %q", in, got, want)
		}
	}
	if g.has('日') || !g.has('ß') || !g.has('Ж') || !g.has('Ω') || !g.has('…') || !g.has('→') {
		t.Error("the glyph set of DejaVu Sans is wrong")
	}
}

func TestWrapFitsTheColumn(t *testing.T) {
	g, err := fontGlyphs()
	if err != nil {
		t.Fatal(err)
	}
	scan := realisticScan(t, fixture{})
	d := newPDFDoc(g, newPDFReport(Input{Scan: scan}, scan.Frameworks[0], "hash"))
	d.f.AddPage()
	d.font(false, pdfTableSize)
	for _, s := range []string{longARN, "iam-password-policy-weak", "a b c", strings.Repeat("x", 300), unicodeBucket, "fails: Account password policy is missing or weak"} {
		for _, w := range []float64{12, 33, 44, 100} {
			lines := d.wrap(s, w)
			for _, l := range lines {
				if d.f.GetStringWidth(l) > w-2*d.f.GetCellMargin()+0.01 && len([]rune(l)) > 1 {
					t.Errorf("wrap(%q, %v): line %q is %.1f mm wide", s, w, l, d.f.GetStringWidth(l))
				}
			}
			if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(s, " ", "") {
				t.Errorf("wrap(%q, %v) = %q loses text", s, w, lines)
			}
		}
	}
	if lines := d.wrap("iam-password-policy-weak", 33); len(lines) != 2 || lines[0] != "iam-password-policy-" {
		t.Errorf("a check ID is not broken after a hyphen: %q", lines)
	}
}

// TestPDFSample writes the reports of the realistic fixture (with gaps, a
// diff, waivers, a cancelled scan) and checks that each is a PDF; with
// $POSTURE_PDF_SAMPLE_DIR set it writes them there, for a person to look at.
func TestPDFSample(t *testing.T) {
	dir := os.Getenv("POSTURE_PDF_SAMPLE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	scan := realisticScan(t, fixture{perCheck: 3, gaps: true})
	in := Input{Scan: scan, Diff: sampleDiff(scan)}
	paths, err := WriteDir(filepath.Clean(dir), in, []Writer{JSON{}, PDF{}})
	if err != nil {
		t.Fatal(err)
	}
	complete := realisticScan(t, fixture{perCheck: 3, frameworks: []string{"aws-fsbp"}})
	if _, err := WriteDir(filepath.Join(dir, "complete"), Input{Scan: complete}, []Writer{JSON{}, PDF{}}); err != nil {
		t.Fatal(err)
	}
	cancelled := realisticScan(t, fixture{perCheck: 3, gaps: true, cancelled: true, frameworks: []string{"soc2"}})
	more, err := WriteDir(filepath.Join(dir, "cancelled"), Input{Scan: cancelled}, []Writer{JSON{}, PDF{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(paths, more...) {
		if filepath.Ext(p) != ".pdf" {
			continue
		}
		if data := mustRead(t, p); !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("%%EOF")) {
			t.Errorf("%s is not a complete PDF", p)
		}
	}
	t.Log(append(paths, more...))
}

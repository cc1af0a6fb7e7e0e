package controls

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

func builtin(t *testing.T) []Framework {
	t.Helper()
	fws, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	return fws
}

// TestBuiltinCatalogues pins the frameworks shipped, their order, versions
// and control counts, and that each names its publisher and links to it.
func TestBuiltinCatalogues(t *testing.T) {
	type want struct {
		id, version                 string
		controls, automated, manual int
	}
	wants := []want{
		{"cis-aws-3.0.0", "3.0.0", 62, 21, 41},
		{"cis-aws-5.0.0", "5.0.0", 63, 21, 42},
		{"aws-fsbp", "1.0.0", 336, 32, 304},
		{"soc2", "2017 (revised points of focus 2022)", 61, 5, 56},
		{"pci-dss-4.0.1", "4.0.1", 280, 14, 266},
		{"nist-800-53-r5", "Revision 5", 317, 30, 287},
		{"iso-27001-2022", "2022", 93, 11, 82},
		{"hipaa", "45 CFR Part 164 Subpart C", 57, 8, 49},
	}
	fws := builtin(t)
	if len(fws) != len(wants) {
		t.Fatalf("%d frameworks, want %d", len(fws), len(wants))
	}
	for i, w := range wants {
		fw := fws[i]
		automated, manual := fw.Counts()
		got := want{fw.ID, fw.Version, len(fw.Controls), automated, manual}
		if got != w {
			t.Errorf("framework %d: got %+v, want %+v", i, got, w)
		}
		if fw.Name == "" || fw.Publisher == "" || !strings.HasPrefix(fw.URL, "https://") {
			t.Errorf("%s: name %q, publisher %q, url %q", fw.ID, fw.Name, fw.Publisher, fw.URL)
		}
		if fw.Source != "builtin:"+fw.ID+".yaml" {
			t.Errorf("%s: source %q (one file per framework, named by its ID)", fw.ID, fw.Source)
		}
	}
}

// TestControlIDsUniqueAndTypesConsistent: within a framework no control ID
// repeats; a control is automated exactly when it has checks; titles are
// short (our own paraphrase, not the publisher's text).
func TestControlIDsUniqueAndTypesConsistent(t *testing.T) {
	for _, fw := range builtin(t) {
		seen := map[string]bool{}
		for _, c := range fw.Controls {
			if seen[c.ID] {
				t.Errorf("%s: control %s listed twice", fw.ID, c.ID)
			}
			seen[c.ID] = true
			if (c.Type == Automated) != (len(c.Checks) > 0) || (c.Type != Automated && c.Type != Manual) {
				t.Errorf("%s:%s: type %q with %d checks", fw.ID, c.ID, c.Type, len(c.Checks))
			}
			if c.Title == "" || len(c.Title) > 100 {
				t.Errorf("%s:%s: title %q (want a short paraphrase)", fw.ID, c.ID, c.Title)
			}
		}
	}
}

// TestCatalogueChecksExistInRegistry: every check ID a catalogue names is a
// registered check.
func TestCatalogueChecksExistInRegistry(t *testing.T) {
	registered := map[string]bool{}
	for _, m := range scanners.Catalogue(scanners.All()) {
		registered[m.ID] = true
	}
	missing := map[string][]string{}
	for _, fw := range builtin(t) {
		for _, c := range fw.Controls {
			for _, id := range c.Checks {
				if !registered[id] {
					missing[id] = append(missing[id], Key(fw.ID, c.ID))
				}
			}
		}
	}
	if len(missing) > 0 {
		ids := make([]string, 0, len(missing))
		for id := range missing {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var lines []string
		for _, id := range ids {
			lines = append(lines, id+" (used by "+strings.Join(missing[id], ", ")+")")
		}
		t.Errorf("%d check IDs in the catalogues are not registered:\n  %s", len(ids), strings.Join(lines, "\n  "))
	}
}

// TestEveryCheckIsMapped: every registered check is evidence for at least
// one control of one built-in framework.
func TestEveryCheckIsMapped(t *testing.T) {
	idx := Index(builtin(t))
	for _, m := range scanners.Catalogue(scanners.All()) {
		if len(idx[m.ID]) == 0 {
			t.Errorf("check %s is not referenced by any framework", m.ID)
		}
	}
}

func res(check string, status model.Status, account string) model.Result {
	return model.Result{CheckID: check, Status: status, AccountID: account, Region: "us-east-1", ResourceID: "r"}
}

// TestRollUpStatuses is the status rule, case by case.
func TestRollUpStatuses(t *testing.T) {
	fw := Framework{ID: "fw", Controls: []Control{
		{ID: "C1", Title: "two checks", Type: Automated, Checks: []string{"a-x-y", "b-x-y"}},
	}}
	const acct1, acct2 = "111111111111", "222222222222"
	cases := []struct {
		name    string
		ran     []string
		results []model.Result
		want    model.ControlStatus
	}{
		{"all pass", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusPass, acct1), res("b-x-y", model.StatusPass, acct1)},
			model.ControlStatus{Status: StatusPass, Passed: 2}},
		{"one failure fails the control", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusPass, acct1), res("b-x-y", model.StatusFail, acct2)},
			model.ControlStatus{Status: StatusFail, Passed: 1, Failed: 1, Accounts: []string{acct2}}},
		{"FAIL wins over ERROR", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusError, acct1), res("b-x-y", model.StatusFail, acct2), res("b-x-y", model.StatusFail, acct2)},
			model.ControlStatus{Status: StatusFail, Failed: 2, Errors: 1, Accounts: []string{acct1, acct2}}},
		{"ERROR wins over PASS: part of the evidence is missing", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusPass, acct1), res("a-x-y", model.StatusPass, acct2), res("b-x-y", model.StatusError, acct2)},
			model.ControlStatus{Status: StatusError, Passed: 2, Errors: 1, Accounts: []string{acct2}}},
		{"muted failures do not fail, but the control holds only by a waiver", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusMuted, acct1), res("b-x-y", model.StatusPass, acct1)},
			model.ControlStatus{Status: StatusWaived, Passed: 1, Muted: 1}},
		{"only muted results: WAIVED, never PASS", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusMuted, acct1)},
			model.ControlStatus{Status: StatusWaived, Muted: 1}},
		{"a failure beside a muted one fails", []string{"a-x-y", "b-x-y"},
			[]model.Result{res("a-x-y", model.StatusMuted, acct1), res("b-x-y", model.StatusFail, acct1)},
			model.ControlStatus{Status: StatusFail, Failed: 1, Muted: 1, Accounts: []string{acct1}}},
		{"no resource in scope", []string{"a-x-y", "b-x-y"}, nil,
			model.ControlStatus{Status: StatusNotApplicable, Note: "no resource in scope"}},
		{"checks not run", []string{"c-x-y"}, nil,
			model.ControlStatus{Status: StatusNotApplicable, Note: "not evaluated: none of its checks ran in this scan"}},
		{"partly run", []string{"a-x-y"},
			[]model.Result{res("a-x-y", model.StatusPass, acct1)},
			model.ControlStatus{Status: StatusPass, Passed: 1, Note: "partly evaluated: these checks did not run in this scan: b-x-y"}},
		{"results of other checks are ignored", []string{"a-x-y", "b-x-y", "c-x-y"},
			[]model.Result{res("c-x-y", model.StatusFail, acct1)},
			model.ControlStatus{Status: StatusNotApplicable, Note: "no resource in scope"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := RollUp([]Framework{fw}, c.results, c.ran)
			want := c.want
			want.Framework, want.ControlID, want.Title, want.Checks = "fw", "C1", "two checks", []string{"a-x-y", "b-x-y"}
			if want.Accounts == nil {
				want.Accounts = []string{}
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestRollUpManual(t *testing.T) {
	fw := Framework{ID: "fw", Controls: []Control{{ID: "M1", Title: "by hand", Type: Manual}}}
	got := RollUp([]Framework{fw}, []model.Result{res("a-x-y", model.StatusFail, "111111111111")}, []string{"a-x-y"})
	want := []model.ControlStatus{{Framework: "fw", ControlID: "M1", Title: "by hand", Status: StatusManual,
		Accounts: []string{}, Checks: []string{}, Note: "no automated check: needs manual evidence"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestApplyDerivesResultControls: results name their controls from the
// catalogues, in framework then catalogue order; unmapped checks get an
// empty list; the scan gets one status per control of every framework.
func TestApplyDerivesResultControls(t *testing.T) {
	fws := []Framework{
		{ID: "one", Controls: []Control{
			{ID: "2", Title: "t", Type: Automated, Checks: []string{"a-x-y"}},
			{ID: "10", Title: "t", Type: Automated, Checks: []string{"a-x-y", "b-x-y"}},
			{ID: "11", Title: "t", Type: Manual},
		}},
		{ID: "two", Controls: []Control{{ID: "X.1", Title: "t", Type: Automated, Checks: []string{"a-x-y"}}}},
	}
	scan := &model.Scan{
		Scan:    model.ScanInfo{Checks: []string{"a-x-y", "b-x-y", "c-x-y"}},
		Results: []model.Result{res("a-x-y", model.StatusFail, "111111111111"), res("b-x-y", model.StatusPass, "111111111111"), res("c-x-y", model.StatusPass, "111111111111")},
	}
	Apply(scan, fws)
	wantControls := [][]string{{"one:2", "one:10", "two:X.1"}, {"one:10"}, {}}
	for i, r := range scan.Results {
		if !reflect.DeepEqual(r.Controls, wantControls[i]) {
			t.Errorf("%s: controls %#v, want %#v", r.CheckID, r.Controls, wantControls[i])
		}
	}
	var got []string
	for _, c := range scan.Controls {
		got = append(got, c.Framework+":"+c.ControlID+"="+string(c.Status))
	}
	if want := "one:2=FAIL one:10=FAIL one:11=MANUAL two:X.1=FAIL"; strings.Join(got, " ") != want {
		t.Errorf("controls %s, want %s", strings.Join(got, " "), want)
	}
}

func TestSelectAndMerge(t *testing.T) {
	fws := builtin(t)
	got, err := Select(fws, []string{"soc2", "cis-aws-5.0.0"})
	if err != nil || len(got) != 2 || got[0].ID != "cis-aws-5.0.0" || got[1].ID != "soc2" {
		t.Errorf("Select: %v %v", got, err)
	}
	if all, err := Select(fws, nil); err != nil || len(all) != 8 {
		t.Errorf("Select(nil): %d %v", len(all), err)
	}
	_, err = Select(fws, []string{"cis-aws-5.0.0", "cis-9", "sox"})
	want := "unknown framework ID(s): cis-9, sox (known: cis-aws-3.0.0, cis-aws-5.0.0, aws-fsbp, soc2, pci-dss-4.0.1, nist-800-53-r5, iso-27001-2022, hipaa)"
	if err == nil || err.Error() != want {
		t.Errorf("Select unknown: %v\nwant %s", err, want)
	}
	custom := Framework{ID: "acme-2026", Source: "acme.yaml"}
	merged, err := Merge(fws, custom)
	if err != nil || len(merged) != 9 || merged[8].ID != "acme-2026" {
		t.Errorf("Merge: %d %v", len(merged), err)
	}
	_, err = Merge(fws, Framework{ID: "soc2", Source: "mine.yaml"})
	if err == nil || err.Error() != `mine.yaml: framework ID "soc2" is already defined by builtin:soc2.yaml; give your framework its own ID` {
		t.Errorf("Merge duplicate: %v", err)
	}
}

const goodCatalogue = `framework:
  id: acme-controls
  name: Acme internal controls
  version: "2026.1"
  publisher: Acme Security
controls:
  - id: NET-1
    title: No admin ports open to the internet
    type: automated
    checks: [ec2-sg-open-admin-port, ec2-nacl-open-admin-port]
  - id: GOV-1
    title: Quarterly access review
    type: manual
`

var known = map[string]bool{"ec2-sg-open-admin-port": true, "ec2-nacl-open-admin-port": true}

func TestLoadFileCustomCatalogue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.yaml")
	if err := os.WriteFile(path, []byte(goodCatalogue), 0o600); err != nil {
		t.Fatal(err)
	}
	fw, err := LoadFile(path, known)
	if err != nil {
		t.Fatal(err)
	}
	want := Framework{ID: "acme-controls", Name: "Acme internal controls", Version: "2026.1", Publisher: "Acme Security", Source: path,
		Controls: []Control{
			{ID: "NET-1", Title: "No admin ports open to the internet", Type: Automated, Checks: []string{"ec2-sg-open-admin-port", "ec2-nacl-open-admin-port"}, Coverage: model.CoveragePartial, Line: 7},
			{ID: "GOV-1", Title: "Quarterly access review", Type: Manual, Line: 11},
		}}
	if !reflect.DeepEqual(fw, want) {
		t.Errorf("got  %+v\nwant %+v", fw, want)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "none.yaml"), known); err == nil || !strings.Contains(err.Error(), "none.yaml: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestParseRejectsMalformedCatalogues: each error names the file, the line
// and the field.
func TestParseRejectsMalformedCatalogues(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"unknown check ID",
			strings.Replace(goodCatalogue, "ec2-nacl-open-admin-port]", "ec2-nacl-open-ssh]", 1),
			`my.yaml:10: controls[0].checks[1]: unknown check ID "ec2-nacl-open-ssh" (see ` + "`posture checks`)"},
		{"duplicate control ID",
			strings.Replace(goodCatalogue, "id: GOV-1", "id: NET-1", 1),
			`my.yaml:11: controls[1].id: duplicate control ID "NET-1" (first at line 7)`},
		{"missing title",
			strings.Replace(goodCatalogue, "    title: Quarterly access review\n", "", 1),
			`my.yaml:11: controls[1].title: missing required field`},
		{"missing framework field",
			strings.Replace(goodCatalogue, "  publisher: Acme Security\n", "", 1),
			`my.yaml:2: framework.publisher: missing required field`},
		{"empty value",
			strings.Replace(goodCatalogue, `version: "2026.1"`, `version: ""`, 1),
			`my.yaml:4: framework.version: must not be empty`},
		{"unknown field",
			strings.Replace(goodCatalogue, "    type: manual\n", "    type: manual\n    owner: bob\n", 1),
			`my.yaml:14: controls[1].owner: unknown field (allowed in controls[1]: id, title, type, checks, coverage)`},
		{"bad type",
			strings.Replace(goodCatalogue, "type: manual", "type: sometimes", 1),
			`my.yaml:13: controls[1].type: "sometimes": want automated or manual`},
		{"automated without checks",
			strings.Replace(goodCatalogue, "type: manual", "type: automated", 1),
			`my.yaml:13: controls[1].type: automated control without checks (list its checks, or make it manual)`},
		{"manual with checks",
			strings.Replace(goodCatalogue, "type: automated", "type: manual", 1),
			`my.yaml:9: controls[0].type: manual control with checks (make it automated, or remove its checks)`},
		{"check listed twice",
			strings.Replace(goodCatalogue, "ec2-nacl-open-admin-port]", "ec2-sg-open-admin-port]", 1),
			`my.yaml:10: controls[0].checks[1]: check "ec2-sg-open-admin-port" listed twice`},
		{"bad framework ID",
			strings.Replace(goodCatalogue, "id: acme-controls", "id: Acme Controls", 1),
			`my.yaml:2: framework.id: "Acme Controls" is not a lowercase ID (letters, digits, '.', '-')`},
		{"controls not a list",
			"framework:\n  id: a-b\n  name: n\n  version: v\n  publisher: p\ncontrols: {}\n",
			`my.yaml:6: controls: want a list of controls`},
		{"bad coverage",
			strings.Replace(goodCatalogue, "type: automated", "type: automated\n    coverage: most", 1),
			`my.yaml:10: controls[0].coverage: "most": want full or partial`},
		{"coverage on a manual control",
			strings.Replace(goodCatalogue, "type: manual", "type: manual\n    coverage: full", 1),
			`my.yaml:14: controls[1].coverage: only an automated control has a coverage`},
		{"not YAML", "framework: [unclosed\n", `my.yaml: not valid YAML: line 1: did not find expected ',' or ']'`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("my.yaml", []byte(c.doc), known)
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	doc := strings.Replace(strings.Replace(goodCatalogue, "id: GOV-1", "id: NET-1", 1), "ec2-nacl-open-admin-port]", "nope-x-y]", 1)
	_, err := Parse("my.yaml", []byte(doc), known)
	if err == nil || strings.Count(err.Error(), "\n") != 1 ||
		!strings.Contains(err.Error(), `my.yaml:10: controls[0].checks[1]: unknown check ID "nope-x-y"`) ||
		!strings.Contains(err.Error(), `my.yaml:11: controls[1].id: duplicate control ID "NET-1"`) {
		t.Errorf("want both problems, got %v", err)
	}
}

// TestBuiltinCoverage: every automated control says how much of it the
// checks evidence, manual ones say nothing, and only the CIS and FSBP
// configuration controls claim full coverage (the broad controls of SOC 2,
// PCI DSS, ISO 27001, NIST 800-53 and HIPAA are never fully evidenced by
// configuration checks).
func TestBuiltinCoverage(t *testing.T) {
	frameworks, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]int{}
	for _, fw := range frameworks {
		for _, c := range fw.Controls {
			switch {
			case c.Type == Manual && c.Coverage != "":
				t.Errorf("%s:%s: manual control with coverage %q", fw.ID, c.ID, c.Coverage)
			case c.Type == Automated && c.Coverage != model.CoverageFull && c.Coverage != model.CoveragePartial:
				t.Errorf("%s:%s: automated control with coverage %q", fw.ID, c.ID, c.Coverage)
			case c.Coverage == model.CoverageFull:
				full[fw.ID]++
			}
		}
	}
	want := map[string]int{"aws-fsbp": 29, "cis-aws-3.0.0": 20, "cis-aws-5.0.0": 20}
	if !reflect.DeepEqual(full, want) {
		t.Errorf("full-coverage controls per framework: %v, want %v", full, want)
	}
}

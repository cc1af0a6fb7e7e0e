package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

func result(checkID string, status model.Status, sev model.Severity, region, resource string) model.Result {
	return model.Result{
		CheckID: checkID, Status: status, Severity: sev, Family: model.FamilyPublicExposure,
		AccountID: "111122223333", Region: region, Service: strings.SplitN(checkID, "-", 2)[0],
		ResourceType: "AWS::EC2::SecurityGroup", ResourceID: resource, ResourceARN: "arn:aws:ec2:" + region + ":111122223333:" + resource,
		Message: "message for " + resource, Evidence: map[string]any{"rule": "tcp 22", "source": "0.0.0.0/0"},
		Controls: []string{}, Fingerprint: model.Fingerprint(checkID, "111122223333", region, resource),
	}
}

func sampleScan() *model.Scan {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.2.3"},
		Scan: model.ScanInfo{ID: "scan-0001", StartedAt: start, FinishedAt: start.Add(42 * time.Second),
			Accounts: []string{"111122223333"}, Regions: []string{"eu-west-1", "us-east-1"},
			Checks: []string{"ec2-sg-open-admin-port", "rds-instance-public", "s3-bucket-public"}},
		Coverage: []model.Coverage{
			{AccountID: "111122223333", Region: "eu-west-1", Service: "ec2", Status: model.CoverageOK},
			{AccountID: "111122223333", Region: "us-east-1", Service: "rds", Status: model.CoverageError,
				Error:    "DescribeDBInstances: AccessDenied: not authorized",
				Failures: []model.Failure{{Part: "db-instances", Operation: "DescribeDBInstances", Code: "AccessDenied", Error: "AccessDenied: not authorized"}}},
		},
		Results: []model.Result{
			result("ec2-sg-open-admin-port", model.StatusFail, model.SeverityCritical, "eu-west-1", "sg-1"),
			result("ec2-sg-open-admin-port", model.StatusFail, model.SeverityCritical, "eu-west-1", "sg-2"),
			result("ec2-sg-open-admin-port", model.StatusPass, model.SeverityCritical, "eu-west-1", "sg-3"),
			result("s3-bucket-public", model.StatusFail, model.SeverityHigh, "us-east-1", "acme-data"),
			func() model.Result {
				r := result("rds-instance-public", model.StatusError, model.SeverityHigh, "us-east-1", "")
				r.Message = "not evaluated: db-instances could not be collected"
				return r
			}(),
		},
		Controls: []model.ControlStatus{
			{Framework: "cis", ControlID: "5.2", Title: "No SSH from anywhere", Status: "FAIL", Passed: 1, Failed: 2,
				Accounts: []string{"111122223333"}, Checks: []string{"ec2-sg-open-admin-port"}},
			{Framework: "cis", ControlID: "5.3", Title: "No public buckets", Status: "PASS", Passed: 4,
				Accounts: []string{}, Checks: []string{"s3-bucket-public"}},
			{Framework: "cis", ControlID: "5.4", Title: "No public databases", Status: "ERROR", Errors: 1,
				Accounts: []string{"111122223333"}, Checks: []string{"rds-instance-public"}},
			{Framework: "cis", ControlID: "1.1", Title: "Contacts", Status: "MANUAL", Accounts: []string{}, Checks: []string{},
				Note: "no automated check: needs manual evidence"},
			{Framework: "soc2", ControlID: "CC6.6", Title: "Boundary", Status: "NOT_APPLICABLE", Accounts: []string{},
				Checks: []string{"redshift-cluster-public"}, Note: "no resource in scope"},
		},
	}
}

func TestWriteDirPermissionsAndRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "nested")
	writers, err := ParseFormats([]string{"csv"})
	if err != nil {
		t.Fatal(err)
	}
	scan := sampleScan()
	paths, err := WriteDir(dir, Input{Scan: scan}, writers)
	if err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	want := []string{filepath.Join(dir, "scan.json"), filepath.Join(dir, "findings.csv")}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want drwx------", info.Mode())
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want -rw-------", p, info.Mode())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the two reports (no temporary files)", names)
	}

	got, err := ReadScan(filepath.Join(dir, "scan.json"))
	if err != nil {
		t.Fatalf("ReadScan: %v", err)
	}
	// Evidence values come back as JSON types; this fixture uses strings only.
	if !reflect.DeepEqual(got, scan) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, scan)
	}
	var again bytes.Buffer
	if err := (JSON{}).Write(&again, got); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "scan.json"))
	if !bytes.Equal(first, again.Bytes()) {
		t.Error("re-encoding a decoded scan.json changes it")
	}
}

// An existing directory (it may be the working directory, --out .) keeps its
// mode; the reports in it are still 0600, including one that replaces an
// older, world-readable file.
func TestWriteDirKeepsAnExistingDirectoryButNotItsFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scan.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDir(dir, Input{Scan: sampleScan()}, []Writer{JSON{}}); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("dir mode = %v, want the existing 0755", info.Mode().Perm())
	}
	if info, _ := os.Stat(filepath.Join(dir, "scan.json")); info.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode = %v, want 0600", info.Mode().Perm())
	}
}

func encode(t *testing.T, scan *model.Scan) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (JSON{}).Write(&buf, scan); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// edit decodes a scan.json into generic JSON, applies fn, and re-encodes it.
func edit(t *testing.T, data []byte, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeScanStrict(t *testing.T) {
	good := encode(t, sampleScan())
	if _, err := DecodeScan(good); err != nil {
		t.Fatalf("DecodeScan(good) = %v", err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"unknown top-level field", edit(t, good, func(d map[string]any) { d["extra"] = 1 }), `unknown field "extra"`},
		{"renamed result field", edit(t, good, func(d map[string]any) {
			r := d["results"].([]any)[0].(map[string]any)
			r["resourceId"] = r["resource_id"]
			delete(r, "resource_id")
		}), `unknown field "resourceId"`},
		{"unknown tool field", edit(t, good, func(d map[string]any) { d["tool"].(map[string]any)["commit"] = "abc" }), `unknown field "commit"`},
		{"missing tool version", edit(t, good, func(d map[string]any) { delete(d["tool"].(map[string]any), "version") }), "tool name and version are required"},
		{"empty tool name", edit(t, good, func(d map[string]any) { d["tool"].(map[string]any)["name"] = "" }), "tool name and version are required"},
		{"wrong schema version", edit(t, good, func(d map[string]any) { d["schema_version"] = 2 }), "schema_version 2, want 1"},
		{"missing scan id", edit(t, good, func(d map[string]any) { delete(d["scan"].(map[string]any), "id") }), "scan id, started_at and finished_at are required"},
		{"results null", edit(t, good, func(d map[string]any) { d["results"] = nil }), "results, coverage and controls must be present"},
		{"missing controls", edit(t, good, func(d map[string]any) { delete(d, "controls") }), "results, coverage and controls must be present"},
		{"bad coverage status", edit(t, good, func(d map[string]any) { d["coverage"].([]any)[0].(map[string]any)["status"] = "partial" }), `coverage[0]: status "partial"`},
		{"bad result status", edit(t, good, func(d map[string]any) { d["results"].([]any)[0].(map[string]any)["status"] = "WARN" }), `results[0]: status "WARN"`},
		{"bad severity", edit(t, good, func(d map[string]any) { d["results"].([]any)[0].(map[string]any)["severity"] = "urgent" }), `results[0]: severity "urgent"`},
		{"FAIL without resource", edit(t, good, func(d map[string]any) { d["results"].([]any)[0].(map[string]any)["resource_id"] = "" }), "resource_id is required for FAIL results"},
		{"missing fingerprint", edit(t, good, func(d map[string]any) { delete(d["results"].([]any)[1].(map[string]any), "fingerprint") }), "results[1]: check_id, account_id, region, service and fingerprint are required"},
		{"bad control status", edit(t, good, func(d map[string]any) { d["controls"].([]any)[1].(map[string]any)["status"] = "PARTIAL" }), `controls[1] cis:5.3: status "PARTIAL"`},
		{"control without framework", edit(t, good, func(d map[string]any) { d["controls"].([]any)[0].(map[string]any)["framework"] = "" }), "controls[0]: framework, control_id and title are required"},
		{"manual control with results", edit(t, good, func(d map[string]any) { d["controls"].([]any)[3].(map[string]any)["passed"] = 2 }), "controls[3] cis:1.1: a MANUAL control has no results"},
		{"negative control count", edit(t, good, func(d map[string]any) { d["controls"].([]any)[0].(map[string]any)["errors"] = -1 }), "controls[0] cis:5.2: negative count"},
		{"unknown control field", edit(t, good, func(d map[string]any) { d["controls"].([]any)[0].(map[string]any)["level"] = 1 }), `unknown field "level"`},
		{"not JSON", []byte("{"), "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeScan(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DecodeScan error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
	// An ERROR result for a whole scope has no resource and is valid.
	scan, err := DecodeScan(good)
	if err != nil {
		t.Fatal(err)
	}
	if last := scan.Results[len(scan.Results)-1]; last.Status != model.StatusError || last.ResourceID != "" {
		t.Errorf("scope ERROR result = %+v", last)
	}
}

func TestReadScanMissingFile(t *testing.T) {
	if _, err := ReadScan(filepath.Join(t.TempDir(), "nope.json")); err == nil || !strings.Contains(err.Error(), "read scan") {
		t.Errorf("ReadScan error = %v", err)
	}
}

func TestCSV(t *testing.T) {
	scan := sampleScan()
	scan.Results = scan.Results[:2]
	scan.Results[0].Message = "=cmd()"
	scan.Results[0].ResourceID = "+sg-evil"
	scan.Results[0].Controls = []string{"cis:5.2", "pci:1.3"}
	scan.Results[1].ResourceID = "@SUM(A1)"
	scan.Results[1].Message = "-2+3"
	scan.Results[1].ResourceARN = "\tcell"
	scan.Results[0].AccountName = "=Prod"
	var buf bytes.Buffer
	if err := (CSV{}).Write(&buf, scan); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("findings.csv does not parse: %v", err)
	}
	wantHeader := []string{"check_id", "status", "severity", "family", "account_id", "region", "service",
		"resource_type", "resource_id", "resource_arn", "message", "evidence", "controls", "fingerprint", "account_name",
		"waiver_id", "waiver_owner", "waiver_expires", "scan_id", "title", "remediation", "resource_name"}
	if !reflect.DeepEqual(rows[0], wantHeader) {
		t.Errorf("header = %v", rows[0])
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want header + 2", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	r := rows[1]
	checks := map[string]string{
		"check_id": "ec2-sg-open-admin-port", "status": "FAIL", "severity": "critical", "family": "public-exposure",
		"region": "eu-west-1", "resource_id": "'+sg-evil", "message": "'=cmd()", "controls": "cis:5.2;pci:1.3",
		"fingerprint": scan.Results[0].Fingerprint, "evidence": `{"rule":"tcp 22","source":"0.0.0.0/0"}`,
		"account_name": "'=Prod",
	}
	for k, v := range checks {
		if r[col[k]] != v {
			t.Errorf("row 1 %s = %q, want %q", k, r[col[k]], v)
		}
	}
	r = rows[2]
	for k, v := range map[string]string{"resource_id": "'@SUM(A1)", "message": "'-2+3", "resource_arn": "'\tcell", "controls": "", "account_name": ""} {
		if r[col[k]] != v {
			t.Errorf("row 2 %s = %q, want %q", k, r[col[k]], v)
		}
	}
}

func TestNeutraliseFormula(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "=cmd()": "'=cmd()", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"sg-1": "sg-1", "a=b": "a=b", "'quoted": "'quoted",
	} {
		if got := neutraliseFormula(in); got != want {
			t.Errorf("neutraliseFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

// jsonFirst is names with "json" moved to the front, the order ParseFormats
// gives.
func jsonFirst(names []string) []string {
	out := []string{"json"}
	for _, n := range names {
		if n != "json" {
			out = append(out, n)
		}
	}
	return out
}

func TestParseFormats(t *testing.T) {
	names := func(ws []Writer) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.Format())
		}
		return out
	}
	tests := []struct {
		list    []string
		want    []string
		wantErr string
	}{
		{nil, jsonFirst(FormatNames()), ""},
		{[]string{"json"}, []string{"json"}, ""},
		{[]string{"csv"}, []string{"json", "csv"}, ""},
		{[]string{" CSV ", "csv", "json", ""}, []string{"json", "csv"}, ""},
		{[]string{"xlsx-nope"}, nil, `unknown format "xlsx-nope"`},
		{[]string{"csv", "pdf-nope"}, nil, `unknown format "pdf-nope"`},
	}
	for _, tt := range tests {
		got, err := ParseFormats(tt.list)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFormats(%q) error = %v, want %q", tt.list, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFormats(%q): %v", tt.list, err)
			continue
		}
		if !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("ParseFormats(%q) = %v, want %v", tt.list, names(got), tt.want)
		}
	}
	for name, w := range Writers() {
		if w.Format() != name {
			t.Errorf("writer %q reports format %q", name, w.Format())
		}
	}
	if (JSON{}).FileName() != "scan.json" || (CSV{}).FileName() != "findings.csv" {
		t.Error("file names changed")
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, sampleScan(), "/tmp/out"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"posture scan scan-0001: 1 account(s), 2 region(s) (eu-west-1, us-east-1), 3 check(s), 42s",
		"results: 5  PASS 1  FAIL 3  ERROR 1",
		"failures by severity: critical 2, high 1",
		"worst failing checks:",
		"coverage gaps: 1 of 2 scopes incomplete",
		"111122223333 us-east-1 rds: DescribeDBInstances: AccessDenied: not authorized",
		"reports written to /tmp/out",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary does not contain %q:\n%s", want, out)
		}
	}
	// Worst checks: critical before high.
	crit := strings.Index(out, "ec2-sg-open-admin-port")
	high := strings.Index(out, "s3-bucket-public")
	if crit < 0 || high < 0 || crit > high {
		t.Errorf("worst checks out of order:\n%s", out)
	}
	if !strings.Contains(out, "2 failed") || !strings.Contains(out, "1 failed") {
		t.Errorf("worst checks lack counts:\n%s", out)
	}
	if strings.Contains(out, "rds-instance-public") {
		t.Errorf("an ERROR-only check is listed among failing checks:\n%s", out)
	}
	for _, want := range []string{
		"\nframework  controls passing  PASS  FAIL  ERROR  WAIVED  NOT_APPLICABLE  MANUAL\n",
		"\ncis        1/3 (33%)         1     1     1      0       0               1\n",
		"\nsoc2       -                 0     0     0      0       1               0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("framework table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "public-exposure  1     3     1") {
		t.Errorf("family table missing or wrong:\n%s", out)
	}
}

// TestWriteSummaryAccounts: a scan of several accounts lists them, the
// most critical and high failures first, an unreached account with its gap,
// and at most accountRows of them.
func TestWriteSummaryAccounts(t *testing.T) {
	scan := &model.Scan{Scan: model.ScanInfo{ID: "scan-0003",
		AccountNames: map[string]string{"111111111111": "prod", "222222222222": "sandbox"}}}
	add := func(account string, status model.Status, sev model.Severity, n int) {
		for range n {
			scan.Results = append(scan.Results, model.Result{CheckID: "c", AccountID: account, Status: status, Severity: sev, Family: model.FamilyPublicExposure})
		}
	}
	add("111111111111", model.StatusFail, model.SeverityCritical, 2)
	add("111111111111", model.StatusPass, model.SeverityLow, 5)
	add("222222222222", model.StatusFail, model.SeverityMedium, 9)
	add("333333333333", model.StatusError, model.SeverityHigh, 4)
	scan.Coverage = []model.Coverage{{AccountID: "333333333333", Region: model.GlobalRegion, Service: model.ServiceAccount,
		Status: model.CoverageError, Error: "AssumeRole: AccessDenied"}}
	for i := range 12 {
		id := fmt.Sprintf("9999999999%02d", i)
		scan.Scan.Accounts = append(scan.Scan.Accounts, id)
		add(id, model.StatusPass, model.SeverityLow, 1)
	}
	scan.Scan.Accounts = append(scan.Scan.Accounts, "111111111111", "222222222222", "333333333333")
	var buf bytes.Buffer
	if err := WriteSummary(&buf, scan, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "111111111111") || strings.HasPrefix(l, "222222222222") || strings.HasPrefix(l, "333333333333") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{
		"111111111111 prod 5 2 2 0 0",
		"222222222222 sandbox 0 9 0 0 0",
		"333333333333 - 0 0 0 4 1",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("account rows %q, want %q\n%s", lines, want, out)
	}
	if !strings.Contains(out, "... and 5 more accounts") {
		t.Errorf("want the list cut after %d accounts:\n%s", accountRows, out)
	}

	buf.Reset()
	if err := WriteSummary(&buf, sampleScan(), ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "critical+high") {
		t.Errorf("a one-account scan has no account table:\n%s", buf.String())
	}
}

func TestWriteSummaryFamiliesInProductOrder(t *testing.T) {
	scan := &model.Scan{Scan: model.ScanInfo{ID: "scan-0002"}}
	for _, f := range []model.Family{model.FamilyUnencrypted, model.FamilyCredentials, model.FamilyPublicExposure, model.FamilyOutsideVPC} {
		scan.Results = append(scan.Results, model.Result{CheckID: "x-" + string(f), Family: f, Status: model.StatusPass, Severity: model.SeverityLow})
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, scan, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	last := -1
	for _, f := range model.Families() {
		i := strings.Index(out, "\n"+string(f)+" ")
		if i < 0 || i < last {
			t.Fatalf("family %s missing or out of product order:\n%s", f, out)
		}
		last = i
	}
}

func TestWriteSummaryCleanScan(t *testing.T) {
	scan := sampleScan()
	scan.Results = scan.Results[2:3] // one PASS
	scan.Coverage = scan.Coverage[:1]
	var buf bytes.Buffer
	if err := WriteSummary(&buf, scan, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"failures by severity: none", "coverage: complete (1 scopes collected)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary does not contain %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"worst failing checks", "coverage gaps", "reports written"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("summary of a clean scan contains %q:\n%s", unwanted, out)
		}
	}
}

func TestWriteSummaryManyGapsAndChecks(t *testing.T) {
	scan := sampleScan()
	scan.Results = nil
	scan.Coverage = nil
	for i := 0; i < 12; i++ {
		id := "ec2-check-" + string(rune('a'+i))
		scan.Results = append(scan.Results, result(id, model.StatusFail, model.SeverityLow, "eu-west-1", "r"))
		scan.Coverage = append(scan.Coverage, model.Coverage{AccountID: "111122223333", Region: "r" + string(rune('a'+i)), Service: "ec2",
			Status: model.CoverageError, Error: strings.Repeat("x", 200)})
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, scan, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"... and 4 more\n", "... and 2 more (see coverage in scan.json)", strings.Repeat("x", 160) + "...", "coverage gaps: 12 of 12"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary does not contain %q:\n%s", want, out)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteSummaryReportsWriteErrors(t *testing.T) {
	if err := WriteSummary(failingWriter{}, sampleScan(), ""); err == nil {
		t.Error("WriteSummary to a failing writer returned nil")
	}
}

// TestWriteSummaryWorstUsesHighestFailureSeverity: a check whose results
// carry their own severity (ACM: an expiring certificate medium, an expired
// one high) ranks by the highest severity among its failures, whichever
// failure came first, and a passing result's severity does not count.
func TestWriteSummaryWorstUsesHighestFailureSeverity(t *testing.T) {
	scan := &model.Scan{Scan: model.ScanInfo{ID: "scan-0003"}}
	acm := func(status model.Status, sev model.Severity, id string) model.Result {
		r := result("acm-certificate-expiring", status, sev, "us-east-1", id)
		r.Family = model.FamilyCredentials
		return r
	}
	scan.Results = []model.Result{
		acm(model.StatusPass, model.SeverityCritical, "c-0"), // a PASS never ranks a check
		acm(model.StatusFail, model.SeverityMedium, "c-1"),
		acm(model.StatusFail, model.SeverityMedium, "c-2"),
		acm(model.StatusFail, model.SeverityHigh, "c-3"),
		result("ec2-sg-default-not-restricted", model.StatusFail, model.SeverityMedium, "us-east-1", "sg-1"),
		result("ec2-sg-default-not-restricted", model.StatusFail, model.SeverityMedium, "us-east-1", "sg-2"),
		result("ec2-sg-default-not-restricted", model.StatusFail, model.SeverityMedium, "us-east-1", "sg-3"),
		result("ec2-sg-default-not-restricted", model.StatusFail, model.SeverityMedium, "us-east-1", "sg-4"),
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, scan, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	want := "\nworst failing checks:\n" +
		fmt.Sprintf("  %-9s %-38s %d failed\n", "high", "acm-certificate-expiring", 3) +
		fmt.Sprintf("  %-9s %-38s %d failed\n", "medium", "ec2-sg-default-not-restricted", 4)
	if !strings.Contains(out, want) {
		t.Errorf("summary does not rank by the highest failing severity; want\n%s\nin\n%s", want, out)
	}
}

// findings.csv is for triage: failures first, the worst first, then by
// check, account, region and resource; every row names the scan, the
// check's title and remediation, and the resource's name when it has one.
func TestCSVTriageOrder(t *testing.T) {
	res := func(check string, status model.Status, sev model.Severity, account, resource string, evidence map[string]any) model.Result {
		return model.Result{CheckID: check, Status: status, Severity: sev, AccountID: account, Region: "us-east-1",
			ResourceID: resource, Evidence: evidence}
	}
	scan := &model.Scan{
		Scan: model.ScanInfo{ID: "scan-1"},
		Results: []model.Result{
			res("a-pass", model.StatusPass, model.SeverityCritical, "1", "r1", nil),
			res("b-low", model.StatusFail, model.SeverityLow, "1", "r2", nil),
			res("c-err", model.StatusError, model.SeverityHigh, "1", "", nil),
			res("d-crit", model.StatusFail, model.SeverityCritical, "2", "sg-2", map[string]any{"group_name": "web"}),
			res("d-crit", model.StatusFail, model.SeverityCritical, "1", "i-1", map[string]any{"name": "bastion"}),
			res("e-muted", model.StatusMuted, model.SeverityHigh, "1", "r3", nil),
		},
		Catalogue: []model.CheckInfo{{ID: "d-crit", Title: "Open door", Remediation: "Close it"}},
	}
	var buf bytes.Buffer
	if err := (CSV{}).Write(&buf, scan); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0]+"/"+r[4]+"/"+r[18]+"/"+r[19]+"/"+r[20]+"/"+r[21])
	}
	want := []string{
		"d-crit/1/scan-1/Open door/Close it/bastion",
		"d-crit/2/scan-1/Open door/Close it/web",
		"b-low/1/scan-1///",
		"c-err/1/scan-1///",
		"e-muted/1/scan-1///",
		"a-pass/1/scan-1///",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

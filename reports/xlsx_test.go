package reports

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/posture-dev/posture/internal/model"
)

const (
	acctProd    = "111122223333"
	acctSandbox = "444455556666"
)

// evidenceScan is a realistic scan of two named accounts and two regions:
// three frameworks (one with an ID long and odd enough to test the sheet
// names), failures, passes, a muted failure with its waiver, an expired
// waiver, a scope-wide gap with ERROR results, a cancelled scope, a scope with
// nothing in it, and first-seen times.
func evidenceScan() *model.Scan {
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	first := start.Add(-48 * time.Hour)
	res := func(check string, status model.Status, sev model.Severity, fam model.Family, acct, region, id string, controls ...string) model.Result {
		service := strings.SplitN(check, "-", 2)[0]
		r := model.Result{
			CheckID: check, Status: status, Severity: sev, Family: fam, AccountID: acct, Region: region, Service: service,
			ResourceType: "AWS::" + strings.ToUpper(service) + "::Thing", ResourceID: id,
			Message:  fmt.Sprintf("%s is %s", id, strings.ToLower(string(status))),
			Evidence: map[string]any{"port": 22, "source": "0.0.0.0/0", "rule": map[string]any{"protocol": "tcp", "from": 22, "to": 22}},
			Controls: append([]string{}, controls...), Fingerprint: model.Fingerprint(check, acct, region, id),
			FirstSeen: &first,
		}
		if id != "" {
			r.ResourceARN = "arn:aws:" + service + ":" + region + ":" + acct + ":" + id
		}
		if acct == acctProd {
			r.AccountName = "prod"
		}
		return r
	}
	const long = "acme-internal-cloud-controls:2026/v1"
	sshCtl := []string{"cis-aws-5.0.0:5.2", "soc2:CC6.6", long + ":NET-1"}
	s3Ctl := []string{"cis-aws-5.0.0:2.1.4", "soc2:CC6.6"}
	iamCtl := []string{"cis-aws-5.0.0:1.14"}
	rdsCtl := []string{"soc2:CC6.1", long + ":NET-2"}
	results := []model.Result{
		res("ec2-sg-open-admin-port", model.StatusFail, model.SeverityCritical, model.FamilyPublicExposure, acctProd, "eu-west-1", "sg-0a1", sshCtl...),
		res("ec2-sg-open-admin-port", model.StatusPass, model.SeverityCritical, model.FamilyPublicExposure, acctProd, "eu-west-1", "sg-0a2", sshCtl...),
		res("s3-bucket-public", model.StatusMuted, model.SeverityHigh, model.FamilyPublicExposure, acctProd, "eu-west-1", "acme-www", s3Ctl...),
		res("s3-bucket-public", model.StatusPass, model.SeverityHigh, model.FamilyPublicExposure, acctProd, "eu-west-1", "acme-logs", s3Ctl...),
		res("iam-access-key-unrotated", model.StatusFail, model.SeverityMedium, model.FamilyCredentials, acctProd, model.GlobalRegion, "AKIAEXAMPLE1", iamCtl...),
		res("ec2-sg-open-admin-port", model.StatusFail, model.SeverityCritical, model.FamilyPublicExposure, acctSandbox, "eu-west-1", "sg-0b1", sshCtl...),
		res("rds-instance-public", model.StatusError, model.SeverityHigh, model.FamilyPublicExposure, acctSandbox, "us-east-1", "", rdsCtl...),
		res("s3-bucket-public", model.StatusPass, model.SeverityHigh, model.FamilyPublicExposure, acctSandbox, "us-east-1", "sandbox-tmp", s3Ctl...),
	}
	results[2].WaiverID = "W-1"
	results[2].Message = "bucket policy allows s3:GetObject to *"
	results[6].Message = "not evaluated: db-instances could not be collected"
	results[6].Evidence = nil
	results[6].FirstSeen = &start
	return &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.4.0"},
		Scan: model.ScanInfo{
			ID: "scan-20261130-0200", StartedAt: start, FinishedAt: start.Add(3*time.Minute + 21*time.Second),
			Accounts: []string{acctProd, acctSandbox}, Regions: []string{"eu-west-1", "us-east-1"},
			RequestedRegions: []string{"eu-west-1", "us-east-1", "ap-south-2"},
			Checks:           []string{"ec2-sg-open-admin-port", "iam-access-key-unrotated", "rds-instance-public", "s3-bucket-public"},
			Thresholds:       map[string]int{"credentials.max_key_age_days": 90, "credentials.unused_days": 45},
			AccountNames:     map[string]string{acctProd: "prod", acctSandbox: "sandbox"},
			Principal:        "arn:aws:sts::111122223333:assumed-role/audit/posture",
			Invocation:       "posture scan --org --config posture.yaml --baseline prev/scan.json",
			ConfigFile:       "posture.yaml", ConfigSHA256: strings.Repeat("ab", 32),
			Baseline: &model.ScanRef{ID: "scan-20261129-0200", StartedAt: start.Add(-24 * time.Hour),
				FinishedAt: start.Add(-24*time.Hour + 3*time.Minute), ToolVersion: "1.3.9"},
		},
		Coverage: []model.Coverage{
			{AccountID: acctProd, Region: "eu-west-1", Service: "ec2", Status: model.CoverageOK, Resources: 2, Results: 2},
			{AccountID: acctProd, Region: "eu-west-1", Service: "s3", Status: model.CoverageOK, Resources: 2, Results: 2},
			{AccountID: acctProd, Region: model.GlobalRegion, Service: "iam", Status: model.CoverageOK, Resources: 1, Results: 1},
			{AccountID: acctProd, Region: "us-east-1", Service: "redshift", Status: model.CoverageOK},
			{AccountID: acctSandbox, Region: "eu-west-1", Service: "ec2", Status: model.CoverageOK, Resources: 1, Results: 1},
			{AccountID: acctSandbox, Region: "us-east-1", Service: "rds", Status: model.CoverageError,
				Error: "DescribeDBInstances: AccessDenied", Results: 1, Errors: 1,
				Failures: []model.Failure{
					{Part: "db-instances", Operation: "DescribeDBInstances", Code: "AccessDenied", Error: "AccessDenied: not authorized"},
					{Part: "db-snapshots", Operation: "DescribeDBSnapshots", Resource: "snap-1", Code: "Throttling", Error: "Rate exceeded"},
				}},
			{AccountID: acctSandbox, Region: "us-east-1", Service: "s3", Status: model.CoverageOK, Resources: 1, Results: 1},
			{AccountID: acctSandbox, Region: "ap-south-2", Service: model.ServiceRegion, Status: model.CoverageError,
				Error: "region not enabled", Failures: []model.Failure{{Part: "region", Operation: "DescribeRegions", Code: model.CodeRegionNotEnabled, Error: "not enabled"}}},
		},
		Results: results,
		Controls: []model.ControlStatus{
			{Framework: "cis-aws-5.0.0", ControlID: "1.14", Title: "Access keys rotated every 90 days", Status: model.ControlFail, Coverage: model.CoverageFull,
				Failed: 1, Accounts: []string{acctProd}, Checks: []string{"iam-access-key-unrotated"}},
			{Framework: "cis-aws-5.0.0", ControlID: "2.1.4", Title: "S3 buckets block public access", Status: model.ControlWaived, Coverage: model.CoveragePartial,
				Passed: 2, Muted: 1, Accounts: []string{}, Checks: []string{"s3-bucket-public"}},
			{Framework: "cis-aws-5.0.0", ControlID: "5.2", Title: "No security group allows admin ports from anywhere", Status: model.ControlFail, Coverage: model.CoverageFull,
				Passed: 1, Failed: 2, Accounts: []string{acctProd, acctSandbox}, Checks: []string{"ec2-sg-open-admin-port"}},
			{Framework: "cis-aws-5.0.0", ControlID: "1.1", Title: "Maintain current contact details", Status: model.ControlManual,
				Accounts: []string{}, Checks: []string{}, Note: "no automated check: needs manual evidence"},
			{Framework: "soc2", ControlID: "CC6.1", Title: "Logical access security", Status: model.ControlError, Coverage: model.CoveragePartial,
				Errors: 1, Accounts: []string{acctSandbox}, Checks: []string{"rds-instance-public"}},
			{Framework: "soc2", ControlID: "CC6.6", Title: "Boundary protection", Status: model.ControlFail, Coverage: model.CoveragePartial,
				Passed: 3, Failed: 2, Muted: 1, Accounts: []string{acctProd, acctSandbox}, Checks: []string{"ec2-sg-open-admin-port", "s3-bucket-public"}},
			{Framework: "soc2", ControlID: "CC7.1", Title: "Monitoring", Status: model.ControlNotApplicable, Coverage: model.CoveragePartial,
				Accounts: []string{}, Checks: []string{"redshift-cluster-public"}, Note: "no resource in scope"},
			{Framework: long, ControlID: "NET-1", Title: "No admin port open to the internet", Status: model.ControlFail, Coverage: model.CoverageFull,
				Passed: 1, Failed: 2, Accounts: []string{acctProd, acctSandbox}, Checks: []string{"ec2-sg-open-admin-port"}},
			{Framework: long, ControlID: "NET-2", Title: "No public databases", Status: model.ControlError, Coverage: model.CoverageFull,
				Errors: 1, Accounts: []string{acctSandbox}, Checks: []string{"rds-instance-public"}},
			{Framework: long, ControlID: "GOV-3", Title: "Access reviewed every quarter", Status: model.ControlManual,
				Accounts: []string{}, Checks: []string{}, Note: "manual"},
		},
		Frameworks: []model.Framework{
			{ID: "cis-aws-5.0.0", Name: "CIS Amazon Web Services Foundations Benchmark", Version: "5.0.0", Publisher: "CIS", URL: "https://www.cisecurity.org/benchmark/amazon_web_services", Source: "builtin:cis-aws-5.0.0"},
			{ID: "soc2", Name: "SOC 2 Trust Services Criteria", Version: "2017", Publisher: "AICPA", Source: "builtin:soc2"},
			{ID: long, Name: "Acme cloud controls", Version: "2026.1", Publisher: "Acme Security", Scope: "Cloud controls only", Source: "acme.yaml"},
		},
		Catalogue: []model.CheckInfo{
			{ID: "ec2-sg-open-admin-port", Title: "Security group opens an admin port to the internet", Family: model.FamilyPublicExposure, Service: "ec2",
				Severity: model.SeverityCritical, ResourceType: "AWS::EC2::SecurityGroup", Rationale: "SSH and RDP from anywhere invite brute force.",
				Remediation: "Restrict the rule to known CIDRs.", References: []string{"https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"}},
			{ID: "iam-access-key-unrotated", Title: "Access key older than the rotation threshold", Family: model.FamilyCredentials, Service: "iam",
				Severity: model.SeverityMedium, ResourceType: "AWS::IAM::AccessKey", Rationale: "Old keys leak.", Remediation: "Rotate the key."},
			{ID: "rds-instance-public", Title: "RDS instance publicly accessible", Family: model.FamilyPublicExposure, Service: "rds",
				Severity: model.SeverityHigh, ResourceType: "AWS::RDS::DBInstance", Rationale: "Databases belong in private subnets.", Remediation: "Set PubliclyAccessible to false."},
			{ID: "s3-bucket-public", Title: "S3 bucket readable by anyone", Family: model.FamilyPublicExposure, Service: "s3",
				Severity: model.SeverityHigh, ResourceType: "AWS::S3::Bucket", Rationale: "Public buckets leak data.", Remediation: "Enable Block Public Access."},
		},
		Waivers: []model.Waiver{
			{ID: "W-1", Check: "s3-bucket-public", Resources: []string{"acme-www"}, Accounts: []string{acctProd}, Reason: "public website",
				Owner: "web-team", Ticket: "SEC-42", Expires: "2027-06-30", ApprovedBy: "ciso@example.com", State: model.WaiverActive, Muted: 1},
			{ID: "W-2", Check: "ec2-sg-open-admin-port", Resources: []string{"sg-old*"}, Reason: "migration", Owner: "ops",
				Expires: "2026-01-31", State: model.WaiverExpired},
		},
	}
}

func evidenceDiff(scan *model.Scan) *model.Diff {
	r := scan.Results
	entry := func(x model.Result, old, new model.Status) model.DiffEntry {
		return model.DiffEntry{Fingerprint: x.Fingerprint, CheckID: x.CheckID, AccountID: x.AccountID, AccountName: x.AccountName,
			Region: x.Region, Service: x.Service, ResourceType: x.ResourceType, ResourceID: x.ResourceID, ResourceARN: x.ResourceARN,
			OldStatus: old, NewStatus: new, NewSeverity: x.Severity, Message: x.Message}
	}
	notObserved := entry(r[6], model.StatusFail, "")
	notObserved.ResourceID, notObserved.Reason = "db-legacy", "coverage gap (AccessDenied)"
	return &model.Diff{
		SchemaVersion: 1,
		Context: model.DiffContext{Old: *scan.Scan.Baseline,
			New:           model.ScanRef{ID: scan.Scan.ID, StartedAt: scan.Scan.StartedAt, FinishedAt: scan.Scan.FinishedAt, ToolVersion: scan.Tool.Version},
			WindowSeconds: 86421, Warnings: []string{"thresholds differ: credentials.max_key_age_days 120 -> 90"}},
		New:            []model.DiffEntry{entry(r[0], "", model.StatusFail)},
		Resolved:       []model.DiffEntry{entry(r[1], model.StatusFail, model.StatusPass)},
		Changed:        []model.DiffEntry{entry(r[2], model.StatusFail, model.StatusMuted)},
		NotObserved:    []model.DiffEntry{notObserved},
		UnchangedCount: 3,
		Controls: []model.DiffFramework{{Framework: "cis-aws-5.0.0",
			Changes:     []model.ControlChange{{ControlID: "2.1.4", Title: "S3 buckets block public access", Old: model.ControlFail, New: model.ControlWaived}},
			Transitions: map[model.ControlState]map[model.ControlState]int{model.ControlFail: {model.ControlWaived: 1}, model.ControlPass: {model.ControlPass: 2}}}},
	}
}

func renderXLSX(t testing.TB, in Input) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (XLSX{}).Write(&buf, in); err != nil {
		t.Fatalf("render evidence.xlsx: %v", err)
	}
	return buf.Bytes()
}

func openXLSX(t testing.TB, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("evidence.xlsx does not open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func rows(t testing.TB, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rs, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("rows of %s: %v", sheet, err)
	}
	return rs
}

// colIndex maps header names to their 0-based column.
func colIndex(header []string) map[string]int {
	m := map[string]int{}
	for i, h := range header {
		m[h] = i
	}
	return m
}

func cellOf(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// tableRows returns the rows of the one table of a sheet, header first.
func tableRows(t testing.TB, f *excelize.File, sheet string) (excelize.Table, [][]string) {
	t.Helper()
	tables, err := f.GetTables(sheet)
	if err != nil || len(tables) != 1 {
		t.Fatalf("tables of %s = %v, %v; want one", sheet, tables, err)
	}
	tb := tables[0]
	parts := strings.Split(tb.Range, ":")
	c1, r1, _ := excelize.CellNameToCoordinates(parts[0])
	c2, r2, _ := excelize.CellNameToCoordinates(parts[1])
	all := rows(t, f, sheet)
	var out [][]string
	for r := r1; r <= r2; r++ {
		var row []string
		if r-1 < len(all) {
			row = all[r-1]
		}
		var cut []string
		for c := c1; c <= c2; c++ {
			cut = append(cut, cellOf(row, c-1))
		}
		out = append(out, cut)
	}
	return tb, out
}

// aboutFacts reads the About sheet's label/value pairs.
func aboutFacts(t testing.TB, f *excelize.File) map[string]string {
	t.Helper()
	facts := map[string]string{}
	for _, r := range rows(t, f, sheetAbout) {
		if len(r) >= 2 && r[0] != "" {
			facts[r[0]] = r[1]
		}
	}
	return facts
}

func TestXLSXSheetsAndRegistry(t *testing.T) {
	if w, ok := Writers()["xlsx"]; !ok || w.Format() != "xlsx" {
		t.Fatalf(`Writers()["xlsx"] = %v`, w)
	}
	scan := evidenceScan()
	files := XLSX{}.Files(Input{Scan: scan})
	if len(files) != 1 || files[0].Name != "evidence.xlsx" {
		t.Fatalf("files = %+v", files)
	}
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan, Diff: evidenceDiff(scan)}))
	want := []string{"About", "Summary", "Controls - cis-aws-5.0.0", "Controls - soc2", "Controls - acme-internal-cloud-",
		"Findings", "Coverage", "Checks", "Waivers", "Changes"}
	if got := f.GetSheetList(); !reflect.DeepEqual(got, want) {
		t.Errorf("sheets = %q, want %q", got, want)
	}
	// Without waivers and diff, no Waivers or Changes sheet.
	scan.Waivers = nil
	f = openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	for _, s := range f.GetSheetList() {
		if s == sheetWaivers || s == sheetChanges {
			t.Errorf("sheet %s present without waivers or diff: %q", s, f.GetSheetList())
		}
	}
}

func TestControlSheetNames(t *testing.T) {
	got := controlSheetNames([]string{"cis-aws-5.0.0", "a/b:c*d?e[f]g\\h", "ACME-LONG-FRAMEWORK-NAME-2026-X", "acme-long-framework-name-2026-y",
		"acme-long-framework-name-2026-z", "x'", "cis-aws-5.0.0"})
	want := map[string]string{
		"cis-aws-5.0.0":                   "Controls - cis-aws-5.0.0",
		"a/b:c*d?e[f]g\\h":                "Controls - a_b_c_d_e_f_g_h",
		"ACME-LONG-FRAMEWORK-NAME-2026-X": "Controls - ACME-LONG-FRAMEWORK-",
		"acme-long-framework-name-2026-y": "Controls - acme-long-framew (2)",
		"acme-long-framework-name-2026-z": "Controls - acme-long-framew (3)",
		"x'":                              "Controls - x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("controlSheetNames = %q\nwant %q", got, want)
	}
	for _, name := range got {
		if utf16Len(name) > 31 || strings.ContainsAny(name, `[]:*?/\`) {
			t.Errorf("invalid sheet name %q", name)
		}
	}
	// A name that is a fixed sheet's is never taken.
	if n := controlSheetNames([]string{"x"})["x"]; n != "Controls - x" {
		t.Errorf("got %q", n)
	}
}

func TestXLSXAbout(t *testing.T) {
	scan := evidenceScan()
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	facts := aboutFacts(t, f)
	sum := sha256.Sum256(encode(t, scan))
	want := map[string]string{
		"Scan ID":                                "scan-20261130-0200",
		"Tool":                                   "posture 1.4.0",
		"Started (UTC)":                          "2026-11-30T02:00:00Z",
		"Finished (UTC)":                         "2026-11-30T02:03:21Z",
		"Duration":                               "3m21s (201 seconds)",
		"Run by (principal)":                     "arn:aws:sts::111122223333:assumed-role/audit/posture",
		"Invocation":                             "posture scan --org --config posture.yaml --baseline prev/scan.json",
		"Config file":                            "posture.yaml",
		"Config file SHA-256":                    strings.Repeat("ab", 32),
		"Baseline scan":                          "scan-20261129-0200 (started 2026-11-29T02:00:00Z, finished 2026-11-29T02:03:00Z)",
		"Cancelled":                              "no",
		"Coverage":                               "incomplete: 2 gaps of 8 scopes (see Coverage); the checks over them report ERROR",
		"scan.json SHA-256":                      hex.EncodeToString(sum[:]),
		"Accounts":                               "2 (listed below)",
		"Regions requested":                      "eu-west-1, us-east-1, ap-south-2",
		"Regions scanned":                        "2: eu-west-1, us-east-1",
		"Checks run":                             "4 (see Checks)",
		"Frameworks":                             "cis-aws-5.0.0: CIS Amazon Web Services Foundations Benchmark 5.0.0\nsoc2: SOC 2 Trust Services Criteria 2017\nacme-internal-cloud-controls:2026/v1: Acme cloud controls 2026.1",
		"Results":                                "8: PASS 3, FAIL 3, ERROR 1, MUTED 1",
		"Waivers":                                "2 (see Waivers)",
		"Threshold credentials.max_key_age_days": "90",
		"Threshold credentials.unused_days":      "45",
		acctProd:                                 "prod",
		acctSandbox:                              "sandbox",
	}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("About %q = %q, want %q", k, facts[k], v)
		}
	}
	for label, wants := range map[string][]string{
		"How the evidence was produced": {"read-only AWS API calls", "read-only guard", "whole tested population"},
		"Result statuses":               {"MUTED: a FAIL accepted by a live waiver"},
		"Control statuses":              {"WAIVED", "MANUAL"},
		"Partial coverage":              {"PASS on a partial control means only that the automated part passes"},
		"Not tested vs not applicable":  {"not tested", "not applicable"},
	} {
		for _, w := range wants {
			if !strings.Contains(facts[label], w) {
				t.Errorf("About %q = %q, want it to mention %q", label, facts[label], w)
			}
		}
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Created != "2026-11-30T02:03:21Z" || props.Modified != "2026-11-30T02:03:21Z" {
		t.Errorf("document dates = %q, %q; want the scan's finish", props.Created, props.Modified)
	}

	// A cancelled scan with complete coverage says both.
	scan.Scan.Cancelled = true
	scan.Coverage = scan.Coverage[:1]
	facts = aboutFacts(t, openXLSX(t, renderXLSX(t, Input{Scan: scan})))
	if !strings.HasPrefix(facts["Cancelled"], "yes") || facts["Coverage"] != "complete: all 1 scopes collected" {
		t.Errorf("cancelled = %q, coverage = %q", facts["Cancelled"], facts["Coverage"])
	}
}

func TestXLSXFindings(t *testing.T) {
	scan := evidenceScan()
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	tb, rs := tableRows(t, f, sheetFindings)
	if tb.Range != "A1:S9" || tb.Name != "Findings" {
		t.Errorf("Findings table = %s %s, want A1:S9", tb.Name, tb.Range)
	}
	if all := rows(t, f, sheetFindings); len(all) != len(scan.Results)+1 {
		t.Errorf("Findings has %d rows, want %d results + header", len(all), len(scan.Results))
	}
	if !reflect.DeepEqual(rs[0], findingsHeader) {
		t.Errorf("header = %q", rs[0])
	}
	if part := pkgPart(t, f, "xl/tables/table"+tableID(t, f, "Findings")+".xml"); !strings.Contains(part, `<autoFilter ref="A1:S9"`) {
		t.Errorf("Findings table has no autofilter over its range: %s", part)
	}
	panes, err := f.GetPanes(sheetFindings)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("Findings panes = %+v, %v; want the header row frozen", panes, err)
	}
	col := colIndex(rs[0])
	seen := map[int]bool{}
	lastCheck := ""
	for _, row := range rs[1:] {
		i, err := strconv.Atoi(row[col["result_index"]])
		if err != nil || i < 0 || i >= len(scan.Results) || seen[i] {
			t.Fatalf("result_index %q is not a new index of results", row[col["result_index"]])
		}
		seen[i] = true
		r := scan.Results[i]
		if row[col["check_id"]] < lastCheck {
			t.Errorf("Findings not grouped by check: %s after %s", row[col["check_id"]], lastCheck)
		}
		lastCheck = row[col["check_id"]]
		firstSeen := r.FirstSeen.UTC().Format(time.RFC3339)
		for name, want := range map[string]string{
			"check_id": r.CheckID, "status": string(r.Status), "severity": string(r.Severity), "family": string(r.Family),
			"account_id": r.AccountID, "account_name": r.AccountName, "region": r.Region, "service": r.Service,
			"resource_type": r.ResourceType, "resource_id": r.ResourceID, "resource_arn": r.ResourceARN, "message": r.Message,
			"controls": strings.Join(r.Controls, "; "), "waiver_id": r.WaiverID, "first_seen": firstSeen, "fingerprint": r.Fingerprint,
		} {
			if got := cellOf(row, col[name]); got != want {
				t.Errorf("results[%d] %s = %q, want %q", i, name, got, want)
			}
		}
		wantEvidence := ""
		if r.Evidence != nil {
			wantEvidence = `{"port":22,"rule":{"from":22,"protocol":"tcp","to":22},"source":"0.0.0.0/0"}`
		}
		if got := cellOf(row, col["evidence"]); got != wantEvidence {
			t.Errorf("results[%d] evidence = %q, want %q", i, got, wantEvidence)
		}
	}
	if len(seen) != len(scan.Results) {
		t.Errorf("Findings holds %d of %d results", len(seen), len(scan.Results))
	}
	// The check title comes from the catalogue.
	if got := cellOf(rs[1], col["check_title"]); got != "Security group opens an admin port to the internet" {
		t.Errorf("first row title = %q", got)
	}
}

// findingsRowOf follows an internal link to Findings and returns the row it
// lands on (1-based), failing when the link does not point at an existing
// result row.
func findingsRowOf(t *testing.T, target string, findings [][]string) int {
	t.Helper()
	m := regexp.MustCompile(`^'?Findings'?!A(\d+)$`).FindStringSubmatch(target)
	if m == nil {
		t.Fatalf("link target %q is not a cell of Findings", target)
	}
	n, _ := strconv.Atoi(m[1])
	if n < 2 || n > len(findings) {
		t.Fatalf("link target %q is outside Findings' %d rows", target, len(findings))
	}
	return n
}

func TestXLSXControls(t *testing.T) {
	scan := evidenceScan()
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	findings := rows(t, f, sheetFindings)
	fcol := colIndex(findings[0])
	sheets := controlSheetNames([]string{"cis-aws-5.0.0", "soc2", "acme-internal-cloud-controls:2026/v1"})
	links := 0
	for _, fw := range scan.Frameworks {
		sh := sheets[fw.ID]
		var want []model.ControlStatus
		for _, c := range scan.Controls {
			if c.Framework == fw.ID {
				want = append(want, c)
			}
		}
		tb, rs := tableRows(t, f, sh)
		if len(rs)-1 != len(want) {
			t.Errorf("%s: %d control rows (%s), want %d", sh, len(rs)-1, tb.Range, len(want))
			continue
		}
		if !reflect.DeepEqual(rs[0], controlsHeader) {
			t.Errorf("%s header = %q", sh, rs[0])
		}
		col := colIndex(rs[0])
		for i, c := range want {
			row := rs[i+1]
			if row[col["control_id"]] != c.ControlID || row[col["status"]] != string(c.Status) || row[col["title"]] != c.Title {
				t.Errorf("%s row %d = %q, want control %s %s", sh, i+1, row, c.ControlID, c.Status)
			}
			if got := row[col["results"]]; got != strconv.Itoa(c.Passed+c.Failed+c.Errors+c.Muted) {
				t.Errorf("%s %s results = %s", sh, c.ControlID, got)
			}
			if c.Status == model.ControlPass && c.Coverage == model.CoveragePartial && !strings.Contains(row[col["meaning"]], "automated part") {
				t.Errorf("%s %s: partial PASS meaning = %q", sh, c.ControlID, row[col["meaning"]])
			}
			cell := cellName(col["findings"]+1, controlsHeaderRow+1+i)
			ok, target, err := f.GetCellHyperLink(sh, cell)
			if err != nil {
				t.Fatal(err)
			}
			if c.Passed+c.Failed+c.Errors+c.Muted == 0 {
				if ok || row[col["findings"]] != "no result" {
					t.Errorf("%s %s (%s): link %v %q, cell %q; want none", sh, c.ControlID, c.Status, ok, target, row[col["findings"]])
				}
				continue
			}
			if !ok {
				t.Errorf("%s %s: no findings link in %s", sh, c.ControlID, cell)
				continue
			}
			links++
			n := findingsRowOf(t, target, findings)
			landed := findings[n-1]
			if !strings.Contains(landed[fcol["controls"]], c.Framework+":"+c.ControlID) || !contains(c.Checks, landed[fcol["check_id"]]) {
				t.Errorf("%s %s links to Findings row %d = %q, not one of its results", sh, c.ControlID, n, landed)
			}
			// It is the first such row.
			for k := 1; k < n-1; k++ {
				if contains(c.Checks, findings[k][fcol["check_id"]]) {
					t.Errorf("%s %s links to row %d, but row %d is of its check %s", sh, c.ControlID, n, k+1, findings[k][fcol["check_id"]])
					break
				}
			}
		}
	}
	if links != 7 {
		t.Errorf("%d control links, want 7", links)
	}
	// The Summary's counts agree with the controls.
	sum := rows(t, f, sheetSummary)
	var cis []string
	for _, r := range sum {
		if len(r) > 0 && r[0] == "cis-aws-5.0.0" {
			cis = r
		}
	}
	// framework, name, version, controls, evaluated, passing, pass rate, FAIL, ERROR, WAIVED, PASS, N/A, MANUAL, partial PASS, critical..info
	want := []string{"cis-aws-5.0.0", "CIS Amazon Web Services Foundations Benchmark", "5.0.0", "4", "3", "0", "0.00%", "2", "0", "1", "0", "0", "1", "0", "2", "0", "1", "0", "0"}
	if !reflect.DeepEqual(cis, want) {
		t.Errorf("Summary row of cis = %q\nwant %q", cis, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestXLSXChecksAndWaiversLinks(t *testing.T) {
	scan := evidenceScan()
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	findings := rows(t, f, sheetFindings)
	fcol := colIndex(findings[0])
	_, rs := tableRows(t, f, sheetChecks)
	if len(rs)-1 != len(scan.Catalogue) {
		t.Fatalf("Checks has %d rows, want %d", len(rs)-1, len(scan.Catalogue))
	}
	col := colIndex(rs[0])
	for i, c := range scan.Catalogue {
		row := rs[i+1]
		if row[col["check_id"]] != c.ID || row[col["title"]] != c.Title || row[col["remediation"]] != c.Remediation {
			t.Errorf("Checks row %d = %q", i+1, row)
		}
		ok, target, _ := f.GetCellHyperLink(sheetChecks, cellName(col["findings"]+1, i+2))
		if !ok {
			t.Errorf("check %s has no findings link", c.ID)
			continue
		}
		n := findingsRowOf(t, target, findings)
		if findings[n-1][fcol["check_id"]] != c.ID || (n > 2 && findings[n-2][fcol["check_id"]] == c.ID) {
			t.Errorf("check %s links to Findings row %d, not its first result", c.ID, n)
		}
	}
	ec2 := rs[1]
	if ec2[col["controls"]] != "cis-aws-5.0.0:5.2, soc2:CC6.6, acme-internal-cloud-controls:2026/v1:NET-1" || ec2[col["results"]] != "3" || ec2[col["failed"]] != "2" {
		t.Errorf("ec2 check row = %q", ec2)
	}

	_, ws := tableRows(t, f, sheetWaivers)
	if len(ws)-1 != 2 {
		t.Fatalf("Waivers rows = %q", ws)
	}
	wcol := colIndex(ws[0])
	if w := ws[1]; w[wcol["waiver_id"]] != "W-1" || w[wcol["approved_by"]] != "ciso@example.com" || w[wcol["state"]] != "active" ||
		w[wcol["muted"]] != "1" || w[wcol["expires"]] != "2027-06-30" || w[wcol["ticket"]] != "SEC-42" {
		t.Errorf("waiver row = %q", w)
	}
	ok, target, _ := f.GetCellHyperLink(sheetWaivers, cellName(wcol["findings"]+1, 2))
	if !ok {
		t.Fatal("active waiver has no link to its muted result")
	}
	if n := findingsRowOf(t, target, findings); findings[n-1][fcol["waiver_id"]] != "W-1" || findings[n-1][fcol["status"]] != "MUTED" {
		t.Errorf("waiver link lands on %q", findings[n-1])
	}
	if ok, _, _ := f.GetCellHyperLink(sheetWaivers, cellName(wcol["findings"]+1, 3)); ok {
		t.Error("an expired waiver that muted nothing has a link")
	}
}

func TestXLSXCoverage(t *testing.T) {
	scan := evidenceScan()
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	_, rs := tableRows(t, f, sheetCoverage)
	if len(rs)-1 != len(scan.Coverage) {
		t.Fatalf("Coverage table has %d rows, want %d coverage entries", len(rs)-1, len(scan.Coverage))
	}
	col := colIndex(rs[0])
	wantClass := []string{"tested", "tested", "tested", "not applicable: nothing in scope", "tested",
		"not tested: coverage gap (AccessDenied)", "tested", "not tested: region not enabled"}
	for i, c := range scan.Coverage {
		row := rs[i+1]
		if row[col["account_id"]] != c.AccountID || row[col["service"]] != c.Service || row[col["status"]] != string(c.Status) ||
			row[col["results"]] != strconv.Itoa(c.Results) || row[col["classification"]] != wantClass[i] {
			t.Errorf("coverage row %d = %q, want %+v classified %q", i+1, row, c, wantClass[i])
		}
	}
	all := rows(t, f, sheetCoverage)
	text := func(r []string) string { return strings.Join(r, "|") }
	var total, reconcile string
	var gapRows []string
	inGaps := false
	for _, r := range all {
		switch {
		case len(r) > 0 && r[0] == "total":
			total = text(r)
		case len(r) > 0 && strings.HasPrefix(r[0], "Reconciliation"):
			reconcile = r[0]
		case len(r) > 0 && r[0] == "Coverage gaps (not tested)":
			inGaps = true
		case inGaps && len(r) > 0 && r[0] != "account_id":
			gapRows = append(gapRows, text(r))
		}
	}
	if total != "total|8 scopes, 2 gaps|||||7|8|1|3" {
		t.Errorf("total row = %q", total)
	}
	if !strings.Contains(reconcile, "hold 8 results; Findings has 8 rows. They agree") {
		t.Errorf("reconciliation = %q", reconcile)
	}
	wantGaps := []string{
		"444455556666|sandbox|us-east-1|rds|db-instances|DescribeDBInstances||AccessDenied|AccessDenied: not authorized",
		"444455556666|sandbox|us-east-1|rds|db-snapshots|DescribeDBSnapshots|snap-1|Throttling|Rate exceeded",
		"444455556666|sandbox|ap-south-2|region|region|DescribeRegions||RegionNotEnabled|not enabled",
	}
	if !reflect.DeepEqual(gapRows, wantGaps) {
		t.Errorf("gap rows = %q\nwant %q", gapRows, wantGaps)
	}
}

func TestXLSXChanges(t *testing.T) {
	scan := evidenceScan()
	d := evidenceDiff(scan)
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan, Diff: d}))
	_, rs := tableRows(t, f, sheetChanges)
	col := colIndex(rs[0])
	var got []string
	for _, r := range rs[1:] {
		got = append(got, r[col["change"]]+" "+r[col["resource_id"]]+" "+r[col["old_status"]]+">"+r[col["new_status"]])
	}
	want := []string{"new sg-0a1 >FAIL", "resolved sg-0a2 FAIL>PASS", "changed acme-www FAIL>MUTED", "not_observed db-legacy FAIL>"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("change rows = %q, want %q", got, want)
	}
	if r := rs[4]; r[col["reason"]] != "coverage gap (AccessDenied)" {
		t.Errorf("not_observed reason = %q", r[col["reason"]])
	}
	var all []string
	for _, r := range rows(t, f, sheetChanges) {
		all = append(all, strings.Join(r, "|"))
	}
	joined := strings.Join(all, "\n")
	for _, w := range []string{
		"Old scan (baseline)|scan-20261129-0200", "New scan|scan-20261130-0200", "Old scan finished (UTC)|2026-11-29T02:03:00Z",
		"Window (old finish to new finish)|24h0m21s (86421 seconds)", "Warning|thresholds differ: credentials.max_key_age_days 120 -> 90",
		"Unchanged|3", "cis-aws-5.0.0|2.1.4|S3 buckets block public access|FAIL|WAIVED", "cis-aws-5.0.0|FAIL|WAIVED|1", "cis-aws-5.0.0|PASS|PASS|2",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("Changes lacks %q:\n%s", w, joined)
		}
	}
}

func TestXLSXTruncatesLongCells(t *testing.T) {
	scan := evidenceScan()
	long := strings.Repeat("x", 40000)
	scan.Results[0].Evidence = map[string]any{"policy": long}
	scan.Results[1].Message = strings.Repeat("😀", 20000) // 40,000 UTF-16 units
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	rs := rows(t, f, sheetFindings)
	col := colIndex(rs[0])
	byIndex := map[string][]string{}
	for _, r := range rs[1:] {
		byIndex[r[col["result_index"]]] = r
	}
	ev := byIndex["0"][col["evidence"]]
	full := len(`{"policy":""}`) + 40000
	marker := fmt.Sprintf("… [truncated, %d chars; full value in scan.json]", full)
	if !strings.HasSuffix(ev, marker) || utf16Len(ev) > 32767 || !strings.HasPrefix(ev, `{"policy":"xxx`) {
		t.Errorf("evidence cell: %d UTF-16 units, ends %q; want at most 32767 ending %q", utf16Len(ev), ev[max(0, len(ev)-80):], marker)
	}
	if utf16Len(ev) < 32700 {
		t.Errorf("evidence cut to %d units, want close to the limit", utf16Len(ev))
	}
	msg := byIndex["1"][col["message"]]
	if !utf8.ValidString(msg) || utf16Len(msg) > 32767 || !strings.HasSuffix(msg, "… [truncated, 20000 chars; full value in scan.json]") {
		t.Errorf("message cell: %d units, valid UTF-8 %v, ends %q", utf16Len(msg), utf8.ValidString(msg), msg[max(0, len(msg)-60):])
	}
	if got := clip("short"); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
}

// Text from the scanned account that starts like a formula is stored as a
// string with the quote prefix: no cell of the workbook holds a formula, and
// the value reads back unchanged.
func TestXLSXFormulaInjection(t *testing.T) {
	scan := evidenceScan()
	payloads := []string{`=HYPERLINK("http://evil.example","click")`, "+1+1", "-2+3", "@SUM(A1)", "\tcell"}
	scan.Results[0].ResourceID = payloads[0]
	scan.Results[0].Message = payloads[1]
	scan.Results[1].ResourceARN = payloads[2]
	scan.Results[1].AccountName = payloads[3]
	scan.Results[3].Message = payloads[4]
	scan.Coverage[5].Failures[0].Error = payloads[0]
	scan.Scan.AccountNames[acctSandbox] = "=cmd|' /C calc'!A0"
	data := renderXLSX(t, Input{Scan: scan})
	f := openXLSX(t, data)
	found := map[string]bool{}
	for _, sheet := range []string{sheetFindings, sheetCoverage, sheetAbout} {
		rs := rows(t, f, sheet)
		for r, row := range rs {
			for c, v := range row {
				if !looksLikeFormula(v) {
					continue
				}
				found[v] = true
				cell := cellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s holds formula %q", sheet, cell, formula)
				}
				style, _ := f.GetCellStyle(sheet, cell)
				if xf := f.Styles.CellXfs.Xf[style]; xf.QuotePrefix == nil || !*xf.QuotePrefix || xf.NumFmtID == nil || *xf.NumFmtID != 49 {
					t.Errorf("%s!%s = %q: style %d has no quote prefix / Text format", sheet, cell, v, style)
				}
			}
		}
	}
	for _, p := range append(payloads, "=cmd|' /C calc'!A0") {
		if !found[p] {
			t.Errorf("payload %q not found verbatim in the workbook", p)
		}
	}
	// No part of the package holds a formula element.
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") {
			continue
		}
		rc, _ := zf.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(body, []byte("<f>")) || bytes.Contains(body, []byte("<f ")) {
			t.Errorf("%s contains a formula element", zf.Name)
		}
	}
}

func TestXLSXChart(t *testing.T) {
	data := renderXLSX(t, Input{Scan: evidenceScan()})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	charts := map[string]string{}
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			rc, _ := zf.Open()
			body, _ := io.ReadAll(rc)
			rc.Close()
			charts[zf.Name] = html.UnescapeString(string(body))
		}
	}
	if len(charts) != 2 {
		t.Fatalf("charts = %d, want 2", len(charts))
	}
	statuses := charts["xl/charts/chart1.xml"]
	for _, w := range []string{"Control statuses per framework", "'Summary'!$A$6:$A$8", "'Summary'!$H$6:$H$8", "'Summary'!$M$5", `<grouping val="percentStacked">`} {
		if !strings.Contains(statuses, w) {
			t.Errorf("status chart lacks %q", w)
		}
	}
	if !strings.Contains(charts["xl/charts/chart2.xml"], "Failures by severity") {
		t.Error("severity chart missing its title")
	}
	// The chart's ranges hold the data it names.
	f := openXLSX(t, data)
	for cell, want := range map[string]string{"A6": "cis-aws-5.0.0", "A8": "acme-internal-cloud-controls:2026/v1", "H5": "FAIL", "H6": "2", "M5": "MANUAL", "M8": "1"} {
		if got, _ := f.GetCellValue(sheetSummary, cell); got != want {
			t.Errorf("Summary!%s = %q, want %q", cell, got, want)
		}
	}
	drawings := false
	for _, zf := range zr.File {
		drawings = drawings || zf.Name == "xl/drawings/drawing1.xml"
	}
	if !drawings {
		t.Error("no drawing anchors the charts")
	}
}

func TestXLSXDeterministic(t *testing.T) {
	scan := evidenceScan()
	in := Input{Scan: scan, Diff: evidenceDiff(scan)}
	first := renderXLSX(t, in)
	if again := renderXLSX(t, in); !bytes.Equal(first, again) {
		t.Fatal("two renders of the same input differ")
	}
	// The zip's DOS times have 2 s resolution: wait past the next tick.
	time.Sleep(2100 * time.Millisecond)
	if later := renderXLSX(t, in); !bytes.Equal(first, later) {
		t.Fatal("a render 2 s later differs: something depends on the clock")
	}
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Name != "[Content_Types].xml" {
		t.Errorf("first entry %s, want [Content_Types].xml", zr.File[0].Name)
	}
	for i, zf := range zr.File {
		if got := zf.Modified.UTC(); !got.Equal(time.Date(2026, 11, 30, 2, 3, 20, 0, time.UTC)) {
			t.Errorf("%s modified %v, want the scan's finish (to 2 s)", zf.Name, got)
		}
		if i > 1 && zf.Name < zr.File[i-1].Name {
			t.Errorf("entries out of order: %s after %s", zf.Name, zr.File[i-1].Name)
		}
	}
}

func TestXLSXWriteDir(t *testing.T) {
	dir := t.TempDir()
	paths, err := WriteDir(dir, Input{Scan: sampleScan()}, []Writer{JSON{}, XLSX{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || !strings.HasSuffix(paths[1], "/evidence.xlsx") {
		t.Fatalf("paths = %q", paths)
	}
	f, err := excelize.OpenFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// sampleScan has no Frameworks list: the sheets come from its controls.
	want := []string{"About", "Summary", "Controls - cis", "Controls - soc2", "Findings", "Coverage", "Checks"}
	if got := f.GetSheetList(); !reflect.DeepEqual(got, want) {
		t.Errorf("sheets = %q, want %q", got, want)
	}
	if err := (XLSX{}).Write(io.Discard, Input{}); err == nil {
		t.Error("rendering without a scan succeeded")
	}
}

// An empty scan (nothing in scope) still renders every sheet.
func TestXLSXEmptyScan(t *testing.T) {
	scan := sampleScan()
	scan.Results, scan.Coverage, scan.Controls = []model.Result{}, []model.Coverage{}, []model.ControlStatus{}
	f := openXLSX(t, renderXLSX(t, Input{Scan: scan}))
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"About", "Summary", "Findings", "Coverage", "Checks"}) {
		t.Errorf("sheets = %q", got)
	}
	if facts := aboutFacts(t, f); facts["Results"] != "0: PASS 0, FAIL 0, ERROR 0, MUTED 0" {
		t.Errorf("results = %q", facts["Results"])
	}
}

// writeScanJSON streams the bytes of JSON{}.Write, HTML-looking text,
// unicode and a result-less scan included.
func TestWriteScanJSON(t *testing.T) {
	small := evidenceScan()
	small.Results[0].Message = `<script>&"quoted"</script> é 😀 "results": [],`
	small.Results[1].Evidence = map[string]any{"nested": map[string]any{"list": []any{1, "two", nil, map[string]any{}}}, "empty": []any{}}
	empty := sampleScan()
	empty.Results = []model.Result{}
	for name, scan := range map[string]*model.Scan{"evidence": small, "sample": sampleScan(), "no results": empty, "large": largeScan(3000)} {
		var want, got bytes.Buffer
		if err := (JSON{}).Write(&want, scan); err != nil {
			t.Fatal(err)
		}
		if err := writeScanJSON(&got, scan); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: writeScanJSON differs from JSON{}.Write (%d vs %d bytes)", name, got.Len(), want.Len())
		}
	}
}

// tableID finds the number of the table part named name.
func tableID(t *testing.T, f *excelize.File, name string) string {
	t.Helper()
	for i := 1; i < 50; i++ {
		if strings.Contains(pkgPart(t, f, fmt.Sprintf("xl/tables/table%d.xml", i)), ` name="`+name+`"`) {
			return strconv.Itoa(i)
		}
	}
	t.Fatalf("no table %s", name)
	return ""
}

// pkgPart is the content of a part of an opened workbook ("" when absent).
func pkgPart(t *testing.T, f *excelize.File, name string) string {
	t.Helper()
	v, ok := f.Pkg.Load(name)
	if !ok {
		return ""
	}
	return string(v.([]byte))
}

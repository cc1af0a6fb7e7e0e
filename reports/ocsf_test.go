package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/model"
)

// TestOCSF decodes findings.ocsf.json and checks every object, field by
// field, against the result it was made from.
func TestOCSF(t *testing.T) {
	scan := packageScan()
	var buf bytes.Buffer
	if err := (OCSF{}).Write(&buf, scan); err != nil {
		t.Fatal(err)
	}
	var generic []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &generic); err != nil {
		t.Fatalf("findings.ocsf.json is not a JSON array: %v", err)
	}
	var events []OCSFFinding
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&events); err != nil {
		t.Fatal(err)
	}
	if len(events) != len(scan.Results) || len(generic) != len(scan.Results) {
		t.Fatalf("%d events for %d results", len(events), len(scan.Results))
	}
	catalogue := map[string]model.CheckInfo{}
	for _, c := range scan.Catalogue {
		catalogue[c.ID] = c
	}
	finished := scan.Scan.FinishedAt.UnixMilli()
	for i, r := range scan.Results {
		e, g := events[i], generic[i]
		// The class and the activity, as OCSF 1.3.0 numbers them.
		for k, want := range map[string]any{"class_uid": 2003.0, "category_uid": 2.0, "type_uid": 200301.0, "activity_id": 1.0,
			"class_name": "Compliance Finding", "category_name": "Findings", "activity_name": "Create", "type_name": "Compliance Finding: Create"} {
			if g[k] != want {
				t.Errorf("result %d: %s = %v, want %v", i, k, g[k], want)
			}
		}
		if e.Time != finished || e.Time != 1741064809000 {
			t.Errorf("result %d: time %d, want the scan's finish %d", i, e.Time, finished)
		}
		wantSev := map[model.Severity]int{model.SeverityCritical: 5, model.SeverityHigh: 4}[r.Severity]
		wantSevName := map[model.Severity]string{model.SeverityCritical: "Critical", model.SeverityHigh: "High"}[r.Severity]
		if e.SeverityID != wantSev || e.Severity != wantSevName {
			t.Errorf("result %d (%s): severity %d %q", i, r.Severity, e.SeverityID, e.Severity)
		}
		wantMeta := OCSFMetadata{Version: "1.3.0", Product: OCSFProduct{Name: "posture", VendorName: "posture-dev", Version: "1.2.3"},
			Profiles: []string{"cloud"}, UID: "scan-0001/" + r.Fingerprint, CorrelationUID: "scan-0001", LogName: "posture-scan"}
		if !reflect.DeepEqual(e.Metadata, wantMeta) {
			t.Errorf("result %d: metadata %+v", i, e.Metadata)
		}
		title := catalogue[r.CheckID].Title
		if title == "" {
			title = r.CheckID // not in the catalogue
		}
		if e.FindingInfo.UID != r.Fingerprint || e.FindingInfo.Title != title || e.FindingInfo.Desc != r.Message ||
			!reflect.DeepEqual(e.FindingInfo.Types, []string{string(r.Family)}) || e.Message != r.Message {
			t.Errorf("result %d: finding_info %+v", i, e.FindingInfo)
		}
		if r.FirstSeen != nil {
			if e.FindingInfo.FirstSeenTime != r.FirstSeen.UnixMilli() {
				t.Errorf("result %d: first_seen_time %d", i, e.FindingInfo.FirstSeenTime)
			}
		} else if _, ok := g["finding_info"].(map[string]any)["first_seen_time"]; ok {
			t.Errorf("result %d: first_seen_time without first_seen", i)
		}
		wantStatus := map[model.Status][2]any{
			model.StatusPass: {1, "Pass"}, model.StatusFail: {3, "Fail"}, model.StatusMuted: {3, "Fail"}, model.StatusError: {2, "Warning"},
		}[r.Status]
		if e.Compliance.StatusID != wantStatus[0] || e.Compliance.Status != wantStatus[1] || e.Compliance.Control != r.CheckID {
			t.Errorf("result %d (%s): compliance %+v", i, r.Status, e.Compliance)
		}
		if !reflect.DeepEqual(e.Compliance.Requirements, r.Controls) {
			t.Errorf("result %d: requirements %v, want %v", i, e.Compliance.Requirements, r.Controls)
		}
		if r.Status == model.StatusMuted {
			if e.StatusID != 3 || e.Status != "Suppressed" || e.Compliance.StatusDetail != "waived by w-legacy" || e.Unmapped["waiver_id"] != "w-legacy" {
				t.Errorf("result %d MUTED: status %d %q, detail %q", i, e.StatusID, e.Status, e.Compliance.StatusDetail)
			}
		} else if e.StatusID != 1 || e.Status != "New" {
			t.Errorf("result %d: status %d %q", i, e.StatusID, e.Status)
		}
		if r.Status == model.StatusError && e.Compliance.StatusDetail != r.Message {
			t.Errorf("result %d ERROR: status_detail %q", i, e.Compliance.StatusDetail)
		}
		if e.Cloud != (OCSFCloud{Provider: "AWS", Region: r.Region, Account: OCSFAccount{UID: "111122223333", Name: "Acme prod", Type: "AWS Account", TypeID: 10}}) {
			t.Errorf("result %d: cloud %+v", i, e.Cloud)
		}
		if r.ResourceID == "" {
			if _, ok := g["resources"]; ok {
				t.Errorf("result %d: resources for a scope error: %v", i, e.Resources)
			}
		} else if !reflect.DeepEqual(e.Resources, []OCSFResource{{UID: r.ResourceARN, Name: r.ResourceID, Type: r.ResourceType, Region: r.Region}}) {
			t.Errorf("result %d: resources %+v", i, e.Resources)
		}
		if rem := catalogue[r.CheckID].Remediation; rem != "" {
			if e.Remediation == nil || e.Remediation.Desc != rem {
				t.Errorf("result %d: remediation %+v", i, e.Remediation)
			}
		} else if e.Remediation != nil {
			t.Errorf("result %d: remediation %+v without one in the catalogue", i, e.Remediation)
		}
		evidence, _ := json.Marshal(r.Evidence)
		gotEvidence, _ := json.Marshal(e.Unmapped["evidence"])
		if string(evidence) != string(gotEvidence) || e.Unmapped["service"] != r.Service || e.Unmapped["scan_id"] != "scan-0001" {
			t.Errorf("result %d: unmapped %v", i, e.Unmapped)
		}
	}
	// Standards: the frameworks of the result's controls, once each.
	if got := events[0].Compliance.Standards; !reflect.DeepEqual(got, []string{"cis", "soc2"}) {
		t.Errorf("standards %v", got)
	}
	if got := events[2].Compliance.Standards; got == nil || len(got) != 0 {
		t.Errorf("standards of a result without controls: %#v, want []", got)
	}
	// An empty scan is an empty array.
	buf.Reset()
	if err := (OCSF{}).Write(&buf, &model.Scan{}); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty scan: %q %v", buf.String(), err)
	}
}

func TestDecodeScanLenientAndReencode(t *testing.T) {
	dir, _ := writePackage(t, PackageOptions{})
	original := mustRead(t, filepath.Join(dir, "scan.json"))
	scan, err := DecodeScanLenient(original)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Reencode(scan)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, original) {
		t.Error("re-encoding a scan.json this version wrote changes it")
	}
	// A newer version's added fields: the strict decoder refuses them, the
	// lenient one reads the rest; re-encoding then differs (so `posture
	// report` copies the original bytes).
	newer := edit(t, original, func(d map[string]any) {
		d["attestation"] = map[string]any{"by": "someone"}
		d["results"].([]any)[0].(map[string]any)["risk_score"] = 7
	})
	if _, err := DecodeScan(newer); err == nil || !strings.Contains(err.Error(), `unknown field "attestation"`) {
		t.Errorf("DecodeScan(newer) = %v", err)
	}
	got, err := DecodeScanLenient(newer)
	if err != nil {
		t.Fatalf("DecodeScanLenient(newer): %v", err)
	}
	if !reflect.DeepEqual(got.Results[0].Controls, scan.Results[0].Controls) || got.Scan.ID != "scan-0001" {
		t.Errorf("lenient decode lost data: %+v", got.Results[0])
	}
	if re, _ := Reencode(got); bytes.Equal(re, newer) {
		t.Error("re-encoding kept fields this version does not know")
	}
	// Still validated.
	if _, err := DecodeScanLenient(edit(t, original, func(d map[string]any) { d["results"] = nil })); err == nil {
		t.Error("lenient decode skips validation")
	}
	if _, err := DecodeScanLenient([]byte("{")); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Errorf("not JSON: %v", err)
	}
}

func TestFilterFrameworks(t *testing.T) {
	scan := packageScan()
	before, _ := Reencode(scan)
	got, err := FilterFrameworks(scan, []string{"soc2"})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := Reencode(scan); !bytes.Equal(before, after) {
		t.Error("FilterFrameworks changed its input")
	}
	if len(got.Frameworks) != 1 || got.Frameworks[0].ID != "soc2" {
		t.Errorf("frameworks %+v", got.Frameworks)
	}
	if len(got.Controls) != 1 || got.Controls[0].ControlID != "CC6.6" {
		t.Errorf("controls %+v", got.Controls)
	}
	if !reflect.DeepEqual(got.Results[0].Controls, []string{"soc2:CC6.6"}) || len(got.Results[3].Controls) != 0 || len(got.Results) != len(scan.Results) {
		t.Errorf("result controls %v %v", got.Results[0].Controls, got.Results[3].Controls)
	}
	if _, err := FilterFrameworks(scan, []string{"pci"}); err == nil || !strings.Contains(err.Error(), `framework "pci" is not in the scan (it has: cis, soc2)`) {
		t.Errorf("unknown framework: %v", err)
	}
}

func TestDecodeDiff(t *testing.T) {
	d, err := DecodeDiff([]byte(`{"schema_version":1,"context":{"old":{"id":"a"},"new":{"id":"b"},"window_seconds":5,"warnings":[]},
		"new":[{"fingerprint":"f","check_id":"c","account_id":"1","region":"r","service":"s","resource_id":"x","later":1}],
		"resolved":[],"changed":[],"not_observed":[],"unchanged_count":3,"controls":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Context.New.ID != "b" || len(d.New) != 1 || d.New[0].Fingerprint != "f" || d.UnchangedCount != 3 {
		t.Errorf("diff %+v", d)
	}
	if _, err := DecodeDiff([]byte(`{}`)); err == nil {
		t.Error("a diff without schema_version is accepted")
	}
}

// The summary lists the package's files and how to check them.
func TestWriteSummaryListsThePackage(t *testing.T) {
	dir, m := writePackage(t, PackageOptions{Signer: newKeySigner(t)})
	var buf bytes.Buffer
	if err := WriteSummary(&buf, packageScan(), dir); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	tail := out[strings.Index(out, "reports written to "+dir+"\n"):]
	for _, f := range m.Files {
		if !strings.Contains(tail, " "+f.Name) {
			t.Errorf("summary does not list %s:\n%s", f.Name, tail)
		}
	}
	want := "  integrity: manifest.json, SHA256SUMS, manifest.sig (check: cd " + dir + " && sha256sum -c SHA256SUMS, or posture verify " + dir + ")\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("summary ends\n%s\nwant\n%s", tail, want)
	}
	// A directory without a package: only the directory.
	empty := t.TempDir()
	buf.Reset()
	if err := WriteSummary(&buf, packageScan(), empty); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "reports written to "+empty+"\n") {
		t.Errorf("summary without a manifest:\n%s", buf.String())
	}
	_ = os.Remove(empty)
}

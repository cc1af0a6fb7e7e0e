package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/reports"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestPackageVerbs scans the emulator with a signed package, then checks
// posture verify (online and offline key, tampering) and posture report
// (byte-identical files for every registered format).
func TestPackageVerbs(t *testing.T) {
	srv := emutest.Fresh(t)
	openGroup(t, srv.URL, "us-east-1", "rdp")
	admin := kms.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	key, err := admin.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	env := []string{"AWS_ENDPOINT_URL=" + srv.URL}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "scan")
	run := runCLI(t, env, "scan", "--regions", "us-east-1", "--out", out, "--sign-kms-key", keyARN)
	if run.code != exitOK {
		t.Fatalf("scan exit %d\n%s", run.code, run.stderr)
	}
	// Every registered format's files, and the control files.
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{reports.ManifestName, reports.SumsName, reports.SignatureName}
	for _, w := range reports.Writers() {
		for _, f := range w.Files(reports.Input{Scan: scan}) {
			want = append(want, f.Name)
		}
	}
	sort.Strings(want)
	if got := listDir(t, out); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("package holds %v, want %v", got, want)
	}
	if !strings.Contains(run.stderr, "reports written to "+out+"\n") || !strings.Contains(run.stderr, " findings.ocsf.json") ||
		!strings.Contains(run.stderr, "integrity: manifest.json, SHA256SUMS, manifest.sig") {
		t.Errorf("summary does not list the package:\n%s", run.stderr)
	}

	// verify: the key recorded in manifest.sig, fetched from KMS; the PEM saved.
	pemPath := filepath.Join(tmp, "key.pem")
	run = runCLI(t, env, "verify", out, "--save-public-key", pemPath)
	if run.code != exitOK || !strings.Contains(run.stdout, "intact: ") || !strings.Contains(run.stdout, "signature: verified (ECDSA_SHA_256, key "+keyARN+")") {
		t.Errorf("verify: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	// Offline with the PEM, no AWS at all.
	offline := []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1"}
	run = runCLI(t, offline, "verify", "--public-key", pemPath, out)
	if run.code != exitOK || !strings.Contains(run.stdout, "signature: verified") {
		t.Errorf("verify --public-key: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	// The key unreachable: the files are fine but the package is not known intact.
	run = runCLI(t, offline, "verify", out)
	if run.code != exitError || !strings.Contains(run.stderr, "manifest.sig: the signature could not be checked") {
		t.Errorf("verify with KMS unreachable: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}

	// report: every file byte-identical, scan.json included, and the package verifies.
	again := filepath.Join(tmp, "again")
	run = runCLI(t, env, "report", filepath.Join(out, "scan.json"), "--out", again)
	if run.code != exitOK {
		t.Fatalf("report exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	if strings.Contains(run.stderr, "copied as read") {
		t.Errorf("report found this version's own scan.json re-encoded differently:\n%s", run.stderr)
	}
	for _, name := range listDir(t, out) {
		if name == reports.SignatureName {
			continue // not signed again
		}
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, err := os.ReadFile(filepath.Join(again, name))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("report: %s differs from the scan's (%v)", name, err)
		}
	}
	var unsigned []string
	for _, name := range want {
		if name != reports.SignatureName {
			unsigned = append(unsigned, name)
		}
	}
	if got := listDir(t, again); strings.Join(got, ",") != strings.Join(unsigned, ",") {
		t.Errorf("report wrote %v, want %v", got, unsigned)
	}
	if run := runCLI(t, nil, "verify", "--require-signature", again); run.code != exitAltered ||
		!strings.Contains(run.stdout, "manifest.sig: missing: the package is not signed and a signature is required\n") {
		t.Errorf("verify --require-signature of an unsigned package: exit %d\n%s", run.code, run.stdout)
	}
	if run := runCLI(t, nil, "verify", again); run.code != exitOK || !strings.Contains(run.stdout, "signature: not signed") {
		t.Errorf("verify of the re-rendered package: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}

	// Tampering: a changed byte, a removed file, an added file, a forged signature.
	data, _ := os.ReadFile(filepath.Join(again, "findings.csv"))
	data[len(data)/2] ^= 0x01
	os.WriteFile(filepath.Join(again, "findings.csv"), data, 0o600)
	os.Remove(filepath.Join(again, "findings.ocsf.json"))
	os.WriteFile(filepath.Join(again, "extra.txt"), []byte("x"), 0o600)
	run = runCLI(t, nil, "verify", again)
	wantLines := []string{
		"extra.txt: unexpected file (not in manifest.json)",
		"findings.csv: altered: SHA-256 ",
		"findings.ocsf.json: missing",
	}
	lines := strings.Split(strings.TrimSpace(run.stdout), "\n")
	if run.code != exitAltered || len(lines) != len(wantLines) {
		t.Errorf("verify of a tampered package: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	} else {
		for i, w := range wantLines {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("line %d %q, want %q", i, lines[i], w)
			}
		}
	}
	var sig map[string]any
	sigData, _ := os.ReadFile(filepath.Join(out, reports.SignatureName))
	json.Unmarshal(sigData, &sig)
	sig["statement"].(map[string]any)["signed_at"] = "2030-01-01T00:00:00Z"
	forged, _ := json.Marshal(sig)
	os.WriteFile(filepath.Join(out, reports.SignatureName), forged, 0o600)
	run = runCLI(t, offline, "verify", "--public-key", pemPath, out)
	if run.code != exitAltered || run.stdout != "manifest.sig: does not verify: signature does not verify\n" {
		t.Errorf("verify of a forged statement: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
}

// TestReportAndVerifyUsage: bad paths and bad input files exit 2 naming the
// file; a scan.json from a newer version is re-rendered with its bytes kept.
func TestReportAndVerifyUsage(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "nope")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", missing}, "package directory " + missing},
		{[]string{"verify"}, "verify takes one package directory"},
		{[]string{"verify", tmp, "--public-key", missing}, "--public-key: open " + missing},
		{[]string{"report", filepath.Join(missing, "scan.json"), "--out", tmp}, "read scan " + filepath.Join(missing, "scan.json")},
		{[]string{"report", filepath.Join(tmp, "scan.json")}, "--out DIR is required"},
		{[]string{"report", filepath.Join(tmp, "scan.json"), "--out", tmp, "--format", "docx"}, `unknown format "docx"`},
	} {
		run := runCLI(t, nil, tt.args...)
		if run.code != exitUsage || !strings.Contains(run.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, run.code, run.stderr, tt.want)
		}
	}

	// A package written from a scan.json made here, without AWS.
	good := filepath.Join(tmp, "good")
	scanData := sampleScanJSON(t)
	os.MkdirAll(good, 0o700)
	os.WriteFile(filepath.Join(good, "scan.json"), scanData, 0o600)
	corrupt := filepath.Join(tmp, "corrupt.json")
	os.WriteFile(corrupt, scanData[:len(scanData)/2], 0o600)
	if run := runCLI(t, nil, "report", corrupt, "--out", filepath.Join(tmp, "x")); run.code != exitUsage || !strings.Contains(run.stderr, "scan "+corrupt+": decode") {
		t.Errorf("corrupt scan.json: exit %d %q", run.code, run.stderr)
	}
	if run := runCLI(t, nil, "report", filepath.Join(good, "scan.json"), "--out", filepath.Join(tmp, "x"), "--frameworks", "pci"); run.code != exitUsage ||
		!strings.Contains(run.stderr, `--frameworks: framework "pci" is not in the scan`) {
		t.Errorf("unknown framework: exit %d %q", run.code, run.stderr)
	}
	// A corrupt diff.json beside the scan is named.
	os.WriteFile(filepath.Join(good, "diff.json"), []byte("{"), 0o600)
	if run := runCLI(t, nil, "report", filepath.Join(good, "scan.json"), "--out", filepath.Join(tmp, "x")); run.code != exitUsage ||
		!strings.Contains(run.stderr, "diff "+filepath.Join(good, "diff.json")) {
		t.Errorf("corrupt diff.json: exit %d %q", run.code, run.stderr)
	}
	os.Remove(filepath.Join(good, "diff.json"))

	// A newer version's scan.json: its bytes are kept, and said so.
	var doc map[string]any
	json.Unmarshal(scanData, &doc)
	doc["added_by_a_newer_version"] = true
	newer, _ := json.MarshalIndent(doc, "", "  ")
	newerPath := filepath.Join(tmp, "newer", "scan.json")
	os.MkdirAll(filepath.Dir(newerPath), 0o700)
	os.WriteFile(newerPath, newer, 0o600)
	outDir := filepath.Join(tmp, "newer-out")
	run := runCLI(t, nil, "report", newerPath, "--out", outDir, "--format", "csv")
	if run.code != exitOK || !strings.Contains(run.stderr, "scan.json is copied as read") {
		t.Fatalf("newer scan.json: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(outDir, "scan.json")); !bytes.Equal(got, newer) {
		t.Error("the newer scan.json was not kept byte for byte")
	}
	if got := listDir(t, outDir); strings.Join(got, ",") != "SHA256SUMS,findings.csv,manifest.json,scan.json" {
		t.Errorf("report --format csv wrote %v", got)
	}
	if run := runCLI(t, nil, "verify", outDir); run.code != exitOK {
		t.Errorf("verify: exit %d\n%s", run.code, run.stdout)
	}
}

// sampleScanJSON is a small valid scan.json as this version writes it.
func sampleScanJSON(t *testing.T) []byte {
	t.Helper()
	doc := `{"schema_version":1,"tool":{"name":"posture","version":"0.0.1"},
	"scan":{"id":"scan-x","started_at":"2026-01-02T03:04:05Z","finished_at":"2026-01-02T03:04:09Z","accounts":["111122223333"],"regions":["us-east-1"],"checks":["s3-bucket-public"]},
	"coverage":[{"account_id":"111122223333","region":"us-east-1","service":"s3","status":"ok","resources":1,"results":1,"errors":0}],
	"results":[{"check_id":"s3-bucket-public","status":"FAIL","severity":"high","family":"public-exposure","account_id":"111122223333","region":"us-east-1","service":"s3",
	  "resource_type":"AWS::S3::Bucket","resource_id":"b","resource_arn":"arn:aws:s3:::b","message":"public","evidence":{},"controls":["cis:2.1"],"fingerprint":"f1"}],
	"controls":[{"framework":"cis","control_id":"2.1","title":"t","status":"FAIL","passed":0,"failed":1,"errors":0,"muted":0,"accounts":["111122223333"],"checks":["s3-bucket-public"]}],
	"frameworks":[{"id":"cis","name":"CIS","version":"1"}]}`
	scan, err := reports.DecodeScan([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	data, err := reports.Reencode(scan)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

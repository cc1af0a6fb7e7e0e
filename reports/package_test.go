package reports

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/signing"
)

// packageScan is sampleScan with what a real scan adds: a catalogue, a
// waiver, first_seen times, control keys on the results, frameworks.
func packageScan() *model.Scan {
	scan := sampleScan()
	first := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	scan.Results[0].FirstSeen = &first
	scan.Results[0].Controls = []string{"cis:5.2", "soc2:CC6.6"}
	scan.Results[1].Status = model.StatusMuted
	scan.Results[1].WaiverID = "w-legacy"
	scan.Results[3].Controls = []string{"cis:5.3"}
	scan.Scan.AccountNames = map[string]string{"111122223333": "Acme prod"}
	scan.Frameworks = []model.Framework{{ID: "cis", Name: "CIS", Version: "1"}, {ID: "soc2", Name: "SOC 2", Version: "2017"}}
	scan.Catalogue = []model.CheckInfo{
		{ID: "ec2-sg-open-admin-port", Title: "Security group opens an admin port to the internet", Family: model.FamilyPublicExposure,
			Service: "ec2", Severity: model.SeverityCritical, Remediation: "Restrict the rule to known addresses."},
		{ID: "s3-bucket-public", Title: "S3 bucket is public", Family: model.FamilyPublicExposure, Service: "s3",
			Severity: model.SeverityHigh, Remediation: "Turn on Block Public Access."},
	}
	scan.Waivers = []model.Waiver{{ID: "w-legacy", Check: "ec2-sg-open-admin-port", Expires: "2026-01-01", State: model.WaiverActive, Muted: 1}}
	return scan
}

// keySigner signs like KMS does (ECDSA P-256, SHA-256 of the RAW message,
// ASN.1 signature) with a key made in the test, so that signed packages can
// be tested without the emulator; internal/signing tests KMS itself.
type keySigner struct {
	key *ecdsa.PrivateKey
	arn string
}

func newKeySigner(t *testing.T) *keySigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &keySigner{key: key, arn: "arn:aws:kms:us-east-1:111122223333:key/test"}
}

func (s *keySigner) Sign(_ context.Context, scanID, manifestSHA256 string, signedAt time.Time) ([]byte, error) {
	st := signing.Statement{Algorithm: "ECDSA_SHA_256", KeyID: s.arn, ManifestSHA256: manifestSHA256, ScanID: scanID,
		SignedAt: signedAt.UTC().Format(time.RFC3339Nano)}
	msg, err := st.Canonical()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:])
	if err != nil {
		return nil, err
	}
	f := &signing.File{Format: signing.Format, Statement: st, Algorithm: st.Algorithm, KeyID: s.arn,
		Signature: base64.StdEncoding.EncodeToString(sig)}
	return f.Encode()
}

func allWriters(t *testing.T) []Writer {
	t.Helper()
	writers, err := ParseFormats(nil)
	if err != nil {
		t.Fatal(err)
	}
	return writers
}

func writePackage(t *testing.T, opts PackageOptions) (string, *Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pkg")
	m, err := WritePackage(dir, Input{Scan: packageScan()}, allWriters(t), opts)
	if err != nil {
		t.Fatalf("WritePackage: %v", err)
	}
	return dir, m
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWritePackageManifestAndSums(t *testing.T) {
	dir, m := writePackage(t, PackageOptions{PreviousManifestSHA256: strings.Repeat("ab", 32)})
	scan := packageScan()

	// Every writer's files, then the control files; nothing else.
	var want []string
	for _, w := range allWriters(t) {
		for _, f := range w.Files(Input{Scan: scan}) {
			want = append(want, f.Name)
		}
	}
	sort.Strings(want)
	var listed []string
	for _, f := range m.Files {
		listed = append(listed, f.Name)
	}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("manifest lists %v, want %v (sorted)", listed, want)
	}
	wantDir := append(append([]string{}, want...), ManifestName, SumsName)
	sort.Strings(wantDir)
	if got := dirFiles(t, dir); !reflect.DeepEqual(got, wantDir) {
		t.Errorf("directory holds %v, want %v (no signature, no temporary file)", got, wantDir)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", info.Mode().Perm())
	}
	for _, name := range wantDir {
		if info, _ := os.Stat(filepath.Join(dir, name)); info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", name, info.Mode().Perm())
		}
	}

	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var got Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if got.SchemaVersion != ManifestSchemaVersion || got.Tool != scan.Tool || got.ScanID != "scan-0001" ||
		!got.StartedAt.Equal(scan.Scan.StartedAt) || !got.FinishedAt.Equal(scan.Scan.FinishedAt) ||
		got.PreviousManifestSHA256 != strings.Repeat("ab", 32) {
		t.Errorf("manifest header: %+v", got)
	}
	for _, f := range got.Files {
		content, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Size != int64(len(content)) || f.SHA256 != sha256Hex(content) {
			t.Errorf("%s: manifest says %d bytes %s, file has %d bytes %s", f.Name, f.Size, f.SHA256, len(content), sha256Hex(content))
		}
	}

	// SHA256SUMS: exactly "<hex>  <name>\n", sorted, manifest.json included.
	sums, err := os.ReadFile(filepath.Join(dir, SumsName))
	if err != nil {
		t.Fatal(err)
	}
	var wantSums strings.Builder
	withManifest := append(append([]string{}, want...), ManifestName)
	sort.Strings(withManifest)
	for _, name := range withManifest {
		content, _ := os.ReadFile(filepath.Join(dir, name))
		wantSums.WriteString(sha256Hex(content) + "  " + name + "\n")
	}
	if string(sums) != wantSums.String() {
		t.Errorf("SHA256SUMS =\n%s\nwant\n%s", sums, wantSums.String())
	}

	// The real sha256sum agrees.
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and sha256sum is not on PATH: %v", err)
		}
		t.Skip("sha256sum not on PATH")
	}
	cmd := exec.Command(sha256sum, "--strict", "-c", SumsName)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), ": OK\n"); n != len(withManifest) {
		t.Errorf("sha256sum -c checked %d files, want %d:\n%s", n, len(withManifest), out)
	}
	// And it notices a change, as a check of the check.
	if err := os.WriteFile(filepath.Join(dir, "findings.csv"), []byte("changed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(sha256sum, "-c", SumsName)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "findings.csv: FAILED") {
		t.Errorf("sha256sum -c after a change: %v\n%s", err, out)
	}
}

// The same input gives the same bytes: no wall-clock time anywhere.
func TestWritePackageDeterministic(t *testing.T) {
	a, _ := writePackage(t, PackageOptions{})
	time.Sleep(1100 * time.Millisecond) // a wall-clock second, were one used
	b, _ := writePackage(t, PackageOptions{})
	for _, name := range dirFiles(t, a) {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two packages of the same scan (%v)", name, err)
		}
	}
}

func TestVerifyIntactPackage(t *testing.T) {
	for _, signed := range []bool{false, true} {
		opts := PackageOptions{}
		signer := newKeySigner(t)
		if signed {
			opts.Signer = signer
		}
		dir, m := writePackage(t, opts)
		v, err := VerifyPackage(dir, VerifyOptions{PublicKey: &signer.key.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Intact() || len(v.Problems) != 0 {
			t.Errorf("signed=%v: fresh package not intact: %v (unchecked: %v)", signed, v.Problems, v.SignatureUnchecked)
		}
		if !reflect.DeepEqual(v.Manifest, m) {
			t.Errorf("signed=%v: verify read manifest %+v, WritePackage returned %+v", signed, v.Manifest, m)
		}
		if v.SignatureVerified != signed {
			t.Errorf("signed=%v: SignatureVerified = %v", signed, v.SignatureVerified)
		}
		manifest, _ := os.ReadFile(filepath.Join(dir, ManifestName))
		if v.ManifestSHA256 != sha256Hex(manifest) {
			t.Errorf("ManifestSHA256 %s", v.ManifestSHA256)
		}
		if signed {
			sig, _ := signing.ParseFile(mustRead(t, filepath.Join(dir, SignatureName)))
			if sig.Statement.ManifestSHA256 != sha256Hex(manifest) || sig.Statement.ScanID != "scan-0001" ||
				sig.Statement.SignedAt != "2025-03-04T05:06:49Z" || sig.KeyID != signer.arn {
				t.Errorf("statement %+v", sig.Statement)
			}
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// copyDir copies a flat package directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range dirFiles(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), mustRead(t, filepath.Join(src, name)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// mentions reports whether a problem names file, as the file it is about
// or in its reason.
func mentions(problems []Problem, file string) bool {
	for _, p := range problems {
		if p.File == file || strings.Contains(p.Reason, file) {
			return true
		}
	}
	return false
}

// One changed byte, anywhere in any file of a signed package, fails
// verification with a problem naming that file.
func TestVerifyNamesEveryAlteredByte(t *testing.T) {
	signer := newKeySigner(t)
	dir, _ := writePackage(t, PackageOptions{Signer: signer})
	opts := VerifyOptions{PublicKey: &signer.key.PublicKey}
	for _, name := range dirFiles(t, dir) {
		size := len(mustRead(t, filepath.Join(dir, name)))
		for _, pos := range []int{0, size / 3, size / 2, size - 1} {
			copied := copyDir(t, dir)
			path := filepath.Join(copied, name)
			data := mustRead(t, path)
			data[pos] ^= 0x01
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			v, err := VerifyPackage(copied, opts)
			if err != nil {
				t.Fatal(err)
			}
			if v.Intact() || !mentions(v.Problems, name) {
				t.Errorf("%s byte %d of %d changed: intact=%v, problems %v do not name it", name, pos, size, v.Intact(), v.Problems)
			}
		}
	}
}

func TestVerifyNamesMissingAndUnexpectedFiles(t *testing.T) {
	signer := newKeySigner(t)
	dir, _ := writePackage(t, PackageOptions{Signer: signer})
	opts := VerifyOptions{PublicKey: &signer.key.PublicKey, RequireSignature: true}
	for _, name := range dirFiles(t, dir) {
		copied := copyDir(t, dir)
		if err := os.Remove(filepath.Join(copied, name)); err != nil {
			t.Fatal(err)
		}
		v, err := VerifyPackage(copied, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := Problem{File: name, Reason: "missing"}
		if name == SignatureName {
			want.Reason = "missing: the package is not signed and a signature is required"
		}
		if v.Intact() || !slicesContains(v.Problems, want) {
			t.Errorf("%s removed: problems %v, want %v among them", name, v.Problems, want)
		}
	}

	// Added files, a hidden one and a directory included.
	copied := copyDir(t, dir)
	for _, name := range []string{"notes.txt", ".hidden", ".scan.json.12345"} {
		if err := os.WriteFile(filepath.Join(copied, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(copied, "extra"), 0o700); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyPackage(copied, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{".hidden", "unexpected file (not in manifest.json)"},
		{".scan.json.12345", "unexpected file (not in manifest.json)"},
		{"extra", "unexpected directory (not in manifest.json)"},
		{"notes.txt", "unexpected file (not in manifest.json)"},
	}
	if !reflect.DeepEqual(v.Problems, want) {
		t.Errorf("problems %v, want %v", v.Problems, want)
	}

	// An unsigned package is intact, unless a signature is required.
	unsigned, _ := writePackage(t, PackageOptions{})
	if v, _ := VerifyPackage(unsigned, VerifyOptions{}); !v.Intact() || v.Signature != nil {
		t.Errorf("unsigned package: %v", v.Problems)
	}
	// A signature without a key to check it is not "intact".
	if v, _ := VerifyPackage(dir, VerifyOptions{}); v.Intact() || v.SignatureUnchecked == nil || len(v.Problems) != 0 {
		t.Errorf("signed package without a key: intact=%v unchecked=%v problems=%v", v.Intact(), v.SignatureUnchecked, v.Problems)
	}
	// Another key does not verify it.
	other := newKeySigner(t)
	if v, _ := VerifyPackage(dir, VerifyOptions{PublicKey: &other.key.PublicKey}); v.Intact() ||
		!slicesContains(v.Problems, Problem{SignatureName, "does not verify: signature does not verify"}) {
		t.Errorf("another key: %v", v.Problems)
	}
	// A key fetched by the ID recorded in manifest.sig.
	var asked string
	fetch := func(id string) (crypto.PublicKey, error) { asked = id; return &signer.key.PublicKey, nil }
	if v, _ := VerifyPackage(dir, VerifyOptions{FetchKey: fetch}); !v.Intact() || asked != signer.arn {
		t.Errorf("fetched key: intact=%v asked for %q", v.Intact(), asked)
	}
}

func slicesContains(ps []Problem, p Problem) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// A manifest that lists a path outside the package is refused, not read.
func TestVerifyRefusesUnsafeNames(t *testing.T) {
	dir, m := writePackage(t, PackageOptions{})
	m.Files = append(m.Files, ManifestFile{Name: "../outside", Size: 1, SHA256: strings.Repeat("0", 64)})
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SumsName), Sums(m, sha256Hex(data)), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyPackage(dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slicesContains(v.Problems, Problem{ManifestName, `lists the file name "../outside", which a package cannot hold`}) {
		t.Errorf("problems %v", v.Problems)
	}
	if _, err := VerifyPackage(filepath.Join(dir, "nope"), VerifyOptions{}); err == nil {
		t.Error("a missing directory is not an error")
	}
}

// A package written again unsigned drops the earlier manifest.sig; two
// writers of one file name, or a reserved name, are refused.
func TestWritePackageGuards(t *testing.T) {
	signer := newKeySigner(t)
	dir, _ := writePackage(t, PackageOptions{Signer: signer})
	if _, err := os.Stat(filepath.Join(dir, SignatureName)); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePackage(dir, Input{Scan: packageScan()}, allWriters(t), PackageOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SignatureName)); !os.IsNotExist(err) {
		t.Errorf("stale manifest.sig kept: %v", err)
	}
	if v, _ := VerifyPackage(dir, VerifyOptions{}); !v.Intact() {
		t.Errorf("rewritten package: %v", v.Problems)
	}
	if _, err := WritePackage(t.TempDir(), Input{Scan: packageScan()}, []Writer{JSON{}, JSON{}}, PackageOptions{}); err == nil ||
		!strings.Contains(err.Error(), "both write scan.json") {
		t.Errorf("duplicate file: %v", err)
	}
	if _, err := WritePackage(t.TempDir(), Input{Scan: packageScan()}, []Writer{namedWriter("SHA256SUMS")}, PackageOptions{}); err == nil ||
		!strings.Contains(err.Error(), `file name "SHA256SUMS" is not allowed`) {
		t.Errorf("reserved name: %v", err)
	}
}

type namedWriter string

func (n namedWriter) Format() string { return "named" }
func (n namedWriter) Files(Input) []File {
	return []File{{Name: string(n), Render: bytesRender([]byte("x"))}}
}

// blockEvidence is evidence as a check builds it: a struct whose fields are
// not in alphabetical order.
type blockEvidence struct {
	BlockPublicACLs   bool  `json:"block_public_acls"`
	IgnorePublicACLs  bool  `json:"ignore_public_acls"`
	BlockPublicPolicy bool  `json:"block_public_policy"`
	Size              int64 `json:"size"`
}

// A live scan (evidence as structs) and its scan.json read back render the
// same bytes in every format: what `posture report` relies on.
func TestPackageOfALiveScanRerendersByteForByte(t *testing.T) {
	live := packageScan()
	for i := range live.Results {
		live.Results[i].Evidence = map[string]any{"zone": "b", "account_block": blockEvidence{true, false, true, 1 << 40}}
	}
	first := filepath.Join(t.TempDir(), "first")
	if _, err := WritePackage(first, Input{Scan: live}, allWriters(t), PackageOptions{}); err != nil {
		t.Fatal(err)
	}
	original := mustRead(t, filepath.Join(first, "scan.json"))
	decoded, err := DecodeScanLenient(original)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Reencode(decoded); !bytes.Equal(again, original) {
		t.Fatal("the scan.json of a live scan re-encodes differently once read back")
	}
	writers := allWriters(t)
	for i, w := range writers {
		if w.Format() == "json" {
			writers[i] = ScanBytes(original)
		}
	}
	second := filepath.Join(t.TempDir(), "second")
	if _, err := WritePackage(second, Input{Scan: decoded}, writers, PackageOptions{}); err != nil {
		t.Fatal(err)
	}
	names := dirFiles(t, first)
	if !reflect.DeepEqual(names, dirFiles(t, second)) {
		t.Fatalf("files %v and %v", names, dirFiles(t, second))
	}
	for _, name := range names {
		if !bytes.Equal(mustRead(t, filepath.Join(first, name)), mustRead(t, filepath.Join(second, name))) {
			t.Errorf("%s differs between the live scan's package and its re-rendering", name)
		}
	}
	compact := strings.Join(strings.Fields(string(original)), "")
	if !strings.Contains(compact, `"account_block":{"block_public_acls":true,"block_public_policy":true,"ignore_public_acls":false,"size":1099511627776}`) {
		t.Errorf("evidence not in its read-back form (keys sorted):\n%s", original)
	}
}

// TestWritePackagePrintsTheHashOfItsScanJSON: WritePackage hashes scan.json
// once for the reports (Input.ScanSHA256); the hash the workbook's About
// sheet and each PDF cover print is that of the scan.json file in the
// package, and a hash given in Input is the one printed.
func TestWritePackagePrintsTheHashOfItsScanJSON(t *testing.T) {
	dir, m := writePackage(t, PackageOptions{})
	want := sha256Hex(mustRead(t, filepath.Join(dir, "scan.json")))
	f := openXLSX(t, mustRead(t, filepath.Join(dir, (XLSX{}).FileName())))
	if got := aboutFacts(t, f)["scan.json SHA-256"]; got != want {
		t.Errorf("About's scan.json SHA-256 = %q, want %q", got, want)
	}
	pdfs := 0
	for _, file := range m.Files {
		if strings.HasSuffix(file.Name, ".pdf") {
			pdfs++
			if text := pdfText(t, mustRead(t, filepath.Join(dir, file.Name))); !text.hasID(want) {
				t.Errorf("%s does not print the hash %s", file.Name, want)
			}
		}
	}
	if pdfs == 0 {
		t.Error("the package has no PDF")
	}
	given := strings.Repeat("0f", 32)
	f = openXLSX(t, renderXLSX(t, Input{Scan: packageScan(), ScanSHA256: given}))
	if got := aboutFacts(t, f)["scan.json SHA-256"]; got != given {
		t.Errorf("About with Input.ScanSHA256: %q, want %q", got, given)
	}
}

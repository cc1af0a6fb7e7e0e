package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// The control files of an evidence package: they describe the other files
// and are not listed in the manifest themselves.
const (
	// ManifestName lists every file of the package with its size and SHA-256.
	ManifestName = "manifest.json"
	// SumsName lists the same hashes, and manifest.json's, in the format of
	// `sha256sum -c`.
	SumsName = "SHA256SUMS"
	// SignatureName is the optional KMS signature of manifest.json's hash.
	SignatureName = "manifest.sig"
)

// ManifestSchemaVersion is the version of manifest.json written by this
// build. Fields may be added, never renamed.
const ManifestSchemaVersion = 1

// Manifest is manifest.json: what the package holds and what made it.
type Manifest struct {
	SchemaVersion int        `json:"schema_version"`
	Tool          model.Tool `json:"tool"`
	ScanID        string     `json:"scan_id"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    time.Time  `json:"finished_at"`
	// PreviousManifestSHA256 chains the nightly run's packages: the SHA-256
	// of the previous run's manifest.json.
	PreviousManifestSHA256 string `json:"previous_manifest_sha256,omitempty"`
	// Files are every file of the package except manifest.json,
	// SHA256SUMS and manifest.sig, sorted by name.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one file of the package.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Signer signs a package: it returns the content of manifest.sig for the
// manifest.json whose hex SHA-256 is manifestSHA256. signing.KMSSigner is
// the implementation.
type Signer interface {
	Sign(ctx context.Context, scanID, manifestSHA256 string, signedAt time.Time) ([]byte, error)
}

// PackageOptions are the optional parts of a package.
type PackageOptions struct {
	// PreviousManifestSHA256 is recorded in the manifest when set.
	PreviousManifestSHA256 string
	// Signer, when set, signs the package (manifest.sig).
	Signer Signer
	// Context is the context of the signing call; nil means
	// context.Background().
	Context context.Context
}

// reserved reports whether name is one of the control files.
func reserved(name string) bool {
	return name == ManifestName || name == SumsName || name == SignatureName
}

// safeName reports whether a package file name is a plain file name:
// not empty, no directory, no dot-dot, nothing SHA256SUMS would escape.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\n\r\x00") && filepath.Base(name) == name
}

// WritePackage writes the evidence package into dir: every file of the
// writers, rendered from the scan as its scan.json reads back (atomically, 0600, in a 0700 directory, as WriteDir), then
// manifest.json, then SHA256SUMS (every file and manifest.json, sorted by
// name), then manifest.sig when opts.Signer is set. Everything is a
// function of in and opts (times are the scan's), so the same input gives
// the same bytes, signature aside. A manifest.sig left by an earlier
// package in dir is removed when this one is not signed, since it cannot be
// about this manifest.
func WritePackage(dir string, in Input, writers []Writer, opts PackageOptions) (*Manifest, error) {
	names := map[string]string{}
	for _, w := range writers {
		for _, f := range w.Files(in) {
			if !safeName(f.Name) || reserved(f.Name) {
				return nil, fmt.Errorf("%s report: file name %q is not allowed in a package", w.Format(), f.Name)
			}
			if other, dup := names[f.Name]; dup {
				return nil, fmt.Errorf("%s and %s reports both write %s", other, w.Format(), f.Name)
			}
			names[f.Name] = w.Format()
		}
	}
	if in.Scan != nil {
		scan, err := canonicalScan(in.Scan)
		if err != nil {
			return nil, err
		}
		in.Scan = scan
		// The PDF and XLSX reports print the hash of scan.json: compute it
		// once for all of them.
		if in.ScanSHA256 == "" {
			if in.ScanSHA256, err = scanSHA256(scan); err != nil {
				return nil, err
			}
		}
	}
	paths, err := WriteDir(dir, in, writers)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		SchemaVersion:          ManifestSchemaVersion,
		Tool:                   in.Scan.Tool,
		ScanID:                 in.Scan.Scan.ID,
		StartedAt:              in.Scan.Scan.StartedAt,
		FinishedAt:             in.Scan.Scan.FinishedAt,
		PreviousManifestSHA256: opts.PreviousManifestSHA256,
		Files:                  []ManifestFile{},
	}
	for _, p := range paths {
		sum, size, err := hashFile(p)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, ManifestFile{Name: filepath.Base(p), Size: size, SHA256: sum})
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })

	manifest, err := m.Encode()
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, ManifestName), bytesRender(manifest)); err != nil {
		return nil, fmt.Errorf("write %s: %w", ManifestName, err)
	}
	manifestSum := sha256.Sum256(manifest)
	manifestHex := hex.EncodeToString(manifestSum[:])
	if err := writeFile(filepath.Join(dir, SumsName), bytesRender(Sums(m, manifestHex))); err != nil {
		return nil, fmt.Errorf("write %s: %w", SumsName, err)
	}
	sigPath := filepath.Join(dir, SignatureName)
	if opts.Signer == nil {
		if err := os.Remove(sigPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove the earlier %s: %w", SignatureName, err)
		}
		return m, nil
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	sig, err := opts.Signer.Sign(ctx, m.ScanID, manifestHex, m.FinishedAt)
	if err != nil {
		_ = os.Remove(sigPath)
		return nil, fmt.Errorf("sign the package: %w", err)
	}
	if err := writeFile(sigPath, bytesRender(sig)); err != nil {
		return nil, fmt.Errorf("write %s: %w", SignatureName, err)
	}
	return m, nil
}

// canonicalScan returns the scan as its scan.json says it: encoded and
// decoded again. The checks build evidence as structs, whose keys encode in
// field order; a reader of scan.json gets maps, whose keys encode sorted.
// Rendering every format from the decoded form makes the files of a live
// scan the same bytes as `posture report` renders from its scan.json.
func canonicalScan(scan *model.Scan) (*model.Scan, error) {
	data, err := Reencode(scan)
	if err != nil {
		return nil, fmt.Errorf("encode scan: %w", err)
	}
	var out model.Scan
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode scan: %w", err)
	}
	return &out, nil
}

// Encode renders manifest.json: indented JSON with a final newline.
func (m *Manifest) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestName, err)
	}
	return buf.Bytes(), nil
}

// Sums renders SHA256SUMS for a manifest and the hash of its manifest.json:
// "<hex>  <name>\n" per file (two spaces: text mode, as sha256sum writes
// it), sorted by name.
func Sums(m *Manifest, manifestSHA256 string) []byte {
	entries := append([]ManifestFile{{Name: ManifestName, SHA256: manifestSHA256}}, m.Files...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	var b strings.Builder
	for _, f := range entries {
		b.WriteString(f.SHA256 + "  " + f.Name + "\n")
	}
	return []byte(b.String())
}

// hashFile returns the hex SHA-256 and the size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func bytesRender(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

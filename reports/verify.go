package reports

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/posture-dev/posture/internal/signing"
)

// Problem is one reason a package is not intact, about one file.
type Problem struct {
	File   string
	Reason string
}

func (p Problem) String() string { return p.File + ": " + p.Reason }

// VerifyOptions say how to check a package's signature.
type VerifyOptions struct {
	// PublicKey verifies manifest.sig offline when set.
	PublicKey crypto.PublicKey
	// FetchKey returns the public key of a KMS key ID (kms:GetPublicKey);
	// used when PublicKey is nil. keyID is the one recorded in manifest.sig.
	FetchKey func(keyID string) (crypto.PublicKey, error)
	// RequireSignature makes a package without manifest.sig a failure.
	RequireSignature bool
}

// Verification is the outcome of VerifyPackage.
type Verification struct {
	// Manifest is the package's manifest, nil when it could not be read.
	Manifest *Manifest
	// ManifestSHA256 is the hex SHA-256 of manifest.json as found.
	ManifestSHA256 string
	// Problems lists every missing, altered or unexpected file, and a
	// signature that does not verify; none for an intact package.
	Problems []Problem
	// Signature is manifest.sig when the package has one.
	Signature *signing.File
	// SignatureVerified is true when manifest.sig verified.
	SignatureVerified bool
	// SignatureUnchecked says why a signature that exists could not be
	// checked (no public key given and the key could not be fetched); the
	// package is then not known to be intact.
	SignatureUnchecked error
}

// Intact reports whether every check passed: no problem, and a signature
// (when there is one) that was checked.
func (v *Verification) Intact() bool {
	return len(v.Problems) == 0 && v.SignatureUnchecked == nil
}

func (v *Verification) problem(file, format string, args ...any) {
	v.Problems = append(v.Problems, Problem{File: file, Reason: fmt.Sprintf(format, args...)})
}

// sumLine is one line of SHA256SUMS: a SHA-256, text (two spaces) or
// binary (space, star) mode, a file name.
var sumLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *](.+)$`)

// VerifyPackage checks the evidence package in dir: every file listed in
// manifest.json is present with its size and SHA-256; SHA256SUMS lists the
// same files with the same hashes, and manifest.json's own hash; no other
// file is in dir (dot-files included: nothing is hidden in a package, and a
// left-over ".name.*" temporary file is reported); and manifest.sig, when
// present, verifies and is about this manifest. It returns an error only
// when dir cannot be read at all; everything wrong with the package is a
// Problem naming the file.
func VerifyPackage(dir string, opts VerifyOptions) (*Verification, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("package %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", dir, err)
	}
	v := &Verification{}

	manifestData, err := os.ReadFile(filepath.Join(dir, ManifestName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		v.problem(ManifestName, "missing")
	case err != nil:
		v.problem(ManifestName, "cannot be read: %v", err)
	default:
		sum := sha256.Sum256(manifestData)
		v.ManifestSHA256 = hex.EncodeToString(sum[:])
		var m Manifest
		if err := json.Unmarshal(manifestData, &m); err != nil {
			v.problem(ManifestName, "not a manifest: %v", err)
		} else if m.SchemaVersion < 1 || m.SchemaVersion > ManifestSchemaVersion {
			v.problem(ManifestName, "schema_version %d, this version of posture reads 1 to %d", m.SchemaVersion, ManifestSchemaVersion)
		} else {
			v.Manifest = &m
		}
	}

	sums, sumsOK := readSums(v, dir)

	listed := map[string]bool{}
	if v.Manifest != nil {
		for _, f := range v.Manifest.Files {
			if !safeName(f.Name) || reserved(f.Name) {
				v.problem(ManifestName, "lists the file name %q, which a package cannot hold", f.Name)
				continue
			}
			if listed[f.Name] {
				v.problem(ManifestName, "lists %s twice", f.Name)
				continue
			}
			listed[f.Name] = true
			checkFile(v, dir, f)
			if sumsOK {
				if s, ok := sums[f.Name]; !ok {
					v.problem(SumsName, "has no line for %s, which manifest.json lists", f.Name)
				} else if s != f.SHA256 {
					v.problem(SumsName, "records SHA-256 %s for %s, manifest.json records %s", s, f.Name, f.SHA256)
				}
			}
		}
	}
	if sumsOK {
		names := make([]string, 0, len(sums))
		for name := range sums {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if name == ManifestName {
				if v.ManifestSHA256 != "" && sums[name] != v.ManifestSHA256 {
					v.problem(ManifestName, "SHA-256 %s does not match its line in SHA256SUMS (%s): manifest.json or SHA256SUMS was altered", v.ManifestSHA256, sums[name])
				}
				continue
			}
			if v.Manifest != nil && !listed[name] {
				v.problem(SumsName, "lists %q, which manifest.json does not", name)
			}
		}
		if _, ok := sums[ManifestName]; !ok {
			v.problem(SumsName, "has no line for manifest.json")
		}
	}

	for _, e := range entries {
		if v.Manifest == nil && !sumsOK {
			break // nothing says what the package should hold
		}
		name := e.Name()
		if reserved(name) || listed[name] {
			continue
		}
		if v.Manifest == nil && sumsOK {
			if _, ok := sums[name]; ok {
				continue // already checked against SHA256SUMS below
			}
		}
		kind := "file"
		if e.IsDir() {
			kind = "directory"
		}
		v.problem(name, "unexpected %s (not in manifest.json)", kind)
	}
	if v.Manifest == nil && sumsOK {
		// Without a manifest, still check what SHA256SUMS says.
		for name, sum := range sums {
			if name != ManifestName && safeName(name) {
				checkFile(v, dir, ManifestFile{Name: name, Size: -1, SHA256: sum})
			}
		}
	}

	checkSignature(v, dir, opts)
	sort.SliceStable(v.Problems, func(i, j int) bool { return v.Problems[i].File < v.Problems[j].File })
	return v, nil
}

// readSums parses SHA256SUMS into name -> hash; false when it is missing
// or malformed (each a problem).
func readSums(v *Verification, dir string) (map[string]string, bool) {
	data, err := os.ReadFile(filepath.Join(dir, SumsName))
	if errors.Is(err, os.ErrNotExist) {
		v.problem(SumsName, "missing")
		return nil, false
	}
	if err != nil {
		v.problem(SumsName, "cannot be read: %v", err)
		return nil, false
	}
	sums := map[string]string{}
	ok := true
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		m := sumLine.FindStringSubmatch(sc.Text())
		if m == nil {
			v.problem(SumsName, "line %d is not \"<sha256>  <name>\": %q", n, truncate(sc.Text(), 80))
			ok = false
			continue
		}
		if _, dup := sums[m[2]]; dup {
			v.problem(SumsName, "lists %s twice", m[2])
			ok = false
		}
		sums[m[2]] = m[1]
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		v.problem(SumsName, "does not end with a newline")
	}
	return sums, ok
}

// checkFile compares one listed file with its size (when known, >= 0) and
// hash.
func checkFile(v *Verification, dir string, f ManifestFile) {
	path := filepath.Join(dir, f.Name)
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		v.problem(f.Name, "missing")
		return
	}
	if err != nil {
		v.problem(f.Name, "cannot be read: %v", err)
		return
	}
	if !info.Mode().IsRegular() {
		v.problem(f.Name, "not a regular file (%s)", info.Mode().Type())
		return
	}
	sum, size, err := hashFile(path)
	if err != nil {
		v.problem(f.Name, "cannot be read: %v", err)
		return
	}
	switch {
	case f.Size >= 0 && size != f.Size:
		v.problem(f.Name, "altered: %d bytes, the manifest records %d", size, f.Size)
	case sum != f.SHA256:
		v.problem(f.Name, "altered: SHA-256 %s, the manifest records %s", sum, f.SHA256)
	}
}

// checkSignature verifies manifest.sig when there is one.
func checkSignature(v *Verification, dir string, opts VerifyOptions) {
	data, err := os.ReadFile(filepath.Join(dir, SignatureName))
	if errors.Is(err, os.ErrNotExist) {
		if opts.RequireSignature {
			v.problem(SignatureName, "missing: the package is not signed and a signature is required")
		}
		return
	}
	if err != nil {
		v.problem(SignatureName, "cannot be read: %v", err)
		return
	}
	sig, err := signing.ParseFile(data)
	if err != nil {
		v.problem(SignatureName, "not a signature file: %v", err)
		return
	}
	v.Signature = sig
	if v.Manifest == nil || v.ManifestSHA256 == "" {
		v.problem(SignatureName, "cannot be checked without a readable manifest.json")
		return
	}
	pub := opts.PublicKey
	if pub == nil {
		if opts.FetchKey == nil {
			v.SignatureUnchecked = errors.New("no public key given (--public-key or --kms-key)")
			return
		}
		if pub, err = opts.FetchKey(sig.KeyID); err != nil {
			v.SignatureUnchecked = err
			return
		}
	}
	if err := sig.Verify(pub, v.ManifestSHA256, v.Manifest.ScanID); err != nil {
		v.problem(SignatureName, "does not verify: %v", err)
		return
	}
	v.SignatureVerified = true
}

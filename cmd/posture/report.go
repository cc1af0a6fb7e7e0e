package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/posture-dev/posture/internal/signing"
	"github.com/posture-dev/posture/reports"
)

// runReport runs `posture report SCAN.json --out DIR`: it renders an earlier
// scan again as an evidence package. Every format is a function of scan.json
// (and diff.json) alone, so the files are byte-identical to the ones the
// scan wrote in the same formats.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for the package (required; created with mode 0700, files 0600)")
	var formats, frameworks listFlag
	fs.Var(&formats, "format", "formats to write (scan.json is always written): "+strings.Join(reports.FormatNames(), ", ")+" (default: all)")
	fs.Var(&frameworks, "frameworks", "render only these frameworks' controls (and their PDFs and sheets); scan.json is kept whole")
	signKey := fs.String("sign-kms-key", "", "sign the package's manifest with this asymmetric KMS key (ARN): writes manifest.sig")
	var af awsFlags
	af.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: posture report SCAN.json --out DIR [--format LIST] [--frameworks IDS] [--sign-kms-key ARN]\n\n"+
			"A diff.json beside SCAN.json is rendered too. Exit codes: 0 written; 1 could not write or sign;\n"+
			"2 bad command line, or a SCAN.json or diff.json that cannot be read.\n\n")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() != 1 {
		return 0, usagef("report takes one scan.json, got %d arguments", fs.NArg())
	}
	if *out == "" {
		return 0, usagef("--out DIR is required")
	}
	scanPath := fs.Arg(0)
	writers, err := reports.ParseFormats(formats)
	if err != nil {
		return 0, usageError{err}
	}

	original, err := os.ReadFile(scanPath)
	if err != nil {
		return 0, usagef("read scan %s: %w", scanPath, err)
	}
	scan, err := reports.DecodeScanLenient(original)
	if err != nil {
		return 0, usagef("scan %s: %w", scanPath, err)
	}
	// scan.json is written as it was read. When this version would encode
	// it differently (a newer version's fields), the original bytes are
	// kept and the other formats render what this version understands.
	reencoded, err := reports.Reencode(scan)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(reencoded, original) {
		fmt.Fprintf(stderr, "posture report: %s is not as this version (%s) writes it (written by %s %s, or edited): scan.json is copied as read; the other formats render the fields this version knows\n",
			scanPath, version, scan.Tool.Name, scan.Tool.Version)
	}
	for i, w := range writers {
		if w.Format() == "json" {
			writers[i] = reports.ScanBytes(original)
		}
	}

	in := reports.Input{Scan: scan}
	dir := filepath.Dir(scanPath)
	diffPath := filepath.Join(dir, "diff.json")
	if data, err := os.ReadFile(diffPath); err == nil {
		if in.Diff, err = reports.DecodeDiff(data); err != nil {
			return 0, usagef("diff %s: %w", diffPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, usagef("read diff %s: %w", diffPath, err)
	}
	var opts reports.PackageOptions
	// A package re-rendered beside its manifest keeps its chain link.
	if data, err := os.ReadFile(filepath.Join(dir, reports.ManifestName)); err == nil {
		var m reports.Manifest
		if json.Unmarshal(data, &m) == nil && m.ScanID == scan.Scan.ID {
			opts.PreviousManifestSHA256 = m.PreviousManifestSHA256
		}
	}
	if len(frameworks) > 0 {
		filtered, err := reports.FilterFrameworks(scan, frameworks)
		if err != nil {
			return 0, usagef("--frameworks: %w", err)
		}
		in.Scan = filtered
	}
	if *signKey != "" {
		cfg, err := af.load(ctx)
		if err != nil {
			return 0, err
		}
		signer, err := signing.NewKMSSigner(ctx, cfg, *signKey)
		if err != nil {
			return 0, err
		}
		opts.Signer, opts.Context = signer, ctx
	}

	m, err := reports.WritePackage(*out, in, writers, opts)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "scan %s (%s %s, finished %s) rendered to %s:\n", scan.Scan.ID, scan.Tool.Name, scan.Tool.Version,
		scan.Scan.FinishedAt.UTC().Format("2006-01-02T15:04:05Z"), *out)
	for _, f := range m.Files {
		fmt.Fprintf(stdout, "  %-32s %10d  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	signed := ""
	if opts.Signer != nil {
		signed = ", " + reports.SignatureName
	}
	fmt.Fprintf(stdout, "  %s, %s%s\n", reports.ManifestName, reports.SumsName, signed)
	return exitOK, nil
}

// compile-time check that the KMS signer is a package signer.
var _ reports.Signer = (*signing.KMSSigner)(nil)

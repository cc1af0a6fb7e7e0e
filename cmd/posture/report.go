package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posture-dev/posture/internal/signing"
	"github.com/posture-dev/posture/reports"
)

// reportFlags are the flags of `posture report`.
type reportFlags struct {
	out                string
	formats, framework listFlag
	signKey            string
	af                 awsFlags
}

// newReportCommand is `posture report SCAN.json --out DIR`.
func newReportCommand(stdout, stderr io.Writer) *cobra.Command {
	f := &reportFlags{}
	cmd := &cobra.Command{
		Use:   "report SCAN.json --out DIR",
		Short: "Render an earlier scan again as an evidence package",
		Long: "Renders an earlier scan again as an evidence package, byte for byte as the scan wrote it in the same\n" +
			"formats. A diff.json beside SCAN.json is rendered too.\n\n" +
			"Exit codes: 0 written; 1 could not write or sign; 2 bad command line, or a SCAN.json or diff.json that\n" +
			"cannot be read.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("report takes one scan.json, got %d arguments", len(args))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.out, "out", "", "directory for the package (required; created with mode 0700, files 0600)")
	fs.Var(&f.formats, "format", "formats to write (scan.json is always written): "+strings.Join(reports.FormatNames(), ", ")+" (default: all)")
	fs.Var(&f.framework, "frameworks", "render only these frameworks' controls (and their PDFs and sheets); scan.json is kept whole")
	fs.StringVar(&f.signKey, "sign-kms-key", "", "sign the package's manifest with this asymmetric KMS key (ARN): writes manifest.sig")
	f.af.register(fs)
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) (int, error) {
		return runReport(cmd.Context(), f, args[0], stdout, stderr)
	})
	return cmd
}

// runReport runs `posture report SCAN.json --out DIR`: it renders an earlier
// scan again as an evidence package. Every format is a function of scan.json
// (and diff.json) alone, so the files are byte-identical to the ones the
// scan wrote in the same formats.
func runReport(ctx context.Context, f *reportFlags, scanPath string, stdout, stderr io.Writer) (int, error) {
	out, formats, frameworks, signKey, af := &f.out, f.formats, f.framework, &f.signKey, f.af
	if *out == "" {
		return 0, usagef("--out DIR is required")
	}
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

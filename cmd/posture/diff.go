package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
	scandiff "github.com/posture-dev/posture/reports/diff"
)

// diffFlags are the flags of `posture diff`.
type diffFlags struct {
	format    string
	out       string
	failOnNew string
	old, new  string
}

// newDiffCommand is `posture diff OLD NEW`.
func newDiffCommand(stdout, stderr io.Writer) *cobra.Command {
	f := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff OLD/scan.json NEW/scan.json",
		Short: "Compare two scans: new, resolved, changed and not observed findings",
		Long: "Compares two scans by finding fingerprint: new, resolved, changed, not observed (NEW did not\n" +
			"cover them: never resolved) and unchanged findings, and the framework controls whose status changed.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("diff takes two scan.json files, OLD and NEW; got %d", len(args))
			}
			return nil
		},
	}
	bindDiffFlags(cmd.Flags(), f)
	cmd.RunE = runE(func(_ *cobra.Command, args []string) (int, error) {
		f.old, f.new = args[0], args[1]
		if err := checkDiffFlags(f); err != nil {
			return 0, err
		}
		return runDiff(f, stdout, stderr)
	})
	return cmd
}

// bindDiffFlags defines the flags of `posture diff` on fs.
func bindDiffFlags(fs *pflag.FlagSet, f *diffFlags) {
	fs.StringVar(&f.format, "format", "text", "output format: text, json (diff.json) or markdown")
	fs.StringVar(&f.out, "out", "", "write the diff to this file (mode 0600) instead of stdout")
	fs.StringVar(&f.failOnNew, "fail-on-new", "", "exit 3 when a new FAIL, or a finding newly FAILing, is of this severity or worse: critical, high, medium, low, informational")
}

// checkDiffFlags checks the parsed flags of `posture diff`.
func checkDiffFlags(f *diffFlags) error {
	f.format = strings.ToLower(strings.TrimSpace(f.format))
	switch f.format {
	case "text", "json", "markdown":
	case "md":
		f.format = "markdown"
	default:
		return usagef("--format %q: want text, json or markdown", f.format)
	}
	if f.failOnNew != "" {
		if _, ok := model.ParseSeverity(f.failOnNew); !ok {
			return usagef("--fail-on-new %q: want critical, high, medium, low or informational", f.failOnNew)
		}
	}
	return nil
}

// runDiff runs `posture diff OLD NEW` and returns its exit code: 0, or 3
// when --fail-on-new is met. A missing, corrupt or non-scan input file is a
// usage error (exit 2) naming the file.
func runDiff(f *diffFlags, stdout, stderr io.Writer) (int, error) {
	oldScan, err := reports.ReadScanFile(f.old)
	if err != nil {
		return 0, usageError{fmt.Errorf("OLD: %w", err)}
	}
	newScan, err := reports.ReadScanFile(f.new)
	if err != nil {
		return 0, usageError{fmt.Errorf("NEW: %w", err)}
	}
	d := scandiff.Compute(oldScan, newScan)
	render := map[string]func(io.Writer, *model.Diff) error{
		"text": scandiff.WriteText, "json": scandiff.WriteJSON, "markdown": scandiff.WriteMarkdown,
	}[f.format]
	if f.out == "" {
		if err := render(stdout, d); err != nil {
			return 0, fmt.Errorf("write diff: %w", err)
		}
	} else {
		if err := reports.WriteFile(f.out, func(w io.Writer) error { return render(w, d) }); err != nil {
			return 0, fmt.Errorf("write diff: %w", err)
		}
		fmt.Fprintf(stderr, "posture: diff written to %s\n", f.out)
	}
	if f.failOnNew != "" {
		min, _ := model.ParseSeverity(f.failOnNew)
		if hits := scandiff.NewFailures(d, min); len(hits) > 0 {
			fmt.Fprintf(stderr, "posture: %d new failure(s) at or above %s, e.g. %s %s %s %s (%s)\n",
				len(hits), min, hits[0].CheckID, hits[0].AccountID, hits[0].Region, hits[0].ResourceID, hits[0].NewSeverity)
			return exitFailures, nil
		}
	}
	return exitOK, nil
}

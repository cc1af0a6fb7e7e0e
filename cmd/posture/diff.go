package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

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

const diffUsage = `usage: posture diff [flags] OLD/scan.json NEW/scan.json

Compares two scans by finding fingerprint: new, resolved, changed,
not observed (NEW did not cover them: never resolved) and unchanged
findings, and the framework controls whose status changed.

flags:
`

func parseDiffFlags(args []string, stderr io.Writer) (*diffFlags, error) {
	f := &diffFlags{}
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), diffUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.format, "format", "text", "output format: text, json (diff.json) or markdown")
	fs.StringVar(&f.out, "out", "", "write the diff to this file (mode 0600) instead of stdout")
	fs.StringVar(&f.failOnNew, "fail-on-new", "", "exit 3 when a new FAIL, or a finding newly FAILing, is of this severity or worse: critical, high, medium, low, informational")
	// Flags may come before, between or after the two files.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 2 {
		fs.Usage()
		return nil, usagef("diff takes two scan.json files, OLD and NEW; got %d", len(files))
	}
	f.old, f.new = files[0], files[1]
	f.format = strings.ToLower(strings.TrimSpace(f.format))
	switch f.format {
	case "text", "json", "markdown":
	case "md":
		f.format = "markdown"
	default:
		return nil, usagef("--format %q: want text, json or markdown", f.format)
	}
	if f.failOnNew != "" {
		if _, ok := model.ParseSeverity(f.failOnNew); !ok {
			return nil, usagef("--fail-on-new %q: want critical, high, medium, low or informational", f.failOnNew)
		}
	}
	return f, nil
}

// runDiff runs `posture diff OLD NEW` and returns its exit code: 0, or 3
// when --fail-on-new is met. A missing, corrupt or non-scan input file is a
// usage error (exit 2) naming the file.
func runDiff(args []string, stdout, stderr io.Writer) (int, error) {
	f, err := parseDiffFlags(args, stderr)
	if err != nil {
		return 0, err
	}
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

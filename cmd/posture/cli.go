package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes, documented in README.md.
const (
	exitOK       = 0 // the scan ran, coverage is complete, no failure at or above --fail-on
	exitError    = 1 // the scan could not run (credentials, identity, regions, output)
	exitUsage    = 2 // bad command line or configuration
	exitFailures = 3 // the scan ran and found failures at or above --fail-on
	exitGaps     = 4 // the scan ran but part of it could not be collected
	// exitCancelled: the scan was interrupted (Ctrl-C, SIGTERM, --timeout);
	// what was collected is written. It wins over 3 and 4.
	exitCancelled = 5
)

// usageError marks errors caused by the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const topUsage = `posture: AWS cloud posture scanner

usage:
  posture scan [flags]       scan accounts and write evidence reports
  posture report SCAN.json --out DIR [--format LIST] [--frameworks IDS]
                             render an earlier scan again as an evidence package
  posture verify DIR [--public-key PEM | --kms-key ARN] [--require-signature]
                             check a package's files, hashes and signature
  posture checks [--json]    list the check catalogue
  posture controls [--framework ID] [--framework-file FILE]
                             list the certification frameworks, or one framework's controls
  posture version            print the version

Run 'posture scan -h' for the scan flags.
`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "scan":
		var code int
		code, err = runScan(ctx, args[1:], stdout, stderr)
		if err == nil {
			return code
		}
	case "verify", "report":
		verb := runVerify
		if args[0] == "report" {
			verb = runReport
		}
		var code int
		code, err = verb(ctx, args[1:], stdout, stderr)
		if err == nil {
			return code
		}
	case "checks":
		err = runChecks(args[1:], stdout, stderr)
	case "controls":
		err = runControls(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "posture %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, topUsage)
	default:
		err = usagef("unknown command %q", args[0])
		fmt.Fprint(stderr, topUsage)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "posture: %v\n", err)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

func runChecks(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("checks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the catalogue as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	catalogue := scanners.Catalogue(scanners.All())
	if *asJSON {
		type entry struct {
			ID           string         `json:"id"`
			Title        string         `json:"title"`
			Family       model.Family   `json:"family"`
			Service      string         `json:"service"`
			Severity     model.Severity `json:"severity"`
			ResourceType string         `json:"resource_type"`
			Rationale    string         `json:"rationale"`
			Remediation  string         `json:"remediation"`
			References   []string       `json:"references"`
		}
		out := make([]entry, len(catalogue))
		for i, m := range catalogue {
			out[i] = entry{m.ID, m.Title, m.Family, m.Service, m.Severity, m.ResourceType, m.Rationale, m.Remediation, m.References}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printCatalogue(stdout, catalogue)
}

func printCatalogue(w io.Writer, catalogue []check.Meta) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tFAMILY\tSERVICE\tTITLE")
	for _, m := range catalogue {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.Severity, m.Family, m.Service, m.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d checks\n", len(catalogue))
	return err
}

// listFlag is a comma-separated list flag that may also be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// newLogger returns the logger of --log-level and --log-format (text or json).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

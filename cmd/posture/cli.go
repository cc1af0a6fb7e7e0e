package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/scanners"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes, documented in README.md.
const (
	exitOK       = 0 // the scan ran, coverage is complete, no failure at or above --fail-on
	exitError    = 1 // the scan could not run (credentials, identity, regions, output)
	exitUsage    = 2 // bad command line, configuration or input file
	exitFailures = 3 // the scan ran and found failures at or above --fail-on (diff: --fail-on-new)
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

// run is the whole program; main only wires the process to it. The verbs
// are cobra commands (GNU-style flags, `posture help VERB`, suggestions for
// a mistyped verb or flag, `posture completion SHELL`); every error is
// printed once, as "posture: ...", and mapped to the documented exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(args, stdout, stderr)
	if len(args) == 0 {
		fmt.Fprint(stderr, root.UsageString())
		return exitUsage
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var done exitCodeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &done):
		return done.code
	}
	fmt.Fprintf(stderr, "posture: %v\n", err)
	var u usageError
	var r runError
	switch {
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &r):
		return exitError
	}
	// Errors that cobra itself returns (an unknown verb, a missing flag
	// value) are usage errors.
	return exitUsage
}

// exitCodeError ends a verb with a documented exit code whose explanation
// was already printed.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// runError marks an error of a verb that could not do its work (exit 1), as
// opposed to cobra's own parsing errors (exit 2).
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// runE adapts a verb to cobra: its errors are usage errors or run errors,
// and a non-zero exit code ends it without a message.
func runE(verb func(cmd *cobra.Command, args []string) (int, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		code, err := verb(cmd, args)
		if err != nil {
			var u usageError
			if errors.As(err, &u) {
				return err
			}
			var input *scanrun.InputError
			if errors.As(err, &input) {
				return usageError{err}
			}
			return runError{err}
		}
		if code != exitOK {
			return exitCodeError{code}
		}
		return nil
	}
}

// noArgs is cobra.NoArgs with the product's message.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}

// newRootCommand builds the command tree; argv is the command line after
// the program name, which a scan records.
func newRootCommand(argv []string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "posture",
		Short: "AWS cloud posture scanner",
		Long: "posture scans AWS accounts for public network exposure, resources outside a VPC, unencrypted data\n" +
			"stores and unrotated or stale credentials, maps every result to certification controls, and writes\n" +
			"an evidence package. It only ever reads.",
		Version:           version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("posture {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.AddCommand(newScanCommand(argv, stdout, stderr), newDiffCommand(stdout, stderr), newReportCommand(stdout, stderr), newVerifyCommand(stdout, stderr), newEvaluateCommand(stdout, stderr), newChecksCommand(stdout), newControlsCommand(stdout),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintf(stdout, "posture %s\n", version)
				return err
			},
		})
	return root
}

// flagError turns pflag's parsing errors into usage errors, suggesting the
// nearest flag for a mistyped one.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	for _, prefix := range []string{"unknown flag: --", "unknown shorthand flag: "} {
		if !strings.HasPrefix(msg, prefix) {
			continue
		}
		typed := strings.TrimPrefix(msg, prefix)
		if prefix != "unknown flag: --" {
			// "'r' in -regions": a long flag typed with one dash.
			if i := strings.Index(typed, " in -"); i >= 0 {
				name := typed[i+len(" in -"):]
				if cmd.Flags().Lookup(name) != nil {
					return usagef("%s: long flags take two dashes: --%s", msg, name)
				}
				typed = name
			}
		}
		if near := nearestFlag(cmd, typed); near != "" {
			return usagef("%s (did you mean --%s?)", msg, near)
		}
	}
	return usageError{err}
}

// nearestFlag returns the flag of cmd closest to typed, or "" when none is
// close.
func nearestFlag(cmd *cobra.Command, typed string) string {
	best, bestDist := "", 3
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if d := editDistance(typed, f.Name); d < bestDist || (d == bestDist && best == "" && strings.HasPrefix(f.Name, typed)) {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if best == "" && len(typed) >= 3 && strings.HasPrefix(f.Name, typed) {
				best = f.Name
			}
		})
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func newChecksCommand(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the check catalogue",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return printChecks(stdout, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalogue as JSON")
	return cmd
}

func printChecks(stdout io.Writer, asJSON bool) error {
	catalogue := scanners.Catalogue(scanners.All())
	if asJSON {
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

// Type implements pflag.Value.
func (l *listFlag) Type() string { return "list" }

func (l *listFlag) Set(v string) error {
	n := 0
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%q lists nothing: give one or more comma-separated values", v)
	}
	return nil
}

// durationFlag is a time.Duration flag whose error for a bare number says
// which unit to add.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

// Type implements pflag.Value.
func (f durationFlag) Type() string { return "duration" }

func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		if _, numErr := strconv.ParseFloat(strings.TrimSpace(v), 64); numErr == nil {
			return fmt.Errorf("%q has no unit: use a unit, e.g. %sm (minutes), %ss or %sh", v, v, v, v)
		}
		return fmt.Errorf("%q is not a duration (e.g. 30s, 5m, 1h30m)", v)
	}
	*f.d = d
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

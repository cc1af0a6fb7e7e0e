package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/scanners"
)

// loadFrameworks returns the built-in frameworks plus the custom catalogues
// of files, limited to the IDs in only (none: all of them). A custom file
// that does not keep the format, or an unknown ID in only, is a usage error.
func loadFrameworks(catalogue []check.Meta, files, only []string, onlyFlag string) ([]controls.Framework, error) {
	builtin, err := controls.Builtin()
	if err != nil {
		return nil, err // a broken build, not a usage error
	}
	known := map[string]bool{}
	for _, m := range catalogue {
		known[m.ID] = true
	}
	var custom []controls.Framework
	for _, f := range files {
		fw, err := controls.LoadFile(f, known)
		if err != nil {
			return nil, usageError{fmt.Errorf("--framework-file: %w", err)}
		}
		custom = append(custom, fw)
	}
	all, err := controls.Merge(builtin, custom...)
	if err != nil {
		return nil, usageError{fmt.Errorf("--framework-file: %w", err)}
	}
	selected, err := controls.Select(all, only)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", onlyFlag, err)}
	}
	return selected, nil
}

// newControlsCommand is `posture controls`: the frameworks, or one
// framework's controls with the checks behind each.
func newControlsCommand(stdout io.Writer) *cobra.Command {
	var framework string
	var files listFlag
	cmd := &cobra.Command{
		Use:   "controls",
		Short: "List the certification frameworks, or one framework's controls",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			var only []string
			if framework != "" {
				only = []string{framework}
			}
			frameworks, err := loadFrameworks(scanners.Catalogue(scanners.All()), files, only, "--framework")
			if err != nil {
				return err
			}
			if framework != "" {
				return printControls(stdout, frameworks[0])
			}
			return printFrameworks(stdout, frameworks)
		},
	}
	cmd.Flags().StringVar(&framework, "framework", "", "list this framework's controls and the checks behind each")
	cmd.Flags().Var(&files, "framework-file", "also load this custom catalogue (YAML; comma-separated or repeated)")
	return cmd
}

func printFrameworks(w io.Writer, frameworks []controls.Framework) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tCONTROLS\tAUTOMATED\tMANUAL\tNAME")
	for _, fw := range frameworks {
		automated, manual := fw.Counts()
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", fw.ID, fw.Version, len(fw.Controls), automated, manual, fw.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d frameworks; `posture controls --framework ID` lists one framework's controls\n", len(frameworks))
	return err
}

func printControls(w io.Writer, fw controls.Framework) error {
	p := &linePrinter{w: w}
	p.printf("%s: %s %s (%s)\n", fw.ID, fw.Name, fw.Version, fw.Publisher)
	if fw.URL != "" {
		p.printf("%s\n", fw.URL)
	}
	if fw.Scope != "" {
		p.printf("scope: %s\n", fw.Scope)
	}
	p.printf("\n")
	if p.err != nil {
		return p.err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tTYPE\tCOVERAGE\tCHECKS\tTITLE")
	for _, c := range fw.Controls {
		checks := strings.Join(c.Checks, ",")
		if checks == "" {
			checks = "-"
		}
		coverage := c.Coverage
		if coverage == "" {
			coverage = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Type, coverage, checks, c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	automated, manual := fw.Counts()
	_, err := fmt.Fprintf(w, "\n%d controls: %d automated, %d manual\n", len(fw.Controls), automated, manual)
	return err
}

type linePrinter struct {
	w   io.Writer
	err error
}

func (p *linePrinter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/scanners"
)

// evaluateFlags are the flags of `posture evaluate`.
type evaluateFlags struct {
	out           string
	overwrite     bool
	config        string
	checks        listFlag
	excludeChecks listFlag
	frameworks    listFlag
	frameworkFile listFlag
	formats       listFlag
	failOn        string
	baseline      string
}

// newEvaluateCommand is `posture evaluate INVENTORY --out DIR`.
func newEvaluateCommand(stdout, stderr io.Writer) *cobra.Command {
	f := &evaluateFlags{}
	cmd := &cobra.Command{
		Use:   "evaluate INVENTORY --out DIR",
		Short: "Evaluate a saved inventory again, offline, into an evidence package",
		Long: "Evaluates the checks over an inventory that `posture scan --save-inventory` wrote (inventory.json.gz),\n" +
			"with no AWS call, and writes the evidence package to --out. With no other flag the package's scan.json\n" +
			"is the live scan's, byte for byte (same scan ID and times); --config changes the thresholds and waivers,\n" +
			"--checks and --exclude-checks the checks (a check whose data the inventory did not collect is ERROR\n" +
			"\"not collected in this inventory\", never PASS).\n\n" +
			"Exit codes as for posture scan: 0 written, no gap; 1 could not write; 2 bad command line, or a file that\n" +
			"is not an inventory this version reads; 3 failures at or above --fail-on; 4 coverage gaps (of the\n" +
			"collection, or checks not collected); 5 the inventory is of a cancelled scan.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("evaluate takes one inventory file, got %d arguments", len(args))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.out, "out", "", "folder for the evidence package (required; created with mode 0700, files 0600)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace the package files of an earlier scan in --out (other files are never removed)")
	fs.StringVar(&f.config, "config", "", "YAML file of check thresholds and waivers (default: those the inventory was collected with)")
	fs.Var(&f.checks, "checks", "evaluate only these check IDs (comma-separated; default the checks the inventory was collected for)")
	fs.Var(&f.excludeChecks, "exclude-checks", "skip these check IDs (comma-separated)")
	fs.Var(&f.frameworks, "frameworks", "roll up only these framework IDs (comma-separated; default every built-in framework and every --framework-file)")
	fs.Var(&f.frameworkFile, "framework-file", "load a custom framework catalogue (YAML, the built-in format; comma-separated or repeated)")
	fs.Var(&f.formats, "format", "report formats to write (scan.json is always written): "+strings.Join(reports.FormatNames(), ", ")+" (default: all)")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a result of this severity or worse FAILs: critical, high, medium, low, informational")
	fs.StringVar(&f.baseline, "baseline", "", "an earlier scan.json to compare with: writes diff.json and carries each finding's first_seen forward")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) (int, error) {
		return runEvaluate(cmd.Context(), f, args[0], stderr)
	})
	return cmd
}

// runEvaluate runs `posture evaluate INVENTORY`: it reads the inventory,
// evaluates it with the engine and writes the package through the steps a
// scan takes after its engine run (writeEvidence).
func runEvaluate(ctx context.Context, f *evaluateFlags, path string, stderr io.Writer) (int, error) {
	if f.out == "" {
		return 0, usagef("--out DIR is required")
	}
	logger, err := newLogger(stderr, "info", "text")
	if err != nil {
		return 0, err
	}
	writers, err := reports.ParseFormats(f.formats)
	if err != nil {
		return 0, usageError{err}
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return 0, err
	}
	inv, err := inventory.ReadFile(path)
	if err != nil {
		return 0, usageError{err}
	}
	thresholds, configFile, configSum := inv.Scan.Config, inv.Scan.ConfigFile, inv.Scan.ConfigSHA256
	if f.config != "" {
		if thresholds, configSum, err = loadConfigFile(f.config, logger); err != nil {
			return 0, err
		}
		configFile = f.config
	}
	baseline, err := readBaseline(f.baseline)
	if err != nil {
		return 0, err
	}
	all := scanners.All()
	catalogue := scanners.Catalogue(all)
	include := []string(f.checks)
	if len(include) == 0 {
		// The inventory's own checks, less any this version does not know.
		known := map[string]bool{}
		for _, m := range catalogue {
			known[m.ID] = true
		}
		for _, id := range inv.Scan.Checks {
			if known[id] {
				include = append(include, id)
			} else {
				logger.Warn("the inventory was collected for a check this version does not know; it is not evaluated", "check", id)
			}
		}
		if len(include) == 0 {
			return 0, usagef("%s: none of the inventory's checks is known to this version; choose some with --checks", path)
		}
	}
	selected, err := scanners.Select(catalogue, include, f.excludeChecks)
	if err != nil {
		return 0, usageError{err}
	}
	frameworks, err := loadFrameworks(catalogue, f.frameworkFile, f.frameworks, "--frameworks")
	if err != nil {
		return 0, err
	}
	out, err := planOutput(f.out, true, f.overwrite)
	if err != nil {
		return 0, err
	}
	logger.Info("evaluating inventory", "file", path, "scan", inv.Scan.ID, "scopes", len(inv.Scopes), "checks", len(selected))
	scan := engine.Evaluate(inv, engine.Options{
		Scanners: all,
		Checks:   selected,
		Tool:     model.Tool{Name: "posture", Version: version},
		Config:   &thresholds,
		Logger:   logger,
	})
	code, err := writeEvidence(ctx, scan, evidence{
		Evidence: scanrun.Evidence{
			Waivers:    thresholds.Waivers,
			Frameworks: frameworks,
			Run: scanrun.Description{
				Caller:       awsenv.Caller{ARN: inv.Scan.Principal},
				Invocation:   inv.Scan.Invocation,
				Regions:      inv.Scan.RequestedRegions,
				ConfigFile:   configFile,
				ConfigSHA256: configSum,
				Catalogue:    catalogue,
			},
			Baseline: baseline,
			Writers:  writers,
		},
		out: out, failOn: failOn, logger: logger,
	}, stderr)
	if err != nil {
		return 0, fmt.Errorf("evaluate %s: %w", path, err)
	}
	return code, nil
}

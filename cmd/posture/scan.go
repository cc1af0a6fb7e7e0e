package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/scanners"
)

// scanFlags are the flags of `posture scan`.
type scanFlags struct {
	regions       listFlag
	checks        listFlag
	excludeChecks listFlag
	frameworks    listFlag
	frameworkFile listFlag
	formats       listFlag
	out           string
	failOn        string
	profile       string
	region        string
	endpointURL   string
	concurrency   int
	maxAttempts   int
	logLevel      string
	config        string
}

func parseScanFlags(args []string, stderr io.Writer) (*scanFlags, error) {
	f := &scanFlags{}
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&f.regions, "regions", "regions to scan: a comma-separated list, or `all` for every enabled region of the partition (default all)")
	fs.Var(&f.checks, "checks", "run only these check IDs (comma-separated; default every check)")
	fs.Var(&f.excludeChecks, "exclude-checks", "skip these check IDs (comma-separated)")
	fs.Var(&f.frameworks, "frameworks", "roll up only these framework IDs (comma-separated; default every built-in framework and every --framework-file; see `posture controls`)")
	fs.Var(&f.frameworkFile, "framework-file", "load a custom framework catalogue (YAML, the built-in format; comma-separated or repeated)")
	fs.Var(&f.formats, "format", "report formats to write besides scan.json: json, csv (default json,csv)")
	fs.StringVar(&f.out, "out", "posture-output", "directory for the reports (created with mode 0700; files 0600)")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a result of this severity or worse FAILs: critical, high, medium, low, informational")
	fs.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&f.region, "region", "", "region for account-level calls such as DescribeRegions (default: AWS_REGION, else us-east-1)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL)")
	fs.IntVar(&f.concurrency, "concurrency", engine.DefaultScopeConcurrency, "how many (region, service) scopes of an account are collected at once")
	fs.IntVar(&f.maxAttempts, "max-attempts", awsenv.DefaultMaxAttempts, "attempts per AWS call before a throttled or failing call becomes a coverage gap")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	fs.StringVar(&f.config, "config", "", "YAML file of check thresholds (see posture.example.yaml; default: the built-in thresholds)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("scan takes no arguments, got %q", fs.Args())
	}
	if len(f.formats) == 0 {
		f.formats = listFlag{"json", "csv"}
	}
	if f.concurrency < 1 || f.maxAttempts < 1 {
		return nil, usagef("--concurrency and --max-attempts must be at least 1")
	}
	return f, nil
}

// runScan runs `posture scan` and returns its exit code.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	f, err := parseScanFlags(args, stderr)
	if err != nil {
		return 0, err
	}
	logger, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return 0, err
	}
	writers, err := reports.ParseFormats(f.formats)
	if err != nil {
		return 0, usageError{err}
	}
	var failOn model.Severity
	if f.failOn != "" {
		sev, ok := model.ParseSeverity(f.failOn)
		if !ok {
			return 0, usagef("--fail-on %q: want critical, high, medium, low or informational", f.failOn)
		}
		failOn = sev
	}
	thresholds := config.Default()
	if f.config != "" {
		if thresholds, err = config.Load(f.config); err != nil {
			return 0, usageError{err}
		}
	}
	all := scanners.All()
	catalogue := scanners.Catalogue(all)
	selected, err := scanners.Select(catalogue, f.checks, f.excludeChecks)
	if err != nil {
		return 0, usageError{err}
	}
	frameworks, err := loadFrameworks(catalogue, f.frameworkFile, f.frameworks)
	if err != nil {
		return 0, err
	}

	cfg, err := awsenv.Load(ctx, awsenv.Options{Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, MaxAttempts: f.maxAttempts})
	if err != nil {
		return 0, err
	}
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		return 0, err
	}
	regions, err := resolveRegions(ctx, cfg, caller.Partition, f.regions, logger)
	if err != nil {
		return 0, err
	}
	logger.Info("scan starting", "account", caller.AccountID, "partition", caller.Partition, "regions", len(regions), "checks", len(selected))

	scan := engine.Run(ctx, []engine.Target{{
		Account: engine.Account{ID: caller.AccountID, Partition: caller.Partition, Config: cfg},
		Regions: regions,
	}}, engine.Options{
		Scanners:         all,
		Checks:           selected,
		ScopeConcurrency: f.concurrency,
		Tool:             model.Tool{Name: "posture", Version: version},
		Config:           &thresholds,
		Logger:           logger,
	})
	controls.Apply(scan, frameworks)

	if _, err := reports.WriteDir(f.out, scan, writers); err != nil {
		return 0, err
	}
	if err := reports.WriteSummary(stderr, scan, f.out); err != nil {
		return 0, fmt.Errorf("write summary: %w", err)
	}
	return exitCode(scan, failOn), nil
}

// resolveRegions turns --regions into the regions to scan. An explicit list
// is checked against DescribeRegions when the caller may call it; `all`
// needs it.
func resolveRegions(ctx context.Context, cfg aws.Config, partition string, requested []string, logger *slog.Logger) ([]string, error) {
	known, err := awsenv.DescribeRegions(ctx, cfg)
	if err != nil {
		if len(requested) == 0 || (len(requested) == 1 && requested[0] == "all") {
			return nil, fmt.Errorf("--regions all: %w", err)
		}
		logger.Warn("cannot list regions; using the requested regions unchecked", "error", err)
		known = nil
	}
	regions, err := awsenv.SelectRegions(requested, known, partition)
	if err != nil {
		return nil, usageError{err}
	}
	return regions, nil
}

// exitCode maps a finished scan to the documented exit code.
func exitCode(scan *model.Scan, failOn model.Severity) int {
	if failOn != "" {
		for _, r := range scan.Results {
			if r.Status == model.StatusFail && r.Severity.Rank() >= failOn.Rank() {
				return exitFailures
			}
		}
	}
	if len(scan.Gaps()) > 0 {
		return exitGaps
	}
	return exitOK
}

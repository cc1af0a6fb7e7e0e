package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/accounts"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/fanout"
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
	logFormat     string
	config        string

	accounts           listFlag
	org                bool
	roleName           string
	externalID         string
	roleDuration       time.Duration
	accountConcurrency int
	callConcurrency    int
	timeout            time.Duration
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
	fs.Var(&f.formats, "format", "report formats to write (scan.json is always written): "+strings.Join(reports.FormatNames(), ", ")+" (default: all)")
	fs.StringVar(&f.out, "out", "posture-output", "directory for the reports (created with mode 0700; files 0600)")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a result of this severity or worse FAILs: critical, high, medium, low, informational")
	fs.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&f.region, "region", "", "region for account-level calls such as DescribeRegions (default: AWS_REGION, else us-east-1)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL)")
	fs.IntVar(&f.concurrency, "concurrency", engine.DefaultScopeConcurrency, "how many (region, service) scopes of an account are collected at once")
	fs.IntVar(&f.maxAttempts, "max-attempts", awsenv.DefaultMaxAttempts, "attempts per AWS call before a throttled or failing call becomes a coverage gap")
	fs.StringVar(&f.logLevel, "log-level", "", "log level on stderr: debug, info, warn, error (default info, or warn under the progress display)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.Var(&f.accounts, "accounts", "scan these accounts (12-digit IDs, comma-separated or repeated) through --role-name; the caller's own account uses its own credentials")
	fs.BoolVar(&f.org, "org", false, "scan every ACTIVE account of the organization (organizations:ListAccounts from the management or a delegated-administrator account)")
	fs.StringVar(&f.roleName, "role-name", awsenv.DefaultRoleName, "role assumed in each target account (name, or path/name)")
	fs.StringVar(&f.externalID, "external-id", "", "external ID passed to sts:AssumeRole")
	fs.DurationVar(&f.roleDuration, "role-duration", awsenv.DefaultRoleDuration, "lifetime of each assumed-role session, 15m to 12h (refreshed during long scans)")
	fs.IntVar(&f.accountConcurrency, "account-concurrency", engine.DefaultAccountConcurrency, "how many accounts are scanned at once")
	fs.IntVar(&f.callConcurrency, "call-concurrency", fanout.DefaultLimit, "how many per-resource calls of one scope are made at once")
	fs.DurationVar(&f.timeout, "timeout", 0, "stop the scan after this long (e.g. 30m) and write what was collected; exit 5 (default: no limit)")
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
	if f.concurrency < 1 || f.maxAttempts < 1 || f.accountConcurrency < 1 || f.callConcurrency < 1 {
		return nil, usagef("--concurrency, --account-concurrency, --call-concurrency and --max-attempts must be at least 1")
	}
	if f.org && len(f.accounts) > 0 {
		return nil, usagef("--org and --accounts cannot be combined: --org scans every account of the organization")
	}
	if len(f.accounts) > 0 {
		ids, err := accounts.ParseIDs(f.accounts)
		if err != nil {
			return nil, usagef("--accounts: %w", err)
		}
		f.accounts = ids
	}
	if f.roleDuration < awsenv.MinRoleDuration || f.roleDuration > awsenv.MaxRoleDuration {
		return nil, usagef("--role-duration %s: want between %s and %s", f.roleDuration, awsenv.MinRoleDuration, awsenv.MaxRoleDuration)
	}
	if strings.TrimSpace(f.roleName) == "" {
		return nil, usagef("--role-name must not be empty")
	}
	if f.timeout < 0 {
		return nil, usagef("--timeout %s: must not be negative", f.timeout)
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, usagef("--log-format %q: want text or json", f.logFormat)
	}
	return f, nil
}

// runScan runs `posture scan` and returns its exit code.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	f, err := parseScanFlags(args, stderr)
	if err != nil {
		return 0, err
	}
	showProgress := isTerminal(stderr)
	level := f.logLevel
	if level == "" {
		level = "info"
		if showProgress {
			level = "warn"
		}
	}
	logOut := stderr
	var bar *progress
	if showProgress {
		// Logs are written above the live line, not through it.
		bar = newProgress(stderr, time.Now)
		defer bar.Close()
		logOut = bar.container
	}
	logger, err := newLogger(logOut, level, f.logFormat)
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
	var configSum string
	if f.config != "" {
		if thresholds, err = config.Load(f.config); err != nil {
			return 0, usageError{err}
		}
		if configSum, err = fileSHA256(f.config); err != nil {
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
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}

	cfg, err := awsenv.Load(ctx, awsenv.Options{Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, MaxAttempts: f.maxAttempts})
	if err != nil {
		return 0, err
	}
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		return startFailed(ctx, stderr, err)
	}
	targets, err := buildTargets(ctx, f, cfg, caller, logger)
	if err != nil {
		return startFailed(ctx, stderr, err)
	}
	logger.Info("scan starting", "caller_account", caller.AccountID, "partition", caller.Partition, "accounts", len(targets), "checks", len(selected))

	opts := engine.Options{
		Scanners:           all,
		Checks:             selected,
		AccountConcurrency: f.accountConcurrency,
		ScopeConcurrency:   f.concurrency,
		CallConcurrency:    f.callConcurrency,
		Tool:               model.Tool{Name: "posture", Version: version},
		Config:             &thresholds,
		Logger:             logger,
	}
	opts.Observer = logObserver{logger}
	if bar != nil {
		bar.SetAccounts(len(targets))
		opts.Observer = bar
	}
	scan := engine.Run(ctx, targets, opts)
	if bar != nil {
		bar.Close() // before the summary
	}
	if scan.Scan.Cancelled {
		logger.Warn("scan cancelled; writing what was collected", "cause", context.Cause(ctx))
	}
	controls.Apply(scan, frameworks)
	describeRun(scan, runInfo{
		caller:     caller,
		args:       args,
		regions:    f.regions,
		configFile: f.config,
		configSum:  configSum,
		catalogue:  catalogue,
	})

	// Every report quotes scan.json as a reader decodes it (evidence keys
	// sorted), so that re-rendering it later gives the same bytes.
	if err := reports.CanonicalEvidence(scan); err != nil {
		return 0, err
	}
	if _, err := reports.WriteDir(f.out, reports.Input{Scan: scan}, writers); err != nil {
		return 0, err
	}
	if err := reports.WriteSummary(stderr, scan, f.out); err != nil {
		return 0, fmt.Errorf("write summary: %w", err)
	}
	return exitCode(scan, failOn), nil
}

// startFailed is the outcome of a scan that failed before the engine
// started: exit 5 when the failure is the cancellation (Ctrl-C, SIGTERM,
// --timeout) rather than AWS or the command line, else err. Nothing was
// collected, so no report is written.
func startFailed(ctx context.Context, stderr io.Writer, err error) (int, error) {
	var u usageError
	if ctx.Err() == nil || errors.As(err, &u) {
		return 0, err
	}
	fmt.Fprintf(stderr, "posture: scan cancelled before it started (%v); nothing collected, no report written: %v\n", context.Cause(ctx), err)
	return exitCancelled, nil
}

// buildTargets returns the accounts to scan: the caller's own account, or
// with --accounts or --org those accounts, each reached through --role-name.
func buildTargets(ctx context.Context, f *scanFlags, cfg aws.Config, caller awsenv.Caller, logger *slog.Logger) ([]engine.Target, error) {
	if len(f.accounts) == 0 && !f.org {
		regions, err := resolveRegions(ctx, cfg, caller.Partition, f.regions, logger)
		if err != nil {
			return nil, err
		}
		return []engine.Target{{
			Account: engine.Account{ID: caller.AccountID, Partition: caller.Partition, Config: cfg},
			Regions: regions,
		}}, nil
	}
	requested := []string(f.regions)
	if len(requested) > 0 && !(len(requested) == 1 && requested[0] == "all") {
		// The names and partition are checked up front; whether each
		// account has enabled a region is checked per account.
		if _, err := awsenv.SelectRegions(requested, nil, caller.Partition); err != nil {
			return nil, usageError{err}
		}
	}
	var list []awsenv.OrgAccount
	if f.org {
		var err error
		if list, err = awsenv.ListAccounts(ctx, cfg); err != nil {
			return nil, err
		}
	} else {
		for _, id := range f.accounts {
			list = append(list, awsenv.OrgAccount{ID: id})
		}
	}
	return accounts.Targets(list, accounts.Options{
		Base:   cfg,
		Caller: caller,
		Role: awsenv.Role{Name: f.roleName, ExternalID: f.externalID, Duration: f.roleDuration,
			SessionName: awsenv.SessionName("posture", version)},
		Regions: requested,
		Logger:  logger,
	}), nil
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

// exitCode maps a finished scan to the documented exit code: a cancelled
// scan is 5 whatever it found.
func exitCode(scan *model.Scan, failOn model.Severity) int {
	if scan.Scan.Cancelled {
		return exitCancelled
	}
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

// runInfo is what scan.json records of how the run was started.
type runInfo struct {
	caller     awsenv.Caller
	args       []string
	regions    []string
	configFile string
	configSum  string
	catalogue  []check.Meta
}

// describeRun records in the scan who ran it and how: the caller's ARN, the
// command line, the requested regions, the config file's hash and the
// catalogue entries of the checks that ran.
func describeRun(scan *model.Scan, info runInfo) {
	scan.Scan.Principal = info.caller.ARN
	scan.Scan.Invocation = commandLine(append([]string{"posture", "scan"}, info.args...))
	scan.Scan.RequestedRegions = append([]string(nil), info.regions...)
	if len(scan.Scan.RequestedRegions) == 0 {
		scan.Scan.RequestedRegions = []string{"all"}
	}
	scan.Scan.ConfigFile, scan.Scan.ConfigSHA256 = info.configFile, info.configSum
	ran := map[string]bool{}
	for _, id := range scan.Scan.Checks {
		ran[id] = true
	}
	scan.Catalogue = []model.CheckInfo{}
	for _, m := range info.catalogue {
		if ran[m.ID] {
			scan.Catalogue = append(scan.Catalogue, m.Info())
		}
	}
	sort.Slice(scan.Catalogue, func(i, j int) bool { return scan.Catalogue[i].ID < scan.Catalogue[j].ID })
}

// commandLine renders args as a shell would read them back: words with
// characters special to the shell are single-quoted.
func commandLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=.,/:@+", r))
		}) < 0 {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// fileSHA256 returns the hex SHA-256 of a file's contents.
func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posture-dev/posture/internal/accounts"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/internal/signing"
	"github.com/posture-dev/posture/reports"
	scandiff "github.com/posture-dev/posture/reports/diff"
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
	// argv is the command line after the program name, for the record.
	argv        []string
	out         string
	outSet      bool
	overwrite   bool
	failOn      string
	profile     string
	region      string
	endpointURL string
	concurrency int
	maxAttempts int
	logLevel    string
	logFormat   string
	config      string
	baseline    string

	accounts           listFlag
	org                bool
	roleName           string
	externalID         string
	roleDuration       time.Duration
	accountConcurrency int
	callConcurrency    int
	timeout            time.Duration

	signKMSKey string

	saveInventory bool
}

// newScanCommand is `posture scan`.
func newScanCommand(argv []string, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan accounts and write the evidence package",
		Long: "Scan one account, a list (--accounts) or an organization (--org), in every enabled region or those\n" +
			"of --regions, and write the evidence package to --out (default posture-output/<scan-id>/).",
		Args: noArgs,
	}
	f := bindScanFlags(cmd.Flags())
	f.argv = argv
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) (int, error) {
		if err := checkScanFlags(cmd.Flags(), f); err != nil {
			return 0, err
		}
		return runScan(cmd.Context(), f, stdout, stderr)
	})
	return cmd
}

// parseScanFlags parses and checks the flags of `posture scan` alone.
func parseScanFlags(args []string, stderr io.Writer) (*scanFlags, error) {
	fs := pflag.NewFlagSet("scan", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	f := bindScanFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("scan takes no arguments, got %q", fs.Args())
	}
	if err := checkScanFlags(fs, f); err != nil {
		return nil, err
	}
	return f, nil
}

// bindScanFlags defines the flags of `posture scan` on fs.
func bindScanFlags(fs *pflag.FlagSet) *scanFlags {
	f := &scanFlags{}
	fs.Var(&f.regions, "regions", "regions to scan: a comma-separated list, or all for every enabled region of the partition (default all)")
	fs.Var(&f.checks, "checks", "run only these check IDs (comma-separated; default every check)")
	fs.Var(&f.excludeChecks, "exclude-checks", "skip these check IDs (comma-separated)")
	fs.Var(&f.frameworks, "frameworks", "roll up only these framework IDs (comma-separated; default every built-in framework and every --framework-file; see posture controls)")
	fs.Var(&f.frameworkFile, "framework-file", "load a custom framework catalogue (YAML, the built-in format; comma-separated or repeated)")
	fs.Var(&f.formats, "format", "report formats to write (scan.json is always written): "+strings.Join(reports.FormatNames(), ", ")+" (default: all)")
	fs.StringVar(&f.out, "out", "", "folder for the evidence package (created with mode 0700; files 0600; default: "+defaultOutRoot+"/<scan-id>/, with "+defaultOutRoot+"/latest linking to the newest)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace the package files of an earlier scan in --out (other files are never removed)")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a result of this severity or worse FAILs: critical, high, medium, low, informational")
	fs.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&f.region, "region", "", "region for account-level calls such as DescribeRegions (default: AWS_REGION, else us-east-1); without --regions, scan only this region, as the AWS CLI's --region means")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL)")
	fs.IntVar(&f.concurrency, "concurrency", engine.DefaultScopeConcurrency, "how many (region, service) scopes of an account are collected at once")
	fs.IntVar(&f.maxAttempts, "max-attempts", awsenv.DefaultMaxAttempts, "attempts per AWS call before a throttled or failing call becomes a coverage gap")
	fs.StringVar(&f.logLevel, "log-level", "", "log level on stderr: debug, info, warn, error (default info, or warn under the progress display)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.Var(&f.accounts, "accounts", "scan these accounts (12-digit IDs, comma-separated or repeated) through --role-name; the caller's own account uses its own credentials")
	fs.BoolVar(&f.org, "org", false, "scan every ACTIVE account of the organization (organizations:ListAccounts from the management or a delegated-administrator account)")
	fs.StringVar(&f.roleName, "role-name", awsenv.DefaultRoleName, "role assumed in each target account (name, or path/name)")
	fs.StringVar(&f.externalID, "external-id", "", "external ID passed to sts:AssumeRole")
	f.roleDuration = awsenv.DefaultRoleDuration
	fs.Var(durationFlag{&f.roleDuration}, "role-duration", "lifetime of each assumed-role session, 15m to 12h (refreshed during long scans)")
	fs.IntVar(&f.accountConcurrency, "account-concurrency", engine.DefaultAccountConcurrency, "how many accounts are scanned at once")
	fs.IntVar(&f.callConcurrency, "call-concurrency", fanout.DefaultLimit, "how many per-resource calls of one scope are made at once")
	fs.Var(durationFlag{&f.timeout}, "timeout", "stop the scan after this long (e.g. 30m) and write what was collected; exit 5 (default: no limit)")
	fs.StringVar(&f.config, "config", "", "YAML file of check thresholds and waivers (see posture.example.yaml; default: the built-in thresholds, no waivers)")
	fs.StringVar(&f.baseline, "baseline", "", "an earlier scan.json to compare with: writes diff.json and carries each finding's first_seen forward")
	fs.BoolVar(&f.saveInventory, "save-inventory", false, "also write "+inventory.FileName+": the collected configuration (no secret values), which posture evaluate re-evaluates offline")
	fs.StringVar(&f.signKMSKey, "sign-kms-key", "", "sign the package's manifest with this asymmetric KMS key (ARN; SIGN_VERIFY, ECC_NIST_P256 or RSA) using the caller's own credentials: writes manifest.sig")
	return f
}

// checkScanFlags checks the parsed flags of `posture scan` and fills in
// what follows from them.
func checkScanFlags(fs *pflag.FlagSet, f *scanFlags) error {
	f.outSet = fs.Changed("out")
	if f.concurrency < 1 || f.maxAttempts < 1 || f.accountConcurrency < 1 || f.callConcurrency < 1 {
		return usagef("--concurrency, --account-concurrency, --call-concurrency and --max-attempts must be at least 1")
	}
	if f.org && len(f.accounts) > 0 {
		return usagef("--org and --accounts cannot be combined: --org scans every account of the organization")
	}
	if len(f.accounts) > 0 {
		ids, err := accounts.ParseIDs(f.accounts)
		if err != nil {
			return usagef("--accounts: %w", err)
		}
		f.accounts = ids
	}
	if f.roleDuration < awsenv.MinRoleDuration || f.roleDuration > awsenv.MaxRoleDuration {
		return usagef("--role-duration %s: want between %s and %s", f.roleDuration, awsenv.MinRoleDuration, awsenv.MaxRoleDuration)
	}
	if strings.TrimSpace(f.roleName) == "" {
		return usagef("--role-name must not be empty")
	}
	if f.timeout < 0 {
		return usagef("--timeout %s: must not be negative", f.timeout)
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return usagef("--log-format %q: want text or json", f.logFormat)
	}
	if f.region != "" {
		if !awsenv.IsRegionName(f.region) {
			return usagef("--region %q: not a region name (expected e.g. us-east-1)", f.region)
		}
		if len(f.regions) == 0 {
			// The AWS CLI's --region X means "in X": scan X only.
			f.regions = listFlag{f.region}
		}
	}
	return nil
}

// runScan runs `posture scan` with its parsed flags and returns its exit
// code.
func runScan(ctx context.Context, f *scanFlags, stdout, stderr io.Writer) (int, error) {
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
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return 0, err
	}
	thresholds := config.Default()
	var configSum string
	if f.config != "" {
		if thresholds, configSum, err = loadConfigFile(f.config, logger); err != nil {
			return 0, err
		}
	}
	baseline, err := readBaseline(f.baseline)
	if err != nil {
		return 0, err
	}
	all := scanners.All()
	catalogue := scanners.Catalogue(all)
	selected, err := scanners.Select(catalogue, f.checks, f.excludeChecks)
	if err != nil {
		return 0, usageError{err}
	}
	frameworks, err := loadFrameworks(catalogue, f.frameworkFile, f.frameworks, "--frameworks")
	if err != nil {
		return 0, err
	}
	// The output folder is checked before the first AWS call: a path that
	// cannot be used must not throw a finished scan away.
	out, err := planOutput(f.out, f.outSet, f.overwrite)
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
		var pnf *awsenv.ProfileNotFoundError
		if errors.As(err, &pnf) {
			return 0, usageError{err}
		}
		return 0, err
	}
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		return startFailed(ctx, stderr, err)
	}
	var signer reports.Signer
	if f.signKMSKey != "" {
		// The key is checked before the scan, with the caller's own
		// credentials, never a scanned account's.
		s, err := signing.NewKMSSigner(ctx, cfg, f.signKMSKey)
		if err != nil {
			return startFailed(ctx, stderr, err)
		}
		signer = s
	}
	targets, err := scanrun.Targets(ctx, cfg, caller, scanrun.Targeting{
		Regions:  f.regions,
		Accounts: f.accounts,
		Org:      f.org,
		Role: awsenv.Role{Name: f.roleName, ExternalID: f.externalID, Duration: f.roleDuration,
			SessionName: awsenv.SessionName("posture", version)},
	}, logger)
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
	scan, inv := engine.RunInventory(ctx, targets, opts)
	if bar != nil {
		// Before the summary; a cancelled scan's line is removed, not
		// drawn again below the cancellation message.
		if scan.Scan.Cancelled {
			bar.Abort()
		} else {
			bar.Close()
		}
	}
	if scan.Scan.Cancelled {
		logger.Warn("scan cancelled; writing what was collected", "cause", context.Cause(ctx))
	}
	ev := evidence{
		Evidence: scanrun.Evidence{
			Waivers:    thresholds.Waivers,
			Frameworks: frameworks,
			Run: scanrun.Description{
				Caller:       caller,
				Invocation:   scanrun.CommandLine(append([]string{"posture"}, f.argv...)),
				Regions:      f.regions,
				ConfigFile:   f.config,
				ConfigSHA256: configSum,
				Catalogue:    catalogue,
			},
			Baseline: baseline,
			Writers:  writers,
			Signer:   signer,
		},
		out: out, failOn: failOn, logger: logger,
	}
	if f.saveInventory {
		ev.Inventory = inv
	}
	return writeEvidence(ctx, scan, ev, stderr)
}

// evidence is what turns an evaluated scan into its evidence package: the
// steps after the engine, which `posture scan` and `posture evaluate`
// share (scanrun.Package, the same function the nightly Lambda uses), plus
// the CLI's output folder, summary and exit code.
type evidence struct {
	scanrun.Evidence
	out    outPlan
	failOn model.Severity
	logger *slog.Logger
}

// writeEvidence writes the scan's package (scanrun.Package) into its output
// folder, then the summary, and returns the exit code.
func writeEvidence(ctx context.Context, scan *model.Scan, e evidence, stderr io.Writer) (int, error) {
	dir := e.out.folder(scan.Scan.ID)
	outcome, err := scanrun.Package(ctx, scan, dir, e.Evidence)
	if err != nil {
		return 0, err
	}
	if err := e.out.finish(scan.Scan.ID); err != nil {
		e.logger.Warn("the package is written, but the latest link is not", "error", err)
	}
	if err := reports.WriteSummary(stderr, scan, dir); err != nil {
		return 0, fmt.Errorf("write summary: %w", err)
	}
	if changes := outcome.Diff; changes != nil {
		fmt.Fprintf(stderr, "since baseline %s (finished %s earlier): %d new, %d resolved, %d changed, %d not observed, %d unchanged; see %s\n",
			changes.Context.Old.ID, scandiff.Window(changes.Context.WindowSeconds), len(changes.New), len(changes.Resolved),
			len(changes.Changed), len(changes.NotObserved), changes.UnchangedCount, filepath.Join(dir, scandiff.FileName))
	}
	code, why := exitCode(scan, e.failOn)
	if why != "" {
		fmt.Fprintf(stderr, "posture: %s\n", why)
	}
	return code, nil
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

// exitCode maps a finished scan to the documented exit code and the
// sentence that explains it (empty for exit 0): a cancelled scan is 5
// whatever it found; a scan that reached no account at all is 1, since an
// empty result is not a clean one.
func exitCode(scan *model.Scan, failOn model.Severity) (int, string) {
	if scan.Scan.Cancelled {
		return exitCancelled, "the scan was cancelled; the reports hold what was collected"
	}
	if reached, total := reachedAccounts(scan); reached == 0 {
		if total == 0 {
			return exitError, "no account was scanned: the target list is empty (an organization with no ACTIVE account?)"
		}
		return exitError, fmt.Sprintf("no account was scanned: none of the %d target account(s) could be reached (see the coverage gaps)", total)
	}
	if failOn != "" {
		failed := 0
		for _, r := range scan.Results {
			if r.Status == model.StatusFail && r.Severity.Rank() >= failOn.Rank() {
				failed++
			}
		}
		if failed > 0 {
			return exitFailures, fmt.Sprintf("exit %d: %d result(s) at %s or above failed (--fail-on %s)", exitFailures, failed, failOn, failOn)
		}
	}
	if gaps := len(scan.Gaps()); gaps > 0 {
		return exitGaps, fmt.Sprintf("exit %d: coverage is incomplete: %d scope(s) could not be collected (see coverage in scan.json)", exitGaps, gaps)
	}
	return exitOK, ""
}

// reachedAccounts counts the scan's accounts and those that were reached
// (not a whole-account coverage gap).
func reachedAccounts(scan *model.Scan) (reached, total int) {
	unreachable := map[string]bool{}
	for _, c := range scan.Coverage {
		if c.Service == model.ServiceAccount && c.Status != model.CoverageOK {
			unreachable[c.AccountID] = true
		}
	}
	for _, a := range scan.Scan.Accounts {
		if !unreachable[a] {
			reached++
		}
	}
	return reached, len(scan.Scan.Accounts)
}

// parseFailOn reads --fail-on: empty for none, else a severity name.
func parseFailOn(v string) (model.Severity, error) {
	if v == "" {
		return "", nil
	}
	sev, ok := model.ParseSeverity(v)
	if !ok {
		return "", usagef("--fail-on %q: want critical, high, medium, low or informational", v)
	}
	return sev, nil
}

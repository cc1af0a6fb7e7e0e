package nightly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/scanners"
)

// DefaultStopMargin is how long before the Lambda's deadline the engine is
// stopped, so that a scan cut short still writes its package (cancelled).
const DefaultStopMargin = 60 * time.Second

// The actions of an event.
const (
	ActionRun         = "run"
	ActionPlan        = "plan"
	ActionScanAccount = "scan-account"
	ActionAssemble    = "assemble"
)

// Handler is the Lambda function: Handle dispatches one event. Its zero
// value reads the environment with os.Getenv, logs JSON to stderr and uses
// the wall clock.
type Handler struct {
	// Getenv reads the settings (POSTURE_*, AWS_ENDPOINT_URL,
	// AWS_LAMBDA_FUNCTION_NAME); nil uses os.Getenv. The AWS SDK reads its
	// own variables (credentials, AWS_REGION) from the process
	// environment.
	Getenv func(string) string
	// Logger replaces the JSON log on stderr when set.
	Logger *slog.Logger
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Version is the tool version recorded in scan.json; empty is "dev".
	Version string
	// AWS are the options of awsenv.Load; its EndpointURL, when empty, is
	// AWS_ENDPOINT_URL.
	AWS awsenv.Options
	// StopMargin is how long before ctx's deadline the engine stops;
	// zero uses DefaultStopMargin.
	StopMargin time.Duration
}

// Event is the input of the function: a single run (`{}`, `{"action":"run"}`
// or an EventBridge scheduled event), or one step of the fan-out.
type Event struct {
	Action      string `json:"action"`
	DetailType  string `json:"detail-type"`
	ScanID      string `json:"scan_id"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	// MapError is the state machine's Map failure, given to assemble when
	// the Map failed (AssembleIncomplete): {"Error": ..., "Cause": ...}.
	MapError *MapError `json:"map_error"`
}

// MapError is the error output Step Functions gives a Catch.
type MapError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Handle runs one event and returns its output: the Summary of a single run
// or of assemble, PlanOutput, or AccountOutput. A bad setting is returned
// as an error naming the variable, so that the invocation fails with it.
func (h Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	s, err := LoadSettings(h.getenv)
	if err != nil {
		return nil, err
	}
	ev, err := ParseEvent(raw)
	if err != nil {
		return nil, err
	}
	e, err := h.start(ctx, s, ev)
	if err != nil {
		return nil, err
	}
	e.logger.Info("invocation", "action", ev.Action, "scan_id", ev.ScanID, "account", ev.AccountID,
		"bucket", s.Bucket, "prefix", s.Prefix, "caller", e.caller.ARN)
	var out any
	switch ev.Action {
	case ActionRun:
		out, err = e.singleRun(ctx)
	case ActionPlan:
		out, err = e.plan(ctx)
	case ActionScanAccount:
		out, err = e.scanAccount(ctx, ev)
	case ActionAssemble:
		out, err = e.assemble(ctx, ev)
	}
	if err != nil {
		e.logger.Error("invocation failed", "action", ev.Action, "error", err)
		return nil, fmt.Errorf("%s: %w", ev.Action, err)
	}
	return out, nil
}

var (
	scanIDShape    = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$`)
	accountIDShape = regexp.MustCompile(`^[0-9]{12}$`)
)

// ParseEvent reads an event: an empty or null payload, or an object with no
// action (an EventBridge scheduled event has "detail-type" and no action),
// is a single run. An unknown action, or a fan-out action without the
// fields it needs, is an error naming it.
func ParseEvent(raw json.RawMessage) (Event, error) {
	var ev Event
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
		if err := json.Unmarshal(trimmed, &ev); err != nil {
			return Event{}, fmt.Errorf("event: not a JSON object of this function: %w", err)
		}
	}
	switch ev.Action {
	case "":
		ev.Action = ActionRun
	case ActionRun, ActionPlan:
	case ActionScanAccount:
		if !scanIDShape.MatchString(ev.ScanID) {
			return Event{}, fmt.Errorf("event: action %s: scan_id %q is not a scan ID", ev.Action, ev.ScanID)
		}
		if !accountIDShape.MatchString(ev.AccountID) {
			return Event{}, fmt.Errorf("event: action %s: account_id %q is not a 12-digit account ID", ev.Action, ev.AccountID)
		}
	case ActionAssemble:
		if !scanIDShape.MatchString(ev.ScanID) {
			return Event{}, fmt.Errorf("event: action %s: scan_id %q is not a scan ID", ev.Action, ev.ScanID)
		}
	default:
		return Event{}, fmt.Errorf("event: unknown action %q (want run, plan, scan-account or assemble)", ev.Action)
	}
	return ev, nil
}

// env is one invocation's state: settings, logger, the tool's own AWS
// configuration and identity, and the store.
type env struct {
	h          Handler
	s          Settings
	logger     *slog.Logger
	cfg        aws.Config
	caller     awsenv.Caller
	store      *Store // the evidence bucket
	work       *Store // the fan-out's working files (POSTURE_WORK_BUCKET)
	invocation string
	version    string
}

func (h Handler) getenv(name string) string {
	if h.Getenv != nil {
		return h.Getenv(name)
	}
	return os.Getenv(name)
}

func (h Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// start builds the invocation's environment: the logger, the tool's own
// AWS configuration (awsenv.Load: the read-only guard on every client, the
// shared HTTP client), who it runs as, and the store.
func (h Handler) start(ctx context.Context, s Settings, ev Event) (*env, error) {
	logger := h.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))
	}
	opts := h.AWS
	if opts.EndpointURL == "" {
		opts.EndpointURL = h.getenv("AWS_ENDPOINT_URL")
	}
	cfg, err := awsenv.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		return nil, err
	}
	version := h.Version
	if version == "" {
		version = "dev"
	}
	function := h.getenv("AWS_LAMBDA_FUNCTION_NAME")
	if function == "" {
		function = "posture"
	}
	invocation := fmt.Sprintf("lambda %s (action %s)", function, ev.Action)
	if ev.DetailType != "" {
		invocation = fmt.Sprintf("lambda %s (action %s, %s)", function, ev.Action, ev.DetailType)
	}
	return &env{h: h, s: s, logger: logger, cfg: cfg, caller: caller, store: NewStore(cfg, s.Bucket), work: NewStore(cfg, s.WorkBucket),
		invocation: invocation, version: version}, nil
}

// key returns the object key of a name under the prefix.
func (e *env) key(name string) string { return e.s.Prefix + name }

// engineContext is ctx with the engine's deadline: StopMargin before the
// invocation's (by default 60 s, or a quarter of the time left when that is
// less), so that a scan cut short still has time to write its package.
func (e *env) engineContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := e.h.StopMargin
	if margin <= 0 {
		// At most a quarter of the time left, so that a function with a
		// short timeout still scans.
		margin = min(DefaultStopMargin, time.Until(deadline)/4)
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// targeting is how the run reaches its accounts.
func (e *env) targeting(regions, accounts []string, org bool, roleName string) scanrun.Targeting {
	return scanrun.Targeting{
		Regions:  regions,
		Accounts: accounts,
		Org:      org,
		Role: awsenv.Role{Name: roleName, ExternalID: e.s.ExternalID, Duration: awsenv.DefaultRoleDuration,
			SessionName: awsenv.SessionName("posture", e.version)},
	}
}

// engineOptions are the engine's options for the selected checks.
func (e *env) engineOptions(checks []string, thresholds *config.Config) engine.Options {
	return engine.Options{
		Scanners: scanners.All(),
		Checks:   checks,
		Tool:     model.Tool{Name: "posture", Version: e.version},
		Config:   thresholds,
		Logger:   e.logger,
	}
}

// checkRegions checks that every requested region exists
// (ec2:DescribeRegions of the function's own account) and is in the
// function's partition, so that a misspelt region fails the run naming
// POSTURE_REGIONS rather than turning into a gap in every account. When the
// regions cannot be listed, the names are taken as they are.
func (e *env) checkRegions(ctx context.Context, requested []string) error {
	if len(requested) == 0 {
		return nil
	}
	for _, r := range requested {
		if p := awsenv.PartitionOf(r); p != e.caller.Partition {
			return bad(EnvRegions, "%q is in partition %s, but the function's credentials are for partition %s", r, p, e.caller.Partition)
		}
	}
	known, err := awsenv.DescribeRegions(ctx, e.cfg)
	if err != nil {
		e.logger.Warn("cannot list regions; the requested regions are used unchecked", "error", err)
		return nil
	}
	names := map[string]bool{}
	for _, r := range known {
		names[r.Name] = true
	}
	for _, r := range requested {
		if !names[r] {
			return bad(EnvRegions, "%q is not a region (ec2:DescribeRegions does not list it)", r)
		}
	}
	return nil
}

// settingErr names POSTURE_REGIONS in an input error of the run function
// (the only settings it checks are the regions).
func settingErr(err error) error {
	var in *scanrun.InputError
	if errors.As(err, &in) {
		return &SettingError{Variable: EnvRegions, Err: in.Err}
	}
	return err
}

// loadedConfig is the run's config file: thresholds and waivers, with
// where it came from and its hash, as scan.json records them.
type loadedConfig struct {
	Config config.Config
	Data   []byte
	File   string
	SHA256 string
}

// readConfig reads and parses the config file at key in store; recorded
// names it as it is recorded in scan.json (its s3:// URI). An empty key is
// the defaults.
func (e *env) readConfig(ctx context.Context, store *Store, key, recorded string, now time.Time) (loadedConfig, error) {
	if key == "" {
		return loadedConfig{Config: config.Default()}, nil
	}
	data, err := store.Get(ctx, key)
	if err != nil {
		return loadedConfig{}, &SettingError{Variable: EnvConfig, Err: err}
	}
	known := map[string]bool{}
	for _, m := range scanners.Catalogue(scanners.All()) {
		known[m.ID] = true
	}
	cfg, err := config.Parse(data, config.Options{Checks: known, Now: now})
	if err != nil {
		return loadedConfig{}, &SettingError{Variable: EnvConfig, Err: fmt.Errorf("%s: %w", recorded, err)}
	}
	for _, w := range cfg.Waivers {
		if w.Expired(now) {
			e.logger.Warn("waiver expired: it no longer mutes, the scan lists it as expired; renew or remove it",
				"waiver", w.ID, "check", w.Check, "expires", w.ExpiresOn(), "owner", w.Owner,
				"config", fmt.Sprintf("%s:%d", recorded, w.Line))
		}
	}
	return loadedConfig{Config: cfg, Data: data, File: recorded, SHA256: scanrun.BytesSHA256(data)}, nil
}

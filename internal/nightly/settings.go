// Package nightly is the scheduled Lambda's logic (lambda/ is a thin main
// around Handler): its settings from the environment, the tool's own S3 and
// SNS clients, the single run, and the three actions of the Step Functions
// fan-out (plan, scan-account, assemble). It scans and packages through the
// same run function as the CLI (internal/scanrun, internal/engine); what it
// adds is where the package goes (an S3 bucket), which earlier run it is
// compared with (the index), the manifest chain, and the morning summary.
package nightly

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/accounts"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/scanners"
)

// DefaultPrefix is the key prefix of everything the run writes when
// POSTURE_PREFIX is not set.
const DefaultPrefix = "posture/"

// The environment variables the handler reads.
const (
	EnvBucket        = "POSTURE_BUCKET"
	EnvWorkBucket    = "POSTURE_WORK_BUCKET"
	EnvPrefix        = "POSTURE_PREFIX"
	EnvRegions       = "POSTURE_REGIONS"
	EnvOrg           = "POSTURE_ORG"
	EnvAccounts      = "POSTURE_ACCOUNTS"
	EnvRoleName      = "POSTURE_ROLE_NAME"
	EnvExternalID    = "POSTURE_EXTERNAL_ID"
	EnvFrameworks    = "POSTURE_FRAMEWORKS"
	EnvConfig        = "POSTURE_CONFIG"
	EnvSignKMSKey    = "POSTURE_SIGN_KMS_KEY"
	EnvTopicARN      = "POSTURE_TOPIC_ARN"
	EnvChecks        = "POSTURE_CHECKS"
	EnvExcludeChecks = "POSTURE_EXCLUDE_CHECKS"
	EnvLogLevel      = "POSTURE_LOG_LEVEL"
)

// Settings are the nightly run's settings, read from the environment and
// validated by LoadSettings.
type Settings struct {
	// Bucket is the evidence bucket (POSTURE_BUCKET, required).
	Bucket string
	// WorkBucket holds the fan-out's working files under Prefix+"work/"
	// (POSTURE_WORK_BUCKET, default Bucket): a bucket without Object Lock,
	// whose lifecycle expires them.
	WorkBucket string
	// Prefix is the key prefix of every object, ending in "/" (or empty
	// for the bucket's root) (POSTURE_PREFIX, default "posture/").
	Prefix string
	// Regions are the requested regions; nil means every enabled region
	// (POSTURE_REGIONS, default "all").
	Regions []string
	// Org scans every ACTIVE account of the organization (POSTURE_ORG).
	Org bool
	// Accounts are explicit account IDs (POSTURE_ACCOUNTS).
	Accounts []string
	// RoleName is the role assumed in each account (POSTURE_ROLE_NAME,
	// required with Org or Accounts).
	RoleName string
	// ExternalID is passed to sts:AssumeRole (POSTURE_EXTERNAL_ID).
	ExternalID string
	// Frameworks are the framework IDs to roll up; nil means all
	// (POSTURE_FRAMEWORKS).
	Frameworks []string
	// ConfigKey is the S3 key, in Bucket, of the config file: thresholds
	// and waivers (POSTURE_CONFIG).
	ConfigKey string
	// SignKMSKey signs the manifest when set (POSTURE_SIGN_KMS_KEY).
	SignKMSKey string
	// TopicARN receives the summary when set (POSTURE_TOPIC_ARN).
	TopicARN string
	// Checks and ExcludeChecks are the requested check lists
	// (POSTURE_CHECKS, POSTURE_EXCLUDE_CHECKS); SelectedChecks is what they
	// resolve to in this build's catalogue.
	Checks, ExcludeChecks []string
	SelectedChecks        []string
	// LogLevel is the level of the JSON log on stderr (POSTURE_LOG_LEVEL,
	// default info).
	LogLevel slog.Level
}

// SettingError is a bad setting: the message names the variable.
type SettingError struct {
	Variable string
	Err      error
}

func (e *SettingError) Error() string { return e.Variable + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

func bad(variable, format string, args ...any) error {
	return &SettingError{Variable: variable, Err: fmt.Errorf(format, args...)}
}

// LoadSettings reads and validates every POSTURE_* variable through getenv
// (os.Getenv in the Lambda). Every error names its variable, e.g.
// `POSTURE_REGIONS: "us_east_1" is not a region name (expected e.g.
// us-east-1)`; all the bad settings are reported at once, joined.
func LoadSettings(getenv func(string) string) (Settings, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var s Settings
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	s.Bucket = get(EnvBucket)
	if err := checkBucket(EnvBucket, s.Bucket); err != nil {
		fail(err)
	}
	s.WorkBucket = get(EnvWorkBucket)
	if s.WorkBucket == "" {
		s.WorkBucket = s.Bucket
	} else if err := checkBucket(EnvWorkBucket, s.WorkBucket); err != nil {
		fail(err)
	}
	if p, err := normalisePrefix(getenv(EnvPrefix)); err != nil {
		fail(err)
	} else {
		s.Prefix = p
	}
	if r, err := parseRegions(get(EnvRegions)); err != nil {
		fail(err)
	} else {
		s.Regions = r
	}
	switch v := strings.ToLower(get(EnvOrg)); v {
	case "", "false":
	case "true":
		s.Org = true
	default:
		fail(bad(EnvOrg, "%q: want true or false", getenv(EnvOrg)))
	}
	if v := get(EnvAccounts); v != "" {
		ids, err := accounts.ParseIDs(splitList(v))
		if err != nil {
			fail(bad(EnvAccounts, "%w", err))
		}
		s.Accounts = ids
	}
	if s.Org && len(s.Accounts) > 0 {
		fail(bad(EnvAccounts, "cannot be combined with POSTURE_ORG=true, which scans every account of the organization"))
	}
	s.RoleName = get(EnvRoleName)
	switch {
	case s.RoleName == "" && (s.Org || len(s.Accounts) > 0):
		fail(bad(EnvRoleName, "required with POSTURE_ORG=true or POSTURE_ACCOUNTS: the role assumed in each account"))
	case s.RoleName != "" && !roleName.MatchString(s.RoleName):
		fail(bad(EnvRoleName, "%q is not a role name (letters, digits and +=,.@_- up to 64 characters, optionally after a path/)", s.RoleName))
	}
	s.ExternalID = get(EnvExternalID)
	if s.ExternalID != "" && (len(s.ExternalID) < 2 || len(s.ExternalID) > 1224 || !externalID.MatchString(s.ExternalID)) {
		fail(bad(EnvExternalID, "not an external ID (2 to 1224 characters of letters, digits and +=,.@:/-_)"))
	}
	if v := get(EnvFrameworks); v != "" && strings.ToLower(v) != "all" {
		s.Frameworks = splitList(v)
		builtin, err := controls.Builtin()
		if err != nil {
			return Settings{}, fmt.Errorf("built-in frameworks: %w", err) // a broken build
		}
		if _, err := controls.Select(builtin, s.Frameworks); err != nil {
			fail(bad(EnvFrameworks, "%w", err))
		}
	}
	s.ConfigKey = get(EnvConfig)
	if err := checkKey(EnvConfig, s.ConfigKey); err != nil {
		fail(err)
	}
	s.SignKMSKey = get(EnvSignKMSKey)
	if s.SignKMSKey != "" && !kmsKey.MatchString(s.SignKMSKey) {
		fail(bad(EnvSignKMSKey, "%q is not a KMS key ARN, key ID or alias (want e.g. arn:aws:kms:us-east-1:123456789012:key/1234abcd-...)", s.SignKMSKey))
	}
	s.TopicARN = get(EnvTopicARN)
	if s.TopicARN != "" && !topicARN.MatchString(s.TopicARN) {
		fail(bad(EnvTopicARN, "%q is not an SNS topic ARN (want arn:aws:sns:REGION:ACCOUNT:NAME)", s.TopicARN))
	}
	if err := s.selectChecks(getenv); err != nil {
		fail(err)
	}
	switch v := strings.ToLower(get(EnvLogLevel)); v {
	case "", "info":
		s.LogLevel = slog.LevelInfo
	case "debug":
		s.LogLevel = slog.LevelDebug
	case "warn", "warning":
		s.LogLevel = slog.LevelWarn
	case "error":
		s.LogLevel = slog.LevelError
	default:
		fail(bad(EnvLogLevel, "%q: want debug, info, warn or error", getenv(EnvLogLevel)))
	}
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	return s, nil
}

// selectChecks resolves POSTURE_CHECKS and POSTURE_EXCLUDE_CHECKS against
// the catalogue; an unknown ID is named with the variable it is in.
func (s *Settings) selectChecks(getenv func(string) string) error {
	catalogue := scanners.Catalogue(scanners.All())
	s.Checks = splitList(getenv(EnvChecks))
	s.ExcludeChecks = splitList(getenv(EnvExcludeChecks))
	var errs []error
	if len(s.Checks) > 0 {
		if _, err := scanners.Select(catalogue, s.Checks, nil); err != nil {
			errs = append(errs, bad(EnvChecks, "%w", err))
		}
	}
	if len(s.ExcludeChecks) > 0 {
		if _, err := scanners.Select(catalogue, nil, s.ExcludeChecks); err != nil && !strings.HasPrefix(err.Error(), "no check selected") {
			errs = append(errs, bad(EnvExcludeChecks, "%w", err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	selected, err := scanners.Select(catalogue, s.Checks, s.ExcludeChecks)
	if err != nil {
		return bad(EnvExcludeChecks, "POSTURE_CHECKS less POSTURE_EXCLUDE_CHECKS leaves no check to run")
	}
	s.SelectedChecks = selected
	return nil
}

// splitList splits a comma-separated value, trimming spaces and dropping
// empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// roleName is an IAM role name, optionally after a path.
	roleName   = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	// kmsKey is a key ARN, an alias ARN, an alias name, a key ID or a
	// multi-Region key ID.
	kmsKey = regexp.MustCompile(`^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[\w/-]+)|alias/[\w/-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	// topicARN is an SNS topic ARN (standard or FIFO).
	topicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

// checkBucket applies S3's bucket naming rules for general purpose buckets.
func checkBucket(variable, name string) error {
	switch {
	case name == "":
		return bad(variable, "required: the evidence bucket's name")
	case strings.HasPrefix(name, "s3://") || strings.HasPrefix(name, "arn:"):
		return bad(variable, "%q: give the bucket's name, not a URI or ARN", name)
	case !bucketName.MatchString(name):
		return bad(variable, "%q is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit)", name)
	case strings.Contains(name, ".."), strings.Contains(name, ".-"), strings.Contains(name, "-."):
		return bad(variable, "%q is not a bucket name (no two adjacent periods, no period next to a hyphen)", name)
	case net.ParseIP(name) != nil:
		return bad(variable, "%q is not a bucket name (formatted as an IP address)", name)
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"), strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"):
		return bad(variable, "%q is not a bucket name (a reserved prefix or suffix)", name)
	}
	return nil
}

// normalisePrefix returns the key prefix ending in "/": unset is
// DefaultPrefix, "/" is the bucket's root (empty), a leading "/" is dropped.
func normalisePrefix(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return DefaultPrefix, nil
	}
	if v != strings.TrimSpace(v) {
		return "", bad(EnvPrefix, "%q has leading or trailing spaces", v)
	}
	p := strings.TrimLeft(v, "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", bad(EnvPrefix, "%q: empty, \".\" or \"..\" path segment", v)
		}
	}
	if strings.ContainsAny(p, "\\\x00\n\r") || len(p) > 512 {
		return "", bad(EnvPrefix, "%q: not a usable key prefix (no backslash or control character, at most 512 characters)", v)
	}
	return p, nil
}

// parseRegions reads POSTURE_REGIONS: "all" (or unset) or a list of region
// names, checked for shape and for one partition here; whether each region
// exists is checked against ec2:DescribeRegions when the run starts
// (checkRegionsExist).
func parseRegions(v string) ([]string, error) {
	list := splitList(v)
	if len(list) == 0 || (len(list) == 1 && strings.ToLower(list[0]) == "all") {
		return nil, nil
	}
	partition := ""
	seen := map[string]bool{}
	var out []string
	for _, r := range list {
		switch {
		case strings.ToLower(r) == "all":
			return nil, bad(EnvRegions, "\"all\" cannot be combined with other regions")
		case !awsenv.IsRegionName(r):
			return nil, bad(EnvRegions, "%q is not a region name (expected e.g. us-east-1)", r)
		case partition != "" && awsenv.PartitionOf(r) != partition:
			return nil, bad(EnvRegions, "%q is in partition %s, the other regions in %s", r, awsenv.PartitionOf(r), partition)
		}
		partition = awsenv.PartitionOf(r)
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// checkKey checks an S3 key setting: empty is allowed (not set).
func checkKey(variable, key string) error {
	switch {
	case key == "":
		return nil
	case strings.HasPrefix(key, "s3://"):
		return bad(variable, "%q: give the key in POSTURE_BUCKET (e.g. posture/config.yaml), not a URI", key)
	case strings.HasPrefix(key, "/"):
		return bad(variable, "%q: an S3 key does not start with /", key)
	case len(key) > 1024 || strings.ContainsAny(key, "\x00\n\r"):
		return bad(variable, "%q is not an S3 key", key)
	}
	return nil
}

// Scope is what a run asked for, hashed: the organization or the account
// list, the requested regions and the check lists. Runs compare as "the
// same scope" by it (a request, not the accounts it resolved to), and the
// baseline of a run is the newest earlier run of the same scope.
func (s Settings) Scope() string {
	regions := s.Regions
	if len(regions) == 0 {
		regions = []string{"all"}
	}
	sorted := func(v []string) []string {
		out := append([]string{}, v...)
		sort.Strings(out)
		return slices.Compact(out)
	}
	doc := struct {
		Org           bool     `json:"org"`
		Accounts      []string `json:"accounts"`
		Regions       []string `json:"regions"`
		Checks        []string `json:"checks"`
		ExcludeChecks []string `json:"exclude_checks"`
	}{s.Org, sorted(s.Accounts), sorted(regions), sorted(s.Checks), sorted(s.ExcludeChecks)}
	data, _ := json.Marshal(doc) // plain strings and bools: cannot fail
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

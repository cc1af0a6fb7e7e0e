// Package scantest runs the product's scan path (awsenv.Load, Identify,
// engine.Run) against an emulator and helps tests assert exact results. It
// imports "testing" and is only for tests.
package scantest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

// Scan scans the emulator at url (or a proxy in front of it) in regions with
// the given checks (none: every check), through the same configuration the
// CLI builds: standard credentials from the environment, the read-only
// guard, the standard retryer, the adaptive rate limits.
func Scan(t testing.TB, url string, regions []string, checks ...string) *model.Scan {
	t.Helper()
	return ScanWith(t, url, regions, Options{}, checks...)
}

// Options changes what ScanWith runs.
type Options struct {
	// Scanners replaces scanners.All(), e.g. to give a scanner a shorter
	// wait; the checks are selected from their catalogue.
	Scanners []check.Scanner
	// Config holds the thresholds, as `posture scan --config` loads them;
	// nil uses the defaults.
	Config *config.Config
	// MaxAttempts and MaxBackoff tune the retryer (zero: 4 attempts and
	// awsenv.DefaultMaxBackoff), e.g. for a scan through a fault proxy.
	MaxAttempts int
	MaxBackoff  time.Duration
	// APIOptions are more SDK middleware for every client, e.g. a call
	// counter (apicount.Counter.Install).
	APIOptions []func(*middleware.Stack) error
}

// ScanWith is Scan with other scanners or thresholds.
func ScanWith(t testing.TB, url string, regions []string, o Options, checks ...string) *model.Scan {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 4
	}
	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: "us-east-1", EndpointURL: url, MaxAttempts: attempts, MaxBackoff: o.MaxBackoff})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	cfg.APIOptions = append(cfg.APIOptions, o.APIOptions...)
	caller, err := awsenv.Identify(ctx, cfg)
	if err != nil {
		t.Fatalf("identify: %v", err)
	}
	all := o.Scanners
	if all == nil {
		all = scanners.All()
	}
	selected, err := scanners.Select(scanners.Catalogue(all), checks, nil)
	if err != nil {
		t.Fatalf("select checks: %v", err)
	}
	return engine.Run(ctx, []engine.Target{{
		Account: engine.Account{ID: caller.AccountID, Partition: caller.Partition, Config: cfg},
		Regions: regions,
	}}, engine.Options{Scanners: all, Checks: selected, Config: o.Config, Tool: model.Tool{Name: "posture", Version: "test"}})
}

// Key identifies a result in assertions.
type Key struct {
	Check, Region, Resource string
}

func (k Key) String() string { return k.Check + " " + k.Region + " " + k.Resource }

// Statuses maps each result of checkID (every check when empty) to its
// status.
func Statuses(scan *model.Scan, checkID string) map[Key]model.Status {
	out := map[Key]model.Status{}
	for _, r := range scan.Results {
		if checkID == "" || r.CheckID == checkID {
			out[Key{r.CheckID, r.Region, r.ResourceID}] = r.Status
		}
	}
	return out
}

// Find returns the one result of check for resource in region.
func Find(t testing.TB, scan *model.Scan, checkID, region, resource string) model.Result {
	t.Helper()
	var found []model.Result
	for _, r := range scan.Results {
		if r.CheckID == checkID && r.Region == region && r.ResourceID == resource {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s result for %s in %s, got %d\n%s", checkID, resource, region, len(found), Dump(scan, checkID))
	}
	return found[0]
}

// ExpectExactly asserts that the results of checkID for the resources in
// want have exactly the wanted statuses, and that every other result of the
// check is for a resource in ignore (resources the emulator creates by
// itself, such as default VPC security groups).
func ExpectExactly(t testing.TB, scan *model.Scan, checkID string, want map[Key]model.Status, ignore func(model.Result) bool) {
	t.Helper()
	got := map[Key]model.Status{}
	for _, r := range scan.Results {
		if r.CheckID != checkID {
			continue
		}
		k := Key{r.CheckID, r.Region, r.ResourceID}
		if _, wanted := want[k]; !wanted && ignore != nil && ignore(r) {
			continue
		}
		if _, dup := got[k]; dup {
			t.Errorf("%s: duplicate result", k)
		}
		got[k] = r.Status
	}
	var problems []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			problems = append(problems, fmt.Sprintf("missing %s (want %s)", k, w))
		} else if g != w {
			problems = append(problems, fmt.Sprintf("%s: got %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected %s: %s", k, g))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Errorf("%s:\n  %s\n%s", checkID, strings.Join(problems, "\n  "), Dump(scan, checkID))
	}
}

// Dump renders the results of a check (every check when empty) for failure
// messages.
func Dump(scan *model.Scan, checkID string) string {
	var b strings.Builder
	for _, r := range scan.Results {
		if checkID == "" || r.CheckID == checkID {
			fmt.Fprintf(&b, "  %s %s %s %s: %s\n", r.CheckID, r.Region, r.ResourceID, r.Status, r.Message)
		}
	}
	for _, c := range scan.Gaps() {
		fmt.Fprintf(&b, "  gap %s %s %s: %s\n", c.AccountID, c.Region, c.Service, c.Error)
	}
	return b.String()
}

// Checks returns the IDs of a scanner's checks.
func Checks(s check.Scanner) []string {
	var ids []string
	for _, m := range s.Checks() {
		ids = append(ids, m.ID)
	}
	return ids
}

// Package accounts turns `posture scan --accounts` and `--org` into the
// engine's targets: it validates account IDs, and gives each target account
// a Prepare step that assumes the scanning role and resolves the account's
// own regions inside the engine's per-account goroutine, so that hundreds of
// accounts are not reached one after another before the scan starts.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
)

// accountID is the shape of an AWS account ID.
var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// ParseIDs validates a list of account IDs (exactly 12 digits each) and
// returns them without duplicates, in the order given. Every malformed ID is
// named in the error.
func ParseIDs(ids []string) ([]string, error) {
	var out, bad []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !accountID.MatchString(id) {
			bad = append(bad, fmt.Sprintf("%q", id))
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("account IDs must be 12 digits: %s", strings.Join(bad, ", "))
	}
	if len(out) == 0 {
		return nil, errors.New("no account ID given")
	}
	return out, nil
}

// Options says how targets reach their accounts.
type Options struct {
	// Base is the caller's configuration: it scans the caller's own account
	// and calls sts:AssumeRole for the others.
	Base aws.Config
	// Caller is who Base's credentials belong to.
	Caller awsenv.Caller
	// Role is the role assumed in every account but the caller's.
	Role awsenv.Role
	// Management is the organization's management account ID when known
	// (awsenv.ManagementAccount). It is reached through Role like any other
	// account; when that fails, its gap says that Organizations creates no
	// access role there.
	Management string
	// Regions is the --regions request: nil or ["all"] for each account's
	// enabled regions, else a list already validated for the partition.
	Regions []string
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// Targets returns one target per account. Each target's Prepare assumes
// Role in its account (the caller's own account uses Base unchanged) and
// resolves the account's regions with its own credentials; a requested
// region the account has not enabled becomes an unavailable region (a
// coverage gap of that account), not a failure.
func Targets(list []awsenv.OrgAccount, o Options) []engine.Target {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	targets := make([]engine.Target, 0, len(list))
	for _, a := range list {
		account := engine.Account{ID: a.ID, Name: a.Name, Partition: o.Caller.Partition}
		targets = append(targets, engine.Target{
			Account: account,
			Prepare: func(ctx context.Context) (engine.Prepared, error) {
				return prepare(ctx, account, o, logger)
			},
		})
	}
	return targets
}

// prepare reaches one account and resolves its regions.
func prepare(ctx context.Context, account engine.Account, o Options, logger *slog.Logger) (engine.Prepared, error) {
	cfg := o.Base
	if account.ID != o.Caller.AccountID {
		var err error
		if cfg, err = awsenv.Reach(ctx, o.Base, account.Partition, account.ID, o.Role); err != nil {
			var roleErr *awsenv.RoleError
			if errors.As(err, &roleErr) && o.Management != "" && account.ID == o.Management {
				roleErr.Management = true
			}
			return engine.Prepared{}, err
		}
	}
	all := len(o.Regions) == 0 || (len(o.Regions) == 1 && o.Regions[0] == "all")
	known, err := awsenv.DescribeRegions(ctx, cfg)
	if err != nil {
		if all || ctx.Err() != nil {
			return engine.Prepared{}, fmt.Errorf("account %s: %w", account.ID, err)
		}
		logger.Warn("cannot list the account's regions; using the requested regions unchecked", "account", account.ID, "error", err)
		known = nil
	}
	regions, disabled, err := awsenv.AccountRegions(o.Regions, known, account.Partition)
	if err != nil {
		return engine.Prepared{}, fmt.Errorf("account %s: %w", account.ID, err)
	}
	if regions == nil {
		// Non-nil: no region of this account is scanned, so global scanners
		// must keep none of their region-bound resources (check.Scope.InScope).
		regions = []string{}
	}
	p := engine.Prepared{Config: cfg, Regions: regions}
	for _, r := range disabled {
		p.Unavailable = append(p.Unavailable, engine.UnavailableRegion{
			Region: r, Code: model.CodeRegionNotEnabled,
			Reason: fmt.Sprintf("region %s is not enabled in account %s", r, account.ID),
		})
	}
	return p, nil
}

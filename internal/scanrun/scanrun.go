// Package scanrun is the run function that the CLI (cmd/posture) and the
// scheduled Lambda (lambda/, internal/nightly) share, so that there is one
// code path for scanning and reporting: which accounts to scan and how to
// reach them (Targets), and how an evaluated scan becomes its evidence
// package (Package): waivers, controls, the record of how it was run,
// first_seen, the diff against a baseline, and the package files with their
// manifest.
package scanrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/accounts"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/waivers"
	"github.com/posture-dev/posture/reports"
	scandiff "github.com/posture-dev/posture/reports/diff"
)

// InputError marks an error caused by the run's input (a flag, a setting, a
// file) rather than by AWS: the CLI exits 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Targeting says which accounts a run scans, in which regions, and how it
// reaches them.
type Targeting struct {
	// Regions are the requested regions; empty or ["all"] means every
	// region each account has enabled.
	Regions []string
	// Accounts are explicit account IDs, each reached through Role.
	Accounts []string
	// Org scans every ACTIVE account of the caller's organization.
	Org bool
	// Role is the role assumed in each account of Accounts or Org.
	Role awsenv.Role
}

// allRegions reports whether requested asks for every enabled region.
func allRegions(requested []string) bool {
	return len(requested) == 0 || (len(requested) == 1 && requested[0] == "all")
}

// Targets returns the accounts to scan: the caller's own account, or with
// Accounts or Org those accounts, each reached through the role.
func Targets(ctx context.Context, cfg aws.Config, caller awsenv.Caller, t Targeting, logger *slog.Logger) ([]engine.Target, error) {
	if len(t.Accounts) == 0 && !t.Org {
		regions, err := ResolveRegions(ctx, cfg, caller.Partition, t.Regions, logger)
		if err != nil {
			return nil, err
		}
		return []engine.Target{{
			Account: engine.Account{ID: caller.AccountID, Partition: caller.Partition, Config: cfg},
			Regions: regions,
		}}, nil
	}
	list, err := ListAccounts(ctx, cfg, caller, t)
	if err != nil {
		return nil, err
	}
	return AccountTargets(ctx, cfg, caller, list, t, logger), nil
}

// ListAccounts returns the accounts a run with Accounts or Org targets: the
// organization's ACTIVE accounts, or the given IDs. Without either it is the
// caller's own account. The requested region names are checked up front.
func ListAccounts(ctx context.Context, cfg aws.Config, caller awsenv.Caller, t Targeting) ([]awsenv.OrgAccount, error) {
	if !allRegions(t.Regions) {
		// The names and partition are checked here; whether each account
		// has enabled a region is checked per account.
		if _, err := awsenv.SelectRegions(t.Regions, nil, caller.Partition); err != nil {
			return nil, &InputError{err}
		}
	}
	switch {
	case t.Org:
		list, err := awsenv.ListAccounts(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return list, nil
	case len(t.Accounts) > 0:
		list := make([]awsenv.OrgAccount, 0, len(t.Accounts))
		for _, id := range t.Accounts {
			list = append(list, awsenv.OrgAccount{ID: id})
		}
		return list, nil
	default:
		return []awsenv.OrgAccount{{ID: caller.AccountID}}, nil
	}
}

// AccountTargets turns a list of accounts into targets reached through
// t.Role (or, for the caller's own account, its own credentials), each
// resolving its own enabled regions when it is scanned.
func AccountTargets(ctx context.Context, cfg aws.Config, caller awsenv.Caller, list []awsenv.OrgAccount, t Targeting, logger *slog.Logger) []engine.Target {
	// Best effort: it only sharpens the gap of a management account whose
	// role cannot be assumed (a scan from a delegated administrator).
	management, err := awsenv.ManagementAccount(ctx, cfg)
	if err != nil {
		logger.Debug("management account unknown", "error", err)
	}
	return accounts.Targets(list, accounts.Options{
		Base:       cfg,
		Caller:     caller,
		Management: management,
		Role:       t.Role,
		Regions:    t.Regions,
		Logger:     logger,
	})
}

// ResolveRegions turns the requested regions into the regions to scan. An
// explicit list is checked against DescribeRegions when the caller may call
// it; "all" needs it.
func ResolveRegions(ctx context.Context, cfg aws.Config, partition string, requested []string, logger *slog.Logger) ([]string, error) {
	known, err := awsenv.DescribeRegions(ctx, cfg)
	if err != nil {
		if allRegions(requested) {
			return nil, fmt.Errorf("--regions all: %w", err)
		}
		logger.Warn("cannot list regions; using the requested regions unchecked", "error", err)
		known = nil
	}
	regions, err := awsenv.SelectRegions(requested, known, partition)
	if err != nil {
		return nil, &InputError{err}
	}
	return regions, nil
}

// Description is what scan.json records of how a run was started.
type Description struct {
	// Caller is the principal that ran the scan.
	Caller awsenv.Caller
	// Invocation is the recorded command line (or the Lambda event that
	// started the run).
	Invocation string
	// Regions are the requested regions; empty records ["all"].
	Regions []string
	// ConfigFile and ConfigSHA256 name the config file and its hash.
	ConfigFile   string
	ConfigSHA256 string
	// Catalogue is the check catalogue; the entries of the checks that ran
	// are recorded.
	Catalogue []check.Meta
}

// Describe records in the scan who ran it and how: the caller's ARN, the
// invocation, the requested regions, the config file's hash and the
// catalogue entries of the checks that ran.
func Describe(scan *model.Scan, d Description) {
	scan.Scan.Principal = d.Caller.ARN
	scan.Scan.Invocation = d.Invocation
	scan.Scan.RequestedRegions = append([]string(nil), d.Regions...)
	if len(scan.Scan.RequestedRegions) == 0 {
		scan.Scan.RequestedRegions = []string{"all"}
	}
	scan.Scan.ConfigFile, scan.Scan.ConfigSHA256 = d.ConfigFile, d.ConfigSHA256
	ran := map[string]bool{}
	for _, id := range scan.Scan.Checks {
		ran[id] = true
	}
	scan.Catalogue = []model.CheckInfo{}
	for _, m := range d.Catalogue {
		if ran[m.ID] {
			scan.Catalogue = append(scan.Catalogue, m.Info())
		}
	}
	sort.Slice(scan.Catalogue, func(i, j int) bool { return scan.Catalogue[i].ID < scan.Catalogue[j].ID })
}

// Evidence is what turns an evaluated scan into its evidence package.
type Evidence struct {
	// Waivers are the config file's waivers.
	Waivers []config.Waiver
	// Frameworks are the frameworks the controls are rolled up for.
	Frameworks []controls.Framework
	// Run is recorded in scan.json.
	Run Description
	// Baseline, when set, is the earlier scan the run is compared with:
	// diff.json, first_seen and the reports' changes sections.
	Baseline *model.Scan
	// Writers are the package's formats.
	Writers []reports.Writer
	// Signer, when set, signs the package (manifest.sig).
	Signer reports.Signer
	// Inventory, when set, is written into the package as
	// inventory.json.gz, with what Describe records of the run.
	Inventory *inventory.Inventory
	// PreviousManifestSHA256, when set, chains this package's manifest to
	// the previous one (the nightly run's chain).
	PreviousManifestSHA256 string
}

// Outcome is what Package wrote.
type Outcome struct {
	// Dir is the package folder.
	Dir string
	// Manifest is the package's manifest.
	Manifest *reports.Manifest
	// ManifestSHA256 is the hex SHA-256 of manifest.json as written.
	ManifestSHA256 string
	// Diff is the comparison with the baseline; nil without one.
	Diff *model.Diff
}

// Package applies the waivers and the controls to the scan, records how it
// was run, compares it with the baseline, and writes the evidence package
// into dir. The scan is modified in place.
func Package(ctx context.Context, scan *model.Scan, dir string, e Evidence) (*Outcome, error) {
	Apply(scan, e)
	var changes *model.Diff
	if e.Baseline != nil {
		changes = scandiff.Compute(e.Baseline, scan)
	}
	writers := e.Writers
	if e.Baseline != nil && !hasFormat(writers, "diff") {
		writers = append(append([]reports.Writer(nil), writers...), reports.Diff{})
	}
	if e.Inventory != nil {
		inv := e.Inventory
		inv.Scan.Principal, inv.Scan.Invocation = scan.Scan.Principal, scan.Scan.Invocation
		inv.Scan.RequestedRegions = append([]string(nil), scan.Scan.RequestedRegions...)
		inv.Scan.ConfigFile, inv.Scan.ConfigSHA256 = scan.Scan.ConfigFile, scan.Scan.ConfigSHA256
		data, err := inventory.Marshal(inv)
		if err != nil {
			return nil, err
		}
		writers = append(append([]reports.Writer(nil), writers...), inventoryFile(data))
	}
	// The signature is made after a cancelled scan too: it says what the
	// package holds, not that the scan was complete.
	m, err := reports.WritePackage(dir, reports.Input{Scan: scan, Diff: changes}, writers,
		reports.PackageOptions{PreviousManifestSHA256: e.PreviousManifestSHA256, Signer: e.Signer, Context: context.WithoutCancel(ctx)})
	if err != nil {
		return nil, err
	}
	sum, err := FileSHA256(filepath.Join(dir, reports.ManifestName))
	if err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Manifest: m, ManifestSHA256: sum, Diff: changes}, nil
}

// Apply applies the waivers and the controls to the scan, records how it
// was run and sets first_seen (and the baseline reference) from the
// baseline: every step of Package before the files are written.
func Apply(scan *model.Scan, e Evidence) {
	waivers.Apply(scan, e.Waivers, scan.Scan.StartedAt)
	controls.Apply(scan, e.Frameworks)
	Describe(scan, e.Run)
	// After everything that sets a result's status (controls, waivers):
	// the diff and first_seen compare final statuses.
	scandiff.FirstSeen(scan, e.Baseline)
	if e.Baseline != nil {
		ref := scandiff.Ref(e.Baseline)
		scan.Scan.Baseline = &ref
	}
}

func hasFormat(writers []reports.Writer, format string) bool {
	for _, w := range writers {
		if w.Format() == format {
			return true
		}
	}
	return false
}

// inventoryFile is the package file inventory.json.gz: the saved
// inventory's bytes, listed in the manifest like every report.
type inventoryFile []byte

// Format implements reports.Writer.
func (inventoryFile) Format() string { return "inventory" }

// Files implements reports.Writer.
func (b inventoryFile) Files(reports.Input) []reports.File {
	return []reports.File{{Name: inventory.FileName, Render: func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}}}
}

// CommandLine renders args as a shell would read them back: words with
// characters special to the shell are single-quoted.
func CommandLine(args []string) string {
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

// FileSHA256 returns the hex SHA-256 of a file's contents.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BytesSHA256 returns the hex SHA-256 of data.
func BytesSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

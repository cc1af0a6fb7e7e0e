package inventory

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// Sort puts the inventory in its canonical order: accounts by ID, regions
// sorted, scopes by account, region and service, and scan gaps by account,
// region, service and kind (stable). Collect and Merge both end with it, so
// a merged inventory is the one a single collection of the same accounts
// gives.
func (inv *Inventory) Sort() {
	sort.Strings(inv.Scan.Regions)
	sort.Slice(inv.Scan.Accounts, func(i, j int) bool { return inv.Scan.Accounts[i].ID < inv.Scan.Accounts[j].ID })
	sort.Slice(inv.Scopes, func(i, j int) bool {
		a, b := inv.Scopes[i], inv.Scopes[j]
		return scopeKey(a.AccountID, a.Region, a.Service) < scopeKey(b.AccountID, b.Region, b.Service)
	})
	sort.SliceStable(inv.ScanGaps, func(i, j int) bool {
		a, b := inv.ScanGaps[i], inv.ScanGaps[j]
		return scopeKey(a.AccountID, a.Region, a.Service)+"\x00"+a.Kind < scopeKey(b.AccountID, b.Region, b.Service)+"\x00"+b.Kind
	})
}

func scopeKey(account, region, service string) string {
	return account + "\x00" + region + "\x00" + service
}

// Merge combines the inventories of separate collections of distinct
// accounts (the nightly fan-out collects one account per invocation) into
// the inventory of one scan with the given ID and start time. Its finish
// time is the latest part's; its regions are the union of the parts'; its
// checks, thresholds and config are the first part's, and every part must
// have the same checks. An account found in two parts is an error.
func Merge(id string, started time.Time, parts []*Inventory) (*Inventory, error) {
	out := &Inventory{
		SchemaVersion: SchemaVersion,
		Scan: Scan{
			ID:        id,
			StartedAt: started,
			Accounts:  []Account{},
			Regions:   []string{},
		},
		Scopes:   nil,
		ScanGaps: []ScanGap{},
	}
	seenAccount := map[string]bool{}
	regions := map[string]bool{}
	for i, p := range parts {
		if i == 0 {
			out.Tool = p.Tool
			out.Scan.Checks = append([]string{}, p.Scan.Checks...)
			out.Scan.Thresholds = p.Scan.Thresholds
			out.Scan.Config = p.Scan.Config
		} else if !slices.Equal(p.Scan.Checks, out.Scan.Checks) {
			return nil, fmt.Errorf("merge inventories: part %s collected other checks than part %s", p.Scan.ID, parts[0].Scan.ID)
		}
		if p.Scan.FinishedAt.After(out.Scan.FinishedAt) {
			out.Scan.FinishedAt = p.Scan.FinishedAt
		}
		for _, a := range p.Scan.Accounts {
			if seenAccount[a.ID] {
				return nil, fmt.Errorf("merge inventories: account %s is in two parts", a.ID)
			}
			seenAccount[a.ID] = true
			out.Scan.Accounts = append(out.Scan.Accounts, a)
		}
		for _, r := range p.Scan.Regions {
			regions[r] = true
		}
		out.Scopes = append(out.Scopes, p.Scopes...)
		out.ScanGaps = append(out.ScanGaps, p.ScanGaps...)
	}
	for r := range regions {
		out.Scan.Regions = append(out.Scan.Regions, r)
	}
	if out.Scopes == nil {
		out.Scopes = []check.Snapshot{}
	}
	if out.Scan.FinishedAt.IsZero() {
		out.Scan.FinishedAt = started
	}
	out.Sort()
	return out, nil
}

// AddUnreachedAccount records an account that no part covers as a whole
// account gap (kind GapAccount, region global), which evaluation turns into
// the account's coverage gap and an ERROR result per selected check, as it
// does for an account whose role could not be assumed.
func (inv *Inventory) AddUnreachedAccount(id, name, partition, operation, code, message string) {
	inv.Scan.Accounts = append(inv.Scan.Accounts, Account{ID: id, Name: name, Partition: partition})
	inv.ScanGaps = append(inv.ScanGaps, ScanGap{Kind: GapAccount, AccountID: id, Region: model.GlobalRegion,
		Operation: operation, Code: code, Message: message})
	inv.Sort()
}

// Package waivers applies the accepted exceptions of the --config file to a
// scan: a FAIL result that a live waiver matches becomes MUTED, and the scan
// records every waiver with its state, the exception register an auditor
// reads. It is pure (no AWS, no clock of its own), so the CLI and the Lambda
// entry point apply waivers the same way.
//
// A waiver matches a result by the result's fingerprint fields: the check
// ID (equal), the resource (a pattern matching resource_id or
// resource_arn), and, when the waiver lists them, the account and region
// (a pattern matching account_id, region). Patterns are case-sensitive and
// `*` stands for any run of characters, `/` and `:` included.
package waivers

import (
	"maps"
	"time"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

// EvidenceKey is the key of a muted result's evidence under which the
// waiver that muted it is recorded.
const EvidenceKey = "waiver"

// Apply mutes the FAIL results of scan that a live waiver of list matches
// and sets scan.Waivers to the register: every waiver, in file order, with
// its state and how many results it muted. A waiver is live unless its
// expiry day is before now's day (UTC); pass the scan's start. When several
// live waivers match a result, the first in the file mutes it. PASS and
// ERROR results are never muted: a waiver accepts a known failure, it does
// not stand in for missing evidence.
//
// A muted result keeps its severity, names the waiver in WaiverID, and gets
// the waiver (id, owner, reason, ticket, expires) in its evidence under
// EvidenceKey. Call Apply after the engine ran and before the controls are
// rolled up, so that a control whose failures are all muted is WAIVED.
func Apply(scan *model.Scan, list []config.Waiver, now time.Time) {
	if len(list) == 0 {
		scan.Waivers = nil
		return
	}
	register := make([]model.Waiver, len(list))
	live := make([]bool, len(list))
	for i, w := range list {
		register[i] = Register(w)
		live[i] = !w.Expired(now)
	}
	for i := range scan.Results {
		r := &scan.Results[i]
		if r.Status != model.StatusFail {
			continue
		}
		for j, w := range list {
			if live[j] && Matches(w, *r) {
				mute(r, w)
				register[j].Muted++
				break
			}
		}
	}
	for j := range register {
		switch {
		case !live[j]:
			register[j].State = model.WaiverExpired
		case register[j].Muted == 0:
			register[j].State = model.WaiverUnused
		default:
			register[j].State = model.WaiverActive
		}
	}
	scan.Waivers = register
}

// Register is the waiver as scan.json records it, before its state and
// count are known.
func Register(w config.Waiver) model.Waiver {
	return model.Waiver{
		ID:         w.ID,
		Check:      w.Check,
		Resources:  append([]string(nil), w.Resources...),
		Accounts:   append([]string(nil), w.Accounts...),
		Regions:    append([]string(nil), w.Regions...),
		Reason:     w.Reason,
		Owner:      w.Owner,
		Ticket:     w.Ticket,
		Expires:    w.ExpiresOn(),
		ApprovedBy: w.ApprovedBy,
	}
}

// Matches reports whether the waiver covers the result's finding: same
// check, a resource pattern matching its resource ID or ARN, and (when the
// waiver lists them) an account and a region pattern matching. It does not
// look at the status or the expiry.
func Matches(w config.Waiver, r model.Result) bool {
	if w.Check != r.CheckID {
		return false
	}
	if len(w.Accounts) > 0 && !anyMatch(w.Accounts, r.AccountID) {
		return false
	}
	if len(w.Regions) > 0 && !anyMatch(w.Regions, r.Region) {
		return false
	}
	return (r.ResourceID != "" && anyMatch(w.Resources, r.ResourceID)) ||
		(r.ResourceARN != "" && anyMatch(w.Resources, r.ResourceARN))
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if Glob(p, s) {
			return true
		}
	}
	return false
}

// Glob reports whether s matches pattern, in which `*` stands for any run
// of characters (none included) and every other character for itself.
func Glob(pattern, s string) bool {
	// Greedy match with backtracking to the last star: linear in practice,
	// never exponential.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// mute turns the FAIL result r into MUTED by w. The evidence map is copied,
// not changed in place, in case another result shares it.
func mute(r *model.Result, w config.Waiver) {
	r.Status = model.StatusMuted
	r.WaiverID = w.ID
	ev := make(map[string]any, len(r.Evidence)+1)
	maps.Copy(ev, r.Evidence)
	ev[EvidenceKey] = map[string]any{
		"id":      w.ID,
		"owner":   w.Owner,
		"reason":  w.Reason,
		"ticket":  w.Ticket,
		"expires": w.ExpiresOn(),
	}
	r.Evidence = ev
}

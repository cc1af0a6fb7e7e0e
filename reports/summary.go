package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// Counts tallies results by status.
type Counts struct {
	Pass, Fail, Error, Muted int
}

func (c *Counts) add(s model.Status) {
	switch s {
	case model.StatusPass:
		c.Pass++
	case model.StatusFail:
		c.Fail++
	case model.StatusError:
		c.Error++
	case model.StatusMuted:
		c.Muted++
	}
}

// WriteSummary prints the short terminal summary of a scan: what was
// scanned, failures by severity and by family, each framework's control pass
// rate, the worst failing checks, the waivers and the coverage gaps.
func WriteSummary(w io.Writer, scan *model.Scan, outDir string) error {
	var total Counts
	bySeverity := map[model.Severity]int{}
	byFamily := map[model.Family]*Counts{}
	type checkTally struct {
		id       string
		severity model.Severity
		failed   int
	}
	byCheck := map[string]*checkTally{}
	for _, r := range scan.Results {
		total.add(r.Status)
		if byFamily[r.Family] == nil {
			byFamily[r.Family] = &Counts{}
		}
		byFamily[r.Family].add(r.Status)
		if r.Status == model.StatusFail {
			bySeverity[r.Severity]++
			tally := byCheck[r.CheckID]
			if tally == nil {
				tally = &checkTally{id: r.CheckID, severity: r.Severity}
				byCheck[r.CheckID] = tally
			}
			// A result may carry its own severity (an expired certificate is
			// high, one about to expire medium): a check ranks by its worst
			// failure, not by whichever failure came first.
			if r.Severity.Rank() > tally.severity.Rank() {
				tally.severity = r.Severity
			}
			tally.failed++
		}
	}

	p := &printer{w: w}
	elapsed := scan.Scan.FinishedAt.Sub(scan.Scan.StartedAt).Round(100 * time.Millisecond)
	p.printf("posture scan %s: %d account(s), %d region(s)%s, %d check(s), %s\n",
		scan.Scan.ID, len(scan.Scan.Accounts), len(scan.Scan.Regions), regionList(scan.Scan.Regions), len(scan.Scan.Checks), elapsed)
	p.printf("results: %d  PASS %d  FAIL %d  ERROR %d", len(scan.Results), total.Pass, total.Fail, total.Error)
	if total.Muted > 0 {
		p.printf("  MUTED %d", total.Muted)
	}
	p.printf("\n")

	var sevParts []string
	for _, s := range model.Severities() {
		if n := bySeverity[s]; n > 0 {
			sevParts = append(sevParts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(sevParts) == 0 {
		sevParts = []string{"none"}
	}
	p.printf("failures by severity: %s\n", strings.Join(sevParts, ", "))

	families := make([]model.Family, 0, len(byFamily))
	for f := range byFamily {
		families = append(families, f)
	}
	sort.Slice(families, func(i, j int) bool {
		if families[i].Rank() != families[j].Rank() {
			return families[i].Rank() < families[j].Rank()
		}
		return families[i] < families[j]
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nfamily\tpass\tfail\terror\tmuted")
	for _, f := range families {
		c := byFamily[f]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", f, c.Pass, c.Fail, c.Error, c.Muted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if err := writeFrameworks(w, scan.Controls); err != nil {
		return err
	}

	if len(scan.Scan.Accounts) > 1 {
		if err := writeAccounts(w, scan); err != nil {
			return err
		}
	}

	worst := make([]*checkTally, 0, len(byCheck))
	for _, c := range byCheck {
		worst = append(worst, c)
	}
	sort.Slice(worst, func(i, j int) bool {
		if worst[i].severity.Rank() != worst[j].severity.Rank() {
			return worst[i].severity.Rank() > worst[j].severity.Rank()
		}
		if worst[i].failed != worst[j].failed {
			return worst[i].failed > worst[j].failed
		}
		return worst[i].id < worst[j].id
	})
	if len(worst) > 0 {
		p.printf("\nworst failing checks:\n")
		for i, c := range worst {
			if i == 8 {
				p.printf("  ... and %d more\n", len(worst)-i)
				break
			}
			p.printf("  %-9s %-38s %d failed\n", c.severity, c.id, c.failed)
		}
	}

	if err := writeWaivers(w, scan.Waivers); err != nil {
		return err
	}

	gaps := scan.Gaps()
	if len(gaps) == 0 {
		p.printf("\ncoverage: complete (%d scopes collected)\n", len(scan.Coverage))
	} else {
		p.printf("\ncoverage gaps: %d of %d scopes incomplete (their checks report ERROR):\n", len(gaps), len(scan.Coverage))
		for i, g := range gaps {
			if i == 10 {
				p.printf("  ... and %d more (see coverage in scan.json)\n", len(gaps)-i)
				break
			}
			p.printf("  %s %s %s: %s\n", g.AccountID, g.Region, g.Service, truncate(g.Error, 160))
		}
	}
	if outDir != "" {
		p.printf("\nreports written to %s\n", outDir)
		writePackageFiles(p, outDir)
	}
	return p.err
}

// writePackageFiles lists, under "reports written to", the files of the
// package in outDir as its manifest.json records them, and how to check
// them. Nothing is printed for a directory without a readable manifest.
func writePackageFiles(p *printer, outDir string) {
	data, err := os.ReadFile(filepath.Join(outDir, ManifestName))
	if err != nil {
		return
	}
	var m Manifest
	if json.Unmarshal(data, &m) != nil {
		return
	}
	line := " "
	for _, f := range m.Files {
		if len(line) > 1 && len(line)+len(f.Name) > 100 {
			p.printf("%s\n", line)
			line = " "
		}
		line += " " + f.Name
	}
	if len(m.Files) > 0 {
		p.printf("%s\n", line)
	}
	control := ManifestName + ", " + SumsName
	if _, err := os.Stat(filepath.Join(outDir, SignatureName)); err == nil {
		control += ", " + SignatureName
	}
	p.printf("  integrity: %s (check: cd %s && sha256sum -c %s, or posture verify %s)\n", control, outDir, SumsName, outDir)
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// writeFrameworks prints one line per framework of the controls section:
// the pass rate (controls that PASS of those evaluated, i.e. PASS, FAIL,
// ERROR or WAIVED: a control that holds only by accepted exceptions is
// evaluated and not passing) and how many controls are in each status,
// MANUAL and NOT_APPLICABLE included.
func writeFrameworks(w io.Writer, statuses []model.ControlStatus) error {
	if len(statuses) == 0 {
		return nil
	}
	var order []string
	byFramework := map[string]map[model.ControlState]int{}
	for _, c := range statuses {
		if byFramework[c.Framework] == nil {
			byFramework[c.Framework] = map[model.ControlState]int{}
			order = append(order, c.Framework)
		}
		byFramework[c.Framework][c.Status]++
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nframework\tcontrols passing\tPASS\tFAIL\tERROR\tWAIVED\tNOT_APPLICABLE\tMANUAL")
	for _, f := range order {
		n := byFramework[f]
		pass, fail, errs := n[model.ControlPass], n[model.ControlFail], n[model.ControlError]
		rate := "-"
		if evaluated := pass + fail + errs + n[model.ControlWaived]; evaluated > 0 {
			rate = fmt.Sprintf("%d/%d (%d%%)", pass, evaluated, pass*100/evaluated)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", f, rate, pass, fail, errs,
			n[model.ControlWaived], n[model.ControlNotApplicable], n[model.ControlManual])
	}
	return tw.Flush()
}

// accountRows is how many accounts the summary lists; scan.json and the
// CSV have them all.
const accountRows = 10

// accountTally counts one account's results and gaps.
type accountTally struct {
	id, name                         string
	pass, fail, errors, severe, gaps int
}

// writeAccounts prints, for a scan of several accounts, the accounts with
// the most serious failures first: results by status, FAILs of critical or
// high severity, and coverage gaps (an account that could not be reached
// has one gap and only ERROR results).
func writeAccounts(w io.Writer, scan *model.Scan) error {
	tallies := map[string]*accountTally{}
	tally := func(id string) *accountTally {
		if tallies[id] == nil {
			tallies[id] = &accountTally{id: id, name: scan.Scan.AccountNames[id]}
		}
		return tallies[id]
	}
	for _, id := range scan.Scan.Accounts {
		tally(id)
	}
	for _, r := range scan.Results {
		t := tally(r.AccountID)
		switch r.Status {
		case model.StatusPass:
			t.pass++
		case model.StatusFail:
			t.fail++
			if r.Severity.Rank() >= model.SeverityHigh.Rank() {
				t.severe++
			}
		case model.StatusError:
			t.errors++
		}
	}
	for _, g := range scan.Gaps() {
		tally(g.AccountID).gaps++
	}
	rows := make([]*accountTally, 0, len(tallies))
	for _, t := range tallies {
		rows = append(rows, t)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.severe != b.severe {
			return a.severe > b.severe
		}
		if a.fail != b.fail {
			return a.fail > b.fail
		}
		if a.gaps != b.gaps {
			return a.gaps > b.gaps
		}
		return a.id < b.id
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\naccount\tname\tpass\tfail\tcritical+high\terror\tgaps")
	for i, t := range rows {
		if i == accountRows {
			fmt.Fprintf(tw, "... and %d more accounts\n", len(rows)-i)
			break
		}
		name := t.name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", t.id, truncate(name, 32), t.pass, t.fail, t.severe, t.errors, t.gaps)
	}
	return tw.Flush()
}

// reasonWidth is how much of a waiver's reason the summary shows; scan.json
// and the CSV have it whole.
const reasonWidth = 60

// writeWaivers prints the exception register: every waiver of the config
// file with its state, how many results it muted, its expiry, owner, ticket
// and reason. Expired and unused waivers are flagged in capitals and
// explained, since both need someone to act.
func writeWaivers(w io.Writer, list []model.Waiver) error {
	if len(list) == 0 {
		return nil
	}
	states := map[string]int{}
	muted := 0
	for _, wv := range list {
		states[wv.State]++
		muted += wv.Muted
	}
	p := &printer{w: w}
	p.printf("\nwaivers: %d (%d active, %d expired, %d unused), %d result(s) muted\n", len(list),
		states[model.WaiverActive], states[model.WaiverExpired], states[model.WaiverUnused], muted)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  id\tstate\tmuted\texpires\towner\tticket\treason")
	for _, wv := range list {
		state := wv.State
		if state != model.WaiverActive {
			state = strings.ToUpper(state)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\n", wv.ID, state, wv.Muted, wv.Expires,
			orDash(wv.Owner), orDash(wv.Ticket), orDash(truncate(oneLine(wv.Reason), reasonWidth)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if states[model.WaiverExpired] > 0 {
		p.printf("  EXPIRED waivers no longer mute: their failures count again; renew or remove them\n")
	}
	if states[model.WaiverUnused] > 0 {
		p.printf("  UNUSED waivers matched no failing result (fixed, gone, not selected, or a wrong pattern); remove them\n")
	}
	return p.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine folds a multi-line text onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// regionList names the scanned regions when they are few enough to read on
// one line: " (eu-west-1, us-east-1)"; empty otherwise.
func regionList(regions []string) string {
	if len(regions) == 0 || len(regions) > 6 {
		return ""
	}
	return " (" + strings.Join(regions, ", ") + ")"
}

package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// FileName is the name of the diff in a scan's output folder.
const FileName = "diff.json"

// WriteJSON writes diff.json: indented, every list present (possibly
// empty), in the deterministic order of Compute.
func WriteJSON(w io.Writer, d *model.Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// Window renders a duration for people: "1d 2h 3m", "2h 5m", "45s".
func Window(seconds int64) string {
	sign := ""
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	d, h, m, s := seconds/86400, seconds%86400/3600, seconds%3600/60, seconds%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd %dh %dm", sign, d, h, m)
	case h > 0:
		return fmt.Sprintf("%s%dh %dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// status renders a side of an entry: its status, or "absent".
func status(s model.Status) string {
	if s == "" {
		return "absent"
	}
	return string(s)
}

// severity renders an entry's severity: the new one, with the old one when
// it changed.
func severity(e model.DiffEntry) string {
	switch {
	case e.OldSeverity == "" || e.NewSeverity == "":
		return string(e.OldSeverity) + string(e.NewSeverity)
	case e.OldSeverity != e.NewSeverity:
		return string(e.OldSeverity) + "->" + string(e.NewSeverity)
	}
	return string(e.NewSeverity)
}

// resource names an entry's resource: its ID (the ARN when it has none).
func resource(e model.DiffEntry) string {
	if e.ResourceID != "" {
		return e.ResourceID
	}
	if e.ResourceARN != "" {
		return e.ResourceARN
	}
	return "(scope)"
}

func account(e model.DiffEntry) string {
	if e.AccountName != "" {
		return e.AccountID + " (" + e.AccountName + ")"
	}
	return e.AccountID
}

// split separates the entries that are listed (not PASS on the side that
// matters) from the PASS ones, which are counted.
func split(list []model.DiffEntry, passing func(model.DiffEntry) bool) (listed []model.DiffEntry, passed int) {
	for _, e := range list {
		if passing(e) {
			passed++
			continue
		}
		listed = append(listed, e)
	}
	return listed, passed
}

func newPass(e model.DiffEntry) bool { return e.NewStatus == model.StatusPass }
func oldPass(e model.DiffEntry) bool { return e.OldStatus == model.StatusPass }

func countStatus(list []model.DiffEntry, s model.Status, newSide bool) int {
	n := 0
	for _, e := range list {
		if (newSide && e.NewStatus == s) || (!newSide && e.OldStatus == s) {
			n++
		}
	}
	return n
}

// bySeverity renders how many FAIL entries have each severity: "1 critical, 2 high".
func bySeverity(list []model.DiffEntry) string {
	counts := map[model.Severity]int{}
	for _, e := range list {
		if e.NewStatus == model.StatusFail {
			counts[e.NewSeverity]++
		}
	}
	var parts []string
	for _, s := range model.Severities() {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// reasonGroup is the not_observed entries of one reason.
type reasonGroup struct {
	reason  string
	entries []model.DiffEntry
}

func byReason(list []model.DiffEntry) []reasonGroup {
	idx := map[string]int{}
	var groups []reasonGroup
	for _, e := range list {
		i, ok := idx[e.Reason]
		if !ok {
			i = len(groups)
			idx[e.Reason] = i
			groups = append(groups, reasonGroup{reason: e.Reason})
		}
		groups[i].entries = append(groups[i].entries, e)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].reason < groups[j].reason })
	return groups
}

// summaryRows are the category counts, in the order every format shows them.
func summaryRows(d *model.Diff) [][2]string {
	newFail := countStatus(d.New, model.StatusFail, true)
	newDetail := fmt.Sprintf("%d failing", newFail)
	if s := bySeverity(d.New); s != "" {
		newDetail += ": " + s
	}
	return [][2]string{
		{"new", fmt.Sprintf("%d (%s)", len(d.New), newDetail)},
		{"resolved", fmt.Sprintf("%d (%d now PASS, %d absent from a covered scope)", len(d.Resolved),
			countStatus(d.Resolved, model.StatusPass, true), countStatus(d.Resolved, "", true))},
		{"changed", fmt.Sprintf("%d (%d now FAIL)", len(d.Changed), countStatus(d.Changed, model.StatusFail, true))},
		{"not observed", fmt.Sprintf("%d (%d were FAIL; NEW did not cover them: never counted as resolved)",
			len(d.NotObserved), countStatus(d.NotObserved, model.StatusFail, false))},
		{"unchanged", fmt.Sprint(d.UnchangedCount)},
		{"outside OLD's scope", fmt.Sprintf("%d (%d failing; not compared, not new)", d.Context.OutsideOldScopeCount,
			countStatus(d.Context.OutsideOldScope, model.StatusFail, true))},
		{"removed", fmt.Sprintf("%d (not failing in OLD, absent from a covered scope in NEW)", d.Context.RemovedCount)},
	}
}

// transitionStates are the control states present in a framework's
// transitions, worst first.
func transitionStates(t map[model.ControlState]map[model.ControlState]int) []model.ControlState {
	present := map[model.ControlState]bool{}
	for from, row := range t {
		for to, n := range row {
			if n > 0 {
				present[from], present[to] = true, true
			}
		}
	}
	var out []model.ControlState
	for _, s := range model.ControlStates() {
		if present[s] {
			out = append(out, s)
		}
	}
	return out
}

// WriteText renders the diff for a person at a terminal: the two scans and
// the window, warnings, counts per category, then the new findings (the
// headline), resolved, changed, not observed, and the control changes per
// framework (with the transition matrix of a framework where a control
// changed). PASS entries of new and not observed are counted, not listed;
// diff.json has them all.
func WriteText(w io.Writer, d *model.Diff) error {
	ew := &errWriter{w: w}
	c := d.Context
	ew.printf("posture diff\n")
	ew.printf("  OLD  %s  %s -> %s  (posture %s)\n", c.Old.ID, stamp(c.Old.StartedAt), stamp(c.Old.FinishedAt), c.Old.ToolVersion)
	ew.printf("  NEW  %s  %s -> %s  (posture %s)\n", c.New.ID, stamp(c.New.StartedAt), stamp(c.New.FinishedAt), c.New.ToolVersion)
	ew.printf("  window: %s between the two scans' finish times\n", Window(c.WindowSeconds))
	if len(c.Warnings) > 0 {
		ew.printf("\nWARNINGS\n")
		for _, s := range c.Warnings {
			ew.printf("  ! %s\n", s)
		}
	}
	ew.printf("\nSUMMARY\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, row := range summaryRows(d) {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()

	listed, passed := split(d.New, newPass)
	ew.printf("\nNEW (%d)\n", len(d.New))
	textTable(ew, listed, func(e model.DiffEntry) string { return status(e.NewStatus) }, "")
	if passed > 0 {
		ew.printf("  and %d new resource(s) that PASS (listed in diff.json)\n", passed)
	}
	ew.printf("\nRESOLVED (%d)\n", len(d.Resolved))
	textTable(ew, d.Resolved, func(e model.DiffEntry) string { return "FAIL -> " + status(e.NewStatus) }, "")
	ew.printf("\nCHANGED (%d)\n", len(d.Changed))
	textTable(ew, d.Changed, func(e model.DiffEntry) string { return status(e.OldStatus) + " -> " + status(e.NewStatus) }, "")
	ew.printf("\nNOT OBSERVED (%d): absent from NEW because NEW did not cover them; not resolved\n", len(d.NotObserved))
	for _, g := range byReason(d.NotObserved) {
		listed, passed := split(g.entries, oldPass)
		ew.printf("  %s: %d finding(s), %d were FAIL\n", g.reason, len(g.entries), countStatus(g.entries, model.StatusFail, false))
		textTable(ew, listed, func(e model.DiffEntry) string { return "was " + status(e.OldStatus) }, "  ")
		if passed > 0 {
			ew.printf("    and %d that passed in OLD\n", passed)
		}
	}
	if len(c.OutsideOldScope) > 0 {
		ew.printf("\nOUTSIDE OLD'S SCOPE (%d not compared; %d not passing listed)\n", c.OutsideOldScopeCount, len(c.OutsideOldScope))
		for _, g := range byReason(c.OutsideOldScope) {
			ew.printf("  %s: %d\n", g.reason, len(g.entries))
			textTable(ew, g.entries, func(e model.DiffEntry) string { return status(e.NewStatus) }, "  ")
		}
	}

	ew.printf("\nCONTROLS\n")
	if len(d.Controls) == 0 {
		ew.printf("  no framework in both scans\n")
	}
	for _, fw := range d.Controls {
		ew.printf("  %s: %d control(s) changed status\n", fw.Framework, len(fw.Changes))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, ch := range fw.Changes {
			fmt.Fprintf(tw, "    %s\t%s -> %s\t%s\n", ch.ControlID, ch.Old, ch.New, ch.Title)
		}
		tw.Flush()
		states := transitionStates(fw.Transitions)
		if len(fw.Changes) == 0 || len(states) == 0 {
			continue
		}
		ew.printf("    transitions (rows OLD, columns NEW):\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "      \t")
		for _, s := range states {
			fmt.Fprintf(tw, "%s\t", s)
		}
		fmt.Fprintln(tw)
		for _, from := range states {
			fmt.Fprintf(tw, "      %s\t", from)
			for _, to := range states {
				fmt.Fprintf(tw, "%d\t", fw.Transitions[from][to])
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	return ew.err
}

func textTable(ew *errWriter, list []model.DiffEntry, change func(model.DiffEntry) string, indent string) {
	if len(list) == 0 {
		return
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s  SEVERITY\tSTATUS\tCHECK\tACCOUNT\tREGION\tRESOURCE\n", indent)
	for _, e := range list {
		fmt.Fprintf(tw, "%s  %s\t%s\t%s\t%s\t%s\t%s\n", indent, severity(e), change(e), e.CheckID, account(e), e.Region, resource(e))
	}
	tw.Flush()
}

// WriteMarkdown renders the diff for a pull-request comment or a ticket:
// the same content as WriteText, as headings and tables.
func WriteMarkdown(w io.Writer, d *model.Diff) error {
	ew := &errWriter{w: w}
	c := d.Context
	ew.printf("## posture diff\n\n")
	ew.printf("| | scan | started | finished | tool |\n|---|---|---|---|---|\n")
	ew.printf("| OLD | `%s` | %s | %s | posture %s |\n", c.Old.ID, stamp(c.Old.StartedAt), stamp(c.Old.FinishedAt), md(c.Old.ToolVersion))
	ew.printf("| NEW | `%s` | %s | %s | posture %s |\n\n", c.New.ID, stamp(c.New.StartedAt), stamp(c.New.FinishedAt), md(c.New.ToolVersion))
	ew.printf("Window: **%s** between the two scans' finish times.\n", Window(c.WindowSeconds))
	if len(c.Warnings) > 0 {
		ew.printf("\n### Warnings\n\n")
		for _, s := range c.Warnings {
			ew.printf("- :warning: %s\n", md(s))
		}
	}
	ew.printf("\n### Summary\n\n| category | count |\n|---|---|\n")
	for _, row := range summaryRows(d) {
		ew.printf("| %s | %s |\n", row[0], md(row[1]))
	}

	listed, passed := split(d.New, newPass)
	ew.printf("\n### New (%d)\n\n", len(d.New))
	mdTable(ew, listed, func(e model.DiffEntry) string { return status(e.NewStatus) }, false)
	if passed > 0 {
		ew.printf("\nand %d new resource(s) that PASS (listed in diff.json)\n", passed)
	}
	ew.printf("\n### Resolved (%d)\n\n", len(d.Resolved))
	mdTable(ew, d.Resolved, func(e model.DiffEntry) string { return "FAIL → " + status(e.NewStatus) }, false)
	ew.printf("\n### Changed (%d)\n\n", len(d.Changed))
	mdTable(ew, d.Changed, func(e model.DiffEntry) string { return status(e.OldStatus) + " → " + status(e.NewStatus) }, false)
	ew.printf("\n### Not observed (%d)\n\nAbsent from NEW because NEW did not cover them: never counted as resolved.\n\n", len(d.NotObserved))
	notPassed, passedOld := split(d.NotObserved, oldPass)
	mdTable(ew, notPassed, func(e model.DiffEntry) string { return "was " + status(e.OldStatus) }, true)
	if passedOld > 0 {
		ew.printf("\nand %d that passed in OLD (listed in diff.json)\n", passedOld)
	}
	if len(c.OutsideOldScope) > 0 {
		ew.printf("\n### Outside OLD's scope (%d, not compared)\n\n", c.OutsideOldScopeCount)
		mdTable(ew, c.OutsideOldScope, func(e model.DiffEntry) string { return status(e.NewStatus) }, true)
	}
	ew.printf("\n### Controls\n")
	if len(d.Controls) == 0 {
		ew.printf("\nNo framework in both scans.\n")
	}
	for _, fw := range d.Controls {
		ew.printf("\n#### %s: %d control(s) changed status\n", md(fw.Framework), len(fw.Changes))
		if len(fw.Changes) > 0 {
			ew.printf("\n| control | OLD | NEW | title |\n|---|---|---|---|\n")
			for _, ch := range fw.Changes {
				ew.printf("| %s | %s | %s | %s |\n", md(ch.ControlID), ch.Old, ch.New, md(ch.Title))
			}
		}
		states := transitionStates(fw.Transitions)
		if len(fw.Changes) == 0 || len(states) == 0 {
			continue
		}
		ew.printf("\nTransitions (rows OLD, columns NEW):\n\n| OLD \\ NEW |")
		for _, s := range states {
			ew.printf(" %s |", s)
		}
		ew.printf("\n|---|%s\n", strings.Repeat("---:|", len(states)))
		for _, from := range states {
			ew.printf("| %s |", from)
			for _, to := range states {
				ew.printf(" %d |", fw.Transitions[from][to])
			}
			ew.printf("\n")
		}
	}
	return ew.err
}

func mdTable(ew *errWriter, list []model.DiffEntry, change func(model.DiffEntry) string, reason bool) {
	if len(list) == 0 {
		ew.printf("None.\n")
		return
	}
	header, rule := "| severity | status | check | account | region | resource |", "|---|---|---|---|---|---|"
	if reason {
		header, rule = header+" reason |", rule+"---|"
	}
	ew.printf("%s\n%s\n", header, rule)
	for _, e := range list {
		ew.printf("| %s | %s | %s | %s | %s | %s |", severity(e), change(e), code(e.CheckID), md(account(e)), md(e.Region), code(resource(e)))
		if reason {
			ew.printf(" %s |", md(e.Reason))
		}
		ew.printf("\n")
	}
}

// code renders s as a code span in a Markdown table cell: a backtick
// cannot end it early, and a pipe is escaped (GitHub splits cells on pipes
// even inside code spans).
func code(s string) string {
	return "`" + strings.NewReplacer("`", "'", "|", `\|`, "\n", " ").Replace(s) + "`"
}

// md escapes the characters that would break a Markdown table cell or
// start markup.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'")
	return r.Replace(s)
}

// errWriter keeps the first write error, so a renderer checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

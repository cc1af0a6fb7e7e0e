package reports

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// CSV writes findings.csv: one row per result.
type CSV struct{}

// Format implements Writer.
func (CSV) Format() string { return "csv" }

// FileName is the file the format is written to.
func (CSV) FileName() string { return "findings.csv" }

// Files implements Writer.
func (f CSV) Files(in Input) []File {
	return []File{{Name: f.FileName(), Render: func(w io.Writer) error { return f.Write(w, in.Scan) }}}
}

// CSVHeader is the header row of findings.csv. Columns are only ever
// appended, so that a reader that indexes them by position keeps working:
// account_name (the account's name in AWS Organizations, empty when the scan
// does not know it) came after fingerprint; then waiver_id, waiver_owner and
// waiver_expires (the waiver that MUTED the result, empty for the others);
// then, for triage, scan_id, title and remediation (the check's) and
// resource_name (the Name tag, group name or domain name when the resource
// has one besides its ID).
func CSVHeader() []string {
	return []string{
		"check_id", "status", "severity", "family", "account_id", "region", "service",
		"resource_type", "resource_id", "resource_arn", "message", "evidence", "controls", "fingerprint",
		"account_name",
		"waiver_id", "waiver_owner", "waiver_expires",
		"scan_id", "title", "remediation", "resource_name",
	}
}

// Write implements Writer. The rows are in triage order (TriageOrder):
// failures first, the worst first. Cells that a spreadsheet would run as a
// formula (starting with = + - @ or a control character) are prefixed with
// a quote: resource names and tags come from the scanned account and are not
// trusted.
func (CSV) Write(w io.Writer, scan *model.Scan) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	checks := map[string]model.CheckInfo{}
	for _, c := range scan.Catalogue {
		checks[c.ID] = c
	}
	waivers := map[string]model.Waiver{}
	for _, wv := range scan.Waivers {
		waivers[wv.ID] = wv
	}
	for _, r := range TriageOrder(scan.Results) {
		var wv model.Waiver
		if r.WaiverID != "" {
			wv = waivers[r.WaiverID]
			wv.ID = r.WaiverID
		}
		evidence, err := json.Marshal(r.Evidence)
		if err != nil {
			return err
		}
		row := []string{
			r.CheckID, string(r.Status), string(r.Severity), string(r.Family), r.AccountID, r.Region, r.Service,
			r.ResourceType, r.ResourceID, r.ResourceARN, r.Message, string(evidence), strings.Join(r.Controls, ";"), r.Fingerprint,
			r.AccountName,
			wv.ID, wv.Owner, wv.Expires,
			scan.Scan.ID, checks[r.CheckID].Title, checks[r.CheckID].Remediation, ResourceName(r),
		}
		for i := range row {
			row[i] = neutraliseFormula(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// TriageOrder returns the results in the order a person works through
// them: FAIL, then ERROR, MUTED and PASS; within a status the most severe
// first, then by check, account, region and resource.
func TriageOrder(results []model.Result) []model.Result {
	out := slices.Clone(results)
	rank := map[model.Status]int{model.StatusFail: 0, model.StatusError: 1, model.StatusMuted: 2, model.StatusPass: 3}
	slices.SortStableFunc(out, func(a, b model.Result) int {
		return cmp.Or(
			cmp.Compare(rank[a.Status], rank[b.Status]),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.CheckID, b.CheckID),
			strings.Compare(a.AccountID, b.AccountID),
			strings.Compare(a.Region, b.Region),
			strings.Compare(a.ResourceID, b.ResourceID),
		)
	})
	return out
}

// ResourceName is the name a person knows a resource by, when it has one
// besides its ID: the Name tag, a security group's name, a certificate's
// domain; empty otherwise (for most resources the ID is the name).
func ResourceName(r model.Result) string {
	for _, key := range []string{"name", "group_name", "domain_name"} {
		if v, ok := r.Evidence[key].(string); ok && v != "" && v != r.ResourceID {
			return v
		}
	}
	return ""
}

func neutraliseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

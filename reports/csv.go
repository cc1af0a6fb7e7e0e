package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"
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
// waiver_expires (the waiver that MUTED the result, empty for the others).
var CSVHeader = []string{
	"check_id", "status", "severity", "family", "account_id", "region", "service",
	"resource_type", "resource_id", "resource_arn", "message", "evidence", "controls", "fingerprint",
	"account_name",
	"waiver_id", "waiver_owner", "waiver_expires",
}

// Write implements Writer. Cells that a spreadsheet would run as a formula
// (starting with = + - @ or a control character) are prefixed with a quote:
// resource names and tags come from the scanned account and are not trusted.
func (CSV) Write(w io.Writer, scan *model.Scan) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	waivers := map[string]model.Waiver{}
	for _, wv := range scan.Waivers {
		waivers[wv.ID] = wv
	}
	for _, r := range scan.Results {
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

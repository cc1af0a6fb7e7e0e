package reports

import (
	"io"

	"github.com/posture-dev/posture/reports/diff"
)

// Diff writes diff.json, the comparison with the baseline scan (posture
// scan --baseline). It writes nothing for a scan without a baseline.
type Diff struct{}

// Format implements Writer.
func (Diff) Format() string { return "diff" }

// Files implements Writer: diff.json when in.Diff is set, else nothing.
func (Diff) Files(in Input) []File {
	if in.Diff == nil {
		return nil
	}
	return []File{{Name: diff.FileName, Render: func(w io.Writer) error { return diff.WriteJSON(w, in.Diff) }}}
}

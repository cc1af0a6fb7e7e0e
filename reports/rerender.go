package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// DecodeDiff decodes a diff.json (unknown fields are ignored, as for
// DecodeScanLenient).
func DecodeDiff(data []byte) (*model.Diff, error) {
	var d model.Diff
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if d.SchemaVersion == 0 {
		return nil, fmt.Errorf("schema_version is missing")
	}
	return &d, nil
}

// ScanBytes writes scan.json as the given bytes: `posture report` keeps the
// scan.json it read exactly as it was, whatever the other formats render.
type ScanBytes []byte

// Format implements Writer.
func (ScanBytes) Format() string { return "json" }

// Files implements Writer.
func (b ScanBytes) Files(Input) []File {
	return []File{{Name: JSON{}.FileName(), Render: func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}}}
}

// Reencode renders scan as the JSON writer does.
func Reencode(scan *model.Scan) ([]byte, error) {
	var buf bytes.Buffer
	if err := (JSON{}).Write(&buf, scan); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FilterFrameworks returns a copy of scan that keeps only the frameworks
// ids: in Frameworks, in Controls and in each result's Controls (so every
// format, the OCSF standards included, speaks of those frameworks only).
// scan is not changed. An ID the scan does not have is an error naming the
// ones it has.
func FilterFrameworks(scan *model.Scan, ids []string) (*model.Scan, error) {
	known := scan.FrameworkIDs()
	keep := map[string]bool{}
	for _, id := range ids {
		if !slices.Contains(known, id) {
			return nil, fmt.Errorf("framework %q is not in the scan (it has: %s)", id, strings.Join(known, ", "))
		}
		keep[id] = true
	}
	out := *scan
	out.Frameworks = nil
	for _, f := range scan.Frameworks {
		if keep[f.ID] {
			out.Frameworks = append(out.Frameworks, f)
		}
	}
	out.Controls = []model.ControlStatus{}
	for _, c := range scan.Controls {
		if keep[c.Framework] {
			out.Controls = append(out.Controls, c)
		}
	}
	out.Results = make([]model.Result, len(scan.Results))
	for i, r := range scan.Results {
		controls := []string{}
		for _, c := range r.Controls {
			if fw, _, _ := strings.Cut(c, ":"); keep[fw] {
				controls = append(controls, c)
			}
		}
		r.Controls = controls
		out.Results[i] = r
	}
	return &out, nil
}

package reports

import (
	"encoding/json"
	"fmt"

	"github.com/posture-dev/posture/internal/model"
)

// CanonicalEvidence replaces every result's evidence by the value a reader of
// scan.json decodes (maps with their keys sorted, numbers as float64),
// without changing what it says. Scanners put structs in evidence, whose
// fields encode in declaration order, while a decoded scan.json re-encodes
// them with sorted keys: call it on a fresh scan before writing any report,
// so that scan.json, and every report rendered from it now or later from the
// file, are byte for byte the same (the workbook quotes the SHA-256 of
// scan.json and the evidence text).
func CanonicalEvidence(scan *model.Scan) error {
	for i := range scan.Results {
		r := &scan.Results[i]
		if r.Evidence == nil {
			continue
		}
		data, err := json.Marshal(r.Evidence)
		if err != nil {
			return fmt.Errorf("results[%d] evidence: %w", i, err)
		}
		var ev map[string]any
		if err := json.Unmarshal(data, &ev); err != nil {
			return fmt.Errorf("results[%d] evidence: %w", i, err)
		}
		r.Evidence = ev
	}
	return nil
}

package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/posture-dev/posture/internal/model"
)

// JSON writes scan.json.
type JSON struct{}

// Format implements Writer.
func (JSON) Format() string { return "json" }

// FileName is the file the format is written to.
func (JSON) FileName() string { return "scan.json" }

// Files implements Writer.
func (f JSON) Files(in Input) []File {
	return []File{{Name: f.FileName(), Render: func(w io.Writer) error { return f.Write(w, in.Scan) }}}
}

// Write implements Writer: indented JSON, results in the scan's order.
func (JSON) Write(w io.Writer, scan *model.Scan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(scan)
}

// ReadScan reads and validates a scan.json file.
func ReadScan(path string) (*model.Scan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scan %s: %w", path, err)
	}
	scan, err := DecodeScan(data)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", path, err)
	}
	return scan, nil
}

// ReadScanFile reads a scan.json file leniently, as a reader of another
// version's output must: unknown fields (added by a newer schema-1 writer)
// are ignored, but the document must still decode and pass Validate. Every
// error names the file, so `posture diff` and `posture scan --baseline` can
// say which of their inputs is bad.
func ReadScanFile(path string) (*model.Scan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scan %s: %w", path, err)
	}
	scan, err := DecodeScanLenient(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid posture scan.json: %w", path, err)
	}
	return scan, nil
}

// DecodeScanLenient decodes a scan.json document, ignoring unknown fields,
// and validates it: a scan written by a newer version (which may add
// fields, never rename them) is still read, by diff, --baseline and report.
func DecodeScanLenient(data []byte) (*model.Scan, error) {
	var scan model.Scan
	if err := json.Unmarshal(data, &scan); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := Validate(&scan); err != nil {
		return nil, err
	}
	return &scan, nil
}

// DecodeScan decodes a scan.json document strictly (unknown fields are an
// error, so a renamed field cannot pass unnoticed) and validates it.
func DecodeScan(data []byte) (*model.Scan, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var scan model.Scan
	if err := dec.Decode(&scan); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := Validate(&scan); err != nil {
		return nil, err
	}
	return &scan, nil
}

// Validate checks that a scan document keeps the contract: schema version,
// tool, scan times, coverage statuses, controls with a known status,
// results with the fields a reader relies on, and waivers: every MUTED
// result names a waiver of the register, so no failure is silenced without
// an owner and a reason on record.
func Validate(scan *model.Scan) error {
	var errs []error
	if scan.SchemaVersion != model.SchemaVersion {
		errs = append(errs, fmt.Errorf("schema_version %d, want %d", scan.SchemaVersion, model.SchemaVersion))
	}
	if scan.Tool.Name == "" || scan.Tool.Version == "" {
		errs = append(errs, errors.New("tool name and version are required"))
	}
	if scan.Scan.ID == "" || scan.Scan.StartedAt.IsZero() || scan.Scan.FinishedAt.IsZero() {
		errs = append(errs, errors.New("scan id, started_at and finished_at are required"))
	}
	if scan.Results == nil || scan.Coverage == nil || scan.Controls == nil {
		errs = append(errs, errors.New("results, coverage and controls must be present (possibly empty)"))
	}
	for i, c := range scan.Coverage {
		if c.Status != model.CoverageOK && c.Status != model.CoverageError {
			errs = append(errs, fmt.Errorf("coverage[%d]: status %q", i, c.Status))
		}
		if c.AccountID == "" || c.Region == "" || c.Service == "" {
			errs = append(errs, fmt.Errorf("coverage[%d]: account_id, region and service are required", i))
		}
	}
	for i, c := range scan.Controls {
		if c.Framework == "" || c.ControlID == "" || c.Title == "" {
			errs = append(errs, fmt.Errorf("controls[%d]: framework, control_id and title are required", i))
		}
		if !slices.Contains(model.ControlStates(), c.Status) {
			errs = append(errs, fmt.Errorf("controls[%d] %s:%s: status %q", i, c.Framework, c.ControlID, c.Status))
		}
		if c.Passed < 0 || c.Failed < 0 || c.Errors < 0 || c.Muted < 0 {
			errs = append(errs, fmt.Errorf("controls[%d] %s:%s: negative count", i, c.Framework, c.ControlID))
		}
		if c.Status == model.ControlManual && c.Passed+c.Failed+c.Errors+c.Muted > 0 {
			errs = append(errs, fmt.Errorf("controls[%d] %s:%s: a MANUAL control has no results", i, c.Framework, c.ControlID))
		}
		if len(errs) > 20 {
			break
		}
	}
	waivers := map[string]bool{}
	for i, w := range scan.Waivers {
		if w.ID == "" || w.Check == "" || w.Expires == "" {
			errs = append(errs, fmt.Errorf("waivers[%d]: id, check and expires are required", i))
		}
		if w.State != model.WaiverActive && w.State != model.WaiverExpired && w.State != model.WaiverUnused {
			errs = append(errs, fmt.Errorf("waivers[%d] %s: state %q", i, w.ID, w.State))
		}
		if w.Muted < 0 || (w.State == model.WaiverActive) != (w.Muted > 0) {
			errs = append(errs, fmt.Errorf("waivers[%d] %s: %s with %d muted", i, w.ID, w.State, w.Muted))
		}
		waivers[w.ID] = true
	}
	for i, r := range scan.Results {
		if (r.Status == model.StatusMuted) != (r.WaiverID != "") || (r.WaiverID != "" && !waivers[r.WaiverID]) {
			errs = append(errs, fmt.Errorf("results[%d]: status %s with waiver_id %q: a MUTED result names a waiver of the register, no other does", i, r.Status, r.WaiverID))
		}
		switch r.Status {
		case model.StatusPass, model.StatusFail, model.StatusError, model.StatusMuted:
		default:
			errs = append(errs, fmt.Errorf("results[%d]: status %q", i, r.Status))
		}
		if r.CheckID == "" || r.AccountID == "" || r.Region == "" || r.Service == "" || r.Fingerprint == "" {
			errs = append(errs, fmt.Errorf("results[%d]: check_id, account_id, region, service and fingerprint are required", i))
		}
		if r.Severity.Rank() == 0 {
			errs = append(errs, fmt.Errorf("results[%d]: severity %q", i, r.Severity))
		}
		if r.Status != model.StatusError && r.ResourceID == "" {
			errs = append(errs, fmt.Errorf("results[%d]: resource_id is required for %s results", i, r.Status))
		}
		if len(errs) > 20 {
			break
		}
	}
	return errors.Join(errs...)
}

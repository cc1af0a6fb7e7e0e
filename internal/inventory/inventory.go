// Package inventory is the typed inventory of a scan as a first-class
// artifact: every scope's observed configuration and gaps (check.Snapshot),
// the gaps of whole accounts, regions and cancelled scopes, and what the
// scan was (its ID, times, accounts, regions, checks, thresholds). The
// engine collects it once and evaluates it purely; `posture scan
// --save-inventory` writes it as inventory.json.gz and `posture evaluate`
// re-evaluates it offline into the same scan.json.
//
// It holds no secret value: collectors never read one (no Secrets Manager
// value, no Lambda environment variable).
package inventory

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

// SchemaVersion is the version of the file format this build writes and
// the newest it reads.
const SchemaVersion = 1

// FileName is the inventory's name in an evidence package.
const FileName = "inventory.json.gz"

// Inventory is a scan's collected configuration.
type Inventory struct {
	SchemaVersion int        `json:"schema_version"`
	Tool          model.Tool `json:"tool"`
	Scan          Scan       `json:"scan"`
	// Scopes are the snapshots of every collected (account, region,
	// service) scope, sorted by account, region and service.
	Scopes []check.Snapshot `json:"scopes"`
	// ScanGaps are the gaps of the scan itself: unreachable accounts,
	// unavailable regions, cancelled scopes, services not offered.
	ScanGaps []ScanGap `json:"scan_gaps"`
}

// Scan describes the collection.
type Scan struct {
	ID         string    `json:"id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Accounts are the target accounts, sorted by ID.
	Accounts []Account `json:"accounts"`
	// Regions are the regions scanned in any account, sorted.
	Regions []string `json:"regions"`
	// Checks are the checks selected at collection: their parts were
	// collected.
	Checks []string `json:"checks"`
	// Thresholds are the thresholds of the collection's scan, as scan.json
	// records them; Config is the configuration they came from (with its
	// waivers), which a re-evaluation uses unless given another.
	Thresholds map[string]int `json:"thresholds"`
	Config     config.Config  `json:"config"`
	// What the CLI records of the run (scan.json's fields of those names).
	Principal        string   `json:"principal,omitempty"`
	Invocation       string   `json:"invocation,omitempty"`
	RequestedRegions []string `json:"requested_regions,omitempty"`
	ConfigFile       string   `json:"config_file,omitempty"`
	ConfigSHA256     string   `json:"config_sha256,omitempty"`
}

// Account is one target account of the scan.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Partition is the account's AWS partition.
	Partition string `json:"partition,omitempty"`
	// Regions are the regions scanned in the account; empty when it was not
	// reached.
	Regions []string `json:"regions"`
}

// Kinds of scan-level gaps.
const (
	// GapAccount: the account could not be reached.
	GapAccount = "account"
	// GapRegion: a requested region cannot be scanned in the account.
	GapRegion = "region"
	// GapCancelled: the scan was cancelled before the scope finished.
	GapCancelled = "cancelled"
	// GapTimedOut: one account's collection reached its own time limit
	// before the scope finished (the nightly fan-out's scan-account
	// invocation); the scan itself was not cancelled. Code and Message say
	// why.
	GapTimedOut = "timed_out"
	// GapNotOffered: AWS does not offer the service in the region (not a
	// failure: the scope is not applicable).
	GapNotOffered = "not_offered"
)

// ScanGap is a gap of the scan outside any scanner's collection.
type ScanGap struct {
	Kind      string `json:"kind"`
	AccountID string `json:"account_id"`
	Region    string `json:"region,omitempty"`
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Marshal renders the inventory as gzip'd JSON. The output is
// deterministic: the gzip header has no name and no modification time.
func Marshal(inv *Inventory) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if err := Encode(zw, inv); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("inventory: compress: %w", err)
	}
	return buf.Bytes(), nil
}

// Encode writes the inventory as (uncompressed) JSON to w.
func Encode(w io.Writer, inv *Inventory) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(inv); err != nil {
		return fmt.Errorf("inventory: encode: %w", err)
	}
	return nil
}

// ErrFormat marks data that is not an inventory this build can read.
var ErrFormat = errors.New("not a posture inventory")

// Unmarshal reads an inventory written by Marshal (gzip'd JSON; plain JSON
// is accepted too). Data that is not an inventory, or one of a newer schema
// version, is an error wrapping ErrFormat.
func Unmarshal(data []byte) (*Inventory, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("%w: decompress: %w", ErrFormat, err)
		}
		data = plain
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
		Scopes        *[]json.RawMessage
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if head.SchemaVersion == nil || head.Scopes == nil {
		return nil, fmt.Errorf("%w: no schema_version or scopes", ErrFormat)
	}
	if v := *head.SchemaVersion; v < 1 || v > SchemaVersion {
		return nil, fmt.Errorf("%w: schema_version %d, this build reads 1 to %d (a newer posture wrote it?)", ErrFormat, v, SchemaVersion)
	}
	inv := &Inventory{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(inv); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if inv.Scan.ID == "" {
		return nil, fmt.Errorf("%w: no scan id", ErrFormat)
	}
	return inv, nil
}

// ReadFile reads the inventory at path; errors name the file.
func ReadFile(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	inv, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}

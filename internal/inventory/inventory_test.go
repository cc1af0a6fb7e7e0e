package inventory

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

func sample() *Inventory {
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return &Inventory{
		SchemaVersion: SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.2.3"},
		Scan: Scan{ID: "20260304T050607Z-abcd0123", StartedAt: start, FinishedAt: start.Add(time.Minute),
			Accounts: []Account{{ID: "111111111111", Name: "one", Partition: "aws", Regions: []string{"eu-west-1"}}},
			Regions:  []string{"eu-west-1"}, Checks: []string{"s3-bucket-public"},
			Thresholds: config.Default().Thresholds(), Config: config.Default()},
		Scopes: []check.Snapshot{{Service: "s3", AccountID: "111111111111", Region: "global", Collected: []string{"buckets"},
			Gaps:      []check.GapRecord{{Part: "buckets", Operation: "ListBuckets", Code: "AccessDenied", Message: "AccessDenied: no"}},
			Inventory: json.RawMessage(`{"Buckets":null}`)}},
		ScanGaps: []ScanGap{{Kind: GapRegion, AccountID: "111111111111", Region: "ap-east-1", Code: model.CodeRegionNotEnabled, Message: "not enabled"}},
	}
}

func TestMarshalIsDeterministicAndRoundTrips(t *testing.T) {
	a, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two marshals of the same inventory differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header has mtime %v, name %q; want neither", zr.ModTime, zr.Name)
	}
	back, err := Unmarshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sample()) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, sample())
	}
}

func TestUnmarshalRejectsWhatIsNoInventory(t *testing.T) {
	newer := sample()
	newer.SchemaVersion = SchemaVersion + 1
	var plainNewer bytes.Buffer
	if err := Encode(&plainNewer, newer); err != nil {
		t.Fatal(err)
	}
	good, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":         {nil, "not a posture inventory"},
		"not json":      {[]byte("hello"), "not a posture inventory"},
		"scan.json":     {[]byte(`{"schema_version":"1.2","scan":{"id":"x"},"results":[]}`), "not a posture inventory"},
		"no scopes":     {[]byte(`{"schema_version":1,"scan":{"id":"x"}}`), "no schema_version or scopes"},
		"newer":         {plainNewer.Bytes(), "schema_version 2, this build reads 1 to 1"},
		"truncated gz":  {good[:len(good)/2], "not a posture inventory"},
		"unknown field": {[]byte(`{"schema_version":1,"scan":{"id":"x"},"scopes":[],"extra":1}`), "unknown field"},
	}
	for name, c := range cases {
		_, err := Unmarshal(c.data)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrFormat mentioning %q", name, err, c.want)
		}
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json.gz")
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming %s", err, path)
	}
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if inv, err := ReadFile(path); err != nil || inv.Scan.ID != sample().Scan.ID {
		t.Errorf("ReadFile = %v, %v", inv, err)
	}
}

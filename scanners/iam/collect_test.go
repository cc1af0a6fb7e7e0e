package iam

import (
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
)

func TestLastUseFromReport(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := check.Params{Now: now, Credentials: config.Default().Credentials} // unused_days 45
	ago := func(days int) *time.Time { v := now.Add(-time.Duration(days) * 24 * time.Hour); return &v }
	created := ago(200).Add(300 * time.Millisecond) // ListAccessKeys has sub-second precision, the report not
	key := AccessKey{ID: "AKIAONE", Status: "Active", CreatedAt: created}
	rotated := created.Truncate(time.Second)
	for _, c := range []struct {
		name     string
		row      ReportRow
		keys     []AccessKey
		ok       bool
		lastUsed *time.Time
	}{
		{"used 10 days ago", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated, LastUsed: ago(10)}}}, nil, true, ago(10)},
		{"in the second column", ReportRow{Keys: [2]ReportKey{{}, {Active: true, LastRotated: &rotated, LastUsed: ago(10)}}}, nil, true, ago(10)},
		{"idle 44 days", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated, LastUsed: ago(44)}}}, nil, true, ago(44)},
		{"idle 45 days: confirm live", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated, LastUsed: ago(45)}}}, nil, false, nil},
		{"never used, created 200 days ago: confirm live", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated}}}, nil, false, nil},
		{"another creation second", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: ago(199), LastUsed: ago(1)}}}, nil, false, nil},
		{"inactive in the report", ReportRow{Keys: [2]ReportKey{{Active: false, LastRotated: &rotated, LastUsed: ago(1)}}}, nil, false, nil},
		{"two report keys of that second", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated, LastUsed: ago(1)}, {Active: true, LastRotated: &rotated, LastUsed: ago(1)}}}, nil, false, nil},
		{"two live keys of that second", ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &rotated, LastUsed: ago(1)}}},
			[]AccessKey{{ID: "AKIATWO", Status: "Active", CreatedAt: created.Add(100 * time.Millisecond)}}, false, nil},
	} {
		k := key
		keys := append([]AccessKey{k}, c.keys...)
		ok := lastUseFromReport(c.row, keys, &k, p)
		if ok != c.ok {
			t.Errorf("%s: %v, want %v", c.name, ok, c.ok)
			continue
		}
		if !ok {
			if k.LastUsedRead || k.LastUsed != nil {
				t.Errorf("%s: key changed without a match: %+v", c.name, k)
			}
			continue
		}
		if !k.LastUsedRead || k.LastUsedSource != SourceReport || k.LastUsed == nil || !k.LastUsed.Equal(*c.lastUsed) {
			t.Errorf("%s: key %+v, want last use %v from the report", c.name, k, c.lastUsed)
		}
	}
	// Never used and created 10 days ago: under the threshold whatever happened since.
	recent := now.Add(-10 * 24 * time.Hour)
	k := AccessKey{ID: "AKIANEW", Status: "Active", CreatedAt: recent}
	if !lastUseFromReport(ReportRow{Keys: [2]ReportKey{{Active: true, LastRotated: &recent}}}, []AccessKey{k}, &k, p) || k.LastUsed != nil || !k.LastUsedRead {
		t.Errorf("never-used recent key: %+v", k)
	}
}

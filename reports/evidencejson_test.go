package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestEvidenceEncoder checks the evidence encoder against a json.Encoder
// with SetEscapeHTML(false), the Findings sheet's encoding before it.
func TestEvidenceEncoder(t *testing.T) {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	type custom struct {
		A string `json:"a"`
		B []int
	}
	values := []any{
		nil, "", "plain", all.String(), "<&>\u2028\u2029\xff\xfe é😀\x7f", true, false,
		0, -12, int64(math.MaxInt64), 0.0, math.Copysign(0, -1), 1.5, 1e-7, 1e-6, 1e20, 1e21, 123456789.125, -3e-300, math.MaxFloat64,
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1, "a": []any{"x", map[string]any{"z": nil, "y": []any{1.25, "q\"\\"}}}, "é": "v", "A": true, "\x01k": "ctl"},
		map[string]any{"custom": custom{"v", []int{1, 2}}, "time": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "strs": []string{"a", "<b>"}, "u8": uint8(7)},
		largeScan(1).Results[0].Evidence,
	}
	e := newEvidenceEncoder()
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got, err := e.appendJSON([]byte("keep"), v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if w := "keep" + strings.TrimSuffix(want.String(), "\n"); string(got) != w {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, w)
		}
	}
	if _, err := e.appendJSON(nil, map[string]any{"nan": math.NaN()}); err == nil {
		t.Error("NaN: no error")
	}
}

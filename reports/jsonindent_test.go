package reports

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendIndented checks appendIndented against json.Indent on values
// with every kind of JSON punctuation, inside and outside strings.
func TestAppendIndented(t *testing.T) {
	values := []any{
		map[string]any{},
		[]any{},
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": []any{1, "x", nil, true, map[string]any{"d": []any{[]any{}}}}},
		map[string]any{"q\"uo{te": "a,b:c[d]e{f}g\\\"h", "esc\\": "\\", "u": "\u2028<>&\x01", "": ""},
		[]any{[]any{[]any{1.5e300, -0.0, 12}}, "]", "}", ","},
		"plain",
		42,
		largeScan(3).Results,
	}
	for _, v := range values {
		compact, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, pi := range [][2]string{{"", "  "}, {"    ", "  "}, {">", "\t"}} {
			var want bytes.Buffer
			if err := json.Indent(&want, compact, pi[0], pi[1]); err != nil {
				t.Fatal(err)
			}
			got := appendIndented([]byte("keep"), compact, pi[0], pi[1])
			if string(got) != "keep"+want.String() {
				t.Errorf("appendIndented(%s, %q, %q):\n got %s\nwant %s", compact, pi[0], pi[1], got[4:], want.Bytes())
			}
		}
	}
}

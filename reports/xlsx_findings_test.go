package reports

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// TestXLSXFindingsText renders text that needs escaping into the Findings
// sheet (markup, white space at the ends, control characters XML forbids,
// bytes that are not UTF-8, literal _xHHHH_ sequences, long values over more
// than one chunk of rows) and reads it back with excelize: every cell holds
// the value, with each character XML cannot carry as U+FFFD. Every part of
// the archive must be well-formed XML.
func TestXLSXFindingsText(t *testing.T) {
	scan := largeScan(2 * rowsPerChunk)
	texts := []string{"_x0041_", "_x005F_x0041_", "_x005F_", "a_x00_x1234_b", "_xD800_", "_x00e9_", "\x01ctl\x7f",
		"\t lead", "trail \n", `<a href="x">&amp;</a> 'q'`, "a\r\nb\tc", "\xff\xfebad", "😀 emoji é", "  ", "\u2028\uFFFE\uFFFF",
		strings.Repeat("é😀<", 12000)}
	want := map[int]string{} // result index -> message as read back
	for k, s := range texts {
		i := k*61 + 3
		scan.Results[i].Message = s
		w := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
				return '\uFFFD'
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD\uFFFD"))
		want[i] = clip(w)
	}
	data := renderXLSX(t, Input{Scan: scan})
	f := openXLSX(t, data)
	rows, err := f.GetRows(sheetFindings)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(scan.Results)+1 {
		t.Fatalf("Findings has %d rows, want %d", len(rows), len(scan.Results)+1)
	}
	msgCol := -1
	for c, h := range rows[0] {
		if h == "message" {
			msgCol = c
		}
	}
	seen := 0
	for _, row := range rows[1:] {
		idx, err := strconv.Atoi(row[0])
		if err != nil {
			t.Fatalf("result_index %q: %v", row[0], err)
		}
		if w, ok := want[idx]; ok {
			seen++
			if got := row[msgCol]; got != w {
				t.Errorf("result %d message: got %q, want %q", idx, trunc(got), trunc(w))
			}
		} else if got, w := row[msgCol], scan.Results[idx].Message; got != w {
			t.Errorf("result %d message: got %q, want %q", idx, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of the %d messages", seen, len(want))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(rc)
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s is not well-formed XML: %v", zf.Name, err)
				break
			}
		}
		rc.Close()
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// TestInOrder: the pieces made on several goroutines are written in order,
// and an error in one piece is returned (the writer does not wait for the
// rest forever).
func TestInOrder(t *testing.T) {
	const n = 10_000
	piece := func(_ *int, buf []byte, from, to int) ([]byte, error) {
		for i := from; i < to; i++ {
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, ' ')
		}
		return buf, nil
	}
	var want, got bytes.Buffer
	for i := range n {
		want.WriteString(strconv.Itoa(i) + " ")
	}
	if err := inOrder(n, 7, func() *int { return new(int) }, piece, &got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("inOrder wrote %d bytes out of order or incomplete (want %d)", got.Len(), want.Len())
	}
	boom := errors.New("boom")
	failing := func(s *int, buf []byte, from, to int) ([]byte, error) {
		if from <= 5000 && 5000 < to {
			return buf, boom
		}
		return piece(s, buf, from, to)
	}
	got.Reset()
	if err := inOrder(n, 7, func() *int { return new(int) }, failing, &got); !errors.Is(err, boom) {
		t.Errorf("inOrder with a failing piece: %v, want %v", err, boom)
	}
	if !strings.HasPrefix(want.String(), got.String()) || got.Len() >= want.Len() {
		t.Errorf("inOrder wrote past the failing piece")
	}
}

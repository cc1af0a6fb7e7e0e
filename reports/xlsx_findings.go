package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The Findings sheet holds one row per result: 1.9 million cells for 100,000
// results, most of the workbook's bytes. excelize's StreamWriter spends more
// time per cell (interface values, encoding/xml escaping, a string per cell
// reference) than the rest of the workbook takes, so the rows are written
// here instead: excelize streams the sheet with only its header row (and the
// column widths, the frozen pane and the table over the full range), and
// canonicalZip inserts the rows before that part's </sheetData> when it
// archives it. The cells are written exactly as the StreamWriter writes them
// (inline strings, the same escaping, the same style IDs), so the workbook's
// bytes do not depend on which of the two wrote them (but for a literal
// _xHHHH_ naming a surrogate, which the StreamWriter dropped and which is
// kept here: see isBstrEscape).

// findingsRows writes the rows of the Findings sheet, from row 2, as
// worksheet XML. Rows are made in chunks by one goroutine per processor
// and written in order.
type findingsRows struct {
	b *workbook
}

// rowMaker makes rows: one per goroutine.
type rowMaker struct {
	b       *workbook
	ev      []byte
	enc     *evidenceEncoder
	joined  map[controlsKey]string
	seenAt  time.Time
	seenStr string
}

// controlsKey identifies a result's Controls slice: the results of a check
// usually share one.
type controlsKey struct {
	first *string
	n     int
}

// findingsColumns are the column letters of the Findings sheet.
const findingsColumns = "ABCDEFGHIJKLMNOPQRS"

// rowsPerChunk is the number of rows a goroutine makes at a time.
const rowsPerChunk = 512

func (b *workbook) newFindingsRows() *findingsRows { return &findingsRows{b: b} }

func (b *workbook) newRowMaker() *rowMaker {
	m := &rowMaker{b: b, joined: map[controlsKey]string{}}
	m.enc = newEvidenceEncoder()
	return m
}

// chunk is a piece made for inOrder (the XML of rows made by a rowMaker),
// or why it could not be made.
type chunk struct {
	xml []byte
	err error
}

// writeTo writes every Findings row to w.
func (fr *findingsRows) writeTo(w io.Writer) error {
	if len(findingsHeader) != len(findingsColumns) {
		return errors.New("findings: header and columns disagree")
	}
	b := fr.b
	return inOrder(len(b.order), rowsPerChunk, b.newRowMaker, (*rowMaker).appendRows, w)
}

// inOrder makes the pieces [from, to) of [0, n), per items each, with one
// goroutine per processor (each with its own state from newState), and
// writes them to w in order.
func inOrder[S any](n, per int, newState func() S, produce func(s S, buf []byte, from, to int) ([]byte, error), w io.Writer) error {
	chunks := (n + per - 1) / per
	workers := min(runtime.GOMAXPROCS(0), chunks)
	out := make([]chan chunk, chunks)
	for j := range out {
		out[j] = make(chan chunk, 1)
	}
	// A worker takes a token before it takes the next piece, and the
	// writer returns it once the piece is written: at most len(tokens)
	// pieces are held, and the next one to write always has a token.
	tokens := make(chan struct{}, 2*workers)
	free := make(chan []byte, 2*workers)
	done := make(chan struct{})
	defer close(done)
	var next atomic.Int64
	for range workers {
		go func() {
			s := newState()
			for {
				select {
				case tokens <- struct{}{}:
				case <-done:
					return
				}
				j := int(next.Add(1) - 1)
				if j >= chunks {
					return
				}
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				from := j * per
				buf, err := produce(s, buf[:0], from, min(from+per, n))
				out[j] <- chunk{buf, err}
				if err != nil {
					return
				}
			}
		}()
	}
	for j := range chunks {
		c := <-out[j]
		if c.err != nil {
			return c.err
		}
		if _, err := w.Write(c.xml); err != nil {
			return err
		}
		select {
		case free <- c.xml:
		default:
		}
		<-tokens
	}
	return nil
}

// appendRows appends the rows of b.order[from:to] to buf.
func (m *rowMaker) appendRows(buf []byte, from, to int) ([]byte, error) {
	b := m.b
	scan := b.scan
	for k := from; k < to; k++ {
		i := b.order[k]
		r := &scan.Results[i]
		row := k + 2
		m.ev = m.ev[:0]
		if r.Evidence != nil {
			var err error
			if m.ev, err = m.enc.appendJSON(m.ev, r.Evidence); err != nil {
				return buf, fmt.Errorf("results[%d] evidence: %w", i, err)
			}
		}
		firstSeen := ""
		if r.FirstSeen != nil {
			if m.seenStr == "" || !r.FirstSeen.Equal(m.seenAt) {
				m.seenAt, m.seenStr = *r.FirstSeen, rfc3339UTC(*r.FirstSeen)
			}
			firstSeen = m.seenStr
		}
		buf = append(buf, `<row r="`...)
		buf = strconv.AppendInt(buf, int64(row), 10)
		buf = append(buf, `">`...)
		buf = appendCellStart(buf, 0, row, 0)
		buf = append(buf, `><v>`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `</v></c>`...)
		buf = m.text(buf, 1, row, r.CheckID)
		buf = m.text(buf, 2, row, b.titles[r.CheckID])
		buf = appendInlineStr(buf, 3, row, b.st.status[string(r.Status)], string(r.Status))
		buf = m.text(buf, 4, row, string(r.Severity))
		buf = m.text(buf, 5, row, string(r.Family))
		buf = m.text(buf, 6, row, r.AccountID)
		buf = m.text(buf, 7, row, r.AccountName)
		buf = m.text(buf, 8, row, r.Region)
		buf = m.text(buf, 9, row, r.Service)
		buf = m.text(buf, 10, row, r.ResourceType)
		buf = m.text(buf, 11, row, r.ResourceID)
		buf = m.text(buf, 12, row, r.ResourceARN)
		buf = m.text(buf, 13, row, r.Message)
		if len(m.ev) > excelize.TotalCellChars {
			buf = m.text(buf, 14, row, string(m.ev))
		} else if len(m.ev) > 0 {
			buf = m.textUnclipped(buf, 14, row, m.ev)
		}
		buf = m.text(buf, 15, row, m.controls(r.Controls))
		buf = m.text(buf, 16, row, r.WaiverID)
		buf = m.text(buf, 17, row, firstSeen)
		buf = m.text(buf, 18, row, r.Fingerprint)
		buf = append(buf, `</row>`...)
	}
	return buf, nil
}

// controls is the controls column: the result's controls joined by "; ".
func (m *rowMaker) controls(c []string) string {
	if len(c) == 0 {
		return ""
	}
	key := controlsKey{&c[0], len(c)}
	s, ok := m.joined[key]
	if !ok {
		s = strings.Join(c, "; ")
		m.joined[key] = s
	}
	return s
}

// text appends the text cell of s at column col (from 0), as workbook.cell
// and workbook.text make it: no cell when s is empty, clipped to the cell
// limit, with the quote-prefix style when it starts like a formula.
func (m *rowMaker) text(buf []byte, col, row int, s string) []byte {
	if s == "" {
		return buf
	}
	s = clip(s)
	style := 0
	if looksLikeFormula(s) {
		style = m.b.st.quote
	}
	return appendInlineStr(buf, col, row, style, s)
}

// textUnclipped is text for a value short enough to need no clipping.
func (m *rowMaker) textUnclipped(buf []byte, col, row int, s []byte) []byte {
	style := 0
	if s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r' {
		style = m.b.st.quote
	}
	return appendInlineStr(buf, col, row, style, s)
}

// appendCellStart appends `<c r="REF"` and the style attribute, leaving the
// start tag open.
func appendCellStart(buf []byte, col, row, style int) []byte {
	buf = append(buf, `<c r="`...)
	buf = append(buf, findingsColumns[col])
	buf = strconv.AppendInt(buf, int64(row), 10)
	buf = append(buf, '"')
	if style != 0 {
		buf = append(buf, ` s="`...)
		buf = strconv.AppendInt(buf, int64(style), 10)
		buf = append(buf, '"')
	}
	return buf
}

// appendInlineStr appends an inline string cell, as excelize's StreamWriter
// writes one: xml:space="preserve" when the value starts or ends with white
// space.
func appendInlineStr[T string | []byte](buf []byte, col, row, style int, s T) []byte {
	buf = appendCellStart(buf, col, row, style)
	buf = append(buf, ` t="inlineStr"><is><t`...)
	if len(s) > 0 && (isXMLSpace(s[0]) || isXMLSpace(s[len(s)-1])) {
		buf = append(buf, ` xml:space="preserve"`...)
	}
	buf = append(buf, '>')
	buf = appendXMLText(buf, s)
	return append(buf, `</t></is></c>`...)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendXMLText appends s as the character data of an element, as excelize
// stores a cell's text: the markup characters and tab and carriage return
// as character references, line feeds as they are, each character XML 1.0
// forbids (and each byte that is not UTF-8) as U+FFFD, and the underscore
// that starts a literal _xHHHH_ escaped as _x005F_, so that reading the
// cell back does not decode it.
func appendXMLText[T string | []byte](buf []byte, s T) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !xmlSpecial[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&#34;"
		case c == '\'':
			esc = "&#39;"
		case c == '\t':
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20:
			esc = "\uFFFD"
		case c == '_':
			if isBstrEscape(s[i:]) {
				buf = append(buf, s[last:i]...)
				buf = append(buf, "_x005F"...)
				last = i
			}
		default: // c >= utf8.RuneSelf
			r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			width = n
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			buf = append(buf, s[last:i]...)
			buf = append(buf, esc...)
			last = i + width
		}
		i += width
	}
	return append(buf, s[last:]...)
}

// xmlSpecial marks the bytes appendXMLText looks at: everything but
// printable ASCII other than the markup characters, the underscore, and the
// line feed.
var xmlSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 && c != '\n' || c >= utf8.RuneSelf || strings.IndexByte(`&<>"'_`, byte(c)) >= 0
	}
	return t
}()

// isXMLChar reports whether XML 1.0 allows r (at or above U+0020).
func isXMLChar(r rune) bool {
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= utf8.MaxRune)
}

// isBstrEscape reports whether s starts with _xHHHH_. (excelize's
// StreamWriter drops such a sequence naming a surrogate; escaping it keeps
// it.)
func isBstrEscape[T string | []byte](s T) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for k := 2; k < 6; k++ {
		c := s[k]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// sheetDataEnd is where the rows of a streamed sheet end.
var sheetDataEnd = []byte("</sheetData>")

// spliceRows writes the worksheet part streamed by excelize, with the rows
// written by rows inserted after its header row, to w. The part must hold
// exactly that one row.
func spliceRows(w io.Writer, part []byte, rows func(io.Writer) error) error {
	end := bytes.Index(part, sheetDataEnd)
	if end < 0 || bytes.Count(part, []byte("<row ")) != 1 || !bytes.Contains(part, []byte(`<row r="1"`)) ||
		!bytes.HasSuffix(part[:end], []byte("</row>")) {
		return errors.New("the streamed sheet is not a header row alone")
	}
	if _, err := w.Write(part[:end]); err != nil {
		return err
	}
	if err := rows(w); err != nil {
		return err
	}
	_, err := w.Write(part[end:])
	return err
}

// findingsPart is the archive path of the Findings sheet.
func (b *workbook) findingsPart() (string, error) {
	for id, name := range b.f.GetSheetMap() {
		if name == sheetFindings {
			return "xl/worksheets/sheet" + strconv.Itoa(id) + ".xml", nil
		}
	}
	return "", errors.New("no Findings sheet")
}

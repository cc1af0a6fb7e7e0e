package reports

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
)

// Page geometry of the PDF reports: A4 portrait, in millimetres.
const (
	pdfMargin     = 15.0
	pdfTopMargin  = 18.0
	pdfBottom     = 16.0
	pdfFont       = "dejavu"
	pdfBodySize   = 9.0
	pdfTableSize  = 7.0
	pdfMaxLines   = 24 // lines of one table cell before it is cut short
	pdfCellPad    = 1.0
	pdfLineFactor = 0.42 // line height in mm per point of font size
)

type rgb struct{ r, g, b int }

var (
	colText     = rgb{33, 37, 41}
	colMuted    = rgb{100, 106, 115}
	colRule     = rgb{190, 196, 204}
	colHeadFill = rgb{222, 228, 237}
	colZebra    = rgb{246, 248, 250}
	colAccent   = rgb{31, 73, 125}
)

// stateColours are the fills for statuses, in tables and charts.
var stateColours = map[string]rgb{
	"FAIL":           {214, 69, 65},
	"ERROR":          {232, 140, 30},
	"WAIVED":         {150, 120, 200},
	"MUTED":          {150, 120, 200},
	"PASS":           {60, 150, 80},
	"NOT_APPLICABLE": {150, 155, 160},
	"MANUAL":         {90, 130, 190},
	"critical":       {150, 30, 40},
	"high":           {214, 69, 65},
	"medium":         {232, 140, 30},
	"low":            {220, 190, 60},
	"informational":  {150, 155, 160},
}

// stateTints are light versions of stateColours, for table cells.
func stateTint(s string) (rgb, bool) {
	c, ok := stateColours[s]
	if !ok {
		return rgb{}, false
	}
	mix := func(v int) int { return v + (255-v)*3/4 }
	return rgb{mix(c.r), mix(c.g), mix(c.b)}, true
}

// pdfDoc wraps one fpdf document with the report's typography.
type pdfDoc struct {
	f      *fpdf.Fpdf
	glyphs *glyphSet
	pageW  float64
	pageH  float64
	width  float64 // between the margins
}

func (d *pdfDoc) text(s string) string { return drawable(d.glyphs, s) }

func (d *pdfDoc) setColour(c rgb) { d.f.SetTextColor(c.r, c.g, c.b) }
func (d *pdfDoc) setFill(c rgb)   { d.f.SetFillColor(c.r, c.g, c.b) }
func (d *pdfDoc) setDraw(c rgb)   { d.f.SetDrawColor(c.r, c.g, c.b) }
func (d *pdfDoc) font(bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	d.f.SetFont(pdfFont, style, size)
}

func lineHeight(size float64) float64 { return size * pdfLineFactor }

// breakAfter are the characters after which a long word (an ARN, a check
// ID, a path) may be broken.
const breakAfter = " -/:,._=&?;|"

// wrap breaks s into lines no wider than a cell of w millimetres in the
// current font: at spaces, else after one of breakAfter inside a long word,
// else inside the word, so that nothing overflows its column.
func (d *pdfDoc) wrap(s string, w float64) []string {
	avail := w - 2*d.f.GetCellMargin()
	width := d.f.GetStringWidth
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, piece := range pieces(para) {
			if line == "" && piece == " " {
				continue
			}
			if width(strings.TrimRight(line+piece, " ")) <= avail {
				line += piece
				continue
			}
			if line != "" {
				lines = append(lines, strings.TrimRight(line, " "))
				line = ""
			}
			if piece == " " {
				continue
			}
			for width(strings.TrimRight(piece, " ")) > avail {
				cut := fitRunes(piece, avail, width)
				lines = append(lines, piece[:cut])
				piece = piece[cut:]
			}
			line = piece
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// pieces splits s after every space and every breakAfter character.
func pieces(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune(breakAfter, r) {
			end := i + utf8.RuneLen(r)
			out = append(out, s[start:end])
			start = end
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// fitRunes is the byte length of the longest prefix of s, at least one
// rune, no wider than avail.
func fitRunes(s string, avail float64, width func(string) float64) int {
	w := 0.0
	for i, r := range s {
		w += width(string(r))
		if w > avail {
			if i == 0 {
				return utf8.RuneLen(r)
			}
			return i
		}
	}
	return len(s)
}

// bottom is the lowest y a line may reach on the current page.
func (d *pdfDoc) bottom() float64 { return d.pageH - pdfBottom }

// room makes sure h millimetres fit below the current position, starting a
// new page when they do not.
func (d *pdfDoc) room(h float64) {
	if d.f.GetY()+h > d.bottom() {
		d.f.AddPage()
	}
}

// heading starts a numbered section on a new page, with a bookmark.
func (d *pdfDoc) section(title string) {
	d.f.AddPage()
	d.f.Bookmark(d.text(title), 0, -1)
	d.font(true, 15)
	d.setColour(colAccent)
	d.f.MultiCell(0, lineHeight(15)+1, d.text(title), "", "L", false)
	d.setDraw(colAccent)
	d.f.SetLineWidth(0.4)
	y := d.f.GetY() + 0.5
	d.f.Line(pdfMargin, y, pdfMargin+d.width, y)
	d.f.SetLineWidth(0.2)
	d.f.SetY(y + 3)
	d.setColour(colText)
	d.font(false, pdfBodySize)
}

// subheading is a titled part of a section, optionally bookmarked at level.
func (d *pdfDoc) subheading(title string, level int) {
	d.room(45)
	d.f.Ln(2)
	if level > 0 {
		d.f.Bookmark(d.text(title), level, -1)
	}
	d.font(true, 11)
	d.setColour(colAccent)
	d.f.MultiCell(0, lineHeight(11)+0.5, d.text(title), "", "L", false)
	d.f.Ln(1)
	d.setColour(colText)
	d.font(false, pdfBodySize)
}

// para writes a wrapped paragraph in the body font.
func (d *pdfDoc) para(s string) {
	d.paraStyled(s, false, pdfBodySize, colText)
}

// note writes a wrapped paragraph in a smaller, grey font.
func (d *pdfDoc) note(s string) {
	d.paraStyled(s, false, 8, colMuted)
}

func (d *pdfDoc) paraStyled(s string, bold bool, size float64, c rgb) {
	d.font(bold, size)
	d.setColour(c)
	d.f.MultiCell(0, lineHeight(size)+0.4, d.text(s), "", "L", false)
	d.f.Ln(1.2)
	d.setColour(colText)
	d.font(false, pdfBodySize)
}

// facts writes label/value pairs, the values wrapped beside their labels.
func (d *pdfDoc) facts(labelW float64, pairs [][2]string) {
	lh := lineHeight(pdfBodySize) + 0.6
	for _, p := range pairs {
		d.font(false, pdfBodySize)
		lines := d.wrap(d.text(p[1]), d.width-labelW)
		d.room(lh * float64(min(len(lines), 3)))
		y := d.f.GetY()
		d.font(true, pdfBodySize)
		d.setColour(colMuted)
		d.f.SetXY(pdfMargin, y)
		d.f.CellFormat(labelW, lh, d.text(p[0]), "", 0, "L", false, 0, "")
		d.setColour(colText)
		d.font(false, pdfBodySize)
		for i, line := range lines {
			if i > 0 && d.f.GetY()+lh > d.bottom() {
				d.f.AddPage()
			}
			d.f.SetX(pdfMargin + labelW)
			d.f.CellFormat(d.width-labelW, lh, line, "", 1, "L", false, 0, "")
		}
	}
	d.f.Ln(1.5)
}

// column is one column of a table.
type column struct {
	title string
	width float64 // millimetres
	align string  // "L", "R" or "C"
	// state colours the cell by the status or severity its first line names.
	state bool
}

// table is a table whose header row is repeated on every page it spans.
type table struct {
	caption string
	cols    []column
	// bold rows, by index (totals).
	bold map[int]bool
}

// draw writes rows, each cell wrapped to its column (long IDs and ARNs break
// inside the word rather than overflow), at most pdfMaxLines lines a cell.
func (d *pdfDoc) table(t table, rows [][]string) {
	size := pdfTableSize
	lh := lineHeight(size) + 0.3
	header := func(cont bool) {
		if cont && t.caption != "" {
			d.font(false, 7)
			d.setColour(colMuted)
			d.f.CellFormat(0, 4, d.text(t.caption+" (continued)"), "", 1, "L", false, 0, "")
		}
		d.font(true, size)
		d.setColour(colText)
		d.setFill(colHeadFill)
		d.setDraw(colRule)
		wrapped := make([][]string, len(t.cols))
		n := 1
		for i, c := range t.cols {
			wrapped[i] = d.wrap(d.text(c.title), c.width)
			n = max(n, len(wrapped[i]))
		}
		h := float64(n)*lh + 2*pdfCellPad
		y := d.f.GetY()
		x := pdfMargin
		for i, c := range t.cols {
			d.f.Rect(x, y, c.width, h, "FD")
			for j, line := range wrapped[i] {
				d.f.SetXY(x, y+pdfCellPad+float64(j)*lh)
				d.f.CellFormat(c.width, lh, line, "", 0, c.align, false, 0, "")
			}
			x += c.width
		}
		d.f.SetXY(pdfMargin, y+h)
		d.font(false, size)
	}
	headerH := 2*pdfCellPad + lh*2 + 4
	if d.f.GetY()+headerH+2*lh+2*pdfCellPad > d.bottom() {
		d.f.AddPage()
		if t.caption != "" {
			d.font(false, 7)
			d.setColour(colMuted)
			d.f.CellFormat(0, 4, d.text(t.caption), "", 1, "L", false, 0, "")
		}
	}
	header(false)
	for ri, row := range rows {
		bold := t.bold[ri]
		d.font(bold, size)
		wrapped := make([][]string, len(t.cols))
		n := 1
		for i, c := range t.cols {
			text := ""
			if i < len(row) {
				text = d.text(row[i])
			}
			lines := d.wrap(text, c.width)
			if len(lines) > pdfMaxLines {
				lines = append(lines[:pdfMaxLines-1], "… (cut)")
			}
			wrapped[i] = lines
			n = max(n, len(lines))
		}
		h := float64(n)*lh + 2*pdfCellPad
		if d.f.GetY()+h > d.bottom() {
			d.f.AddPage()
			header(true)
			d.font(bold, size)
		}
		y := d.f.GetY()
		x := pdfMargin
		for i, c := range t.cols {
			style := "D"
			if ri%2 == 1 {
				d.setFill(colZebra)
				style = "FD"
			}
			if c.state && len(wrapped[i]) > 0 {
				if tint, ok := stateTint(strings.TrimSpace(wrapped[i][0])); ok {
					d.setFill(tint)
					style = "FD"
				}
			}
			d.setDraw(colRule)
			d.f.Rect(x, y, c.width, h, style)
			for j, line := range wrapped[i] {
				d.f.SetXY(x, y+pdfCellPad+float64(j)*lh)
				d.f.CellFormat(c.width, lh, line, "", 0, c.align, false, 0, "")
			}
			x += c.width
		}
		d.f.SetXY(pdfMargin, y+h)
	}
	d.font(false, pdfBodySize)
	d.setColour(colText)
	d.f.Ln(2)
}

// bar is one bar of a chart.
type bar struct {
	label  string
	value  int
	colour rgb
}

// barChart draws a horizontal bar chart with fpdf rectangles: one row per
// bar, the label on the left, the bar scaled to the largest value, the value
// at its end.
func (d *pdfDoc) barChart(title string, bars []bar) {
	const rowH, labelW, valueW = 6.0, 38.0, 16.0
	h := 9 + float64(len(bars))*rowH + 3
	d.room(h + 2)
	x0, y0 := pdfMargin, d.f.GetY()
	d.setDraw(colRule)
	d.f.Rect(x0, y0, d.width, h, "D")
	d.font(true, 9)
	d.setColour(colAccent)
	d.f.SetXY(x0+2, y0+2)
	d.f.CellFormat(d.width-4, 5, d.text(title), "", 0, "L", false, 0, "")
	maxV := 0
	for _, b := range bars {
		maxV = max(maxV, b.value)
	}
	area := d.width - labelW - valueW - 6
	d.font(false, 8)
	for i, b := range bars {
		y := y0 + 9 + float64(i)*rowH
		d.setColour(colText)
		d.f.SetXY(x0+2, y)
		d.f.CellFormat(labelW, rowH-1, d.text(b.label), "", 0, "L", false, 0, "")
		w := 0.0
		if maxV > 0 {
			w = area * float64(b.value) / float64(maxV)
		}
		if b.value > 0 {
			w = math.Max(w, 0.8)
			d.setFill(b.colour)
			d.f.Rect(x0+2+labelW, y+0.6, w, rowH-2.2, "F")
		}
		d.f.SetXY(x0+2+labelW+w+1.5, y)
		d.f.CellFormat(valueW, rowH-1, fmt.Sprint(b.value), "", 0, "L", false, 0, "")
	}
	d.setDraw(colRule)
	d.f.Line(x0+2+labelW, y0+8, x0+2+labelW, y0+9+float64(len(bars))*rowH)
	d.f.SetXY(pdfMargin, y0+h+3)
	d.font(false, pdfBodySize)
}

// banner draws a filled box with bold text: the completeness statement.
func (d *pdfDoc) banner(text string, fill, fg rgb, size float64) {
	d.font(true, size)
	lh := lineHeight(size) + 0.8
	lines := d.wrap(d.text(text), d.width-8)
	h := float64(len(lines))*lh + 6
	d.room(h)
	y := d.f.GetY()
	d.setFill(fill)
	d.setDraw(fill)
	d.f.Rect(pdfMargin, y, d.width, h, "F")
	d.setColour(fg)
	for i, line := range lines {
		d.f.SetXY(pdfMargin+4, y+3+float64(i)*lh)
		d.f.CellFormat(d.width-8, lh, line, "", 0, "L", false, 0, "")
	}
	d.f.SetXY(pdfMargin, y+h+3)
	d.setColour(colText)
	d.font(false, pdfBodySize)
}

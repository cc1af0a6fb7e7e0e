package reports

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// The PDF reports embed DejaVu Sans (regular and bold), a Unicode font under
// the Bitstream Vera / DejaVu licence (fonts/LICENSE): it draws Latin,
// Greek, Cyrillic and many symbols, not CJK.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// glyphSet is the set of runes of the Basic Multilingual Plane that a font
// has a glyph for, one bit per rune.
type glyphSet [65536 / 64]uint64

func (g *glyphSet) has(r rune) bool {
	return r >= 0 && r < 65536 && g[r/64]&(1<<(uint(r)%64)) != 0
}

func (g *glyphSet) add(r int) {
	if r >= 0 && r < 65536 {
		g[r/64] |= 1 << (uint(r) % 64)
	}
}

var (
	glyphsOnce sync.Once
	glyphs     *glyphSet
	glyphsErr  error
)

// fontGlyphs returns the runes both embedded fonts can draw, parsed once
// from their cmap tables; the result is read-only and shared.
func fontGlyphs() (*glyphSet, error) {
	glyphsOnce.Do(func() {
		regular, err := parseCmap(fontRegular)
		if err != nil {
			glyphsErr = fmt.Errorf("DejaVuSans.ttf: %w", err)
			return
		}
		bold, err := parseCmap(fontBold)
		if err != nil {
			glyphsErr = fmt.Errorf("DejaVuSans-Bold.ttf: %w", err)
			return
		}
		var both glyphSet
		for i := range both {
			both[i] = regular[i] & bold[i]
		}
		glyphs = &both
	})
	return glyphs, glyphsErr
}

// parseCmap reads the Unicode BMP subtable (platform 3 encoding 1, or
// platform 0, format 4) of a TrueType font's cmap table.
func parseCmap(font []byte) (*glyphSet, error) {
	be := binary.BigEndian
	if len(font) < 12 {
		return nil, errors.New("too short for a TrueType font")
	}
	numTables := int(be.Uint16(font[4:]))
	var cmap []byte
	for i := range numTables {
		rec := 12 + 16*i
		if rec+16 > len(font) {
			return nil, errors.New("truncated table directory")
		}
		if string(font[rec:rec+4]) != "cmap" {
			continue
		}
		off, n := int(be.Uint32(font[rec+8:])), int(be.Uint32(font[rec+12:]))
		if off < 0 || n < 4 || off+n > len(font) {
			return nil, errors.New("cmap table out of bounds")
		}
		cmap = font[off : off+n]
	}
	if cmap == nil {
		return nil, errors.New("no cmap table")
	}
	var sub []byte
	for i := range int(be.Uint16(cmap[2:])) {
		rec := 4 + 8*i
		if rec+8 > len(cmap) {
			return nil, errors.New("truncated cmap")
		}
		platform, encoding := be.Uint16(cmap[rec:]), be.Uint16(cmap[rec+2:])
		off := int(be.Uint32(cmap[rec+4:]))
		if off+4 > len(cmap) || be.Uint16(cmap[off:]) != 4 {
			continue
		}
		if (platform == 3 && encoding == 1) || (platform == 0 && sub == nil) {
			sub = cmap[off:]
		}
	}
	if sub == nil {
		return nil, errors.New("no Unicode format 4 cmap subtable")
	}
	if len(sub) < 14 {
		return nil, errors.New("truncated format 4 subtable")
	}
	segs := int(be.Uint16(sub[6:])) / 2
	ends, starts, deltas, ranges := 14, 16+2*segs, 16+4*segs, 16+6*segs
	if ranges+2*segs > len(sub) {
		return nil, errors.New("truncated format 4 segments")
	}
	var set glyphSet
	for s := range segs {
		end, start := int(be.Uint16(sub[ends+2*s:])), int(be.Uint16(sub[starts+2*s:]))
		delta, rangeOff := int(be.Uint16(sub[deltas+2*s:])), int(be.Uint16(sub[ranges+2*s:]))
		for c := start; c <= end && c != 0xFFFF; c++ {
			glyph := (c + delta) & 0xFFFF
			if rangeOff != 0 {
				at := ranges + 2*s + rangeOff + 2*(c-start)
				if at+2 > len(sub) {
					return nil, errors.New("glyph index out of bounds")
				}
				glyph = int(be.Uint16(sub[at:]))
				if glyph != 0 {
					glyph = (glyph + delta) & 0xFFFF
				}
			}
			if glyph != 0 {
				set.add(c)
			}
		}
	}
	return &set, nil
}

// drawable rewrites s for the embedded font: control characters become
// spaces, and a rune the font has no glyph for (CJK, emoji, anything
// outside the Basic Multilingual Plane) becomes its code point written
// "<U+65E5>", so that nothing is drawn as an empty box or silently lost.
// scan.json and findings.csv keep the exact text.
func drawable(g *glyphSet, s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && !g.has(r)) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r < 0x20 || r == 0x7F:
			b.WriteByte(' ')
		case r >= 0x80 && !g.has(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

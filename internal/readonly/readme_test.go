package readonly_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/readonly"
)

// parens matches a parenthetical note of a README cell (no nesting).
var parens = regexp.MustCompile(`\s*\([^()]*\)`)

// TestREADMEListsTheAllowList reads the README's permissions table and
// checks that each row lists exactly the IAM actions of the allow-list's
// group, in order: the calls a user grants are the calls the guard lets
// through. (reports' TestPermissionsMatchREADME checks the rows' full text,
// notes included, against the same list.)
func TestREADMEListsTheAllowList(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "| service | calls |")
	if start < 0 {
		t.Fatal("README has no permissions table")
	}
	var rows [][2]string
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 2 {
			t.Fatalf("README table row %q", line)
		}
		rows = append(rows, [2]string{strings.TrimSpace(cells[0]), cells[1]})
	}
	if len(rows) != len(readonly.Scanning()) {
		t.Fatalf("README lists %d rows, the allow-list %d groups", len(rows), len(readonly.Scanning()))
	}
	for i, g := range readonly.Scanning() {
		if rows[i][0] != g.Title {
			t.Errorf("row %d is %q, want %q", i, rows[i][0], g.Title)
		}
		var got []string
		for _, name := range strings.Split(parens.ReplaceAllString(rows[i][1], ""), ",") {
			name = strings.Trim(strings.TrimSpace(name), "`")
			if !strings.Contains(name, ":") {
				name = g.Calls[0].Prefix() + ":" + name
			}
			got = append(got, name)
		}
		var want []string
		for _, c := range g.Calls {
			want = append(want, c.Action)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %s: README %v, allow-list %v", g.Title, got, want)
		}
	}
}

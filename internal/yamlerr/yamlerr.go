// Package yamlerr is the error of a YAML document that does not keep its
// format, shared by the framework catalogues (controls.ParseError) and the
// --config file (config.ParseError): one message shape for both.
package yamlerr

import "fmt"

// Error names where a document breaks its format: the file, the line and
// the field, e.g. "posture.yaml:12: waivers[1].expires: want a date
// YYYY-MM-DD, got \"soon\"". Without a file name the place is "line 12";
// without a line, the file alone; without a field, the message follows the
// place directly.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	switch {
	case e.Line > 0 && e.File != "":
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Line > 0:
		loc = fmt.Sprintf("line %d", e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}

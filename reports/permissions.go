package reports

import "github.com/posture-dev/posture/internal/readonly"

// Permission lists the read-only AWS calls the scanner makes for one
// service: a row of the table "The identity needs read access only" of the
// README, so that the PDF reports state the method from the binary that
// made the scan.
type Permission struct {
	Service string
	Calls   string
}

// Permissions returns the README's table of the calls a scan makes, per
// service, in a new slice each call, rendered from the read-only guard's
// allow-list (readonly.Scanning), the one source of the calls.
// TestPermissionsMatchREADME keeps the README's table identical to it.
func Permissions() []Permission {
	scanning := readonly.Scanning()
	out := make([]Permission, len(scanning))
	for i, g := range scanning {
		out[i] = Permission{Service: g.Title, Calls: g.Row()}
	}
	return out
}

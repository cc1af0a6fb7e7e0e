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

// Permissions is the README's table of the calls a scan makes, per service,
// rendered from the read-only guard's allow-list (readonly.Scanning), the
// one source of the calls. TestPermissionsMatchREADME keeps the README's
// table identical to it.
var Permissions = func() []Permission {
	out := make([]Permission, len(readonly.Scanning))
	for i, g := range readonly.Scanning {
		out[i] = Permission{Service: g.Title, Calls: g.Row()}
	}
	return out
}()

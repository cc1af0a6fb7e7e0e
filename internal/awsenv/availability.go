package awsenv

// Service availability: which services AWS offers in which regions.
//
// A region an account has enabled does not offer every service. Scanning a
// service where it does not exist is not a coverage gap (nothing is
// missing) but "not applicable", so the engine asks Offered before running
// a regional scope. The SDK gives no supported way to ask: its endpoint
// rules resolve a hostname for any region of a partition, whether or not
// the service is there, and the per-service endpoint tables that do know
// (service/<svc>/internal/endpoints, generated from AWS's endpoints.json,
// the file botocore ships as botocore/data/endpoints.json) are internal to
// each module. So internal/tools/availability reads those tables from the
// modules in go.mod and writes availability_table.go: the regions where
// each of our services has no endpoint (availabilitySource names the module
// versions). Regenerate it after an SDK upgrade with
// `go generate ./internal/awsenv`; a test fails while it is stale.
//
// As of the SDK versions in go.mod (read 2026-12-03) every service posture
// scans is offered in every launched region of every partition; the table
// lists only regions that AWS has announced but not opened (me-west-1,
// sa-west-1), which no account can enable yet. A region the table does not
// know (one newer than the SDK) counts as offered: if the service is in
// fact absent, the scan shows a gap rather than hiding one.

//go:generate go run ../tools/availability -out availability_table.go

// Offered reports whether AWS offers service (a scanner's Service() name,
// e.g. "ec2") in region. A service or region the table does not name is
// offered.
func Offered(service, region string) bool {
	return !notOffered[service][region]
}

// AvailabilitySource names the SDK endpoint metadata (module versions)
// Offered answers from, for the reports.
func AvailabilitySource() string { return availabilitySource }

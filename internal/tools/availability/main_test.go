package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/posture-dev/posture/scanners"
)

// TestTableIsCurrent regenerates the table from the SDK modules in go.mod
// and compares it with the committed file: an SDK upgrade that changes
// where a service is offered fails here until `go generate
// ./internal/awsenv` is run.
func TestTableIsCurrent(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "awsenv", "availability_table.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("internal/awsenv/availability_table.go is stale; run go generate ./internal/awsenv\ngenerated:\n%s", got)
	}
}

// TestServicesAreTheScanners keeps services equal to the services of the
// scanner registry, so every scanned service has its availability.
func TestServicesAreTheScanners(t *testing.T) {
	var names []string
	for _, sc := range scanners.All() {
		names = append(names, sc.Service())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if !slices.Equal(names, services) {
		t.Errorf("scanners %v, table services %v", names, services)
	}
}

// TestServiceRegionsReadsTheTable reads one service module's table and
// checks facts of it: EC2 has an endpoint in us-east-1 and in GovCloud, and
// IAM is one partition-wide endpoint.
func TestServiceRegionsReadsTheTable(t *testing.T) {
	for svc, check := range map[string]func(map[string]endpointSet) bool{
		"ec2": func(m map[string]endpointSet) bool {
			return m["aws"].regionalized && m["aws"].regions["us-east-1"] && m["aws-us-gov"].regions["us-gov-west-1"] && !m["aws"].regions["us-gov-west-1"]
		},
		"iam": func(m map[string]endpointSet) bool { return !m["aws"].regionalized && m["aws"].regions["aws-global"] },
	} {
		mod, err := locate(sdk + "/service/" + svc)
		if err != nil {
			t.Fatal(err)
		}
		m, err := serviceRegions(filepath.Join(mod.Dir, "internal", "endpoints", "endpoints.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !check(m) {
			t.Errorf("%s: unexpected endpoint table %+v", svc, m["aws"])
		}
	}
}

package s3_test

import (
	"strconv"
	"testing"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/pageproxy"
	"github.com/posture-dev/posture/internal/scantest"
)

// TestListBucketsPages: an unpaginated ListBuckets is refused for accounts
// with more than 10,000 buckets, so the scanner asks for pages
// (MaxBuckets) and follows ContinuationToken. moto returns no token, so a
// proxy splits its answer into pages of 2: 5 buckets take three pages and
// every bucket is judged.
func TestListBucketsPages(t *testing.T) {
	srv := emutest.Fresh(t)
	var specs []bucketSpec
	want := map[scantest.Key]model.Status{}
	for i := range 5 {
		name := "page-bucket-" + strconv.Itoa(i)
		specs = append(specs, bucketSpec{name: name, region: "us-east-1"})
		want[scantest.Key{Check: "s3-bucket-public", Region: "us-east-1", Resource: name}] = model.StatusPass
	}
	createBuckets(t, srv.URL, specs)
	p, err := pageproxy.New(srv.URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)

	scan := scantest.Scan(t, p.URL, []string{"us-east-1"}, "s3-bucket-public")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "s3-bucket-public", want, nil)
	calls := p.Requests("s3", "ListBuckets")
	if len(calls) != 3 {
		t.Fatalf("%d ListBuckets calls, want 3 pages", len(calls))
	}
	for i, c := range calls {
		if c.Query.Get("max-buckets") != "1000" {
			t.Errorf("ListBuckets call %d without max-buckets 1000: %v", i, c.Query)
		}
		if got, want := c.Query.Get("continuation-token"), []string{"", "2", "4"}[i]; got != want {
			t.Errorf("ListBuckets call %d continuation-token %q, want %q", i, got, want)
		}
	}
}

package sqs_test

import (
	"testing"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/pageproxy"
	"github.com/posture-dev/posture/internal/scantest"
)

// TestListQueuesPages: without MaxResults, ListQueues returns at most 1,000
// queues and no NextToken. The scanner must ask for pages (MaxResults 1000)
// and follow NextToken. moto answers in one piece, so a proxy splits its
// answer into pages of 2, standing in for the 1,000 cap: 7 queues in
// us-east-1 take four pages, and every queue is judged.
func TestListQueuesPages(t *testing.T) {
	srv := emutest.Fresh(t)
	want := seed(t, srv.URL, map[string]model.Status{"extra-1": model.StatusFail, "extra-2": model.StatusFail, "extra-3": model.StatusFail, "extra-4": model.StatusFail})
	p, err := pageproxy.New(srv.URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)

	scan := scantest.Scan(t, p.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	calls := p.Requests("sqs", "ListQueues")
	// us-east-1: 7 queues in pages of 2 (4 calls); eu-west-1: 3 queues (2 calls).
	if len(calls) != 6 {
		t.Errorf("%d ListQueues calls, want 6", len(calls))
	}
	tokens := 0
	for _, c := range calls {
		if c.Params["MaxResults"] != float64(1000) {
			t.Errorf("ListQueues without MaxResults 1000: %v", c.Params)
		}
		if c.Params["NextToken"] != nil {
			tokens++
		}
	}
	if tokens != 4 {
		t.Errorf("%d ListQueues calls followed a NextToken, want 4", tokens)
	}
}

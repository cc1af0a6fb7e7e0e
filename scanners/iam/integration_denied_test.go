package iam_test

import (
	"context"
	"testing"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	iamscanner "github.com/posture-dev/posture/scanners/iam"
)

// TestDeniedListsLeaveNoUsersAndNoCertificates: when ListUsers and
// ListServerCertificates are denied, the inventory has no user and no
// certificate list at all (nil, not an empty list that would read as "none
// in the account"), and each denial is a gap of its part.
func TestDeniedListsLeaveNoUsersAndNoCertificates(t *testing.T) {
	srv := emutest.Fresh(t)
	p, err := faultproxy.New(srv.URL,
		faultproxy.Rule{Service: "iam", Action: "ListUsers", Fault: faultproxy.AccessDenied},
		faultproxy.Rule{Service: "iam", Action: "ListServerCertificates", Fault: faultproxy.AccessDenied},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	scope := check.Scope{AccountID: "123456789012", Partition: "aws", Region: model.GlobalRegion, Config: emutest.Config(t, p.URL, "us-east-1")}
	gaps := &check.Gaps{}
	inv := iamscanner.Scanner().Collect(context.Background(), scope, gaps)
	if inv.Users != nil || inv.ServerCertificates != nil {
		t.Errorf("users %#v, server certificates %#v: want nil for both", inv.Users, inv.ServerCertificates)
	}
	for part, op := range map[string]string{iamscanner.PartUsers: "ListUsers", iamscanner.PartServerCertificates: "ListServerCertificates"} {
		if g, ok := gaps.Part(part); !ok || g.Operation != op || check.ErrorCode(g.Err) != "AccessDenied" {
			t.Errorf("gap of %s = %+v, %v; want %s AccessDenied", part, g, ok, op)
		}
	}
	if got := p.Injected()[faultproxy.AccessDenied]; got != 2 {
		t.Errorf("%d denials injected, want 2 (one per list call)", got)
	}
}

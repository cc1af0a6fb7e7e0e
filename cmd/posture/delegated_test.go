package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// TestDelegatedAdministratorCannotAssumeIntoManagement scans the
// organization from a member account (as a delegated administrator does)
// while the management account has no OrganizationAccountAccessRole (its
// AssumeRole is denied, as AWS denies a role that does not exist): the
// management account is reached through the role like any other, its gap
// names the role tried, the AWS code and why the role is missing there, and
// every other account is scanned. The emulator's ListAccounts answers only
// the management account, so the accounts are given with --accounts; the
// management account is found with DescribeOrganization from the member.
func TestDelegatedAdministratorCannotAssumeIntoManagement(t *testing.T) {
	srv := emutest.Fresh(t)
	o := newOrg(t, srv.URL)
	admin := o.members[0]
	creds := o.assume(t, admin)
	if got := faultproxy.AccountOfKey(creds.AccessKeyID); got != admin {
		t.Fatalf("the member's access key is of account %q, want %s", got, admin)
	}
	roleARN := awsenv.RoleARN("aws", management, awsenv.DefaultRoleName)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "sts", Action: "AssumeRole",
		BodyContains: url.QueryEscape(roleARN), Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	all := append([]string{management}, o.members...)
	out := filepath.Join(t.TempDir(), "out")
	run := runCLI(t, []string{"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + creds.SessionToken},
		"scan", "--endpoint-url", p.URL, "--regions", "us-east-1,eu-west-1", "--checks", orgChecks, "--out", out,
		"--accounts", strings.Join(all, ","))
	if run.code != exitGaps {
		t.Fatalf("exit %d, want %d\n%s", run.code, exitGaps, run.stderr)
	}
	if p.Injected()[faultproxy.AccessDenied] == 0 {
		t.Fatal("the proxy denied nothing: the management account was not reached through its role")
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scan.Scan.Principal, admin) {
		t.Errorf("principal %q is not the member %s", scan.Scan.Principal, admin)
	}

	gaps := scan.Gaps()
	if len(gaps) != 1 {
		t.Fatalf("want one gap (the management account), got %+v", gaps)
	}
	g := gaps[0]
	if g.AccountID != management || g.Service != model.ServiceAccount || g.Region != model.GlobalRegion ||
		len(g.Failures) != 1 || g.Failures[0].Code != "AccessDenied" || g.Failures[0].Operation != "AssumeRole" {
		t.Fatalf("gap %+v", g)
	}
	for _, want := range []string{
		"AssumeRole: could not assume role " + roleARN + " (AccessDenied",
		"account " + management + " is the organization's management account",
		"AWS Organizations creates OrganizationAccountAccessRole only in the member accounts it creates, never in the management account",
		"deploy the scanning role there, or pass --role-name of a role that exists in every account",
	} {
		if !strings.Contains(g.Error, want) {
			t.Errorf("gap text lacks %q:\n%s", want, g.Error)
		}
		if !strings.Contains(g.Failures[0].Error, strings.TrimPrefix(want, "AssumeRole: ")) {
			t.Errorf("failure text lacks %q:\n%s", want, g.Failures[0].Error)
		}
	}

	// Every member, the caller's own account included, is scanned: each
	// seeded resource fails in its account and region; the management
	// account has one ERROR per check and nothing else.
	perAccount := map[string]int{}
	for _, r := range scan.Results {
		perAccount[r.AccountID]++
		if r.AccountID == management && (r.Status != model.StatusError || r.Region != model.GlobalRegion ||
			!strings.Contains(r.Message, "could not assume role "+roleARN)) {
			t.Errorf("management result %+v", r)
		}
	}
	if n := perAccount[management]; n != len(strings.Split(orgChecks, ",")) {
		t.Errorf("management account: %d results, want one ERROR per check", n)
	}
	for _, s := range o.seeded {
		if s.account == management {
			continue
		}
		found := 0
		for _, r := range scan.Results {
			if r.CheckID == s.check && r.ResourceID == s.resource && r.AccountID == s.account && r.Region == s.region && r.Status == model.StatusFail {
				found++
			}
		}
		if found != 1 {
			t.Errorf("seeded %+v: %d FAIL results, want 1", s, found)
		}
	}
	for _, id := range o.members {
		if perAccount[id] == 0 {
			t.Errorf("member %s has no results", id)
		}
	}
}

package awsenv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestAccountRegions(t *testing.T) {
	tests := []struct {
		name              string
		requested         []string
		known             []Region
		regions, disabled []string
		wantErr           string
	}{
		{name: "all is the account's enabled regions", requested: []string{"all"}, known: known,
			regions: []string{"ap-east-1", "eu-central-1", "eu-west-1", "us-east-1"}},
		{name: "explicit, one not enabled", requested: []string{"us-east-1", "af-south-1", "eu-west-1"}, known: known,
			regions: []string{"eu-west-1", "us-east-1"}, disabled: []string{"af-south-1"}},
		{name: "explicit, unknown to the account", requested: []string{"eu-west-9"}, known: known,
			disabled: []string{"eu-west-9"}},
		{name: "explicit, regions unknown", requested: []string{"us-east-1", "af-south-1"}, known: nil,
			regions: []string{"af-south-1", "us-east-1"}},
		{name: "all, nothing enabled", requested: nil, known: []Region{{Name: "af-south-1", OptInStatus: "not-opted-in"}},
			wantErr: "no enabled region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regions, disabled, err := AccountRegions(tt.requested, tt.known, "aws")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(regions, tt.regions) || !reflect.DeepEqual(disabled, tt.disabled) {
				t.Errorf("AccountRegions = %v, %v, %v; want %v, %v", regions, disabled, err, tt.regions, tt.disabled)
			}
		})
	}
}

func TestSessionNameAndRoleARN(t *testing.T) {
	for in, want := range map[string]string{
		"0.1.0-dev":              "posture-0.1.0-dev",
		"1.2.3+build/7 (dirty)":  "posture-1.2.3+build_7__dirty_",
		strings.Repeat("x", 100): "posture-" + strings.Repeat("x", 56),
	} {
		if got := SessionName("posture", in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RoleARN("", "111111111111", "OrganizationAccountAccessRole"); got != "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole" {
		t.Errorf("RoleARN = %s", got)
	}
	if got := RoleARN("aws-cn", "111111111111", "/audit/Scanner"); got != "arn:aws-cn:iam::111111111111:role/audit/Scanner" {
		t.Errorf("RoleARN with path = %s", got)
	}
	if MinRoleDuration != 15*time.Minute || MaxRoleDuration != 12*time.Hour {
		t.Error("role duration bounds")
	}
}

// TestRoleErrorExplain: the gap text names the role tried and the AWS code
// and message without request IDs, and for the management account why the
// role is missing there and what to do, for the default role and another.
func TestRoleErrorExplain(t *testing.T) {
	denied := &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}
	arn := RoleARN("aws", "111111111111", DefaultRoleName)
	member := &RoleError{Account: "111111111111", RoleARN: arn, Err: denied}
	if got, want := member.Explain(), "could not assume role "+arn+" (AccessDenied: not authorized to perform sts:AssumeRole)"; got != want {
		t.Errorf("member: %q, want %q", got, want)
	}
	if !errors.Is(member, denied) || !strings.Contains(member.Error(), arn) {
		t.Errorf("Error %q does not name the role or unwrap to the SDK error", member.Error())
	}
	mgmt := &RoleError{Account: "111111111111", RoleARN: arn, Management: true, Err: denied}
	if got, want := mgmt.Explain(), member.Explain()+"; account 111111111111 is the organization's management account: AWS Organizations "+
		"creates OrganizationAccountAccessRole only in the member accounts it creates, never in the management account; deploy the "+
		"scanning role there, or pass --role-name of a role that exists in every account"; got != want {
		t.Errorf("management:\n%q\nwant\n%q", got, want)
	}
	custom := &RoleError{Account: "111111111111", RoleARN: RoleARN("aws", "111111111111", "audit/Scanner"), Management: true, Err: denied}
	for _, want := range []string{"role arn:aws:iam::111111111111:role/audit/Scanner (AccessDenied", "management account",
		"deploy audit/Scanner there too", "--role-name of a role that exists in every account"} {
		if !strings.Contains(custom.Explain(), want) {
			t.Errorf("custom role: %q lacks %q", custom.Explain(), want)
		}
	}
	plain := &RoleError{Account: "111111111111", RoleARN: arn, Err: errors.New("dial tcp: connection refused")}
	if got := plain.Explain(); got != "could not assume role "+arn+" (dial tcp: connection refused)" {
		t.Errorf("non-API error: %q", got)
	}
}

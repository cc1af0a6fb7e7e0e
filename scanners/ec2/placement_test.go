package ec2

import (
	"reflect"
	"testing"

	"github.com/posture-dev/posture/internal/model"
)

func TestInstanceOutsideVPC(t *testing.T) {
	tests := []struct {
		name     string
		inst     Instance
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"EC2-Classic: no VPC", Instance{ID: "i-classic", State: "running"}, model.StatusFail,
			"instance i-classic is not in a VPC (EC2-Classic)",
			map[string]any{"state": "running", "vpc_id": "", "subnet_id": ""}},
		{"stopped classic instance still fails", Instance{ID: "i-classic", Name: "legacy", State: "stopped"}, model.StatusFail,
			"instance i-classic is not in a VPC (EC2-Classic)",
			map[string]any{"state": "stopped", "vpc_id": "", "subnet_id": "", "name": "legacy"}},
		{"in a VPC", Instance{ID: "i-vpc", State: "running", VPCID: "vpc-1", SubnetID: "subnet-1"}, model.StatusPass,
			"instance i-vpc runs in VPC vpc-1",
			map[string]any{"state": "running", "vpc_id": "vpc-1", "subnet_id": "subnet-1"}},
		{"VPC without a subnet reported", Instance{ID: "i-vpc", VPCID: "vpc-1"}, model.StatusPass,
			"instance i-vpc runs in VPC vpc-1",
			map[string]any{"state": "", "vpc_id": "vpc-1", "subnet_id": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: "aws", Instances: []Instance{tt.inst}}
			f := one(t, evalCheck(t, "ec2-instance-outside-vpc", inv), tt.inst.ID)
			if f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q, want %s %q", f.Status, f.Message, tt.status, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
			if want := "arn:aws:ec2:eu-west-1:111122223333:instance/" + tt.inst.ID; f.ResourceARN != want {
				t.Errorf("ARN = %q, want %q", f.ResourceARN, want)
			}
		})
	}
}

func TestInstanceOutsideVPCEveryInstance(t *testing.T) {
	inv := &Inventory{AccountID: acct, Region: region, Partition: "aws-cn", Instances: []Instance{
		{ID: "i-1", VPCID: "vpc-1"}, {ID: "i-2"}, {ID: "i-3", VPCID: "vpc-2"},
	}}
	got := evalCheck(t, "ec2-instance-outside-vpc", inv)
	want := []model.Status{model.StatusPass, model.StatusFail, model.StatusPass}
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Status != w || got[i].ResourceID != inv.Instances[i].ID {
			t.Errorf("finding %d = %s %s, want %s %s", i, got[i].ResourceID, got[i].Status, inv.Instances[i].ID, w)
		}
	}
	if got[1].ResourceARN != "arn:aws-cn:ec2:eu-west-1:111122223333:instance/i-2" {
		t.Errorf("ARN = %q", got[1].ResourceARN)
	}
	if len(evalCheck(t, "ec2-instance-outside-vpc", &Inventory{AccountID: acct, Region: region})) != 0 {
		t.Error("no instances must give no findings")
	}
}

func TestInstanceInDefaultVPC(t *testing.T) {
	vpcs := []VPC{{ID: "vpc-default", IsDefault: true}, {ID: "vpc-app"}}
	tests := []struct {
		name       string
		vpcs       []VPC
		inst       Instance
		status     model.Status
		msg        string
		defaultVPC any
	}{
		{"in the default VPC", vpcs, Instance{ID: "i-1", State: "running", VPCID: "vpc-default", SubnetID: "subnet-d"}, model.StatusFail,
			"instance i-1 runs in the default VPC vpc-default", "vpc-default"},
		{"in another VPC", vpcs, Instance{ID: "i-1", State: "running", VPCID: "vpc-app"}, model.StatusPass,
			"instance i-1 runs in VPC vpc-app, not the default VPC", "vpc-default"},
		{"in a VPC the inventory does not list", vpcs, Instance{ID: "i-1", VPCID: "vpc-shared"}, model.StatusPass,
			"instance i-1 runs in VPC vpc-shared, not the default VPC", "vpc-default"},
		{"region without a default VPC", []VPC{{ID: "vpc-app"}}, Instance{ID: "i-1", VPCID: "vpc-app"}, model.StatusPass,
			"not the default VPC", "none"},
		{"no VPCs at all", nil, Instance{ID: "i-1", VPCID: "vpc-app"}, model.StatusPass, "not the default VPC", "none"},
		{"EC2-Classic instance is not in the default VPC", vpcs, Instance{ID: "i-1"}, model.StatusPass,
			"instance i-1 is in no VPC, so not in the default VPC (see ec2-instance-outside-vpc)", "vpc-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: "aws", VPCs: tt.vpcs, Instances: []Instance{tt.inst}}
			f := one(t, evalCheck(t, "ec2-instance-in-default-vpc", inv), tt.inst.ID)
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", f.Status, f.Message, tt.status)
			}
			mustContain(t, "message", f.Message, tt.msg)
			if !reflect.DeepEqual(f.Evidence["default_vpc_id"], tt.defaultVPC) || f.Evidence["vpc_id"] != tt.inst.VPCID {
				t.Errorf("evidence = %#v", f.Evidence)
			}
			if f.ResourceARN != "arn:aws:ec2:eu-west-1:111122223333:instance/i-1" {
				t.Errorf("ARN = %q", f.ResourceARN)
			}
		})
	}
}

func TestInstanceInDefaultVPCEveryInstance(t *testing.T) {
	inv := &Inventory{AccountID: acct, Region: region, VPCs: []VPC{{ID: "vpc-d", IsDefault: true}, {ID: "vpc-a"}},
		Instances: []Instance{{ID: "i-1", VPCID: "vpc-d"}, {ID: "i-2", VPCID: "vpc-a"}, {ID: "i-3", VPCID: "vpc-d"}}}
	got := evalCheck(t, "ec2-instance-in-default-vpc", inv)
	if len(got) != 3 || got[0].Status != model.StatusFail || got[1].Status != model.StatusPass || got[2].Status != model.StatusFail {
		t.Fatalf("findings = %+v", got)
	}
	if len(evalCheck(t, "ec2-instance-in-default-vpc", &Inventory{VPCs: inv.VPCs})) != 0 {
		t.Error("no instances must give no findings")
	}
}

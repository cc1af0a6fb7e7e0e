package ec2

import (
	"fmt"

	"github.com/posture-dev/posture/internal/check"
)

// instanceEvidence is what the VPC placement checks saw of an instance.
func instanceEvidence(inst Instance) map[string]any {
	evidence := map[string]any{"state": inst.State, "vpc_id": inst.VPCID, "subnet_id": inst.SubnetID}
	if inst.Name != "" {
		evidence["name"] = inst.Name
	}
	return evidence
}

// instanceOutsideVPCCheck fails an instance that reports no VPC: an
// EC2-Classic instance, outside every network control a VPC gives.
func instanceOutsideVPCCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, inst := range inv.Instances {
		id, a := inst.ID, arn(inv, "instance/"+inst.ID)
		evidence := instanceEvidence(inst)
		if inst.VPCID == "" {
			out = append(out, check.Fail(id, a, fmt.Sprintf("instance %s is not in a VPC (EC2-Classic)", inst.ID), evidence))
			continue
		}
		out = append(out, check.Pass(id, a, fmt.Sprintf("instance %s runs in VPC %s", inst.ID, inst.VPCID), evidence))
	}
	return out
}

// instanceInDefaultVPCCheck fails an instance that runs in the region's
// default VPC. An instance in no VPC at all passes here: it is not in the
// default VPC, and ec2-instance-outside-vpc reports it.
func instanceInDefaultVPCCheck(inv *Inventory) []check.Finding {
	defaults := map[string]bool{}
	var defaultIDs []string
	for _, v := range inv.VPCs {
		if v.IsDefault {
			defaults[v.ID] = true
			defaultIDs = append(defaultIDs, v.ID)
		}
	}
	var defaultVPC any = "none"
	switch len(defaultIDs) {
	case 0:
	case 1:
		defaultVPC = defaultIDs[0]
	default:
		defaultVPC = defaultIDs
	}
	var out []check.Finding
	for _, inst := range inv.Instances {
		id, a := inst.ID, arn(inv, "instance/"+inst.ID)
		evidence := instanceEvidence(inst)
		evidence["default_vpc_id"] = defaultVPC
		switch {
		case defaults[inst.VPCID]:
			out = append(out, check.Fail(id, a, fmt.Sprintf("instance %s runs in the default VPC %s", inst.ID, inst.VPCID), evidence))
		case inst.VPCID == "":
			out = append(out, check.Pass(id, a, fmt.Sprintf("instance %s is in no VPC, so not in the default VPC (see ec2-instance-outside-vpc)", inst.ID), evidence))
		default:
			out = append(out, check.Pass(id, a, fmt.Sprintf("instance %s runs in VPC %s, not the default VPC", inst.ID, inst.VPCID), evidence))
		}
	}
	return out
}

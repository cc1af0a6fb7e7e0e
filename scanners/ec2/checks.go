package ec2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// Scanner returns the EC2 scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "ec2", Collect: Collect, List: Checks()}
}

const (
	sgType       = "AWS::EC2::SecurityGroup"
	naclType     = "AWS::EC2::NetworkAcl"
	instanceType = "AWS::EC2::Instance"
	snapshotType = "AWS::EC2::Snapshot"
	volumeType   = "AWS::EC2::Volume"
	accountType  = "AWS::::Account"
	ebsEncDoc    = "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html"
	sgDoc        = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html"
	naclDoc      = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html"
)

// Checks returns the EC2 checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "ec2-sg-open-admin-port", Title: "Security group admits the internet to SSH or RDP",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityCritical, ResourceType: sgType,
				Rationale:   "SSH (22) and RDP (3389) open to 0.0.0.0/0 or ::/0 expose remote administration to brute force and to every new vulnerability of those services.",
				Remediation: "Remove the ingress rule, or restrict its source to known administration ranges; prefer Session Manager or a bastion reached over VPN.",
				References:  []string{sgDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-13"},
			},
			Needs: []string{PartSecurityGroups},
			Reads: []string{PartPrefixLists},
			Eval: func(inv *Inventory) []check.Finding {
				return sgPortCheck(inv, AdminPorts(), "an administration port (22, 3389)")
			},
		},
		{
			Meta: check.Meta{
				ID: "ec2-sg-open-database-port", Title: "Security group admits the internet to a database or cache port",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityHigh, ResourceType: sgType,
				Rationale:   "Database and cache engines reachable from anywhere are found by scanners within minutes and are a common cause of data breaches and ransom wipes.",
				Remediation: "Remove the ingress rule; allow the port only from the application's security group or private ranges.",
				References:  []string{sgDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19"},
			},
			Needs: []string{PartSecurityGroups},
			Reads: []string{PartPrefixLists},
			Eval: func(inv *Inventory) []check.Finding {
				return sgPortCheck(inv, DatabasePorts(), "a database or cache port")
			},
		},
		{
			Meta: check.Meta{
				ID: "ec2-sg-open-all-ports", Title: "Security group admits the internet on all ports or protocols",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityCritical, ResourceType: sgType,
				Rationale:   "A rule admitting every port or protocol from the internet exposes every service on the attached resources, including ones nobody meant to publish.",
				Remediation: "Replace the rule with rules for the specific ports the service needs.",
				References:  []string{sgDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18"},
			},
			Needs: []string{PartSecurityGroups},
			Reads: []string{PartPrefixLists},
			Eval:  sgAllPortsCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-sg-default-not-restricted", Title: "Default security group of a VPC has rules",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityMedium, ResourceType: sgType,
				Rationale:   "Resources launched without an explicit group land in the VPC's default group; with rules in it they get access nobody chose for them.",
				Remediation: "Remove every inbound and outbound rule from the default security group and use purpose-made groups.",
				References:  []string{"https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2"},
			},
			Needs: []string{PartSecurityGroups},
			Eval:  defaultSGCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-nacl-open-admin-port", Title: "Network ACL admits the internet to SSH or RDP",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityMedium, ResourceType: naclType,
				Rationale:   "A network ACL is the subnet-wide layer of defence; one that admits SSH or RDP from anywhere leaves only security groups between the internet and the hosts.",
				Remediation: "Add inbound deny entries for TCP 22 and 3389 from 0.0.0.0/0 and ::/0 numbered before any allow entry, or narrow the allow entries.",
				References:  []string{naclDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-21"},
			},
			Needs: []string{PartNetworkACLs},
			Eval:  naclAdminCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-instance-internet-exposed", Title: "Instance reachable from the internet on an admin or database port",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityCritical, ResourceType: instanceType,
				Rationale:   "An instance with a public address, a route to an internet gateway, and a security group and network ACL that both admit an admin or database port can be attacked directly from anywhere.",
				Remediation: "Remove the public address or the internet route, or close the port in the security group (and network ACL); reach the instance through a load balancer, VPN or Session Manager.",
				References:  []string{"https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html", sgDoc, naclDoc},
			},
			Needs: []string{PartInstances, PartRouteTables, PartSecurityGroups, PartNetworkACLs},
			Reads: []string{PartPrefixLists},
			Eval:  instanceExposureCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-snapshot-public", Title: "EBS snapshot is restorable by anyone",
				Family: model.FamilyPublicExposure, Service: "ec2", Severity: model.SeverityCritical, ResourceType: snapshotType,
				Rationale:   "A public snapshot can be copied into any AWS account, with every file of the disk it was taken from.",
				Remediation: "Remove the 'all' group from the snapshot's createVolumePermission (ModifySnapshotAttribute), and enable block public access for EBS snapshots in the region.",
				References:  []string{"https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-1"},
			},
			Needs: []string{PartSnapshots},
			Reads: []string{PartSnapshotPermissions},
			Eval:  snapshotPublicCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-instance-outside-vpc", Title: "Instance is not in a VPC (EC2-Classic)",
				Family: model.FamilyOutsideVPC, Service: "ec2", Severity: model.SeverityHigh, ResourceType: instanceType,
				Rationale:   "An EC2-Classic instance shares a flat network with other customers' instances and has none of a VPC's controls: no network ACLs, no private subnets, no flow logs, no egress security group rules.",
				Remediation: "Migrate the instance into a VPC (launch a replacement from an AMI of it in a VPC subnet); EC2-Classic is retired.",
				References:  []string{"https://docs.aws.amazon.com/vpc/latest/userguide/what-is-amazon-vpc.html", "https://aws.amazon.com/blogs/aws/ec2-classic-is-retiring-heres-how-to-prepare/"},
			},
			Needs: []string{PartInstances},
			Eval:  instanceOutsideVPCCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-instance-in-default-vpc", Title: "Instance runs in the region's default VPC",
				Family: model.FamilyOutsideVPC, Service: "ec2", Severity: model.SeverityLow, ResourceType: instanceType,
				Rationale:   "The default VPC is created by AWS with public subnets that give every instance a public IP and an open default security group; workloads placed there get a network nobody designed.",
				Remediation: "Move the workload into a purpose-built VPC with private subnets, and consider deleting the default VPC in regions you use.",
				References:  []string{"https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html", "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-best-practices.html"},
			},
			Needs: []string{PartInstances, PartVPCs},
			Eval:  instanceInDefaultVPCCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-ebs-volume-unencrypted", Title: "EBS volume is not encrypted",
				Family: model.FamilyUnencrypted, Service: "ec2", Severity: model.SeverityHigh, ResourceType: volumeType,
				Rationale:   "An unencrypted volume, its snapshots and every copy of them hold the disk's data in clear text, readable by anyone who obtains a copy.",
				Remediation: "Create an encrypted snapshot copy of the volume, restore an encrypted volume from it and swap it in; turn on EBS encryption by default so new volumes are encrypted.",
				References:  []string{ebsEncDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-3"},
			},
			Needs: []string{PartVolumes},
			Eval:  volumeUnencryptedCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-ebs-default-encryption-off", Title: "EBS encryption by default is off in the region",
				Family: model.FamilyUnencrypted, Service: "ec2", Severity: model.SeverityMedium, ResourceType: accountType,
				Rationale:   "Without encryption by default, every new volume and snapshot copy is unencrypted unless its creator remembers to ask for encryption.",
				Remediation: "Turn on EBS encryption by default in the region (EC2 console, Account attributes, or EnableEbsEncryptionByDefault) and choose the default KMS key.",
				References:  []string{"https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-7"},
			},
			Needs: []string{PartEBSDefaults},
			Eval:  ebsDefaultEncryptionCheck,
		},
		{
			Meta: check.Meta{
				ID: "ec2-ebs-snapshot-unencrypted", Title: "EBS snapshot is not encrypted",
				Family: model.FamilyUnencrypted, Service: "ec2", Severity: model.SeverityMedium, ResourceType: snapshotType,
				Rationale:   "An unencrypted snapshot holds a full copy of a disk in clear text, and every volume restored from it is unencrypted too.",
				Remediation: "Copy the snapshot with encryption enabled (CopySnapshot with Encrypted and a KMS key), then delete the unencrypted original.",
				References:  []string{ebsEncDoc, "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html"},
			},
			Needs: []string{PartSnapshots},
			Eval:  snapshotUnencryptedCheck,
		},
	}
}

func arn(inv *Inventory, resource string) string {
	return check.ARN(inv.Partition, "ec2", inv.Region, inv.AccountID, resource)
}

func openingsEvidence(openings []Opening) []map[string]any {
	out := make([]map[string]any, len(openings))
	for i, o := range openings {
		out[i] = o.Evidence()
	}
	return out
}

// sgJudgement turns a group's openings into its finding: FAIL when it
// admits the internet, ERROR when that hangs on a prefix list whose entries
// could not be read, else PASS.
func sgJudgement(inv *Inventory, sg SecurityGroup, o Openings, what string) check.Finding {
	id, a := sg.ID, arn(inv, "security-group/"+sg.ID)
	evidence := map[string]any{"group_name": sg.Name, "vpc_id": sg.VPCID}
	switch {
	case len(o.Open) > 0:
		evidence["open_rules"] = openingsEvidence(o.Open)
		return check.Fail(id, a, fmt.Sprintf("security group %s (%s) admits 0.0.0.0/0 or ::/0 to %s", sg.ID, sg.Name, what), evidence)
	case len(o.Unknown) > 0:
		evidence["unreadable_prefix_lists"] = o.Unknown
		return check.Error(id, a, fmt.Sprintf("could not tell whether security group %s (%s) admits the internet to %s: %s",
			sg.ID, sg.Name, what, unknownText(o.Unknown)), evidence)
	}
	evidence["ingress_rules"] = len(sg.Ingress)
	return check.Pass(id, a, fmt.Sprintf("no ingress rule of %s (%s) admits the internet to %s", sg.ID, sg.Name, what), evidence)
}

// unknownText says which prefix lists could not be read, sorted by ID.
func unknownText(unknown map[string]string) string {
	ids := make([]string, 0, len(unknown))
	for id := range unknown {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("prefix list %s could not be read (%s)", id, unknown[id])
	}
	return strings.Join(parts, "; ")
}

func sgPortCheck(inv *Inventory, ports []int32, what string) []check.Finding {
	lists := IndexPrefixLists(inv.PrefixLists)
	var out []check.Finding
	for _, sg := range inv.SecurityGroups {
		out = append(out, sgJudgement(inv, sg, OpenTCPPorts([]SecurityGroup{sg}, lists, ports), what))
	}
	return out
}

func sgAllPortsCheck(inv *Inventory) []check.Finding {
	lists := IndexPrefixLists(inv.PrefixLists)
	var out []check.Finding
	for _, sg := range inv.SecurityGroups {
		f := sgJudgement(inv, sg, OpenAllPorts([]SecurityGroup{sg}, lists), "all ports")
		if f.Status == model.StatusFail {
			f.Message = fmt.Sprintf("security group %s (%s) admits 0.0.0.0/0 or ::/0 on all ports or protocols", sg.ID, sg.Name)
		}
		if f.Status == model.StatusPass {
			f.Message = fmt.Sprintf("no ingress rule of %s (%s) admits the internet on all ports", sg.ID, sg.Name)
		}
		out = append(out, f)
	}
	return out
}

func defaultSGCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, sg := range inv.SecurityGroups {
		if sg.Name != "default" {
			continue
		}
		id, a := sg.ID, arn(inv, "security-group/"+sg.ID)
		evidence := map[string]any{"vpc_id": sg.VPCID, "ingress_rules": len(sg.Ingress), "egress_rules": len(sg.Egress)}
		if len(sg.Ingress)+len(sg.Egress) > 0 {
			var rules []string
			for _, p := range sg.Ingress {
				rules = append(rules, "ingress "+describeRule(p.Protocol, p.FromPort, p.ToPort)+sources(p))
			}
			for _, p := range sg.Egress {
				rules = append(rules, "egress "+describeRule(p.Protocol, p.FromPort, p.ToPort)+sources(p))
			}
			evidence["rules"] = rules
			out = append(out, check.Fail(id, a,
				fmt.Sprintf("default security group %s of %s has %d inbound and %d outbound rules", sg.ID, sg.VPCID, len(sg.Ingress), len(sg.Egress)),
				evidence))
			continue
		}
		out = append(out, check.Pass(id, a, fmt.Sprintf("default security group %s of %s has no rules", sg.ID, sg.VPCID), evidence))
	}
	return out
}

// sources renders a permission's peers for evidence, e.g. " from 0.0.0.0/0, sg-1".
func sources(p Permission) string {
	var all []string
	all = append(all, p.IPv4Ranges...)
	all = append(all, p.IPv6Ranges...)
	all = append(all, p.PrefixListIDs...)
	all = append(all, p.SourceGroupIDs...)
	if len(all) == 0 {
		return ""
	}
	return " with " + strings.Join(all, ", ")
}

func naclAdminCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, acl := range inv.NetworkACLs {
		id, a := acl.ID, arn(inv, "network-acl/"+acl.ID)
		var open []map[string]any
		var decisions []string
		for _, ipv6 := range []bool{false, true} {
			for _, port := range AdminPorts() {
				d := InboundFromInternet(acl, port, ipv6)
				src := AnyIPv4
				if ipv6 {
					src = AnyIPv6
				}
				decisions = append(decisions, fmt.Sprintf("tcp %d from %s: %s", port, src, d.Entry))
				if d.Allowed {
					open = append(open, map[string]any{"port": port, "source": src, "rule_number": d.Rule, "entry": d.Entry})
				}
			}
		}
		evidence := map[string]any{"vpc_id": acl.VPCID, "is_default": acl.IsDefault, "subnets": acl.SubnetIDs, "decisions": decisions}
		if len(open) > 0 {
			evidence["open"] = open
			out = append(out, check.Fail(id, a,
				fmt.Sprintf("network ACL %s admits the internet to an administration port (first matching inbound rule allows)", acl.ID), evidence))
			continue
		}
		out = append(out, check.Pass(id, a,
			fmt.Sprintf("network ACL %s denies the internet on TCP 22 and 3389", acl.ID), evidence))
	}
	return out
}

func snapshotPublicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range inv.Snapshots {
		id, a := s.ID, snapshotARN(inv, s.ID)
		evidence := map[string]any{"volume_id": s.VolumeID, "encrypted": s.Encrypted}
		if len(s.SharedWith) > 0 {
			evidence["shared_with_accounts"] = s.SharedWith
		}
		switch {
		case s.PermissionsError != "":
			out = append(out, check.Error(id, a, "could not read the snapshot's createVolumePermission: "+s.PermissionsError, evidence))
		case s.Public:
			evidence["create_volume_permission"] = "group all"
			out = append(out, check.Fail(id, a, fmt.Sprintf("snapshot %s is restorable by all AWS accounts (createVolumePermission group all)", s.ID), evidence))
		default:
			out = append(out, check.Pass(id, a, fmt.Sprintf("snapshot %s is not public", s.ID), evidence))
		}
	}
	return out
}

package demo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// network creates EC2 resources in one region and records them in inv.
type network struct {
	ec2    *ec2.Client
	region string
	inv    *Inventory
}

// tags returns the tag specification for a new resource: its Name plus the
// demo's common tags.
func tags(rt types.ResourceType, name, env string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: tagList(name, env)}}
}

func tagList(name, env string) []types.Tag {
	return []types.Tag{
		{Key: aws.String("Name"), Value: aws.String(name)},
		{Key: aws.String("Environment"), Value: aws.String(env)},
		{Key: aws.String("Owner"), Value: aws.String("platform@acme.example")},
	}
}

func (n *network) errf(what, name string, err error) error {
	return fmt.Errorf("demo: %s %s in %s: %w", what, name, n.region, err)
}

// vpc creates a VPC named name.
func (n *network) vpc(ctx context.Context, role, name, env, cidr string) (string, error) {
	out, err := n.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(cidr),
		TagSpecifications: tags(types.ResourceTypeVpc, name, env),
	})
	if err != nil {
		return "", n.errf("create VPC", name, err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	n.inv.put(n.inv.VPCs, role, id, n.region)
	return id, nil
}

// subnet creates a subnet; public subnets map a public IP on launch.
func (n *network) subnet(ctx context.Context, role, name, env, vpc, cidr, az string, public bool) (string, error) {
	out, err := n.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId:             aws.String(vpc),
		CidrBlock:         aws.String(cidr),
		AvailabilityZone:  aws.String(az),
		TagSpecifications: tags(types.ResourceTypeSubnet, name, env),
	})
	if err != nil {
		return "", n.errf("create subnet", name, err)
	}
	id := aws.ToString(out.Subnet.SubnetId)
	if public {
		if _, err := n.ec2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
			SubnetId:            aws.String(id),
			MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)},
		}); err != nil {
			return "", n.errf("enable MapPublicIpOnLaunch on subnet", name, err)
		}
	}
	n.inv.put(n.inv.Subnets, role, id, n.region)
	return id, nil
}

// internetRoute gives subnets a route 0.0.0.0/0 to a new internet gateway
// attached to vpc (moto creates VPCs without one). prefix names the IGW and
// route table roles ("<prefix>-igw", "<prefix>-public-rt").
func (n *network) internetRoute(ctx context.Context, prefix, name, env, vpc string, subnets ...string) error {
	igw, err := n.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: tags(types.ResourceTypeInternetGateway, name+"-igw", env),
	})
	if err != nil {
		return n.errf("create internet gateway", name+"-igw", err)
	}
	igwID := aws.ToString(igw.InternetGateway.InternetGatewayId)
	n.inv.put(n.inv.InternetGateways, prefix+"-igw", igwID, n.region)
	if _, err := n.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpc),
	}); err != nil {
		return n.errf("attach internet gateway", name+"-igw", err)
	}
	rt, err := n.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
		VpcId:             aws.String(vpc),
		TagSpecifications: tags(types.ResourceTypeRouteTable, name+"-public-rt", env),
	})
	if err != nil {
		return n.errf("create route table", name+"-public-rt", err)
	}
	rtID := aws.ToString(rt.RouteTable.RouteTableId)
	n.inv.put(n.inv.RouteTables, prefix+"-public-rt", rtID, n.region)
	if _, err := n.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{
		RouteTableId:         aws.String(rtID),
		DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId:            aws.String(igwID),
	}); err != nil {
		return n.errf("create route 0.0.0.0/0 in", name+"-public-rt", err)
	}
	for _, s := range subnets {
		if _, err := n.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{
			RouteTableId: aws.String(rtID), SubnetId: aws.String(s),
		}); err != nil {
			return n.errf("associate route table "+name+"-public-rt with subnet", s, err)
		}
	}
	return nil
}

// rule is one security group ingress rule. Exactly one of cidr, cidr6 and
// group is set. proto is "tcp", "udp" or "-1".
type rule struct {
	proto    string
	from, to int32
	cidr     string
	cidr6    string
	group    string
	desc     string
}

func tcp(port int32, cidr, desc string) rule {
	return rule{proto: "tcp", from: port, to: port, cidr: cidr, desc: desc}
}

func (r rule) permission() types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String(r.proto)}
	if r.proto != "-1" {
		p.FromPort, p.ToPort = aws.Int32(r.from), aws.Int32(r.to)
	}
	switch {
	case r.cidr != "":
		p.IpRanges = []types.IpRange{{CidrIp: aws.String(r.cidr), Description: aws.String(r.desc)}}
	case r.cidr6 != "":
		p.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(r.cidr6), Description: aws.String(r.desc)}}
	default:
		p.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: aws.String(r.group), Description: aws.String(r.desc)}}
	}
	return p
}

// securityGroup creates a security group with the given ingress rules (and
// the default allow-all egress rule AWS and moto add).
func (n *network) securityGroup(ctx context.Context, role, name, env, vpc, desc string, rules ...rule) (string, error) {
	out, err := n.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String(desc),
		VpcId:             aws.String(vpc),
		TagSpecifications: tags(types.ResourceTypeSecurityGroup, name, env),
	})
	if err != nil {
		return "", n.errf("create security group", name, err)
	}
	id := aws.ToString(out.GroupId)
	n.inv.put(n.inv.SecurityGroups, role, id, n.region)
	if len(rules) == 0 {
		return id, nil
	}
	perms := make([]types.IpPermission, len(rules))
	for i, r := range rules {
		perms[i] = r.permission()
	}
	if _, err := n.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: perms,
	}); err != nil {
		return "", n.errf("authorize ingress on security group", name, err)
	}
	return id, nil
}

// defaultSecurityGroup records the default security group of vpc under role,
// tags it, and, if restrict is set, revokes every ingress and egress rule.
func (n *network) defaultSecurityGroup(ctx context.Context, role, name, env, vpc string, restrict bool) error {
	out, err := n.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
			{Name: aws.String("group-name"), Values: []string{"default"}},
		},
	})
	if err != nil {
		return n.errf("describe default security group of", vpc, err)
	}
	if len(out.SecurityGroups) != 1 {
		return n.errf("find default security group of", vpc, fmt.Errorf("got %d groups", len(out.SecurityGroups)))
	}
	sg := out.SecurityGroups[0]
	id := aws.ToString(sg.GroupId)
	n.inv.put(n.inv.SecurityGroups, role, id, n.region)
	if err := n.tag(ctx, id, name, env); err != nil {
		return err
	}
	if !restrict {
		return nil
	}
	if len(sg.IpPermissions) > 0 {
		if _, err := n.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
			GroupId: aws.String(id), IpPermissions: sg.IpPermissions,
		}); err != nil {
			return n.errf("revoke ingress of default security group", id, err)
		}
	}
	if len(sg.IpPermissionsEgress) > 0 {
		if _, err := n.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
			GroupId: aws.String(id), IpPermissions: sg.IpPermissionsEgress,
		}); err != nil {
			return n.errf("revoke egress of default security group", id, err)
		}
	}
	return nil
}

func (n *network) tag(ctx context.Context, id, name, env string) error {
	if _, err := n.ec2.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{id}, Tags: tagList(name, env),
	}); err != nil {
		return n.errf("tag", id+" as "+name, err)
	}
	return nil
}

// defaultNACL records the default network ACL of vpc under role and tags it.
// If harden is set it deletes the default inbound allow-all entry (#100),
// leaving only the implicit deny.
func (n *network) defaultNACL(ctx context.Context, role, name, env, vpc string, harden bool) error {
	out, err := n.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
			{Name: aws.String("default"), Values: []string{"true"}},
		},
	})
	if err != nil {
		return n.errf("describe default network ACL of", vpc, err)
	}
	if len(out.NetworkAcls) != 1 {
		return n.errf("find default network ACL of", vpc, fmt.Errorf("got %d ACLs", len(out.NetworkAcls)))
	}
	id := aws.ToString(out.NetworkAcls[0].NetworkAclId)
	n.inv.put(n.inv.NetworkACLs, role, id, n.region)
	if err := n.tag(ctx, id, name, env); err != nil {
		return err
	}
	if !harden {
		return nil
	}
	if _, err := n.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{
		NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100), Egress: aws.Bool(false),
	}); err != nil {
		return n.errf("delete inbound allow-all entry of default network ACL", id, err)
	}
	return nil
}

// naclEntry is one network ACL entry. proto is an IANA protocol number as a
// string ("6" TCP) or "-1"; ports are ignored for "-1".
type naclEntry struct {
	num      int32
	egress   bool
	proto    string
	from, to int32
	cidr     string
	allow    bool
}

// networkACL creates a network ACL with entries and moves subnets onto it.
func (n *network) networkACL(ctx context.Context, role, name, env, vpc string, entries []naclEntry, subnets ...string) error {
	out, err := n.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{
		VpcId:             aws.String(vpc),
		TagSpecifications: tags(types.ResourceTypeNetworkAcl, name, env),
	})
	if err != nil {
		return n.errf("create network ACL", name, err)
	}
	id := aws.ToString(out.NetworkAcl.NetworkAclId)
	n.inv.put(n.inv.NetworkACLs, role, id, n.region)
	for _, e := range entries {
		in := &ec2.CreateNetworkAclEntryInput{
			NetworkAclId: aws.String(id),
			RuleNumber:   aws.Int32(e.num),
			Egress:       aws.Bool(e.egress),
			Protocol:     aws.String(e.proto),
			CidrBlock:    aws.String(e.cidr),
			RuleAction:   types.RuleActionDeny,
		}
		if e.allow {
			in.RuleAction = types.RuleActionAllow
		}
		if e.proto != "-1" {
			in.PortRange = &types.PortRange{From: aws.Int32(e.from), To: aws.Int32(e.to)}
		}
		if _, err := n.ec2.CreateNetworkAclEntry(ctx, in); err != nil {
			return n.errf(fmt.Sprintf("create entry #%d of network ACL", e.num), name, err)
		}
	}
	for _, s := range subnets {
		// A subnet is always associated with exactly one NACL (the VPC's
		// default one at first); replace that association.
		acls, err := n.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
			Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{s}}},
		})
		if err != nil {
			return n.errf("describe network ACL association of subnet", s, err)
		}
		assoc := ""
		for _, acl := range acls.NetworkAcls {
			for _, a := range acl.Associations {
				if aws.ToString(a.SubnetId) == s {
					assoc = aws.ToString(a.NetworkAclAssociationId)
				}
			}
		}
		if assoc == "" {
			return n.errf("find network ACL association of subnet", s, fmt.Errorf("none"))
		}
		if _, err := n.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
			AssociationId: aws.String(assoc), NetworkAclId: aws.String(id),
		}); err != nil {
			return n.errf("associate network ACL "+name+" with subnet", s, err)
		}
	}
	return nil
}

// image registers the demo's base AMI in this region (moto runs any AMI ID
// unless MOTO_ENABLE_AMI_VALIDATION is set; registering one keeps the demo
// valid either way). moto creates a private root snapshot for it, which is
// recorded as "<region>-ami-root-snap" under Snapshots.
func (n *network) image(ctx context.Context, role, snapRole string) (string, error) {
	const name = "acme-base-al2023-2024.11"
	out, err := n.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(name),
		Description:        aws.String("Acme golden image (Amazon Linux 2023 + agents)"),
		Architecture:       types.ArchitectureValuesX8664,
		RootDeviceName:     aws.String("/dev/xvda"),
		VirtualizationType: aws.String("hvm"),
	})
	if err != nil {
		return "", n.errf("register image", name, err)
	}
	id := aws.ToString(out.ImageId)
	n.inv.put(n.inv.Images, role, id, n.region)
	// moto ignores RegisterImage TagSpecifications; tag afterwards.
	if err := n.tag(ctx, id, name, "shared"); err != nil {
		return "", err
	}
	img, err := n.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		return "", n.errf("describe image", id, err)
	}
	for _, im := range img.Images {
		for _, bdm := range im.BlockDeviceMappings {
			if bdm.Ebs == nil || bdm.Ebs.SnapshotId == nil {
				continue
			}
			snap := aws.ToString(bdm.Ebs.SnapshotId)
			n.inv.put(n.inv.Snapshots, snapRole, snap, n.region)
			if err := n.tag(ctx, snap, name+"-root", "shared"); err != nil {
				return "", err
			}
		}
	}
	return id, nil
}

// instance launches one t3.micro instance in subnet with sgs. Whether it gets
// a public IP depends on the subnet's MapPublicIpOnLaunch.
func (n *network) instance(ctx context.Context, role, name, env, ami, subnet string, sgs ...string) (string, error) {
	out, err := n.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:           aws.String(ami),
		InstanceType:      types.InstanceTypeT3Micro,
		MinCount:          aws.Int32(1),
		MaxCount:          aws.Int32(1),
		SubnetId:          aws.String(subnet),
		SecurityGroupIds:  sgs,
		TagSpecifications: tags(types.ResourceTypeInstance, name, env),
	})
	if err != nil {
		return "", n.errf("run instance", name, err)
	}
	if len(out.Instances) != 1 {
		return "", n.errf("run instance", name, fmt.Errorf("got %d instances", len(out.Instances)))
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	n.inv.put(n.inv.Instances, role, id, n.region)
	return id, nil
}

// volume creates an unattached EBS volume.
func (n *network) volume(ctx context.Context, role, name, env, az string, size int32, encrypted bool) (string, error) {
	vol, err := n.ec2.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone:  aws.String(az),
		Size:              aws.Int32(size),
		VolumeType:        types.VolumeTypeGp3,
		Encrypted:         aws.Bool(encrypted),
		TagSpecifications: tags(types.ResourceTypeVolume, name, env),
	})
	if err != nil {
		return "", n.errf("create volume", name, err)
	}
	id := aws.ToString(vol.VolumeId)
	n.inv.put(n.inv.Volumes, role, id, n.region)
	return id, nil
}

// snapshot snapshots vol and shares the snapshot's createVolumePermission
// with the given groups ("all" makes it public) and account IDs.
func (n *network) snapshot(ctx context.Context, role, name, env, vol string, groups, accounts []string) error {
	snap, err := n.ec2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:          aws.String(vol),
		Description:       aws.String(name),
		TagSpecifications: tags(types.ResourceTypeSnapshot, name, env),
	})
	if err != nil {
		return n.errf("create snapshot", name, err)
	}
	id := aws.ToString(snap.SnapshotId)
	n.inv.put(n.inv.Snapshots, role, id, n.region)
	if len(groups) == 0 && len(accounts) == 0 {
		return nil
	}
	if _, err := n.ec2.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
		SnapshotId:    aws.String(id),
		Attribute:     types.SnapshotAttributeNameCreateVolumePermission,
		OperationType: types.OperationTypeAdd,
		GroupNames:    groups,
		UserIds:       accounts,
	}); err != nil {
		return n.errf("share snapshot", name, err)
	}
	return nil
}

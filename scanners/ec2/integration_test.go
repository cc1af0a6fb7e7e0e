package ec2_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// seeded names what seedRegion created in one region.
type seeded struct {
	region                                string
	defaultVPC, vpc                       string
	sgAdmin, sgRange, sgAll, sgPriv, sgDB string
	defaultSG                             string
	naclOpen, naclGuarded, naclLate       string
	defaultNACL                           string
	iExposed, iClosedSG, iNoRoute, iNACL  string
	iNACLdb                               string
	snapPublic, snapPrivate, snapShared   string
	restrictDefaultSG                     bool
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func tcp(from, to int32, cidr string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
	if cidr == "::/0" {
		p.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(cidr)}}
	} else {
		p.IpRanges = []types.IpRange{{CidrIp: aws.String(cidr)}}
	}
	return p
}

func seedRegion(t *testing.T, url, region string, restrictDefaultSG bool) seeded {
	ctx := context.Background()
	c := ec2.NewFromConfig(emutest.Config(t, url, region))
	s := seeded{region: region, restrictDefaultSG: restrictDefaultSG}

	vpcs := must[*ec2.DescribeVpcsOutput](t, "describe default vpc")(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}}))
	s.defaultVPC = aws.ToString(vpcs.Vpcs[0].VpcId)
	s.vpc = aws.ToString(must[*ec2.CreateVpcOutput](t, "create vpc")(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)

	group := func(name string, perms ...types.IpPermission) string {
		id := aws.ToString(must[*ec2.CreateSecurityGroupOutput](t, "create sg "+name)(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(s.vpc)})).GroupId)
		if len(perms) > 0 {
			must[*ec2.AuthorizeSecurityGroupIngressOutput](t, "authorize "+name)(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
				GroupId: aws.String(id), IpPermissions: perms}))
		}
		return id
	}
	s.sgAdmin = group("admin-open", tcp(22, 22, "0.0.0.0/0"))
	s.sgRange = group("range-open-v6", tcp(3300, 3400, "::/0"))
	s.sgAll = group("all-open", types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}})
	s.sgPriv = group("private", tcp(22, 22, "10.0.0.0/8"), types.IpPermission{IpProtocol: aws.String("udp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389),
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}})
	s.sgDB = group("db-open", tcp(5432, 5432, "0.0.0.0/0"))

	sgs := must[*ec2.DescribeSecurityGroupsOutput](t, "describe default sg")(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{s.vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}}))
	def := sgs.SecurityGroups[0]
	s.defaultSG = aws.ToString(def.GroupId)
	if restrictDefaultSG {
		if len(def.IpPermissions) > 0 {
			must[*ec2.RevokeSecurityGroupIngressOutput](t, "revoke default ingress")(c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: def.GroupId, IpPermissions: def.IpPermissions}))
		}
		if len(def.IpPermissionsEgress) > 0 {
			must[*ec2.RevokeSecurityGroupEgressOutput](t, "revoke default egress")(c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: def.GroupId, IpPermissions: def.IpPermissionsEgress}))
		}
	}

	nacl := func(name string, entries ...types.NetworkAclEntry) string {
		id := aws.ToString(must[*ec2.CreateNetworkAclOutput](t, "create nacl "+name)(c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(s.vpc)})).NetworkAcl.NetworkAclId)
		for _, e := range entries {
			must[*ec2.CreateNetworkAclEntryOutput](t, "nacl entry "+name)(c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{
				NetworkAclId: aws.String(id), RuleNumber: e.RuleNumber, Protocol: e.Protocol, RuleAction: e.RuleAction,
				Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0"), PortRange: e.PortRange}))
		}
		return id
	}
	entry := func(n int32, proto string, allow bool, from, to int32) types.NetworkAclEntry {
		e := types.NetworkAclEntry{RuleNumber: aws.Int32(n), Protocol: aws.String(proto), RuleAction: types.RuleActionDeny}
		if allow {
			e.RuleAction = types.RuleActionAllow
		}
		if proto != "-1" {
			e.PortRange = &types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
		}
		return e
	}
	s.naclOpen = nacl("open", entry(100, "6", true, 22, 22))
	s.naclGuarded = nacl("guarded", entry(50, "6", false, 22, 22), entry(60, "6", false, 3389, 3389), entry(100, "-1", true, 0, 0))
	s.naclLate = nacl("late-deny", entry(100, "-1", true, 0, 0), entry(200, "6", false, 22, 22))
	acls := must[*ec2.DescribeNetworkAclsOutput](t, "describe default nacl")(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{s.vpc}}, {Name: aws.String("default"), Values: []string{"true"}}}}))
	s.defaultNACL = aws.ToString(acls.NetworkAcls[0].NetworkAclId)

	// Subnets: public (routes 0.0.0.0/0 to an internet gateway, default
	// NACL), private (main table: local only), guarded (public route, but
	// the NACL that denies 22 and 3389 first).
	subnet := func(cidr string) string {
		id := aws.ToString(must[*ec2.CreateSubnetOutput](t, "create subnet")(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(s.vpc), CidrBlock: aws.String(cidr)})).Subnet.SubnetId)
		must[*ec2.ModifySubnetAttributeOutput](t, "map public ip")(c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
			SubnetId: aws.String(id), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
		return id
	}
	pub, priv, guarded := subnet("10.0.1.0/24"), subnet("10.0.2.0/24"), subnet("10.0.3.0/24")
	igw := aws.ToString(must[*ec2.CreateInternetGatewayOutput](t, "igw")(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	must[*ec2.AttachInternetGatewayOutput](t, "attach igw")(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(s.vpc)}))
	rt := aws.ToString(must[*ec2.CreateRouteTableOutput](t, "route table")(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(s.vpc)})).RouteTable.RouteTableId)
	must[*ec2.CreateRouteOutput](t, "route")(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rt), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)}))
	for _, sn := range []string{pub, guarded} {
		must[*ec2.AssociateRouteTableOutput](t, "associate")(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rt), SubnetId: aws.String(sn)}))
	}
	assoc := must[*ec2.DescribeNetworkAclsOutput](t, "nacl association")(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{guarded}}}}))
	for _, a := range assoc.NetworkAcls[0].Associations {
		if aws.ToString(a.SubnetId) == guarded {
			must[*ec2.ReplaceNetworkAclAssociationOutput](t, "replace nacl association")(c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
				AssociationId: a.NetworkAclAssociationId, NetworkAclId: aws.String(s.naclGuarded)}))
		}
	}
	instance := func(subnetID, sg string) string {
		out := must[*ec2.RunInstancesOutput](t, "run instance")(c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(subnetID), SecurityGroupIds: []string{sg}}))
		if aws.ToString(out.Instances[0].PublicIpAddress) == "" {
			t.Fatalf("instance in %s got no public IP", subnetID)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	s.iExposed = instance(pub, s.sgAdmin)
	s.iClosedSG = instance(pub, s.sgPriv)
	s.iNoRoute = instance(priv, s.sgAdmin)
	s.iNACL = instance(guarded, s.sgAdmin)
	s.iNACLdb = instance(guarded, s.sgDB)

	vol := aws.ToString(must[*ec2.CreateVolumeOutput](t, "volume")(c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(1)})).VolumeId)
	snap := func() string {
		return aws.ToString(must[*ec2.CreateSnapshotOutput](t, "snapshot")(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})).SnapshotId)
	}
	s.snapPublic, s.snapPrivate, s.snapShared = snap(), snap(), snap()
	// moto reads the UserGroup.N / UserId.N form of ModifySnapshotAttribute,
	// not CreateVolumePermission.Add.
	must[*ec2.ModifySnapshotAttributeOutput](t, "share public")(c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
		SnapshotId: aws.String(s.snapPublic), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
		OperationType: types.OperationTypeAdd, GroupNames: []string{"all"}}))
	must[*ec2.ModifySnapshotAttributeOutput](t, "share account")(c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
		SnapshotId: aws.String(s.snapShared), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
		OperationType: types.OperationTypeAdd, UserIds: []string{"111122223333"}}))
	return s
}

func TestEC2ChecksAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	regions := []string{"eu-west-1", "us-east-1"}
	seeds := []seeded{
		seedRegion(t, srv.URL, "us-east-1", true),
		seedRegion(t, srv.URL, "eu-west-1", false),
	}
	scan := scantest.Scan(t, srv.URL, regions,
		"ec2-sg-open-admin-port", "ec2-sg-open-database-port", "ec2-sg-open-all-ports", "ec2-sg-default-not-restricted",
		"ec2-nacl-open-admin-port", "ec2-instance-internet-exposed", "ec2-snapshot-public")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	defaultVPCs := map[string]bool{}
	for _, s := range seeds {
		defaultVPCs[s.defaultVPC] = true
	}
	inDefaultVPC := func(r model.Result) bool { v, _ := r.Evidence["vpc_id"].(string); return defaultVPCs[v] }

	const P, F = model.StatusPass, model.StatusFail
	want := map[string]map[scantest.Key]model.Status{}
	add := func(checkID, region, resource string, st model.Status) {
		if want[checkID] == nil {
			want[checkID] = map[scantest.Key]model.Status{}
		}
		want[checkID][scantest.Key{Check: checkID, Region: region, Resource: resource}] = st
	}
	for _, s := range seeds {
		r := s.region
		// Every security group of the VPC, for each of the three rule checks.
		for _, g := range []struct {
			id             string
			admin, db, all model.Status
		}{
			{s.sgAdmin, F, P, P},
			{s.sgRange, F, F, P}, // tcp 3300-3400 from ::/0 covers 3389 and 3306
			{s.sgAll, F, F, F},
			{s.sgPriv, P, P, P}, // tcp 22 from 10/8 and udp 3389 from anywhere open nothing
			{s.sgDB, P, F, P},
			{s.defaultSG, P, P, P},
		} {
			add("ec2-sg-open-admin-port", r, g.id, g.admin)
			add("ec2-sg-open-database-port", r, g.id, g.db)
			add("ec2-sg-open-all-ports", r, g.id, g.all)
		}
		if s.restrictDefaultSG {
			add("ec2-sg-default-not-restricted", r, s.defaultSG, P)
		} else {
			add("ec2-sg-default-not-restricted", r, s.defaultSG, F)
		}
		add("ec2-nacl-open-admin-port", r, s.naclOpen, F)
		add("ec2-nacl-open-admin-port", r, s.naclGuarded, P)
		add("ec2-nacl-open-admin-port", r, s.naclLate, F) // allow-all at 100 wins over the deny at 200
		add("ec2-nacl-open-admin-port", r, s.defaultNACL, F)
		add("ec2-instance-internet-exposed", r, s.iExposed, F)
		add("ec2-instance-internet-exposed", r, s.iClosedSG, P)
		add("ec2-instance-internet-exposed", r, s.iNoRoute, P)
		add("ec2-instance-internet-exposed", r, s.iNACL, P)
		add("ec2-instance-internet-exposed", r, s.iNACLdb, F) // the NACL denies 22 and 3389, not 5432
		add("ec2-snapshot-public", r, s.snapPublic, F)
		add("ec2-snapshot-public", r, s.snapPrivate, P)
		add("ec2-snapshot-public", r, s.snapShared, P)
	}
	for checkID, w := range want {
		scantest.ExpectExactly(t, scan, checkID, w, inDefaultVPC)
	}

	// Evidence names what was found.
	use1 := seeds[0]
	exposed := scantest.Find(t, scan, "ec2-instance-internet-exposed", "us-east-1", use1.iExposed)
	if exposed.Evidence["internet_gateway"] == nil || exposed.Evidence["route_table"] == nil || exposed.Message != "instance "+use1.iExposed+" is reachable from the internet on TCP 22" {
		t.Errorf("exposure evidence: %s %v", exposed.Message, exposed.Evidence)
	}
	nacl := scantest.Find(t, scan, "ec2-nacl-open-admin-port", "us-east-1", use1.naclGuarded)
	if got := nacl.Evidence["decisions"].([]string)[0]; got != "tcp 22 from 0.0.0.0/0: rule 50 deny tcp 22 from 0.0.0.0/0" {
		t.Errorf("guarded NACL decision: %q", got)
	}
	rng := scantest.Find(t, scan, "ec2-sg-open-admin-port", "eu-west-1", seeds[1].sgRange)
	rules := rng.Evidence["open_rules"].([]map[string]any)
	if rules[0]["rule"] != "tcp 3300-3400" || rules[0]["source"] != "::/0" {
		t.Errorf("range evidence: %v", rules)
	}
	snap := scantest.Find(t, scan, "ec2-snapshot-public", "eu-west-1", seeds[1].snapShared)
	if shared, _ := snap.Evidence["shared_with_accounts"].([]string); len(shared) != 1 || shared[0] != "111122223333" {
		t.Errorf("shared snapshot evidence: %v", snap.Evidence)
	}
}

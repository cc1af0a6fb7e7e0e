package ec2_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

// edges names what seedEdges created.
type edges struct {
	vpc, defaultVPC                                   string
	defaultSG, defaultNACL                            string
	sgAdmin, sgPriv, sgSplit, sgPL, sgCF, sgV6, sgPLx string
	plHalves, plDenied                                string
	naclSplit                                         string
	iMultiNIC, iNICGroups, iStopped, iSplitSG         string
	iPL, iCF, iSplitNACL, iV6, iV6Egress, iPLx        string
	eniSecond                                         string
}

// seedEdges builds, in one region, the cases the string-matching,
// instance-level judgement got wrong: an instance reached through its
// second interface (Elastic IP), one whose groups the API reports only on the
// interface, a stopped instance that keeps its Elastic IP, the internet
// written as two halves (in a rule, in a prefix list, in IPv6), an AWS-managed
// prefix list, a NACL deny split into halves, IPv6 through an internet
// gateway and through an egress-only one.
func seedEdges(t *testing.T, url, region string) edges {
	ctx := context.Background()
	c := ec2.NewFromConfig(emutest.Config(t, url, region))
	var e edges
	vpcs := must[*ec2.DescribeVpcsOutput](t, "describe default vpc")(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}}))
	e.defaultVPC = aws.ToString(vpcs.Vpcs[0].VpcId)
	e.vpc = aws.ToString(must[*ec2.CreateVpcOutput](t, "create vpc")(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})).Vpc.VpcId)

	pl := func(name string, cidrs ...string) string {
		var entries []types.AddPrefixListEntry
		for _, c := range cidrs {
			entries = append(entries, types.AddPrefixListEntry{Cidr: aws.String(c)})
		}
		return aws.ToString(must[*ec2.CreateManagedPrefixListOutput](t, "prefix list "+name)(c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{
			PrefixListName: aws.String(name), AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(5), Entries: entries})).PrefixList.PrefixListId)
	}
	e.plHalves = pl("halves", "0.0.0.0/1", "128.0.0.0/1")
	e.plDenied = pl("partner", "198.51.100.0/24")
	cf := must[*ec2.DescribeManagedPrefixListsOutput](t, "cloudfront list")(c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{
		Filters: []types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws.global.cloudfront.origin-facing"}}}}))
	if len(cf.PrefixLists) != 1 {
		t.Fatalf("the emulator has %d CloudFront prefix lists", len(cf.PrefixLists))
	}
	plCF := aws.ToString(cf.PrefixLists[0].PrefixListId)

	group := func(name string, perms ...types.IpPermission) string {
		id := aws.ToString(must[*ec2.CreateSecurityGroupOutput](t, "create sg "+name)(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(e.vpc)})).GroupId)
		must[*ec2.AuthorizeSecurityGroupIngressOutput](t, "authorize "+name)(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: aws.String(id), IpPermissions: perms}))
		return id
	}
	ssh := func() types.IpPermission {
		return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22)}
	}
	fromList := func(id string) types.IpPermission {
		p := ssh()
		p.PrefixListIds = []types.PrefixListId{{PrefixListId: aws.String(id)}}
		return p
	}
	e.sgAdmin = group("edge-admin", tcp(22, 22, "0.0.0.0/0"))
	e.sgPriv = group("edge-private", tcp(22, 22, "10.0.0.0/8"))
	split := ssh()
	split.IpRanges = []types.IpRange{{CidrIp: aws.String("0.0.0.0/1")}, {CidrIp: aws.String("128.0.0.0/1")}}
	e.sgSplit = group("edge-split", split)
	e.sgPL = group("edge-prefix-list", fromList(e.plHalves))
	e.sgCF = group("edge-cloudfront", fromList(plCF))
	e.sgPLx = group("edge-partner-list", fromList(e.plDenied))
	split6 := ssh()
	split6.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String("::/1")}, {CidrIpv6: aws.String("8000::/1")}}
	e.sgV6 = group("edge-split-v6", split6)
	sgs := must[*ec2.DescribeSecurityGroupsOutput](t, "default sg")(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}}))
	e.defaultSG = aws.ToString(sgs.SecurityGroups[0].GroupId)

	// The default NACL admits IPv4 only as the emulator creates it; AWS's
	// also admits ::/0.
	acls := must[*ec2.DescribeNetworkAclsOutput](t, "default nacl")(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.vpc}}, {Name: aws.String("default"), Values: []string{"true"}}}}))
	e.defaultNACL = aws.ToString(acls.NetworkAcls[0].NetworkAclId)
	naclEntry := func(acl string, n int32, allow bool, cidr string, from, to int32) {
		in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(n), Protocol: aws.String("-1"),
			RuleAction: types.RuleActionDeny, Egress: aws.Bool(false)}
		if allow {
			in.RuleAction = types.RuleActionAllow
		}
		if from > 0 {
			in.Protocol, in.PortRange = aws.String("6"), &types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
		}
		if strings.Contains(cidr, ":") {
			in.Ipv6CidrBlock = aws.String(cidr)
		} else {
			in.CidrBlock = aws.String(cidr)
		}
		must[*ec2.CreateNetworkAclEntryOutput](t, "nacl entry")(c.CreateNetworkAclEntry(ctx, in))
	}
	naclEntry(e.defaultNACL, 101, true, "::/0", 0, 0)
	e.naclSplit = aws.ToString(must[*ec2.CreateNetworkAclOutput](t, "nacl")(c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(e.vpc)})).NetworkAcl.NetworkAclId)
	naclEntry(e.naclSplit, 50, false, "0.0.0.0/1", 22, 3389)
	naclEntry(e.naclSplit, 60, false, "128.0.0.0/1", 22, 3389)
	naclEntry(e.naclSplit, 100, true, "0.0.0.0/0", 0, 0)

	// Subnets: public (0.0.0.0/0 and ::/0 to the internet gateway), private
	// (main table), egress6 (::/0 to an egress-only gateway), split (public
	// route, the split-deny NACL).
	subnet := func(cidr, cidr6 string) string {
		in := &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String(cidr)}
		if cidr6 != "" {
			in.Ipv6CidrBlock = aws.String(cidr6)
		}
		return aws.ToString(must[*ec2.CreateSubnetOutput](t, "create subnet")(c.CreateSubnet(ctx, in)).Subnet.SubnetId)
	}
	pub, priv := subnet("10.1.1.0/24", "2600:1f18:1:1::/64"), subnet("10.1.2.0/24", "")
	egress6, splitNet := subnet("10.1.3.0/24", "2600:1f18:1:3::/64"), subnet("10.1.4.0/24", "")
	igw := aws.ToString(must[*ec2.CreateInternetGatewayOutput](t, "igw")(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	must[*ec2.AttachInternetGatewayOutput](t, "attach igw")(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(e.vpc)}))
	eigw := aws.ToString(must[*ec2.CreateEgressOnlyInternetGatewayOutput](t, "eigw")(c.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: aws.String(e.vpc)})).EgressOnlyInternetGateway.EgressOnlyInternetGatewayId)
	table := func(v6 func(*ec2.CreateRouteInput), subnets ...string) {
		rt := aws.ToString(must[*ec2.CreateRouteTableOutput](t, "route table")(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(e.vpc)})).RouteTable.RouteTableId)
		must[*ec2.CreateRouteOutput](t, "route")(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rt), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)}))
		if v6 != nil {
			in := &ec2.CreateRouteInput{RouteTableId: aws.String(rt), DestinationIpv6CidrBlock: aws.String("::/0")}
			v6(in)
			must[*ec2.CreateRouteOutput](t, "route ::/0")(c.CreateRoute(ctx, in))
		}
		for _, sn := range subnets {
			must[*ec2.AssociateRouteTableOutput](t, "associate")(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rt), SubnetId: aws.String(sn)}))
		}
	}
	table(func(in *ec2.CreateRouteInput) { in.GatewayId = aws.String(igw) }, pub, splitNet)
	table(func(in *ec2.CreateRouteInput) { in.EgressOnlyInternetGatewayId = aws.String(eigw) }, egress6)
	assoc := must[*ec2.DescribeNetworkAclsOutput](t, "nacl association")(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{splitNet}}}}))
	for _, a := range assoc.NetworkAcls[0].Associations {
		if aws.ToString(a.SubnetId) == splitNet {
			must[*ec2.ReplaceNetworkAclAssociationOutput](t, "replace nacl association")(c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
				AssociationId: a.NetworkAclAssociationId, NetworkAclId: aws.String(e.naclSplit)}))
		}
	}

	run := func(in *ec2.RunInstancesInput) string {
		in.ImageId, in.InstanceType, in.MinCount, in.MaxCount = aws.String("ami-12345678"), types.InstanceTypeT3Micro, aws.Int32(1), aws.Int32(1)
		return aws.ToString(must[*ec2.RunInstancesOutput](t, "run instance")(c.RunInstances(ctx, in)).Instances[0].InstanceId)
	}
	// public launches into a subnet through one interface that carries the
	// groups and (with ipv4) a public address; the emulator then reports the
	// groups only on the interface, not on the instance.
	public := func(subnetID, sg string, ipv4 bool, ipv6 int32) string {
		nic := types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetID), Groups: []string{sg},
			AssociatePublicIpAddress: aws.Bool(ipv4)}
		if ipv6 > 0 {
			// The emulator assigns IPv6 addresses to an interface created
			// with them, not to one RunInstances creates.
			eni := must[*ec2.CreateNetworkInterfaceOutput](t, "ipv6 eni")(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
				SubnetId: aws.String(subnetID), Groups: []string{sg}, Ipv6AddressCount: aws.Int32(ipv6)})).NetworkInterface
			nic = types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), NetworkInterfaceId: eni.NetworkInterfaceId}
		}
		return run(&ec2.RunInstancesInput{NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{nic}})
	}
	eip := func(assoc *ec2.AssociateAddressInput) {
		alloc := must[*ec2.AllocateAddressOutput](t, "allocate eip")(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
		assoc.AllocationId = alloc.AllocationId
		must[*ec2.AssociateAddressOutput](t, "associate eip")(c.AssociateAddress(ctx, assoc))
	}

	// Reached through the second interface: the primary is private and
	// closed, the second sits in the public subnet with an Elastic IP, in
	// the open group. The Elastic IP is associated with a secondary private
	// address, though the emulator reports it on the interface's primary
	// one; reading it from PrivateIpAddresses[].Association is covered by
	// TestInstanceFromAPIReadsEveryInterface.
	e.iMultiNIC = run(&ec2.RunInstancesInput{SubnetId: aws.String(priv), SecurityGroupIds: []string{e.sgPriv}})
	eni := must[*ec2.CreateNetworkInterfaceOutput](t, "eni")(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(pub), Groups: []string{e.sgAdmin}, SecondaryPrivateIpAddressCount: aws.Int32(1)})).NetworkInterface
	e.eniSecond = aws.ToString(eni.NetworkInterfaceId)
	must[*ec2.AttachNetworkInterfaceOutput](t, "attach eni")(c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{
		NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: aws.String(e.iMultiNIC), DeviceIndex: aws.Int32(1)}))
	var secondary string
	for _, p := range eni.PrivateIpAddresses {
		if !aws.ToBool(p.Primary) {
			secondary = aws.ToString(p.PrivateIpAddress)
		}
	}
	eip(&ec2.AssociateAddressInput{NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: aws.String(secondary)})

	e.iNICGroups = public(pub, e.sgAdmin, true, 0)
	e.iStopped = run(&ec2.RunInstancesInput{SubnetId: aws.String(pub), SecurityGroupIds: []string{e.sgAdmin}})
	eip(&ec2.AssociateAddressInput{InstanceId: aws.String(e.iStopped)})
	must[*ec2.StopInstancesOutput](t, "stop")(c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{e.iStopped}}))
	e.iSplitSG = public(pub, e.sgSplit, true, 0)
	e.iPL = public(pub, e.sgPL, true, 0)
	e.iCF = public(pub, e.sgCF, true, 0)
	e.iPLx = public(pub, e.sgPLx, true, 0)
	e.iSplitNACL = public(splitNet, e.sgAdmin, true, 0)
	e.iV6 = public(pub, e.sgV6, false, 1)
	e.iV6Egress = public(egress6, e.sgV6, false, 1)
	return e
}

func TestEC2ExposureEdgesAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	const region = "us-east-1"
	e := seedEdges(t, srv.URL, region)
	checks := []string{"ec2-sg-open-admin-port", "ec2-nacl-open-admin-port", "ec2-instance-internet-exposed"}
	inDefaultVPC := func(r model.Result) bool { v, _ := r.Evidence["vpc_id"].(string); return v == e.defaultVPC }
	const P, F, E = model.StatusPass, model.StatusFail, model.StatusError

	expect := func(scan *model.Scan, plx model.Status) {
		t.Helper()
		want := map[string]map[scantest.Key]model.Status{}
		add := func(checkID, resource string, st model.Status) {
			if want[checkID] == nil {
				want[checkID] = map[scantest.Key]model.Status{}
			}
			want[checkID][scantest.Key{Check: checkID, Region: region, Resource: resource}] = st
		}
		for id, st := range map[string]model.Status{
			e.sgAdmin: F, e.sgPriv: P, e.defaultSG: P,
			e.sgSplit: F, // 0.0.0.0/1 and 128.0.0.0/1
			e.sgPL:    F, // a prefix list holding both halves
			e.sgCF:    P, // the AWS-managed CloudFront list is not the internet
			e.sgV6:    F, // ::/1 and 8000::/1
			e.sgPLx:   plx,
		} {
			add("ec2-sg-open-admin-port", id, st)
		}
		add("ec2-nacl-open-admin-port", e.defaultNACL, F)
		add("ec2-nacl-open-admin-port", e.naclSplit, P) // denies 22 from both halves before allowing all
		for id, st := range map[string]model.Status{
			e.iMultiNIC:  F, // through its second interface's Elastic IP
			e.iNICGroups: F, // groups reported on the interface only
			e.iStopped:   P, // keeps its Elastic IP, but is stopped
			e.iSplitSG:   F,
			e.iPL:        F,
			e.iCF:        P,
			e.iPLx:       plx,
			e.iSplitNACL: P,
			e.iV6:        F, // IPv6 only, ::/0 routed to the internet gateway
			e.iV6Egress:  P, // ::/0 routed to an egress-only gateway admits nothing inbound
		} {
			add("ec2-instance-internet-exposed", id, st)
		}
		for checkID, w := range want {
			scantest.ExpectExactly(t, scan, checkID, w, inDefaultVPC)
		}
	}

	scan := scantest.Scan(t, srv.URL, []string{region}, checks...)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	expect(scan, P)

	multi := scantest.Find(t, scan, "ec2-instance-internet-exposed", region, e.iMultiNIC)
	if multi.Evidence["network_interface"] != e.eniSecond || !strings.HasSuffix(multi.Message, "reachable from the internet on TCP 22 through "+e.eniSecond) {
		t.Errorf("multi-interface exposure names %v: %s", multi.Evidence["network_interface"], multi.Message)
	}
	stopped := scantest.Find(t, scan, "ec2-instance-internet-exposed", region, e.iStopped)
	if stopped.Evidence["state"] != "stopped" || !strings.HasPrefix(stopped.Message, "instance "+e.iStopped+" is stopped: ") {
		t.Errorf("stopped instance: %s %v", stopped.Message, stopped.Evidence)
	}
	pl := scantest.Find(t, scan, "ec2-sg-open-admin-port", region, e.sgPL)
	if rules, _ := pl.Evidence["open_rules"].([]map[string]any); len(rules) != 1 || rules[0]["source"] != e.plHalves {
		t.Errorf("prefix list evidence: %v", pl.Evidence)
	}

	// A prefix list whose entries cannot be read: the groups that name it,
	// and the instance behind them, are ERROR; nothing else changes.
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "ec2", Action: "GetManagedPrefixListEntries",
		BodyContains: "PrefixListId=" + url.QueryEscape(e.plDenied), Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	denied := scantest.Scan(t, p.URL, []string{region}, checks...)
	expect(denied, E)
	if n := p.Injected()[faultproxy.AccessDenied]; n != 1 {
		t.Errorf("injected %d denials, want 1 (the entries are read once per scan)", n)
	}
	g := scantest.Find(t, denied, "ec2-sg-open-admin-port", region, e.sgPLx)
	if !strings.Contains(g.Message, "prefix list "+e.plDenied+" could not be read (UnauthorizedOperation") {
		t.Errorf("ERROR message: %s", g.Message)
	}
}

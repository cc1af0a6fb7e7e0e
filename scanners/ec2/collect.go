package ec2

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/paging"
)

// API is the read-only subset of the EC2 client the collector calls.
type API interface {
	ec2.DescribeVpcsAPIClient
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeRouteTablesAPIClient
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeManagedPrefixListsAPIClient
	ec2.GetManagedPrefixListEntriesAPIClient
	ec2.DescribeNetworkAclsAPIClient
	ec2.DescribeInstancesAPIClient
	ec2.DescribeSnapshotsAPIClient
	ec2.DescribeVolumesAPIClient
	DescribeSnapshotAttribute(ctx context.Context, in *ec2.DescribeSnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error)
	GetEbsEncryptionByDefault(ctx context.Context, in *ec2.GetEbsEncryptionByDefaultInput, optFns ...func(*ec2.Options)) (*ec2.GetEbsEncryptionByDefaultOutput, error)
}

// Collect gathers the region's inventory, one list call per resource kind
// (every page), plus one DescribeSnapshotAttribute per owned snapshot: no
// list call reports who may restore a snapshot (the RestorableByUserIds
// filter is not honoured by every endpoint, the emulator among them), plus
// one GetManagedPrefixListEntries (every page) per managed prefix list an
// ingress rule names, plus one GetEbsEncryptionByDefault for the region's
// setting.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, ec2.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if scope.Wants(PartVPCs) {
		inv.VPCs = collectVPCs(ctx, api, gaps)
	}
	if scope.Wants(PartSubnets) {
		inv.Subnets = collectSubnets(ctx, api, gaps)
	}
	if scope.Wants(PartRouteTables) {
		inv.RouteTables = collectRouteTables(ctx, api, gaps)
	}
	if scope.Wants(PartSecurityGroups) {
		inv.SecurityGroups = collectSecurityGroups(ctx, api, gaps)
	}
	if scope.Wants(PartPrefixLists) {
		inv.PrefixLists = collectPrefixLists(ctx, api, inv.SecurityGroups, scope.Wants(PartSecurityGroups), scope.CallConcurrency, gaps)
	}
	if scope.Wants(PartNetworkACLs) {
		inv.NetworkACLs = collectNetworkACLs(ctx, api, gaps)
	}
	if scope.Wants(PartInstances) {
		inv.Instances = collectInstances(ctx, api, gaps)
	}
	if scope.Wants(PartSnapshots) {
		inv.Snapshots = collectSnapshots(ctx, api, scope.AccountID, gaps)
		if scope.Wants(PartSnapshotPermissions) {
			collectSnapshotPermissions(ctx, api, inv.Snapshots, scope.CallConcurrency, gaps)
		}
	}
	if scope.Wants(PartVolumes) {
		inv.Volumes = collectVolumes(ctx, api, gaps)
	}
	if scope.Wants(PartEBSDefaults) {
		out, err := api.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
		if err != nil {
			gaps.Add(PartEBSDefaults, "GetEbsEncryptionByDefault", "", err)
		} else {
			// An answer without the flag is off, the API's documented default.
			inv.EBSEncryptionByDefault = aws.Bool(aws.ToBool(out.EbsEncryptionByDefault))
		}
	}
	return inv
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func collectVPCs(ctx context.Context, api API, gaps *check.Gaps) []VPC {
	listed, err := paging.All(ctx, ec2.NewDescribeVpcsPaginator(api, &ec2.DescribeVpcsInput{}),
		func(page *ec2.DescribeVpcsOutput) []types.Vpc { return page.Vpcs })
	if err != nil {
		gaps.Add(PartVPCs, "DescribeVpcs", "", err)
		return nil
	}
	var vpcs []VPC
	for _, v := range listed {
		vpcs = append(vpcs, VPC{
			ID: aws.ToString(v.VpcId), Name: nameTag(v.Tags),
			IsDefault: aws.ToBool(v.IsDefault), CIDR: aws.ToString(v.CidrBlock),
		})
	}
	return vpcs
}

func collectSubnets(ctx context.Context, api API, gaps *check.Gaps) []Subnet {
	listed, err := paging.All(ctx, ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{}),
		func(page *ec2.DescribeSubnetsOutput) []types.Subnet { return page.Subnets })
	if err != nil {
		gaps.Add(PartSubnets, "DescribeSubnets", "", err)
		return nil
	}
	var subnets []Subnet
	for _, s := range listed {
		subnets = append(subnets, Subnet{ID: aws.ToString(s.SubnetId), Name: nameTag(s.Tags), VPCID: aws.ToString(s.VpcId)})
	}
	return subnets
}

func collectRouteTables(ctx context.Context, api API, gaps *check.Gaps) []RouteTable {
	listed, err := paging.All(ctx, ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{}),
		func(page *ec2.DescribeRouteTablesOutput) []types.RouteTable { return page.RouteTables })
	if err != nil {
		gaps.Add(PartRouteTables, "DescribeRouteTables", "", err)
		return nil
	}
	var tables []RouteTable
	for _, rt := range listed {
		t := RouteTable{ID: aws.ToString(rt.RouteTableId), VPCID: aws.ToString(rt.VpcId)}
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) {
				t.Main = true
			}
			if a.SubnetId != nil {
				t.SubnetIDs = append(t.SubnetIDs, aws.ToString(a.SubnetId))
			}
		}
		for _, r := range rt.Routes {
			t.Routes = append(t.Routes, Route{
				DestinationCIDR:     aws.ToString(r.DestinationCidrBlock),
				DestinationIPv6CIDR: aws.ToString(r.DestinationIpv6CidrBlock),
				Target:              routeTarget(r),
				State:               string(r.State),
			})
		}
		tables = append(tables, t)
	}
	return tables
}

func routeTarget(r types.Route) string {
	for _, t := range []*string{r.GatewayId, r.NatGatewayId, r.InstanceId, r.NetworkInterfaceId,
		r.VpcPeeringConnectionId, r.TransitGatewayId, r.EgressOnlyInternetGatewayId, r.LocalGatewayId, r.CarrierGatewayId} {
		if v := aws.ToString(t); v != "" {
			return v
		}
	}
	return ""
}

func collectSecurityGroups(ctx context.Context, api API, gaps *check.Gaps) []SecurityGroup {
	listed, err := paging.All(ctx, ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{}),
		func(page *ec2.DescribeSecurityGroupsOutput) []types.SecurityGroup { return page.SecurityGroups })
	if err != nil {
		gaps.Add(PartSecurityGroups, "DescribeSecurityGroups", "", err)
		return nil
	}
	var groups []SecurityGroup
	for _, g := range listed {
		groups = append(groups, SecurityGroup{
			ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName),
			VPCID: aws.ToString(g.VpcId), OwnerID: aws.ToString(g.OwnerId),
			Ingress: permissions(g.IpPermissions), Egress: permissions(g.IpPermissionsEgress),
		})
	}
	return groups
}

func permissions(perms []types.IpPermission) []Permission {
	out := make([]Permission, 0, len(perms))
	for _, p := range perms {
		perm := Permission{Protocol: strings.ToLower(aws.ToString(p.IpProtocol)), FromPort: p.FromPort, ToPort: p.ToPort}
		for _, r := range p.IpRanges {
			perm.IPv4Ranges = append(perm.IPv4Ranges, aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			perm.IPv6Ranges = append(perm.IPv6Ranges, aws.ToString(r.CidrIpv6))
		}
		for _, r := range p.PrefixListIds {
			perm.PrefixListIDs = append(perm.PrefixListIDs, aws.ToString(r.PrefixListId))
		}
		for _, r := range p.UserIdGroupPairs {
			perm.SourceGroupIDs = append(perm.SourceGroupIDs, aws.ToString(r.GroupId))
		}
		out = append(out, perm)
	}
	return out
}

func collectNetworkACLs(ctx context.Context, api API, gaps *check.Gaps) []NetworkACL {
	listed, err := paging.All(ctx, ec2.NewDescribeNetworkAclsPaginator(api, &ec2.DescribeNetworkAclsInput{}),
		func(page *ec2.DescribeNetworkAclsOutput) []types.NetworkAcl { return page.NetworkAcls })
	if err != nil {
		gaps.Add(PartNetworkACLs, "DescribeNetworkAcls", "", err)
		return nil
	}
	var acls []NetworkACL
	for _, a := range listed {
		acl := NetworkACL{ID: aws.ToString(a.NetworkAclId), Name: nameTag(a.Tags), VPCID: aws.ToString(a.VpcId), IsDefault: aws.ToBool(a.IsDefault)}
		for _, as := range a.Associations {
			if as.SubnetId != nil {
				acl.SubnetIDs = append(acl.SubnetIDs, aws.ToString(as.SubnetId))
			}
		}
		for _, e := range a.Entries {
			entry := ACLEntry{
				RuleNumber: aws.ToInt32(e.RuleNumber), Egress: aws.ToBool(e.Egress),
				Protocol: aws.ToString(e.Protocol), Allow: e.RuleAction == types.RuleActionAllow,
				CIDR: aws.ToString(e.CidrBlock), IPv6CIDR: aws.ToString(e.Ipv6CidrBlock),
			}
			if e.PortRange != nil {
				entry.FromPort, entry.ToPort = e.PortRange.From, e.PortRange.To
			}
			acl.Entries = append(acl.Entries, entry)
		}
		sort.SliceStable(acl.Entries, func(i, j int) bool { return acl.Entries[i].RuleNumber < acl.Entries[j].RuleNumber })
		acls = append(acls, acl)
	}
	return acls
}

func collectInstances(ctx context.Context, api API, gaps *check.Gaps) []Instance {
	listed, err := paging.All(ctx, ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{}),
		func(page *ec2.DescribeInstancesOutput) []types.Reservation { return page.Reservations })
	if err != nil {
		gaps.Add(PartInstances, "DescribeInstances", "", err)
		return nil
	}
	var instances []Instance
	for _, res := range listed {
		for _, i := range res.Instances {
			if i.State != nil && i.State.Name == types.InstanceStateNameTerminated {
				continue
			}
			instances = append(instances, instanceFromAPI(i))
		}
	}
	return instances
}

// instanceFromAPI converts one DescribeInstances instance, with every
// network interface and every public address of each: the interface's own
// association and those of its secondary private addresses (an Elastic IP
// can be associated with any of them).
func instanceFromAPI(i types.Instance) Instance {
	inst := Instance{
		ID: aws.ToString(i.InstanceId), Name: nameTag(i.Tags),
		VPCID: aws.ToString(i.VpcId), SubnetID: aws.ToString(i.SubnetId),
		PublicIP: aws.ToString(i.PublicIpAddress),
	}
	if i.State != nil {
		inst.State = string(i.State.Name)
	}
	for _, g := range i.SecurityGroups {
		inst.SecurityGroupIDs = append(inst.SecurityGroupIDs, aws.ToString(g.GroupId))
	}
	for _, ni := range i.NetworkInterfaces {
		nic := NetworkInterface{ID: aws.ToString(ni.NetworkInterfaceId), SubnetID: aws.ToString(ni.SubnetId), VPCID: aws.ToString(ni.VpcId)}
		if ni.Attachment != nil {
			nic.DeviceIndex = aws.ToInt32(ni.Attachment.DeviceIndex)
		}
		seen := map[string]bool{}
		addPublic := func(ip string) {
			if ip != "" && !seen[ip] {
				seen[ip] = true
				nic.PublicIPs = append(nic.PublicIPs, ip)
			}
		}
		if ni.Association != nil {
			addPublic(aws.ToString(ni.Association.PublicIp))
		}
		for _, pa := range ni.PrivateIpAddresses {
			if pa.Association != nil {
				addPublic(aws.ToString(pa.Association.PublicIp))
			}
		}
		for _, a := range ni.Ipv6Addresses {
			nic.IPv6Addresses = append(nic.IPv6Addresses, aws.ToString(a.Ipv6Address))
			inst.IPv6Addresses = append(inst.IPv6Addresses, aws.ToString(a.Ipv6Address))
		}
		for _, g := range ni.Groups {
			nic.SecurityGroupIDs = append(nic.SecurityGroupIDs, aws.ToString(g.GroupId))
		}
		inst.NetworkInterfaces = append(inst.NetworkInterfaces, nic)
	}
	sort.SliceStable(inst.NetworkInterfaces, func(a, b int) bool {
		return inst.NetworkInterfaces[a].DeviceIndex < inst.NetworkInterfaces[b].DeviceIndex
	})
	return inst
}

// collectPrefixLists reads the region's managed prefix lists and the entries
// of those an ingress rule of groups names (of every list when groups were
// not collected). A list named by a rule but not described (shared lists
// are, but the description may have failed) is still read by ID. A list
// whose entries cannot be read carries the error, so the checks judge the
// groups that name it ERROR rather than PASS.
func collectPrefixLists(ctx context.Context, api API, groups []SecurityGroup, haveGroups bool, limit int, gaps *check.Gaps) []PrefixList {
	described := map[string]PrefixList{}
	var order []string
	// The lists of the pages read before a failure stay described.
	err := paging.Pages(ctx, ec2.NewDescribeManagedPrefixListsPaginator(api, &ec2.DescribeManagedPrefixListsInput{}),
		func(page *ec2.DescribeManagedPrefixListsOutput) {
			for _, pl := range page.PrefixLists {
				id := aws.ToString(pl.PrefixListId)
				if _, dup := described[id]; !dup {
					order = append(order, id)
				}
				described[id] = PrefixList{ID: id, Name: aws.ToString(pl.PrefixListName), OwnerID: aws.ToString(pl.OwnerId), AddressFamily: aws.ToString(pl.AddressFamily)}
			}
		})
	if err != nil {
		gaps.Add(PartPrefixLists, "DescribeManagedPrefixLists", "", err)
	}
	wanted := order
	if haveGroups {
		wanted = nil
		seen := map[string]bool{}
		for _, g := range groups {
			for _, perm := range g.Ingress {
				for _, id := range perm.PrefixListIDs {
					if !seen[id] {
						seen[id] = true
						wanted = append(wanted, id)
					}
				}
			}
		}
	}
	lists := make([]PrefixList, len(wanted))
	for i, id := range wanted {
		lists[i] = PrefixList{ID: id}
		if d, ok := described[id]; ok {
			lists[i] = d
		}
	}
	fanout.Each(ctx, len(lists), limit, func(ctx context.Context, i int) {
		pl := &lists[i]
		entries, err := paging.All(ctx, ec2.NewGetManagedPrefixListEntriesPaginator(api, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(pl.ID)}),
			func(page *ec2.GetManagedPrefixListEntriesOutput) []string {
				cidrs := make([]string, 0, len(page.Entries))
				for _, e := range page.Entries {
					cidrs = append(cidrs, aws.ToString(e.Cidr))
				}
				return cidrs
			})
		if err != nil {
			gaps.Add(PartPrefixLists, "GetManagedPrefixListEntries", pl.ID, err)
			pl.Entries, pl.Error = nil, check.ErrorText(err)
			return
		}
		pl.Entries = entries
	})
	return lists
}

func collectSnapshots(ctx context.Context, api API, accountID string, gaps *check.Gaps) []Snapshot {
	// The owner-id filter, not OwnerIds=self, which some endpoints ignore.
	in := &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("owner-id"), Values: []string{accountID}}}}
	listed, err := paging.All(ctx, ec2.NewDescribeSnapshotsPaginator(api, in),
		func(page *ec2.DescribeSnapshotsOutput) []types.Snapshot { return page.Snapshots })
	if err != nil {
		gaps.Add(PartSnapshots, "DescribeSnapshots", "", err)
		return nil
	}
	var snaps []Snapshot
	for _, s := range listed {
		if aws.ToString(s.OwnerId) != accountID {
			continue
		}
		snaps = append(snaps, Snapshot{
			ID: aws.ToString(s.SnapshotId), Name: nameTag(s.Tags),
			VolumeID: aws.ToString(s.VolumeId), Encrypted: aws.ToBool(s.Encrypted),
			KMSKeyID: aws.ToString(s.KmsKeyId), SizeGiB: aws.ToInt32(s.VolumeSize),
		})
	}
	return snaps
}

func collectVolumes(ctx context.Context, api API, gaps *check.Gaps) []Volume {
	listed, err := paging.All(ctx, ec2.NewDescribeVolumesPaginator(api, &ec2.DescribeVolumesInput{}),
		func(page *ec2.DescribeVolumesOutput) []types.Volume { return page.Volumes })
	if err != nil {
		gaps.Add(PartVolumes, "DescribeVolumes", "", err)
		return nil
	}
	var vols []Volume
	for _, v := range listed {
		vol := Volume{
			ID: aws.ToString(v.VolumeId), Name: nameTag(v.Tags), State: string(v.State),
			Encrypted: aws.ToBool(v.Encrypted), KMSKeyID: aws.ToString(v.KmsKeyId), SizeGiB: aws.ToInt32(v.Size),
		}
		for _, a := range v.Attachments {
			if id := aws.ToString(a.InstanceId); id != "" {
				vol.AttachedTo = append(vol.AttachedTo, id)
			}
		}
		vols = append(vols, vol)
	}
	return vols
}

func collectSnapshotPermissions(ctx context.Context, api API, snaps []Snapshot, limit int, gaps *check.Gaps) {
	fanout.Each(ctx, len(snaps), limit, func(ctx context.Context, i int) {
		s := &snaps[i]
		out, err := api.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
			SnapshotId: aws.String(s.ID), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
		})
		if err != nil {
			gaps.Add(PartSnapshotPermissions, "DescribeSnapshotAttribute", s.ID, err)
			s.PermissionsError = check.ErrorText(err)
			return
		}
		for _, p := range out.CreateVolumePermissions {
			if p.Group == types.PermissionGroupAll {
				s.Public = true
			}
			if id := aws.ToString(p.UserId); id != "" {
				s.SharedWith = append(s.SharedWith, id)
			}
		}
	})
}

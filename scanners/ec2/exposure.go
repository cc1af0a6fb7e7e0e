package ec2

import (
	"fmt"
	"strings"

	"github.com/posture-dev/posture/internal/check"
)

// exposurePorts are the ports ec2-instance-internet-exposed looks at.
func exposurePorts() []int32 {
	return append(append([]int32{}, AdminPorts...), DatabasePorts...)
}

// network indexes the inventory for reachability questions.
type network struct {
	groups      map[string]SecurityGroup
	subnetTable map[string]RouteTable
	mainTable   map[string]RouteTable
	subnetACL   map[string]NetworkACL
	defaultACL  map[string]NetworkACL
}

func indexNetwork(inv *Inventory) network {
	n := network{
		groups: map[string]SecurityGroup{}, subnetTable: map[string]RouteTable{}, mainTable: map[string]RouteTable{},
		subnetACL: map[string]NetworkACL{}, defaultACL: map[string]NetworkACL{},
	}
	for _, g := range inv.SecurityGroups {
		n.groups[g.ID] = g
	}
	for _, rt := range inv.RouteTables {
		if rt.Main {
			n.mainTable[rt.VPCID] = rt
		}
		for _, s := range rt.SubnetIDs {
			n.subnetTable[s] = rt
		}
	}
	for _, acl := range inv.NetworkACLs {
		if acl.IsDefault {
			n.defaultACL[acl.VPCID] = acl
		}
		for _, s := range acl.SubnetIDs {
			n.subnetACL[s] = acl
		}
	}
	return n
}

// routeTable returns the table that routes a subnet: its explicit
// association, else its VPC's main table.
func (n network) routeTable(subnetID, vpcID string) (RouteTable, bool) {
	if rt, ok := n.subnetTable[subnetID]; ok {
		return rt, true
	}
	rt, ok := n.mainTable[vpcID]
	return rt, ok
}

// acl returns the network ACL that guards a subnet: its association, else
// its VPC's default ACL.
func (n network) acl(subnetID, vpcID string) (NetworkACL, bool) {
	if acl, ok := n.subnetACL[subnetID]; ok {
		return acl, true
	}
	acl, ok := n.defaultACL[vpcID]
	return acl, ok
}

// internetRoute returns the internet gateway a table routes the whole
// internet (0.0.0.0/0, or ::/0 with ipv6) to, if any. Egress-only gateways
// and NAT gateways do not admit inbound connections and do not count.
func internetRoute(rt RouteTable, ipv6 bool) string {
	for _, r := range rt.Routes {
		dest := r.DestinationCIDR
		if ipv6 {
			dest = r.DestinationIPv6CIDR
		}
		if (ipv6 && dest != AnyIPv6) || (!ipv6 && dest != AnyIPv4) {
			continue
		}
		if strings.HasPrefix(r.Target, "igw-") && r.State != "blackhole" {
			return r.Target
		}
	}
	return ""
}

// exposedPort is one port reachable through both layers.
type exposedPort struct {
	Port          int32  `json:"port"`
	Source        string `json:"source"`
	SecurityGroup string `json:"security_group"`
	SGRule        string `json:"security_group_rule"`
	NetworkACL    string `json:"network_acl"`
	ACLEntry      string `json:"network_acl_entry"`
}

// reachability evaluates one address family of an instance.
func (n network) reachability(inst Instance, ipv6 bool) (exposed []exposedPort, reason string, evidence map[string]any) {
	evidence = map[string]any{}
	src := AnyIPv4
	if ipv6 {
		src = AnyIPv6
		if len(inst.IPv6Addresses) == 0 {
			return nil, "no IPv6 address", evidence
		}
		evidence["ipv6_addresses"] = inst.IPv6Addresses
	} else {
		if inst.PublicIP == "" {
			return nil, "no public IPv4 address", evidence
		}
		evidence["public_ip"] = inst.PublicIP
	}
	rt, ok := n.routeTable(inst.SubnetID, inst.VPCID)
	if !ok {
		return nil, fmt.Sprintf("no route table found for subnet %s", inst.SubnetID), evidence
	}
	evidence["route_table"] = rt.ID
	igw := internetRoute(rt, ipv6)
	if igw == "" {
		return nil, fmt.Sprintf("route table %s has no %s route to an internet gateway", rt.ID, src), evidence
	}
	evidence["internet_gateway"] = igw
	acl, hasACL := n.acl(inst.SubnetID, inst.VPCID)
	if hasACL {
		evidence["network_acl"] = acl.ID
	}
	admittedBySG := 0
	for _, gid := range inst.SecurityGroupIDs {
		g, ok := n.groups[gid]
		if !ok {
			continue
		}
		for _, o := range OpenTCPPorts(g, exposurePorts()) {
			if o.Source != src {
				continue
			}
			for _, port := range o.Ports {
				admittedBySG++
				e := exposedPort{Port: port, Source: src, SecurityGroup: gid, SGRule: o.Rule}
				if hasACL {
					d := InboundFromInternet(acl, port, ipv6)
					if !d.Allowed {
						continue
					}
					e.NetworkACL, e.ACLEntry = acl.ID, d.Entry
				}
				exposed = append(exposed, e)
			}
		}
	}
	switch {
	case admittedBySG == 0:
		reason = fmt.Sprintf("no security group admits %s to an admin or database port", src)
	case len(exposed) == 0:
		reason = fmt.Sprintf("network ACL %s denies %s on every port the security groups admit", acl.ID, src)
	}
	return exposed, reason, evidence
}

func instanceExposureCheck(inv *Inventory) []check.Finding {
	n := indexNetwork(inv)
	var out []check.Finding
	for _, inst := range inv.Instances {
		id, a := inst.ID, arn(inv, "instance/"+inst.ID)
		evidence := map[string]any{"state": inst.State, "vpc_id": inst.VPCID, "subnet_id": inst.SubnetID, "security_groups": inst.SecurityGroupIDs}
		if inst.Name != "" {
			evidence["name"] = inst.Name
		}
		var exposed []exposedPort
		var reasons []string
		for _, ipv6 := range []bool{false, true} {
			e, reason, ev := n.reachability(inst, ipv6)
			for k, v := range ev {
				evidence[k] = v
			}
			exposed = append(exposed, e...)
			if reason != "" {
				reasons = append(reasons, reason)
			}
		}
		if len(exposed) > 0 {
			var ports []string
			seen := map[int32]bool{}
			for _, e := range exposed {
				if !seen[e.Port] {
					ports = append(ports, fmt.Sprint(e.Port))
					seen[e.Port] = true
				}
			}
			evidence["exposed"] = exposed
			out = append(out, check.Fail(id, a,
				fmt.Sprintf("instance %s is reachable from the internet on TCP %s", inst.ID, strings.Join(ports, ", ")), evidence))
			continue
		}
		evidence["reasons"] = reasons
		out = append(out, check.Pass(id, a,
			fmt.Sprintf("instance %s is not reachable from the internet on admin or database ports: %s", inst.ID, reasons[0]), evidence))
	}
	return out
}

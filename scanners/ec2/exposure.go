package ec2

import (
	"fmt"
	"strings"

	"github.com/posture-dev/posture/internal/check"
)

// exposurePorts are the ports ec2-instance-internet-exposed looks at.
func exposurePorts() []int32 {
	return append(AdminPorts(), DatabasePorts()...)
}

// network indexes the inventory for reachability questions.
type network struct {
	groups      map[string]SecurityGroup
	subnetTable map[string]RouteTable
	mainTable   map[string]RouteTable
	subnetACL   map[string]NetworkACL
	defaultACL  map[string]NetworkACL
	lists       PrefixListIndex
}

func indexNetwork(inv *Inventory) network {
	n := network{
		groups: map[string]SecurityGroup{}, subnetTable: map[string]RouteTable{}, mainTable: map[string]RouteTable{},
		subnetACL: map[string]NetworkACL{}, defaultACL: map[string]NetworkACL{},
		lists: IndexPrefixLists(inv.PrefixLists),
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

// internetRoute returns the internet gateways a table routes the whole
// internet to (0.0.0.0/0, or ::/0 with ipv6, or blocks that together cover
// it, such as 0.0.0.0/1 and 128.0.0.0/1), joined; empty when the active
// routes to internet gateways do not cover it. Egress-only gateways and NAT
// gateways do not admit inbound connections and do not count.
func internetRoute(rt RouteTable, ipv6 bool) string {
	var routed AddrSet
	var gateways []string
	for _, r := range rt.Routes {
		dest := r.DestinationCIDR
		if ipv6 {
			dest = r.DestinationIPv6CIDR
		}
		if dest == "" || !strings.HasPrefix(r.Target, "igw-") || r.State == "blackhole" || isIPv6CIDR(dest) != ipv6 {
			continue
		}
		if routed.AddCIDR(dest) && !containsString(gateways, r.Target) {
			gateways = append(gateways, r.Target)
		}
	}
	if !coversInternet(routed, ipv6) {
		return ""
	}
	return strings.Join(gateways, ", ")
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// exposedPort is one port reachable through every layer.
type exposedPort struct {
	// Interface is the network interface the port is reached through; empty
	// for an instance judged by its instance-level fields.
	Interface     string `json:"network_interface,omitempty"`
	Port          int32  `json:"port"`
	Source        string `json:"source"`
	SecurityGroup string `json:"security_group"`
	SGRule        string `json:"security_group_rule"`
	NetworkACL    string `json:"network_acl"`
	ACLEntry      string `json:"network_acl_entry"`
}

// interfacesOf returns the interfaces an instance is reached through: its
// network interfaces, or, when none were collected, one made of its
// instance-level fields. An interface reported without groups, or without a
// VPC, takes the instance's when it is the primary one.
func interfacesOf(inst Instance) []NetworkInterface {
	if len(inst.NetworkInterfaces) == 0 {
		nic := NetworkInterface{SubnetID: inst.SubnetID, VPCID: inst.VPCID, IPv6Addresses: inst.IPv6Addresses, SecurityGroupIDs: inst.SecurityGroupIDs}
		if inst.PublicIP != "" {
			nic.PublicIPs = []string{inst.PublicIP}
		}
		return []NetworkInterface{nic}
	}
	out := append([]NetworkInterface(nil), inst.NetworkInterfaces...)
	for i := range out {
		if out[i].VPCID == "" {
			out[i].VPCID = inst.VPCID
		}
		if len(out[i].SecurityGroupIDs) == 0 && out[i].DeviceIndex == 0 {
			out[i].SecurityGroupIDs = inst.SecurityGroupIDs
		}
	}
	return out
}

// reachability evaluates one address family of one interface: exposed
// ports, else the reason there are none; unknown names the prefix lists that
// could not be read and on which the answer for some port hangs.
func (n network) reachability(nic NetworkInterface, ipv6 bool) (exposed []exposedPort, reason string, evidence map[string]any, unknown map[string]string) {
	evidence = map[string]any{}
	src := anyLabel(ipv6)
	if ipv6 {
		if len(nic.IPv6Addresses) == 0 {
			return nil, "no IPv6 address", evidence, nil
		}
		evidence["ipv6_addresses"] = nic.IPv6Addresses
	} else {
		if len(nic.PublicIPs) == 0 {
			return nil, "no public IPv4 address", evidence, nil
		}
		evidence["public_ip"] = nic.PublicIPs[0]
		if len(nic.PublicIPs) > 1 {
			evidence["public_ips"] = nic.PublicIPs
		}
	}
	rt, ok := n.routeTable(nic.SubnetID, nic.VPCID)
	if !ok {
		return nil, fmt.Sprintf("no route table found for subnet %s", nic.SubnetID), evidence, nil
	}
	evidence["route_table"] = rt.ID
	igw := internetRoute(rt, ipv6)
	if igw == "" {
		return nil, fmt.Sprintf("route table %s has no %s route to an internet gateway", rt.ID, src), evidence, nil
	}
	evidence["internet_gateway"] = igw
	acl, hasACL := n.acl(nic.SubnetID, nic.VPCID)
	if hasACL {
		evidence["network_acl"] = acl.ID
	}
	var groups []SecurityGroup
	for _, gid := range nic.SecurityGroupIDs {
		if g, ok := n.groups[gid]; ok {
			groups = append(groups, g)
		}
	}
	admittedBySG := 0
	for _, port := range exposurePorts() {
		adm := admit(groups, n.lists, ipv6, func(p Permission) bool { return coversTCPPort(p.Protocol, p.FromPort, p.ToPort, port) })
		var d ACLDecision
		if hasACL {
			d = InboundFromInternet(acl, port, ipv6)
		}
		if !adm.open {
			if adm.unknown != nil && (!hasACL || d.Allowed) {
				if unknown == nil {
					unknown = map[string]string{}
				}
				for id, why := range adm.unknown {
					unknown[id] = why
				}
			}
			continue
		}
		admittedBySG++
		if hasACL && !d.Allowed {
			continue
		}
		for _, r := range adm.rules {
			g := groups[r.group]
			p := g.Ingress[r.rule]
			rs := sourcesOf(p, n.lists, ipv6)
			e := exposedPort{Interface: nic.ID, Port: port, Source: rs.alone, SecurityGroup: g.ID, SGRule: describeRule(p.Protocol, p.FromPort, p.ToPort)}
			if e.Source == "" {
				e.Source = strings.Join(rs.written, ", ")
			}
			if hasACL {
				e.NetworkACL, e.ACLEntry = acl.ID, d.Entry
			}
			exposed = append(exposed, e)
		}
	}
	switch {
	case len(exposed) > 0:
	case admittedBySG == 0:
		reason = fmt.Sprintf("no security group admits %s to an admin or database port", src)
	default:
		reason = fmt.Sprintf("network ACL %s denies %s on every port the security groups admit", acl.ID, src)
	}
	return exposed, reason, evidence, unknown
}

// running reports whether an instance in state can be reached: pending and
// running instances can (and an inventory without the state is judged as
// running); stopping, stopped and shutting-down ones cannot.
func running(state string) bool {
	return state == "" || state == "running" || state == "pending"
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
		nics := interfacesOf(inst)
		var exposed []exposedPort
		var reasons []string
		unknown := map[string]string{}
		var perNIC []map[string]any
		decider := -1
		for i, nic := range nics {
			ev := map[string]any{"subnet_id": nic.SubnetID, "security_groups": nic.SecurityGroupIDs}
			if nic.ID != "" {
				ev["network_interface"] = nic.ID
				ev["device_index"] = nic.DeviceIndex
			}
			var nicReasons []string
			for _, ipv6 := range []bool{false, true} {
				e, reason, fev, unk := n.reachability(nic, ipv6)
				for k, v := range fev {
					ev[k] = v
				}
				exposed = append(exposed, e...)
				if len(e) > 0 && decider < 0 {
					decider = i
				}
				if reason != "" {
					if nic.ID != "" && len(nics) > 1 {
						reason = nic.ID + ": " + reason
					}
					nicReasons = append(nicReasons, reason)
				}
				for k, v := range unk {
					unknown[k] = v
				}
			}
			if len(nicReasons) > 0 {
				ev["reasons"] = nicReasons
			}
			reasons = append(reasons, nicReasons...)
			perNIC = append(perNIC, ev)
		}
		// The top-level keys describe the interface that decides: the first
		// exposed one, else the primary.
		if decider < 0 {
			decider = 0
		}
		for _, k := range []string{"public_ip", "public_ips", "ipv6_addresses", "route_table", "internet_gateway", "network_acl", "network_interface"} {
			if v, ok := perNIC[decider][k]; ok {
				evidence[k] = v
			}
		}
		if len(inst.NetworkInterfaces) > 0 {
			evidence["network_interfaces"] = perNIC
		}
		ports := exposedPortList(exposed)
		var via []string
		for _, e := range exposed {
			if e.Interface != "" && !containsString(via, e.Interface) {
				via = append(via, e.Interface)
			}
		}
		switch {
		case !running(inst.State):
			msg := fmt.Sprintf("instance %s is %s: it is not reachable from the internet while it is not running", inst.ID, inst.State)
			if len(exposed) > 0 {
				evidence["exposed_if_started"] = exposed
				msg += fmt.Sprintf(" (started with its current addresses, it would be reachable on TCP %s)", ports)
			}
			out = append(out, check.Pass(id, a, msg, evidence))
		case len(exposed) > 0:
			evidence["exposed"] = exposed
			msg := fmt.Sprintf("instance %s is reachable from the internet on TCP %s", inst.ID, ports)
			if len(nics) > 1 {
				msg += " through " + strings.Join(via, ", ")
			}
			out = append(out, check.Fail(id, a, msg, evidence))
		case len(unknown) > 0:
			evidence["reasons"] = reasons
			evidence["unreadable_prefix_lists"] = unknown
			out = append(out, check.Error(id, a,
				fmt.Sprintf("could not tell whether instance %s is reachable from the internet on admin or database ports: %s", inst.ID, unknownText(unknown)), evidence))
		default:
			evidence["reasons"] = reasons
			out = append(out, check.Pass(id, a,
				fmt.Sprintf("instance %s is not reachable from the internet on admin or database ports: %s", inst.ID, reasons[0]), evidence))
		}
	}
	return out
}

// exposedPortList renders the distinct exposed ports in order, e.g. "22, 3389".
func exposedPortList(exposed []exposedPort) string {
	var ports []string
	seen := map[int32]bool{}
	for _, e := range exposed {
		if !seen[e.Port] {
			ports = append(ports, fmt.Sprint(e.Port))
			seen[e.Port] = true
		}
	}
	return strings.Join(ports, ", ")
}

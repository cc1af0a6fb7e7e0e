// Package ec2 collects the EC2 network and compute inventory of one region
// (VPCs, subnets, route tables, security groups, the managed prefix lists
// their rules name, network ACLs, instances with their network interfaces,
// EBS volumes, snapshots and the encryption-by-default setting) and holds the
// checks that read it.
package ec2

// Inventory parts, named in check Needs and in coverage failures.
const (
	PartVPCs                = "vpcs"
	PartSubnets             = "subnets"
	PartRouteTables         = "route-tables"
	PartSecurityGroups      = "security-groups"
	PartPrefixLists         = "prefix-lists"
	PartNetworkACLs         = "network-acls"
	PartInstances           = "instances"
	PartSnapshots           = "snapshots"
	PartSnapshotPermissions = "snapshot-permissions"
	PartVolumes             = "volumes"
	PartEBSDefaults         = "ebs-encryption-by-default"
)

// Inventory is what the EC2 scanner collects in one region. It holds plain Go
// values only, so checks are tested with literals and the inventory can be
// saved and re-evaluated.
type Inventory struct {
	AccountID      string          `json:"account_id"`
	Region         string          `json:"region"`
	Partition      string          `json:"partition"`
	VPCs           []VPC           `json:"vpcs"`
	Subnets        []Subnet        `json:"subnets"`
	RouteTables    []RouteTable    `json:"route_tables"`
	SecurityGroups []SecurityGroup `json:"security_groups"`
	// PrefixLists are the managed prefix lists the security groups' ingress
	// rules name (every list of the region when no groups were collected),
	// with their entries.
	PrefixLists []PrefixList `json:"prefix_lists,omitempty"`
	NetworkACLs []NetworkACL `json:"network_acls"`
	Instances   []Instance   `json:"instances"`
	Snapshots   []Snapshot   `json:"snapshots"`
	Volumes     []Volume     `json:"volumes"`
	// EBSEncryptionByDefault is the region's EBS encryption-by-default
	// setting; nil when it was not collected.
	EBSEncryptionByDefault *bool `json:"ebs_encryption_by_default,omitempty"`
}

// VPC is a virtual private cloud.
type VPC struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	IsDefault bool   `json:"is_default"`
	CIDR      string `json:"cidr,omitempty"`
}

// Subnet is a subnet of a VPC.
type Subnet struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	VPCID string `json:"vpc_id"`
}

// RouteTable is a route table and the subnets explicitly associated with it.
type RouteTable struct {
	ID        string   `json:"id"`
	VPCID     string   `json:"vpc_id"`
	Main      bool     `json:"main"`
	SubnetIDs []string `json:"subnet_ids,omitempty"`
	Routes    []Route  `json:"routes"`
}

// Route is one route of a route table.
type Route struct {
	DestinationCIDR     string `json:"destination_cidr,omitempty"`
	DestinationIPv6CIDR string `json:"destination_ipv6_cidr,omitempty"`
	// Target is the gateway, instance, interface, NAT gateway or peering
	// connection the route sends traffic to.
	Target string `json:"target,omitempty"`
	// State is "active" or "blackhole"; empty when not reported.
	State string `json:"state,omitempty"`
}

// SecurityGroup is a security group with its rules.
type SecurityGroup struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	VPCID   string       `json:"vpc_id,omitempty"`
	OwnerID string       `json:"owner_id,omitempty"`
	Ingress []Permission `json:"ingress"`
	Egress  []Permission `json:"egress"`
}

// Permission is one security group rule (an IpPermission) with its sources
// or destinations.
type Permission struct {
	// Protocol is "-1" (all), "tcp", "udp", "icmp", "icmpv6" or a protocol number.
	Protocol string `json:"protocol"`
	// FromPort and ToPort bound the port range; both nil (or -1) means all
	// ports of the protocol.
	FromPort *int32 `json:"from_port,omitempty"`
	ToPort   *int32 `json:"to_port,omitempty"`
	// IPv4Ranges and IPv6Ranges are CIDR blocks.
	IPv4Ranges     []string `json:"ipv4_ranges,omitempty"`
	IPv6Ranges     []string `json:"ipv6_ranges,omitempty"`
	PrefixListIDs  []string `json:"prefix_list_ids,omitempty"`
	SourceGroupIDs []string `json:"source_group_ids,omitempty"`
}

// PrefixList is a managed prefix list, customer-managed or AWS-managed
// (owner "AWS", e.g. com.amazonaws.global.cloudfront.origin-facing), with
// its current entries.
type PrefixList struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	OwnerID       string `json:"owner_id,omitempty"`
	AddressFamily string `json:"address_family,omitempty"`
	// Entries are the list's CIDR blocks.
	Entries []string `json:"entries,omitempty"`
	// Error is set when the entries could not be read; Entries is then
	// incomplete and must not be judged.
	Error string `json:"error,omitempty"`
}

// NetworkACL is a network ACL, its entries and the subnets it guards.
type NetworkACL struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	VPCID     string     `json:"vpc_id"`
	IsDefault bool       `json:"is_default"`
	SubnetIDs []string   `json:"subnet_ids,omitempty"`
	Entries   []ACLEntry `json:"entries"`
}

// ACLEntry is one numbered rule of a network ACL.
type ACLEntry struct {
	RuleNumber int32 `json:"rule_number"`
	Egress     bool  `json:"egress"`
	// Protocol is "-1" (all) or a protocol number ("6" TCP, "17" UDP).
	Protocol string `json:"protocol"`
	Allow    bool   `json:"allow"`
	CIDR     string `json:"cidr,omitempty"`
	IPv6CIDR string `json:"ipv6_cidr,omitempty"`
	// FromPort and ToPort are nil when the entry covers every port.
	FromPort *int32 `json:"from_port,omitempty"`
	ToPort   *int32 `json:"to_port,omitempty"`
}

// Instance is an EC2 instance. VPCID, SubnetID, PublicIP and
// SecurityGroupIDs are the instance-level fields of DescribeInstances, which
// describe the primary network interface only (and which some answers leave
// empty); NetworkInterfaces describes every interface.
type Instance struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	State    string `json:"state"`
	VPCID    string `json:"vpc_id,omitempty"`
	SubnetID string `json:"subnet_id,omitempty"`
	PublicIP string `json:"public_ip,omitempty"`
	// IPv6Addresses are the IPv6 addresses of all the instance's interfaces.
	IPv6Addresses    []string `json:"ipv6_addresses,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
	// NetworkInterfaces are the attached interfaces, primary first. An
	// instance without them (an inventory saved before they were collected)
	// is judged as one interface made of the instance-level fields.
	NetworkInterfaces []NetworkInterface `json:"network_interfaces,omitempty"`
}

// NetworkInterface is an elastic network interface attached to an instance.
type NetworkInterface struct {
	ID string `json:"id"`
	// DeviceIndex is the attachment's device index; 0 is the primary.
	DeviceIndex int32  `json:"device_index"`
	SubnetID    string `json:"subnet_id,omitempty"`
	VPCID       string `json:"vpc_id,omitempty"`
	// PublicIPs are the public IPv4 addresses (auto-assigned or Elastic IPs)
	// associated with any of the interface's private addresses, the
	// secondary ones included.
	PublicIPs        []string `json:"public_ips,omitempty"`
	IPv6Addresses    []string `json:"ipv6_addresses,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
}

// Snapshot is an EBS snapshot owned by the scanned account.
type Snapshot struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	VolumeID  string `json:"volume_id,omitempty"`
	Encrypted bool   `json:"encrypted"`
	// KMSKeyID is the KMS key that encrypts the snapshot, when reported.
	KMSKeyID string `json:"kms_key_id,omitempty"`
	// SizeGiB is the size of the volume the snapshot was taken from.
	SizeGiB int32 `json:"size_gib,omitempty"`
	// Public is true when createVolumePermission grants the group "all".
	Public bool `json:"public"`
	// SharedWith lists the account IDs the snapshot is shared with.
	SharedWith []string `json:"shared_with,omitempty"`
	// PermissionsError is set when the snapshot's permissions could not be read.
	PermissionsError string `json:"permissions_error,omitempty"`
}

// Volume is an EBS volume.
type Volume struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// State is "creating", "available", "in-use", ...
	State     string `json:"state,omitempty"`
	Encrypted bool   `json:"encrypted"`
	// KMSKeyID is the KMS key that encrypts the volume, when encrypted.
	KMSKeyID string `json:"kms_key_id,omitempty"`
	SizeGiB  int32  `json:"size_gib"`
	// AttachedTo lists the IDs of the instances the volume is attached to.
	AttachedTo []string `json:"attached_to,omitempty"`
}

package demo

import "context"

const (
	anyV4 = "0.0.0.0/0"
	anyV6 = "::/0"
)

// egressAllowAll is the outbound entry every demo NACL has.
func egressAllowAll() naclEntry {
	return naclEntry{num: 100, egress: true, proto: "-1", cidr: anyV4, allow: true}
}

// seedProd builds acme-prod in us-east-1: the tidy production VPC. One
// admin-port slip (acme-prod-ops) is contained by the public subnet's NACL.
func seedProd(ctx context.Context, n *network) error {
	const env = "prod"
	vpc, err := n.vpc(ctx, "prod-vpc", "acme-prod", env, "10.0.0.0/16")
	if err != nil {
		return err
	}
	pubA, err := n.subnet(ctx, "prod-public-a", "acme-prod-public-a", env, vpc, "10.0.1.0/24", "us-east-1a", true)
	if err != nil {
		return err
	}
	privA, err := n.subnet(ctx, "prod-private-a", "acme-prod-private-a", env, vpc, "10.0.11.0/24", "us-east-1a", false)
	if err != nil {
		return err
	}
	privB, err := n.subnet(ctx, "prod-private-b", "acme-prod-private-b", env, vpc, "10.0.12.0/24", "us-east-1b", false)
	if err != nil {
		return err
	}
	if err := n.internetRoute(ctx, "prod", "acme-prod", env, vpc, pubA); err != nil {
		return err
	}
	if err := n.defaultSecurityGroup(ctx, "prod-default-sg", "acme-prod-default", env, vpc, true); err != nil {
		return err
	}
	if err := n.defaultNACL(ctx, "prod-default-nacl", "acme-prod-default-nacl", env, vpc, true); err != nil {
		return err
	}
	if err := n.networkACL(ctx, "prod-public-nacl", "acme-prod-public-nacl", env, vpc, []naclEntry{
		{num: 100, proto: "6", from: 22, to: 22, cidr: anyV4},
		{num: 110, proto: "6", from: 3389, to: 3389, cidr: anyV4},
		{num: 200, proto: "-1", cidr: anyV4, allow: true},
		egressAllowAll(),
	}, pubA); err != nil {
		return err
	}
	if err := n.networkACL(ctx, "prod-private-nacl", "acme-prod-private-nacl", env, vpc, []naclEntry{
		{num: 100, proto: "-1", cidr: "10.0.0.0/16", allow: true},
		egressAllowAll(),
	}, privA, privB); err != nil {
		return err
	}

	web, err := n.securityGroup(ctx, "prod-web-sg", "acme-prod-web", env, vpc, "Public web tier: HTTP/HTTPS from anywhere, SSH from inside the VPC",
		tcp(80, anyV4, "HTTP from anywhere"),
		tcp(443, anyV4, "HTTPS from anywhere"),
		rule{proto: "tcp", from: 443, to: 443, cidr6: anyV6, desc: "HTTPS from anywhere (IPv6)"},
		tcp(22, "10.0.0.0/16", "SSH from inside the VPC"),
	)
	if err != nil {
		return err
	}
	ops, err := n.securityGroup(ctx, "prod-ops-sg", "acme-prod-ops", env, vpc, "Ops box",
		tcp(22, anyV4, "TEMPORARY on-call SSH from home, INC-4711"),
	)
	if err != nil {
		return err
	}
	app, err := n.securityGroup(ctx, "prod-app-sg", "acme-prod-app", env, vpc, "Application tier: 8080 from the web tier",
		rule{proto: "tcp", from: 8080, to: 8080, group: web, desc: "from acme-prod-web"},
	)
	if err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "prod-db-sg", "acme-prod-db", env, vpc, "Orders database: PostgreSQL from the app tier",
		rule{proto: "tcp", from: 5432, to: 5432, group: app, desc: "from acme-prod-app"},
	); err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "prod-dw-sg", "acme-prod-analytics", env, vpc, "Analytics warehouse: Redshift from the app tier",
		rule{proto: "tcp", from: 5439, to: 5439, group: app, desc: "from acme-prod-app"},
	); err != nil {
		return err
	}

	ami, err := n.image(ctx, "use1-base-ami", "use1-ami-root-snap")
	if err != nil {
		return err
	}
	if _, err := n.instance(ctx, "prod-web-1", "acme-prod-web-1", env, ami, pubA, web); err != nil {
		return err
	}
	if _, err := n.instance(ctx, "prod-ops-1", "acme-prod-ops-1", env, ami, pubA, ops); err != nil {
		return err
	}
	if _, err := n.instance(ctx, "prod-app-1", "acme-prod-app-1", env, ami, privA, app); err != nil {
		return err
	}

	vol, err := n.volume(ctx, "prod-app-data-vol", "acme-prod-app-data", env, "us-east-1a", 100, true)
	if err != nil {
		return err
	}
	if err := n.snapshot(ctx, "prod-app-data-snap", "acme-prod-app-data-nightly", env, vol, nil, nil); err != nil {
		return err
	}
	return n.snapshot(ctx, "prod-app-data-dr-snap", "acme-prod-app-data-dr-copy", env, vol, nil, []string{DRAccountID})
}

// seedLegacy builds acme-legacy in us-east-1: the VPC from before Acme had a
// security team. Almost everything in it is a finding.
func seedLegacy(ctx context.Context, n *network) error {
	const env = "legacy"
	vpc, err := n.vpc(ctx, "legacy-vpc", "acme-legacy", env, "172.16.0.0/16")
	if err != nil {
		return err
	}
	pubA, err := n.subnet(ctx, "legacy-public-a", "acme-legacy-public-a", env, vpc, "172.16.1.0/24", "us-east-1a", true)
	if err != nil {
		return err
	}
	pubB, err := n.subnet(ctx, "legacy-public-b", "acme-legacy-public-b", env, vpc, "172.16.2.0/24", "us-east-1b", true)
	if err != nil {
		return err
	}
	if err := n.internetRoute(ctx, "legacy", "acme-legacy", env, vpc, pubA, pubB); err != nil {
		return err
	}
	if err := n.defaultSecurityGroup(ctx, "legacy-default-sg", "acme-legacy-default", env, vpc, false); err != nil {
		return err
	}
	// Both subnets stay on the default, allow-all NACL.
	if err := n.defaultNACL(ctx, "legacy-default-nacl", "acme-legacy-default-nacl", env, vpc, false); err != nil {
		return err
	}

	bastion, err := n.securityGroup(ctx, "legacy-bastion-sg", "acme-legacy-bastion", env, vpc, "Bastion: SSH and RDP",
		tcp(22, anyV4, "SSH"),
		rule{proto: "tcp", from: 22, to: 22, cidr6: anyV6, desc: "SSH (IPv6)"},
		tcp(3389, anyV4, "RDP for the Windows jump host"),
	)
	if err != nil {
		return err
	}
	db, err := n.securityGroup(ctx, "legacy-db-sg", "acme-legacy-db", env, vpc, "Legacy data stores",
		tcp(3306, anyV4, "MySQL"),
		tcp(6379, anyV4, "Redis"),
		tcp(27017, anyV4, "MongoDB"),
	)
	if err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "legacy-debug-sg", "acme-legacy-debug-temp", env, vpc, "temp debugging, remove after 2019-03",
		rule{proto: "-1", cidr: anyV4, desc: "everything"},
	); err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "legacy-vendor-sg", "acme-legacy-vendor-sftp", env, vpc, "Vendor SFTP drop, vendor IPs unknown",
		rule{proto: "tcp", from: 0, to: 65535, cidr: anyV4, desc: "vendor"},
	); err != nil {
		return err
	}

	ami := n.inv.Images["use1-base-ami"]
	if _, err := n.instance(ctx, "legacy-bastion", "acme-legacy-bastion", env, ami, pubA, bastion); err != nil {
		return err
	}
	if _, err := n.instance(ctx, "legacy-mongo", "acme-legacy-mongo-1", env, ami, pubB, db); err != nil {
		return err
	}

	vol, err := n.volume(ctx, "legacy-fileshare-vol", "acme-legacy-fileshare", env, "us-east-1a", 50, false)
	if err != nil {
		return err
	}
	return n.snapshot(ctx, "legacy-fileshare-snap", "acme-legacy-fileshare-for-vendor", env, vol, []string{"all"}, nil)
}

// seedEU builds acme-eu in eu-west-1: newer, mostly right, but its public
// NACL puts the SSH/RDP denies after an allow-all.
func seedEU(ctx context.Context, n *network) error {
	const env = "eu"
	vpc, err := n.vpc(ctx, "eu-vpc", "acme-eu", env, "10.20.0.0/16")
	if err != nil {
		return err
	}
	pubA, err := n.subnet(ctx, "eu-public-a", "acme-eu-public-a", env, vpc, "10.20.1.0/24", "eu-west-1a", true)
	if err != nil {
		return err
	}
	privA, err := n.subnet(ctx, "eu-private-a", "acme-eu-private-a", env, vpc, "10.20.11.0/24", "eu-west-1a", false)
	if err != nil {
		return err
	}
	if _, err := n.subnet(ctx, "eu-private-b", "acme-eu-private-b", env, vpc, "10.20.12.0/24", "eu-west-1b", false); err != nil {
		return err
	}
	if err := n.internetRoute(ctx, "eu", "acme-eu", env, vpc, pubA); err != nil {
		return err
	}
	if err := n.defaultSecurityGroup(ctx, "eu-default-sg", "acme-eu-default", env, vpc, false); err != nil {
		return err
	}
	if err := n.defaultNACL(ctx, "eu-default-nacl", "acme-eu-default-nacl", env, vpc, false); err != nil {
		return err
	}
	if err := n.networkACL(ctx, "eu-public-nacl", "acme-eu-public-nacl", env, vpc, []naclEntry{
		{num: 100, proto: "-1", cidr: anyV4, allow: true},
		{num: 200, proto: "6", from: 22, to: 22, cidr: anyV4},
		{num: 210, proto: "6", from: 3389, to: 3389, cidr: anyV4},
		egressAllowAll(),
	}, pubA); err != nil {
		return err
	}

	web, err := n.securityGroup(ctx, "eu-web-sg", "acme-eu-web", env, vpc, "EU web tier: HTTPS only",
		tcp(443, anyV4, "HTTPS"),
		rule{proto: "tcp", from: 443, to: 443, cidr6: anyV6, desc: "HTTPS (IPv6)"},
	)
	if err != nil {
		return err
	}
	worker, err := n.securityGroup(ctx, "eu-worker-sg", "acme-eu-worker", env, vpc, "EU workers: no inbound")
	if err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "eu-cache-sg", "acme-eu-cache", env, vpc, "EU Redis: from inside the VPC",
		tcp(6379, "10.20.0.0/16", "Redis from the VPC"),
	); err != nil {
		return err
	}
	if _, err := n.securityGroup(ctx, "eu-dw-sg", "acme-eu-marketing-dw", env, vpc, "Marketing warehouse: Redshift from the Dublin office",
		tcp(5439, "203.0.113.0/24", "Dublin office"),
	); err != nil {
		return err
	}

	ami, err := n.image(ctx, "euw1-base-ami", "euw1-ami-root-snap")
	if err != nil {
		return err
	}
	if _, err := n.instance(ctx, "eu-web-1", "acme-eu-web-1", env, ami, pubA, web); err != nil {
		return err
	}
	_, err = n.instance(ctx, "eu-worker-1", "acme-eu-worker-1", env, ami, privA, worker)
	return err
}

package demo

import (
	"context"
	"encoding/json"
	"github.com/posture-dev/posture/internal/awsenv"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/posture-dev/posture/internal/emulator/emutest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// storyChecks are the checks the story covers: all four families.
var storyChecks = []string{
	"ec2-sg-open-admin-port", "ec2-sg-open-database-port", "ec2-sg-open-all-ports",
	"ec2-sg-default-not-restricted", "ec2-nacl-open-admin-port", "ec2-instance-internet-exposed",
	"rds-instance-public", "redshift-cluster-public", "s3-bucket-public",
	"s3-account-public-access-block-off", "ec2-snapshot-public", "rds-snapshot-public",

	"ec2-instance-outside-vpc", "ec2-instance-in-default-vpc", "lambda-function-outside-vpc",
	"rds-instance-outside-vpc", "elasticache-cluster-outside-vpc", "redshift-cluster-outside-vpc",

	"ec2-ebs-volume-unencrypted", "ec2-ebs-default-encryption-off", "ec2-ebs-snapshot-unencrypted",
	"s3-bucket-unencrypted", "s3-bucket-tls-not-enforced", "rds-instance-unencrypted",
	"rds-cluster-unencrypted", "rds-snapshot-unencrypted", "efs-filesystem-unencrypted",
	"dynamodb-table-default-key", "sqs-queue-unencrypted", "sns-topic-unencrypted",
	"redshift-cluster-unencrypted", "elasticache-replication-group-unencrypted",
	"cloudtrail-trail-not-kms-encrypted", "kinesis-stream-unencrypted",

	"iam-access-key-unrotated", "iam-credential-unused", "iam-user-console-without-mfa", "iam-user-multiple-active-keys",
	"iam-root-access-key-present", "iam-root-mfa-disabled", "iam-password-policy-weak", "kms-key-rotation-disabled",
	"secretsmanager-rotation-disabled", "secretsmanager-secret-unrotated", "acm-certificate-expiring", "iam-server-certificate-expired",
}

// TestExpectationsCoverStory checks the story table itself: every check has a
// FAIL and a PASS, but those OneSided excuses, which have exactly one kind.
func TestExpectationsCoverStory(t *testing.T) {
	want := map[string]map[string]bool{}
	for _, e := range append(Expectations(), AgedExpectations()...) {
		if !slices.Contains(storyChecks, e.Check) {
			t.Errorf("expectation for unknown check %q", e.Check)
		}
		if e.Want != "PASS" && e.Want != "FAIL" {
			t.Errorf("%s %s: Want %q", e.Check, e.Role, e.Want)
		}
		if want[e.Check] == nil {
			want[e.Check] = map[string]bool{}
		}
		want[e.Check][e.Want] = true
	}
	oneSided := OneSided()
	for _, c := range storyChecks {
		if _, ok := oneSided[c]; ok {
			if want[c]["FAIL"] == want[c]["PASS"] {
				t.Errorf("%s: one-sided, but the story has PASS %v and FAIL %v", c, want[c]["PASS"], want[c]["FAIL"])
			}
			continue
		}
		if !want[c]["FAIL"] {
			t.Errorf("%s: no FAIL in the story", c)
		}
		if !want[c]["PASS"] {
			t.Errorf("%s: no PASS in the story", c)
		}
	}
	for c := range oneSided {
		if !slices.Contains(storyChecks, c) {
			t.Errorf("OneSided names unknown check %s", c)
		}
	}
}

// TestStoryTableMatchesExpectations keeps the tables in the comments of
// demo.go and credentials.go and Expectations and AgedExpectations in step.
func TestStoryTableMatchesExpectations(t *testing.T) {
	compareTable(t, "demo.go", Expectations())
	compareTable(t, "credentials.go", AgedExpectations())
}

func compareTable(t *testing.T, file string, want []Expectation) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{"use1": PrimaryRegion, "euw1": SecondaryRegion, "global": "global"}
	var table []Expectation
	for line := range strings.Lines(string(src)) {
		f := strings.Fields(strings.TrimPrefix(line, "//\t"))
		if !strings.HasPrefix(line, "//\t") || len(f) < 5 || !slices.Contains(storyChecks, f[0]) {
			continue
		}
		table = append(table, Expectation{Check: f[0], Region: codes[f[1]], Role: f[2], Want: f[3], Why: strings.Join(f[4:], " ")})
	}
	if len(table) != len(want) {
		t.Fatalf("%s: the comment table has %d rows, the expectations %d", file, len(table), len(want))
	}
	for i := range want {
		if table[i] != want[i] {
			t.Errorf("row %d:\ncomment      %+v\nExpectations %+v", i, table[i], want[i])
		}
	}
}

func TestSeed(t *testing.T) {
	srv := emutest.Fresh(t)
	cfg := emutest.Config(t, srv.URL, "ap-south-1") // Seed must ignore the region
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	start := time.Now()
	inv, err := Seed(ctx, cfg)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	t.Logf("Seed took %v", time.Since(start))
	if inv.AccountID == "" {
		t.Error("AccountID is empty")
	}

	// Every expectation names a seeded resource in the stated region.
	for _, e := range append(Expectations(), AgedExpectations()...) {
		id := inv.ID(e.Role)
		if id == "" {
			t.Errorf("%s: role %q not in inventory", e.Check, e.Role)
			continue
		}
		// Account-level settings are per region but have the account's ID.
		if e.Region != "global" && e.Role != "account" && inv.RegionOf[id] != e.Region {
			t.Errorf("%s: %s (%s) is in %q, table says %q", e.Check, e.Role, id, inv.RegionOf[id], e.Region)
		}
	}

	use1 := ec2.NewFromConfig(regional(cfg, PrimaryRegion))
	euw1 := ec2.NewFromConfig(regional(cfg, SecondaryRegion))
	t.Run("network", func(t *testing.T) { checkNetwork(ctx, t, inv, use1, euw1) })
	t.Run("instances", func(t *testing.T) { checkInstances(ctx, t, inv, use1, euw1) })
	t.Run("ebs-snapshots", func(t *testing.T) { checkEBSSnapshots(ctx, t, inv, use1) })
	t.Run("rds", func(t *testing.T) { checkRDS(ctx, t, inv, cfg) })
	t.Run("redshift", func(t *testing.T) { checkRedshift(ctx, t, inv, cfg) })
	t.Run("s3", func(t *testing.T) { checkS3(ctx, t, inv, cfg) })
	t.Run("stores", func(t *testing.T) { checkStores(ctx, t, inv, cfg, use1, euw1) })
}

func ec2For(inv *Inventory, id string, use1, euw1 *ec2.Client) *ec2.Client {
	if inv.RegionOf[id] == SecondaryRegion {
		return euw1
	}
	return use1
}

func nameTag(tags []ec2types.Tag) string {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == "Name" {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

func checkNetwork(ctx context.Context, t *testing.T, inv *Inventory, use1, euw1 *ec2.Client) {
	// Internet routes: each public route table sends 0.0.0.0/0 to its IGW and
	// is associated with the public subnets.
	for prefix, subnets := range map[string][]string{
		"prod":   {"prod-public-a"},
		"legacy": {"legacy-public-a", "legacy-public-b"},
		"eu":     {"eu-public-a"},
	} {
		rtID, igwID := inv.RouteTables[prefix+"-public-rt"], inv.InternetGateways[prefix+"-igw"]
		c := ec2For(inv, rtID, use1, euw1)
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtID}})
		if err != nil || len(out.RouteTables) != 1 {
			t.Fatalf("describe route table %s: %v", rtID, err)
		}
		rt := out.RouteTables[0]
		if !slices.ContainsFunc(rt.Routes, func(r ec2types.Route) bool {
			return aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && aws.ToString(r.GatewayId) == igwID
		}) {
			t.Errorf("%s-public-rt: no 0.0.0.0/0 route to %s: %+v", prefix, igwID, rt.Routes)
		}
		for _, s := range subnets {
			if !slices.ContainsFunc(rt.Associations, func(a ec2types.RouteTableAssociation) bool {
				return aws.ToString(a.SubnetId) == inv.Subnets[s]
			}) {
				t.Errorf("%s-public-rt: not associated with %s", prefix, s)
			}
		}
		igw, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igwID}})
		if err != nil || len(igw.InternetGateways) != 1 || len(igw.InternetGateways[0].Attachments) != 1 ||
			aws.ToString(igw.InternetGateways[0].Attachments[0].VpcId) != inv.VPCs[prefix+"-vpc"] {
			t.Errorf("%s-igw not attached to %s: %+v %v", prefix, inv.VPCs[prefix+"-vpc"], igw, err)
		}
	}

	// Security groups.
	sgs := map[string]ec2types.SecurityGroup{}
	for role, id := range inv.SecurityGroups {
		c := ec2For(inv, id, use1, euw1)
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if err != nil || len(out.SecurityGroups) != 1 {
			t.Fatalf("describe %s (%s): %v", role, id, err)
		}
		sgs[role] = out.SecurityGroups[0]
		if !strings.HasPrefix(nameTag(out.SecurityGroups[0].Tags), "acme-") {
			t.Errorf("%s: Name tag %q", role, nameTag(out.SecurityGroups[0].Tags))
		}
	}
	if sg := sgs["prod-default-sg"]; len(sg.IpPermissions)+len(sg.IpPermissionsEgress) != 0 {
		t.Errorf("prod-default-sg still has rules: %+v %+v", sg.IpPermissions, sg.IpPermissionsEgress)
	}
	if sg := sgs["legacy-default-sg"]; len(sg.IpPermissions)+len(sg.IpPermissionsEgress) == 0 {
		t.Error("legacy-default-sg has no rules; the story needs it open")
	}
	openTo := func(role, proto string, port int32) bool {
		for _, p := range sgs[role].IpPermissions {
			if aws.ToString(p.IpProtocol) != proto {
				continue
			}
			if proto != "-1" && (aws.ToInt32(p.FromPort) > port || aws.ToInt32(p.ToPort) < port) {
				continue
			}
			if slices.ContainsFunc(p.IpRanges, func(r ec2types.IpRange) bool { return aws.ToString(r.CidrIp) == "0.0.0.0/0" }) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		role, proto string
		port        int32
		want        bool
	}{
		{"legacy-bastion-sg", "tcp", 22, true},
		{"legacy-bastion-sg", "tcp", 3389, true},
		{"prod-ops-sg", "tcp", 22, true},
		{"legacy-db-sg", "tcp", 3306, true},
		{"legacy-db-sg", "tcp", 27017, true},
		{"legacy-debug-sg", "-1", 0, true},
		{"legacy-vendor-sg", "tcp", 22, true},
		{"legacy-vendor-sg", "tcp", 65535, true},
		{"prod-web-sg", "tcp", 443, true},
		{"prod-web-sg", "tcp", 22, false},
		{"prod-db-sg", "tcp", 5432, false},
		{"eu-dw-sg", "tcp", 5439, false},
		{"eu-web-sg", "tcp", 22, false},
	} {
		if got := openTo(c.role, c.proto, c.port); got != c.want {
			t.Errorf("%s open to the internet on %s/%d = %v, want %v", c.role, c.proto, c.port, got, c.want)
		}
	}

	// Network ACLs: entries and subnet associations.
	acls := map[string]ec2types.NetworkAcl{}
	for role, id := range inv.NetworkACLs {
		c := ec2For(inv, id, use1, euw1)
		out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
		if err != nil || len(out.NetworkAcls) != 1 {
			t.Fatalf("describe %s (%s): %v", role, id, err)
		}
		acls[role] = out.NetworkAcls[0]
	}
	inbound := func(role string) []int32 {
		var nums []int32
		for _, e := range acls[role].Entries {
			if !aws.ToBool(e.Egress) {
				nums = append(nums, aws.ToInt32(e.RuleNumber))
			}
		}
		slices.Sort(nums)
		return nums
	}
	entry := func(role string, num int32) ec2types.NetworkAclEntry {
		for _, e := range acls[role].Entries {
			if !aws.ToBool(e.Egress) && aws.ToInt32(e.RuleNumber) == num {
				return e
			}
		}
		t.Fatalf("%s: no inbound entry #%d", role, num)
		return ec2types.NetworkAclEntry{}
	}
	if got := inbound("prod-public-nacl"); !slices.Equal(got, []int32{100, 110, 200}) {
		t.Errorf("prod-public-nacl inbound rule numbers %v", got)
	}
	if e := entry("prod-public-nacl", 100); e.RuleAction != ec2types.RuleActionDeny || aws.ToInt32(e.PortRange.From) != 22 {
		t.Errorf("prod-public-nacl #100 = %s %+v, want deny 22", e.RuleAction, e.PortRange)
	}
	if e := entry("eu-public-nacl", 100); e.RuleAction != ec2types.RuleActionAllow || aws.ToString(e.Protocol) != "-1" {
		t.Errorf("eu-public-nacl #100 = %s %s, want allow all", e.RuleAction, aws.ToString(e.Protocol))
	}
	if got := inbound("prod-default-nacl"); slices.Contains(got, 100) {
		t.Errorf("prod-default-nacl still has inbound #100: %v", got)
	}
	if e := entry("legacy-default-nacl", 100); e.RuleAction != ec2types.RuleActionAllow {
		t.Errorf("legacy-default-nacl #100 = %s, want allow", e.RuleAction)
	}
	for role, subnets := range map[string][]string{
		"prod-public-nacl":    {"prod-public-a"},
		"prod-private-nacl":   {"prod-private-a", "prod-private-b"},
		"legacy-default-nacl": {"legacy-public-a", "legacy-public-b"},
		"eu-public-nacl":      {"eu-public-a"},
	} {
		for _, s := range subnets {
			if !slices.ContainsFunc(acls[role].Associations, func(a ec2types.NetworkAclAssociation) bool {
				return aws.ToString(a.SubnetId) == inv.Subnets[s]
			}) {
				t.Errorf("%s not associated with %s", role, s)
			}
		}
	}
}

func checkInstances(ctx context.Context, t *testing.T, inv *Inventory, use1, euw1 *ec2.Client) {
	want := map[string]struct {
		subnet, sg string
		public     bool
	}{
		"prod-web-1":     {"prod-public-a", "prod-web-sg", true},
		"prod-ops-1":     {"prod-public-a", "prod-ops-sg", true},
		"prod-app-1":     {"prod-private-a", "prod-app-sg", false},
		"legacy-bastion": {"legacy-public-a", "legacy-bastion-sg", true},
		"legacy-mongo":   {"legacy-public-b", "legacy-db-sg", true},
		"eu-web-1":       {"eu-public-a", "eu-web-sg", true},
		"eu-worker-1":    {"eu-private-a", "eu-worker-sg", false},
	}
	// legacy-jumpbox, in the default VPC, is checked by checkStores.
	if len(inv.Instances) != len(want)+1 {
		t.Errorf("inventory has %d instances, want %d", len(inv.Instances), len(want)+1)
	}
	for role, w := range want {
		id := inv.Instances[role]
		c := ec2For(inv, id, use1, euw1)
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
			t.Fatalf("describe %s (%s): %v", role, id, err)
		}
		in := out.Reservations[0].Instances[0]
		if got := aws.ToString(in.SubnetId); got != inv.Subnets[w.subnet] {
			t.Errorf("%s: subnet %s, want %s", role, got, w.subnet)
		}
		if got := in.PublicIpAddress != nil; got != w.public {
			t.Errorf("%s: has public IP = %v, want %v", role, got, w.public)
		}
		if len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupId) != inv.SecurityGroups[w.sg] {
			t.Errorf("%s: security groups %+v, want %s", role, in.SecurityGroups, w.sg)
		}
		if !strings.HasPrefix(nameTag(in.Tags), "acme-") {
			t.Errorf("%s: Name tag %q", role, nameTag(in.Tags))
		}
	}
}

func checkEBSSnapshots(ctx context.Context, t *testing.T, inv *Inventory, use1 *ec2.Client) {
	for role, want := range map[string]struct{ group, user string }{
		"legacy-fileshare-snap": {group: "all"},
		"prod-app-data-snap":    {},
		"prod-app-data-dr-snap": {user: DRAccountID},
		"use1-ami-root-snap":    {},
	} {
		id := inv.Snapshots[role]
		out, err := use1.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
			SnapshotId: aws.String(id), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
		})
		if err != nil {
			t.Fatalf("describe snapshot attribute of %s (%s): %v", role, id, err)
		}
		var groups, users []string
		for _, p := range out.CreateVolumePermissions {
			if p.Group != "" {
				groups = append(groups, string(p.Group))
			}
			if p.UserId != nil {
				users = append(users, *p.UserId)
			}
		}
		if (want.group == "") != (len(groups) == 0) || (want.group != "" && !slices.Contains(groups, want.group)) {
			t.Errorf("%s: createVolumePermission groups %v, want %q", role, groups, want.group)
		}
		if (want.user == "") != (len(users) == 0) || (want.user != "" && !slices.Contains(users, want.user)) {
			t.Errorf("%s: createVolumePermission users %v, want %q", role, users, want.user)
		}
	}
	// The owner-id filter (DESIGN.md section 5) sees the use1 snapshots.
	out, err := use1.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		Filters: []ec2types.Filter{{Name: aws.String("owner-id"), Values: []string{inv.AccountID}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Snapshots) != 4 {
		t.Errorf("us-east-1 owns %d snapshots, want 4", len(out.Snapshots))
	}
}

func checkRDS(ctx context.Context, t *testing.T, inv *Inventory, cfg aws.Config) {
	c := rds.NewFromConfig(regional(cfg, PrimaryRegion))
	for role, public := range map[string]bool{"legacy-mysql": true, "prod-orders-db": false} {
		out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(inv.DBInstances[role])})
		if err != nil || len(out.DBInstances) != 1 {
			t.Fatalf("describe %s: %v", role, err)
		}
		db := out.DBInstances[0]
		if db.PubliclyAccessible == nil || *db.PubliclyAccessible != public {
			t.Errorf("%s: PubliclyAccessible %v, want %v", role, db.PubliclyAccessible, public)
		}
		if db.DBSubnetGroup == nil || aws.ToString(db.DBSubnetGroup.VpcId) == "" {
			t.Errorf("%s: no DB subnet group / VPC", role)
		}
	}
	for role, want := range map[string]string{
		"legacy-mysql-export-snap": "all",
		"prod-orders-dr-snap":      DRAccountID,
		"prod-orders-nightly-snap": "",
	} {
		out, err := c.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{
			DBSnapshotIdentifier: aws.String(inv.DBSnapshots[role]),
		})
		if err != nil {
			t.Fatalf("describe DB snapshot attributes of %s: %v", role, err)
		}
		var restore []string
		for _, a := range out.DBSnapshotAttributesResult.DBSnapshotAttributes {
			if aws.ToString(a.AttributeName) == "restore" {
				restore = append(restore, a.AttributeValues...)
			}
		}
		if want == "" && len(restore) != 0 || want != "" && !slices.Equal(restore, []string{want}) {
			t.Errorf("%s: restore %v, want %q", role, restore, want)
		}
	}
}

func checkRedshift(ctx context.Context, t *testing.T, inv *Inventory, cfg aws.Config) {
	for role, public := range map[string]bool{"eu-marketing-dw": true, "prod-analytics-dw": false} {
		id := inv.RedshiftClusters[role]
		c := redshift.NewFromConfig(regional(cfg, inv.RegionOf[id]))
		out, err := c.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String(id)})
		if err != nil || len(out.Clusters) != 1 {
			t.Fatalf("describe %s: %v", role, err)
		}
		cl := out.Clusters[0]
		if aws.ToBool(cl.PubliclyAccessible) != public {
			t.Errorf("%s: PubliclyAccessible %v, want %v", role, aws.ToBool(cl.PubliclyAccessible), public)
		}
		// moto never reports a cluster's VpcId (its Cluster model has none);
		// the VPC is visible on the cluster subnet group.
		sg, err := c.DescribeClusterSubnetGroups(ctx, &redshift.DescribeClusterSubnetGroupsInput{
			ClusterSubnetGroupName: cl.ClusterSubnetGroupName,
		})
		if err != nil || len(sg.ClusterSubnetGroups) != 1 || aws.ToString(sg.ClusterSubnetGroups[0].VpcId) == "" {
			t.Errorf("%s: subnet group %q has no VPC: %v", role, aws.ToString(cl.ClusterSubnetGroupName), err)
		}
	}
}

func checkS3(ctx context.Context, t *testing.T, inv *Inventory, cfg aws.Config) {
	c := s3Client(cfg, PrimaryRegion)
	for role, region := range map[string]string{
		"website-bucket": "", "legacy-downloads-bucket": "", "press-kit-bucket": "",
		"app-data-bucket": "", "eu-exports-bucket": SecondaryRegion,
	} {
		out, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(inv.Buckets[role])})
		if err != nil {
			t.Fatalf("location of %s: %v", role, err)
		}
		if string(out.LocationConstraint) != region {
			t.Errorf("%s: location %q, want %q", role, out.LocationConstraint, region)
		}
	}

	allUsers := func(role string) bool {
		out, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(inv.Buckets[role])})
		if err != nil {
			t.Fatalf("ACL of %s: %v", role, err)
		}
		for _, g := range out.Grants {
			if g.Grantee != nil && strings.HasSuffix(aws.ToString(g.Grantee.URI), "/global/AllUsers") {
				return true
			}
		}
		return false
	}
	for role, want := range map[string]bool{
		"legacy-downloads-bucket": true, "press-kit-bucket": true, "website-bucket": false, "app-data-bucket": false,
	} {
		if got := allUsers(role); got != want {
			t.Errorf("%s: ACL grants AllUsers = %v, want %v", role, got, want)
		}
	}

	pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(inv.Buckets["website-bucket"])})
	if err != nil {
		t.Fatalf("policy of website-bucket: %v", err)
	}
	var doc struct {
		Statement []struct{ Effect, Principal, Action string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil {
		t.Fatalf("website-bucket policy: %v", err)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Allow" || doc.Statement[0].Principal != "*" || doc.Statement[0].Action != "s3:GetObject" {
		t.Errorf("website-bucket policy %+v", doc)
	}

	for role, want := range map[string]bool{"press-kit-bucket": true, "eu-exports-bucket": true, "website-bucket": false} {
		bc := c
		if inv.RegionOf[inv.Buckets[role]] == SecondaryRegion {
			bc = s3Client(cfg, SecondaryRegion)
		}
		out, err := bc.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(inv.Buckets[role])})
		if !want {
			if err == nil {
				t.Errorf("%s: has a public access block %+v", role, out.PublicAccessBlockConfiguration)
			}
			continue
		}
		if err != nil {
			t.Fatalf("public access block of %s: %v", role, err)
		}
		b := out.PublicAccessBlockConfiguration
		if !aws.ToBool(b.BlockPublicAcls) || !aws.ToBool(b.IgnorePublicAcls) || !aws.ToBool(b.BlockPublicPolicy) || !aws.ToBool(b.RestrictPublicBuckets) {
			t.Errorf("%s: public access block %+v, want all four on", role, b)
		}
	}

	acct, err := awsenv.S3Control(regional(cfg, PrimaryRegion)).GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{
		AccountId: aws.String(inv.AccountID),
	})
	if err != nil {
		t.Fatalf("account public access block: %v", err)
	}
	b := acct.PublicAccessBlockConfiguration
	if !aws.ToBool(b.BlockPublicAcls) || aws.ToBool(b.IgnorePublicAcls) || aws.ToBool(b.BlockPublicPolicy) || aws.ToBool(b.RestrictPublicBuckets) {
		t.Errorf("account public access block %+v, want only BlockPublicAcls", b)
	}
}

// checkStores reads back what seedStores says it created.
func checkStores(ctx context.Context, t *testing.T, inv *Inventory, cfg aws.Config, use1, euw1 *ec2.Client) {
	// The jump box runs in us-east-1's default VPC.
	id := inv.Instances["legacy-jumpbox"]
	out, err := use1.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 {
		t.Fatalf("describe legacy-jumpbox (%s): %v", id, err)
	}
	vpcs, err := use1.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(out.Reservations[0].Instances[0].VpcId)}})
	if err != nil || len(vpcs.Vpcs) != 1 || !aws.ToBool(vpcs.Vpcs[0].IsDefault) {
		t.Errorf("legacy-jumpbox is not in the default VPC: %+v %v", vpcs, err)
	}
	// EBS encryption by default: on in the EU only.
	for c, want := range map[*ec2.Client]bool{use1: false, euw1: true} {
		got, err := c.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
		if err != nil || aws.ToBool(got.EbsEncryptionByDefault) != want {
			t.Errorf("EBS encryption by default: got %v (%v), want %v", aws.ToBool(got.EbsEncryptionByDefault), err, want)
		}
	}
	counts := map[string]struct {
		got  map[string]string
		want int
	}{
		"KMS keys (data and credential keys)": {inv.KMSKeys, 6},
		"Lambda functions":                    {inv.Functions, 3},
		"cache clusters":                      {inv.CacheClusters, 2},
		"replication groups":                  {inv.ReplicationGroups, 2},
		"Aurora clusters":                     {inv.DBClusters, 2},
		"EFS file systems":                    {inv.FileSystems, 3},
		"DynamoDB tables":                     {inv.Tables, 3},
		"SQS queues":                          {inv.Queues, 3},
		"SNS topics":                          {inv.Topics, 3},
		"CloudTrail trails":                   {inv.Trails, 2},
		"Kinesis streams":                     {inv.Streams, 2},
		"KMS key ARNs (by key role)":          {inv.KeyARNs, 2},
	}
	for what, c := range counts {
		if len(c.got) != c.want {
			t.Errorf("%s: %d seeded, want %d (%v)", what, len(c.got), c.want, c.got)
		}
		for role, id := range c.got {
			if id == "" {
				t.Errorf("%s: role %s has an empty identifier", what, role)
			}
		}
	}
}

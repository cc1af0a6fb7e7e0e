package demo

import (
	"context"
	"fmt"
	"github.com/posture-dev/posture/internal/awsenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
)

// demoPassword is the master password of the demo's databases and
// warehouses. It only ever exists in the emulator.
const demoPassword = "AcmeDemoPassw0rd"

// seedData creates the data stores: RDS instances and snapshots, Redshift
// clusters, S3 buckets and the account-level S3 public access block. It runs
// after the VPCs, whose subnets and security groups it uses from inv.
func seedData(ctx context.Context, cfg aws.Config, inv *Inventory, bucketSuffix string) error {
	if err := seedRDS(ctx, rds.NewFromConfig(regional(cfg, PrimaryRegion)), inv); err != nil {
		return err
	}
	if err := seedRedshift(ctx, cfg, inv); err != nil {
		return err
	}
	if err := seedBuckets(ctx, cfg, inv, bucketSuffix); err != nil {
		return err
	}
	return seedAccountBlock(ctx, cfg, inv)
}

func rdsTags(name, env string) []rdstypes.Tag {
	return []rdstypes.Tag{
		{Key: aws.String("Name"), Value: aws.String(name)},
		{Key: aws.String("Environment"), Value: aws.String(env)},
	}
}

// seedRDS creates the private prod orders database and the public legacy
// MySQL, and their snapshots: private, shared with the DR account, public.
func seedRDS(ctx context.Context, c *rds.Client, inv *Inventory) error {
	const region = PrimaryRegion
	type db struct {
		role, id, env, engine, subnetGroup, sg string
		subnets                                []string
		public, encrypted                      bool
	}
	dbs := []db{
		{
			role: "prod-orders-db", id: "acme-prod-orders", env: "prod", engine: "postgres",
			subnetGroup: "acme-prod-db", sg: inv.SecurityGroups["prod-db-sg"],
			subnets: []string{inv.Subnets["prod-private-a"], inv.Subnets["prod-private-b"]},
			public:  false, encrypted: true,
		},
		{
			role: "legacy-mysql", id: "acme-legacy-mysql", env: "legacy", engine: "mysql",
			subnetGroup: "acme-legacy-db", sg: inv.SecurityGroups["legacy-db-sg"],
			subnets: []string{inv.Subnets["legacy-public-a"], inv.Subnets["legacy-public-b"]},
			public:  true, encrypted: false,
		},
		{
			// The reporting database from the EC2-Classic days: no DB
			// subnet group, so no VPC.
			role: "legacy-reports-db", id: "acme-legacy-reports", env: "legacy", engine: "mysql",
		},
	}
	for _, d := range dbs {
		in := &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(d.id),
			DBInstanceClass:      aws.String("db.t3.micro"),
			Engine:               aws.String(d.engine),
			AllocatedStorage:     aws.Int32(20),
			MasterUsername:       aws.String("acme"),
			MasterUserPassword:   aws.String(demoPassword),
			// Set explicitly: moto reports nil when it is omitted.
			PubliclyAccessible: aws.Bool(d.public),
			StorageEncrypted:   aws.Bool(d.encrypted),
			Tags:               rdsTags(d.id, d.env),
		}
		if d.subnetGroup != "" {
			if _, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
				DBSubnetGroupName:        aws.String(d.subnetGroup),
				DBSubnetGroupDescription: aws.String(d.subnetGroup + " database subnets"),
				SubnetIds:                d.subnets,
				Tags:                     rdsTags(d.subnetGroup, d.env),
			}); err != nil {
				return fmt.Errorf("demo: create DB subnet group %s in %s: %w", d.subnetGroup, region, err)
			}
			in.DBSubnetGroupName = aws.String(d.subnetGroup)
			in.VpcSecurityGroupIds = []string{d.sg}
		}
		if _, err := c.CreateDBInstance(ctx, in); err != nil {
			return fmt.Errorf("demo: create DB instance %s in %s: %w", d.id, region, err)
		}
		inv.put(inv.DBInstances, d.role, d.id, region)
	}

	snaps := []struct {
		role, id, db, env string
		restore           []string // restore attribute values to add
	}{
		{"prod-orders-nightly-snap", "acme-prod-orders-nightly", "acme-prod-orders", "prod", nil},
		{"prod-orders-dr-snap", "acme-prod-orders-dr-copy", "acme-prod-orders", "prod", []string{DRAccountID}},
		{"legacy-mysql-export-snap", "acme-legacy-mysql-export-2019", "acme-legacy-mysql", "legacy", []string{"all"}},
	}
	for _, s := range snaps {
		if _, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
			DBInstanceIdentifier: aws.String(s.db),
			DBSnapshotIdentifier: aws.String(s.id),
			Tags:                 rdsTags(s.id, s.env),
		}); err != nil {
			return fmt.Errorf("demo: create DB snapshot %s in %s: %w", s.id, region, err)
		}
		inv.put(inv.DBSnapshots, s.role, s.id, region)
		if len(s.restore) == 0 {
			continue
		}
		if _, err := c.ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{
			DBSnapshotIdentifier: aws.String(s.id),
			AttributeName:        aws.String("restore"),
			ValuesToAdd:          s.restore,
		}); err != nil {
			return fmt.Errorf("demo: share DB snapshot %s in %s: %w", s.id, region, err)
		}
	}
	return nil
}

// seedRedshift creates a private, encrypted analytics cluster in us-east-1 and
// a public, unencrypted marketing cluster in eu-west-1.
func seedRedshift(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	clusters := []struct {
		role, id, region, env, subnetGroup, sg string
		subnets                                []string
		public, encrypted                      bool
	}{
		{
			role: "prod-analytics-dw", id: "acme-prod-analytics", region: PrimaryRegion, env: "prod",
			subnetGroup: "acme-prod-analytics", sg: inv.SecurityGroups["prod-dw-sg"],
			subnets: []string{inv.Subnets["prod-private-a"], inv.Subnets["prod-private-b"]},
			public:  false, encrypted: true,
		},
		{
			role: "eu-marketing-dw", id: "acme-eu-marketing", region: SecondaryRegion, env: "eu",
			subnetGroup: "acme-eu-marketing", sg: inv.SecurityGroups["eu-dw-sg"],
			subnets: []string{inv.Subnets["eu-public-a"]},
			public:  true, encrypted: false,
		},
	}
	for _, cl := range clusters {
		c := redshift.NewFromConfig(regional(cfg, cl.region))
		tags := []rstypes.Tag{
			{Key: aws.String("Name"), Value: aws.String(cl.id)},
			{Key: aws.String("Environment"), Value: aws.String(cl.env)},
		}
		if _, err := c.CreateClusterSubnetGroup(ctx, &redshift.CreateClusterSubnetGroupInput{
			ClusterSubnetGroupName: aws.String(cl.subnetGroup),
			Description:            aws.String(cl.subnetGroup + " warehouse subnets"),
			SubnetIds:              cl.subnets,
			Tags:                   tags,
		}); err != nil {
			return fmt.Errorf("demo: create Redshift subnet group %s in %s: %w", cl.subnetGroup, cl.region, err)
		}
		if _, err := c.CreateCluster(ctx, &redshift.CreateClusterInput{
			ClusterIdentifier:      aws.String(cl.id),
			ClusterType:            aws.String("single-node"),
			NodeType:               aws.String("ra3.xlplus"),
			DBName:                 aws.String("analytics"),
			MasterUsername:         aws.String("acme"),
			MasterUserPassword:     aws.String(demoPassword),
			ClusterSubnetGroupName: aws.String(cl.subnetGroup),
			VpcSecurityGroupIds:    []string{cl.sg},
			PubliclyAccessible:     aws.Bool(cl.public),
			Encrypted:              aws.Bool(cl.encrypted),
			Tags:                   tags,
		}); err != nil {
			return fmt.Errorf("demo: create Redshift cluster %s in %s: %w", cl.id, cl.region, err)
		}
		inv.put(inv.RedshiftClusters, cl.role, cl.id, cl.region)
	}
	return nil
}

// allBlocked returns a public access block with all four settings on.
func allBlocked() *s3types.PublicAccessBlockConfiguration {
	return &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls:       aws.Bool(true),
		IgnorePublicAcls:      aws.Bool(true),
		BlockPublicPolicy:     aws.Bool(true),
		RestrictPublicBuckets: aws.Bool(true),
	}
}

// bucket describes one demo bucket. Settings are applied in the order the
// fields are listed, so a public ACL goes on before a public access block
// (real S3 would refuse it afterwards).
type bucket struct {
	role, name, region string
	acl                s3types.BucketCannedACL
	policy             string // %s is replaced by the bucket name
	encrypt            bool
	block              bool // bucket-level public access block, all four on
}

// demoBuckets lists the demo's buckets.
func demoBuckets() []bucket {
	return []bucket{
		{role: "website-bucket", name: "acme-public-website", region: PrimaryRegion, policy: `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "PublicReadForWebsite",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*"
  }]
}`},
		{role: "legacy-downloads-bucket", name: "acme-legacy-downloads", region: PrimaryRegion, acl: s3types.BucketCannedACLPublicRead},
		{role: "press-kit-bucket", name: "acme-press-kit", region: PrimaryRegion, acl: s3types.BucketCannedACLPublicRead, block: true},
		{role: "app-data-bucket", name: "acme-prod-app-data", region: PrimaryRegion, encrypt: true, policy: `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}`},
		{role: "eu-exports-bucket", name: "acme-eu-customer-exports", region: SecondaryRegion, encrypt: true, block: true},
		{role: "audit-logs-bucket", name: "acme-audit-logs", region: PrimaryRegion, encrypt: true, block: true, policy: `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "CloudTrailAclCheck",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:GetBucketAcl",
    "Resource": "arn:aws:s3:::%[1]s"
  }, {
    "Sid": "CloudTrailWrite",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::%[1]s/AWSLogs/*",
    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
  }, {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "*",
    "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"],
    "Condition": {"Bool": {"aws:SecureTransport": false}}
  }]
}`},
	}
}

func s3Client(cfg aws.Config, region string) *s3.Client {
	return awsenv.S3(regional(cfg, region), region)
}

// seedBuckets creates the buckets listed in demoBuckets, each name followed
// by suffix.
func seedBuckets(ctx context.Context, cfg aws.Config, inv *Inventory, suffix string) error {
	clients := map[string]*s3.Client{}
	for _, b := range demoBuckets() {
		b.name += suffix
		c := clients[b.region]
		if c == nil {
			c = s3Client(cfg, b.region)
			clients[b.region] = c
		}
		errf := func(what string, err error) error {
			return fmt.Errorf("demo: %s of bucket %s in %s: %w", what, b.name, b.region, err)
		}
		in := &s3.CreateBucketInput{Bucket: aws.String(b.name)}
		if b.region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
				LocationConstraint: s3types.BucketLocationConstraint(b.region),
			}
		}
		if _, err := c.CreateBucket(ctx, in); err != nil {
			return errf("creation", err)
		}
		inv.put(inv.Buckets, b.role, b.name, b.region)
		if b.acl != "" {
			if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b.name), ACL: b.acl}); err != nil {
				return errf("ACL", err)
			}
		}
		if b.policy != "" {
			if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
				Bucket: aws.String(b.name), Policy: aws.String(fmt.Sprintf(b.policy, b.name)),
			}); err != nil {
				return errf("policy", err)
			}
		}
		if b.encrypt {
			if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket: aws.String(b.name),
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
					Rules: []s3types.ServerSideEncryptionRule{{
						ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
							SSEAlgorithm: s3types.ServerSideEncryptionAes256,
						},
					}},
				},
			}); err != nil {
				return errf("default encryption", err)
			}
		}
		if b.block {
			if _, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
				Bucket: aws.String(b.name), PublicAccessBlockConfiguration: allBlocked(),
			}); err != nil {
				return errf("public access block", err)
			}
		}
	}
	return nil
}

// seedAccountBlock turns on only BlockPublicAcls in the account-level S3
// public access block: "someone started, never finished". It runs after the
// bucket ACLs are set, since real S3 would refuse a public ACL afterwards.
func seedAccountBlock(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := awsenv.S3Control(regional(cfg, PrimaryRegion))
	if _, err := c.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
		AccountId: aws.String(inv.AccountID),
		PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{
			BlockPublicAcls:       aws.Bool(true),
			IgnorePublicAcls:      aws.Bool(false),
			BlockPublicPolicy:     aws.Bool(false),
			RestrictPublicBuckets: aws.Bool(false),
		},
	}); err != nil {
		return fmt.Errorf("demo: put account-level S3 public access block for %s: %w", inv.AccountID, err)
	}
	return nil
}

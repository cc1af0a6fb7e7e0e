// Package demo seeds the built-in demo account, "Acme", into the AWS emulator
// (moto server) so that `make demo` has something realistic to scan.
//
// Seed makes mutating AWS calls and is meant for a fresh emulator only: it is
// not idempotent, and it must never be pointed at a real account.
//
// # The story
//
// Acme is a small company with a reasonably tidy production VPC, a "legacy"
// VPC from before it had a security team, and a newer EU deployment that got a
// few things wrong. The story covers three families of DESIGN.md section 4:
// public network exposure, resources outside a VPC and unencrypted data
// stores. Every check of them has at least one PASS and at least one FAIL
// among the seeded resources, except the few that OneSided lists with the
// reason (a per-account setting, and outside-a-VPC cases that neither AWS nor
// the emulator can create any more), whose other outcome is a unit-test case.
// The unrotated-and-stale-credentials checks (credentials.go) follow: the rows
// that need stale credentials (a 120-day-old key, a 200-day-old secret) are
// in AgedExpectations, true only when the emulator runs under libfaketime.
//
// Region codes: use1 = us-east-1, euw1 = eu-west-1. The key is the Inventory
// role name; the same table is available as data from Expectations.
//
//	check                                      region  resource (Inventory key)    expect  why
//	-----------------------------------------  ------  --------------------------  ------  ------------------------------------------------
//	ec2-sg-open-admin-port                     use1    legacy-bastion-sg           FAIL    22 and 3389 from 0.0.0.0/0, 22 from ::/0
//	ec2-sg-open-admin-port                     use1    prod-ops-sg                 FAIL    22 from 0.0.0.0/0 ("temporary" change)
//	ec2-sg-open-admin-port                     use1    legacy-debug-sg             FAIL    protocol -1 from 0.0.0.0/0
//	ec2-sg-open-admin-port                     use1    legacy-vendor-sg            FAIL    TCP 0-65535 from 0.0.0.0/0 (a range)
//	ec2-sg-open-admin-port                     use1    prod-web-sg                 PASS    22 only from 10.0.0.0/16; 80/443 from the world
//	ec2-sg-open-admin-port                     euw1    eu-web-sg                   PASS    443 only
//	ec2-sg-open-database-port                  use1    legacy-db-sg                FAIL    3306, 6379, 27017 from 0.0.0.0/0
//	ec2-sg-open-database-port                  use1    legacy-debug-sg             FAIL    protocol -1 from 0.0.0.0/0
//	ec2-sg-open-database-port                  use1    prod-db-sg                  PASS    5432 only from prod-app-sg
//	ec2-sg-open-database-port                  euw1    eu-dw-sg                    PASS    5439 only from 203.0.113.0/24 (office)
//	ec2-sg-open-database-port                  euw1    eu-cache-sg                 PASS    6379 only from 10.20.0.0/16
//	ec2-sg-open-all-ports                      use1    legacy-debug-sg             FAIL    protocol -1 from 0.0.0.0/0
//	ec2-sg-open-all-ports                      use1    legacy-vendor-sg            FAIL    TCP 0-65535 from 0.0.0.0/0
//	ec2-sg-open-all-ports                      use1    prod-web-sg                 PASS    80/443 only
//	ec2-sg-default-not-restricted              use1    prod-default-sg             PASS    all rules revoked
//	ec2-sg-default-not-restricted              use1    legacy-default-sg           FAIL    left as created (egress all)
//	ec2-sg-default-not-restricted              euw1    eu-default-sg               FAIL    left as created (egress all)
//	ec2-nacl-open-admin-port                   use1    prod-public-nacl            PASS    deny 22 (#100), deny 3389 (#110) before allow all (#200)
//	ec2-nacl-open-admin-port                   use1    prod-private-nacl           PASS    allows only 10.0.0.0/16 inbound
//	ec2-nacl-open-admin-port                   use1    prod-default-nacl           PASS    inbound allow-all entry deleted
//	ec2-nacl-open-admin-port                   use1    legacy-default-nacl         FAIL    default allow all
//	ec2-nacl-open-admin-port                   euw1    eu-public-nacl              FAIL    allow all (#100) comes before deny 22 (#200)
//	ec2-nacl-open-admin-port                   euw1    eu-default-nacl             FAIL    default allow all (no subnets, still flagged)
//	ec2-instance-internet-exposed              use1    legacy-bastion              FAIL    public IP, IGW route, SG and NACL admit 22/3389
//	ec2-instance-internet-exposed              use1    legacy-mongo                FAIL    public IP, IGW route, SG and NACL admit 27017
//	ec2-instance-internet-exposed              use1    prod-web-1                  PASS    public, but SG admits admin ports only from the VPC
//	ec2-instance-internet-exposed              use1    prod-ops-1                  PASS    SG admits 22 from anywhere, but the NACL denies it
//	ec2-instance-internet-exposed              use1    prod-app-1                  PASS    private subnet, no public IP
//	ec2-instance-internet-exposed              euw1    eu-web-1                    PASS    public, NACL open, but SG admits 443 only
//	ec2-instance-internet-exposed              euw1    eu-worker-1                 PASS    private subnet, no public IP
//	rds-instance-public                        use1    legacy-mysql                FAIL    PubliclyAccessible=true
//	rds-instance-public                        use1    prod-orders-db              PASS    PubliclyAccessible=false
//	redshift-cluster-public                    euw1    eu-marketing-dw             FAIL    PubliclyAccessible=true
//	redshift-cluster-public                    use1    prod-analytics-dw           PASS    PubliclyAccessible=false
//	s3-bucket-public                           use1    website-bucket              FAIL    policy: Allow Principal "*" s3:GetObject
//	s3-bucket-public                           use1    legacy-downloads-bucket     FAIL    ACL public-read (AllUsers READ)
//	s3-bucket-public                           use1    press-kit-bucket            PASS    ACL public-read, neutralised by its bucket-level block (all four on)
//	s3-bucket-public                           use1    app-data-bucket             PASS    private; its only policy statement is a Deny
//	s3-bucket-public                           euw1    eu-exports-bucket           PASS    private, bucket-level block on
//	s3-bucket-public                           use1    audit-logs-bucket           PASS    policy allows only the CloudTrail service; block on
//	s3-account-public-access-block-off         global  account                     FAIL    only BlockPublicAcls=true at account level
//	ec2-snapshot-public                        use1    legacy-fileshare-snap       FAIL    createVolumePermission group "all"
//	ec2-snapshot-public                        use1    prod-app-data-snap          PASS    private (encrypted)
//	ec2-snapshot-public                        use1    prod-app-data-dr-snap       PASS    shared with one named account only
//	ec2-snapshot-public                        use1    use1-ami-root-snap          PASS    private (created by RegisterImage)
//	ec2-snapshot-public                        euw1    euw1-ami-root-snap          PASS    private (created by RegisterImage)
//	rds-snapshot-public                        use1    legacy-mysql-export-snap    FAIL    restore attribute "all"
//	rds-snapshot-public                        use1    prod-orders-nightly-snap    PASS    private
//	rds-snapshot-public                        use1    prod-orders-dr-snap         PASS    shared with one named account only
//	ec2-instance-outside-vpc                   use1    prod-web-1                  PASS    in acme-prod (EC2-Classic cannot be emulated)
//	ec2-instance-outside-vpc                   euw1    eu-worker-1                 PASS    in acme-eu
//	ec2-instance-in-default-vpc                use1    legacy-jumpbox              FAIL    launched without a subnet: the default VPC
//	ec2-instance-in-default-vpc                use1    prod-app-1                  PASS    in acme-prod
//	ec2-instance-in-default-vpc                euw1    eu-web-1                    PASS    in acme-eu
//	lambda-function-outside-vpc                use1    legacy-thumbnailer-fn       FAIL    no VpcConfig
//	lambda-function-outside-vpc                use1    prod-order-events-fn        PASS    two private subnets of acme-prod
//	lambda-function-outside-vpc                euw1    eu-exporter-fn              PASS    a private subnet of acme-eu
//	rds-instance-outside-vpc                   use1    prod-orders-db              PASS    DB subnet group acme-prod-db
//	rds-instance-outside-vpc                   use1    legacy-mysql                PASS    public, but in DB subnet group acme-legacy-db
//	rds-instance-outside-vpc                   use1    legacy-reports-db           FAIL    no DB subnet group (EC2-Classic era)
//	elasticache-cluster-outside-vpc            use1    legacy-memcached            FAIL    no cache subnet group
//	elasticache-cluster-outside-vpc            use1    prod-catalog-cache          PASS    cache subnet group acme-prod-cache
//	redshift-cluster-outside-vpc               use1    prod-analytics-dw           PASS    cluster subnet group acme-prod-analytics
//	redshift-cluster-outside-vpc               euw1    eu-marketing-dw             PASS    public, but in cluster subnet group acme-eu-marketing
//	ec2-ebs-volume-unencrypted                 use1    legacy-fileshare-vol        FAIL    Encrypted=false
//	ec2-ebs-volume-unencrypted                 use1    prod-app-data-vol           PASS    Encrypted=true
//	ec2-ebs-default-encryption-off             use1    account                     FAIL    never turned on in us-east-1
//	ec2-ebs-default-encryption-off             euw1    account                     PASS    turned on in eu-west-1
//	ec2-ebs-snapshot-unencrypted               use1    legacy-fileshare-snap       FAIL    of an unencrypted volume
//	ec2-ebs-snapshot-unencrypted               use1    prod-app-data-snap          PASS    of an encrypted volume
//	s3-bucket-unencrypted                      use1    website-bucket              FAIL    no default encryption configuration
//	s3-bucket-unencrypted                      use1    legacy-downloads-bucket     FAIL    no default encryption configuration
//	s3-bucket-unencrypted                      use1    app-data-bucket             PASS    SSE-S3 (AES256) by default
//	s3-bucket-unencrypted                      euw1    eu-exports-bucket           PASS    SSE-S3 (AES256) by default
//	s3-bucket-tls-not-enforced                 use1    app-data-bucket             PASS    Deny s3:* when aws:SecureTransport is "false"
//	s3-bucket-tls-not-enforced                 use1    audit-logs-bucket           PASS    Deny * to AWS:* when aws:SecureTransport is false
//	s3-bucket-tls-not-enforced                 use1    website-bucket              FAIL    its policy only allows public reads
//	s3-bucket-tls-not-enforced                 euw1    eu-exports-bucket           FAIL    no bucket policy
//	rds-instance-unencrypted                   use1    legacy-mysql                FAIL    StorageEncrypted=false
//	rds-instance-unencrypted                   use1    prod-orders-db              PASS    StorageEncrypted=true
//	rds-cluster-unencrypted                    use1    legacy-reporting-cluster    FAIL    Aurora MySQL, StorageEncrypted=false
//	rds-cluster-unencrypted                    use1    prod-ledger-cluster         PASS    Aurora PostgreSQL, StorageEncrypted=true
//	rds-snapshot-unencrypted                   use1    legacy-mysql-export-snap    FAIL    of the unencrypted legacy MySQL
//	rds-snapshot-unencrypted                   use1    prod-orders-nightly-snap    PASS    of the encrypted orders database
//	efs-filesystem-unencrypted                 use1    legacy-scratch-fs           FAIL    Encrypted=false
//	efs-filesystem-unencrypted                 use1    prod-shared-fs              PASS    Encrypted=true
//	efs-filesystem-unencrypted                 euw1    eu-shared-fs                PASS    Encrypted=true
//	dynamodb-table-default-key                 use1    legacy-sessions-table       FAIL    AWS-owned key (no SSE specification)
//	dynamodb-table-default-key                 use1    prod-orders-table           PASS    KMS, Acme's prod data key
//	dynamodb-table-default-key                 euw1    eu-consents-table           PASS    KMS, the AWS-managed aws/dynamodb key
//	sqs-queue-unencrypted                      use1    legacy-jobs-queue           FAIL    SqsManagedSseEnabled=false, no KMS key
//	sqs-queue-unencrypted                      use1    prod-orders-queue           PASS    SSE-SQS
//	sqs-queue-unencrypted                      euw1    eu-exports-queue            PASS    KMS, Acme's EU data key
//	sns-topic-unencrypted                      use1    legacy-notifications-topic  FAIL    no KmsMasterKeyId
//	sns-topic-unencrypted                      use1    prod-alerts-topic           PASS    KmsMasterKeyId alias/aws/sns
//	sns-topic-unencrypted                      euw1    eu-notifications-topic      FAIL    no KmsMasterKeyId
//	redshift-cluster-unencrypted               euw1    eu-marketing-dw             FAIL    Encrypted=false
//	redshift-cluster-unencrypted               use1    prod-analytics-dw           PASS    Encrypted=true
//	elasticache-replication-group-unencrypted  euw1    eu-sessions-rg              FAIL    at rest on, in transit off
//	elasticache-replication-group-unencrypted  use1    prod-sessions-rg            PASS    at rest and in transit
//	cloudtrail-trail-not-kms-encrypted         use1    prod-audit-trail            PASS    multi-region, Acme's prod data key
//	cloudtrail-trail-not-kms-encrypted         euw1    eu-team-trail               FAIL    no KmsKeyId
//	kinesis-stream-unencrypted                 use1    legacy-events-stream        FAIL    EncryptionType=NONE
//	kinesis-stream-unencrypted                 use1    prod-clickstream            PASS    EncryptionType=KMS
//	iam-access-key-unrotated                   global  app-svc-key-1               PASS    created today
//	iam-access-key-unrotated                   global  app-svc-key-2               PASS    created today
//	iam-credential-unused                      global  alice                       PASS    console password set today
//	iam-credential-unused                      global  app-svc                     PASS    keys created today
//	iam-user-console-without-mfa               global  alice                       FAIL    console password, no MFA device
//	iam-user-console-without-mfa               global  bob                         PASS    console password and a virtual MFA device
//	iam-user-multiple-active-keys              global  app-svc                     FAIL    two active keys: a rotation never finished
//	iam-user-multiple-active-keys              global  ci-deploy                   PASS    one active key
//	iam-root-access-key-present                global  account                     PASS    the emulator never reports root keys
//	iam-root-mfa-disabled                      global  account                     FAIL    the emulator always reports root MFA off
//	iam-password-policy-weak                   global  account                     FAIL    minimum length 8, no reuse prevention
//	kms-key-rotation-disabled                  use1    orders-cmk                  PASS    automatic rotation on
//	kms-key-rotation-disabled                  use1    legacy-cmk                  FAIL    automatic rotation off
//	kms-key-rotation-disabled                  euw1    eu-cmk                      FAIL    automatic rotation off
//	secretsmanager-rotation-disabled           use1    orders-db-secret            PASS    rotation every 30 days
//	secretsmanager-rotation-disabled           use1    legacy-api-token            FAIL    no rotation configured
//	secretsmanager-secret-unrotated            use1    orders-db-secret            PASS    rotated today
//	acm-certificate-expiring                   use1    www-cert                    PASS    a year left
//	acm-certificate-expiring                   euw1    eu-api-cert                 FAIL    expires in 10 days (medium)
//	iam-server-certificate-expired             global  legacy-elb-cert             FAIL    expired 30 days ago (the emulator reports 2012)
//
// Not in the table but present in the account: each region's default VPC,
// with its open default security group and allow-all default NACL (FAIL for
// ec2-sg-default-not-restricted and ec2-nacl-open-admin-port), in us-east-1,
// eu-west-1 and every other region moto emulates (created on first use); the
// automated DB snapshots moto takes at DB creation
// ("rds:acme-prod-orders-<date>", private: PASS for rds-snapshot-public), and
// likewise of each Aurora cluster (DB cluster snapshots "rds:<cluster>-<date>",
// judged by both snapshot checks, encrypted as their cluster is); the
// instances' root volumes (unencrypted, as EBS encryption by default is set
// after the instances start); the AMIs' root snapshots; the
// replication groups' member cache clusters; two KMS keys with rotation on;
// the acme-lambda-exec IAM role.
//
// # Layout
//
//	us-east-1  acme-prod    10.0.0.0/16    public-a (IGW route, map public IP), private-a, private-b
//	us-east-1  acme-legacy  172.16.0.0/16  public-a, public-b (IGW route, map public IP)
//	eu-west-1  acme-eu      10.20.0.0/16   public-a (IGW route, map public IP), private-a, private-b
//
// Public IPs come from MapPublicIpOnLaunch on the public subnets, not from
// RunInstances NetworkInterfaces: moto reports an instance launched with
// NetworkInterfaces as having no security groups at the instance level.
package demo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	// PrimaryRegion holds the prod and legacy VPCs and most of the story.
	PrimaryRegion = "us-east-1"
	// SecondaryRegion holds the EU deployment.
	SecondaryRegion = "eu-west-1"

	// DRAccountID is the (non-existent) disaster-recovery account that the
	// "shared with one named account" snapshots are shared with.
	DRAccountID = "210987654321"
)

// Regions returns the regions Seed uses, primary first.
func Regions() []string { return []string{PrimaryRegion, SecondaryRegion} }

// Inventory names what Seed created. Every map is keyed by a short, stable
// role name (for example "legacy-bastion-sg", "prod-web-1", "legacy-mysql")
// and holds the AWS identifier a person would search for: a vpc-, subnet-,
// igw-, rtb-, acl-, sg-, i-, vol-, snap- or ami- ID, a bucket name, a DB
// instance, DB snapshot or cluster identifier. Role names are unique across
// regions; RegionOf tells where each identifier lives.
type Inventory struct {
	// AccountID is the account Seed acted in (from sts:GetCallerIdentity).
	AccountID string

	VPCs             map[string]string
	Subnets          map[string]string
	InternetGateways map[string]string
	RouteTables      map[string]string
	NetworkACLs      map[string]string
	SecurityGroups   map[string]string
	Images           map[string]string
	Instances        map[string]string
	Volumes          map[string]string
	Snapshots        map[string]string // EBS snapshots

	Buckets          map[string]string // role -> bucket name
	DBInstances      map[string]string // role -> DB instance identifier
	DBSnapshots      map[string]string // role -> DB snapshot identifier
	RedshiftClusters map[string]string // role -> cluster identifier

	DBClusters        map[string]string // role -> Aurora cluster identifier
	Functions         map[string]string // role -> Lambda function name
	CacheClusters     map[string]string // role -> ElastiCache cache cluster ID
	ReplicationGroups map[string]string // role -> ElastiCache replication group ID
	FileSystems       map[string]string // role -> EFS file system ID
	Tables            map[string]string // role -> DynamoDB table name
	Queues            map[string]string // role -> SQS queue name
	Topics            map[string]string // role -> SNS topic name
	Trails            map[string]string // role -> CloudTrail trail name
	Streams           map[string]string // role -> Kinesis stream name

	// KeyARNs maps the roles of the data keys in KMSKeys to their ARNs.
	KeyARNs            map[string]string
	Users              map[string]string // role -> IAM user name
	AccessKeys         map[string]string // role -> access key ID
	KMSKeys            map[string]string // role -> KMS key ID
	Secrets            map[string]string // role -> secret name
	Certificates       map[string]string // role -> ACM certificate ID
	ServerCertificates map[string]string // role -> IAM server certificate name

	// Aged is true when the stale credentials were created in the past (the
	// emulator runs under libfaketime), so AgedExpectations hold.
	Aged bool

	// RegionOf maps every identifier above (not the role name) to its region.
	RegionOf map[string]string
}

func newInventory() *Inventory {
	return &Inventory{
		VPCs:              map[string]string{},
		Subnets:           map[string]string{},
		InternetGateways:  map[string]string{},
		RouteTables:       map[string]string{},
		NetworkACLs:       map[string]string{},
		SecurityGroups:    map[string]string{},
		Images:            map[string]string{},
		Instances:         map[string]string{},
		Volumes:           map[string]string{},
		Snapshots:         map[string]string{},
		Buckets:           map[string]string{},
		DBInstances:       map[string]string{},
		DBSnapshots:       map[string]string{},
		RedshiftClusters:  map[string]string{},
		DBClusters:        map[string]string{},
		Functions:         map[string]string{},
		CacheClusters:     map[string]string{},
		ReplicationGroups: map[string]string{},
		FileSystems:       map[string]string{},
		Tables:            map[string]string{},
		Queues:            map[string]string{},
		Topics:            map[string]string{},
		Trails:            map[string]string{},
		Streams:           map[string]string{},
		KeyARNs:           map[string]string{},
		RegionOf:          map[string]string{},

		Users:              map[string]string{},
		AccessKeys:         map[string]string{},
		KMSKeys:            map[string]string{},
		Secrets:            map[string]string{},
		Certificates:       map[string]string{},
		ServerCertificates: map[string]string{},
	}
}

// put records id under role in m and notes its region.
func (inv *Inventory) put(m map[string]string, role, id, region string) {
	m[role] = id
	inv.RegionOf[id] = region
}

// Seed creates the built-in demo account in the emulator reached by cfg
// (mutating calls; cfg has static credentials and BaseEndpoint set). It creates
// resources in us-east-1 and eu-west-1; cfg.Region is ignored and cfg is copied
// per region. It stops at the first failure and returns it wrapped with the
// resource it was creating, together with the partial inventory.
func Seed(ctx context.Context, cfg aws.Config) (*Inventory, error) {
	return SeedWith(ctx, cfg, Options{})
}

// SeedWith is Seed with options: with Options.Age it creates the stale
// credentials in the past.
func SeedWith(ctx context.Context, cfg aws.Config, opts Options) (*Inventory, error) {
	inv := newInventory()

	id, err := sts.NewFromConfig(regional(cfg, PrimaryRegion)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return inv, fmt.Errorf("demo: get caller identity: %w", err)
	}
	inv.AccountID = aws.ToString(id.Account)

	use1 := newNetwork(regional(cfg, PrimaryRegion), inv)
	if err := seedProd(ctx, use1); err != nil {
		return inv, err
	}
	if err := seedLegacy(ctx, use1); err != nil {
		return inv, err
	}
	euw1 := newNetwork(regional(cfg, SecondaryRegion), inv)
	if err := seedEU(ctx, euw1); err != nil {
		return inv, err
	}
	if err := seedData(ctx, cfg, inv, opts.BucketSuffix); err != nil {
		return inv, err
	}
	if err := seedStores(ctx, cfg, inv); err != nil {
		return inv, err
	}
	if err := seedCredentials(ctx, cfg, inv, opts); err != nil {
		return inv, err
	}
	return inv, nil
}

// regional returns a copy of cfg for region.
func regional(cfg aws.Config, region string) aws.Config {
	c := cfg.Copy()
	c.Region = region
	return c
}

// newNetwork returns the EC2 seeding helper for cfg's region.
func newNetwork(cfg aws.Config, inv *Inventory) *network {
	return &network{ec2: ec2.NewFromConfig(cfg), region: cfg.Region, inv: inv}
}

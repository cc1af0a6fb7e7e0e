package demo

// Expectation is one row of the story table in the package comment: the
// result a correct scan should report for one seeded resource and check.
type Expectation struct {
	Check  string // check ID, e.g. "ec2-sg-open-admin-port"
	Region string // AWS region, or "global" for account-level checks
	Role   string // Inventory role name, or "account"
	Want   string // "PASS" or "FAIL"
	Why    string
}

// Expectations returns the story table of the package comment as data, in the
// same order. It is not exhaustive: a scan also reports on the default VPCs
// and the security groups and NACLs of every emulated region. Use
// Inventory.ID to turn a Role into the resource ID a result carries.
func Expectations() []Expectation {
	const (
		use1 = PrimaryRegion
		euw1 = SecondaryRegion
	)
	return []Expectation{
		{"ec2-sg-open-admin-port", use1, "legacy-bastion-sg", "FAIL", "22 and 3389 from 0.0.0.0/0, 22 from ::/0"},
		{"ec2-sg-open-admin-port", use1, "prod-ops-sg", "FAIL", `22 from 0.0.0.0/0 ("temporary" change)`},
		{"ec2-sg-open-admin-port", use1, "legacy-debug-sg", "FAIL", "protocol -1 from 0.0.0.0/0"},
		{"ec2-sg-open-admin-port", use1, "legacy-vendor-sg", "FAIL", "TCP 0-65535 from 0.0.0.0/0 (a range)"},
		{"ec2-sg-open-admin-port", use1, "prod-web-sg", "PASS", "22 only from 10.0.0.0/16; 80/443 from the world"},
		{"ec2-sg-open-admin-port", euw1, "eu-web-sg", "PASS", "443 only"},
		{"ec2-sg-open-database-port", use1, "legacy-db-sg", "FAIL", "3306, 6379, 27017 from 0.0.0.0/0"},
		{"ec2-sg-open-database-port", use1, "legacy-debug-sg", "FAIL", "protocol -1 from 0.0.0.0/0"},
		{"ec2-sg-open-database-port", use1, "prod-db-sg", "PASS", "5432 only from prod-app-sg"},
		{"ec2-sg-open-database-port", euw1, "eu-dw-sg", "PASS", "5439 only from 203.0.113.0/24 (office)"},
		{"ec2-sg-open-database-port", euw1, "eu-cache-sg", "PASS", "6379 only from 10.20.0.0/16"},
		{"ec2-sg-open-all-ports", use1, "legacy-debug-sg", "FAIL", "protocol -1 from 0.0.0.0/0"},
		{"ec2-sg-open-all-ports", use1, "legacy-vendor-sg", "FAIL", "TCP 0-65535 from 0.0.0.0/0"},
		{"ec2-sg-open-all-ports", use1, "prod-web-sg", "PASS", "80/443 only"},
		{"ec2-sg-default-not-restricted", use1, "prod-default-sg", "PASS", "all rules revoked"},
		{"ec2-sg-default-not-restricted", use1, "legacy-default-sg", "FAIL", "left as created (egress all)"},
		{"ec2-sg-default-not-restricted", euw1, "eu-default-sg", "FAIL", "left as created (egress all)"},
		{"ec2-nacl-open-admin-port", use1, "prod-public-nacl", "PASS", "deny 22 (#100), deny 3389 (#110) before allow all (#200)"},
		{"ec2-nacl-open-admin-port", use1, "prod-private-nacl", "PASS", "allows only 10.0.0.0/16 inbound"},
		{"ec2-nacl-open-admin-port", use1, "prod-default-nacl", "PASS", "inbound allow-all entry deleted"},
		{"ec2-nacl-open-admin-port", use1, "legacy-default-nacl", "FAIL", "default allow all"},
		{"ec2-nacl-open-admin-port", euw1, "eu-public-nacl", "FAIL", "allow all (#100) comes before deny 22 (#200)"},
		{"ec2-nacl-open-admin-port", euw1, "eu-default-nacl", "FAIL", "default allow all (no subnets, still flagged)"},
		{"ec2-instance-internet-exposed", use1, "legacy-bastion", "FAIL", "public IP, IGW route, SG and NACL admit 22/3389"},
		{"ec2-instance-internet-exposed", use1, "legacy-mongo", "FAIL", "public IP, IGW route, SG and NACL admit 27017"},
		{"ec2-instance-internet-exposed", use1, "prod-web-1", "PASS", "public, but SG admits admin ports only from the VPC"},
		{"ec2-instance-internet-exposed", use1, "prod-ops-1", "PASS", "SG admits 22 from anywhere, but the NACL denies it"},
		{"ec2-instance-internet-exposed", use1, "prod-app-1", "PASS", "private subnet, no public IP"},
		{"ec2-instance-internet-exposed", euw1, "eu-web-1", "PASS", "public, NACL open, but SG admits 443 only"},
		{"ec2-instance-internet-exposed", euw1, "eu-worker-1", "PASS", "private subnet, no public IP"},
		{"rds-instance-public", use1, "legacy-mysql", "FAIL", "PubliclyAccessible=true"},
		{"rds-instance-public", use1, "prod-orders-db", "PASS", "PubliclyAccessible=false"},
		{"redshift-cluster-public", euw1, "eu-marketing-dw", "FAIL", "PubliclyAccessible=true"},
		{"redshift-cluster-public", use1, "prod-analytics-dw", "PASS", "PubliclyAccessible=false"},
		{"s3-bucket-public", use1, "website-bucket", "FAIL", `policy: Allow Principal "*" s3:GetObject`},
		{"s3-bucket-public", use1, "legacy-downloads-bucket", "FAIL", "ACL public-read (AllUsers READ)"},
		{"s3-bucket-public", use1, "press-kit-bucket", "PASS", "ACL public-read, neutralised by its bucket-level block (all four on)"},
		{"s3-bucket-public", use1, "app-data-bucket", "PASS", "private; its only policy statement is a Deny"},
		{"s3-bucket-public", euw1, "eu-exports-bucket", "PASS", "private, bucket-level block on"},
		{"s3-bucket-public", use1, "audit-logs-bucket", "PASS", "policy allows only the CloudTrail service; block on"},
		{"s3-account-public-access-block-off", "global", "account", "FAIL", "only BlockPublicAcls=true at account level"},
		{"ec2-snapshot-public", use1, "legacy-fileshare-snap", "FAIL", `createVolumePermission group "all"`},
		{"ec2-snapshot-public", use1, "prod-app-data-snap", "PASS", "private (encrypted)"},
		{"ec2-snapshot-public", use1, "prod-app-data-dr-snap", "PASS", "shared with one named account only"},
		{"ec2-snapshot-public", use1, "use1-ami-root-snap", "PASS", "private (created by RegisterImage)"},
		{"ec2-snapshot-public", euw1, "euw1-ami-root-snap", "PASS", "private (created by RegisterImage)"},
		{"rds-snapshot-public", use1, "legacy-mysql-export-snap", "FAIL", `restore attribute "all"`},
		{"rds-snapshot-public", use1, "prod-orders-nightly-snap", "PASS", "private"},
		{"rds-snapshot-public", use1, "prod-orders-dr-snap", "PASS", "shared with one named account only"},
		{"ec2-instance-outside-vpc", use1, "prod-web-1", "PASS", "in acme-prod (EC2-Classic cannot be emulated)"},
		{"ec2-instance-outside-vpc", euw1, "eu-worker-1", "PASS", "in acme-eu"},
		{"ec2-instance-in-default-vpc", use1, "legacy-jumpbox", "FAIL", "launched without a subnet: the default VPC"},
		{"ec2-instance-in-default-vpc", use1, "prod-app-1", "PASS", "in acme-prod"},
		{"ec2-instance-in-default-vpc", euw1, "eu-web-1", "PASS", "in acme-eu"},
		{"lambda-function-outside-vpc", use1, "legacy-thumbnailer-fn", "FAIL", "no VpcConfig"},
		{"lambda-function-outside-vpc", use1, "prod-order-events-fn", "PASS", "two private subnets of acme-prod"},
		{"lambda-function-outside-vpc", euw1, "eu-exporter-fn", "PASS", "a private subnet of acme-eu"},
		{"rds-instance-outside-vpc", use1, "prod-orders-db", "PASS", "DB subnet group acme-prod-db"},
		{"rds-instance-outside-vpc", use1, "legacy-mysql", "PASS", "public, but in DB subnet group acme-legacy-db"},
		{"rds-instance-outside-vpc", use1, "legacy-reports-db", "FAIL", "no DB subnet group (EC2-Classic era)"},
		{"elasticache-cluster-outside-vpc", use1, "legacy-memcached", "FAIL", "no cache subnet group"},
		{"elasticache-cluster-outside-vpc", use1, "prod-catalog-cache", "PASS", "cache subnet group acme-prod-cache"},
		{"redshift-cluster-outside-vpc", use1, "prod-analytics-dw", "PASS", "cluster subnet group acme-prod-analytics"},
		{"redshift-cluster-outside-vpc", euw1, "eu-marketing-dw", "PASS", "public, but in cluster subnet group acme-eu-marketing"},
		{"ec2-ebs-volume-unencrypted", use1, "legacy-fileshare-vol", "FAIL", "Encrypted=false"},
		{"ec2-ebs-volume-unencrypted", use1, "prod-app-data-vol", "PASS", "Encrypted=true"},
		{"ec2-ebs-default-encryption-off", use1, "account", "FAIL", "never turned on in us-east-1"},
		{"ec2-ebs-default-encryption-off", euw1, "account", "PASS", "turned on in eu-west-1"},
		{"ec2-ebs-snapshot-unencrypted", use1, "legacy-fileshare-snap", "FAIL", "of an unencrypted volume"},
		{"ec2-ebs-snapshot-unencrypted", use1, "prod-app-data-snap", "PASS", "of an encrypted volume"},
		{"s3-bucket-unencrypted", use1, "website-bucket", "FAIL", "no default encryption configuration"},
		{"s3-bucket-unencrypted", use1, "legacy-downloads-bucket", "FAIL", "no default encryption configuration"},
		{"s3-bucket-unencrypted", use1, "app-data-bucket", "PASS", "SSE-S3 (AES256) by default"},
		{"s3-bucket-unencrypted", euw1, "eu-exports-bucket", "PASS", "SSE-S3 (AES256) by default"},
		{"s3-bucket-tls-not-enforced", use1, "app-data-bucket", "PASS", `Deny s3:* when aws:SecureTransport is "false"`},
		{"s3-bucket-tls-not-enforced", use1, "audit-logs-bucket", "PASS", "Deny * to AWS:* when aws:SecureTransport is false"},
		{"s3-bucket-tls-not-enforced", use1, "website-bucket", "FAIL", "its policy only allows public reads"},
		{"s3-bucket-tls-not-enforced", euw1, "eu-exports-bucket", "FAIL", "no bucket policy"},
		{"rds-instance-unencrypted", use1, "legacy-mysql", "FAIL", "StorageEncrypted=false"},
		{"rds-instance-unencrypted", use1, "prod-orders-db", "PASS", "StorageEncrypted=true"},
		{"rds-cluster-unencrypted", use1, "legacy-reporting-cluster", "FAIL", "Aurora MySQL, StorageEncrypted=false"},
		{"rds-cluster-unencrypted", use1, "prod-ledger-cluster", "PASS", "Aurora PostgreSQL, StorageEncrypted=true"},
		{"rds-snapshot-unencrypted", use1, "legacy-mysql-export-snap", "FAIL", "of the unencrypted legacy MySQL"},
		{"rds-snapshot-unencrypted", use1, "prod-orders-nightly-snap", "PASS", "of the encrypted orders database"},
		{"efs-filesystem-unencrypted", use1, "legacy-scratch-fs", "FAIL", "Encrypted=false"},
		{"efs-filesystem-unencrypted", use1, "prod-shared-fs", "PASS", "Encrypted=true"},
		{"efs-filesystem-unencrypted", euw1, "eu-shared-fs", "PASS", "Encrypted=true"},
		{"dynamodb-table-default-key", use1, "legacy-sessions-table", "FAIL", "AWS-owned key (no SSE specification)"},
		{"dynamodb-table-default-key", use1, "prod-orders-table", "PASS", "KMS, Acme's prod data key"},
		{"dynamodb-table-default-key", euw1, "eu-consents-table", "PASS", "KMS, the AWS-managed aws/dynamodb key"},
		{"sqs-queue-unencrypted", use1, "legacy-jobs-queue", "FAIL", "SqsManagedSseEnabled=false, no KMS key"},
		{"sqs-queue-unencrypted", use1, "prod-orders-queue", "PASS", "SSE-SQS"},
		{"sqs-queue-unencrypted", euw1, "eu-exports-queue", "PASS", "KMS, Acme's EU data key"},
		{"sns-topic-unencrypted", use1, "legacy-notifications-topic", "FAIL", "no KmsMasterKeyId"},
		{"sns-topic-unencrypted", use1, "prod-alerts-topic", "PASS", "KmsMasterKeyId alias/aws/sns"},
		{"sns-topic-unencrypted", euw1, "eu-notifications-topic", "FAIL", "no KmsMasterKeyId"},
		{"redshift-cluster-unencrypted", euw1, "eu-marketing-dw", "FAIL", "Encrypted=false"},
		{"redshift-cluster-unencrypted", use1, "prod-analytics-dw", "PASS", "Encrypted=true"},
		{"elasticache-replication-group-unencrypted", euw1, "eu-sessions-rg", "FAIL", "at rest on, in transit off"},
		{"elasticache-replication-group-unencrypted", use1, "prod-sessions-rg", "PASS", "at rest and in transit"},
		{"cloudtrail-trail-not-kms-encrypted", use1, "prod-audit-trail", "PASS", "multi-region, Acme's prod data key"},
		{"cloudtrail-trail-not-kms-encrypted", euw1, "eu-team-trail", "FAIL", "no KmsKeyId"},
		{"kinesis-stream-unencrypted", use1, "legacy-events-stream", "FAIL", "EncryptionType=NONE"},
		{"kinesis-stream-unencrypted", use1, "prod-clickstream", "PASS", "EncryptionType=KMS"},
		{"iam-access-key-unrotated", "global", "app-svc-key-1", "PASS", "created today"},
		{"iam-access-key-unrotated", "global", "app-svc-key-2", "PASS", "created today"},
		{"iam-credential-unused", "global", "alice", "PASS", "console password set today"},
		{"iam-credential-unused", "global", "app-svc", "PASS", "keys created today"},
		{"iam-user-console-without-mfa", "global", "alice", "FAIL", "console password, no MFA device"},
		{"iam-user-console-without-mfa", "global", "bob", "PASS", "console password and a virtual MFA device"},
		{"iam-user-multiple-active-keys", "global", "app-svc", "FAIL", "two active keys: a rotation never finished"},
		{"iam-user-multiple-active-keys", "global", "ci-deploy", "PASS", "one active key"},
		{"iam-root-access-key-present", "global", "account", "PASS", "the emulator never reports root keys"},
		{"iam-root-mfa-disabled", "global", "account", "FAIL", "the emulator always reports root MFA off"},
		{"iam-password-policy-weak", "global", "account", "FAIL", "minimum length 8, no reuse prevention"},
		{"kms-key-rotation-disabled", use1, "orders-cmk", "PASS", "automatic rotation on"},
		{"kms-key-rotation-disabled", use1, "legacy-cmk", "FAIL", "automatic rotation off"},
		{"kms-key-rotation-disabled", euw1, "eu-cmk", "FAIL", "automatic rotation off"},
		{"secretsmanager-rotation-disabled", use1, "orders-db-secret", "PASS", "rotation every 30 days"},
		{"secretsmanager-rotation-disabled", use1, "legacy-api-token", "FAIL", "no rotation configured"},
		{"secretsmanager-secret-unrotated", use1, "orders-db-secret", "PASS", "rotated today"},
		{"acm-certificate-expiring", use1, "www-cert", "PASS", "a year left"},
		{"acm-certificate-expiring", euw1, "eu-api-cert", "FAIL", "expires in 10 days (medium)"},
		{"iam-server-certificate-expired", "global", "legacy-elb-cert", "FAIL", "expired 30 days ago (the emulator reports 2012)"},
	}
}

// AgedExpectations returns the story rows that hold only when the stale
// credentials were created in the past (Inventory.Aged), in the order of
// the table in credentials.go.
func AgedExpectations() []Expectation {
	return []Expectation{
		{"iam-access-key-unrotated", "global", "ci-deploy-key", "FAIL", "active key created 120 days ago"},
		{"iam-credential-unused", "global", "ci-deploy", "FAIL", "its key was never used in 120 days"},
		{"secretsmanager-secret-unrotated", PrimaryRegion, "legacy-api-token", "FAIL", "never rotated, created 200 days ago"},
	}
}

// OneSided names the checks whose story has only a PASS or only a FAIL, and
// why; every other check has both.
func OneSided() map[string]string {
	return map[string]string{
		"s3-account-public-access-block-off": "one result per account",
		"ec2-instance-outside-vpc":           "EC2-Classic cannot be created (in the emulator or in AWS since 2022): PASS only, FAIL in unit tests",
		"redshift-cluster-outside-vpc":       "EC2-Classic clusters cannot be created: PASS only, FAIL in unit tests",
		"iam-root-access-key-present":        "one result per account; the emulator never reports root keys",
		"iam-root-mfa-disabled":              "one result per account; the emulator always reports root MFA off",
		"iam-password-policy-weak":           "one result per account",
		"iam-server-certificate-expired":     "the emulator reports every server certificate as expired in 2012",
	}
}

// ID returns the identifier recorded under role in any of the inventory's
// maps ("account" gives AccountID), or "" if there is none.
func (inv *Inventory) ID(role string) string {
	if role == "account" {
		return inv.AccountID
	}
	for _, m := range []map[string]string{
		inv.VPCs, inv.Subnets, inv.InternetGateways, inv.RouteTables, inv.NetworkACLs,
		inv.SecurityGroups, inv.Images, inv.Instances, inv.Volumes, inv.Snapshots,
		inv.Buckets, inv.DBInstances, inv.DBSnapshots, inv.RedshiftClusters,
		inv.DBClusters, inv.Functions, inv.CacheClusters, inv.ReplicationGroups,
		inv.FileSystems, inv.Tables, inv.Queues, inv.Topics, inv.Trails, inv.Streams,
		inv.Users, inv.AccessKeys, inv.KMSKeys, inv.Secrets, inv.Certificates, inv.ServerCertificates,
	} {
		if id, ok := m[role]; ok {
			return id
		}
	}
	return ""
}

package reports

// Permission lists the read-only AWS calls the scanner makes for one
// service: the table "The identity needs read access only" of the README,
// kept here as data so that the PDF reports state the method from the
// binary that made the scan. A test keeps the two identical.
type Permission struct {
	Service string
	Calls   string
}

// Permissions returns the README's table of the calls a scan makes, per
// service, in a new slice each call.
func Permissions() []Permission {
	return []Permission{
		{"STS, EC2 (account)", "sts:GetCallerIdentity, ec2:DescribeRegions; with --accounts/--org also sts:AssumeRole, and organizations:ListAccounts for --org"},
		{"EC2", "DescribeVpcs, DescribeSubnets, DescribeRouteTables, DescribeSecurityGroups, DescribeManagedPrefixLists, GetManagedPrefixListEntries, DescribeNetworkAcls, DescribeInstances, DescribeVolumes, DescribeSnapshots, DescribeSnapshotAttribute, GetEbsEncryptionByDefault"},
		{"RDS", "DescribeDBInstances, DescribeDBClusters, DescribeDBSnapshots, DescribeDBSnapshotAttributes, DescribeDBClusterSnapshots, DescribeDBClusterSnapshotAttributes"},
		{"Redshift", "DescribeClusters"},
		{"S3", "ListAllMyBuckets (the ListBuckets API, paged with MaxBuckets 1000), GetBucketLocation, GetBucketAcl, GetBucketPolicy, GetBucketPublicAccessBlock, GetEncryptionConfiguration (the GetBucketEncryption API), GetAccountPublicAccessBlock"},
		{"ElastiCache", "DescribeCacheClusters, DescribeReplicationGroups"},
		{"Lambda", "ListFunctions"},
		{"EFS", "DescribeFileSystems"},
		{"DynamoDB", "ListTables, DescribeTable"},
		{"SQS", "ListQueues (paged: MaxResults 1000 and NextToken; without MaxResults AWS returns only the first 1,000 queues), GetQueueAttributes"},
		{"SNS", "ListTopics, GetTopicAttributes"},
		{"CloudTrail", "DescribeTrails"},
		{"Kinesis", "ListStreams, DescribeStreamSummary"},
		{"IAM (global)", "GenerateCredentialReport, GetCredentialReport, ListUsers, ListAccessKeys, GetAccessKeyLastUsed, GetLoginProfile, ListMFADevices, GetAccountSummary, GetAccountPasswordPolicy, ListServerCertificates"},
		{"KMS", "ListKeys, DescribeKey, GetKeyRotationStatus"},
		{"Secrets Manager", "ListSecrets (never GetSecretValue)"},
		{"ACM", "ListCertificates (statuses ISSUED and EXPIRED), DescribeCertificate"},
	}
}

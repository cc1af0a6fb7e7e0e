package readonly

import (
	"slices"
	"strings"
)

// Call is one AWS call on the allow-list.
type Call struct {
	// Service is the SDK's service ID, as middleware.GetServiceID reports
	// it: "EC2", "S3", "S3 Control", "Secrets Manager".
	Service string
	// Operation is the SDK's operation name, as the guard sees it.
	Operation string
	// Action is the IAM action ("s3:ListAllMyBuckets"): the name a policy
	// grants and the README prints. Its prefix is also the service's SigV4
	// signing name, which the transport check reads on the wire.
	Action string
	// Note is printed after the action, in parentheses, in the README.
	Note string
}

// Prefix is the IAM service prefix of the action ("s3").
func (c Call) Prefix() string {
	p, _, _ := strings.Cut(c.Action, ":")
	return p
}

// Name is the IAM action without its prefix ("ListAllMyBuckets").
func (c Call) Name() string {
	_, n, _ := strings.Cut(c.Action, ":")
	return n
}

// Group is one row of the README's permissions table: a title and the
// calls made for it.
type Group struct {
	Title string
	Calls []Call
}

// c builds a Call whose IAM action has the operation's name.
func c(service, prefix, operation string) Call {
	return Call{Service: service, Operation: operation, Action: prefix + ":" + operation}
}

// many builds the Calls of one service whose IAM actions are named as the
// operations.
func many(service, prefix string, operations ...string) []Call {
	out := make([]Call, len(operations))
	for i, op := range operations {
		out[i] = c(service, prefix, op)
	}
	return out
}

// with returns call with a note.
func with(call Call, note string) Call {
	call.Note = note
	return call
}

// scanning is the exact allow-list of the calls the scanner makes with the
// credentials of a scanned account (and of the caller's own, to identify
// it and list the organisation), grouped as the README's permissions table
// prints them. The guard refuses every other (service, operation) pair. No
// call on it changes anything a user owns or returns a secret: it names
// neither Lambda GetFunction/GetFunctionConfiguration (environment
// variables), EC2 DescribeInstanceAttribute/GetConsoleOutput/GetPasswordData
// (user data, console output, passwords), nor any Get of secret values,
// parameters, objects, items or records.
var scanning = []Group{
	{"STS, EC2 (account)", []Call{
		c("STS", "sts", "GetCallerIdentity"),
		c("EC2", "ec2", "DescribeRegions"),
		with(c("STS", "sts", "AssumeRole"), "with --accounts or --org"),
		with(c("Organizations", "organizations", "ListAccounts"), "with --org"),
		with(c("Organizations", "organizations", "DescribeOrganization"), "with --accounts or --org; optional: it names the management account in a gap"),
	}},
	{"EC2", many("EC2", "ec2", "DescribeVpcs", "DescribeSubnets", "DescribeRouteTables", "DescribeSecurityGroups",
		"DescribeManagedPrefixLists", "GetManagedPrefixListEntries", "DescribeNetworkAcls", "DescribeInstances",
		"DescribeVolumes", "DescribeSnapshots", "DescribeSnapshotAttribute", "GetEbsEncryptionByDefault")},
	{"RDS", many("RDS", "rds", "DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots",
		"DescribeDBSnapshotAttributes", "DescribeDBClusterSnapshots", "DescribeDBClusterSnapshotAttributes")},
	{"Redshift", many("Redshift", "redshift", "DescribeClusters")},
	{"S3", []Call{
		{Service: "S3", Operation: "ListBuckets", Action: "s3:ListAllMyBuckets", Note: "the ListBuckets API, paged with MaxBuckets 1000"},
		c("S3", "s3", "GetBucketLocation"),
		c("S3", "s3", "GetBucketAcl"),
		c("S3", "s3", "GetBucketPolicy"),
		{Service: "S3", Operation: "GetPublicAccessBlock", Action: "s3:GetBucketPublicAccessBlock"},
		{Service: "S3", Operation: "GetBucketEncryption", Action: "s3:GetEncryptionConfiguration", Note: "the GetBucketEncryption API"},
		{Service: "S3 Control", Operation: "GetPublicAccessBlock", Action: "s3:GetAccountPublicAccessBlock"},
	}},
	{"ElastiCache", many("ElastiCache", "elasticache", "DescribeCacheClusters", "DescribeReplicationGroups")},
	{"Lambda", []Call{with(c("Lambda", "lambda", "ListFunctions"), "never GetFunction or GetFunctionConfiguration; environment variables are dropped as each page is read")}},
	{"EFS", many("EFS", "elasticfilesystem", "DescribeFileSystems")},
	{"DynamoDB", many("DynamoDB", "dynamodb", "ListTables", "DescribeTable")},
	{"SQS", []Call{
		with(c("SQS", "sqs", "ListQueues"), "paged: MaxResults 1000 and NextToken; without MaxResults AWS returns only the first 1,000 queues"),
		c("SQS", "sqs", "GetQueueAttributes"),
	}},
	{"SNS", many("SNS", "sns", "ListTopics", "GetTopicAttributes")},
	{"CloudTrail", many("CloudTrail", "cloudtrail", "DescribeTrails")},
	{"Kinesis", many("Kinesis", "kinesis", "ListStreams", "DescribeStreamSummary")},
	{"IAM (global)", many("IAM", "iam", "GenerateCredentialReport", "GetCredentialReport", "ListUsers", "ListAccessKeys",
		"GetAccessKeyLastUsed", "GetLoginProfile", "ListMFADevices", "GetAccountSummary", "GetAccountPasswordPolicy",
		"ListServerCertificates")},
	{"KMS", many("KMS", "kms", "ListKeys", "DescribeKey", "GetKeyRotationStatus")},
	{"Secrets Manager", []Call{with(c("Secrets Manager", "secretsmanager", "ListSecrets"), "never GetSecretValue")}},
	{"ACM", []Call{
		with(c("ACM", "acm", "ListCertificates"), "statuses ISSUED and EXPIRED"),
		c("ACM", "acm", "DescribeCertificate"),
	}},
}

// signing lists the calls of the package-signing client (internal/signing)
// that are not on Scanning. That client uses the tool's own identity, never
// a scanned account's, and is the only one allowed them (AllowOnClient):
// kms:Sign signs the manifest statement and kms:GetPublicKey fetches the
// public key for verification. (It also calls kms:DescribeKey, which is on
// Scanning.)
var signing = []Call{
	c("KMS", "kms", "Sign"),
	c("KMS", "kms", "GetPublicKey"),
}

// delivery lists the calls of the nightly run's own output clients
// (internal/nightly) that are not on Scanning: writing the evidence package
// and its index to the run's own bucket, reading back the previous run's
// descriptor, scan.json and the fan-out's working files, and publishing the
// summary. Those clients use the tool's own identity (the Lambda's role),
// never a scanned account's, and are the only ones allowed them
// (AllowOnClient); a scanning client still refuses every one.
var delivery = []Call{
	c("S3", "s3", "PutObject"),
	with(c("S3", "s3", "GetObject"), "the nightly run's own bucket: config, previous scan.json, partials"),
	{Service: "S3", Operation: "ListObjectsV2", Action: "s3:ListBucket", Note: "the ListObjectsV2 API"},
	c("SNS", "sns", "Publish"),
}

// Scanning returns the allow-list (see scanning), a new copy each call.
func Scanning() []Group {
	out := make([]Group, len(scanning))
	for i, g := range scanning {
		out[i] = g
		out[i].Calls = slices.Clone(g.Calls)
	}
	return out
}

// Signing returns the signing client's extra calls (see signing), a new
// copy each call.
func Signing() []Call { return slices.Clone(signing) }

// Delivery returns the nightly run's output clients' extra calls (see
// delivery), a new copy each call.
func Delivery() []Call { return slices.Clone(delivery) }

// allowed indexes Scanning by service ID and operation; wire by signing
// name and operation.
var allowed, wire = func() (map[[2]string]bool, map[[2]string]bool) {
	byID, byWire := map[[2]string]bool{}, map[[2]string]bool{}
	for _, g := range scanning {
		for _, call := range g.Calls {
			byID[[2]string{call.Service, call.Operation}] = true
			byWire[[2]string{call.Prefix(), call.Operation}] = true
		}
	}
	return byID, byWire
}()

// Allowed reports whether the scanning clients may call operation of the
// service with the given SDK service ID: whether the pair is on Scanning.
func Allowed(service, operation string) bool {
	return allowed[[2]string{service, operation}]
}

// AllowedOnWire reports whether a request to the service with the given
// SigV4 signing name for operation is on Scanning.
func AllowedOnWire(signingName, operation string) bool {
	return wire[[2]string{signingName, operation}]
}

// Row renders a group as the README's table prints it (without the
// backquotes): the IAM action names, prefixed with their service when the
// group spans several, each followed by its note in parentheses.
func (g Group) Row() string {
	mixed := false
	for _, call := range g.Calls {
		if call.Prefix() != g.Calls[0].Prefix() {
			mixed = true
		}
	}
	parts := make([]string, len(g.Calls))
	for i, call := range g.Calls {
		s := call.Name()
		if mixed {
			s = call.Action
		}
		if call.Note != "" {
			s += " (" + call.Note + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

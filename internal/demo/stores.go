package demo

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// seedStores creates the resources of the outside-a-VPC and unencrypted
// data store families that the network and data seeding did not already
// create: a KMS key, EBS encryption by default (EU only), an instance in the
// default VPC, Lambda functions, ElastiCache, Aurora clusters, EFS, DynamoDB,
// SQS, SNS, CloudTrail and Kinesis. It runs after seedData, whose subnets,
// security groups and buckets it uses from inv.
func seedStores(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	steps := []func(context.Context, aws.Config, *Inventory) error{
		seedDataKeys, seedEBSDefaults, seedDefaultVPCInstance, seedLambda, seedElastiCache,
		seedAurora, seedEFS, seedDynamoDB, seedSQS, seedSNS, seedCloudTrail, seedKinesis,
	}
	for _, step := range steps {
		if err := step(ctx, cfg, inv); err != nil {
			return err
		}
	}
	return nil
}

// seedDataKeys creates the customer-managed key that encrypts Acme's audit logs,
// order table and clickstream, with rotation on, in each region.
func seedDataKeys(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, k := range []struct{ role, region string }{
		{"prod-data-key", PrimaryRegion},
		{"eu-data-key", SecondaryRegion},
	} {
		c := kms.NewFromConfig(regional(cfg, k.region))
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("Acme data at rest (" + k.role + ")")})
		if err != nil {
			return fmt.Errorf("demo: create KMS key %s in %s: %w", k.role, k.region, err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
			return fmt.Errorf("demo: enable rotation of KMS key %s in %s: %w", id, k.region, err)
		}
		inv.put(inv.KMSKeys, k.role, id, k.region)
		inv.KeyARNs[k.role] = aws.ToString(out.KeyMetadata.Arn)
	}
	return nil
}

// seedEBSDefaults turns EBS encryption by default on in eu-west-1 only; the
// US region was set up before the setting existed and nobody went back.
func seedEBSDefaults(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := ec2.NewFromConfig(regional(cfg, SecondaryRegion))
	if _, err := c.EnableEbsEncryptionByDefault(ctx, &ec2.EnableEbsEncryptionByDefaultInput{}); err != nil {
		return fmt.Errorf("demo: enable EBS encryption by default in %s: %w", SecondaryRegion, err)
	}
	return nil
}

// seedDefaultVPCInstance launches the "temporary" jump box someone started in
// us-east-1's default VPC (no subnet given) years ago.
func seedDefaultVPCInstance(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	n := newNetwork(regional(cfg, PrimaryRegion), inv)
	out, err := n.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:           aws.String(inv.Images["use1-base-ami"]),
		InstanceType:      ec2types.InstanceTypeT3Micro,
		MinCount:          aws.Int32(1),
		MaxCount:          aws.Int32(1),
		TagSpecifications: tags(ec2types.ResourceTypeInstance, "acme-legacy-jumpbox", "legacy"),
	})
	if err != nil {
		return n.errf("run instance", "acme-legacy-jumpbox", err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	inv.put(inv.Instances, "legacy-jumpbox", id, PrimaryRegion)
	inv.put(inv.VPCs, "use1-default-vpc", aws.ToString(out.Instances[0].VpcId), PrimaryRegion)
	return nil
}

// lambdaZip is a deployment package with one file: enough for the emulator.
func lambdaZip() ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("index.py")
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte("def handler(event, context):\n    return {'ok': True}\n")); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// seedLambda creates the functions' execution role and three functions: the
// prod order-events handler inside the prod VPC, the EU exporter inside the
// EU VPC, and the legacy thumbnailer outside any VPC.
func seedLambda(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	role, err := iam.NewFromConfig(regional(cfg, PrimaryRegion)).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("acme-lambda-exec"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		return fmt.Errorf("demo: create role acme-lambda-exec: %w", err)
	}
	code, err := lambdaZip()
	if err != nil {
		return fmt.Errorf("demo: build Lambda package: %w", err)
	}
	functions := []struct {
		role, name, region string
		subnets, sgs       []string
	}{
		{"prod-order-events-fn", "acme-prod-order-events", PrimaryRegion,
			[]string{inv.Subnets["prod-private-a"], inv.Subnets["prod-private-b"]}, []string{inv.SecurityGroups["prod-app-sg"]}},
		{"legacy-thumbnailer-fn", "acme-legacy-thumbnailer", PrimaryRegion, nil, nil},
		{"eu-exporter-fn", "acme-eu-exporter", SecondaryRegion,
			[]string{inv.Subnets["eu-private-a"]}, []string{inv.SecurityGroups["eu-worker-sg"]}},
	}
	for _, fn := range functions {
		in := &lambda.CreateFunctionInput{
			FunctionName: aws.String(fn.name),
			Runtime:      lambdatypes.RuntimePython312,
			Role:         role.Role.Arn,
			Handler:      aws.String("index.handler"),
			Code:         &lambdatypes.FunctionCode{ZipFile: code},
			Tags:         map[string]string{"Name": fn.name},
		}
		if len(fn.subnets) > 0 {
			in.VpcConfig = &lambdatypes.VpcConfig{SubnetIds: fn.subnets, SecurityGroupIds: fn.sgs}
		}
		if _, err := lambda.NewFromConfig(regional(cfg, fn.region)).CreateFunction(ctx, in); err != nil {
			return fmt.Errorf("demo: create Lambda function %s in %s: %w", fn.name, fn.region, err)
		}
		inv.put(inv.Functions, fn.role, fn.name, fn.region)
	}
	return nil
}

// seedElastiCache creates a Redis replication group for prod sessions
// (encrypted at rest and in transit), an EU one without in-transit
// encryption, a prod Memcached cluster in a cache subnet group and a legacy
// Memcached cluster launched without one.
func seedElastiCache(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	groups := []struct {
		role, id, region, subnetGroup string
		subnets                       []string
		atRest, transit               bool
	}{
		{"prod-sessions-rg", "acme-prod-sessions", PrimaryRegion, "acme-prod-cache",
			[]string{inv.Subnets["prod-private-a"], inv.Subnets["prod-private-b"]}, true, true},
		{"eu-sessions-rg", "acme-eu-sessions", SecondaryRegion, "acme-eu-cache",
			[]string{inv.Subnets["eu-private-a"], inv.Subnets["eu-private-b"]}, true, false},
	}
	for _, g := range groups {
		c := elasticache.NewFromConfig(regional(cfg, g.region))
		if _, err := c.CreateCacheSubnetGroup(ctx, &elasticache.CreateCacheSubnetGroupInput{
			CacheSubnetGroupName:        aws.String(g.subnetGroup),
			CacheSubnetGroupDescription: aws.String(g.subnetGroup + " cache subnets"),
			SubnetIds:                   g.subnets,
		}); err != nil {
			return fmt.Errorf("demo: create cache subnet group %s in %s: %w", g.subnetGroup, g.region, err)
		}
		if _, err := c.CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
			ReplicationGroupId:          aws.String(g.id),
			ReplicationGroupDescription: aws.String(g.id + " sessions"),
			Engine:                      aws.String("redis"),
			CacheNodeType:               aws.String("cache.t3.micro"),
			NumCacheClusters:            aws.Int32(2),
			CacheSubnetGroupName:        aws.String(g.subnetGroup),
			AtRestEncryptionEnabled:     aws.Bool(g.atRest),
			TransitEncryptionEnabled:    aws.Bool(g.transit),
		}); err != nil {
			return fmt.Errorf("demo: create replication group %s in %s: %w", g.id, g.region, err)
		}
		inv.put(inv.ReplicationGroups, g.role, g.id, g.region)
	}
	clusters := []struct {
		role, id, subnetGroup string
	}{
		{"prod-catalog-cache", "acme-prod-catalog", "acme-prod-cache"},
		{"legacy-memcached", "acme-legacy-memcached", ""},
	}
	c := elasticache.NewFromConfig(regional(cfg, PrimaryRegion))
	for _, cl := range clusters {
		in := &elasticache.CreateCacheClusterInput{
			CacheClusterId: aws.String(cl.id),
			Engine:         aws.String("memcached"),
			CacheNodeType:  aws.String("cache.t3.micro"),
			NumCacheNodes:  aws.Int32(1),
		}
		if cl.subnetGroup != "" {
			in.CacheSubnetGroupName = aws.String(cl.subnetGroup)
		}
		if _, err := c.CreateCacheCluster(ctx, in); err != nil {
			return fmt.Errorf("demo: create cache cluster %s in %s: %w", cl.id, PrimaryRegion, err)
		}
		inv.put(inv.CacheClusters, cl.role, cl.id, PrimaryRegion)
	}
	return nil
}

// seedAurora creates the encrypted prod ledger cluster and the unencrypted
// legacy reporting cluster.
func seedAurora(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := rds.NewFromConfig(regional(cfg, PrimaryRegion))
	for _, cl := range []struct {
		role, id, engine, subnetGroup, env string
		encrypted                          bool
	}{
		{"prod-ledger-cluster", "acme-prod-ledger", "aurora-postgresql", "acme-prod-db", "prod", true},
		{"legacy-reporting-cluster", "acme-legacy-reporting", "aurora-mysql", "acme-legacy-db", "legacy", false},
	} {
		if _, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
			DBClusterIdentifier: aws.String(cl.id),
			Engine:              aws.String(cl.engine),
			MasterUsername:      aws.String("acme"),
			MasterUserPassword:  aws.String(demoPassword),
			DBSubnetGroupName:   aws.String(cl.subnetGroup),
			StorageEncrypted:    aws.Bool(cl.encrypted),
			Tags:                rdsTags(cl.id, cl.env),
		}); err != nil {
			return fmt.Errorf("demo: create DB cluster %s in %s: %w", cl.id, PrimaryRegion, err)
		}
		inv.put(inv.DBClusters, cl.role, cl.id, PrimaryRegion)
	}
	return nil
}

// seedEFS creates an encrypted prod file system, an unencrypted legacy
// scratch file system and an encrypted EU one.
func seedEFS(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, fs := range []struct {
		role, name, region string
		encrypted          bool
	}{
		{"prod-shared-fs", "acme-prod-shared", PrimaryRegion, true},
		{"legacy-scratch-fs", "acme-legacy-scratch", PrimaryRegion, false},
		{"eu-shared-fs", "acme-eu-shared", SecondaryRegion, true},
	} {
		out, err := efs.NewFromConfig(regional(cfg, fs.region)).CreateFileSystem(ctx, &efs.CreateFileSystemInput{
			CreationToken: aws.String(fs.name),
			Encrypted:     aws.Bool(fs.encrypted),
		})
		if err != nil {
			return fmt.Errorf("demo: create file system %s in %s: %w", fs.name, fs.region, err)
		}
		inv.put(inv.FileSystems, fs.role, aws.ToString(out.FileSystemId), fs.region)
	}
	return nil
}

// seedDynamoDB creates the prod orders table under Acme's KMS key, the EU
// consents table under the AWS-managed key, and the legacy sessions table
// left on the AWS-owned default.
func seedDynamoDB(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, tb := range []struct {
		role, name, region string
		sse                *ddbtypes.SSESpecification
	}{
		{"prod-orders-table", "acme-prod-orders", PrimaryRegion, &ddbtypes.SSESpecification{
			Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String(inv.KeyARNs["prod-data-key"]),
		}},
		{"legacy-sessions-table", "acme-legacy-sessions", PrimaryRegion, nil},
		{"eu-consents-table", "acme-eu-consents", SecondaryRegion, &ddbtypes.SSESpecification{
			Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms,
		}},
	} {
		if _, err := dynamodb.NewFromConfig(regional(cfg, tb.region)).CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(tb.name),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			SSESpecification:     tb.sse,
		}); err != nil {
			return fmt.Errorf("demo: create table %s in %s: %w", tb.name, tb.region, err)
		}
		inv.put(inv.Tables, tb.role, tb.name, tb.region)
	}
	return nil
}

// seedSQS creates the prod order queue (SSE-SQS), the EU export queue (KMS)
// and the legacy jobs queue with encryption explicitly turned off.
func seedSQS(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, q := range []struct {
		role, name, region string
		attrs              map[string]string
	}{
		{"prod-orders-queue", "acme-prod-orders", PrimaryRegion, map[string]string{string(sqstypes.QueueAttributeNameSqsManagedSseEnabled): "true"}},
		{"legacy-jobs-queue", "acme-legacy-jobs", PrimaryRegion, map[string]string{string(sqstypes.QueueAttributeNameSqsManagedSseEnabled): "false"}},
		{"eu-exports-queue", "acme-eu-exports", SecondaryRegion, map[string]string{
			string(sqstypes.QueueAttributeNameSqsManagedSseEnabled): "false",
			string(sqstypes.QueueAttributeNameKmsMasterKeyId):       inv.KMSKeys["eu-data-key"],
		}},
	} {
		if _, err := sqs.NewFromConfig(regional(cfg, q.region)).CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName: aws.String(q.name), Attributes: q.attrs,
		}); err != nil {
			return fmt.Errorf("demo: create queue %s in %s: %w", q.name, q.region, err)
		}
		inv.put(inv.Queues, q.role, q.name, q.region)
	}
	return nil
}

// seedSNS creates the prod alerts topic (KMS) and the legacy and EU
// notification topics without a key.
func seedSNS(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, tp := range []struct {
		role, name, region, key string
	}{
		{"prod-alerts-topic", "acme-prod-alerts", PrimaryRegion, "alias/aws/sns"},
		{"legacy-notifications-topic", "acme-legacy-notifications", PrimaryRegion, ""},
		{"eu-notifications-topic", "acme-eu-notifications", SecondaryRegion, ""},
	} {
		in := &sns.CreateTopicInput{Name: aws.String(tp.name)}
		if tp.key != "" {
			in.Attributes = map[string]string{"KmsMasterKeyId": tp.key}
		}
		if _, err := sns.NewFromConfig(regional(cfg, tp.region)).CreateTopic(ctx, in); err != nil {
			return fmt.Errorf("demo: create topic %s in %s: %w", tp.name, tp.region, err)
		}
		inv.put(inv.Topics, tp.role, tp.name, tp.region)
	}
	return nil
}

// seedCloudTrail creates the organisation-wide audit trail (multi-region,
// KMS-encrypted, home us-east-1) and the EU team's own trail without a key,
// both delivering to the encrypted, TLS-only audit-log bucket.
func seedCloudTrail(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	bucket := inv.Buckets["audit-logs-bucket"]
	for _, tr := range []struct {
		role, name, region, key string
		multiRegion             bool
	}{
		{"prod-audit-trail", "acme-audit", PrimaryRegion, inv.KeyARNs["prod-data-key"], true},
		{"eu-team-trail", "acme-eu-team", SecondaryRegion, "", false},
	} {
		in := &cloudtrail.CreateTrailInput{
			Name:               aws.String(tr.name),
			S3BucketName:       aws.String(bucket),
			IsMultiRegionTrail: aws.Bool(tr.multiRegion),
		}
		if tr.key != "" {
			in.KmsKeyId = aws.String(tr.key)
		}
		if _, err := cloudtrail.NewFromConfig(regional(cfg, tr.region)).CreateTrail(ctx, in); err != nil {
			return fmt.Errorf("demo: create trail %s in %s: %w", tr.name, tr.region, err)
		}
		inv.put(inv.Trails, tr.role, tr.name, tr.region)
	}
	return nil
}

// seedKinesis creates the prod clickstream (KMS) and the legacy events
// stream (never encrypted).
func seedKinesis(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := kinesis.NewFromConfig(regional(cfg, PrimaryRegion))
	for _, st := range []struct {
		role, name string
		encrypt    bool
	}{
		{"prod-clickstream", "acme-prod-clickstream", true},
		{"legacy-events-stream", "acme-legacy-events", false},
	} {
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(st.name), ShardCount: aws.Int32(1)}); err != nil {
			return fmt.Errorf("demo: create stream %s in %s: %w", st.name, PrimaryRegion, err)
		}
		if st.encrypt {
			if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
				StreamName: aws.String(st.name), EncryptionType: kinesistypes.EncryptionTypeKms, KeyId: aws.String(inv.KeyARNs["prod-data-key"]),
			}); err != nil {
				return fmt.Errorf("demo: encrypt stream %s in %s: %w", st.name, PrimaryRegion, err)
			}
		}
		inv.put(inv.Streams, st.role, st.name, PrimaryRegion)
	}
	return nil
}

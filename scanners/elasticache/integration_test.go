package elasticache_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// TestElastiCacheAgainstEmulator creates, in two regions, a cache cluster in
// a cache subnet group and one without, and replication groups with every
// combination of at-rest and in-transit encryption, and checks the exact
// results of both checks.
func TestElastiCacheAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const P, F = model.StatusPass, model.StatusFail
	outside := map[scantest.Key]model.Status{}
	unencrypted := map[scantest.Key]model.Status{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := emutest.Config(t, srv.URL, region)
		c := elasticache.NewFromConfig(cfg)
		_, subnets := emutest.DefaultSubnets(t, cfg)
		if _, err := c.CreateCacheSubnetGroup(ctx, &elasticache.CreateCacheSubnetGroupInput{
			CacheSubnetGroupName: aws.String("cache-subnets"), CacheSubnetGroupDescription: aws.String("caches"), SubnetIds: subnets,
		}); err != nil {
			t.Fatalf("create cache subnet group in %s: %v", region, err)
		}
		for id, in := range map[string]elasticache.CreateCacheClusterInput{
			"sessions-vpc":     {Engine: aws.String("redis"), CacheSubnetGroupName: aws.String("cache-subnets")},
			"sessions-classic": {Engine: aws.String("memcached")},
		} {
			in.CacheClusterId, in.CacheNodeType, in.NumCacheNodes = aws.String(id), aws.String("cache.t3.micro"), aws.Int32(1)
			if _, err := c.CreateCacheCluster(ctx, &in); err != nil {
				t.Fatalf("create cache cluster %s in %s: %v", id, region, err)
			}
		}
		outside[scantest.Key{Check: "elasticache-cluster-outside-vpc", Region: region, Resource: "sessions-vpc"}] = P
		outside[scantest.Key{Check: "elasticache-cluster-outside-vpc", Region: region, Resource: "sessions-classic"}] = F

		groups := []struct {
			id              string
			atRest, transit bool
			want            model.Status
		}{
			{"carts-encrypted", true, true, P},
			{"carts-plain", false, false, F},
			{"carts-at-rest-only", true, false, F},
			{"carts-transit-only", false, true, F},
		}
		for _, g := range groups {
			if _, err := c.CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
				ReplicationGroupId: aws.String(g.id), ReplicationGroupDescription: aws.String("carts"), Engine: aws.String("redis"),
				CacheNodeType: aws.String("cache.t3.micro"), NumCacheClusters: aws.Int32(1), CacheSubnetGroupName: aws.String("cache-subnets"),
				AtRestEncryptionEnabled: aws.Bool(g.atRest), TransitEncryptionEnabled: aws.Bool(g.transit),
			}); err != nil {
				t.Fatalf("create replication group %s in %s: %v", g.id, region, err)
			}
			unencrypted[scantest.Key{Check: "elasticache-replication-group-unencrypted", Region: region, Resource: g.id}] = g.want
		}
		// The emulator does not list a replication group's member nodes
		// (carts-plain-001, ...) in DescribeCacheClusters, as AWS does: the
		// cluster check sees the two standalone clusters only.
	}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "elasticache-cluster-outside-vpc", "elasticache-replication-group-unencrypted")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "elasticache-cluster-outside-vpc", outside, nil)
	scantest.ExpectExactly(t, scan, "elasticache-replication-group-unencrypted", unencrypted, nil)

	in := scantest.Find(t, scan, "elasticache-cluster-outside-vpc", "eu-west-1", "sessions-vpc")
	if in.Evidence["cache_subnet_group"] != "cache-subnets" || in.ResourceARN != "arn:aws:elasticache:eu-west-1:123456789012:cluster:sessions-vpc" {
		t.Errorf("cluster in a VPC: %s %v", in.ResourceARN, in.Evidence)
	}
	out := scantest.Find(t, scan, "elasticache-cluster-outside-vpc", "us-east-1", "sessions-classic")
	if out.Evidence["cache_subnet_group"] != "" || out.Evidence["engine"] != "memcached" || out.Severity != model.SeverityMedium || out.Family != model.FamilyOutsideVPC {
		t.Errorf("cluster outside a VPC: %+v", out)
	}
	half := scantest.Find(t, scan, "elasticache-replication-group-unencrypted", "us-east-1", "carts-at-rest-only")
	if half.Evidence["at_rest_encryption_enabled"] != true || half.Evidence["transit_encryption_enabled"] != false ||
		half.Message != "replication group carts-at-rest-only is not encrypted in transit" ||
		half.ResourceARN != "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:carts-at-rest-only" {
		t.Errorf("at-rest-only group: %s %q %v", half.ResourceARN, half.Message, half.Evidence)
	}
}

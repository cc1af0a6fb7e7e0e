// Package elasticache collects the ElastiCache cache clusters and replication
// groups of one region and holds the checks that read them.
package elasticache

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	PartCacheClusters     = "cache-clusters"
	PartReplicationGroups = "replication-groups"
)

// Inventory is what the ElastiCache scanner collects in one region.
type Inventory struct {
	AccountID         string             `json:"account_id"`
	Region            string             `json:"region"`
	Partition         string             `json:"partition"`
	CacheClusters     []CacheCluster     `json:"cache_clusters"`
	ReplicationGroups []ReplicationGroup `json:"replication_groups"`
}

// CacheCluster is a cache cluster: a Memcached cluster, a standalone Redis
// OSS or Valkey node, or a member node of a replication group.
type CacheCluster struct {
	ID     string `json:"id"`
	ARN    string `json:"arn,omitempty"`
	Engine string `json:"engine,omitempty"`
	// SubnetGroup is the cache subnet group; empty for a cluster outside a
	// VPC.
	SubnetGroup        string `json:"cache_subnet_group,omitempty"`
	ReplicationGroupID string `json:"replication_group_id,omitempty"`
}

// ReplicationGroup is a Redis OSS or Valkey replication group.
type ReplicationGroup struct {
	ID  string `json:"id"`
	ARN string `json:"arn,omitempty"`
	// AtRestEncryption and TransitEncryption are nil when the API did not
	// report them.
	AtRestEncryption  *bool  `json:"at_rest_encryption_enabled,omitempty"`
	TransitEncryption *bool  `json:"transit_encryption_enabled,omitempty"`
	TransitMode       string `json:"transit_encryption_mode,omitempty"`
	KMSKeyID          string `json:"kms_key_id,omitempty"`
}

// API is the read-only subset of the ElastiCache client the collector calls.
type API interface {
	elasticache.DescribeCacheClustersAPIClient
	elasticache.DescribeReplicationGroupsAPIClient
}

// Scanner returns the ElastiCache scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "elasticache", Collect: Collect, List: Checks()}
}

// Collect lists the region's cache clusters and replication groups (every
// page), each only when a selected check needs it.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, elasticache.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if scope.Wants(PartCacheClusters) {
		listed, err := paging.All(ctx, elasticache.NewDescribeCacheClustersPaginator(api, &elasticache.DescribeCacheClustersInput{}),
			func(page *elasticache.DescribeCacheClustersOutput) []types.CacheCluster { return page.CacheClusters })
		if err != nil {
			gaps.Add(PartCacheClusters, "DescribeCacheClusters", "", err)
		}
		for _, c := range listed {
			inv.CacheClusters = append(inv.CacheClusters, CacheCluster{
				ID: aws.ToString(c.CacheClusterId), ARN: aws.ToString(c.ARN), Engine: aws.ToString(c.Engine),
				SubnetGroup: aws.ToString(c.CacheSubnetGroupName), ReplicationGroupID: aws.ToString(c.ReplicationGroupId),
			})
		}
	}
	if scope.Wants(PartReplicationGroups) {
		listed, err := paging.All(ctx, elasticache.NewDescribeReplicationGroupsPaginator(api, &elasticache.DescribeReplicationGroupsInput{}),
			func(page *elasticache.DescribeReplicationGroupsOutput) []types.ReplicationGroup {
				return page.ReplicationGroups
			})
		if err != nil {
			gaps.Add(PartReplicationGroups, "DescribeReplicationGroups", "", err)
		}
		for _, g := range listed {
			inv.ReplicationGroups = append(inv.ReplicationGroups, ReplicationGroup{
				ID: aws.ToString(g.ReplicationGroupId), ARN: aws.ToString(g.ARN),
				AtRestEncryption: g.AtRestEncryptionEnabled, TransitEncryption: g.TransitEncryptionEnabled,
				TransitMode: string(g.TransitEncryptionMode), KMSKeyID: aws.ToString(g.KmsKeyId),
			})
		}
	}
	return inv
}

// Checks returns the ElastiCache checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "elasticache-cluster-outside-vpc", Title: "ElastiCache cluster is not in a VPC",
				Family: model.FamilyOutsideVPC, Service: "elasticache", Severity: model.SeverityMedium, ResourceType: "AWS::ElastiCache::CacheCluster",
				Rationale:   "A cache cluster without a cache subnet group runs outside a VPC (EC2-Classic): no subnet, route table or network ACL of the account around it, and no at-rest or in-transit encryption, which need a VPC.",
				Remediation: "Create a cache subnet group in a VPC and recreate the cluster in it (from a backup for Redis OSS or Valkey).",
				References:  []string{"https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/VPCs.html", "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/SubnetGroups.html"},
			},
			Needs: []string{PartCacheClusters},
			Eval:  clusterOutsideVPCCheck,
		},
		{
			Meta: check.Meta{
				ID: "elasticache-replication-group-unencrypted", Title: "ElastiCache replication group is not encrypted at rest and in transit",
				Family: model.FamilyUnencrypted, Service: "elasticache", Severity: model.SeverityMedium, ResourceType: "AWS::ElastiCache::ReplicationGroup",
				Rationale:   "Without at-rest encryption a replication group's disk, swap and backups are in clear; without in-transit encryption its clients and replicas talk in clear across the network.",
				Remediation: "At-rest encryption is set at creation: restore a backup into a new replication group with AtRestEncryptionEnabled. Enable in-transit encryption (TransitEncryptionEnabled, mode required) by modifying the group.",
				References: []string{"https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html", "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html",
					"https://docs.aws.amazon.com/securityhub/latest/userguide/elasticache-controls.html#elasticache-4", "https://docs.aws.amazon.com/securityhub/latest/userguide/elasticache-controls.html#elasticache-5"},
			},
			Needs: []string{PartReplicationGroups},
			Eval:  replicationGroupUnencryptedCheck,
		},
	}
}

// arn returns the ARN the API reported, or builds it with the partition.
func arn(inv *Inventory, reported, kind, id string) string {
	if reported != "" {
		return reported
	}
	return check.ARN(inv.Partition, "elasticache", inv.Region, inv.AccountID, kind+":"+id)
}

func clusterOutsideVPCCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, c := range inv.CacheClusters {
		a := arn(inv, c.ARN, "cluster", c.ID)
		evidence := map[string]any{"engine": c.Engine, "cache_subnet_group": c.SubnetGroup}
		if c.ReplicationGroupID != "" {
			evidence["replication_group_id"] = c.ReplicationGroupID
		}
		if c.SubnetGroup == "" {
			out = append(out, check.Fail(c.ID, a, fmt.Sprintf("cache cluster %s has no cache subnet group: it is not in a VPC", c.ID), evidence))
			continue
		}
		out = append(out, check.Pass(c.ID, a, fmt.Sprintf("cache cluster %s is in a VPC (cache subnet group %s)", c.ID, c.SubnetGroup), evidence))
	}
	return out
}

// reported renders an optional flag for evidence: its value, or "not
// reported".
func reported(b *bool) any {
	if b == nil {
		return "not reported"
	}
	return *b
}

// replicationGroupUnencryptedCheck fails a replication group unless it
// reports both at-rest and in-transit encryption enabled; a flag the API did
// not report counts as off.
func replicationGroupUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, g := range inv.ReplicationGroups {
		a := arn(inv, g.ARN, "replicationgroup", g.ID)
		evidence := map[string]any{"at_rest_encryption_enabled": reported(g.AtRestEncryption), "transit_encryption_enabled": reported(g.TransitEncryption)}
		if g.TransitMode != "" {
			evidence["transit_encryption_mode"] = g.TransitMode
		}
		if g.KMSKeyID != "" {
			evidence["kms_key_id"] = g.KMSKeyID
		}
		atRest, transit := aws.ToBool(g.AtRestEncryption), aws.ToBool(g.TransitEncryption)
		switch {
		case !atRest && !transit:
			out = append(out, check.Fail(g.ID, a, fmt.Sprintf("replication group %s is encrypted neither at rest nor in transit", g.ID), evidence))
		case !atRest:
			out = append(out, check.Fail(g.ID, a, fmt.Sprintf("replication group %s is not encrypted at rest", g.ID), evidence))
		case !transit:
			out = append(out, check.Fail(g.ID, a, fmt.Sprintf("replication group %s is not encrypted in transit", g.ID), evidence))
		default:
			out = append(out, check.Pass(g.ID, a, fmt.Sprintf("replication group %s is encrypted at rest and in transit", g.ID), evidence))
		}
	}
	return out
}

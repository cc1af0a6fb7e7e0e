package rds

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/paging"
)

// API is the read-only subset of the RDS client the collector calls.
type API interface {
	rds.DescribeDBInstancesAPIClient
	rds.DescribeDBClustersAPIClient
	rds.DescribeDBSnapshotsAPIClient
	rds.DescribeDBClusterSnapshotsAPIClient
	DescribeDBSnapshotAttributes(ctx context.Context, in *rds.DescribeDBSnapshotAttributesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error)
	DescribeDBClusterSnapshotAttributes(ctx context.Context, in *rds.DescribeDBClusterSnapshotAttributesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotAttributesOutput, error)
}

// Collect gathers the region's DB instances, DB clusters, DB snapshots and
// DB cluster snapshots (every page), and the restore attribute of each
// manual snapshot: no list call reports it. It calls only what the selected
// checks need.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, rds.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region}
	if scope.Wants(PartInstances) {
		listed, err := paging.All(ctx, rds.NewDescribeDBInstancesPaginator(api, &rds.DescribeDBInstancesInput{}),
			func(page *rds.DescribeDBInstancesOutput) []types.DBInstance { return page.DBInstances })
		if err != nil {
			gaps.Add(PartInstances, "DescribeDBInstances", "", err)
		}
		for _, d := range listed {
			db := DBInstance{
				ID: aws.ToString(d.DBInstanceIdentifier), ARN: aws.ToString(d.DBInstanceArn),
				Engine: aws.ToString(d.Engine), PubliclyAccessible: d.PubliclyAccessible,
				StorageEncrypted: aws.ToBool(d.StorageEncrypted), KMSKeyID: aws.ToString(d.KmsKeyId),
			}
			if d.DBSubnetGroup != nil {
				db.SubnetGroup = aws.ToString(d.DBSubnetGroup.DBSubnetGroupName)
				db.VPCID = aws.ToString(d.DBSubnetGroup.VpcId)
			}
			if d.Endpoint != nil {
				db.Endpoint = aws.ToString(d.Endpoint.Address)
			}
			inv.Instances = append(inv.Instances, db)
		}
	}
	if scope.Wants(PartClusters) {
		listed, err := paging.All(ctx, rds.NewDescribeDBClustersPaginator(api, &rds.DescribeDBClustersInput{}),
			func(page *rds.DescribeDBClustersOutput) []types.DBCluster { return page.DBClusters })
		if err != nil {
			gaps.Add(PartClusters, "DescribeDBClusters", "", err)
		}
		for _, c := range listed {
			inv.Clusters = append(inv.Clusters, DBCluster{
				ID: aws.ToString(c.DBClusterIdentifier), ARN: aws.ToString(c.DBClusterArn), Engine: aws.ToString(c.Engine),
				StorageEncrypted: aws.ToBool(c.StorageEncrypted), KMSKeyID: aws.ToString(c.KmsKeyId),
			})
		}
	}
	if scope.Wants(PartSnapshots) {
		listed, err := paging.All(ctx, rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{}),
			func(page *rds.DescribeDBSnapshotsOutput) []types.DBSnapshot { return page.DBSnapshots })
		if err != nil {
			gaps.Add(PartSnapshots, "DescribeDBSnapshots", "", err)
		}
		for _, s := range listed {
			inv.Snapshots = append(inv.Snapshots, DBSnapshot{
				ID: aws.ToString(s.DBSnapshotIdentifier), ARN: aws.ToString(s.DBSnapshotArn),
				InstanceID: aws.ToString(s.DBInstanceIdentifier), Type: aws.ToString(s.SnapshotType),
				Encrypted: aws.ToBool(s.Encrypted), KMSKeyID: aws.ToString(s.KmsKeyId),
			})
		}
		if scope.Wants(PartSnapshotPermissions) {
			collectSnapshotPermissions(ctx, api, inv.Snapshots, scope.CallConcurrency, gaps)
		}
	}
	if scope.Wants(PartClusterSnapshots) {
		listed, err := paging.All(ctx, rds.NewDescribeDBClusterSnapshotsPaginator(api, &rds.DescribeDBClusterSnapshotsInput{}),
			func(page *rds.DescribeDBClusterSnapshotsOutput) []types.DBClusterSnapshot {
				return page.DBClusterSnapshots
			})
		if err != nil {
			gaps.Add(PartClusterSnapshots, "DescribeDBClusterSnapshots", "", err)
			inv.ClusterSnapshotsError = check.ErrorText(err)
		}
		for _, s := range listed {
			inv.ClusterSnapshots = append(inv.ClusterSnapshots, DBSnapshot{
				ID: aws.ToString(s.DBClusterSnapshotIdentifier), ARN: aws.ToString(s.DBClusterSnapshotArn),
				ClusterID: aws.ToString(s.DBClusterIdentifier), Type: aws.ToString(s.SnapshotType),
				Encrypted: aws.ToBool(s.StorageEncrypted), KMSKeyID: aws.ToString(s.KmsKeyId),
			})
		}
		if scope.Wants(PartClusterSnapshotPermissions) {
			collectClusterSnapshotPermissions(ctx, api, inv.ClusterSnapshots, scope.CallConcurrency, gaps)
		}
	}
	return inv
}

func collectClusterSnapshotPermissions(ctx context.Context, api API, snaps []DBSnapshot, limit int, gaps *check.Gaps) {
	fanout.Each(ctx, len(snaps), limit, func(ctx context.Context, i int) {
		s := &snaps[i]
		if s.Type != "manual" {
			return // automated snapshots cannot be shared
		}
		out, err := api.DescribeDBClusterSnapshotAttributes(ctx, &rds.DescribeDBClusterSnapshotAttributesInput{DBClusterSnapshotIdentifier: aws.String(s.ID)})
		if err != nil {
			gaps.Add(PartClusterSnapshotPermissions, "DescribeDBClusterSnapshotAttributes", s.ID, err)
			s.PermissionsError = check.ErrorText(err)
			return
		}
		if out.DBClusterSnapshotAttributesResult == nil {
			return
		}
		for _, attr := range out.DBClusterSnapshotAttributesResult.DBClusterSnapshotAttributes {
			if aws.ToString(attr.AttributeName) == "restore" {
				s.Public, s.SharedWith = restoreValues(attr.AttributeValues)
			}
		}
	})
}

// restoreValues splits a restore attribute into "all" and named accounts.
func restoreValues(values []string) (public bool, accounts []string) {
	for _, v := range values {
		if v == "all" {
			public = true
		} else {
			accounts = append(accounts, v)
		}
	}
	return public, accounts
}

func collectSnapshotPermissions(ctx context.Context, api API, snaps []DBSnapshot, limit int, gaps *check.Gaps) {
	fanout.Each(ctx, len(snaps), limit, func(ctx context.Context, i int) {
		s := &snaps[i]
		if s.Type != "manual" {
			return // automated snapshots cannot be shared
		}
		out, err := api.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: aws.String(s.ID)})
		if err != nil {
			gaps.Add(PartSnapshotPermissions, "DescribeDBSnapshotAttributes", s.ID, err)
			s.PermissionsError = check.ErrorText(err)
			return
		}
		if out.DBSnapshotAttributesResult == nil {
			return
		}
		for _, attr := range out.DBSnapshotAttributesResult.DBSnapshotAttributes {
			if aws.ToString(attr.AttributeName) == "restore" {
				s.Public, s.SharedWith = restoreValues(attr.AttributeValues)
			}
		}
	})
}

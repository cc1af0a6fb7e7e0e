// Package rds collects RDS DB instances, DB clusters, DB snapshots and DB
// cluster snapshots of one region and holds the checks that read them.
package rds

// Inventory parts.
const (
	PartInstances           = "db-instances"
	PartSnapshots           = "db-snapshots"
	PartSnapshotPermissions = "db-snapshot-permissions"
	PartClusters            = "db-clusters"
	// PartClusterSnapshots is DescribeDBClusterSnapshots: the snapshots of
	// Aurora and Multi-AZ DB clusters, which DescribeDBSnapshots omits.
	PartClusterSnapshots = "db-cluster-snapshots"
	// PartClusterSnapshotPermissions is DescribeDBClusterSnapshotAttributes
	// of each manual DB cluster snapshot.
	PartClusterSnapshotPermissions = "db-cluster-snapshot-permissions"

	snapshotResourceType        = "AWS::RDS::DBSnapshot"
	clusterSnapshotResourceType = "AWS::RDS::DBClusterSnapshot"
)

// Inventory is what the RDS scanner collects in one region.
type Inventory struct {
	AccountID string       `json:"account_id"`
	Region    string       `json:"region"`
	Instances []DBInstance `json:"instances"`
	Clusters  []DBCluster  `json:"clusters"`
	Snapshots []DBSnapshot `json:"snapshots"`
	// ClusterSnapshots are the DB cluster snapshots (ClusterID set).
	ClusterSnapshots []DBSnapshot `json:"cluster_snapshots"`
	// ClusterSnapshotsError is set when the DB cluster snapshots could not
	// be listed: the snapshot checks report it ERROR, and judge the DB
	// snapshots they have.
	ClusterSnapshotsError string `json:"cluster_snapshots_error,omitempty"`
}

// DBInstance is an RDS DB instance.
type DBInstance struct {
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Engine string `json:"engine,omitempty"`
	// PubliclyAccessible is nil when the API did not report it.
	PubliclyAccessible *bool `json:"publicly_accessible,omitempty"`
	// VPCID and SubnetGroup come from the instance's DB subnet group; both
	// are empty for an instance outside a VPC.
	VPCID            string `json:"vpc_id,omitempty"`
	SubnetGroup      string `json:"subnet_group,omitempty"`
	Endpoint         string `json:"endpoint,omitempty"`
	StorageEncrypted bool   `json:"storage_encrypted"`
	KMSKeyID         string `json:"kms_key_id,omitempty"`
}

// DBCluster is an RDS DB cluster (Aurora, or a Multi-AZ DB cluster).
type DBCluster struct {
	ID               string `json:"id"`
	ARN              string `json:"arn"`
	Engine           string `json:"engine,omitempty"`
	StorageEncrypted bool   `json:"storage_encrypted"`
	KMSKeyID         string `json:"kms_key_id,omitempty"`
}

// DBSnapshot is an RDS DB snapshot or DB cluster snapshot of the account.
type DBSnapshot struct {
	ID         string `json:"id"`
	ARN        string `json:"arn"`
	InstanceID string `json:"instance_id,omitempty"`
	// ClusterID is set for a DB cluster snapshot: the cluster it was taken of.
	ClusterID string `json:"cluster_id,omitempty"`
	// Type is "manual" or "automated"; only manual snapshots can be shared.
	Type      string `json:"type"`
	Encrypted bool   `json:"encrypted"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	// Public is true when the restore attribute includes "all".
	Public     bool     `json:"public"`
	SharedWith []string `json:"shared_with,omitempty"`
	// PermissionsError is set when the restore attribute could not be read.
	PermissionsError string `json:"permissions_error,omitempty"`
}

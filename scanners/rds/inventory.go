// Package rds collects RDS DB instances, DB clusters and DB snapshots of one
// region and holds the checks that read them.
package rds

// Inventory parts.
const (
	PartInstances           = "db-instances"
	PartSnapshots           = "db-snapshots"
	PartSnapshotPermissions = "db-snapshot-permissions"
	PartClusters            = "db-clusters"
)

// Inventory is what the RDS scanner collects in one region.
type Inventory struct {
	AccountID string       `json:"account_id"`
	Region    string       `json:"region"`
	Instances []DBInstance `json:"instances"`
	Clusters  []DBCluster  `json:"clusters"`
	Snapshots []DBSnapshot `json:"snapshots"`
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

// DBSnapshot is an RDS DB snapshot of the account.
type DBSnapshot struct {
	ID         string `json:"id"`
	ARN        string `json:"arn"`
	InstanceID string `json:"instance_id,omitempty"`
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

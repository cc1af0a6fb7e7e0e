package rds

import (
	"fmt"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// Scanner returns the RDS scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "rds", Collect: Collect, List: Checks()}
}

// Checks returns the RDS checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "rds-instance-public", Title: "RDS DB instance is publicly accessible",
				Family: model.FamilyPublicExposure, Service: "rds", Severity: model.SeverityHigh, ResourceType: "AWS::RDS::DBInstance",
				Rationale:   "A publicly accessible DB instance has a DNS name that resolves to a public address; only its security group stands between the database and the internet.",
				Remediation: "Modify the DB instance with PubliclyAccessible=false and reach it from inside the VPC.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-2"},
			},
			Needs: []string{PartInstances},
			Eval:  instancePublicCheck,
		},
		{
			Meta: check.Meta{
				ID: "rds-snapshot-public", Title: "RDS DB snapshot or DB cluster snapshot is restorable by anyone",
				Family: model.FamilyPublicExposure, Service: "rds", Severity: model.SeverityCritical, ResourceType: snapshotResourceType,
				Rationale:   "A public DB snapshot or DB cluster snapshot (Aurora, Multi-AZ DB cluster) can be restored into any AWS account, with every row of the database.",
				Remediation: "Remove 'all' from the snapshot's restore attribute (ModifyDBSnapshotAttribute, ModifyDBClusterSnapshotAttribute); share with named accounts only.",
				References: []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html", "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-share-snapshot.html",
					"https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-1"},
			},
			Needs: []string{PartSnapshots},
			Reads: []string{PartSnapshotPermissions, PartClusterSnapshots, PartClusterSnapshotPermissions},
			Eval:  snapshotPublicCheck,
		},
		{
			Meta: check.Meta{
				ID: "rds-instance-outside-vpc", Title: "RDS DB instance is not in a VPC",
				Family: model.FamilyOutsideVPC, Service: "rds", Severity: model.SeverityHigh, ResourceType: "AWS::RDS::DBInstance",
				Rationale:   "A DB instance outside a VPC (EC2-Classic) has no subnet, route table or network ACL of the account around it, and cannot use VPC-only security features.",
				Remediation: "Move the DB instance into a VPC: create a DB subnet group and modify the instance to use it, or restore a snapshot into one.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-18"},
			},
			Needs: []string{PartInstances},
			Eval:  instanceOutsideVPCCheck,
		},
		{
			Meta: check.Meta{
				ID: "rds-instance-unencrypted", Title: "RDS DB instance storage is not encrypted",
				Family: model.FamilyUnencrypted, Service: "rds", Severity: model.SeverityHigh, ResourceType: "AWS::RDS::DBInstance",
				Rationale:   "An unencrypted DB instance stores its data, automated backups, read replicas and snapshots in clear on the underlying storage.",
				Remediation: "Encryption cannot be turned on in place: take a snapshot, copy it with a KMS key, restore the encrypted copy and switch the application over.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-3"},
			},
			Needs: []string{PartInstances},
			Eval:  instanceUnencryptedCheck,
		},
		{
			Meta: check.Meta{
				ID: "rds-cluster-unencrypted", Title: "RDS DB cluster storage is not encrypted",
				Family: model.FamilyUnencrypted, Service: "rds", Severity: model.SeverityHigh, ResourceType: "AWS::RDS::DBCluster",
				Rationale:   "An unencrypted DB cluster stores its shared cluster volume, backups and snapshots in clear.",
				Remediation: "Encryption cannot be turned on in place: snapshot the cluster, restore the snapshot as a new cluster with StorageEncrypted and a KMS key, and switch the application over.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-27"},
			},
			Needs: []string{PartClusters},
			Eval:  clusterUnencryptedCheck,
		},
		{
			Meta: check.Meta{
				ID: "rds-snapshot-unencrypted", Title: "RDS DB snapshot or DB cluster snapshot is not encrypted",
				Family: model.FamilyUnencrypted, Service: "rds", Severity: model.SeverityMedium, ResourceType: snapshotResourceType,
				Rationale:   "An unencrypted DB snapshot or DB cluster snapshot holds a full copy of the database in clear, and anything restored from it is unencrypted too.",
				Remediation: "Copy the snapshot with a KMS key (CopyDBSnapshot or CopyDBClusterSnapshot with KmsKeyId), delete the unencrypted one, and encrypt the source instance or cluster.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-4"},
			},
			Needs: []string{PartSnapshots},
			Reads: []string{PartClusterSnapshots},
			Eval:  snapshotUnencryptedCheck,
		},
	}
}

func instancePublicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, db := range inv.Instances {
		evidence := map[string]any{"engine": db.Engine, "vpc_id": db.VPCID, "subnet_group": db.SubnetGroup}
		switch {
		case db.PubliclyAccessible == nil:
			evidence["publicly_accessible"] = "not reported"
			out = append(out, check.Pass(db.ID, db.ARN, fmt.Sprintf("DB instance %s does not report PubliclyAccessible (the default is private)", db.ID), evidence))
		case *db.PubliclyAccessible:
			evidence["publicly_accessible"] = true
			evidence["endpoint"] = db.Endpoint
			out = append(out, check.Fail(db.ID, db.ARN, fmt.Sprintf("DB instance %s is PubliclyAccessible", db.ID), evidence))
		default:
			evidence["publicly_accessible"] = false
			out = append(out, check.Pass(db.ID, db.ARN, fmt.Sprintf("DB instance %s is not publicly accessible", db.ID), evidence))
		}
	}
	return out
}

// allSnapshots returns the DB snapshots, then the DB cluster snapshots.
func allSnapshots(inv *Inventory) []DBSnapshot {
	return append(append([]DBSnapshot{}, inv.Snapshots...), inv.ClusterSnapshots...)
}

// snapshotKind names a snapshot in messages and gives its resource type
// and the evidence key of its source.
func snapshotKind(s DBSnapshot) (name, resourceType, sourceKey, source string) {
	if s.ClusterID != "" {
		return "DB cluster snapshot", clusterSnapshotResourceType, "db_cluster", s.ClusterID
	}
	return "DB snapshot", snapshotResourceType, "db_instance", s.InstanceID
}

// clusterSnapshotsUnlisted is the ERROR finding of a scope whose DB cluster
// snapshots could not be listed, if they could not.
func clusterSnapshotsUnlisted(inv *Inventory) []check.Finding {
	if inv.ClusterSnapshotsError == "" {
		return nil
	}
	f := check.Error("", "", "could not list the DB cluster snapshots (DescribeDBClusterSnapshots): "+inv.ClusterSnapshotsError,
		map[string]any{"missing_part": PartClusterSnapshots, "operation": "DescribeDBClusterSnapshots"})
	f.ResourceType = clusterSnapshotResourceType
	return []check.Finding{f}
}

func snapshotPublicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range allSnapshots(inv) {
		kind, resourceType, sourceKey, source := snapshotKind(s)
		evidence := map[string]any{"snapshot_type": s.Type, sourceKey: source, "encrypted": s.Encrypted}
		if len(s.SharedWith) > 0 {
			evidence["shared_with_accounts"] = s.SharedWith
		}
		var f check.Finding
		switch {
		case s.PermissionsError != "":
			f = check.Error(s.ID, s.ARN, "could not read the snapshot's restore attribute: "+s.PermissionsError, evidence)
		case s.Public:
			evidence["restore"] = "all"
			f = check.Fail(s.ID, s.ARN, fmt.Sprintf("%s %s is restorable by all AWS accounts", kind, s.ID), evidence)
		case s.Type != "manual":
			f = check.Pass(s.ID, s.ARN, fmt.Sprintf("%s %s is %s and cannot be shared", kind, s.ID, s.Type), evidence)
		default:
			f = check.Pass(s.ID, s.ARN, fmt.Sprintf("%s %s is not public", kind, s.ID), evidence)
		}
		f.ResourceType = resourceType
		out = append(out, f)
	}
	return append(out, clusterSnapshotsUnlisted(inv)...)
}

// instanceOutsideVPCCheck fails a DB instance whose DB subnet group is missing
// or reports no VPC: an instance in a VPC always has a DB subnet group.
func instanceOutsideVPCCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, db := range inv.Instances {
		evidence := map[string]any{"db_subnet_group": db.SubnetGroup, "vpc_id": db.VPCID}
		switch {
		case db.VPCID != "":
			out = append(out, check.Pass(db.ID, db.ARN, fmt.Sprintf("DB instance %s is in VPC %s (DB subnet group %s)", db.ID, db.VPCID, db.SubnetGroup), evidence))
		case db.SubnetGroup == "":
			out = append(out, check.Fail(db.ID, db.ARN, fmt.Sprintf("DB instance %s has no DB subnet group: it is not in a VPC", db.ID), evidence))
		default:
			out = append(out, check.Fail(db.ID, db.ARN, fmt.Sprintf("DB instance %s: its DB subnet group %s reports no VPC", db.ID, db.SubnetGroup), evidence))
		}
	}
	return out
}

func instanceUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, db := range inv.Instances {
		evidence := map[string]any{"engine": db.Engine, "storage_encrypted": db.StorageEncrypted, "kms_key_id": db.KMSKeyID}
		if !db.StorageEncrypted {
			out = append(out, check.Fail(db.ID, db.ARN, fmt.Sprintf("DB instance %s storage is not encrypted", db.ID), evidence))
			continue
		}
		out = append(out, check.Pass(db.ID, db.ARN, fmt.Sprintf("DB instance %s storage is encrypted", db.ID), evidence))
	}
	return out
}

func clusterUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, c := range inv.Clusters {
		evidence := map[string]any{"engine": c.Engine, "storage_encrypted": c.StorageEncrypted, "kms_key_id": c.KMSKeyID}
		if !c.StorageEncrypted {
			out = append(out, check.Fail(c.ID, c.ARN, fmt.Sprintf("DB cluster %s storage is not encrypted", c.ID), evidence))
			continue
		}
		out = append(out, check.Pass(c.ID, c.ARN, fmt.Sprintf("DB cluster %s storage is encrypted", c.ID), evidence))
	}
	return out
}

func snapshotUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range allSnapshots(inv) {
		kind, resourceType, sourceKey, source := snapshotKind(s)
		evidence := map[string]any{"snapshot_type": s.Type, sourceKey: source, "encrypted": s.Encrypted, "kms_key_id": s.KMSKeyID}
		f := check.Pass(s.ID, s.ARN, fmt.Sprintf("%s %s is encrypted", kind, s.ID), evidence)
		if !s.Encrypted {
			f = check.Fail(s.ID, s.ARN, fmt.Sprintf("%s %s is not encrypted", kind, s.ID), evidence)
		}
		f.ResourceType = resourceType
		out = append(out, f)
	}
	return append(out, clusterSnapshotsUnlisted(inv)...)
}

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
				ID: "rds-snapshot-public", Title: "RDS DB snapshot is restorable by anyone",
				Family: model.FamilyPublicExposure, Service: "rds", Severity: model.SeverityCritical, ResourceType: "AWS::RDS::DBSnapshot",
				Rationale:   "A public DB snapshot can be restored into any AWS account, with every row of the database.",
				Remediation: "Remove 'all' from the snapshot's restore attribute (ModifyDBSnapshotAttribute); share with named accounts only.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-1"},
			},
			Needs: []string{PartSnapshots},
			Reads: []string{PartSnapshotPermissions},
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
				ID: "rds-snapshot-unencrypted", Title: "RDS DB snapshot is not encrypted",
				Family: model.FamilyUnencrypted, Service: "rds", Severity: model.SeverityMedium, ResourceType: "AWS::RDS::DBSnapshot",
				Rationale:   "An unencrypted DB snapshot holds a full copy of the database in clear, and anything restored from it is unencrypted too.",
				Remediation: "Copy the snapshot with a KMS key (CopyDBSnapshot with KmsKeyId), delete the unencrypted one, and encrypt the source instance.",
				References:  []string{"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-4"},
			},
			Needs: []string{PartSnapshots},
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

func snapshotPublicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range inv.Snapshots {
		evidence := map[string]any{"snapshot_type": s.Type, "db_instance": s.InstanceID, "encrypted": s.Encrypted}
		if len(s.SharedWith) > 0 {
			evidence["shared_with_accounts"] = s.SharedWith
		}
		switch {
		case s.PermissionsError != "":
			out = append(out, check.Error(s.ID, s.ARN, "could not read the snapshot's restore attribute: "+s.PermissionsError, evidence))
		case s.Public:
			evidence["restore"] = "all"
			out = append(out, check.Fail(s.ID, s.ARN, fmt.Sprintf("DB snapshot %s is restorable by all AWS accounts", s.ID), evidence))
		case s.Type != "manual":
			out = append(out, check.Pass(s.ID, s.ARN, fmt.Sprintf("DB snapshot %s is %s and cannot be shared", s.ID, s.Type), evidence))
		default:
			out = append(out, check.Pass(s.ID, s.ARN, fmt.Sprintf("DB snapshot %s is not public", s.ID), evidence))
		}
	}
	return out
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
	for _, s := range inv.Snapshots {
		evidence := map[string]any{"snapshot_type": s.Type, "db_instance": s.InstanceID, "encrypted": s.Encrypted, "kms_key_id": s.KMSKeyID}
		if !s.Encrypted {
			out = append(out, check.Fail(s.ID, s.ARN, fmt.Sprintf("DB snapshot %s is not encrypted", s.ID), evidence))
			continue
		}
		out = append(out, check.Pass(s.ID, s.ARN, fmt.Sprintf("DB snapshot %s is encrypted", s.ID), evidence))
	}
	return out
}

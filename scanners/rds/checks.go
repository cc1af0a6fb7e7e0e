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

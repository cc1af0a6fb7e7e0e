// Package rds collects RDS DB instances and DB snapshots of one region and
// holds the checks that read them.
package rds

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
)

// Inventory parts.
const (
	PartInstances           = "db-instances"
	PartSnapshots           = "db-snapshots"
	PartSnapshotPermissions = "db-snapshot-permissions"
)

// Inventory is what the RDS scanner collects in one region.
type Inventory struct {
	AccountID string       `json:"account_id"`
	Region    string       `json:"region"`
	Instances []DBInstance `json:"instances"`
	Snapshots []DBSnapshot `json:"snapshots"`
}

// DBInstance is an RDS DB instance.
type DBInstance struct {
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Engine string `json:"engine,omitempty"`
	// PubliclyAccessible is nil when the API did not report it.
	PubliclyAccessible *bool  `json:"publicly_accessible,omitempty"`
	VPCID              string `json:"vpc_id,omitempty"`
	SubnetGroup        string `json:"subnet_group,omitempty"`
	Endpoint           string `json:"endpoint,omitempty"`
}

// DBSnapshot is an RDS DB snapshot of the account.
type DBSnapshot struct {
	ID         string `json:"id"`
	ARN        string `json:"arn"`
	InstanceID string `json:"instance_id,omitempty"`
	// Type is "manual" or "automated"; only manual snapshots can be shared.
	Type      string `json:"type"`
	Encrypted bool   `json:"encrypted"`
	// Public is true when the restore attribute includes "all".
	Public     bool     `json:"public"`
	SharedWith []string `json:"shared_with,omitempty"`
	// PermissionsError is set when the restore attribute could not be read.
	PermissionsError string `json:"permissions_error,omitempty"`
}

// API is the read-only subset of the RDS client the collector calls.
type API interface {
	rds.DescribeDBInstancesAPIClient
	rds.DescribeDBSnapshotsAPIClient
	DescribeDBSnapshotAttributes(ctx context.Context, in *rds.DescribeDBSnapshotAttributesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error)
}

// Scanner returns the RDS scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "rds", Collect: Collect, List: Checks()}
}

// Collect gathers the region's DB instances and snapshots (every page), and
// the restore attribute of each manual snapshot: no list call reports it.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, rds.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region}
	if scope.Wants(PartInstances) {
		p := rds.NewDescribeDBInstancesPaginator(api, &rds.DescribeDBInstancesInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				gaps.Add(PartInstances, "DescribeDBInstances", "", err)
				inv.Instances = nil
				break
			}
			for _, d := range page.DBInstances {
				db := DBInstance{
					ID: aws.ToString(d.DBInstanceIdentifier), ARN: aws.ToString(d.DBInstanceArn),
					Engine: aws.ToString(d.Engine), PubliclyAccessible: d.PubliclyAccessible,
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
	}
	if scope.Wants(PartSnapshots) {
		p := rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				gaps.Add(PartSnapshots, "DescribeDBSnapshots", "", err)
				inv.Snapshots = nil
				break
			}
			for _, s := range page.DBSnapshots {
				inv.Snapshots = append(inv.Snapshots, DBSnapshot{
					ID: aws.ToString(s.DBSnapshotIdentifier), ARN: aws.ToString(s.DBSnapshotArn),
					InstanceID: aws.ToString(s.DBInstanceIdentifier), Type: aws.ToString(s.SnapshotType),
					Encrypted: aws.ToBool(s.Encrypted),
				})
			}
		}
		if scope.Wants(PartSnapshotPermissions) {
			collectSnapshotPermissions(ctx, api, inv.Snapshots, gaps)
		}
	}
	return inv
}

func collectSnapshotPermissions(ctx context.Context, api API, snaps []DBSnapshot, gaps *check.Gaps) {
	fanout.Each(ctx, len(snaps), fanout.DefaultLimit, func(ctx context.Context, i int) {
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
			if aws.ToString(attr.AttributeName) != "restore" {
				continue
			}
			for _, v := range attr.AttributeValues {
				if v == "all" {
					s.Public = true
				} else {
					s.SharedWith = append(s.SharedWith, v)
				}
			}
		}
	})
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

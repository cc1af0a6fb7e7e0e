package rds

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// TestClusterSnapshots: DB cluster snapshots are judged by both snapshot
// checks as AWS::RDS::DBClusterSnapshot; only manual ones have their
// restore attribute read; one whose attribute is unreadable is ERROR.
func TestClusterSnapshots(t *testing.T) {
	api := &fakeAPI{
		snapshots: []types.DBSnapshot{{DBSnapshotIdentifier: aws.String("db-snap"), SnapshotType: aws.String("manual"), Encrypted: aws.Bool(true)}},
		clusterSnaps: []types.DBClusterSnapshot{
			{DBClusterSnapshotIdentifier: aws.String("pub"), DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("manual"), DBClusterSnapshotArn: aws.String("arn:pub")},
			{DBClusterSnapshotIdentifier: aws.String("shared"), DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("manual"), StorageEncrypted: aws.Bool(true), KmsKeyId: aws.String("k")},
			{DBClusterSnapshotIdentifier: aws.String("rds:ledger-auto"), DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("automated"), StorageEncrypted: aws.Bool(true)},
			{DBClusterSnapshotIdentifier: aws.String("denied"), DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("manual")},
		},
		clusterRestore: map[string][]string{"pub": {"all"}, "shared": {"444455556666"}},
		clusterAttrErr: map[string]error{"denied": &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}},
		restore:        map[string][]string{},
	}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"},
		map[string]bool{"rds-snapshot-public": true, "rds-snapshot-unencrypted": true})
	type row struct {
		status model.Status
		typ    string
	}
	got := map[string]row{}
	for _, r := range results {
		got[r.CheckID+" "+r.ResourceID] = row{r.Status, r.ResourceType}
	}
	const db, cl = "AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot"
	want := map[string]row{
		"rds-snapshot-public db-snap":              {model.StatusPass, db},
		"rds-snapshot-public pub":                  {model.StatusFail, cl},
		"rds-snapshot-public shared":               {model.StatusPass, cl},
		"rds-snapshot-public rds:ledger-auto":      {model.StatusPass, cl},
		"rds-snapshot-public denied":               {model.StatusError, cl},
		"rds-snapshot-unencrypted db-snap":         {model.StatusPass, db},
		"rds-snapshot-unencrypted pub":             {model.StatusFail, cl},
		"rds-snapshot-unencrypted shared":          {model.StatusPass, cl},
		"rds-snapshot-unencrypted rds:ledger-auto": {model.StatusPass, cl},
		"rds-snapshot-unencrypted denied":          {model.StatusFail, cl},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results\n%v\nwant\n%v", got, want)
	}
	for _, id := range api.attrCalls {
		if id == "rds:ledger-auto" {
			t.Error("the collector read an automated cluster snapshot's attributes")
		}
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Operation != "DescribeDBClusterSnapshotAttributes" || cov.Failures[0].Resource != "denied" {
		t.Errorf("coverage %+v", cov)
	}
	for _, r := range results {
		if r.ResourceID == "pub" && r.CheckID == "rds-snapshot-public" &&
			(r.Message != "DB cluster snapshot pub is restorable by all AWS accounts" || r.Evidence["db_cluster"] != "ledger" || r.ResourceARN != "arn:pub") {
			t.Errorf("public cluster snapshot %+v", r)
		}
	}
}

// TestClusterSnapshotListFailure: when the DB cluster snapshots cannot be
// listed, each snapshot check reports one ERROR for them (resource type
// DBClusterSnapshot, no resource ID) and still judges the DB snapshots.
func TestClusterSnapshotListFailure(t *testing.T) {
	api := &fakeAPI{
		snapshots:          []types.DBSnapshot{{DBSnapshotIdentifier: aws.String("db-snap"), SnapshotType: aws.String("manual")}},
		clusterSnapListErr: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to DescribeDBClusterSnapshots"},
	}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"},
		map[string]bool{"rds-snapshot-public": true, "rds-snapshot-unencrypted": true})
	got := map[string]model.Status{}
	for _, r := range results {
		got[r.CheckID+" "+r.ResourceID] = r.Status
		if r.ResourceID == "" && (r.ResourceType != "AWS::RDS::DBClusterSnapshot" ||
			r.Message != "could not list the DB cluster snapshots (DescribeDBClusterSnapshots): AccessDenied: not authorized to DescribeDBClusterSnapshots") {
			t.Errorf("list ERROR %+v", r)
		}
	}
	want := map[string]model.Status{
		"rds-snapshot-public db-snap": model.StatusPass, "rds-snapshot-public ": model.StatusError,
		"rds-snapshot-unencrypted db-snap": model.StatusFail, "rds-snapshot-unencrypted ": model.StatusError,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeDBClusterSnapshots: AccessDenied: not authorized to DescribeDBClusterSnapshots" {
		t.Errorf("coverage %+v", cov)
	}
}

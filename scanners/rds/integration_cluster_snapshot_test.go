package rds_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

// TestRDSClusterSnapshotsAgainstEmulator: Aurora and Multi-AZ DB cluster
// snapshots are listed apart from DB snapshots (DescribeDBClusterSnapshots)
// and shared through their own restore attribute
// (DescribeDBClusterSnapshotAttributes). A publicly shared cluster snapshot
// fails rds-snapshot-public; an unencrypted one fails
// rds-snapshot-unencrypted; both as AWS::RDS::DBClusterSnapshot. The
// emulator takes an automated snapshot of each new cluster, as AWS does.
func TestRDSClusterSnapshotsAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const P, F = model.StatusPass, model.StatusFail
	public := map[scantest.Key]model.Status{}
	unencrypted := map[scantest.Key]model.Status{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		c := rds.NewFromConfig(emutest.Config(t, srv.URL, region))
		for id, encrypted := range map[string]bool{"ledger-plain": false, "ledger-encrypted": true} {
			if _, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
				DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
				MasterUsername: aws.String("acme"), MasterUserPassword: aws.String("not-a-real-password-1"), StorageEncrypted: aws.Bool(encrypted),
			}); err != nil {
				t.Fatalf("create DB cluster %s in %s: %v", id, region, err)
			}
			auto, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(id), SnapshotType: aws.String("automated")})
			if err != nil || len(auto.DBClusterSnapshots) != 1 {
				t.Fatalf("automated snapshots of %s in %s: %v %+v", id, region, err, auto)
			}
			autoID := aws.ToString(auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier)
			public[scantest.Key{Check: "rds-snapshot-public", Region: region, Resource: autoID}] = P
			unencrypted[scantest.Key{Check: "rds-snapshot-unencrypted", Region: region, Resource: autoID}] = map[bool]model.Status{true: P, false: F}[encrypted]
		}
		snap := func(id, cluster string, share []string) {
			if _, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String(cluster), DBClusterSnapshotIdentifier: aws.String(id)}); err != nil {
				t.Fatalf("create DB cluster snapshot %s: %v", id, err)
			}
			if len(share) > 0 {
				if _, err := c.ModifyDBClusterSnapshotAttribute(ctx, &rds.ModifyDBClusterSnapshotAttributeInput{
					DBClusterSnapshotIdentifier: aws.String(id), AttributeName: aws.String("restore"), ValuesToAdd: share}); err != nil {
					t.Fatalf("share DB cluster snapshot %s: %v", id, err)
				}
			}
		}
		snap("ledger-public-snap", "ledger-plain", []string{"all"})
		snap("ledger-shared-snap", "ledger-encrypted", []string{"111122223333"})
		snap("ledger-private-snap", "ledger-encrypted", nil)
		for id, st := range map[string]model.Status{"ledger-public-snap": F, "ledger-shared-snap": P, "ledger-private-snap": P} {
			public[scantest.Key{Check: "rds-snapshot-public", Region: region, Resource: id}] = st
		}
		for id, st := range map[string]model.Status{"ledger-public-snap": F, "ledger-shared-snap": P, "ledger-private-snap": P} {
			unencrypted[scantest.Key{Check: "rds-snapshot-unencrypted", Region: region, Resource: id}] = st
		}
	}

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "rds-snapshot-public", "rds-snapshot-unencrypted")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "rds-snapshot-public", public, nil)
	scantest.ExpectExactly(t, scan, "rds-snapshot-unencrypted", unencrypted, nil)

	r := scantest.Find(t, scan, "rds-snapshot-public", "eu-west-1", "ledger-public-snap")
	if r.ResourceType != "AWS::RDS::DBClusterSnapshot" || r.Severity != model.SeverityCritical || r.Evidence["db_cluster"] != "ledger-plain" ||
		r.Evidence["restore"] != "all" || r.Message != "DB cluster snapshot ledger-public-snap is restorable by all AWS accounts" ||
		r.ResourceARN != "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:ledger-public-snap" {
		t.Errorf("public cluster snapshot: %+v", r)
	}
	shared := scantest.Find(t, scan, "rds-snapshot-public", "us-east-1", "ledger-shared-snap")
	if got, _ := shared.Evidence["shared_with_accounts"].([]string); len(got) != 1 || got[0] != "111122223333" {
		t.Errorf("shared cluster snapshot evidence: %v", shared.Evidence)
	}
	u := scantest.Find(t, scan, "rds-snapshot-unencrypted", "us-east-1", "ledger-public-snap")
	if u.ResourceType != "AWS::RDS::DBClusterSnapshot" || u.Message != "DB cluster snapshot ledger-public-snap is not encrypted" {
		t.Errorf("unencrypted cluster snapshot: %+v", u)
	}
}

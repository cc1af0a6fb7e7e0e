package rds_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func TestRDSChecksAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const P, F = model.StatusPass, model.StatusFail
	instances := map[scantest.Key]model.Status{}
	snapshots := map[scantest.Key]model.Status{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		c := rds.NewFromConfig(emutest.Config(t, srv.URL, region))
		db := func(id string, public bool) {
			// PubliclyAccessible is set explicitly: the emulator leaves it
			// unset otherwise.
			_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
				DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"),
				AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("acme"), MasterUserPassword: aws.String("not-a-real-password-1"),
				PubliclyAccessible: aws.Bool(public),
			})
			if err != nil {
				t.Fatalf("create DB instance %s in %s: %v", id, region, err)
			}
		}
		db("orders-public", true)
		db("orders-private", false)
		instances[scantest.Key{Check: "rds-instance-public", Region: region, Resource: "orders-public"}] = F
		instances[scantest.Key{Check: "rds-instance-public", Region: region, Resource: "orders-private"}] = P

		snap := func(id string, share []string) {
			if _, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders-private"), DBSnapshotIdentifier: aws.String(id)}); err != nil {
				t.Fatalf("create DB snapshot %s: %v", id, err)
			}
			if len(share) > 0 {
				if _, err := c.ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{
					DBSnapshotIdentifier: aws.String(id), AttributeName: aws.String("restore"), ValuesToAdd: share}); err != nil {
					t.Fatalf("share DB snapshot %s: %v", id, err)
				}
			}
		}
		snap("orders-public-snap", []string{"all"})
		snap("orders-shared-snap", []string{"111122223333"})
		snap("orders-private-snap", nil)
		snapshots[scantest.Key{Check: "rds-snapshot-public", Region: region, Resource: "orders-public-snap"}] = F
		snapshots[scantest.Key{Check: "rds-snapshot-public", Region: region, Resource: "orders-shared-snap"}] = P
		snapshots[scantest.Key{Check: "rds-snapshot-public", Region: region, Resource: "orders-private-snap"}] = P
	}

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "rds-instance-public", "rds-snapshot-public")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	automated := func(r model.Result) bool { return r.Evidence["snapshot_type"] == "automated" }
	scantest.ExpectExactly(t, scan, "rds-instance-public", instances, nil)
	scantest.ExpectExactly(t, scan, "rds-snapshot-public", snapshots, automated)

	pub := scantest.Find(t, scan, "rds-instance-public", "eu-west-1", "orders-public")
	if pub.Evidence["publicly_accessible"] != true || pub.ResourceARN != "arn:aws:rds:eu-west-1:123456789012:db:orders-public" {
		t.Errorf("public instance: %s %v", pub.ResourceARN, pub.Evidence)
	}
	shared := scantest.Find(t, scan, "rds-snapshot-public", "us-east-1", "orders-shared-snap")
	if got, _ := shared.Evidence["shared_with_accounts"].([]string); len(got) != 1 || got[0] != "111122223333" {
		t.Errorf("shared snapshot evidence: %v", shared.Evidence)
	}
}

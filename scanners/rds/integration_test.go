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

// TestRDSVPCAndEncryptionAgainstEmulator creates, in two regions, a DB
// instance in a VPC with encrypted storage and one with neither, an
// encrypted and an unencrypted DB cluster, and a manual snapshot of each
// instance, and checks the exact results of the VPC and encryption checks,
// automated snapshots included.
func TestRDSVPCAndEncryptionAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const P, F = model.StatusPass, model.StatusFail
	want := map[string]map[scantest.Key]model.Status{
		"rds-instance-outside-vpc": {}, "rds-instance-unencrypted": {}, "rds-cluster-unencrypted": {}, "rds-snapshot-unencrypted": {},
	}
	expect := func(checkID, region, resource string, st model.Status) {
		want[checkID][scantest.Key{Check: checkID, Region: region, Resource: resource}] = st
	}
	vpcs := map[string]string{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := emutest.Config(t, srv.URL, region)
		c := rds.NewFromConfig(cfg)
		key := "arn:aws:kms:" + region + ":123456789012:key/11111111-2222-3333-4444-555555555555"

		vpc, subnets := emutest.DefaultSubnets(t, cfg)
		vpcs[region] = vpc
		if _, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
			DBSubnetGroupName: aws.String("ledger-subnets"), DBSubnetGroupDescription: aws.String("ledger"), SubnetIds: subnets,
		}); err != nil {
			t.Fatalf("create DB subnet group in %s: %v", region, err)
		}
		db := func(id string, in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier, in.DBInstanceClass, in.Engine = aws.String(id), aws.String("db.t3.micro"), aws.String("postgres")
			in.AllocatedStorage, in.MasterUsername, in.MasterUserPassword = aws.Int32(20), aws.String("acme"), aws.String("not-a-real-password-1")
			if _, err := c.CreateDBInstance(ctx, in); err != nil {
				t.Fatalf("create DB instance %s in %s: %v", id, region, err)
			}
		}
		db("ledger-vpc-encrypted", &rds.CreateDBInstanceInput{DBSubnetGroupName: aws.String("ledger-subnets"), StorageEncrypted: aws.Bool(true), KmsKeyId: aws.String(key)})
		// The emulator reports no DB subnet group for an instance created
		// without one (AWS would use the default VPC's): outside a VPC.
		db("ledger-classic-plain", &rds.CreateDBInstanceInput{})
		expect("rds-instance-outside-vpc", region, "ledger-vpc-encrypted", P)
		expect("rds-instance-outside-vpc", region, "ledger-classic-plain", F)
		expect("rds-instance-unencrypted", region, "ledger-vpc-encrypted", P)
		expect("rds-instance-unencrypted", region, "ledger-classic-plain", F)

		cluster := func(id string, encrypted bool) {
			if _, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
				DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
				MasterUsername: aws.String("acme"), MasterUserPassword: aws.String("not-a-real-password-1"), StorageEncrypted: aws.Bool(encrypted),
			}); err != nil {
				t.Fatalf("create DB cluster %s in %s: %v", id, region, err)
			}
		}
		cluster("ledger-cluster-encrypted", true)
		cluster("ledger-cluster-plain", false)
		expect("rds-cluster-unencrypted", region, "ledger-cluster-encrypted", P)
		expect("rds-cluster-unencrypted", region, "ledger-cluster-plain", F)
		// The emulator takes an automated snapshot of each new cluster, as
		// AWS does; DB cluster snapshots are judged with the DB snapshots.
		for id, st := range map[string]model.Status{"ledger-cluster-encrypted": P, "ledger-cluster-plain": F} {
			auto, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(id), SnapshotType: aws.String("automated")})
			if err != nil || len(auto.DBClusterSnapshots) != 1 {
				t.Fatalf("automated snapshots of cluster %s in %s: %v %+v", id, region, err, auto)
			}
			expect("rds-snapshot-unencrypted", region, aws.ToString(auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier), st)
		}

		for instance, st := range map[string]model.Status{"ledger-vpc-encrypted": P, "ledger-classic-plain": F} {
			snap := instance + "-manual"
			if _, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(instance), DBSnapshotIdentifier: aws.String(snap)}); err != nil {
				t.Fatalf("create DB snapshot %s in %s: %v", snap, region, err)
			}
			expect("rds-snapshot-unencrypted", region, snap, st)
			// The emulator takes an automated snapshot of each new instance,
			// as AWS does; it inherits the instance's encryption.
			auto, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(instance), SnapshotType: aws.String("automated")})
			if err != nil || len(auto.DBSnapshots) != 1 {
				t.Fatalf("automated snapshots of %s in %s: %v %+v", instance, region, err, auto)
			}
			expect("rds-snapshot-unencrypted", region, aws.ToString(auto.DBSnapshots[0].DBSnapshotIdentifier), st)
		}
	}

	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, ids...)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	for id, w := range want {
		scantest.ExpectExactly(t, scan, id, w, nil)
	}

	in := scantest.Find(t, scan, "rds-instance-outside-vpc", "eu-west-1", "ledger-vpc-encrypted")
	if in.Evidence["vpc_id"] != vpcs["eu-west-1"] || in.Evidence["db_subnet_group"] != "ledger-subnets" ||
		in.ResourceARN != "arn:aws:rds:eu-west-1:123456789012:db:ledger-vpc-encrypted" {
		t.Errorf("instance in a VPC: %s %v", in.ResourceARN, in.Evidence)
	}
	out := scantest.Find(t, scan, "rds-instance-outside-vpc", "us-east-1", "ledger-classic-plain")
	if out.Evidence["vpc_id"] != "" || out.Evidence["db_subnet_group"] != "" || out.Severity != model.SeverityHigh || out.Family != model.FamilyOutsideVPC {
		t.Errorf("instance outside a VPC: %+v", out)
	}
	enc := scantest.Find(t, scan, "rds-instance-unencrypted", "us-east-1", "ledger-vpc-encrypted")
	if enc.Evidence["storage_encrypted"] != true || enc.Evidence["kms_key_id"] != "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" {
		t.Errorf("encrypted instance: %v", enc.Evidence)
	}
	cl := scantest.Find(t, scan, "rds-cluster-unencrypted", "eu-west-1", "ledger-cluster-plain")
	if cl.Evidence["storage_encrypted"] != false || cl.ResourceARN != "arn:aws:rds:eu-west-1:123456789012:cluster:ledger-cluster-plain" || cl.Family != model.FamilyUnencrypted {
		t.Errorf("unencrypted cluster: %s %v", cl.ResourceARN, cl.Evidence)
	}
	snap := scantest.Find(t, scan, "rds-snapshot-unencrypted", "eu-west-1", "ledger-classic-plain-manual")
	if snap.Evidence["encrypted"] != false || snap.Evidence["snapshot_type"] != "manual" || snap.Severity != model.SeverityMedium {
		t.Errorf("unencrypted snapshot: %+v", snap)
	}
}

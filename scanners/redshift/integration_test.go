package redshift_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func TestRedshiftPublicAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	want := map[scantest.Key]model.Status{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		c := redshift.NewFromConfig(emutest.Config(t, srv.URL, region))
		for id, public := range map[string]bool{"analytics-public": true, "analytics-private": false} {
			_, err := c.CreateCluster(ctx, &redshift.CreateClusterInput{
				ClusterIdentifier: aws.String(id), NodeType: aws.String("ra3.xlplus"), ClusterType: aws.String("single-node"),
				MasterUsername: aws.String("acme"), MasterUserPassword: aws.String("NotARealPassword1"), PubliclyAccessible: aws.Bool(public),
			})
			if err != nil {
				t.Fatalf("create cluster %s in %s: %v", id, region, err)
			}
			st := model.StatusPass
			if public {
				st = model.StatusFail
			}
			want[scantest.Key{Check: "redshift-cluster-public", Region: region, Resource: id}] = st
		}
	}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "redshift-cluster-public")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "redshift-cluster-public", want, nil)
	r := scantest.Find(t, scan, "redshift-cluster-public", "us-east-1", "analytics-public")
	if r.ResourceARN != "arn:aws:redshift:us-east-1:123456789012:cluster:analytics-public" || r.Evidence["publicly_accessible"] != true {
		t.Errorf("public cluster: %s %v", r.ResourceARN, r.Evidence)
	}
}

// TestRedshiftVPCAndEncryptionAgainstEmulator creates, in two regions, a
// cluster in a cluster subnet group with a KMS key, one with neither, and
// one encrypted without a subnet group, and checks the exact results of the
// VPC and encryption checks.
func TestRedshiftVPCAndEncryptionAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const P, F = model.StatusPass, model.StatusFail
	outside := map[scantest.Key]model.Status{}
	unencrypted := map[scantest.Key]model.Status{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := emutest.Config(t, srv.URL, region)
		c := redshift.NewFromConfig(cfg)
		_, subnets := emutest.DefaultSubnets(t, cfg)
		if _, err := c.CreateClusterSubnetGroup(ctx, &redshift.CreateClusterSubnetGroupInput{
			ClusterSubnetGroupName: aws.String("dw-subnets"), Description: aws.String("warehouse"), SubnetIds: subnets,
		}); err != nil {
			t.Fatalf("create cluster subnet group in %s: %v", region, err)
		}
		key := "arn:aws:kms:" + region + ":123456789012:key/11111111-2222-3333-4444-555555555555"
		clusters := []struct {
			id          string
			in          redshift.CreateClusterInput
			outside     model.Status
			unencrypted model.Status
		}{
			// The emulator reports no VpcId even for a cluster in a subnet
			// group: the subnet group alone puts it in a VPC.
			{"dw-vpc-encrypted", redshift.CreateClusterInput{ClusterSubnetGroupName: aws.String("dw-subnets"), Encrypted: aws.Bool(true), KmsKeyId: aws.String(key)}, P, P},
			{"dw-classic-plain", redshift.CreateClusterInput{}, F, F},
			{"dw-classic-encrypted", redshift.CreateClusterInput{Encrypted: aws.Bool(true)}, F, P},
		}
		for _, cl := range clusters {
			in := cl.in
			in.ClusterIdentifier, in.NodeType, in.ClusterType = aws.String(cl.id), aws.String("ra3.xlplus"), aws.String("single-node")
			in.MasterUsername, in.MasterUserPassword = aws.String("acme"), aws.String("NotARealPassword1")
			if _, err := c.CreateCluster(ctx, &in); err != nil {
				t.Fatalf("create cluster %s in %s: %v", cl.id, region, err)
			}
			outside[scantest.Key{Check: "redshift-cluster-outside-vpc", Region: region, Resource: cl.id}] = cl.outside
			unencrypted[scantest.Key{Check: "redshift-cluster-unencrypted", Region: region, Resource: cl.id}] = cl.unencrypted
		}
	}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "redshift-cluster-outside-vpc", "redshift-cluster-unencrypted")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "redshift-cluster-outside-vpc", outside, nil)
	scantest.ExpectExactly(t, scan, "redshift-cluster-unencrypted", unencrypted, nil)

	in := scantest.Find(t, scan, "redshift-cluster-outside-vpc", "eu-west-1", "dw-vpc-encrypted")
	if in.Evidence["cluster_subnet_group"] != "dw-subnets" || in.ResourceARN != "arn:aws:redshift:eu-west-1:123456789012:cluster:dw-vpc-encrypted" {
		t.Errorf("cluster in a subnet group: %s %v", in.ResourceARN, in.Evidence)
	}
	out := scantest.Find(t, scan, "redshift-cluster-outside-vpc", "us-east-1", "dw-classic-plain")
	if out.Evidence["vpc_id"] != "" || out.Evidence["cluster_subnet_group"] != "" || out.Severity != model.SeverityMedium || out.Family != model.FamilyOutsideVPC {
		t.Errorf("cluster outside a VPC: %+v", out)
	}
	enc := scantest.Find(t, scan, "redshift-cluster-unencrypted", "us-east-1", "dw-vpc-encrypted")
	if enc.Evidence["encrypted"] != true || enc.Evidence["kms_key_id"] != "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" {
		t.Errorf("encrypted cluster: %v", enc.Evidence)
	}
	plain := scantest.Find(t, scan, "redshift-cluster-unencrypted", "eu-west-1", "dw-classic-plain")
	if plain.Evidence["encrypted"] != false || plain.Severity != model.SeverityHigh || plain.Family != model.FamilyUnencrypted {
		t.Errorf("unencrypted cluster: %+v", plain)
	}
}

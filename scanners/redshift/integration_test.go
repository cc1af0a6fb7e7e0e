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

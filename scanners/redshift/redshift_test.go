package redshift

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestClusterPublic(t *testing.T) {
	tests := []struct {
		name      string
		cluster   Cluster
		partition string
		status    model.Status
		msg       string
		arn       string
		evidence  map[string]any
	}{
		{"public", Cluster{ID: "dw", PubliclyAccessible: true, VPCID: "vpc-1", Endpoint: "dw.abc.eu-west-1.redshift.amazonaws.com"}, "aws",
			model.StatusFail, "Redshift cluster dw is PubliclyAccessible", "arn:aws:redshift:eu-west-1:111122223333:cluster:dw",
			map[string]any{"publicly_accessible": true, "vpc_id": "vpc-1", "endpoint": "dw.abc.eu-west-1.redshift.amazonaws.com"}},
		{"private", Cluster{ID: "dw", VPCID: "vpc-1", Endpoint: "dw.internal"}, "aws",
			model.StatusPass, "Redshift cluster dw is not publicly accessible", "arn:aws:redshift:eu-west-1:111122223333:cluster:dw",
			map[string]any{"publicly_accessible": false, "vpc_id": "vpc-1"}},
		{"partition defaults to aws", Cluster{ID: "dw"}, "",
			model.StatusPass, "Redshift cluster dw is not publicly accessible", "arn:aws:redshift:eu-west-1:111122223333:cluster:dw",
			map[string]any{"publicly_accessible": false, "vpc_id": ""}},
		{"China partition", Cluster{ID: "dw", PubliclyAccessible: true}, "aws-cn",
			model.StatusFail, "Redshift cluster dw is PubliclyAccessible", "arn:aws-cn:redshift:eu-west-1:111122223333:cluster:dw",
			map[string]any{"publicly_accessible": true, "vpc_id": "", "endpoint": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Clusters: []Cluster{tt.cluster}}
			got := Checks()[0].Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "dw" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if c := Checks(); len(c) != 1 || c[0].ID != "redshift-cluster-public" || !reflect.DeepEqual(c[0].Needs, []string{PartClusters}) {
		t.Errorf("checks = %+v", c)
	}
}

type fakeAPI struct {
	clusters []types.Cluster
	err      error
}

func (f fakeAPI) DescribeClusters(context.Context, *redshift.DescribeClustersInput, ...func(*redshift.Options)) (*redshift.DescribeClustersOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &redshift.DescribeClustersOutput{Clusters: f.clusters}, nil
}

func TestCollectAndScan(t *testing.T) {
	scope := check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}
	api := fakeAPI{clusters: []types.Cluster{
		{ClusterIdentifier: aws.String("pub"), PubliclyAccessible: aws.Bool(true), Encrypted: aws.Bool(true), VpcId: aws.String("vpc-1"), Endpoint: &types.Endpoint{Address: aws.String("pub.example")}},
		{ClusterIdentifier: aws.String("priv")},
	}}
	inv := collect(context.Background(), api, scope, &check.Gaps{})
	want := []Cluster{{ID: "pub", PubliclyAccessible: true, Encrypted: true, VPCID: "vpc-1", Endpoint: "pub.example"}, {ID: "priv"}}
	if !reflect.DeepEqual(inv.Clusters, want) {
		t.Errorf("clusters = %+v, want %+v", inv.Clusters, want)
	}

	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{err: &smithy.GenericAPIError{Code: "OptInRequired", Message: "not subscribed"}}, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), scope, map[string]bool{"redshift-cluster-public": true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["error_code"] != "OptInRequired" {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeClusters: OptInRequired: not subscribed" {
		t.Errorf("coverage = %+v", cov)
	}
}

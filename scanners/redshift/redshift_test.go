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
			got := evalCheck(t, "redshift-cluster-public", inv)
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
	for _, c := range Checks() {
		if !reflect.DeepEqual(c.Needs, []string{PartClusters}) || len(c.Reads) != 0 {
			t.Errorf("%s: needs %v, reads %v", c.ID, c.Needs, c.Reads)
		}
	}
}

func evalCheck(t *testing.T, id string, inv *Inventory) []check.Finding {
	t.Helper()
	c, ok := check.Lookup(Checks(), id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c.Eval(inv)
}

// expectOne evaluates check id over one cluster dw and compares the finding.
func expectOne(t *testing.T, id string, cl Cluster, status model.Status, msg string, evidence map[string]any) {
	t.Helper()
	inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws", Clusters: []Cluster{cl}}
	got := evalCheck(t, id, inv)
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1", len(got))
	}
	f := got[0]
	if f.ResourceID != "dw" || f.ResourceARN != "arn:aws:redshift:eu-west-1:111122223333:cluster:dw" || f.Status != status || f.Message != msg {
		t.Errorf("finding = %s %q %q %q, want %s %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, status, msg)
	}
	if !reflect.DeepEqual(f.Evidence, evidence) {
		t.Errorf("evidence = %#v, want %#v", f.Evidence, evidence)
	}
}

func TestClusterOutsideVPC(t *testing.T) {
	tests := []struct {
		name        string
		vpc, subnet string
		status      model.Status
		msg         string
	}{
		{"VpcId reported", "vpc-1", "", model.StatusPass, "Redshift cluster dw is in VPC vpc-1"},
		{"VpcId and subnet group", "vpc-1", "dw-subnets", model.StatusPass, "Redshift cluster dw is in VPC vpc-1"},
		{"subnet group without a reported VpcId", "", "dw-subnets", model.StatusPass, "Redshift cluster dw is in a VPC through its cluster subnet group dw-subnets"},
		{"neither", "", "", model.StatusFail, "Redshift cluster dw has no VPC and no cluster subnet group: it is not in a VPC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectOne(t, "redshift-cluster-outside-vpc", Cluster{ID: "dw", VPCID: tt.vpc, SubnetGroup: tt.subnet, Endpoint: "dw.example"}, tt.status, tt.msg,
				map[string]any{"vpc_id": tt.vpc, "cluster_subnet_group": tt.subnet})
		})
	}
	if got := evalCheck(t, "redshift-cluster-outside-vpc", &Inventory{}); len(got) != 0 {
		t.Errorf("no clusters: %+v", got)
	}
}

func TestClusterUnencrypted(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:111122223333:key/k1"
	tests := []struct {
		name      string
		encrypted bool
		key       string
		status    model.Status
		msg       string
	}{
		{"unencrypted", false, "", model.StatusFail, "Redshift cluster dw is not encrypted"},
		{"encrypted with a KMS key", true, key, model.StatusPass, "Redshift cluster dw is encrypted"},
		{"encrypted, no key reported", true, "", model.StatusPass, "Redshift cluster dw is encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectOne(t, "redshift-cluster-unencrypted", Cluster{ID: "dw", Encrypted: tt.encrypted, KMSKeyID: tt.key, VPCID: "vpc-1"}, tt.status, tt.msg,
				map[string]any{"encrypted": tt.encrypted, "kms_key_id": tt.key})
		})
	}
	if got := evalCheck(t, "redshift-cluster-unencrypted", &Inventory{}); len(got) != 0 {
		t.Errorf("no clusters: %+v", got)
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
		{ClusterIdentifier: aws.String("pub"), PubliclyAccessible: aws.Bool(true), Encrypted: aws.Bool(true), KmsKeyId: aws.String("k1"), VpcId: aws.String("vpc-1"),
			ClusterSubnetGroupName: aws.String("grp"), Endpoint: &types.Endpoint{Address: aws.String("pub.example")}},
		{ClusterIdentifier: aws.String("priv")},
	}}
	inv := collect(context.Background(), api, scope, &check.Gaps{})
	want := []Cluster{{ID: "pub", PubliclyAccessible: true, Encrypted: true, KMSKeyID: "k1", VPCID: "vpc-1", SubnetGroup: "grp", Endpoint: "pub.example"}, {ID: "priv"}}
	if !reflect.DeepEqual(inv.Clusters, want) {
		t.Errorf("clusters = %+v, want %+v", inv.Clusters, want)
	}

	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{err: &smithy.GenericAPIError{Code: "OptInRequired", Message: "not subscribed"}}, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), scope, map[string]bool{"redshift-cluster-public": true, "redshift-cluster-outside-vpc": true, "redshift-cluster-unencrypted": true})
	if len(results) != 3 {
		t.Errorf("results = %+v, want one scope ERROR per check", results)
	}
	for _, r := range results {
		if r.Status != model.StatusError || r.ResourceID != "" || r.Evidence["error_code"] != "OptInRequired" {
			t.Errorf("result = %+v, want a scope ERROR", r)
		}
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeClusters: OptInRequired: not subscribed" {
		t.Errorf("coverage = %+v", cov)
	}
}

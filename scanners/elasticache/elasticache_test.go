package elasticache

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func evalCheck(t *testing.T, id string, inv *Inventory) []check.Finding {
	t.Helper()
	c, ok := check.Lookup(Checks(), id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c.Eval(inv)
}

func expectOne(t *testing.T, id string, inv *Inventory, resource, arn string, status model.Status, msg string, evidence map[string]any) {
	t.Helper()
	got := evalCheck(t, id, inv)
	if len(got) != 1 {
		t.Fatalf("%s: got %d findings, want 1", id, len(got))
	}
	f := got[0]
	if f.ResourceID != resource || f.ResourceARN != arn || f.Status != status || f.Message != msg {
		t.Errorf("finding = %s %q %q %q, want %s %q %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, status, resource, arn, msg)
	}
	if !reflect.DeepEqual(f.Evidence, evidence) {
		t.Errorf("evidence = %#v, want %#v", f.Evidence, evidence)
	}
}

func TestClusterOutsideVPC(t *testing.T) {
	const arn = "arn:aws:elasticache:eu-west-1:111122223333:cluster:sessions"
	tests := []struct {
		name      string
		cluster   CacheCluster
		partition string
		arn       string
		status    model.Status
		msg       string
		evidence  map[string]any
	}{
		{"in a cache subnet group", CacheCluster{ID: "sessions", ARN: arn, Engine: "redis", SubnetGroup: "cache-subnets"}, "aws", arn,
			model.StatusPass, "cache cluster sessions is in a VPC (cache subnet group cache-subnets)",
			map[string]any{"engine": "redis", "cache_subnet_group": "cache-subnets"}},
		{"no cache subnet group", CacheCluster{ID: "sessions", ARN: arn, Engine: "memcached"}, "aws", arn,
			model.StatusFail, "cache cluster sessions has no cache subnet group: it is not in a VPC",
			map[string]any{"engine": "memcached", "cache_subnet_group": ""}},
		{"member of a replication group", CacheCluster{ID: "sessions", ARN: arn, Engine: "redis", SubnetGroup: "cache-subnets", ReplicationGroupID: "sessions-rg"}, "aws", arn,
			model.StatusPass, "cache cluster sessions is in a VPC (cache subnet group cache-subnets)",
			map[string]any{"engine": "redis", "cache_subnet_group": "cache-subnets", "replication_group_id": "sessions-rg"}},
		{"ARN not reported: built with the partition", CacheCluster{ID: "sessions"}, "aws-cn", "arn:aws-cn:elasticache:eu-west-1:111122223333:cluster:sessions",
			model.StatusFail, "cache cluster sessions has no cache subnet group: it is not in a VPC",
			map[string]any{"engine": "", "cache_subnet_group": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, CacheClusters: []CacheCluster{tt.cluster}}
			expectOne(t, "elasticache-cluster-outside-vpc", inv, "sessions", tt.arn, tt.status, tt.msg, tt.evidence)
		})
	}
	if got := evalCheck(t, "elasticache-cluster-outside-vpc", &Inventory{}); len(got) != 0 {
		t.Errorf("no clusters: %+v", got)
	}
}

func TestReplicationGroupUnencrypted(t *testing.T) {
	const arn = "arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:carts"
	yes, no := aws.Bool(true), aws.Bool(false)
	tests := []struct {
		name     string
		group    ReplicationGroup
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"both on", ReplicationGroup{AtRestEncryption: yes, TransitEncryption: yes, TransitMode: "required", KMSKeyID: "k1"},
			model.StatusPass, "replication group carts is encrypted at rest and in transit",
			map[string]any{"at_rest_encryption_enabled": true, "transit_encryption_enabled": true, "transit_encryption_mode": "required", "kms_key_id": "k1"}},
		{"both off", ReplicationGroup{AtRestEncryption: no, TransitEncryption: no},
			model.StatusFail, "replication group carts is encrypted neither at rest nor in transit",
			map[string]any{"at_rest_encryption_enabled": false, "transit_encryption_enabled": false}},
		{"at rest off", ReplicationGroup{AtRestEncryption: no, TransitEncryption: yes, TransitMode: "preferred"},
			model.StatusFail, "replication group carts is not encrypted at rest",
			map[string]any{"at_rest_encryption_enabled": false, "transit_encryption_enabled": true, "transit_encryption_mode": "preferred"}},
		{"in transit off", ReplicationGroup{AtRestEncryption: yes, TransitEncryption: no},
			model.StatusFail, "replication group carts is not encrypted in transit",
			map[string]any{"at_rest_encryption_enabled": true, "transit_encryption_enabled": false}},
		{"in transit not reported", ReplicationGroup{AtRestEncryption: yes},
			model.StatusFail, "replication group carts is not encrypted in transit",
			map[string]any{"at_rest_encryption_enabled": true, "transit_encryption_enabled": "not reported"}},
		{"neither reported", ReplicationGroup{},
			model.StatusFail, "replication group carts is encrypted neither at rest nor in transit",
			map[string]any{"at_rest_encryption_enabled": "not reported", "transit_encryption_enabled": "not reported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.group
			g.ID, g.ARN = "carts", arn
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws", ReplicationGroups: []ReplicationGroup{g}}
			expectOne(t, "elasticache-replication-group-unencrypted", inv, "carts", arn, tt.status, tt.msg, tt.evidence)
		})
	}
	inv := &Inventory{AccountID: "111122223333", Region: "us-east-1", Partition: "aws", ReplicationGroups: []ReplicationGroup{{ID: "carts"}}}
	if got := evalCheck(t, "elasticache-replication-group-unencrypted", inv); got[0].ResourceARN != "arn:aws:elasticache:us-east-1:111122223333:replicationgroup:carts" {
		t.Errorf("built ARN = %s", got[0].ResourceARN)
	}
}

// fakeAPI serves two pages of each list and records the operations called.
type fakeAPI struct {
	clusters   [][]types.CacheCluster
	groups     [][]types.ReplicationGroup
	clusterErr error
	groupErr   error

	mu  sync.Mutex
	ops []string
}

func (f *fakeAPI) called(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
}

// page returns the page that marker points at ("" is the first) and the
// marker of the next one.
func page(marker *string, pages int) (int, *string) {
	i := 0
	if m := aws.ToString(marker); m != "" {
		i = int(m[0] - '0')
	}
	if i+1 < pages {
		return i, aws.String(string(rune('0' + i + 1)))
	}
	return i, nil
}

func (f *fakeAPI) DescribeCacheClusters(_ context.Context, in *elasticache.DescribeCacheClustersInput, _ ...func(*elasticache.Options)) (*elasticache.DescribeCacheClustersOutput, error) {
	f.called("DescribeCacheClusters")
	if f.clusterErr != nil {
		return nil, f.clusterErr
	}
	i, next := page(in.Marker, len(f.clusters))
	return &elasticache.DescribeCacheClustersOutput{CacheClusters: f.clusters[i], Marker: next}, nil
}

func (f *fakeAPI) DescribeReplicationGroups(_ context.Context, in *elasticache.DescribeReplicationGroupsInput, _ ...func(*elasticache.Options)) (*elasticache.DescribeReplicationGroupsOutput, error) {
	f.called("DescribeReplicationGroups")
	if f.groupErr != nil {
		return nil, f.groupErr
	}
	i, next := page(in.Marker, len(f.groups))
	return &elasticache.DescribeReplicationGroupsOutput{ReplicationGroups: f.groups[i], Marker: next}, nil
}

func newFake() *fakeAPI {
	return &fakeAPI{
		clusters: [][]types.CacheCluster{
			{{CacheClusterId: aws.String("classic"), ARN: aws.String("arn:classic"), Engine: aws.String("memcached")}},
			{{CacheClusterId: aws.String("carts-001"), ARN: aws.String("arn:carts-001"), Engine: aws.String("redis"), CacheSubnetGroupName: aws.String("grp"), ReplicationGroupId: aws.String("carts")}},
		},
		groups: [][]types.ReplicationGroup{
			{{ReplicationGroupId: aws.String("carts"), ARN: aws.String("arn:carts"), AtRestEncryptionEnabled: aws.Bool(true), TransitEncryptionEnabled: aws.Bool(true),
				TransitEncryptionMode: types.TransitEncryptionModeRequired, KmsKeyId: aws.String("k1")}},
			{{ReplicationGroupId: aws.String("plain"), ARN: aws.String("arn:plain")}},
		},
	}
}

func TestCollectEveryPage(t *testing.T) {
	inv := collect(context.Background(), newFake(), check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}, &check.Gaps{})
	wantClusters := []CacheCluster{
		{ID: "classic", ARN: "arn:classic", Engine: "memcached"},
		{ID: "carts-001", ARN: "arn:carts-001", Engine: "redis", SubnetGroup: "grp", ReplicationGroupID: "carts"},
	}
	if !reflect.DeepEqual(inv.CacheClusters, wantClusters) {
		t.Errorf("cache clusters = %+v", inv.CacheClusters)
	}
	wantGroups := []ReplicationGroup{
		{ID: "carts", ARN: "arn:carts", AtRestEncryption: aws.Bool(true), TransitEncryption: aws.Bool(true), TransitMode: "required", KMSKeyID: "k1"},
		{ID: "plain", ARN: "arn:plain"},
	}
	if !reflect.DeepEqual(inv.ReplicationGroups, wantGroups) {
		t.Errorf("replication groups = %+v", inv.ReplicationGroups)
	}
	if inv.AccountID != "111122223333" || inv.Region != "eu-west-1" || inv.Partition != "aws" {
		t.Errorf("scope = %+v", inv)
	}
}

func TestScanCallsOnlyWhatTheSelectedChecksNeed(t *testing.T) {
	tests := []struct {
		check string
		ops   []string
		want  map[string]model.Status
	}{
		{"elasticache-cluster-outside-vpc", []string{"DescribeCacheClusters", "DescribeCacheClusters"},
			map[string]model.Status{"classic": model.StatusFail, "carts-001": model.StatusPass}},
		{"elasticache-replication-group-unencrypted", []string{"DescribeReplicationGroups", "DescribeReplicationGroups"},
			map[string]model.Status{"carts": model.StatusPass, "plain": model.StatusFail}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			api := newFake()
			svc := Scanner()
			svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
				return collect(ctx, api, scope, gaps)
			}
			results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}, map[string]bool{tt.check: true})
			if !reflect.DeepEqual(api.ops, tt.ops) {
				t.Errorf("operations = %v, want %v", api.ops, tt.ops)
			}
			got := map[string]model.Status{}
			for _, r := range results {
				got[r.ResourceID] = r.Status
			}
			if !reflect.DeepEqual(got, tt.want) || cov.Status != model.CoverageOK {
				t.Errorf("results = %v (coverage %+v), want %v", got, cov, tt.want)
			}
		})
	}
}

func TestListFailureIsScopeErrorForItsCheckOnly(t *testing.T) {
	api := newFake()
	api.groupErr = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to DescribeReplicationGroups"}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"},
		map[string]bool{"elasticache-cluster-outside-vpc": true, "elasticache-replication-group-unencrypted": true})
	got := map[string]model.Status{}
	for _, r := range results {
		got[r.CheckID+" "+r.ResourceID] = r.Status
		if r.Status == model.StatusError && (!strings.Contains(r.Message, "replication-groups") || r.Evidence["error_code"] != "AccessDenied") {
			t.Errorf("ERROR result = %+v", r)
		}
	}
	want := map[string]model.Status{
		"elasticache-replication-group-unencrypted ": model.StatusError,
		"elasticache-cluster-outside-vpc classic":    model.StatusFail,
		"elasticache-cluster-outside-vpc carts-001":  model.StatusPass,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeReplicationGroups: AccessDenied: not authorized to DescribeReplicationGroups" {
		t.Errorf("coverage = %+v", cov)
	}
}

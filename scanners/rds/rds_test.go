package rds

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
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

func TestInstancePublic(t *testing.T) {
	const arn = "arn:aws:rds:eu-west-1:111122223333:db:orders"
	tests := []struct {
		name     string
		public   *bool
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"publicly accessible", aws.Bool(true), model.StatusFail, "DB instance orders is PubliclyAccessible",
			map[string]any{"engine": "postgres", "vpc_id": "vpc-1", "subnet_group": "sg-grp", "publicly_accessible": true, "endpoint": "orders.abc.eu-west-1.rds.amazonaws.com"}},
		{"private", aws.Bool(false), model.StatusPass, "DB instance orders is not publicly accessible",
			map[string]any{"engine": "postgres", "vpc_id": "vpc-1", "subnet_group": "sg-grp", "publicly_accessible": false}},
		{"not reported", nil, model.StatusPass, "DB instance orders does not report PubliclyAccessible (the default is private)",
			map[string]any{"engine": "postgres", "vpc_id": "vpc-1", "subnet_group": "sg-grp", "publicly_accessible": "not reported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Instances: []DBInstance{{
				ID: "orders", ARN: arn, Engine: "postgres", PubliclyAccessible: tt.public, VPCID: "vpc-1", SubnetGroup: "sg-grp",
				Endpoint: "orders.abc.eu-west-1.rds.amazonaws.com",
			}}}
			got := evalCheck(t, "rds-instance-public", inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "orders" || f.ResourceARN != arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := evalCheck(t, "rds-instance-public", &Inventory{}); len(got) != 0 {
		t.Errorf("no instances: %+v", got)
	}
}

func TestSnapshotPublic(t *testing.T) {
	tests := []struct {
		name     string
		snap     DBSnapshot
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"manual public", DBSnapshot{ID: "snap-pub", Type: "manual", InstanceID: "orders", Public: true}, model.StatusFail,
			"DB snapshot snap-pub is restorable by all AWS accounts",
			map[string]any{"snapshot_type": "manual", "db_instance": "orders", "encrypted": false, "restore": "all"}},
		{"manual public and shared", DBSnapshot{ID: "snap-pub", Type: "manual", InstanceID: "orders", Public: true, SharedWith: []string{"444455556666"}}, model.StatusFail,
			"DB snapshot snap-pub is restorable by all AWS accounts",
			map[string]any{"snapshot_type": "manual", "db_instance": "orders", "encrypted": false, "restore": "all", "shared_with_accounts": []string{"444455556666"}}},
		{"manual shared with an account", DBSnapshot{ID: "snap-shared", Type: "manual", InstanceID: "orders", Encrypted: true, SharedWith: []string{"444455556666"}}, model.StatusPass,
			"DB snapshot snap-shared is not public",
			map[string]any{"snapshot_type": "manual", "db_instance": "orders", "encrypted": true, "shared_with_accounts": []string{"444455556666"}}},
		{"manual private", DBSnapshot{ID: "snap-priv", Type: "manual", InstanceID: "orders"}, model.StatusPass,
			"DB snapshot snap-priv is not public",
			map[string]any{"snapshot_type": "manual", "db_instance": "orders", "encrypted": false}},
		{"automated", DBSnapshot{ID: "rds:orders-2025-01-01", Type: "automated", InstanceID: "orders"}, model.StatusPass,
			"DB snapshot rds:orders-2025-01-01 is automated and cannot be shared",
			map[string]any{"snapshot_type": "automated", "db_instance": "orders", "encrypted": false}},
		{"permissions error", DBSnapshot{ID: "snap-err", Type: "manual", InstanceID: "orders", PermissionsError: "AccessDenied: not authorized"}, model.StatusError,
			"could not read the snapshot's restore attribute: AccessDenied: not authorized",
			map[string]any{"snapshot_type": "manual", "db_instance": "orders", "encrypted": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := tt.snap
			snap.ARN = "arn:aws:rds:eu-west-1:111122223333:snapshot:" + snap.ID
			got := evalCheck(t, "rds-snapshot-public", &Inventory{AccountID: "111122223333", Region: "eu-west-1", Snapshots: []DBSnapshot{snap}})
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != snap.ID || f.ResourceARN != snap.ARN || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
}

// fakeAPI serves the RDS calls the collector makes from fixed data.
type fakeAPI struct {
	instances   []types.DBInstance
	snapshots   []types.DBSnapshot
	listErr     error
	restore     map[string][]string
	attrErr     map[string]error
	snapListErr error
	clusters    []types.DBCluster
	clusterErr  error
	// DB cluster snapshots, their list error and their restore attributes
	clusterSnaps       []types.DBClusterSnapshot
	clusterSnapListErr error
	clusterRestore     map[string][]string
	clusterAttrErr     map[string]error

	mu        sync.Mutex // the collector asks for attributes concurrently
	attrCalls []string
	ops       []string // every operation called, in order
}

func (f *fakeAPI) called(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
}

func (f *fakeAPI) DescribeDBClusters(context.Context, *rds.DescribeDBClustersInput, ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error) {
	f.called("DescribeDBClusters")
	if f.clusterErr != nil {
		return nil, f.clusterErr
	}
	return &rds.DescribeDBClustersOutput{DBClusters: f.clusters}, nil
}

func (f *fakeAPI) DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	f.called("DescribeDBInstances")
	if f.listErr != nil {
		return nil, f.listErr
	}
	return &rds.DescribeDBInstancesOutput{DBInstances: f.instances}, nil
}

func (f *fakeAPI) DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	f.called("DescribeDBSnapshots")
	if f.snapListErr != nil {
		return nil, f.snapListErr
	}
	return &rds.DescribeDBSnapshotsOutput{DBSnapshots: f.snapshots}, nil
}

func (f *fakeAPI) DescribeDBSnapshotAttributes(_ context.Context, in *rds.DescribeDBSnapshotAttributesInput, _ ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error) {
	id := aws.ToString(in.DBSnapshotIdentifier)
	f.called("DescribeDBSnapshotAttributes")
	f.mu.Lock()
	f.attrCalls = append(f.attrCalls, id)
	f.mu.Unlock()
	if err := f.attrErr[id]; err != nil {
		return nil, err
	}
	return &rds.DescribeDBSnapshotAttributesOutput{DBSnapshotAttributesResult: &types.DBSnapshotAttributesResult{
		DBSnapshotIdentifier: in.DBSnapshotIdentifier,
		DBSnapshotAttributes: []types.DBSnapshotAttribute{{AttributeName: aws.String("restore"), AttributeValues: f.restore[id]}},
	}}, nil
}

func (f *fakeAPI) DescribeDBClusterSnapshots(context.Context, *rds.DescribeDBClusterSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotsOutput, error) {
	f.called("DescribeDBClusterSnapshots")
	if f.clusterSnapListErr != nil {
		return nil, f.clusterSnapListErr
	}
	return &rds.DescribeDBClusterSnapshotsOutput{DBClusterSnapshots: f.clusterSnaps}, nil
}

func (f *fakeAPI) DescribeDBClusterSnapshotAttributes(_ context.Context, in *rds.DescribeDBClusterSnapshotAttributesInput, _ ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotAttributesOutput, error) {
	id := aws.ToString(in.DBClusterSnapshotIdentifier)
	f.called("DescribeDBClusterSnapshotAttributes")
	f.mu.Lock()
	f.attrCalls = append(f.attrCalls, id)
	f.mu.Unlock()
	if err := f.clusterAttrErr[id]; err != nil {
		return nil, err
	}
	return &rds.DescribeDBClusterSnapshotAttributesOutput{DBClusterSnapshotAttributesResult: &types.DBClusterSnapshotAttributesResult{
		DBClusterSnapshotIdentifier: in.DBClusterSnapshotIdentifier,
		DBClusterSnapshotAttributes: []types.DBClusterSnapshotAttribute{{AttributeName: aws.String("restore"), AttributeValues: f.clusterRestore[id]}},
	}}, nil
}

func TestCollectSnapshotPermissions(t *testing.T) {
	api := &fakeAPI{
		instances: []types.DBInstance{{DBInstanceIdentifier: aws.String("orders"), DBInstanceArn: aws.String("arn:db"), Engine: aws.String("mysql"),
			PubliclyAccessible: aws.Bool(true), DBSubnetGroup: &types.DBSubnetGroup{DBSubnetGroupName: aws.String("grp"), VpcId: aws.String("vpc-1")},
			Endpoint: &types.Endpoint{Address: aws.String("orders.example")}}},
		snapshots: []types.DBSnapshot{
			{DBSnapshotIdentifier: aws.String("pub"), SnapshotType: aws.String("manual")},
			{DBSnapshotIdentifier: aws.String("shared"), SnapshotType: aws.String("manual")},
			{DBSnapshotIdentifier: aws.String("auto"), SnapshotType: aws.String("automated")},
			{DBSnapshotIdentifier: aws.String("denied"), SnapshotType: aws.String("manual")},
		},
		restore: map[string][]string{"pub": {"all", "444455556666"}, "shared": {"444455556666"}},
		attrErr: map[string]error{"denied": &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}},
	}
	gaps := &check.Gaps{}
	inv := collect(context.Background(), api, check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)

	wantDB := DBInstance{ID: "orders", ARN: "arn:db", Engine: "mysql", PubliclyAccessible: aws.Bool(true), VPCID: "vpc-1", SubnetGroup: "grp", Endpoint: "orders.example"}
	if len(inv.Instances) != 1 || !reflect.DeepEqual(inv.Instances[0], wantDB) {
		t.Errorf("instances = %+v", inv.Instances)
	}
	byID := map[string]DBSnapshot{}
	for _, s := range inv.Snapshots {
		byID[s.ID] = s
	}
	if s := byID["pub"]; !s.Public || !reflect.DeepEqual(s.SharedWith, []string{"444455556666"}) {
		t.Errorf("pub = %+v", s)
	}
	if s := byID["shared"]; s.Public || !reflect.DeepEqual(s.SharedWith, []string{"444455556666"}) {
		t.Errorf("shared = %+v", s)
	}
	if s := byID["denied"]; s.PermissionsError != "AccessDenied: no" {
		t.Errorf("denied = %+v", s)
	}
	for _, id := range api.attrCalls {
		if id == "auto" {
			t.Error("the collector asked for an automated snapshot's attributes")
		}
	}
	list := gaps.List()
	if len(list) != 1 || list[0].Part != PartSnapshotPermissions || list[0].Resource != "denied" || list[0].Operation != "DescribeDBSnapshotAttributes" {
		t.Errorf("gaps = %+v", list)
	}
	// The per-snapshot gap leaves the snapshot check evaluated per resource.
	statuses := map[string]model.Status{}
	for _, f := range evalCheck(t, "rds-snapshot-public", inv) {
		statuses[f.ResourceID] = f.Status
	}
	want := map[string]model.Status{"pub": model.StatusFail, "shared": model.StatusPass, "auto": model.StatusPass, "denied": model.StatusError}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}

func TestScanListFailureIsScopeError(t *testing.T) {
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, &fakeAPI{listErr: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to DescribeDBInstances"}}, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"},
		map[string]bool{"rds-instance-public": true, "rds-snapshot-public": true})
	if len(results) != 1 {
		t.Fatalf("results = %+v, want one scope ERROR (snapshots: none, so no result)", results)
	}
	r := results[0]
	if r.CheckID != "rds-instance-public" || r.Status != model.StatusError || r.ResourceID != "" || !strings.Contains(r.Message, "db-instances") ||
		!strings.Contains(r.Message, "DescribeDBInstances") || r.Evidence["error_code"] != "AccessDenied" {
		t.Errorf("result = %+v", r)
	}
	if cov.Status != model.CoverageError {
		t.Errorf("coverage = %+v", cov)
	}
}

// expectOne evaluates check id over inv and compares its single finding.
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

func TestInstanceOutsideVPC(t *testing.T) {
	const arn = "arn:aws:rds:eu-west-1:111122223333:db:orders"
	tests := []struct {
		name        string
		subnetGroup string
		vpc         string
		status      model.Status
		msg         string
	}{
		{"in a VPC", "orders-grp", "vpc-1", model.StatusPass, "DB instance orders is in VPC vpc-1 (DB subnet group orders-grp)"},
		{"no DB subnet group", "", "", model.StatusFail, "DB instance orders has no DB subnet group: it is not in a VPC"},
		{"DB subnet group without a VPC", "orders-grp", "", model.StatusFail, "DB instance orders: its DB subnet group orders-grp reports no VPC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{Instances: []DBInstance{{ID: "orders", ARN: arn, Engine: "postgres", SubnetGroup: tt.subnetGroup, VPCID: tt.vpc}}}
			expectOne(t, "rds-instance-outside-vpc", inv, "orders", arn, tt.status, tt.msg,
				map[string]any{"db_subnet_group": tt.subnetGroup, "vpc_id": tt.vpc})
		})
	}
	if got := evalCheck(t, "rds-instance-outside-vpc", &Inventory{}); len(got) != 0 {
		t.Errorf("no instances: %+v", got)
	}
}

func TestInstanceUnencrypted(t *testing.T) {
	const arn = "arn:aws:rds:eu-west-1:111122223333:db:orders"
	const key = "arn:aws:kms:eu-west-1:111122223333:key/k1"
	tests := []struct {
		name      string
		encrypted bool
		key       string
		status    model.Status
		msg       string
	}{
		{"unencrypted", false, "", model.StatusFail, "DB instance orders storage is not encrypted"},
		{"encrypted", true, key, model.StatusPass, "DB instance orders storage is encrypted"},
		{"encrypted, key not reported", true, "", model.StatusPass, "DB instance orders storage is encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{Instances: []DBInstance{{ID: "orders", ARN: arn, Engine: "postgres", StorageEncrypted: tt.encrypted, KMSKeyID: tt.key}}}
			expectOne(t, "rds-instance-unencrypted", inv, "orders", arn, tt.status, tt.msg,
				map[string]any{"engine": "postgres", "storage_encrypted": tt.encrypted, "kms_key_id": tt.key})
		})
	}
	if got := evalCheck(t, "rds-instance-unencrypted", &Inventory{}); len(got) != 0 {
		t.Errorf("no instances: %+v", got)
	}
}

func TestClusterUnencrypted(t *testing.T) {
	const arn = "arn:aws:rds:eu-west-1:111122223333:cluster:ledger"
	const key = "arn:aws:kms:eu-west-1:111122223333:key/k1"
	tests := []struct {
		name      string
		encrypted bool
		key       string
		status    model.Status
		msg       string
	}{
		{"unencrypted", false, "", model.StatusFail, "DB cluster ledger storage is not encrypted"},
		// A key reported for an unencrypted cluster changes nothing.
		{"unencrypted with a key reported", false, key, model.StatusFail, "DB cluster ledger storage is not encrypted"},
		{"encrypted", true, key, model.StatusPass, "DB cluster ledger storage is encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{Clusters: []DBCluster{{ID: "ledger", ARN: arn, Engine: "aurora-postgresql", StorageEncrypted: tt.encrypted, KMSKeyID: tt.key}}}
			expectOne(t, "rds-cluster-unencrypted", inv, "ledger", arn, tt.status, tt.msg,
				map[string]any{"engine": "aurora-postgresql", "storage_encrypted": tt.encrypted, "kms_key_id": tt.key})
		})
	}
	if got := evalCheck(t, "rds-cluster-unencrypted", &Inventory{}); len(got) != 0 {
		t.Errorf("no clusters: %+v", got)
	}
}

func TestSnapshotUnencrypted(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:111122223333:key/k1"
	tests := []struct {
		name   string
		snap   DBSnapshot
		status model.Status
		msg    string
	}{
		{"manual unencrypted", DBSnapshot{ID: "snap-1", Type: "manual", InstanceID: "orders"}, model.StatusFail, "DB snapshot snap-1 is not encrypted"},
		{"automated unencrypted", DBSnapshot{ID: "rds:orders-1", Type: "automated", InstanceID: "orders"}, model.StatusFail, "DB snapshot rds:orders-1 is not encrypted"},
		{"encrypted", DBSnapshot{ID: "snap-2", Type: "manual", InstanceID: "orders", Encrypted: true, KMSKeyID: key}, model.StatusPass, "DB snapshot snap-2 is encrypted"},
		// Public or not is rds-snapshot-public's business; a permissions
		// error does not stop this check.
		{"public and encrypted, permissions unread", DBSnapshot{ID: "snap-3", Type: "manual", InstanceID: "orders", Encrypted: true, Public: true, PermissionsError: "AccessDenied: no"},
			model.StatusPass, "DB snapshot snap-3 is encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := tt.snap
			snap.ARN = "arn:aws:rds:eu-west-1:111122223333:snapshot:" + snap.ID
			expectOne(t, "rds-snapshot-unencrypted", &Inventory{Snapshots: []DBSnapshot{snap}}, snap.ID, snap.ARN, tt.status, tt.msg,
				map[string]any{"snapshot_type": snap.Type, "db_instance": "orders", "encrypted": snap.Encrypted, "kms_key_id": snap.KMSKeyID})
		})
	}
}

// TestCollectCallsOnlyWhatTheSelectedChecksNeed: each check alone makes the
// collector call exactly the list operations it needs, and the collector
// maps the encryption and VPC fields.
func TestCollectCallsOnlyWhatTheSelectedChecksNeed(t *testing.T) {
	newAPI := func() *fakeAPI {
		return &fakeAPI{
			instances: []types.DBInstance{{DBInstanceIdentifier: aws.String("orders"), DBInstanceArn: aws.String("arn:db"), StorageEncrypted: aws.Bool(true),
				KmsKeyId: aws.String("k1"), DBSubnetGroup: &types.DBSubnetGroup{DBSubnetGroupName: aws.String("grp"), VpcId: aws.String("vpc-1")}}},
			clusters: []types.DBCluster{
				{DBClusterIdentifier: aws.String("ledger"), DBClusterArn: aws.String("arn:cluster"), Engine: aws.String("aurora-mysql"), StorageEncrypted: aws.Bool(true), KmsKeyId: aws.String("k2")},
				{DBClusterIdentifier: aws.String("plain"), DBClusterArn: aws.String("arn:plain")},
			},
			snapshots: []types.DBSnapshot{{DBSnapshotIdentifier: aws.String("snap"), DBSnapshotArn: aws.String("arn:snap"), SnapshotType: aws.String("manual"), Encrypted: aws.Bool(true), KmsKeyId: aws.String("k3")}},
		}
	}
	tests := []struct {
		check string
		ops   []string
		want  map[string]model.Status
	}{
		{"rds-instance-outside-vpc", []string{"DescribeDBInstances"}, map[string]model.Status{"orders": model.StatusPass}},
		{"rds-instance-unencrypted", []string{"DescribeDBInstances"}, map[string]model.Status{"orders": model.StatusPass}},
		{"rds-cluster-unencrypted", []string{"DescribeDBClusters"}, map[string]model.Status{"ledger": model.StatusPass, "plain": model.StatusFail}},
		{"rds-snapshot-unencrypted", []string{"DescribeDBSnapshots", "DescribeDBClusterSnapshots"}, map[string]model.Status{"snap": model.StatusPass}},
		{"rds-snapshot-public", []string{"DescribeDBSnapshots", "DescribeDBSnapshotAttributes", "DescribeDBClusterSnapshots"}, map[string]model.Status{"snap": model.StatusPass}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			api := newAPI()
			svc := Scanner()
			svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
				return collect(ctx, api, scope, gaps)
			}
			results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, map[string]bool{tt.check: true})
			if !reflect.DeepEqual(api.ops, tt.ops) {
				t.Errorf("operations = %v, want %v", api.ops, tt.ops)
			}
			got := map[string]model.Status{}
			for _, r := range results {
				got[r.ResourceID] = r.Status
			}
			if !reflect.DeepEqual(got, tt.want) || cov.Status != model.CoverageOK {
				t.Errorf("results = %v (coverage %s), want %v", got, cov.Status, tt.want)
			}
		})
	}

	inv := collect(context.Background(), newAPI(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, &check.Gaps{})
	wantDB := DBInstance{ID: "orders", ARN: "arn:db", VPCID: "vpc-1", SubnetGroup: "grp", StorageEncrypted: true, KMSKeyID: "k1"}
	if len(inv.Instances) != 1 || !reflect.DeepEqual(inv.Instances[0], wantDB) {
		t.Errorf("instances = %+v", inv.Instances)
	}
	wantClusters := []DBCluster{{ID: "ledger", ARN: "arn:cluster", Engine: "aurora-mysql", StorageEncrypted: true, KMSKeyID: "k2"}, {ID: "plain", ARN: "arn:plain"}}
	if !reflect.DeepEqual(inv.Clusters, wantClusters) {
		t.Errorf("clusters = %+v", inv.Clusters)
	}
	if len(inv.Snapshots) != 1 || !inv.Snapshots[0].Encrypted || inv.Snapshots[0].KMSKeyID != "k3" {
		t.Errorf("snapshots = %+v", inv.Snapshots)
	}
}

// TestClusterListFailureIsScopeErrorForClustersOnly: a failed
// DescribeDBClusters is an ERROR for rds-cluster-unencrypted only; the
// instance checks are still evaluated.
func TestClusterListFailureIsScopeErrorForClustersOnly(t *testing.T) {
	api := &fakeAPI{
		instances:  []types.DBInstance{{DBInstanceIdentifier: aws.String("orders"), DBInstanceArn: aws.String("arn:db")}},
		clusterErr: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to DescribeDBClusters"},
	}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"},
		map[string]bool{"rds-cluster-unencrypted": true, "rds-instance-unencrypted": true, "rds-instance-outside-vpc": true})
	got := map[string]model.Status{}
	for _, r := range results {
		got[r.CheckID+" "+r.ResourceID] = r.Status
		if r.CheckID == "rds-cluster-unencrypted" && (!strings.Contains(r.Message, "db-clusters") || r.Evidence["error_code"] != "AccessDenied") {
			t.Errorf("cluster ERROR result = %+v", r)
		}
	}
	want := map[string]model.Status{
		"rds-cluster-unencrypted ":        model.StatusError,
		"rds-instance-unencrypted orders": model.StatusFail,
		"rds-instance-outside-vpc orders": model.StatusFail,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeDBClusters: AccessDenied: not authorized to DescribeDBClusters" {
		t.Errorf("coverage = %+v", cov)
	}
}

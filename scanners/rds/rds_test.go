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

	mu        sync.Mutex // the collector asks for attributes concurrently
	attrCalls []string
}

func (f *fakeAPI) DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return &rds.DescribeDBInstancesOutput{DBInstances: f.instances}, nil
}

func (f *fakeAPI) DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	if f.snapListErr != nil {
		return nil, f.snapListErr
	}
	return &rds.DescribeDBSnapshotsOutput{DBSnapshots: f.snapshots}, nil
}

func (f *fakeAPI) DescribeDBSnapshotAttributes(_ context.Context, in *rds.DescribeDBSnapshotAttributesInput, _ ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error) {
	id := aws.ToString(in.DBSnapshotIdentifier)
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

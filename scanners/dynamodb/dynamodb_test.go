package dynamodb

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "dynamodb-table-default-key"

func TestTableDefaultKey(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartTables}) || !reflect.DeepEqual(c.Reads, []string{PartTableDescriptions}) ||
		c.Severity != model.SeverityLow || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v needs %v reads %v", c.Meta, c.Needs, c.Reads)
	}
	const arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
	const key = "arn:aws:kms:eu-west-1:111122223333:key/k"
	tests := []struct {
		name      string
		table     Table
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"AWS-owned key: no SSE description", Table{Name: "orders", ARN: arn}, "aws",
			model.StatusFail, arn, "DynamoDB table orders is encrypted with the AWS-owned key (no SSE description)",
			map[string]any{"sse_description": "absent"}},
		{"KMS key", Table{Name: "orders", ARN: arn, SSE: &SSE{Status: "ENABLED", Type: "KMS", KMSMasterKeyARN: key}}, "aws",
			model.StatusPass, arn, "DynamoDB table orders is encrypted with KMS key " + key,
			map[string]any{"sse_status": "ENABLED", "sse_type": "KMS", "kms_master_key_arn": key}},
		{"KMS without a key ARN", Table{Name: "orders", ARN: arn, SSE: &SSE{Status: "ENABLED", Type: "KMS"}}, "aws",
			model.StatusPass, arn, "DynamoDB table orders is encrypted with KMS key absent",
			map[string]any{"sse_status": "ENABLED", "sse_type": "KMS", "kms_master_key_arn": "absent"}},
		{"KMS being enabled", Table{Name: "orders", ARN: arn, SSE: &SSE{Status: "ENABLING", Type: "KMS", KMSMasterKeyARN: key}}, "aws",
			model.StatusFail, arn, "DynamoDB table orders is not encrypted with a KMS key (SSE status ENABLING, type KMS)",
			map[string]any{"sse_status": "ENABLING", "sse_type": "KMS", "kms_master_key_arn": key}},
		{"SSE disabled", Table{Name: "orders", ARN: arn, SSE: &SSE{Status: "DISABLED"}}, "aws",
			model.StatusFail, arn, "DynamoDB table orders is not encrypted with a KMS key (SSE status DISABLED, type absent)",
			map[string]any{"sse_status": "DISABLED", "sse_type": "absent", "kms_master_key_arn": "absent"}},
		{"AES256", Table{Name: "orders", ARN: arn, SSE: &SSE{Status: "ENABLED", Type: "AES256"}}, "aws",
			model.StatusFail, arn, "DynamoDB table orders is not encrypted with a KMS key (SSE status ENABLED, type AES256)",
			map[string]any{"sse_status": "ENABLED", "sse_type": "AES256", "kms_master_key_arn": "absent"}},
		{"describe failed", Table{Name: "orders", Error: "AccessDeniedException: no"}, "aws",
			model.StatusError, arn, "cannot decide which key encrypts DynamoDB table orders: DescribeTable failed: AccessDeniedException: no",
			map[string]any{"operation": "DescribeTable", "error": "AccessDeniedException: no"}},
		{"no ARN: built with the partition", Table{Name: "orders"}, "aws-us-gov",
			model.StatusFail, "arn:aws-us-gov:dynamodb:eu-west-1:111122223333:table/orders", "DynamoDB table orders is encrypted with the AWS-owned key (no SSE description)",
			map[string]any{"sse_description": "absent"}},
		{"partition defaults to aws", Table{Name: "orders"}, "",
			model.StatusFail, arn, "DynamoDB table orders is encrypted with the AWS-owned key (no SSE description)",
			map[string]any{"sse_description": "absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Tables: []Table{tt.table}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "orders" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no tables: %d findings", len(got))
	}
}

// fakeAPI serves table names in pages keyed by ExclusiveStartTableName, and
// a description or an error per table.
type fakeAPI struct {
	pages   map[string]*dynamodb.ListTablesOutput
	listErr error
	tables  map[string]*types.TableDescription
	errs    map[string]error
}

func (f fakeAPI) ListTables(_ context.Context, in *dynamodb.ListTablesInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.pages[aws.ToString(in.ExclusiveStartTableName)], nil
}

func (f fakeAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	name := aws.ToString(in.TableName)
	if err := f.errs[name]; err != nil {
		return nil, err
	}
	return &dynamodb.DescribeTableOutput{Table: f.tables[name]}, nil
}

func fixture() fakeAPI {
	return fakeAPI{
		pages: map[string]*dynamodb.ListTablesOutput{
			"":        {TableNames: []string{"owned", "managed"}, LastEvaluatedTableName: aws.String("managed")},
			"managed": {TableNames: []string{"denied", "deleted"}},
		},
		tables: map[string]*types.TableDescription{
			"owned": {TableName: aws.String("owned"), TableArn: aws.String("arn:owned")},
			"managed": {TableName: aws.String("managed"), TableArn: aws.String("arn:managed"),
				SSEDescription: &types.SSEDescription{Status: types.SSEStatusEnabled, SSEType: types.SSETypeKms, KMSMasterKeyArn: aws.String("arn:key")}},
		},
		errs: map[string]error{
			"denied":  &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"},
			"deleted": &types.ResourceNotFoundException{Message: aws.String("gone")},
		},
	}
}

// TestCollect: every page is listed, each table described; a denied table
// carries its error and a gap, a table deleted since the list is dropped.
func TestCollect(t *testing.T) {
	gaps := &check.Gaps{}
	inv := collect(context.Background(), fixture(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)
	want := []Table{
		{Name: "owned", ARN: "arn:owned"},
		{Name: "managed", ARN: "arn:managed", SSE: &SSE{Status: "ENABLED", Type: "KMS", KMSMasterKeyARN: "arn:key"}},
		{Name: "denied", Error: "AccessDeniedException: no"},
	}
	if !reflect.DeepEqual(inv.Tables, want) {
		t.Errorf("tables = %+v, want %+v", inv.Tables, want)
	}
	list := gaps.List()
	if len(list) != 1 || list[0].Part != PartTableDescriptions || list[0].Operation != "DescribeTable" || list[0].Resource != "denied" {
		t.Errorf("gaps = %+v", list)
	}
}

// TestScanPerTableErrorAndScopeError: a failed DescribeTable is ERROR for
// that table only; a failed ListTables is one ERROR for the scope.
func TestScanPerTableErrorAndScopeError(t *testing.T) {
	scope := check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fixture(), scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	got := map[string]model.Status{}
	for _, r := range results {
		got[r.ResourceID] = r.Status
	}
	if want := map[string]model.Status{"owned": model.StatusFail, "managed": model.StatusPass, "denied": model.StatusError}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Resource != "denied" ||
		cov.Failures[0].Code != "AccessDeniedException" || cov.Error != "DescribeTable denied: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}

	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{listErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, scope, gaps)
	}
	results, cov = svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["missing_part"] != PartTables {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "ListTables: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}
}

package sqs

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "sqs-queue-unencrypted"

func TestQueueUnencrypted(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartQueues}) || !reflect.DeepEqual(c.Reads, []string{PartQueueAttributes}) ||
		c.Severity != model.SeverityMedium || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v needs %v reads %v", c.Meta, c.Needs, c.Reads)
	}
	const arn = "arn:aws:sqs:eu-west-1:111122223333:jobs"
	tests := []struct {
		name      string
		queue     Queue
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"SSE-SQS off, no key", Queue{Name: "jobs", ARN: arn, SQSManagedSSE: aws.Bool(false)}, "aws",
			model.StatusFail, arn, "SQS queue jobs is not encrypted: neither SSE-SQS nor a KMS key is set",
			map[string]any{"sqs_managed_sse_enabled": false, "kms_master_key_id": "absent"}},
		{"no attributes reported", Queue{Name: "jobs", ARN: arn}, "aws",
			model.StatusFail, arn, "SQS queue jobs is not encrypted: neither SSE-SQS nor a KMS key is set",
			map[string]any{"sqs_managed_sse_enabled": "absent", "kms_master_key_id": "absent"}},
		{"SSE-SQS", Queue{Name: "jobs", ARN: arn, SQSManagedSSE: aws.Bool(true)}, "aws",
			model.StatusPass, arn, "SQS queue jobs is encrypted with SQS-managed keys (SSE-SQS)",
			map[string]any{"sqs_managed_sse_enabled": true, "kms_master_key_id": "absent"}},
		{"SSE-KMS", Queue{Name: "jobs", ARN: arn, SQSManagedSSE: aws.Bool(false), KMSMasterKeyID: "alias/aws/sqs"}, "aws",
			model.StatusPass, arn, "SQS queue jobs is encrypted with KMS key alias/aws/sqs (SSE-KMS)",
			map[string]any{"sqs_managed_sse_enabled": false, "kms_master_key_id": "alias/aws/sqs"}},
		{"attributes failed", Queue{Name: "jobs", Error: "AccessDenied: no"}, "aws",
			model.StatusError, arn, "cannot decide whether SQS queue jobs is encrypted: GetQueueAttributes failed: AccessDenied: no",
			map[string]any{"operation": "GetQueueAttributes", "error": "AccessDenied: no"}},
		{"no ARN: built with the partition", Queue{Name: "jobs"}, "aws-cn",
			model.StatusFail, "arn:aws-cn:sqs:eu-west-1:111122223333:jobs", "SQS queue jobs is not encrypted: neither SSE-SQS nor a KMS key is set",
			map[string]any{"sqs_managed_sse_enabled": "absent", "kms_master_key_id": "absent"}},
		{"partition defaults to aws", Queue{Name: "jobs", SQSManagedSSE: aws.Bool(true)}, "",
			model.StatusPass, arn, "SQS queue jobs is encrypted with SQS-managed keys (SSE-SQS)",
			map[string]any{"sqs_managed_sse_enabled": true, "kms_master_key_id": "absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Queues: []Queue{tt.queue}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "jobs" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no queues: %d findings", len(got))
	}
}

// fakeAPI serves queue URLs in pages keyed by NextToken, and attributes or
// an error per queue URL. It records the attribute names asked for.
type fakeAPI struct {
	pages   map[string]*sqs.ListQueuesOutput
	listErr error
	attrs   map[string]map[string]string
	errs    map[string]error

	mu    *sync.Mutex
	asked *[][]types.QueueAttributeName
}

func (f fakeAPI) ListQueues(_ context.Context, in *sqs.ListQueuesInput, _ ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.pages[aws.ToString(in.NextToken)], nil
}

func (f fakeAPI) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	*f.asked = append(*f.asked, in.AttributeNames)
	f.mu.Unlock()
	u := aws.ToString(in.QueueUrl)
	if err := f.errs[u]; err != nil {
		return nil, err
	}
	return &sqs.GetQueueAttributesOutput{Attributes: f.attrs[u]}, nil
}

const base = "https://sqs.eu-west-1.amazonaws.com/111122223333/"

func fixture() fakeAPI {
	return fakeAPI{
		pages: map[string]*sqs.ListQueuesOutput{
			"":   {QueueUrls: []string{base + "plain", base + "sse"}, NextToken: aws.String("t2")},
			"t2": {QueueUrls: []string{base + "kms", base + "denied", base + "deleted"}},
		},
		attrs: map[string]map[string]string{
			base + "plain": {"SqsManagedSseEnabled": "false", "QueueArn": "arn:plain"},
			base + "sse":   {"SqsManagedSseEnabled": "true", "QueueArn": "arn:sse"},
			base + "kms":   {"KmsMasterKeyId": "alias/aws/sqs"},
		},
		errs: map[string]error{
			base + "denied":  &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"},
			base + "deleted": &types.QueueDoesNotExist{Message: aws.String("gone")},
		},
		mu: &sync.Mutex{}, asked: &[][]types.QueueAttributeName{},
	}
}

// TestCollect: every page is listed and each queue's encryption attributes
// (only those, and the ARN) are read; a denied queue carries its error and a
// gap, a queue deleted since the list is dropped.
func TestCollect(t *testing.T) {
	api := fixture()
	gaps := &check.Gaps{}
	inv := collect(context.Background(), api, check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)
	want := []Queue{
		{Name: "plain", URL: base + "plain", ARN: "arn:plain", SQSManagedSSE: aws.Bool(false)},
		{Name: "sse", URL: base + "sse", ARN: "arn:sse", SQSManagedSSE: aws.Bool(true)},
		{Name: "kms", URL: base + "kms", KMSMasterKeyID: "alias/aws/sqs"},
		{Name: "denied", URL: base + "denied", Error: "AccessDenied: no"},
	}
	if !reflect.DeepEqual(inv.Queues, want) {
		t.Errorf("queues = %+v, want %+v", inv.Queues, want)
	}
	list := gaps.List()
	if len(list) != 1 || list[0].Part != PartQueueAttributes || list[0].Operation != "GetQueueAttributes" || list[0].Resource != "denied" {
		t.Errorf("gaps = %+v", list)
	}
	wantNames := []types.QueueAttributeName{"SqsManagedSseEnabled", "KmsMasterKeyId", "QueueArn"}
	if len(*api.asked) != 5 {
		t.Errorf("GetQueueAttributes calls = %d, want 5", len(*api.asked))
	}
	for _, names := range *api.asked {
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("attribute names = %v, want %v", names, wantNames)
		}
	}
}

// TestScanPerQueueErrorAndScopeError: a failed GetQueueAttributes is ERROR
// for that queue only; a failed ListQueues is one ERROR for the scope.
func TestScanPerQueueErrorAndScopeError(t *testing.T) {
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
	want := map[string]model.Status{"plain": model.StatusFail, "sse": model.StatusPass, "kms": model.StatusPass, "denied": model.StatusError}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Error != "GetQueueAttributes denied: AccessDenied: no" {
		t.Errorf("coverage = %+v", cov)
	}

	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{listErr: &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}}, scope, gaps)
	}
	results, cov = svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["missing_part"] != PartQueues {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "ListQueues: AccessDenied: no" {
		t.Errorf("coverage = %+v", cov)
	}
}

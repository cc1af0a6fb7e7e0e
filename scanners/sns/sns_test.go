package sns

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "sns-topic-unencrypted"

func TestTopicUnencrypted(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartTopics}) || !reflect.DeepEqual(c.Reads, []string{PartTopicAttributes}) ||
		c.Severity != model.SeverityMedium || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v needs %v reads %v", c.Meta, c.Needs, c.Reads)
	}
	const arn = "arn:aws:sns:eu-west-1:111122223333:alerts"
	tests := []struct {
		name      string
		topic     Topic
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"no key", Topic{Name: "alerts", ARN: arn}, "aws",
			model.StatusFail, arn, "SNS topic alerts is not encrypted: it has no KmsMasterKeyId", map[string]any{"kms_master_key_id": "absent"}},
		{"KMS key", Topic{Name: "alerts", ARN: arn, KMSMasterKeyID: "alias/aws/sns"}, "aws",
			model.StatusPass, arn, "SNS topic alerts is encrypted with KMS key alias/aws/sns", map[string]any{"kms_master_key_id": "alias/aws/sns"}},
		{"attributes failed", Topic{Name: "alerts", ARN: arn, Error: "AuthorizationError: no"}, "aws",
			model.StatusError, arn, "cannot decide whether SNS topic alerts is encrypted: GetTopicAttributes failed: AuthorizationError: no",
			map[string]any{"operation": "GetTopicAttributes", "error": "AuthorizationError: no"}},
		{"no ARN: built with the partition", Topic{Name: "alerts"}, "aws-cn",
			model.StatusFail, "arn:aws-cn:sns:eu-west-1:111122223333:alerts", "SNS topic alerts is not encrypted: it has no KmsMasterKeyId", map[string]any{"kms_master_key_id": "absent"}},
		{"partition defaults to aws", Topic{Name: "alerts"}, "",
			model.StatusFail, arn, "SNS topic alerts is not encrypted: it has no KmsMasterKeyId", map[string]any{"kms_master_key_id": "absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Topics: []Topic{tt.topic}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "alerts" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no topics: %d findings", len(got))
	}
}

// fakeAPI serves topics in pages keyed by NextToken, and attributes or an
// error per topic ARN.
type fakeAPI struct {
	pages   map[string]*sns.ListTopicsOutput
	listErr error
	attrs   map[string]map[string]string
	errs    map[string]error
}

func (f fakeAPI) ListTopics(_ context.Context, in *sns.ListTopicsInput, _ ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.pages[aws.ToString(in.NextToken)], nil
}

func (f fakeAPI) GetTopicAttributes(_ context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	a := aws.ToString(in.TopicArn)
	if err := f.errs[a]; err != nil {
		return nil, err
	}
	return &sns.GetTopicAttributesOutput{Attributes: f.attrs[a]}, nil
}

const prefix = "arn:aws:sns:eu-west-1:111122223333:"

func topics(names ...string) []types.Topic {
	var out []types.Topic
	for _, n := range names {
		out = append(out, types.Topic{TopicArn: aws.String(prefix + n)})
	}
	return out
}

func fixture() fakeAPI {
	return fakeAPI{
		pages: map[string]*sns.ListTopicsOutput{
			"":   {Topics: topics("plain", "enc"), NextToken: aws.String("t2")},
			"t2": {Topics: topics("denied", "deleted")},
		},
		attrs: map[string]map[string]string{
			prefix + "plain": {"TopicArn": prefix + "plain", "DisplayName": "x"},
			prefix + "enc":   {"TopicArn": prefix + "enc", "KmsMasterKeyId": "alias/aws/sns"},
		},
		errs: map[string]error{
			prefix + "denied":  &smithy.GenericAPIError{Code: "AuthorizationError", Message: "no"},
			prefix + "deleted": &types.NotFoundException{Message: aws.String("gone")},
		},
	}
}

// TestCollect: every page is listed, each topic's attributes read; a denied
// topic carries its error and a gap, a topic deleted since the list is
// dropped.
func TestCollect(t *testing.T) {
	gaps := &check.Gaps{}
	inv := collect(context.Background(), fixture(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)
	want := []Topic{
		{Name: "plain", ARN: prefix + "plain"},
		{Name: "enc", ARN: prefix + "enc", KMSMasterKeyID: "alias/aws/sns"},
		{Name: "denied", ARN: prefix + "denied", Error: "AuthorizationError: no"},
	}
	if !reflect.DeepEqual(inv.Topics, want) {
		t.Errorf("topics = %+v, want %+v", inv.Topics, want)
	}
	list := gaps.List()
	if len(list) != 1 || list[0].Part != PartTopicAttributes || list[0].Operation != "GetTopicAttributes" || list[0].Resource != "denied" {
		t.Errorf("gaps = %+v", list)
	}
}

// TestScanPerTopicErrorAndScopeError: a failed GetTopicAttributes is ERROR
// for that topic only; a failed ListTopics is one ERROR for the scope.
func TestScanPerTopicErrorAndScopeError(t *testing.T) {
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
	if want := map[string]model.Status{"plain": model.StatusFail, "enc": model.StatusPass, "denied": model.StatusError}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Error != "GetTopicAttributes denied: AuthorizationError: no" {
		t.Errorf("coverage = %+v", cov)
	}

	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{listErr: &smithy.GenericAPIError{Code: "AuthorizationError", Message: "no"}}, scope, gaps)
	}
	results, cov = svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["missing_part"] != PartTopics {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "ListTopics: AuthorizationError: no" {
		t.Errorf("coverage = %+v", cov)
	}
}

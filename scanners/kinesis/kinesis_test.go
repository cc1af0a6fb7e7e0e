package kinesis

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "kinesis-stream-unencrypted"

func TestStreamUnencrypted(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartStreams}) || !reflect.DeepEqual(c.Reads, []string{PartStreamSummaries}) ||
		c.Severity != model.SeverityMedium || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v needs %v reads %v", c.Meta, c.Needs, c.Reads)
	}
	const arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/clicks"
	tests := []struct {
		name      string
		stream    Stream
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"NONE", Stream{Name: "clicks", ARN: arn, EncryptionType: "NONE"}, "aws",
			model.StatusFail, arn, "Kinesis stream clicks is not encrypted at rest (encryption type NONE)",
			map[string]any{"encryption_type": "NONE", "key_id": "absent"}},
		{"not reported", Stream{Name: "clicks", ARN: arn}, "aws",
			model.StatusFail, arn, "Kinesis stream clicks is not encrypted at rest (encryption type absent)",
			map[string]any{"encryption_type": "absent", "key_id": "absent"}},
		{"KMS", Stream{Name: "clicks", ARN: arn, EncryptionType: "KMS", KeyID: "alias/aws/kinesis"}, "aws",
			model.StatusPass, arn, "Kinesis stream clicks is encrypted at rest (KMS, key alias/aws/kinesis)",
			map[string]any{"encryption_type": "KMS", "key_id": "alias/aws/kinesis"}},
		{"summary failed", Stream{Name: "clicks", ARN: arn, Error: "AccessDeniedException: no"}, "aws",
			model.StatusError, arn, "cannot decide whether Kinesis stream clicks is encrypted: DescribeStreamSummary failed: AccessDeniedException: no",
			map[string]any{"operation": "DescribeStreamSummary", "error": "AccessDeniedException: no"}},
		{"no ARN: built with the partition", Stream{Name: "clicks", EncryptionType: "NONE"}, "aws-cn",
			model.StatusFail, "arn:aws-cn:kinesis:eu-west-1:111122223333:stream/clicks", "Kinesis stream clicks is not encrypted at rest (encryption type NONE)",
			map[string]any{"encryption_type": "NONE", "key_id": "absent"}},
		{"partition defaults to aws", Stream{Name: "clicks", EncryptionType: "KMS", KeyID: "k"}, "",
			model.StatusPass, arn, "Kinesis stream clicks is encrypted at rest (KMS, key k)",
			map[string]any{"encryption_type": "KMS", "key_id": "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Streams: []Stream{tt.stream}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "clicks" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no streams: %d findings", len(got))
	}
}

// fakeAPI serves streams in pages keyed by NextToken, and a summary or an
// error per stream name.
type fakeAPI struct {
	pages     map[string]*kinesis.ListStreamsOutput
	listErr   error
	summaries map[string]*types.StreamDescriptionSummary
	errs      map[string]error
}

func (f fakeAPI) ListStreams(_ context.Context, in *kinesis.ListStreamsInput, _ ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.pages[aws.ToString(in.NextToken)], nil
}

func (f fakeAPI) DescribeStreamSummary(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	n := aws.ToString(in.StreamName)
	if err := f.errs[n]; err != nil {
		return nil, err
	}
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: f.summaries[n]}, nil
}

func fixture() fakeAPI {
	return fakeAPI{
		pages: map[string]*kinesis.ListStreamsOutput{
			// A page with summaries (which carry the ARN) and names.
			"": {StreamNames: []string{"plain", "enc"}, StreamSummaries: []types.StreamSummary{
				{StreamName: aws.String("plain"), StreamARN: aws.String("arn:plain")},
				{StreamName: aws.String("enc"), StreamARN: aws.String("arn:enc")},
			}, HasMoreStreams: aws.Bool(true), NextToken: aws.String("t2")},
			// A page with names only, repeating one already seen.
			"t2": {StreamNames: []string{"enc", "denied", "deleted"}},
		},
		summaries: map[string]*types.StreamDescriptionSummary{
			"plain": {StreamName: aws.String("plain"), StreamARN: aws.String("arn:plain"), EncryptionType: types.EncryptionTypeNone},
			"enc":   {StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")},
		},
		errs: map[string]error{
			"denied":  &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"},
			"deleted": &types.ResourceNotFoundException{Message: aws.String("gone")},
		},
	}
}

// TestCollect: every page is listed (summaries when a page has them, else
// names, each stream once) and each stream summarised; a denied stream
// carries its error and a gap, a stream deleted since the list is dropped.
func TestCollect(t *testing.T) {
	gaps := &check.Gaps{}
	inv := collect(context.Background(), fixture(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)
	want := []Stream{
		{Name: "plain", ARN: "arn:plain", EncryptionType: "NONE"},
		{Name: "enc", ARN: "arn:enc", EncryptionType: "KMS", KeyID: "alias/aws/kinesis"},
		{Name: "denied", Error: "AccessDeniedException: no"},
	}
	if !reflect.DeepEqual(inv.Streams, want) {
		t.Errorf("streams = %+v, want %+v", inv.Streams, want)
	}
	list := gaps.List()
	if len(list) != 1 || list[0].Part != PartStreamSummaries || list[0].Operation != "DescribeStreamSummary" || list[0].Resource != "denied" {
		t.Errorf("gaps = %+v", list)
	}
}

// TestScanPerStreamErrorAndScopeError: a failed DescribeStreamSummary is
// ERROR for that stream only; a failed ListStreams is one ERROR for the scope.
func TestScanPerStreamErrorAndScopeError(t *testing.T) {
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
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Error != "DescribeStreamSummary denied: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}

	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{listErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, scope, gaps)
	}
	results, cov = svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["missing_part"] != PartStreams {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "ListStreams: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}
}

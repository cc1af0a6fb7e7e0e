package cloudtrail

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "cloudtrail-trail-not-kms-encrypted"

func TestTrailNotKMSEncrypted(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartTrails}) || c.Severity != model.SeverityMedium || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v", c.Meta)
	}
	const arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit"
	tests := []struct {
		name      string
		trail     Trail
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"no KMS key", Trail{Name: "audit", ARN: arn, HomeRegion: "eu-west-1", IsMultiRegion: true}, "aws",
			model.StatusFail, arn, "CloudTrail trail audit has no KMS key: its log files are encrypted with S3-managed keys only",
			map[string]any{"kms_key_id": "absent", "is_multi_region_trail": true, "home_region": "eu-west-1"}},
		{"KMS key", Trail{Name: "audit", ARN: arn, HomeRegion: "eu-west-1", KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k"}, "aws",
			model.StatusPass, arn, "CloudTrail trail audit encrypts its log files with KMS key arn:aws:kms:eu-west-1:111122223333:key/k",
			map[string]any{"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/k", "is_multi_region_trail": false, "home_region": "eu-west-1"}},
		{"organization trail", Trail{Name: "audit", ARN: arn, HomeRegion: "eu-west-1", IsMultiRegion: true, IsOrganizationTrail: true}, "aws",
			model.StatusFail, arn, "CloudTrail trail audit has no KMS key: its log files are encrypted with S3-managed keys only",
			map[string]any{"kms_key_id": "absent", "is_multi_region_trail": true, "home_region": "eu-west-1", "is_organization_trail": true}},
		{"no ARN: built with the partition", Trail{Name: "audit", HomeRegion: "eu-west-1"}, "aws-cn",
			model.StatusFail, "arn:aws-cn:cloudtrail:eu-west-1:111122223333:trail/audit", "CloudTrail trail audit has no KMS key: its log files are encrypted with S3-managed keys only",
			map[string]any{"kms_key_id": "absent", "is_multi_region_trail": false, "home_region": "eu-west-1"}},
		{"partition defaults to aws", Trail{Name: "audit", HomeRegion: "eu-west-1"}, "",
			model.StatusFail, arn, "CloudTrail trail audit has no KMS key: its log files are encrypted with S3-managed keys only",
			map[string]any{"kms_key_id": "absent", "is_multi_region_trail": false, "home_region": "eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Trails: []Trail{tt.trail}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "audit" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no trails: %d findings", len(got))
	}
}

type fakeAPI struct {
	trails []types.Trail
	err    error
	inputs *[]*cloudtrail.DescribeTrailsInput
}

func (f fakeAPI) DescribeTrails(_ context.Context, in *cloudtrail.DescribeTrailsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	*f.inputs = append(*f.inputs, in)
	if f.err != nil {
		return nil, f.err
	}
	return &cloudtrail.DescribeTrailsOutput{TrailList: f.trails}, nil
}

// TestCollectHomeTrailsOnly: the collector asks for no shadow trails, and
// drops any trail whose home is another region should one come back anyway.
func TestCollectHomeTrailsOnly(t *testing.T) {
	var inputs []*cloudtrail.DescribeTrailsInput
	api := fakeAPI{inputs: &inputs, trails: []types.Trail{
		{Name: aws.String("local"), TrailARN: aws.String("arn:local"), HomeRegion: aws.String("eu-west-1"), KmsKeyId: aws.String("k"), IsOrganizationTrail: aws.Bool(true)},
		{Name: aws.String("shadow"), TrailARN: aws.String("arn:shadow"), HomeRegion: aws.String("us-east-1"), IsMultiRegionTrail: aws.Bool(true)},
		{Name: aws.String("no-home")},
	}}
	gaps := &check.Gaps{}
	inv := collect(context.Background(), api, check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, gaps)
	want := []Trail{
		{Name: "local", ARN: "arn:local", HomeRegion: "eu-west-1", IsOrganizationTrail: true, KMSKeyID: "k"},
		{Name: "no-home", HomeRegion: "eu-west-1"},
	}
	if !reflect.DeepEqual(inv.Trails, want) || len(gaps.List()) != 0 {
		t.Errorf("trails = %+v (gaps %+v), want %+v", inv.Trails, gaps.List(), want)
	}
	if len(inputs) != 1 || inputs[0].IncludeShadowTrails == nil || *inputs[0].IncludeShadowTrails {
		t.Errorf("DescribeTrails inputs = %+v, want one with IncludeShadowTrails=false", inputs)
	}
}

func TestDescribeFailureIsAScopeError(t *testing.T) {
	var inputs []*cloudtrail.DescribeTrailsInput
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{inputs: &inputs, err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["error_code"] != "AccessDeniedException" {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeTrails: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}
}

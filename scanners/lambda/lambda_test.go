package lambda

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestFunctionOutsideVPC(t *testing.T) {
	const arn = "arn:aws:lambda:eu-west-1:111122223333:function:resize"
	tests := []struct {
		name      string
		fn        Function
		partition string
		arn       string
		status    model.Status
		msg       string
		evidence  map[string]any
	}{
		{"in a VPC", Function{Name: "resize", ARN: arn, VPCID: "vpc-1", SubnetIDs: []string{"subnet-1", "subnet-2"}, SecurityGroupIDs: []string{"sg-1"}}, "aws", arn,
			model.StatusPass, "Lambda function resize is connected to 2 subnet(s) of VPC vpc-1",
			map[string]any{"vpc_id": "vpc-1", "subnet_ids": []string{"subnet-1", "subnet-2"}}},
		{"subnets, VPC not reported", Function{Name: "resize", ARN: arn, SubnetIDs: []string{"subnet-1"}}, "aws", arn,
			model.StatusPass, "Lambda function resize is connected to 1 subnet(s) of a VPC",
			map[string]any{"vpc_id": "", "subnet_ids": []string{"subnet-1"}}},
		{"no VpcConfig", Function{Name: "resize", ARN: arn}, "aws", arn,
			model.StatusFail, "Lambda function resize has no VPC subnets: it is not connected to a VPC",
			map[string]any{"vpc_id": "", "subnet_ids": []string{}}},
		{"VpcConfig without subnets", Function{Name: "resize", ARN: arn, VPCID: "vpc-1", SubnetIDs: []string{}}, "aws", arn,
			model.StatusFail, "Lambda function resize has no VPC subnets: it is not connected to a VPC",
			map[string]any{"vpc_id": "vpc-1", "subnet_ids": []string{}}},
		{"ARN not reported: built with the partition", Function{Name: "resize"}, "aws-us-gov", "arn:aws-us-gov:lambda:eu-west-1:111122223333:function:resize",
			model.StatusFail, "Lambda function resize has no VPC subnets: it is not connected to a VPC",
			map[string]any{"vpc_id": "", "subnet_ids": []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, Functions: []Function{tt.fn}}
			c, ok := check.Lookup(Checks(), "lambda-function-outside-vpc")
			if !ok {
				t.Fatal("no check lambda-function-outside-vpc")
			}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "resize" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := Checks()[0].Eval(&Inventory{}); len(got) != 0 {
		t.Errorf("no functions: %+v", got)
	}
}

// fakeAPI serves the functions in pages and records the calls.
type fakeAPI struct {
	pages [][]types.FunctionConfiguration
	err   error
	calls int
}

func (f *fakeAPI) ListFunctions(_ context.Context, in *lambda.ListFunctionsInput, _ ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	i := 0
	if aws.ToString(in.Marker) == "page-2" {
		i = 1
	}
	out := &lambda.ListFunctionsOutput{Functions: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextMarker = aws.String("page-2")
	}
	return out, nil
}

func TestCollectEveryPage(t *testing.T) {
	api := &fakeAPI{pages: [][]types.FunctionConfiguration{
		{{FunctionName: aws.String("resize"), FunctionArn: aws.String("arn:resize"), Runtime: types.RuntimePython312,
			VpcConfig: &types.VpcConfigResponse{VpcId: aws.String("vpc-1"), SubnetIds: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}}}},
		{{FunctionName: aws.String("thumbs"), FunctionArn: aws.String("arn:thumbs")}},
	}}
	inv := collect(context.Background(), api, check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}, &check.Gaps{})
	want := []Function{
		{Name: "resize", ARN: "arn:resize", Runtime: "python3.12", VPCID: "vpc-1", SubnetIDs: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}},
		{Name: "thumbs", ARN: "arn:thumbs"},
	}
	if !reflect.DeepEqual(inv.Functions, want) || api.calls != 2 {
		t.Errorf("functions = %+v after %d calls, want %+v after 2", inv.Functions, api.calls, want)
	}
}

func TestListFailureIsScopeError(t *testing.T) {
	api := &fakeAPI{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to lambda:ListFunctions"}}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: "111122223333", Region: "eu-west-1"}, map[string]bool{"lambda-function-outside-vpc": true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["error_code"] != "AccessDeniedException" ||
		results[0].Evidence["missing_part"] != PartFunctions {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "ListFunctions: AccessDeniedException: not authorized to lambda:ListFunctions" {
		t.Errorf("coverage = %+v", cov)
	}
	// No check selected: no call at all.
	api.calls = 0
	if results, _ := svc.Scan(context.Background(), check.Scope{}, map[string]bool{}); len(results) != 0 || api.calls != 0 {
		t.Errorf("nothing selected: %d results, %d calls", len(results), api.calls)
	}
}

package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// handlerZip is a deployment package with one Python handler.
func handlerZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("index.py")
	if err == nil {
		_, err = f.Write([]byte("def handler(event, context):\n    return {}\n"))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatalf("build the deployment package: %v", err)
	}
	return buf.Bytes()
}

// TestLambdaOutsideVPCAgainstEmulator creates, in two regions, a function
// attached to two subnets of the default VPC, one without VpcConfig and one
// with an empty VpcConfig, and checks the exact results.
func TestLambdaOutsideVPCAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	// The emulator, like AWS, refuses a function whose execution role does
	// not exist.
	role, err := iam.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1")).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("thumbnailer"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatalf("create the execution role: %v", err)
	}
	code := handlerZip(t)
	want := map[scantest.Key]model.Status{}
	subnetsOf := map[string][]string{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := emutest.Config(t, srv.URL, region)
		c := lambda.NewFromConfig(cfg)
		vpc, subnets := emutest.DefaultSubnets(t, cfg)
		subnetsOf[region] = subnets
		// A VpcConfig needs security groups too (the emulator fails with a
		// 500 without them, after storing the function).
		sgs, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}},
		}})
		if err != nil || len(sgs.SecurityGroups) != 1 {
			t.Fatalf("default security group of %s: %v %+v", vpc, err, sgs)
		}
		sg := aws.ToString(sgs.SecurityGroups[0].GroupId)
		for name, fn := range map[string]struct {
			vpc  *types.VpcConfig
			want model.Status
		}{
			"resize-in-vpc":    {&types.VpcConfig{SubnetIds: subnets, SecurityGroupIds: []string{sg}}, model.StatusPass},
			"resize-no-vpc":    {nil, model.StatusFail},
			"resize-empty-vpc": {&types.VpcConfig{SubnetIds: []string{}, SecurityGroupIds: []string{}}, model.StatusFail},
		} {
			if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: role.Role.Arn, Handler: aws.String("index.handler"),
				Code: &types.FunctionCode{ZipFile: code}, VpcConfig: fn.vpc,
			}); err != nil {
				t.Fatalf("create function %s in %s: %v", name, region, err)
			}
			want[scantest.Key{Check: "lambda-function-outside-vpc", Region: region, Resource: name}] = fn.want
		}
	}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "lambda-function-outside-vpc")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "lambda-function-outside-vpc", want, nil)

	in := scantest.Find(t, scan, "lambda-function-outside-vpc", "eu-west-1", "resize-in-vpc")
	// The emulator reports a fixed VpcId (vpc-123abc), not the subnets' VPC;
	// only the subnets are compared.
	if got, _ := in.Evidence["subnet_ids"].([]string); !reflect.DeepEqual(got, subnetsOf["eu-west-1"]) ||
		in.ResourceARN != "arn:aws:lambda:eu-west-1:123456789012:function:resize-in-vpc" {
		t.Errorf("function in a VPC: %s %v", in.ResourceARN, in.Evidence)
	}
	out := scantest.Find(t, scan, "lambda-function-outside-vpc", "us-east-1", "resize-no-vpc")
	if got, _ := out.Evidence["subnet_ids"].([]string); len(got) != 0 || out.Evidence["vpc_id"] != "" ||
		out.Severity != model.SeverityLow || out.Family != model.FamilyOutsideVPC {
		t.Errorf("function outside a VPC: %+v", out)
	}
}

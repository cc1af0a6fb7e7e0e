// Package lambda collects the Lambda functions of one region and holds the
// checks that read them.
package lambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// PartFunctions is the inventory part holding the functions.
const PartFunctions = "functions"

// Inventory is what the Lambda scanner collects in one region.
type Inventory struct {
	AccountID string     `json:"account_id"`
	Region    string     `json:"region"`
	Partition string     `json:"partition"`
	Functions []Function `json:"functions"`
}

// Function is a Lambda function (its unpublished $LATEST version, which
// carries the function's configuration).
type Function struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	Runtime string `json:"runtime,omitempty"`
	// VPCID, SubnetIDs and SecurityGroupIDs are the function's VpcConfig;
	// all are empty for a function not connected to a VPC.
	VPCID            string   `json:"vpc_id,omitempty"`
	SubnetIDs        []string `json:"subnet_ids,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
}

// Scanner returns the Lambda scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "lambda", Collect: Collect, List: Checks()}
}

// API is the one Lambda call the collector makes, on the read-only
// allow-list (scanners/guard_test.go checks it).
type API interface {
	lambda.ListFunctionsAPIClient
}

// Collect lists the region's functions (every page). ListFunctions returns
// each function's environment variables, which may hold secrets: only the
// name, ARN, runtime and VpcConfig are copied out of a page, and the page is
// dropped before the next is read. GetFunction and GetFunctionConfiguration
// are never called (they are not on the read-only allow-list).
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, lambda.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartFunctions) {
		return inv
	}
	listed, err := paging.All(ctx, lambda.NewListFunctionsPaginator(api, &lambda.ListFunctionsInput{}),
		func(page *lambda.ListFunctionsOutput) []types.FunctionConfiguration { return page.Functions })
	if err != nil {
		gaps.Add(PartFunctions, "ListFunctions", "", err)
		return inv
	}
	for _, f := range listed {
		fn := Function{Name: aws.ToString(f.FunctionName), ARN: aws.ToString(f.FunctionArn), Runtime: string(f.Runtime)}
		if f.VpcConfig != nil {
			fn.VPCID = aws.ToString(f.VpcConfig.VpcId)
			fn.SubnetIDs = f.VpcConfig.SubnetIds
			fn.SecurityGroupIDs = f.VpcConfig.SecurityGroupIds
		}
		inv.Functions = append(inv.Functions, fn)
	}
	return inv
}

// Checks returns the Lambda checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "lambda-function-outside-vpc", Title: "Lambda function is not connected to a VPC",
				Family: model.FamilyOutsideVPC, Service: "lambda", Severity: model.SeverityLow, ResourceType: "AWS::Lambda::Function",
				Rationale:   "A function without VPC subnets reaches the internet and AWS APIs directly: its traffic bypasses the account's security groups, network ACLs, VPC endpoints and flow logs.",
				Remediation: "Attach the function to private subnets of a VPC and a security group (VpcConfig), with VPC endpoints or a NAT gateway for what it must reach.",
				References:  []string{"https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-3"},
			},
			Needs: []string{PartFunctions},
			Eval:  outsideVPCCheck,
		},
	}
}

// outsideVPCCheck fails a function whose VpcConfig is missing or lists no
// subnet: only subnets connect a function to a VPC.
func outsideVPCCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, f := range inv.Functions {
		arn := f.ARN
		if arn == "" {
			arn = check.ARN(inv.Partition, "lambda", inv.Region, inv.AccountID, "function:"+f.Name)
		}
		subnets := f.SubnetIDs
		if subnets == nil {
			subnets = []string{}
		}
		evidence := map[string]any{"vpc_id": f.VPCID, "subnet_ids": subnets}
		if len(f.SubnetIDs) == 0 {
			out = append(out, check.Fail(f.Name, arn, fmt.Sprintf("Lambda function %s has no VPC subnets: it is not connected to a VPC", f.Name), evidence))
			continue
		}
		msg := fmt.Sprintf("Lambda function %s is connected to %d subnet(s) of a VPC", f.Name, len(f.SubnetIDs))
		if f.VPCID != "" {
			msg = fmt.Sprintf("Lambda function %s is connected to %d subnet(s) of VPC %s", f.Name, len(f.SubnetIDs), f.VPCID)
		}
		out = append(out, check.Pass(f.Name, arn, msg, evidence))
	}
	return out
}

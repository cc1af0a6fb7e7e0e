package lambda_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/scantest"
	posturelambda "github.com/posture-dev/posture/scanners/lambda"
)

// TestEnvironmentIsNeverKept: ListFunctions returns each function's
// environment variables; the inventory and the scan keep none of them.
func TestEnvironmentIsNeverKept(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	const secret = "s3cr3t-value-4f1c9e"
	admin := emutest.Config(t, srv.URL, "us-east-1")
	role, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("env-holder"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatalf("create the execution role: %v", err)
	}
	if _, err := lambda.NewFromConfig(admin).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("with-secret"), Runtime: types.RuntimePython312, Role: role.Role.Arn, Handler: aws.String("index.handler"),
		Code:        &types.FunctionCode{ZipFile: handlerZip(t)},
		Environment: &types.Environment{Variables: map[string]string{"SECRET": secret, "DB_PASSWORD": secret}},
	}); err != nil {
		t.Fatalf("create the function: %v", err)
	}
	// The list call itself carries the values: the test would prove
	// nothing if it did not.
	listed, err := lambda.NewFromConfig(admin).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(listed.Functions) != 1 || listed.Functions[0].Environment == nil || listed.Functions[0].Environment.Variables["SECRET"] != secret {
		t.Fatalf("ListFunctions does not return the environment: %v %+v", err, listed)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: "us-east-1", EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var gaps check.Gaps
	inv := posturelambda.Collect(ctx, check.Scope{AccountID: "123456789012", Partition: "aws", Region: "us-east-1", Config: cfg}, &gaps)
	if len(inv.Functions) != 1 || inv.Functions[0].Name != "with-secret" {
		t.Fatalf("inventory: %+v", inv)
	}
	data, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) || strings.Contains(string(data), "SECRET") || strings.Contains(string(data), "DB_PASSWORD") {
		t.Errorf("the inventory keeps the environment: %s", data)
	}

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1"}, "lambda-function-outside-vpc")
	doc, err := json.Marshal(scan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "with-secret") {
		t.Fatal("the scan does not report the function")
	}
	if strings.Contains(string(doc), secret) || strings.Contains(string(doc), "DB_PASSWORD") {
		t.Error("scan.json carries an environment variable")
	}
}

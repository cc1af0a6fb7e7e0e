// Package dynamodb collects the DynamoDB tables of one region with their
// encryption settings and holds the checks that read them.
package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartTables is the list of the region's tables (ListTables).
	PartTables = "tables"
	// PartTableDescriptions is each table's description (DescribeTable); a
	// table whose description failed carries the error.
	PartTableDescriptions = "table-descriptions"
)

// Inventory is what the DynamoDB scanner collects in one region.
type Inventory struct {
	AccountID string  `json:"account_id"`
	Region    string  `json:"region"`
	Partition string  `json:"partition"`
	Tables    []Table `json:"tables"`
}

// Table is a DynamoDB table.
type Table struct {
	Name string `json:"name"`
	// ARN is the TableArn DescribeTable returned; empty when it gave none.
	ARN string `json:"arn,omitempty"`
	// SSE is the table's server-side encryption description; nil when
	// DescribeTable returned none, which means the AWS-owned key.
	SSE *SSE `json:"sse,omitempty"`
	// Error is set when the table could not be described.
	Error string `json:"error,omitempty"`
}

// SSE is a table's server-side encryption description.
type SSE struct {
	Status          string `json:"status"`
	Type            string `json:"type"`
	KMSMasterKeyARN string `json:"kms_master_key_arn,omitempty"`
}

// Scanner returns the DynamoDB scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "dynamodb", Collect: Collect, List: Checks()}
}

// API is the DynamoDB calls the collector makes: each is on the read-only allow-list
// (scanners/guard_test.go checks it).
type API interface {
	dynamodb.ListTablesAPIClient
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Collect lists the region's tables (every page) and describes each one,
// with bounded concurrency: only DescribeTable returns the encryption.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, dynamodb.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, c API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartTables) {
		return inv
	}
	names, err := paging.All(ctx, dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{}),
		func(page *dynamodb.ListTablesOutput) []string { return page.TableNames })
	if err != nil {
		gaps.Add(PartTables, "ListTables", "", fmt.Errorf("list DynamoDB tables in %s: %w", scope.Region, err))
		return inv
	}
	var tables []Table
	for _, n := range names {
		tables = append(tables, Table{Name: n})
	}
	if scope.Wants(PartTableDescriptions) {
		tables = fanout.Fill(ctx, tables, scope.CallConcurrency, func(ctx context.Context, t *Table) bool {
			return describe(ctx, c, t, gaps)
		})
	}
	inv.Tables = tables
	return inv
}

// describe fills t from DescribeTable. It reports whether the table was
// deleted since it was listed, and so is no longer in scope.
func describe(ctx context.Context, c API, t *Table, gaps *check.Gaps) (gone bool) {
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return true
	case err != nil:
		gaps.Add(PartTableDescriptions, "DescribeTable", t.Name, fmt.Errorf("describe DynamoDB table %s: %w", t.Name, err))
		t.Error = check.ErrorText(err)
		return false
	case out.Table == nil:
		return false
	}
	t.ARN = aws.ToString(out.Table.TableArn)
	if d := out.Table.SSEDescription; d != nil {
		t.SSE = &SSE{Status: string(d.Status), Type: string(d.SSEType), KMSMasterKeyARN: aws.ToString(d.KMSMasterKeyArn)}
	}
	return false
}

// Checks returns the DynamoDB checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "dynamodb-table-default-key", Title: "DynamoDB table is encrypted with the AWS-owned key, not a KMS key",
				Family: model.FamilyUnencrypted, Service: "dynamodb", Severity: model.SeverityLow, ResourceType: "AWS::DynamoDB::Table",
				Rationale:   "Every table is encrypted at rest, but with the AWS-owned key the account can neither see nor audit the key's use, nor revoke access to the data by disabling it; a KMS key (AWS managed or customer managed) is logged in CloudTrail and governed by a key policy.",
				Remediation: "Update the table's SSESpecification to Enabled=true, SSEType=KMS, with the aws/dynamodb key or a customer managed key.",
				References:  []string{"https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html", "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html"},
			},
			Needs: []string{PartTables},
			Reads: []string{PartTableDescriptions},
			Eval:  defaultKeyCheck,
		},
	}
}

func defaultKeyCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, t := range inv.Tables {
		a := t.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "dynamodb", inv.Region, inv.AccountID, "table/"+t.Name)
		}
		if t.Error != "" {
			out = append(out, check.Error(t.Name, a, fmt.Sprintf("cannot decide which key encrypts DynamoDB table %s: DescribeTable failed: %s", t.Name, t.Error),
				map[string]any{"operation": "DescribeTable", "error": t.Error}))
			continue
		}
		if t.SSE == nil {
			out = append(out, check.Fail(t.Name, a, fmt.Sprintf("DynamoDB table %s is encrypted with the AWS-owned key (no SSE description)", t.Name),
				map[string]any{"sse_description": "absent"}))
			continue
		}
		evidence := map[string]any{"sse_status": check.OrAbsent(t.SSE.Status), "sse_type": check.OrAbsent(t.SSE.Type), "kms_master_key_arn": check.OrAbsent(t.SSE.KMSMasterKeyARN)}
		if t.SSE.Status != string(types.SSEStatusEnabled) || t.SSE.Type != string(types.SSETypeKms) {
			out = append(out, check.Fail(t.Name, a, fmt.Sprintf("DynamoDB table %s is not encrypted with a KMS key (SSE status %s, type %s)", t.Name, check.OrAbsent(t.SSE.Status), check.OrAbsent(t.SSE.Type)), evidence))
			continue
		}
		out = append(out, check.Pass(t.Name, a, fmt.Sprintf("DynamoDB table %s is encrypted with KMS key %s", t.Name, check.OrAbsent(t.SSE.KMSMasterKeyARN)), evidence))
	}
	return out
}

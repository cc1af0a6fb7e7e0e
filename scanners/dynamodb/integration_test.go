package dynamodb_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "dynamodb-table-default-key"

var regions = []string{"us-east-1", "eu-west-1"}

// seed creates, in each region, a table with the AWS-owned key (the
// default), one where SSE is explicitly disabled (also the AWS-owned key),
// one with the AWS managed aws/dynamodb key and one with a customer key. It
// returns the expected results and the customer keys by region.
func seed(t *testing.T, url string) (map[scantest.Key]model.Status, map[string]string) {
	t.Helper()
	ctx := context.Background()
	want := map[scantest.Key]model.Status{}
	keys := map[string]string{}
	for _, region := range regions {
		cfg := emutest.Config(t, url, region)
		key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("create key in %s: %v", region, err)
		}
		keys[region] = aws.ToString(key.KeyMetadata.Arn)
		c := dynamodb.NewFromConfig(cfg)
		for name, sse := range map[string]*types.SSESpecification{
			"orders-owned":        nil,
			"orders-sse-disabled": {Enabled: aws.Bool(false)},
			"orders-aws-managed":  {Enabled: aws.Bool(true), SSEType: types.SSETypeKms},
			"orders-customer-key": {Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(keys[region])},
		} {
			_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(name),
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
				BillingMode:          types.BillingModePayPerRequest,
				SSESpecification:     sse,
			})
			if err != nil {
				t.Fatalf("create table %s in %s: %v", name, region, err)
			}
			st := model.StatusFail
			if sse != nil && aws.ToBool(sse.Enabled) {
				st = model.StatusPass
			}
			want[scantest.Key{Check: checkID, Region: region, Resource: name}] = st
		}
	}
	return want, keys
}

func TestDynamoDBDefaultKeyAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	want, keys := seed(t, srv.URL)
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	owned := scantest.Find(t, scan, checkID, "eu-west-1", "orders-owned")
	if owned.ResourceARN != "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-owned" || owned.Evidence["sse_description"] != "absent" {
		t.Errorf("AWS-owned-key table: %s %v", owned.ResourceARN, owned.Evidence)
	}
	customer := scantest.Find(t, scan, checkID, "us-east-1", "orders-customer-key")
	if customer.Evidence["sse_type"] != "KMS" || customer.Evidence["sse_status"] != "ENABLED" || customer.Evidence["kms_master_key_arn"] != keys["us-east-1"] {
		t.Errorf("customer-key table: %v", customer.Evidence)
	}
	// moto creates a key for the AWS managed case, as AWS uses aws/dynamodb.
	managed := scantest.Find(t, scan, checkID, "eu-west-1", "orders-aws-managed")
	if arn, _ := managed.Evidence["kms_master_key_arn"].(string); managed.Evidence["sse_type"] != "KMS" || !strings.HasPrefix(arn, "arn:aws:kms:eu-west-1:") {
		t.Errorf("AWS-managed-key table: %v", managed.Evidence)
	}
}

// TestDynamoDBDescribeDeniedForOneTable: DescribeTable denied for one table
// makes that table ERROR in both regions where it exists; the other tables
// are judged and the coverage names the failed call and table.
func TestDynamoDBDescribeDeniedForOneTable(t *testing.T) {
	srv := emutest.Fresh(t)
	want, _ := seed(t, srv.URL)
	for _, region := range regions {
		want[scantest.Key{Check: checkID, Region: region, Resource: "orders-aws-managed"}] = model.StatusError
	}
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{
		Service: "dynamodb", Action: "DescribeTable", BodyContains: `"TableName":"orders-aws-managed"`, Fault: faultproxy.AccessDenied,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	scan := scantest.Scan(t, p.URL, regions, checkID)
	scantest.ExpectExactly(t, scan, checkID, want, nil)
	denied := scantest.Find(t, scan, checkID, "us-east-1", "orders-aws-managed")
	if denied.ResourceARN != "arn:aws:dynamodb:us-east-1:123456789012:table/orders-aws-managed" ||
		!strings.Contains(denied.Message, "DescribeTable failed: AccessDeniedException") || denied.Evidence["operation"] != "DescribeTable" {
		t.Errorf("denied table: %s %q %v", denied.ResourceARN, denied.Message, denied.Evidence)
	}
	gaps := scan.Gaps()
	if len(gaps) != 2 {
		t.Fatalf("gaps: %+v", gaps)
	}
	for _, g := range gaps {
		if g.Service != "dynamodb" || len(g.Failures) != 1 || g.Failures[0].Resource != "orders-aws-managed" ||
			g.Failures[0].Operation != "DescribeTable" || g.Failures[0].Part != "table-descriptions" {
			t.Errorf("gap: %+v", g)
		}
	}
}

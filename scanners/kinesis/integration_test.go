package kinesis_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "kinesis-stream-unencrypted"

var regions = []string{"us-east-1", "eu-west-1"}

// seed creates, in each region, a stream without encryption, one encrypted
// with the aws/kinesis key and one with a customer key, and returns the
// expected results and the customer keys by region.
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
		c := kinesis.NewFromConfig(cfg)
		for name, keyID := range map[string]string{"clicks-plain": "", "clicks-aws-key": "alias/aws/kinesis", "clicks-customer-key": keys[region]} {
			if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatalf("create stream %s in %s: %v", name, region, err)
			}
			st := model.StatusFail
			if keyID != "" {
				st = model.StatusPass
				if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
					StreamName: aws.String(name), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyID),
				}); err != nil {
					t.Fatalf("encrypt stream %s in %s: %v", name, region, err)
				}
			}
			want[scantest.Key{Check: checkID, Region: region, Resource: name}] = st
		}
	}
	return want, keys
}

func TestKinesisUnencryptedAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	want, keys := seed(t, srv.URL)
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	plain := scantest.Find(t, scan, checkID, "eu-west-1", "clicks-plain")
	if plain.ResourceARN != "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks-plain" ||
		plain.Evidence["encryption_type"] != "NONE" || plain.Evidence["key_id"] != "absent" {
		t.Errorf("plain stream: %s %v", plain.ResourceARN, plain.Evidence)
	}
	customer := scantest.Find(t, scan, checkID, "us-east-1", "clicks-customer-key")
	if customer.Evidence["encryption_type"] != "KMS" || customer.Evidence["key_id"] != keys["us-east-1"] {
		t.Errorf("customer-key stream: %v", customer.Evidence)
	}
}

// TestKinesisSummaryDeniedForOneStream: DescribeStreamSummary denied for one
// stream (an encrypted one, so a clean scan would PASS it) makes that stream
// ERROR and leaves the others judged.
func TestKinesisSummaryDeniedForOneStream(t *testing.T) {
	srv := emutest.Fresh(t)
	want, _ := seed(t, srv.URL)
	ctx := context.Background()
	c := kinesis.NewFromConfig(emutest.Config(t, srv.URL, "eu-west-1"))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("clicks-denied"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamName: aws.String("clicks-denied"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis"),
	}); err != nil {
		t.Fatal(err)
	}
	want[scantest.Key{Check: checkID, Region: "eu-west-1", Resource: "clicks-denied"}] = model.StatusError
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{
		Service: "kinesis", Action: "DescribeStreamSummary", BodyContains: `"StreamName":"clicks-denied"`, Fault: faultproxy.AccessDenied,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	scan := scantest.Scan(t, p.URL, regions, checkID)
	scantest.ExpectExactly(t, scan, checkID, want, nil)
	denied := scantest.Find(t, scan, checkID, "eu-west-1", "clicks-denied")
	if denied.ResourceARN != "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks-denied" ||
		!strings.Contains(denied.Message, "DescribeStreamSummary failed: AccessDeniedException") {
		t.Errorf("denied stream: %s %q", denied.ResourceARN, denied.Message)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || gaps[0].Region != "eu-west-1" || gaps[0].Service != "kinesis" || len(gaps[0].Failures) != 1 ||
		gaps[0].Failures[0].Resource != "clicks-denied" || gaps[0].Failures[0].Operation != "DescribeStreamSummary" {
		t.Errorf("gaps: %+v", gaps)
	}
}

// TestKinesisListDeniedIsAScopeError: a failed ListStreams is one ERROR for
// each scanned region, never a clean PASS.
func TestKinesisListDeniedIsAScopeError(t *testing.T) {
	srv := emutest.Fresh(t)
	seed(t, srv.URL)
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "kinesis", Action: "ListStreams", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	scan := scantest.Scan(t, p.URL, regions, checkID)
	scantest.ExpectExactly(t, scan, checkID, map[scantest.Key]model.Status{
		{Check: checkID, Region: "us-east-1", Resource: ""}: model.StatusError,
		{Check: checkID, Region: "eu-west-1", Resource: ""}: model.StatusError,
	}, nil)
	if gaps := scan.Gaps(); len(gaps) != 2 || !strings.Contains(gaps[0].Error, "ListStreams") {
		t.Errorf("gaps: %+v", gaps)
	}
}

package sns_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "sns-topic-unencrypted"

// TestSNSUnencryptedAgainstEmulator creates, in two regions, a topic without
// a key, one with the aws/sns key and one with a customer key.
func TestSNSUnencryptedAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	regions := []string{"us-east-1", "eu-west-1"}
	want := map[scantest.Key]model.Status{}
	keys := map[string]string{}
	for _, region := range regions {
		cfg := emutest.Config(t, srv.URL, region)
		key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("create key in %s: %v", region, err)
		}
		keys[region] = aws.ToString(key.KeyMetadata.Arn)
		c := sns.NewFromConfig(cfg)
		for name, keyID := range map[string]string{"alerts-plain": "", "alerts-aws-key": "alias/aws/sns", "alerts-customer-key": keys[region]} {
			in := &sns.CreateTopicInput{Name: aws.String(name)}
			st := model.StatusFail
			if keyID != "" {
				in.Attributes = map[string]string{"KmsMasterKeyId": keyID}
				st = model.StatusPass
			}
			if _, err := c.CreateTopic(ctx, in); err != nil {
				t.Fatalf("create topic %s in %s: %v", name, region, err)
			}
			want[scantest.Key{Check: checkID, Region: region, Resource: name}] = st
		}
	}
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	plain := scantest.Find(t, scan, checkID, "eu-west-1", "alerts-plain")
	if plain.ResourceARN != "arn:aws:sns:eu-west-1:123456789012:alerts-plain" || plain.Evidence["kms_master_key_id"] != "absent" {
		t.Errorf("plain topic: %s %v", plain.ResourceARN, plain.Evidence)
	}
	customer := scantest.Find(t, scan, checkID, "us-east-1", "alerts-customer-key")
	if customer.ResourceARN != "arn:aws:sns:us-east-1:123456789012:alerts-customer-key" || customer.Evidence["kms_master_key_id"] != keys["us-east-1"] {
		t.Errorf("customer-key topic: %s %v", customer.ResourceARN, customer.Evidence)
	}
}

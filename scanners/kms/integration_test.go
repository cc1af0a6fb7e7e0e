package kms_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

func TestKMSRotationAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	create := func(region string, in *kms.CreateKeyInput, rotate, disable bool) string {
		t.Helper()
		c := kms.NewFromConfig(emutest.Config(t, srv.URL, region))
		out, err := c.CreateKey(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		if rotate {
			if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
		}
		if disable {
			if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	static := create("us-east-1", &kms.CreateKeyInput{Description: aws.String("static")}, false, false)
	rotating := create("us-east-1", &kms.CreateKeyInput{Description: aws.String("rotating")}, true, false)
	create("us-east-1", &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify}, false, false)
	create("us-east-1", &kms.CreateKeyInput{Description: aws.String("disabled")}, false, true)
	euStatic := create("eu-west-1", &kms.CreateKeyInput{Description: aws.String("eu static")}, false, false)
	create("eu-west-1", &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}, false, false)

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "kms-key-rotation-disabled")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	// The asymmetric and disabled keys are no results at all.
	k := func(region, id string) scantest.Key {
		return scantest.Key{Check: "kms-key-rotation-disabled", Region: region, Resource: id}
	}
	scantest.ExpectExactly(t, scan, "kms-key-rotation-disabled", map[scantest.Key]model.Status{
		k("us-east-1", static): model.StatusFail, k("us-east-1", rotating): model.StatusPass, k("eu-west-1", euStatic): model.StatusFail,
	}, nil)
	r := scantest.Find(t, scan, "kms-key-rotation-disabled", "eu-west-1", euStatic)
	if r.ResourceARN != "arn:aws:kms:eu-west-1:123456789012:key/"+euStatic || r.Family != model.FamilyCredentials {
		t.Errorf("result %+v", r)
	}
}

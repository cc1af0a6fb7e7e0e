package efs_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "efs-filesystem-unencrypted"

// TestEFSUnencryptedAgainstEmulator creates, in two regions, a plain file
// system, one encrypted with the default key and one with a customer key.
func TestEFSUnencryptedAgainstEmulator(t *testing.T) {
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
		c := efs.NewFromConfig(cfg)
		for _, fs := range []struct {
			token     string
			encrypted bool
			key       string
		}{{"plain", false, ""}, {"default-key", true, ""}, {"customer-key", true, aws.ToString(key.KeyMetadata.Arn)}} {
			in := &efs.CreateFileSystemInput{CreationToken: aws.String(fs.token), Encrypted: aws.Bool(fs.encrypted)}
			if fs.key != "" {
				in.KmsKeyId = aws.String(fs.key)
			}
			out, err := c.CreateFileSystem(ctx, in)
			if err != nil {
				t.Fatalf("create file system %s in %s: %v", fs.token, region, err)
			}
			id := aws.ToString(out.FileSystemId)
			st := model.StatusPass
			if !fs.encrypted {
				st = model.StatusFail
				keys[region+" plain"] = id
			}
			if fs.key != "" {
				keys[region+" customer"] = id
				keys[region+" key"] = fs.key
			}
			want[scantest.Key{Check: checkID, Region: region, Resource: id}] = st
		}
	}
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	plain := scantest.Find(t, scan, checkID, "eu-west-1", keys["eu-west-1 plain"])
	if want := "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/" + keys["eu-west-1 plain"]; plain.ResourceARN != want ||
		plain.Evidence["encrypted"] != false || plain.Evidence["kms_key_id"] != "absent" {
		t.Errorf("plain file system: %s %v", plain.ResourceARN, plain.Evidence)
	}
	// moto reports the key as given at creation (a real account reports the
	// key ARN, aws/elasticfilesystem's when none was given).
	customer := scantest.Find(t, scan, checkID, "us-east-1", keys["us-east-1 customer"])
	if customer.Evidence["encrypted"] != true || customer.Evidence["kms_key_id"] != keys["us-east-1 key"] {
		t.Errorf("customer-key file system: %v", customer.Evidence)
	}
}

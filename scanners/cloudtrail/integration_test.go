package cloudtrail_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "cloudtrail-trail-not-kms-encrypted"

// TestCloudTrailKMSAgainstEmulator creates, in each of two regions, a trail
// without a KMS key and one with; in us-east-1 the unencrypted trail is
// multi-region, so it is visible in eu-west-1 as a shadow trail, and must be
// reported once, in its home region.
func TestCloudTrailKMSAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	regions := []string{"us-east-1", "eu-west-1"}
	want := map[scantest.Key]model.Status{}
	keys := map[string]string{}
	for _, region := range regions {
		cfg := emutest.Config(t, srv.URL, region)
		bucket := "trail-logs-" + region
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, in); err != nil {
			t.Fatalf("create bucket %s: %v", bucket, err)
		}
		key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("create key in %s: %v", region, err)
		}
		keys[region] = aws.ToString(key.KeyMetadata.Arn)
		c := cloudtrail.NewFromConfig(cfg)
		plain, encrypted := "audit-"+region, "audit-kms-"+region
		if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
			Name: aws.String(plain), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(region == "us-east-1"),
		}); err != nil {
			t.Fatalf("create trail %s: %v", plain, err)
		}
		if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
			Name: aws.String(encrypted), S3BucketName: aws.String(bucket), KmsKeyId: aws.String(keys[region]),
		}); err != nil {
			t.Fatalf("create trail %s: %v", encrypted, err)
		}
		want[scantest.Key{Check: checkID, Region: region, Resource: plain}] = model.StatusFail
		want[scantest.Key{Check: checkID, Region: region, Resource: encrypted}] = model.StatusPass
	}
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	multi := scantest.Find(t, scan, checkID, "us-east-1", "audit-us-east-1")
	if multi.ResourceARN != "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-us-east-1" || multi.Evidence["kms_key_id"] != "absent" ||
		multi.Evidence["is_multi_region_trail"] != true || multi.Evidence["home_region"] != "us-east-1" {
		t.Errorf("multi-region trail: %s %v", multi.ResourceARN, multi.Evidence)
	}
	enc := scantest.Find(t, scan, checkID, "eu-west-1", "audit-kms-eu-west-1")
	if enc.Evidence["kms_key_id"] != keys["eu-west-1"] || enc.Evidence["is_multi_region_trail"] != false || enc.Evidence["home_region"] != "eu-west-1" {
		t.Errorf("KMS trail: %v", enc.Evidence)
	}
}

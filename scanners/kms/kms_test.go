package kms

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func cmk(id string, rotation *bool) Key {
	return Key{ID: id, ARN: "arn:aws:kms:eu-west-1:111122223333:key/" + id, Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT",
		Usage: "ENCRYPT_DECRYPT", State: "Enabled", Origin: "AWS_KMS", RotationEnabled: rotation}
}

func TestRotationCheck(t *testing.T) {
	if err := Scanner().Validate(); err != nil {
		t.Fatal(err)
	}
	awsManaged := cmk("aws-managed", aws.Bool(false))
	awsManaged.Manager = "AWS"
	asymmetric := cmk("rsa", nil)
	asymmetric.Spec, asymmetric.Usage = "RSA_2048", "SIGN_VERIFY"
	hmac := cmk("hmac", nil)
	hmac.Spec, hmac.Usage = "HMAC_256", "GENERATE_VERIFY_MAC"
	disabled := cmk("disabled", aws.Bool(false))
	disabled.State = "Disabled"
	pending := cmk("pending", nil)
	pending.State = "PendingDeletion"
	imported := cmk("imported", nil)
	imported.Origin = "EXTERNAL"
	rotating := cmk("rotating", aws.Bool(true))
	rotating.RotationPeriodDays = 180
	unread := cmk("unread", nil)
	failed := Key{ID: "denied", ARN: "arn:aws:kms:eu-west-1:111122223333:key/denied", DetailError: "DescribeKey: AccessDeniedException: no"}
	inv := &Inventory{Keys: []Key{cmk("static", aws.Bool(false)), rotating, awsManaged, asymmetric, hmac, disabled, pending, imported, unread, failed}}

	c, _ := check.Lookup(Checks(), "kms-key-rotation-disabled")
	got := map[string]model.Status{}
	var rotatingEvidence map[string]any
	for _, f := range c.Evaluate(inv, check.Params{}) {
		got[f.ResourceID] = f.Status
		if f.ResourceID == "rotating" {
			rotatingEvidence = f.Evidence
		}
	}
	want := map[string]model.Status{"static": model.StatusFail, "rotating": model.StatusPass, "unread": model.StatusError, "denied": model.StatusError}
	if len(got) != len(want) {
		t.Errorf("results %v, want exactly %v (AWS-managed, asymmetric, HMAC, disabled, pending deletion and imported keys are no results)", got, want)
	}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("%s: %s, want %s", id, got[id], st)
		}
	}
	if rotatingEvidence["rotation_period_days"] != int32(180) || rotatingEvidence["key_manager"] != "CUSTOMER" {
		t.Errorf("evidence %v", rotatingEvidence)
	}
}

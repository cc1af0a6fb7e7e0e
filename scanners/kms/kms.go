// Package kms collects the KMS keys of one region and holds the check that
// reads them: automatic rotation of customer-managed symmetric keys.
package kms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartKeys is ListKeys: the region's key IDs.
	PartKeys = "keys"
	// PartKeyDetails is DescribeKey and GetKeyRotationStatus, per key.
	PartKeyDetails = "key-details"
)

// Inventory is what the KMS scanner collects in one region.
type Inventory struct {
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	Partition string `json:"partition"`
	Keys      []Key  `json:"keys"`
}

// Key is one KMS key with the metadata that decides whether its rotation is
// checked, and its rotation status when it is.
type Key struct {
	ID  string `json:"id"`
	ARN string `json:"arn"`
	// Manager is CUSTOMER or AWS.
	Manager string `json:"manager,omitempty"`
	// Spec is the key spec, e.g. SYMMETRIC_DEFAULT or RSA_2048.
	Spec string `json:"spec,omitempty"`
	// Usage is ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, ...
	Usage string `json:"usage,omitempty"`
	// State is Enabled, Disabled, PendingDeletion, ...
	State string `json:"state,omitempty"`
	// Origin is AWS_KMS, EXTERNAL (imported material), AWS_CLOUDHSM or
	// EXTERNAL_KEY_STORE.
	Origin string `json:"origin,omitempty"`
	// RotationEnabled is read only for keys in scope (InScope); nil otherwise.
	RotationEnabled    *bool `json:"rotation_enabled,omitempty"`
	RotationPeriodDays int32 `json:"rotation_period_days,omitempty"`
	// DetailError is set when DescribeKey or GetKeyRotationStatus failed.
	DetailError string `json:"detail_error,omitempty"`
}

// InScope reports whether the key's rotation is checked: an enabled,
// customer-managed, symmetric encryption key whose material KMS generated.
// AWS-managed keys rotate every year by themselves; asymmetric and HMAC keys,
// keys with imported material and keys in custom key stores cannot be rotated
// automatically, so they are not results at all. A SYMMETRIC_DEFAULT key is
// always an encryption key; its KeyUsage is not required (the emulator
// omits it unless it was given at creation).
func (k Key) InScope() bool {
	return k.Manager == string(types.KeyManagerTypeCustomer) && k.Spec == string(types.KeySpecSymmetricDefault) &&
		(k.Usage == "" || k.Usage == string(types.KeyUsageTypeEncryptDecrypt)) && k.State == string(types.KeyStateEnabled) &&
		k.Origin == string(types.OriginTypeAwsKms)
}

// API is the part of the KMS client the scanner uses: reads only.
type API interface {
	kms.ListKeysAPIClient
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyRotationStatus(ctx context.Context, in *kms.GetKeyRotationStatusInput, optFns ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
}

// Scanner returns the KMS scanner with its check.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "kms", Collect: Collect, List: Checks()}
}

// Collect lists the region's keys (every page), describes each one and reads
// the rotation status of those in scope.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, kms.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartKeys) {
		return inv
	}
	listed, err := paging.All(ctx, kms.NewListKeysPaginator(api, &kms.ListKeysInput{}),
		func(page *kms.ListKeysOutput) []types.KeyListEntry { return page.Keys })
	if err != nil {
		gaps.Add(PartKeys, "ListKeys", "", err)
		return inv
	}
	for _, k := range listed {
		inv.Keys = append(inv.Keys, Key{ID: aws.ToString(k.KeyId), ARN: aws.ToString(k.KeyArn)})
	}
	if !scope.Wants(PartKeyDetails) {
		return inv
	}
	fanout.Each(ctx, len(inv.Keys), scope.CallConcurrency, func(ctx context.Context, i int) {
		k := &inv.Keys[i]
		out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k.ID)})
		if err != nil {
			gaps.Add(PartKeyDetails, "DescribeKey", k.ID, err)
			k.DetailError = "DescribeKey: " + check.ErrorText(err)
			return
		}
		if m := out.KeyMetadata; m != nil {
			k.Manager, k.Spec, k.Usage = string(m.KeyManager), string(m.KeySpec), string(m.KeyUsage)
			k.State, k.Origin = string(m.KeyState), string(m.Origin)
		}
		if !k.InScope() {
			return
		}
		rot, err := api.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(k.ID)})
		if err != nil {
			gaps.Add(PartKeyDetails, "GetKeyRotationStatus", k.ID, err)
			k.DetailError = "GetKeyRotationStatus: " + check.ErrorText(err)
			return
		}
		k.RotationEnabled = aws.Bool(rot.KeyRotationEnabled)
		k.RotationPeriodDays = aws.ToInt32(rot.RotationPeriodInDays)
	})
	return inv
}

// Checks returns the KMS checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "kms-key-rotation-disabled", Title: "KMS customer-managed key has automatic rotation off",
				Family: model.FamilyCredentials, Service: "kms", Severity: model.SeverityMedium, ResourceType: "AWS::KMS::Key",
				Rationale:   "Key material that never rotates protects ever more data for ever longer; automatic rotation limits what one compromised or cryptanalysed key version exposes, without re-encrypting anything.",
				Remediation: "Turn on automatic rotation for the key (EnableKeyRotation; the period defaults to 365 days).",
				References: []string{
					"https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
					"https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4",
				},
			},
			Needs: []string{PartKeys},
			Reads: []string{PartKeyDetails},
			Eval:  rotationCheck,
		},
	}
}

func rotationCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, k := range inv.Keys {
		evidence := map[string]any{"key_manager": k.Manager, "key_spec": k.Spec, "key_usage": k.Usage, "key_state": k.State, "origin": k.Origin}
		switch {
		case k.DetailError != "":
			// Whether the key is in scope, or rotates, is unknown: never PASS.
			out = append(out, check.Error(k.ID, k.ARN, fmt.Sprintf("cannot tell whether KMS key %s rotates: %s", k.ID, k.DetailError), map[string]any{"error": k.DetailError}))
		case !k.InScope():
		case k.RotationEnabled == nil:
			out = append(out, check.Error(k.ID, k.ARN, fmt.Sprintf("the rotation status of KMS key %s was not read", k.ID), evidence))
		case *k.RotationEnabled:
			evidence["rotation_enabled"] = true
			if k.RotationPeriodDays > 0 {
				evidence["rotation_period_days"] = k.RotationPeriodDays
			}
			out = append(out, check.Pass(k.ID, k.ARN, fmt.Sprintf("KMS key %s rotates automatically", k.ID), evidence))
		default:
			evidence["rotation_enabled"] = false
			out = append(out, check.Fail(k.ID, k.ARN, fmt.Sprintf("KMS key %s is an enabled customer-managed symmetric key with automatic rotation off", k.ID), evidence))
		}
	}
	return out
}

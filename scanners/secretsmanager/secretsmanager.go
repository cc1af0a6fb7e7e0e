// Package secretsmanager collects the Secrets Manager secrets of one region
// (their metadata only: never a value) and holds the rotation checks.
package secretsmanager

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// PartSecrets is the inventory part holding the secrets (ListSecrets).
const PartSecrets = "secrets"

// Inventory is what the Secrets Manager scanner collects in one region.
type Inventory struct {
	AccountID string   `json:"account_id"`
	Region    string   `json:"region"`
	Partition string   `json:"partition"`
	Secrets   []Secret `json:"secrets"`
}

// Secret is one secret's metadata, as ListSecrets returns it. The scanner
// never reads a secret's value.
type Secret struct {
	Name            string     `json:"name"`
	ARN             string     `json:"arn"`
	RotationEnabled bool       `json:"rotation_enabled"`
	RotationDays    int64      `json:"rotation_days,omitempty"`
	CreatedAt       *time.Time `json:"created_at,omitempty"`
	LastRotatedAt   *time.Time `json:"last_rotated_at,omitempty"`
	// OwningService is set for secrets that another service manages (RDS).
	OwningService string `json:"owning_service,omitempty"`
}

// API is the part of the Secrets Manager client the scanner uses.
type API interface {
	secretsmanager.ListSecretsAPIClient
}

// Scanner returns the Secrets Manager scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "secretsmanager", Collect: Collect, List: Checks()}
}

// Collect lists the region's secrets (every page). ListSecrets returns the
// rotation settings and dates; no per-secret call is needed.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, secretsmanager.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartSecrets) {
		return inv
	}
	listed, err := paging.All(ctx, secretsmanager.NewListSecretsPaginator(api, &secretsmanager.ListSecretsInput{}),
		func(page *secretsmanager.ListSecretsOutput) []types.SecretListEntry { return page.SecretList })
	if err != nil {
		gaps.Add(PartSecrets, "ListSecrets", "", err)
		return inv
	}
	for _, s := range listed {
		sec := Secret{
			Name: aws.ToString(s.Name), ARN: aws.ToString(s.ARN), RotationEnabled: aws.ToBool(s.RotationEnabled),
			CreatedAt: check.UTC(s.CreatedDate), LastRotatedAt: check.UTC(s.LastRotatedDate), OwningService: aws.ToString(s.OwningService),
		}
		if s.RotationRules != nil {
			sec.RotationDays = aws.ToInt64(s.RotationRules.AutomaticallyAfterDays)
		}
		inv.Secrets = append(inv.Secrets, sec)
	}
	return inv
}

const rotationDoc = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html"

// Checks returns the Secrets Manager checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "secretsmanager-rotation-disabled", Title: "Secrets Manager secret has no rotation configured",
				Family: model.FamilyCredentials, Service: "secretsmanager", Severity: model.SeverityMedium, ResourceType: "AWS::SecretsManager::Secret",
				Rationale:   "A secret that is never rotated stays valid for as long as anyone who ever saw it, or any copy of it, remains around.",
				Remediation: "Configure automatic rotation for the secret (a rotation function or managed rotation) with a schedule.",
				References:  []string{rotationDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-1"},
			},
			Needs: []string{PartSecrets},
			Eval:  rotationDisabledCheck,
		},
		{
			Meta: check.Meta{
				ID: "secretsmanager-secret-unrotated", Title: "Secrets Manager secret not rotated within the maximum age",
				Family: model.FamilyCredentials, Service: "secretsmanager", Severity: model.SeverityMedium, ResourceType: "AWS::SecretsManager::Secret",
				Rationale:   "Rotation that is configured but failing, or a secret never rotated since it was created, leaves the same value in use far longer than intended.",
				Remediation: "Rotate the secret now (RotateSecret) and fix the rotation function or schedule so that rotation keeps succeeding.",
				References:  []string{rotationDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-4"},
			},
			Needs:    []string{PartSecrets},
			EvalWith: unrotatedCheck,
		},
	}
}

// A secret another service manages (OwningService, e.g. "rds" for an
// RDS-managed master password) is judged like any other: the service
// configures and runs its rotation (RDS rotates every 7 days by default), so
// a managed secret that does not rotate, or has not rotated for too long,
// is as stale as any; and remediation goes through the owning service, so
// the message and evidence name it.

// label names a secret in a message, with the service that manages it.
func label(s Secret) string {
	if s.OwningService != "" {
		return fmt.Sprintf("%s (managed by %s)", s.Name, s.OwningService)
	}
	return s.Name
}

// baseEvidence is the evidence both checks share.
func baseEvidence(s Secret) map[string]any {
	evidence := map[string]any{"rotation_enabled": s.RotationEnabled, "source": "ListSecrets"}
	if s.OwningService != "" {
		evidence["owning_service"] = s.OwningService
	}
	return evidence
}

func rotationDisabledCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range inv.Secrets {
		evidence := baseEvidence(s)
		if s.RotationEnabled {
			evidence["rotation_days"] = s.RotationDays
			out = append(out, check.Pass(s.Name, s.ARN, fmt.Sprintf("secret %s rotates automatically every %d days", label(s), s.RotationDays), evidence))
			continue
		}
		out = append(out, check.Fail(s.Name, s.ARN, fmt.Sprintf("secret %s has no rotation configured", label(s)), evidence))
	}
	return out
}

func unrotatedCheck(inv *Inventory, p check.Params) []check.Finding {
	limit := p.Credentials.SecretMaxAgeDays
	var out []check.Finding
	for _, s := range inv.Secrets {
		since, basis := s.LastRotatedAt, "last rotated"
		if since == nil {
			since, basis = s.CreatedAt, "never rotated; created"
		}
		evidence := baseEvidence(s)
		evidence["max_age_days"] = limit
		if s.CreatedAt != nil {
			evidence["created_at"] = s.CreatedAt.Format(time.RFC3339)
		}
		if s.LastRotatedAt != nil {
			evidence["last_rotated_at"] = s.LastRotatedAt.Format(time.RFC3339)
		}
		if since == nil {
			out = append(out, check.Error(s.Name, s.ARN, fmt.Sprintf("secret %s has neither a rotation nor a creation date", label(s)), evidence))
			continue
		}
		age := check.AgeDays(*since, p.Now)
		evidence["age_days"] = age
		msg := fmt.Sprintf("secret %s was %s %d days ago (maximum %d)", label(s), basis, age, limit)
		if age > limit {
			out = append(out, check.Fail(s.Name, s.ARN, msg, evidence))
			continue
		}
		out = append(out, check.Pass(s.Name, s.ARN, msg, evidence))
	}
	return out
}

package secretsmanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

// TestRDSManagedSecretAgainstEmulator: the master password of a DB
// instance created with ManageMasterUserPassword is a secret owned by RDS;
// ListSecrets says so (OwningService), and both checks name the owner in
// their message and evidence. It is judged like the account's own secrets.
func TestRDSManagedSecretAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	if _, err := rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"),
		AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), ManageMasterUserPassword: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app-token"), SecretString: aws.String("s3cr3t")}); err != nil {
		t.Fatal(err)
	}
	list, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var managed string
	for _, s := range list.SecretList {
		if aws.ToString(s.OwningService) == "rds" {
			managed = aws.ToString(s.Name)
		}
	}
	if !strings.HasPrefix(managed, "rds!db-") {
		t.Fatalf("the emulator created no RDS-owned secret: %+v", list.SecretList)
	}

	checks := []string{"secretsmanager-rotation-disabled", "secretsmanager-secret-unrotated"}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1"}, checks...)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	k := func(check, name string) scantest.Key {
		return scantest.Key{Check: check, Region: "us-east-1", Resource: name}
	}
	// The emulator configures no rotation for the managed secret.
	scantest.ExpectExactly(t, scan, checks[0], map[scantest.Key]model.Status{
		k(checks[0], managed): model.StatusFail, k(checks[0], "app-token"): model.StatusFail,
	}, nil)
	scantest.ExpectExactly(t, scan, checks[1], map[scantest.Key]model.Status{
		k(checks[1], managed): model.StatusPass, k(checks[1], "app-token"): model.StatusPass,
	}, nil)
	r := scantest.Find(t, scan, checks[0], "us-east-1", managed)
	if r.Message != "secret "+managed+" (managed by rds) has no rotation configured" || r.Evidence["owning_service"] != "rds" {
		t.Errorf("managed secret: %q %v", r.Message, r.Evidence)
	}
	r = scantest.Find(t, scan, checks[1], "us-east-1", managed)
	if r.Message != "secret "+managed+" (managed by rds) was never rotated; created 0 days ago (maximum 90)" || r.Evidence["owning_service"] != "rds" {
		t.Errorf("managed secret: %q %v", r.Message, r.Evidence)
	}
	if r := scantest.Find(t, scan, checks[0], "us-east-1", "app-token"); r.Evidence["owning_service"] != nil {
		t.Errorf("own secret has an owning service: %v", r.Evidence)
	}
}

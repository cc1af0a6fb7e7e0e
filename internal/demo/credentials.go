package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The credentials part of the story: IAM users, access keys, the password
// policy, KMS keys, secrets and certificates. The rows that need resources
// older than today are true only when the emulator runs under libfaketime
// (Options.Age set); AgedExpectations returns them:
//
//	check                              region  resource (Inventory key)      expect  why
//	---------------------------------  ------  ----------------------------  ------  ------------------------------------------------
//	iam-access-key-unrotated           global  ci-deploy-key                 FAIL    active key created 120 days ago
//	iam-credential-unused              global  ci-deploy                     FAIL    its key was never used in 120 days
//	secretsmanager-secret-unrotated    use1    legacy-api-token              FAIL    never rotated, created 200 days ago
//
// Without libfaketime the same resources are created today: those three rows
// do not hold, and the demo says so.

// Options changes how SeedWith seeds.
type Options struct {
	// Age moves the emulator's clock by an offset from the real time
	// (emulator.Server.SetClockOffset); nil when the emulator cannot be
	// aged, and the stale credentials are then created today.
	Age func(offset time.Duration) error
	// BucketSuffix is appended to every bucket name. Bucket names are
	// global in S3 and in the emulator, so seeding the demo into several
	// accounts of one emulator (the benchmark) needs a suffix per account.
	BucketSuffix string
}

const day = 24 * time.Hour

// seedCredentials creates the credentials family's resources.
func seedCredentials(ctx context.Context, cfg aws.Config, inv *Inventory, opts Options) error {
	if opts.Age != nil {
		if err := seedStale(ctx, cfg, inv, opts.Age); err != nil {
			return err
		}
		inv.Aged = true
	} else if err := seedStaleResources(ctx, cfg, inv); err != nil {
		return err
	}
	if err := seedUsers(ctx, iam.NewFromConfig(regional(cfg, PrimaryRegion)), inv); err != nil {
		return err
	}
	if err := seedKMS(ctx, cfg, inv); err != nil {
		return err
	}
	if err := seedSecrets(ctx, cfg, inv); err != nil {
		return err
	}
	return seedCertificates(ctx, cfg, inv)
}

// seedStale creates the stale resources with the clock moved back: the CI
// deploy user's key 120 days ago, the legacy API token 200 days ago.
func seedStale(ctx context.Context, cfg aws.Config, inv *Inventory, age func(time.Duration) error) (err error) {
	defer func() {
		if rerr := age(0); rerr != nil && err == nil {
			err = fmt.Errorf("demo: restore the emulator clock: %w", rerr)
		}
	}()
	if err := age(-120 * day); err != nil {
		return fmt.Errorf("demo: age the emulator clock: %w", err)
	}
	if err := seedCIDeploy(ctx, iam.NewFromConfig(regional(cfg, PrimaryRegion)), inv); err != nil {
		return err
	}
	if err := age(-200 * day); err != nil {
		return fmt.Errorf("demo: age the emulator clock: %w", err)
	}
	return seedLegacyToken(ctx, cfg, inv)
}

// seedStaleResources creates the would-be stale resources today.
func seedStaleResources(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	if err := seedCIDeploy(ctx, iam.NewFromConfig(regional(cfg, PrimaryRegion)), inv); err != nil {
		return err
	}
	return seedLegacyToken(ctx, cfg, inv)
}

// seedCIDeploy creates the CI deploy user and its one key, never used.
func seedCIDeploy(ctx context.Context, c *iam.Client, inv *Inventory) error {
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("acme-ci-deploy")}); err != nil {
		return fmt.Errorf("demo: create user acme-ci-deploy: %w", err)
	}
	inv.put(inv.Users, "ci-deploy", "acme-ci-deploy", "global")
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("acme-ci-deploy")})
	if err != nil {
		return fmt.Errorf("demo: create the access key of acme-ci-deploy: %w", err)
	}
	inv.put(inv.AccessKeys, "ci-deploy-key", aws.ToString(key.AccessKey.AccessKeyId), "global")
	return nil
}

func seedLegacyToken(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := secretsmanager.NewFromConfig(regional(cfg, PrimaryRegion))
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("acme/legacy/api-token"), SecretString: aws.String("demo-not-a-secret")}); err != nil {
		return fmt.Errorf("demo: create secret acme/legacy/api-token: %w", err)
	}
	inv.put(inv.Secrets, "legacy-api-token", "acme/legacy/api-token", PrimaryRegion)
	return nil
}

// seedUsers creates the console users and the app service user, and sets a
// weak password policy.
func seedUsers(ctx context.Context, c *iam.Client, inv *Inventory) error {
	const password = "Acme-Demo-Console-1"
	for _, u := range []struct{ role, name string }{{"alice", "alice"}, {"bob", "bob"}, {"app-svc", "acme-app-svc"}} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name)}); err != nil {
			return fmt.Errorf("demo: create user %s: %w", u.name, err)
		}
		inv.put(inv.Users, u.role, u.name, "global")
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String(password)}); err != nil {
			return fmt.Errorf("demo: console password for %s: %w", name, err)
		}
	}
	mfa, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("bob")})
	if err != nil {
		return fmt.Errorf("demo: create bob's MFA device: %w", err)
	}
	if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("bob"), SerialNumber: mfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		return fmt.Errorf("demo: enable bob's MFA device: %w", err)
	}
	// The app service user is mid-rotation: two active keys.
	for _, role := range []string{"app-svc-key-1", "app-svc-key-2"} {
		key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("acme-app-svc")})
		if err != nil {
			return fmt.Errorf("demo: create an access key of acme-app-svc: %w", err)
		}
		inv.put(inv.AccessKeys, role, aws.ToString(key.AccessKey.AccessKeyId), "global")
	}
	if _, err := c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(8)}); err != nil {
		return fmt.Errorf("demo: set the password policy: %w", err)
	}
	cert, key, err := certificatePEM("legacy.acme.example", time.Now().Add(-400*day), time.Now().Add(-30*day))
	if err != nil {
		return err
	}
	if _, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("acme-legacy-elb"),
		CertificateBody: aws.String(string(cert)), PrivateKey: aws.String(string(key))}); err != nil {
		return fmt.Errorf("demo: upload server certificate acme-legacy-elb: %w", err)
	}
	inv.put(inv.ServerCertificates, "legacy-elb-cert", "acme-legacy-elb", "global")
	return nil
}

// seedKMS creates a rotating and a static key in us-east-1, a static key
// in eu-west-1, and a signing key (asymmetric: no result).
func seedKMS(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, k := range []struct {
		role, region string
		rotate       bool
		in           *kms.CreateKeyInput
	}{
		{"orders-cmk", PrimaryRegion, true, &kms.CreateKeyInput{Description: aws.String("acme orders data")}},
		{"legacy-cmk", PrimaryRegion, false, &kms.CreateKeyInput{Description: aws.String("acme legacy backups")}},
		{"eu-cmk", SecondaryRegion, false, &kms.CreateKeyInput{Description: aws.String("acme EU exports")}},
		{"signing-key", PrimaryRegion, false, &kms.CreateKeyInput{Description: aws.String("acme release signing"), KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"}},
	} {
		c := kms.NewFromConfig(regional(cfg, k.region))
		out, err := c.CreateKey(ctx, k.in)
		if err != nil {
			return fmt.Errorf("demo: create KMS key %s: %w", k.role, err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		inv.put(inv.KMSKeys, k.role, id, k.region)
		if k.rotate {
			if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
				return fmt.Errorf("demo: enable rotation of %s: %w", k.role, err)
			}
		}
	}
	return nil
}

// seedSecrets creates the orders database secret, rotated today.
func seedSecrets(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	c := secretsmanager.NewFromConfig(regional(cfg, PrimaryRegion))
	const name = "acme/prod/orders-db"
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("demo-not-a-secret")}); err != nil {
		return fmt.Errorf("demo: create secret %s: %w", name, err)
	}
	// Without a rotation function the emulator rotates at once.
	if _, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		return fmt.Errorf("demo: rotate secret %s: %w", name, err)
	}
	inv.put(inv.Secrets, "orders-db-secret", name, PrimaryRegion)
	return nil
}

// seedCertificates imports www's certificate (a year left) in us-east-1 and
// the EU API's (ten days left) in eu-west-1.
func seedCertificates(ctx context.Context, cfg aws.Config, inv *Inventory) error {
	for _, c := range []struct {
		role, region, cn string
		left             time.Duration
	}{
		{"www-cert", PrimaryRegion, "www.acme.example", 365 * day},
		{"eu-api-cert", SecondaryRegion, "api.eu.acme.example", 10 * day},
	} {
		cert, key, err := certificatePEM(c.cn, time.Now().Add(-day), time.Now().Add(c.left))
		if err != nil {
			return err
		}
		out, err := acm.NewFromConfig(regional(cfg, c.region)).ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})
		if err != nil {
			return fmt.Errorf("demo: import certificate %s: %w", c.cn, err)
		}
		arn := aws.ToString(out.CertificateArn)
		inv.put(inv.Certificates, c.role, arn[strings.LastIndex(arn, "/")+1:], c.region)
	}
	return nil
}

// certificatePEM returns a self-signed certificate and its key, in PEM.
func certificatePEM(cn string, notBefore, notAfter time.Time) ([]byte, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: generate a key for %s: %w", cn, err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(notAfter.UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: create the certificate of %s: %w", cn, err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: encode the key of %s: %w", cn, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

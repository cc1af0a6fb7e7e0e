package signing

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/readonly"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// toolConfig is the configuration the CLI builds (awsenv.Load, with the
// read-only guard), aimed at the emulator with its test credentials.
func toolConfig(t *testing.T, url string) aws.Config {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	cfg, err := awsenv.Load(context.Background(), awsenv.Options{Region: "us-east-1", EndpointURL: url, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// createKey makes a key with a plain SDK client, as an administrator would.
func createKey(t *testing.T, admin *kms.Client, spec types.KeySpec, usage types.KeyUsageType) string {
	t.Helper()
	out, err := admin.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String("posture manifest signing")})
	if err != nil {
		t.Fatalf("create %s key: %v", spec, err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestSignAndVerifyWithKMS(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	admin := kms.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	cfg := toolConfig(t, srv.URL)
	finished := time.Date(2026, 11, 23, 19, 53, 11, 250_000_000, time.UTC)
	manifestSum := strings.Repeat("0123456789abcdef", 4)

	for _, tt := range []struct {
		spec types.KeySpec
		alg  string
	}{
		{types.KeySpecEccNistP256, "ECDSA_SHA_256"},
		{types.KeySpecRsa2048, "RSASSA_PSS_SHA_256"},
	} {
		t.Run(string(tt.spec), func(t *testing.T) {
			keyARN := createKey(t, admin, tt.spec, types.KeyUsageTypeSignVerify)
			signer, err := NewKMSSigner(ctx, cfg, keyARN)
			if err != nil {
				t.Fatalf("NewKMSSigner: %v", err)
			}
			data, err := signer.Sign(ctx, "scan-1", manifestSum, finished)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			f, err := ParseFile(data)
			if err != nil {
				t.Fatalf("ParseFile: %v\n%s", err, data)
			}
			want := Statement{Algorithm: tt.alg, KeyID: keyARN, ManifestSHA256: manifestSum, ScanID: "scan-1", SignedAt: "2026-11-23T19:53:11.25Z"}
			if f.Statement != want || f.Algorithm != tt.alg || f.KeyID != keyARN || f.Format != Format {
				t.Errorf("manifest.sig = %+v", f)
			}
			msg, err := f.Statement.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			wantMsg := `{"algorithm":"` + tt.alg + `","key_id":"` + keyARN + `","manifest_sha256":"` + manifestSum +
				`","scan_id":"scan-1","signed_at":"2026-11-23T19:53:11.25Z"}`
			if string(msg) != wantMsg {
				t.Errorf("canonical statement\n%s\nwant\n%s", msg, wantMsg)
			}
			sig, _ := base64.StdEncoding.DecodeString(f.Signature)

			// KMS itself says the signature is valid.
			kv, err := admin.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keyARN), Message: msg, MessageType: types.MessageTypeRaw,
				Signature: sig, SigningAlgorithm: types.SigningAlgorithmSpec(tt.alg)})
			if err != nil || !kv.SignatureValid {
				t.Fatalf("kms:Verify: %v %+v", err, kv)
			}

			// Offline, with the PEM public key from kms:GetPublicKey.
			_, pemData, err := FetchPublicKey(ctx, cfg, keyARN)
			if err != nil {
				t.Fatalf("FetchPublicKey: %v", err)
			}
			if !strings.HasPrefix(string(pemData), "-----BEGIN PUBLIC KEY-----\n") {
				t.Errorf("PEM: %s", pemData)
			}
			pub, err := ParsePublicKeyPEM(pemData)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(pub, manifestSum, "scan-1"); err != nil {
				t.Errorf("offline verification of a good signature: %v", err)
			}

			// A forged signature fails, offline and at KMS.
			forged := append([]byte{}, sig...)
			forged[len(forged)/2] ^= 0x01
			bad := *f
			bad.Signature = base64.StdEncoding.EncodeToString(forged)
			if err := bad.Verify(pub, manifestSum, "scan-1"); err == nil || err.Error() != "signature does not verify" {
				t.Errorf("forged signature: %v", err)
			}
			if kv, err := admin.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keyARN), Message: msg, MessageType: types.MessageTypeRaw,
				Signature: forged, SigningAlgorithm: types.SigningAlgorithmSpec(tt.alg)}); err == nil && kv.SignatureValid {
				t.Error("kms:Verify accepts the forged signature")
			}

			// An altered statement fails: another time, another manifest.
			altered := *f
			altered.Statement.SignedAt = "2026-11-24T00:00:00Z"
			if err := altered.Verify(pub, manifestSum, "scan-1"); err == nil || err.Error() != "signature does not verify" {
				t.Errorf("altered signed_at: %v", err)
			}
			altered = *f
			otherSum := strings.Repeat("f", 64)
			altered.Statement.ManifestSHA256 = otherSum
			if err := altered.Verify(pub, otherSum, "scan-1"); err == nil || err.Error() != "signature does not verify" {
				t.Errorf("altered manifest_sha256: %v", err)
			}
			// The statement is checked against the package.
			if err := f.Verify(pub, otherSum, "scan-1"); err == nil || !strings.Contains(err.Error(), "signed for a manifest.json with SHA-256") {
				t.Errorf("another manifest: %v", err)
			}
			if err := f.Verify(pub, manifestSum, "scan-2"); err == nil || !strings.Contains(err.Error(), "signed for scan scan-1") {
				t.Errorf("another scan: %v", err)
			}
		})
	}
}

// The scanning clients (awsenv.Load's configuration) refuse kms:Sign before
// it is sent; only the signing client may call it, and it still refuses
// every other call that is not a read.
func TestOnlyTheSigningClientMaySign(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	admin := kms.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	cfg := toolConfig(t, srv.URL)
	keyARN := createKey(t, admin, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	in := &kms.SignInput{KeyId: aws.String(keyARN), Message: []byte("x"), MessageType: types.MessageTypeRaw,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}

	var refused *readonly.RefusedError
	_, err := kms.NewFromConfig(cfg).Sign(ctx, in)
	if !errors.As(err, &refused) || refused.Operation != "Sign" {
		t.Errorf("a scanning client's kms:Sign: %v, want a read-only refusal", err)
	}
	if _, err := signingClient(cfg, "").Sign(ctx, in); err != nil {
		t.Errorf("the signing client's kms:Sign: %v", err)
	}
	_, err = signingClient(cfg, "").ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)})
	if !errors.As(err, &refused) || refused.Operation != "ScheduleKeyDeletion" {
		t.Errorf("the signing client's ScheduleKeyDeletion: %v, want a refusal", err)
	}
	_, err = signingClient(cfg, "").Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyARN), Plaintext: []byte("x")})
	if !errors.As(err, &refused) {
		t.Errorf("the signing client's Encrypt: %v, want a refusal", err)
	}
	out, err := admin.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyARN)})
	if err != nil || out.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Errorf("key after the refused calls: %v %v", err, out)
	}
	// Building the signing client leaves the shared configuration alone.
	if _, err := kms.NewFromConfig(cfg).Sign(ctx, in); !errors.As(err, &refused) {
		t.Errorf("a scanning client built after the signing client signs: %v", err)
	}
}

func TestNewKMSSignerRefusesUnfitKeys(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	admin := kms.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	cfg := toolConfig(t, srv.URL)
	encrypt := createKey(t, admin, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt)
	if _, err := NewKMSSigner(ctx, cfg, encrypt); err == nil || !strings.Contains(err.Error(), "usage ENCRYPT_DECRYPT, want SIGN_VERIFY") {
		t.Errorf("encryption key: %v", err)
	}
	if _, err := NewKMSSigner(ctx, cfg, "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"); err == nil ||
		!strings.Contains(err.Error(), "kms:DescribeKey") {
		t.Errorf("missing key: %v", err)
	}
}

func TestParseFileAndPEMErrors(t *testing.T) {
	for _, tt := range []struct{ data, want string }{
		{"{", "decode"},
		{`{"format":"other"}`, `format "other"`},
		{`{"format":"` + Format + `","algorithm":"ECDSA_SHA_256","key_id":"k","signature":"AA=="}`, "are required"},
		{`{"format":"` + Format + `","algorithm":"ECDSA_SHA_256","key_id":"k","signature":"AA==","statement":{"algorithm":"ECDSA_SHA_256","key_id":"j","manifest_sha256":"a","scan_id":"s"}}`, "the statement names key j"},
	} {
		if _, err := ParseFile([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFile(%s) = %v, want %q", tt.data, err, tt.want)
		}
	}
	if _, err := ParsePublicKeyPEM([]byte("not pem")); err == nil {
		t.Error("non-PEM accepted")
	}
	if _, err := ParsePublicKeyPEM([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")); err == nil || !strings.Contains(err.Error(), "want PUBLIC KEY") {
		t.Errorf("private key block: %v", err)
	}
	if err := VerifyMessage(nil, "SM2DSA", nil, nil); err == nil || !strings.Contains(err.Error(), "unsupported signing algorithm") {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, err := AlgorithmFor(types.KeySpecEccSecgP256k1); err == nil {
		t.Error("secp256k1 accepted")
	}
}

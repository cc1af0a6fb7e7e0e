// Package signing signs an evidence package's manifest with an asymmetric
// AWS KMS key and verifies the signature, online (the public key fetched
// with kms:GetPublicKey) or offline (the public key as PEM).
//
// What is signed is a small canonical statement, not the manifest itself:
// JSON with sorted keys and no spaces, naming the scan, the SHA-256 of
// manifest.json, the scan's finish time, the key and the algorithm. It is
// signed with MessageType RAW: KMS hashes it with the algorithm's hash (the
// emulator, moto, hashes a DIGEST message a second time, which is wrong, and
// RAW is right on both).
//
// The signing client is the tool's own identity (the credentials the scan
// started with), never a scanned account's role, and it is the one client of
// the program allowed calls that are not on the scanning allow-list:
// kms:Sign and kms:GetPublicKey, the readonly.Signing list, and only those
// (readonly.AllowOnClient).
package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posture-dev/posture/internal/readonly"
)

// Format identifies the layout of manifest.sig.
const Format = "posture-manifest-signature/1"

// maxMessage is the largest RAW message kms:Sign accepts.
const maxMessage = 4096

// Statement is what the key signs. Its fields are declared in key order, so
// that encoding/json writes its keys sorted.
type Statement struct {
	// Algorithm is the KMS signing algorithm, e.g. ECDSA_SHA_256.
	Algorithm string `json:"algorithm"`
	// KeyID is the ARN of the KMS key.
	KeyID string `json:"key_id"`
	// ManifestSHA256 is the hex SHA-256 of manifest.json.
	ManifestSHA256 string `json:"manifest_sha256"`
	// ScanID is the scan the package holds.
	ScanID string `json:"scan_id"`
	// SignedAt is the scan's finish time (RFC 3339, UTC), never the wall
	// clock, so that the statement is a function of the package alone.
	SignedAt string `json:"signed_at"`
}

// Canonical returns the bytes that are signed: compact JSON, keys sorted,
// no HTML escaping.
func (s Statement) Canonical() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// File is manifest.sig.
type File struct {
	Format    string    `json:"format"`
	Statement Statement `json:"statement"`
	Algorithm string    `json:"algorithm"`
	KeyID     string    `json:"key_id"`
	// Signature is the KMS signature of Statement.Canonical(), base64.
	Signature string `json:"signature"`
}

// Encode renders manifest.sig: indented JSON with a final newline.
func (f *File) Encode() ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest.sig: %w", err)
	}
	return append(data, '\n'), nil
}

// ParseFile decodes manifest.sig and checks that it is complete and
// consistent (the statement names the same key and algorithm as the file).
func ParseFile(data []byte) (*File, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Format != Format {
		return nil, fmt.Errorf("format %q, want %q", f.Format, Format)
	}
	if f.Signature == "" || f.Algorithm == "" || f.KeyID == "" || f.Statement.ManifestSHA256 == "" || f.Statement.ScanID == "" {
		return nil, errors.New("signature, algorithm, key_id, statement.manifest_sha256 and statement.scan_id are required")
	}
	if f.Statement.Algorithm != f.Algorithm || f.Statement.KeyID != f.KeyID {
		return nil, fmt.Errorf("the statement names key %s and algorithm %s, the file %s and %s",
			f.Statement.KeyID, f.Statement.Algorithm, f.KeyID, f.Algorithm)
	}
	return &f, nil
}

// Verify checks the signature of the file's statement with pub, and that
// the statement is about this manifest (its SHA-256) and this scan.
func (f *File) Verify(pub crypto.PublicKey, manifestSHA256, scanID string) error {
	if f.Statement.ManifestSHA256 != manifestSHA256 {
		return fmt.Errorf("signed for a manifest.json with SHA-256 %s, the package's has %s", f.Statement.ManifestSHA256, manifestSHA256)
	}
	if f.Statement.ScanID != scanID {
		return fmt.Errorf("signed for scan %s, the manifest is of scan %s", f.Statement.ScanID, scanID)
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil {
		return fmt.Errorf("signature is not base64: %w", err)
	}
	msg, err := f.Statement.Canonical()
	if err != nil {
		return err
	}
	return VerifyMessage(pub, f.Algorithm, msg, sig)
}

// VerifyMessage checks a KMS signature of msg (MessageType RAW) with pub.
func VerifyMessage(pub crypto.PublicKey, algorithm string, msg, sig []byte) error {
	h, kind, err := hashOf(algorithm)
	if err != nil {
		return err
	}
	hasher := h.New()
	hasher.Write(msg)
	digest := hasher.Sum(nil)
	switch kind {
	case "ecdsa":
		key, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an EC public key, got %T", algorithm, pub)
		}
		if !ecdsa.VerifyASN1(key, digest, sig) {
			return errors.New("signature does not verify")
		}
	case "pss", "pkcs1":
		key, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an RSA public key, got %T", algorithm, pub)
		}
		if kind == "pss" {
			err = rsa.VerifyPSS(key, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(key, h, digest, sig)
		}
		if err != nil {
			return errors.New("signature does not verify")
		}
	}
	return nil
}

// hashOf returns the hash and the kind of signature of a KMS signing
// algorithm.
func hashOf(algorithm string) (crypto.Hash, string, error) {
	switch types.SigningAlgorithmSpec(algorithm) {
	case types.SigningAlgorithmSpecEcdsaSha256:
		return crypto.SHA256, "ecdsa", nil
	case types.SigningAlgorithmSpecEcdsaSha384:
		return crypto.SHA384, "ecdsa", nil
	case types.SigningAlgorithmSpecEcdsaSha512:
		return crypto.SHA512, "ecdsa", nil
	case types.SigningAlgorithmSpecRsassaPssSha256:
		return crypto.SHA256, "pss", nil
	case types.SigningAlgorithmSpecRsassaPssSha384:
		return crypto.SHA384, "pss", nil
	case types.SigningAlgorithmSpecRsassaPssSha512:
		return crypto.SHA512, "pss", nil
	case types.SigningAlgorithmSpecRsassaPkcs1V15Sha256:
		return crypto.SHA256, "pkcs1", nil
	case types.SigningAlgorithmSpecRsassaPkcs1V15Sha384:
		return crypto.SHA384, "pkcs1", nil
	case types.SigningAlgorithmSpecRsassaPkcs1V15Sha512:
		return crypto.SHA512, "pkcs1", nil
	}
	return 0, "", fmt.Errorf("unsupported signing algorithm %q", algorithm)
}

// AlgorithmFor picks the signing algorithm for a key spec: ECDSA with the
// curve's hash for the NIST curves, RSASSA-PSS with SHA-256 for RSA keys.
// secp256k1 keys are refused: Go's standard library cannot verify them
// offline.
func AlgorithmFor(spec types.KeySpec) (types.SigningAlgorithmSpec, error) {
	switch spec {
	case types.KeySpecEccNistP256:
		return types.SigningAlgorithmSpecEcdsaSha256, nil
	case types.KeySpecEccNistP384:
		return types.SigningAlgorithmSpecEcdsaSha384, nil
	case types.KeySpecEccNistP521:
		return types.SigningAlgorithmSpecEcdsaSha512, nil
	case types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096:
		return types.SigningAlgorithmSpecRsassaPssSha256, nil
	}
	return "", fmt.Errorf("key spec %s cannot sign the manifest (want ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 or RSA_2048/3072/4096 with usage SIGN_VERIFY)", spec)
}

// ParsePublicKeyPEM reads a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo,
// as kms:GetPublicKey returns it DER-encoded).
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block %q, want PUBLIC KEY", block.Type)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return pub, nil
}

// regionOf returns the region of a key ARN, or "" for a key ID or alias.
func regionOf(keyID string) string {
	if a, err := arn.Parse(keyID); err == nil {
		return a.Region
	}
	return ""
}

// signingClient is the one client allowed kms:Sign (and nothing else beyond
// the scanning allow-list), in the key's region.
func signingClient(cfg aws.Config, region string) *kms.Client {
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if region != "" {
			o.Region = region
		}
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("KMS", "Sign"))
	})
}

// KMSSigner signs manifests with one KMS key.
type KMSSigner struct {
	client    *kms.Client
	keyARN    string
	algorithm types.SigningAlgorithmSpec
}

// NewKMSSigner checks the key (kms:DescribeKey: enabled, SIGN_VERIFY, a
// supported spec) and returns a signer for it. cfg is the tool's own
// configuration (awsenv.Load); keyID is a key ARN (its region is used), key
// ID or alias.
func NewKMSSigner(ctx context.Context, cfg aws.Config, keyID string) (*KMSSigner, error) {
	client := signingClient(cfg, regionOf(keyID))
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("signing key %s: kms:DescribeKey: %w", keyID, err)
	}
	md := out.KeyMetadata
	if md.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("signing key %s: usage %s, want SIGN_VERIFY", keyID, md.KeyUsage)
	}
	if md.KeyState != types.KeyStateEnabled {
		return nil, fmt.Errorf("signing key %s: state %s, want Enabled", keyID, md.KeyState)
	}
	alg, err := AlgorithmFor(md.KeySpec)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", keyID, err)
	}
	if len(md.SigningAlgorithms) > 0 {
		supported := false
		for _, a := range md.SigningAlgorithms {
			supported = supported || a == alg
		}
		if !supported {
			return nil, fmt.Errorf("signing key %s does not offer %s (it offers %v)", keyID, alg, md.SigningAlgorithms)
		}
	}
	return &KMSSigner{client: client, keyARN: aws.ToString(md.Arn), algorithm: alg}, nil
}

// KeyARN is the ARN of the signing key.
func (s *KMSSigner) KeyARN() string { return s.keyARN }

// Sign signs the statement for a manifest and returns manifest.sig. It
// implements reports.Signer.
func (s *KMSSigner) Sign(ctx context.Context, scanID, manifestSHA256 string, signedAt time.Time) ([]byte, error) {
	st := Statement{
		Algorithm:      string(s.algorithm),
		KeyID:          s.keyARN,
		ManifestSHA256: manifestSHA256,
		ScanID:         scanID,
		SignedAt:       signedAt.UTC().Format(time.RFC3339Nano),
	}
	msg, err := st.Canonical()
	if err != nil {
		return nil, err
	}
	if len(msg) > maxMessage {
		return nil, fmt.Errorf("statement of %d bytes is over the %d bytes kms:Sign accepts", len(msg), maxMessage)
	}
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyARN),
		Message:          msg,
		MessageType:      types.MessageTypeRaw,
		SigningAlgorithm: s.algorithm,
	})
	if err != nil {
		return nil, fmt.Errorf("kms:Sign with %s: %w", s.keyARN, err)
	}
	f := &File{Format: Format, Statement: st, Algorithm: st.Algorithm, KeyID: st.KeyID,
		Signature: base64.StdEncoding.EncodeToString(out.Signature)}
	return f.Encode()
}

// FetchPublicKey returns a KMS key's public key (kms:GetPublicKey, a
// read-only call) and its PEM encoding, for offline verification.
func FetchPublicKey(ctx context.Context, cfg aws.Config, keyID string) (crypto.PublicKey, []byte, error) {
	client := kms.NewFromConfig(cfg, func(o *kms.Options) {
		if r := regionOf(keyID); r != "" {
			o.Region = r
		}
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("KMS", "GetPublicKey"))
	})
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, nil, fmt.Errorf("kms:GetPublicKey %s: %w", keyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("public key of %s: %w", keyID, err)
	}
	return pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: out.PublicKey}), nil
}

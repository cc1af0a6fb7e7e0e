package main

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/signing"
	"github.com/posture-dev/posture/reports"
)

// exitAltered is `posture verify`'s code for a package that is altered or
// incomplete: a file missing, changed or unexpected, or a signature that
// does not verify. Documented in README.md.
const exitAltered = 7

// awsFlags are the flags that reach AWS for the package verbs (kms:Sign,
// kms:GetPublicKey).
type awsFlags struct {
	profile, region, endpointURL string
}

func (a *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.profile, "profile", "", "AWS shared config profile for KMS (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&a.region, "region", "", "region for KMS when the key is not an ARN (default: AWS_REGION, else us-east-1)")
	fs.StringVar(&a.endpointURL, "endpoint-url", "", "send the KMS calls to this endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL)")
}

func (a *awsFlags) load(ctx context.Context) (aws.Config, error) {
	// A few KMS calls, not a scan: a few quick attempts, so that an
	// unreachable key is reported in seconds.
	return awsenv.Load(ctx, awsenv.Options{Profile: a.profile, Region: a.region, EndpointURL: a.endpointURL,
		MaxAttempts: 3, MaxBackoff: 2 * time.Second})
}

// verifyFlags are the flags of `posture verify`.
type verifyFlags struct {
	publicKey, kmsKey, savePublicKey string
	requireSignature                 bool
	af                               awsFlags
}

// newVerifyCommand is `posture verify DIR`.
func newVerifyCommand(stdout, stderr io.Writer) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check an evidence package's files, hashes and signature",
		Long: "Checks every file of the package against manifest.json and SHA256SUMS, and manifest.sig when present.\n\n" +
			"Exit codes: 0 the package is intact; 1 it could not be checked (e.g. the signature's key unreachable);\n" +
			"2 bad command line or DIR; 7 altered or incomplete (every problem printed, one per line, naming the file).",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("verify takes one package directory, got %d arguments", len(args))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.publicKey, "public-key", "", "verify manifest.sig offline with this PEM public key (as kms:GetPublicKey returns it)")
	fs.StringVar(&f.kmsKey, "kms-key", "", "fetch the public key of this KMS key (kms:GetPublicKey) to verify manifest.sig (default: the key recorded in manifest.sig)")
	fs.StringVar(&f.savePublicKey, "save-public-key", "", "write the public key fetched from KMS to this PEM file, for later offline checks")
	fs.BoolVar(&f.requireSignature, "require-signature", false, "an unsigned package is a failure")
	f.af.register(fs)
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) (int, error) {
		return runVerify(cmd.Context(), f, args[0], stdout, stderr)
	})
	return cmd
}

// runVerify runs `posture verify DIR` and returns its exit code.
func runVerify(ctx context.Context, f *verifyFlags, dir string, stdout, stderr io.Writer) (int, error) {
	publicKey, kmsKey, savePublicKey, requireSignature, af := &f.publicKey, &f.kmsKey, &f.savePublicKey, &f.requireSignature, f.af
	if *publicKey != "" && *kmsKey != "" {
		return 0, usagef("--public-key and --kms-key cannot be combined")
	}
	if info, err := os.Stat(dir); err != nil {
		return 0, usagef("package directory %s: %w", dir, err)
	} else if !info.IsDir() {
		return 0, usagef("package directory %s: not a directory", dir)
	}

	opts := reports.VerifyOptions{RequireSignature: *requireSignature}
	if *publicKey != "" {
		data, err := os.ReadFile(*publicKey)
		if err != nil {
			return 0, usagef("--public-key: %w", err)
		}
		pub, err := signing.ParsePublicKeyPEM(data)
		if err != nil {
			return 0, usagef("--public-key %s: %w", *publicKey, err)
		}
		opts.PublicKey = pub
	} else {
		opts.FetchKey = func(recorded string) (crypto.PublicKey, error) {
			keyID := recorded
			if *kmsKey != "" {
				keyID = *kmsKey
			}
			cfg, err := af.load(ctx)
			if err != nil {
				return nil, err
			}
			pub, pemData, err := signing.FetchPublicKey(ctx, cfg, keyID)
			if err != nil {
				return nil, err
			}
			if *savePublicKey != "" {
				if err := os.WriteFile(*savePublicKey, pemData, 0o644); err != nil {
					return nil, fmt.Errorf("--save-public-key: %w", err)
				}
			}
			return pub, nil
		}
	}

	v, err := reports.VerifyPackage(dir, opts)
	if err != nil {
		return 0, err
	}
	for _, p := range v.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	files := 0
	if v.Manifest != nil {
		files = len(v.Manifest.Files)
	}
	switch {
	case len(v.Problems) > 0:
		fmt.Fprintf(stderr, "posture verify: %s is altered or incomplete: %d problem(s)\n", dir, len(v.Problems))
		return exitAltered, nil
	case v.SignatureUnchecked != nil:
		fmt.Fprintf(stdout, "%d files match manifest.json and SHA256SUMS (scan %s)\n", files, v.Manifest.ScanID)
		fmt.Fprintf(stderr, "posture verify: %s: the signature could not be checked: %v\n", reports.SignatureName, v.SignatureUnchecked)
		return exitError, nil
	}
	fmt.Fprintf(stdout, "intact: %d files match manifest.json and SHA256SUMS (scan %s, %s %s, finished %s)\n",
		files, v.Manifest.ScanID, v.Manifest.Tool.Name, v.Manifest.Tool.Version, v.Manifest.FinishedAt.UTC().Format("2006-01-02T15:04:05Z"))
	if v.Manifest.PreviousManifestSHA256 != "" {
		fmt.Fprintf(stdout, "previous manifest: sha256 %s\n", v.Manifest.PreviousManifestSHA256)
	}
	if v.SignatureVerified {
		fmt.Fprintf(stdout, "signature: verified (%s, key %s)\n", v.Signature.Algorithm, v.Signature.KeyID)
	} else {
		fmt.Fprintln(stdout, "signature: not signed")
	}
	return exitOK, nil
}

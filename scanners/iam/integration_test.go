package iam_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/apicount"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
	iamscanner "github.com/posture-dev/posture/scanners/iam"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const (
	account = "123456789012"
	day     = 24 * time.Hour
)

// selfSigned returns a PEM certificate and key valid from notBefore to notAfter.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

type seeder struct {
	t   *testing.T
	ctx context.Context
	c   *iam.Client
}

func (s seeder) user(name string) {
	s.t.Helper()
	if _, err := s.c.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		s.t.Fatalf("create user %s: %v", name, err)
	}
}

func (s seeder) key(user string) iamtypes.AccessKey {
	s.t.Helper()
	out, err := s.c.CreateAccessKey(s.ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		s.t.Fatalf("create key for %s: %v", user, err)
	}
	return *out.AccessKey
}

func (s seeder) password(user string) {
	s.t.Helper()
	if _, err := s.c.CreateLoginProfile(s.ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String("Correct-Horse-Battery-9")}); err != nil {
		s.t.Fatalf("login profile for %s: %v", user, err)
	}
}

// TestIAMChecksAgainstEmulator ages keys and passwords for real: the
// emulator runs under libfaketime, the old credentials are created with its
// clock 120 days back.
func TestIAMChecksAgainstEmulator(t *testing.T) {
	srv := emutest.FreshFaked(t)
	ctx := context.Background()
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	s := seeder{t, ctx, iam.NewFromConfig(cfg)}

	emutest.SetClock(t, srv, -120*day)
	s.user("old-key")
	oldKey := s.key("old-key")
	s.user("old-key-used-today")
	usedKey := s.key("old-key-used-today")
	s.user("old-inactive-key")
	inactive := s.key("old-inactive-key")
	s.user("old-console")
	s.password("old-console")
	emutest.SetClock(t, srv, 0)

	if _, err := s.c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("old-inactive-key"), AccessKeyId: inactive.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	// Use the old key today: the emulator records its last use.
	used := iam.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(usedKey.AccessKeyId), aws.ToString(usedKey.SecretAccessKey), "")})
	if _, err := used.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	s.user("fresh-key")
	freshKey := s.key("fresh-key")
	s.user("two-keys")
	twoA, twoB := s.key("two-keys"), s.key("two-keys")
	s.user("console-mfa")
	s.password("console-mfa")
	mfa, err := s.c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("console-mfa")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("console-mfa"), SerialNumber: mfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		t.Fatal(err)
	}
	s.user("console-no-mfa")
	s.password("console-no-mfa")
	s.user("no-credentials")
	if _, err := s.c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(8)}); err != nil {
		t.Fatal(err)
	}
	body, key := selfSigned(t, "legacy.example.com", time.Now().Add(-400*day), time.Now().Add(-10*day))
	if _, err := s.c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("legacy-elb"), CertificateBody: aws.String(body), PrivateKey: aws.String(key)}); err != nil {
		t.Fatalf("upload an expired server certificate: %v", err)
	}

	const P, F = model.StatusPass, model.StatusFail
	k := func(check, resource string) scantest.Key {
		return scantest.Key{Check: check, Region: "global", Resource: resource}
	}
	id := aws.ToString
	counter := &apicount.Counter{}
	scan := scantest.ScanWith(t, srv.URL, []string{"us-east-1", "eu-west-1"},
		scantest.Options{APIOptions: []func(*middleware.Stack) error{counter.Install}}, scantest.Checks(iamscanner.Scanner())...)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	want := map[string]map[scantest.Key]model.Status{
		"iam-access-key-unrotated": {
			k("iam-access-key-unrotated", id(oldKey.AccessKeyId)): F, k("iam-access-key-unrotated", id(usedKey.AccessKeyId)): F,
			k("iam-access-key-unrotated", id(freshKey.AccessKeyId)): P,
			k("iam-access-key-unrotated", id(twoA.AccessKeyId)):     P, k("iam-access-key-unrotated", id(twoB.AccessKeyId)): P,
		},
		"iam-credential-unused": {
			k("iam-credential-unused", "old-key"): F, k("iam-credential-unused", "old-key-used-today"): P, k("iam-credential-unused", "old-console"): F,
			k("iam-credential-unused", "fresh-key"): P, k("iam-credential-unused", "two-keys"): P,
			k("iam-credential-unused", "console-mfa"): P, k("iam-credential-unused", "console-no-mfa"): P,
		},
		"iam-user-console-without-mfa": {
			k("iam-user-console-without-mfa", "old-console"): F, k("iam-user-console-without-mfa", "console-mfa"): P,
			k("iam-user-console-without-mfa", "console-no-mfa"): F,
		},
		"iam-user-multiple-active-keys": {
			k("iam-user-multiple-active-keys", "two-keys"): F, k("iam-user-multiple-active-keys", "old-key"): P,
			k("iam-user-multiple-active-keys", "old-key-used-today"): P, k("iam-user-multiple-active-keys", "old-inactive-key"): P,
			k("iam-user-multiple-active-keys", "old-console"): P, k("iam-user-multiple-active-keys", "fresh-key"): P,
			k("iam-user-multiple-active-keys", "console-mfa"): P, k("iam-user-multiple-active-keys", "console-no-mfa"): P,
			k("iam-user-multiple-active-keys", "no-credentials"): P,
		},
		// The emulator's GetAccountSummary always reports root keys absent
		// and root MFA off.
		"iam-root-access-key-present":    {k("iam-root-access-key-present", account): P},
		"iam-root-mfa-disabled":          {k("iam-root-mfa-disabled", account): F},
		"iam-password-policy-weak":       {k("iam-password-policy-weak", account): F},
		"iam-server-certificate-expired": {k("iam-server-certificate-expired", "legacy-elb"): F},
	}
	for checkID, w := range want {
		scantest.ExpectExactly(t, scan, checkID, w, nil)
	}
	old := scantest.Find(t, scan, "iam-access-key-unrotated", "global", id(oldKey.AccessKeyId))
	if old.Evidence["age_days"] != 120 || old.Evidence["source"] != "ListAccessKeys" || old.Severity != model.SeverityMedium {
		t.Errorf("old key evidence %v", old.Evidence)
	}
	// The credential report is the index of the per-user calls: the users
	// it shows without an active key (old-inactive-key, the console users,
	// no-credentials) cost no ListAccessKeys, and a key whose report view
	// already keeps it under the threshold (fresh-key's, never used and
	// created today; old-key-used-today's, used today) no
	// GetAccessKeyLastUsed. old-key's (idle 120 days by the report) is
	// confirmed live, and so are two-keys' keys when they were created in
	// the same second (the report cannot tell them apart).
	calls := map[string]int{}
	for _, c := range counter.Snapshot() {
		calls[c.Operation] = c.Calls
	}
	wantLastUsed := 1
	if aws.ToTime(twoA.CreateDate).Truncate(time.Second).Equal(aws.ToTime(twoB.CreateDate).Truncate(time.Second)) {
		wantLastUsed += 2
	}
	if calls["ListAccessKeys"] != 4 || calls["GetAccessKeyLastUsed"] != wantLastUsed {
		t.Errorf("ListAccessKeys %d calls, want 4; GetAccessKeyLastUsed %d, want %d", calls["ListAccessKeys"], calls["GetAccessKeyLastUsed"], wantLastUsed)
	}
	unusedCred := func(user string) map[string]any {
		r := scantest.Find(t, scan, "iam-credential-unused", "global", user)
		return r.Evidence["credentials"].([]map[string]any)[0]
	}
	if c := unusedCred("old-key-used-today"); c["last_used_source"] != iamscanner.SourceReport || c["idle_days"] != 0 {
		t.Errorf("old-key-used-today evidence %v", c)
	}
	if c := unusedCred("old-key"); c["last_used"] != "never" || c["created_source"] != iamscanner.SourceAccessKeys || c["idle_days"] != 120 {
		t.Errorf("old-key evidence %v", c)
	}
	if r := scantest.Find(t, scan, "iam-user-multiple-active-keys", "global", "no-credentials"); r.Evidence["source"] != iamscanner.SourceReport {
		t.Errorf("no-credentials evidence %v", r.Evidence)
	}
	if r := scantest.Find(t, scan, "iam-user-multiple-active-keys", "global", "two-keys"); r.Evidence["source"] != iamscanner.SourceAccessKeys {
		t.Errorf("two-keys evidence %v", r.Evidence)
	}
	if r := scantest.Find(t, scan, "iam-password-policy-weak", "global", account); r.Message != "account 123456789012 has a weak password policy: minimum length 8 < 14, reuse prevention 0 < 24" {
		t.Errorf("password policy: %q", r.Message)
	}
	if r := scantest.Find(t, scan, "iam-root-mfa-disabled", "global", account); r.Evidence["credential_report"] != "no <root_account> row" {
		t.Errorf("root evidence: %v", r.Evidence)
	}
	if scan.Scan.Thresholds["credentials.max_key_age_days"] != 90 {
		t.Errorf("scan thresholds %v", scan.Scan.Thresholds)
	}

	// Raised thresholds, loaded as `posture scan --config` loads them: no
	// key or credential is old enough to fail.
	path := filepath.Join(t.TempDir(), "posture.yaml")
	if err := os.WriteFile(path, []byte("credentials:\n  max_key_age_days: 365\n  unused_days: 400\n  password_min_length: 8\n  password_reuse_prevention: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raised, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	scan = scantest.ScanWith(t, srv.URL, []string{"us-east-1"}, scantest.Options{Config: &raised},
		"iam-access-key-unrotated", "iam-credential-unused")
	for key, st := range scantest.Statuses(scan, "") {
		if st != P {
			t.Errorf("%s: %s with raised thresholds\n%s", key, st, scantest.Dump(scan, ""))
		}
	}
	if n := len(scantest.Statuses(scan, "")); n != 12 {
		t.Errorf("%d results with raised thresholds, want 12 (5 keys, 7 users)", n)
	}
	if scan.Scan.Thresholds["credentials.max_key_age_days"] != 365 {
		t.Errorf("scan thresholds %v", scan.Scan.Thresholds)
	}
}

// stuckReport is a reverse proxy to the emulator that answers every
// GenerateCredentialReport with STARTED, as a report that never completes.
func stuckReport(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), "Action=GenerateCredentialReport") {
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<GenerateCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GenerateCredentialReportResult><State>STARTED</State><Description>No report exists. Starting a new report generation task</Description></GenerateCredentialReportResult><ResponseMetadata><RequestId>stuck</RequestId></ResponseMetadata></GenerateCredentialReportResponse>`)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCredentialReportThatNeverCompletesIsAGap(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	s := seeder{t, ctx, iam.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))}
	s.user("alice")
	s.password("alice")
	aliceKey := s.key("alice")

	scanner := iamscanner.NewScanner(iamscanner.Options{Report: iamscanner.ReportWait{Timeout: 2 * time.Second, Poll: 100 * time.Millisecond}})
	begin := time.Now()
	scan := scantest.ScanWith(t, stuckReport(t, srv.URL), []string{"us-east-1"}, scantest.Options{Scanners: []check.Scanner{scanner}})
	if elapsed := time.Since(begin); elapsed > 20*time.Second {
		t.Errorf("the scan took %s with a 2 s report wait", elapsed)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || gaps[0].Service != "iam" || gaps[0].Region != "global" || len(gaps[0].Failures) != 1 ||
		gaps[0].Failures[0].Part != "credential-report" || gaps[0].Failures[0].Operation != "GenerateCredentialReport" ||
		gaps[0].Failures[0].Error != "the credential report did not complete within 2s (last state: STARTED)" {
		t.Fatalf("gaps %+v", gaps)
	}
	const P, F, E = model.StatusPass, model.StatusFail, model.StatusError
	k := func(check, resource string) scantest.Key {
		return scantest.Key{Check: check, Region: "global", Resource: resource}
	}
	// The report-based checks are ERROR for the account, never PASS; the
	// checks that read live data still decide.
	scantest.ExpectExactly(t, scan, "iam-user-console-without-mfa", map[scantest.Key]model.Status{k("iam-user-console-without-mfa", ""): E}, nil)
	scantest.ExpectExactly(t, scan, "iam-credential-unused", map[scantest.Key]model.Status{k("iam-credential-unused", ""): E}, nil)
	scantest.ExpectExactly(t, scan, "iam-access-key-unrotated", map[scantest.Key]model.Status{k("iam-access-key-unrotated", aws.ToString(aliceKey.AccessKeyId)): P}, nil)
	scantest.ExpectExactly(t, scan, "iam-root-mfa-disabled", map[scantest.Key]model.Status{k("iam-root-mfa-disabled", account): F}, nil)
	r := scantest.Find(t, scan, "iam-credential-unused", "global", "")
	if !strings.Contains(r.Message, "credential-report could not be collected (GenerateCredentialReport): the credential report did not complete within 2s") {
		t.Errorf("ERROR message %q", r.Message)
	}
	if r := scantest.Find(t, scan, "iam-root-mfa-disabled", "global", account); r.Evidence["credential_report"] != "not available" {
		t.Errorf("root evidence %v", r.Evidence)
	}
}

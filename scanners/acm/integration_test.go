package acm_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
	acmscanner "github.com/posture-dev/posture/scanners/acm"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const day = 24 * time.Hour

func selfSigned(t *testing.T, cn string, notAfter time.Time) ([]byte, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-day), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestACMExpiryAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	imp := func(region, cn string, validFor time.Duration) string {
		t.Helper()
		cert, key := selfSigned(t, cn, time.Now().Add(validFor))
		out, err := acm.NewFromConfig(emutest.Config(t, srv.URL, region)).ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return acmscanner.CertificateID(aws.ToString(out.CertificateArn))
	}
	soon := imp("us-east-1", "soon.example.com", 10*day)
	later := imp("us-east-1", "later.example.com", 365*day)
	euSoon := imp("eu-west-1", "eu-soon.example.com", 20*day)
	// A requested certificate stays PENDING_VALIDATION: not ISSUED, no result.
	if _, err := acm.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1")).RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("pending.example.com")}); err != nil {
		t.Fatal(err)
	}

	regions := []string{"us-east-1", "eu-west-1"}
	scan := scantest.Scan(t, srv.URL, regions, "acm-certificate-expiring")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	k := func(region, id string) scantest.Key {
		return scantest.Key{Check: "acm-certificate-expiring", Region: region, Resource: id}
	}
	const P, F = model.StatusPass, model.StatusFail
	scantest.ExpectExactly(t, scan, "acm-certificate-expiring", map[scantest.Key]model.Status{
		k("us-east-1", soon): F, k("us-east-1", later): P, k("eu-west-1", euSoon): F,
	}, nil)
	r := scantest.Find(t, scan, "acm-certificate-expiring", "us-east-1", soon)
	if r.Severity != model.SeverityMedium || r.Evidence["domain_name"] != "soon.example.com" || r.Evidence["days_left"] != 9 {
		t.Errorf("expiring soon: %s %v", r.Severity, r.Evidence)
	}

	// A 5-day warning window: nothing expires within it.
	narrow, err := config.Parse([]byte("credentials:\n  certificate_warning_days: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	scan = scantest.ScanWith(t, srv.URL, regions, scantest.Options{Config: &narrow}, "acm-certificate-expiring")
	scantest.ExpectExactly(t, scan, "acm-certificate-expiring", map[scantest.Key]model.Status{
		k("us-east-1", soon): P, k("us-east-1", later): P, k("eu-west-1", euSoon): P,
	}, nil)
}

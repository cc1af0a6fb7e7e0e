package s3_test

import (
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

// TestGetBucketLocationDeniedForOneBucket: a bucket whose region cannot be
// read does not vanish: every selected bucket check reports it ERROR (on
// the account's global scope, as its region is unknown), the other buckets
// are judged, the account check is unaffected, and coverage records the
// failure. No per-bucket read is made for it.
func TestGetBucketLocationDeniedForOneBucket(t *testing.T) {
	srv := emutest.Fresh(t)
	createBuckets(t, srv.URL, []bucketSpec{
		{name: "loc-denied", region: "eu-west-1", acl: s3types.BucketCannedACLPublicRead},
		{name: "loc-public", region: "us-east-1", acl: s3types.BucketCannedACLPublicRead},
		{name: "loc-private", region: "eu-west-1"},
	})
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "s3", PathContains: "/loc-denied", QueryHas: "location", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	checks := []string{"s3-bucket-public", "s3-bucket-unencrypted", "s3-bucket-tls-not-enforced", "s3-account-public-access-block-off"}
	scan := scantest.Scan(t, p.URL, []string{"us-east-1", "eu-west-1"}, checks...)
	const P, F, E = model.StatusPass, model.StatusFail, model.StatusError
	key := func(check, region, id string) scantest.Key {
		return scantest.Key{Check: check, Region: region, Resource: id}
	}
	want := map[string]map[scantest.Key]model.Status{
		"s3-bucket-public": {
			key("s3-bucket-public", "global", "loc-denied"):     E,
			key("s3-bucket-public", "us-east-1", "loc-public"):  F,
			key("s3-bucket-public", "eu-west-1", "loc-private"): P,
		},
		"s3-bucket-unencrypted": {
			key("s3-bucket-unencrypted", "global", "loc-denied"): E,
			// moto applies no default encryption
			key("s3-bucket-unencrypted", "us-east-1", "loc-public"):  F,
			key("s3-bucket-unencrypted", "eu-west-1", "loc-private"): F,
		},
		"s3-bucket-tls-not-enforced": {
			key("s3-bucket-tls-not-enforced", "global", "loc-denied"):     E,
			key("s3-bucket-tls-not-enforced", "us-east-1", "loc-public"):  F,
			key("s3-bucket-tls-not-enforced", "eu-west-1", "loc-private"): F,
		},
		"s3-account-public-access-block-off": {
			key("s3-account-public-access-block-off", "global", account): F,
		},
	}
	for _, c := range checks {
		scantest.ExpectExactly(t, scan, c, want[c], nil)
	}
	r := scantest.Find(t, scan, "s3-bucket-public", "global", "loc-denied")
	if r.Message != "could not find the region of bucket loc-denied (GetBucketLocation): AccessDenied: Access Denied" ||
		r.ResourceARN != "arn:aws:s3:::loc-denied" || r.Evidence["location_error"] != "AccessDenied: Access Denied" {
		t.Errorf("unlocated bucket: %q %q %v", r.Message, r.ResourceARN, r.Evidence)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || len(gaps[0].Failures) != 1 {
		t.Fatalf("want one coverage gap with one failure, got %+v", gaps)
	}
	if f := gaps[0].Failures[0]; f.Part != "buckets" || f.Operation != "GetBucketLocation" || f.Resource != "loc-denied" || f.Code != "AccessDenied" {
		t.Errorf("failure: %+v", f)
	}
	if n := p.Injected()[faultproxy.AccessDenied]; n != 1 {
		t.Errorf("the proxy injected %d faults, want 1", n)
	}
}

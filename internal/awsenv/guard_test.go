package awsenv_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/readonly"
)

// TestSharedClientRefusesWithoutMiddleware: an EC2 client built on the
// shared HTTP client without the read-only middleware (no APIOptions at all)
// is refused CreateVpc at the transport, and the server sees no request;
// DescribeVpcs, on the list, goes through. The same holds for a copy of the
// shared client the SDK derives (a CA bundle's).
func TestSharedClientRefusesWithoutMiddleware(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		_, _ = io.WriteString(w, `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet/></DescribeVpcsResponse>`)
	}))
	defer srv.Close()
	derived := awsenv.SharedHTTPClient().WithTransportOptions(func(*http.Transport) {})
	for name, hc := range map[string]aws.HTTPClient{"shared": awsenv.SharedHTTPClient(), "derived": derived} {
		seen = nil
		client := ec2.New(ec2.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
			BaseEndpoint: aws.String(srv.URL),
			HTTPClient:   hc,
		})
		ctx := context.Background()
		_, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		var refused *readonly.RefusedError
		if !errors.As(err, &refused) || refused.Service != "ec2" || refused.Operation != "CreateVpc" {
			t.Fatalf("%s: CreateVpc: %v, want ec2 CreateVpc refused at the transport", name, err)
		}
		if _, err := client.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String("i-1")}); !errors.As(err, &refused) {
			t.Errorf("%s: GetPasswordData: %v, want refused", name, err)
		}
		if len(seen) != 0 {
			t.Fatalf("%s: the server saw %q for refused calls", name, seen)
		}
		if _, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("%s: DescribeVpcs: %v", name, err)
		}
		if len(seen) != 1 || !strings.Contains(seen[0], "Action=DescribeVpcs") {
			t.Errorf("%s: the server saw %q, want one DescribeVpcs with its body intact", name, seen)
		}
	}
}

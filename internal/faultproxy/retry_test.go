package faultproxy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/apicount"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
)

// liftAfterFailedAttempt is client middleware that removes the proxy's
// rules once an attempt has failed, so the first attempt of a call gets the
// fault and the retry reaches the emulator.
func liftAfterFailedAttempt(p *faultproxy.Proxy) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("LiftFaultsAfterFailure",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					_ = p.SetRules()
				}
				return out, md, err
			}), middleware.After)
	}
}

// TestSDKRetriesEveryFaultInEveryProtocol: with the product's retryer
// (standard mode), a throttle, a 500 and a dropped connection on the first
// attempt are each retried, and the call succeeds on the second attempt, for
// the EC2 query, query/XML, JSON and S3 REST-XML protocols.
func TestSDKRetriesEveryFaultInEveryProtocol(t *testing.T) {
	srv := emutest.Fresh(t)
	calls := []struct {
		protocol, service string
		call              func(context.Context, aws.Config) error
	}{
		{"ec2 query", "ec2", func(ctx context.Context, cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			return err
		}},
		{"query/XML (IAM)", "iam", func(ctx context.Context, cfg aws.Config) error {
			_, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}},
		{"query/XML (RDS)", "rds", func(ctx context.Context, cfg aws.Config) error {
			_, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
			return err
		}},
		{"JSON 1.0 (DynamoDB)", "dynamodb", func(ctx context.Context, cfg aws.Config) error {
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}},
		{"JSON 1.1 (KMS)", "kms", func(ctx context.Context, cfg aws.Config) error {
			_, err := kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{})
			return err
		}},
		{"REST-XML (S3)", "s3", func(ctx context.Context, cfg aws.Config) error {
			_, err := awsenv.S3(cfg, region).ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
	}
	for _, c := range calls {
		for _, fault := range []faultproxy.Fault{faultproxy.Throttle, faultproxy.ServerError, faultproxy.DropConnection} {
			t.Run(fmt.Sprintf("%s %v", c.protocol, fault), func(t *testing.T) {
				p := newProxy(t, srv.URL, faultproxy.Rule{Service: c.service, Fault: fault})
				cfg := emutest.Config(t, p.URL, region)
				cfg.Retryer = func() aws.Retryer { return awsenv.NewRetryerWith(3, 5*time.Millisecond) }
				counter := &apicount.Counter{}
				cfg.APIOptions = append(cfg.APIOptions, liftAfterFailedAttempt(p), counter.Install)
				if err := c.call(context.Background(), cfg); err != nil {
					t.Fatalf("the call failed despite a retry: %v", err)
				}
				if got := p.Injected()[fault]; got != 1 {
					t.Errorf("injected %v %d times, want 1", fault, got)
				}
				if calls, attempts := counter.Total(); calls != 1 || attempts != 2 {
					t.Errorf("%d calls, %d attempts; want 1 call retried once", calls, attempts)
				}
			})
		}
	}
}

package emutest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// DefaultSubnets returns the ID of the default VPC of cfg's region, which
// the emulator creates in every region, and two of its subnets: enough for
// the DB, cache and cluster subnet groups of RDS, ElastiCache and Redshift,
// and for a Lambda function's VpcConfig.
func DefaultSubnets(t testing.TB, cfg aws.Config) (vpcID string, subnetIDs []string) {
	t.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("emutest: default VPC in %s: %v %+v", cfg.Region, err, vpcs)
	}
	vpcID = aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil || len(subnets.Subnets) < 2 {
		t.Fatalf("emutest: subnets of the default VPC %s in %s: %v %+v", vpcID, cfg.Region, err, subnets)
	}
	return vpcID, []string{aws.ToString(subnets.Subnets[0].SubnetId), aws.ToString(subnets.Subnets[1].SubnetId)}
}

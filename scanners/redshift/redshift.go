// Package redshift collects Redshift clusters of one region and holds the
// checks that read them.
package redshift

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// PartClusters is the inventory part holding the clusters.
const PartClusters = "clusters"

// Inventory is what the Redshift scanner collects in one region.
type Inventory struct {
	AccountID string    `json:"account_id"`
	Region    string    `json:"region"`
	Partition string    `json:"partition"`
	Clusters  []Cluster `json:"clusters"`
}

// Cluster is a provisioned Redshift cluster.
type Cluster struct {
	ID                 string `json:"id"`
	PubliclyAccessible bool   `json:"publicly_accessible"`
	Encrypted          bool   `json:"encrypted"`
	VPCID              string `json:"vpc_id,omitempty"`
	Endpoint           string `json:"endpoint,omitempty"`
}

// Scanner returns the Redshift scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "redshift", Collect: Collect, List: Checks()}
}

// Collect lists the region's clusters (every page).
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, redshift.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api redshift.DescribeClustersAPIClient, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartClusters) {
		return inv
	}
	p := redshift.NewDescribeClustersPaginator(api, &redshift.DescribeClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			gaps.Add(PartClusters, "DescribeClusters", "", err)
			inv.Clusters = nil
			return inv
		}
		for _, c := range page.Clusters {
			cl := Cluster{
				ID: aws.ToString(c.ClusterIdentifier), PubliclyAccessible: aws.ToBool(c.PubliclyAccessible),
				Encrypted: aws.ToBool(c.Encrypted), VPCID: aws.ToString(c.VpcId),
			}
			if c.Endpoint != nil {
				cl.Endpoint = aws.ToString(c.Endpoint.Address)
			}
			inv.Clusters = append(inv.Clusters, cl)
		}
	}
	return inv
}

// Checks returns the Redshift checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "redshift-cluster-public", Title: "Redshift cluster is publicly accessible",
				Family: model.FamilyPublicExposure, Service: "redshift", Severity: model.SeverityHigh, ResourceType: "AWS::Redshift::Cluster",
				Rationale:   "A publicly accessible cluster gets a public address; the warehouse is then one security group rule away from the internet.",
				Remediation: "Modify the cluster with PubliclyAccessible=false and query it from inside the VPC.",
				References:  []string{"https://docs.aws.amazon.com/redshift/latest/mgmt/managing-clusters-vpc.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html#redshift-1"},
			},
			Needs: []string{PartClusters},
			Eval:  publicCheck,
		},
	}
}

func publicCheck(inv *Inventory) []check.Finding {
	partition := inv.Partition
	if partition == "" {
		partition = "aws"
	}
	var out []check.Finding
	for _, c := range inv.Clusters {
		a := fmt.Sprintf("arn:%s:redshift:%s:%s:cluster:%s", partition, inv.Region, inv.AccountID, c.ID)
		evidence := map[string]any{"publicly_accessible": c.PubliclyAccessible, "vpc_id": c.VPCID}
		if c.PubliclyAccessible {
			evidence["endpoint"] = c.Endpoint
			out = append(out, check.Fail(c.ID, a, fmt.Sprintf("Redshift cluster %s is PubliclyAccessible", c.ID), evidence))
			continue
		}
		out = append(out, check.Pass(c.ID, a, fmt.Sprintf("Redshift cluster %s is not publicly accessible", c.ID), evidence))
	}
	return out
}

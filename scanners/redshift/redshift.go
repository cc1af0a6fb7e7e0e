// Package redshift collects Redshift clusters of one region and holds the
// checks that read them.
package redshift

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshift/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
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
	KMSKeyID           string `json:"kms_key_id,omitempty"`
	VPCID              string `json:"vpc_id,omitempty"`
	// SubnetGroup is the cluster subnet group (a set of VPC subnets) the
	// cluster was launched in.
	SubnetGroup string `json:"cluster_subnet_group,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"`
}

// Scanner returns the Redshift scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "redshift", Collect: Collect, List: Checks()}
}

// API is the one Redshift call the collector makes, on the read-only
// allow-list (scanners/guard_test.go checks it).
type API interface {
	redshift.DescribeClustersAPIClient
}

// Collect lists the region's clusters (every page).
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, redshift.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartClusters) {
		return inv
	}
	listed, err := paging.All(ctx, redshift.NewDescribeClustersPaginator(api, &redshift.DescribeClustersInput{}),
		func(page *redshift.DescribeClustersOutput) []types.Cluster { return page.Clusters })
	if err != nil {
		gaps.Add(PartClusters, "DescribeClusters", "", err)
		return inv
	}
	for _, c := range listed {
		cl := Cluster{
			ID: aws.ToString(c.ClusterIdentifier), PubliclyAccessible: aws.ToBool(c.PubliclyAccessible),
			Encrypted: aws.ToBool(c.Encrypted), KMSKeyID: aws.ToString(c.KmsKeyId),
			VPCID: aws.ToString(c.VpcId), SubnetGroup: aws.ToString(c.ClusterSubnetGroupName),
		}
		if c.Endpoint != nil {
			cl.Endpoint = aws.ToString(c.Endpoint.Address)
		}
		inv.Clusters = append(inv.Clusters, cl)
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
		{
			Meta: check.Meta{
				ID: "redshift-cluster-outside-vpc", Title: "Redshift cluster is not in a VPC",
				Family: model.FamilyOutsideVPC, Service: "redshift", Severity: model.SeverityMedium, ResourceType: "AWS::Redshift::Cluster",
				Rationale:   "A cluster outside a VPC (EC2-Classic) has no subnet, route table or network ACL of the account around it and cannot use VPC-only features such as enhanced VPC routing.",
				Remediation: "Create a cluster subnet group and move the cluster into the VPC (restore a snapshot into it, or use the EC2-Classic migration path).",
				References:  []string{"https://docs.aws.amazon.com/redshift/latest/mgmt/managing-clusters-vpc.html", "https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-cluster-subnet-groups.html"},
			},
			Needs: []string{PartClusters},
			Eval:  outsideVPCCheck,
		},
		{
			Meta: check.Meta{
				ID: "redshift-cluster-unencrypted", Title: "Redshift cluster is not encrypted",
				Family: model.FamilyUnencrypted, Service: "redshift", Severity: model.SeverityHigh, ResourceType: "AWS::Redshift::Cluster",
				Rationale:   "An unencrypted cluster stores its data blocks, system metadata and snapshots in clear.",
				Remediation: "Modify the cluster to enable encryption with an AWS KMS key (Redshift migrates the data to an encrypted cluster).",
				References:  []string{"https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html#redshift-10"},
			},
			Needs: []string{PartClusters},
			Eval:  unencryptedCheck,
		},
	}
}

// clusterARN builds a cluster's ARN, which DescribeClusters does not report.
func clusterARN(inv *Inventory, id string) string {
	return check.ARN(inv.Partition, "redshift", inv.Region, inv.AccountID, "cluster:"+id)
}

func publicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, c := range inv.Clusters {
		a := clusterARN(inv, c.ID)
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

// outsideVPCCheck fails a cluster that is in no VPC. A cluster is in a VPC
// when DescribeClusters reports its VpcId, or when it has a cluster subnet
// group: a subnet group is a set of VPC subnets, and a cluster launched in
// one is in that VPC even where the VpcId is not reported. Only a cluster
// with neither is outside a VPC (EC2-Classic).
func outsideVPCCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, c := range inv.Clusters {
		a := clusterARN(inv, c.ID)
		evidence := map[string]any{"vpc_id": c.VPCID, "cluster_subnet_group": c.SubnetGroup}
		switch {
		case c.VPCID != "":
			out = append(out, check.Pass(c.ID, a, fmt.Sprintf("Redshift cluster %s is in VPC %s", c.ID, c.VPCID), evidence))
		case c.SubnetGroup != "":
			out = append(out, check.Pass(c.ID, a, fmt.Sprintf("Redshift cluster %s is in a VPC through its cluster subnet group %s", c.ID, c.SubnetGroup), evidence))
		default:
			out = append(out, check.Fail(c.ID, a, fmt.Sprintf("Redshift cluster %s has no VPC and no cluster subnet group: it is not in a VPC", c.ID), evidence))
		}
	}
	return out
}

func unencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, c := range inv.Clusters {
		a := clusterARN(inv, c.ID)
		evidence := map[string]any{"encrypted": c.Encrypted, "kms_key_id": c.KMSKeyID}
		if !c.Encrypted {
			out = append(out, check.Fail(c.ID, a, fmt.Sprintf("Redshift cluster %s is not encrypted", c.ID), evidence))
			continue
		}
		out = append(out, check.Pass(c.ID, a, fmt.Sprintf("Redshift cluster %s is encrypted", c.ID), evidence))
	}
	return out
}

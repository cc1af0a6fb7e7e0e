package awsenv

// The region matrix is computed once per account before any scanner runs:
//
//  1. The partition comes from the caller's ARN (aws, aws-cn, aws-us-gov, ...):
//     credentials of one partition cannot reach another, so regions of other
//     partitions are never scanned, even when DescribeRegions lists them (the
//     emulator lists China and GovCloud regions beside commercial ones).
//  2. `all` means the account's enabled regions: DescribeRegions, keeping the
//     regions whose opt-in status is "opt-in-not-required" or "opted-in". The
//     filter is applied here, not through the API's AllRegions parameter and
//     filters, because not every endpoint (the emulator among them) honours
//     those.
//  3. An explicit list is validated: a malformed or unknown name, a region of
//     another partition, or a region the account has not opted into is a
//     usage error naming the region, not a silent empty scan.
//
// Global services (S3's bucket list, IAM) are scanned once per account in the
// partition's home region, and their results carry the region "global" unless
// the resource lives in a region of its own.

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// PartitionOf returns the partition a region name belongs to.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// HomeRegion is the region where a partition's global services are called.
func HomeRegion(partition string) string {
	switch partition {
	case "aws-cn":
		return "cn-north-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-iso":
		return "us-iso-east-1"
	case "aws-iso-b":
		return "us-isob-east-1"
	case "aws-iso-e":
		return "eu-isoe-west-1"
	case "aws-iso-f":
		return "us-isof-south-1"
	case "aws-eusc":
		return "eusc-de-east-1"
	}
	return "us-east-1"
}

// Region is one region as DescribeRegions reports it.
type Region struct {
	Name        string
	OptInStatus string
}

// Enabled reports whether the account can use the region.
func (r Region) Enabled() bool {
	return r.OptInStatus == "" || r.OptInStatus == "opt-in-not-required" || r.OptInStatus == "opted-in"
}

// DescribeRegions lists every region EC2 knows for the account, enabled or not.
func DescribeRegions(ctx context.Context, cfg aws.Config) ([]Region, error) {
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("list regions with ec2:DescribeRegions in %s: %w", cfg.Region, err)
	}
	regions := make([]Region, 0, len(out.Regions))
	for _, r := range out.Regions {
		regions = append(regions, Region{Name: aws.ToString(r.RegionName), OptInStatus: aws.ToString(r.OptInStatus)})
	}
	return regions, nil
}

// regionName is the shape of a region name: a two-letter area (four for the
// European Sovereign Cloud, eusc-de-east-1), words, a number.
var regionName = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]+$`)

// IsRegionName reports whether name has the shape of a region name, e.g.
// us-east-1 (whether the region exists is for DescribeRegions to say).
func IsRegionName(name string) bool { return regionName.MatchString(name) }

// SelectRegions turns the user's request (nil or ["all"] for every enabled
// region, else a list of names) into the sorted list of regions to scan in
// partition, given what DescribeRegions reported.
func SelectRegions(requested []string, known []Region, partition string) ([]string, error) {
	all := len(requested) == 0 || (len(requested) == 1 && requested[0] == "all")
	byName := map[string]Region{}
	for _, r := range known {
		byName[r.Name] = r
	}
	var selected []string
	seen := map[string]bool{}
	if all {
		for _, r := range known {
			if r.Enabled() && PartitionOf(r.Name) == partition && !seen[r.Name] {
				selected = append(selected, r.Name)
				seen[r.Name] = true
			}
		}
		if len(selected) == 0 {
			return nil, fmt.Errorf("no enabled region in partition %s", partition)
		}
		sort.Strings(selected)
		return selected, nil
	}
	for _, name := range requested {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			return nil, fmt.Errorf("region list: %q cannot be combined with other regions", "all")
		case !regionName.MatchString(name):
			return nil, fmt.Errorf("region %q: not a region name (expected e.g. us-east-1)", name)
		case PartitionOf(name) != partition:
			return nil, fmt.Errorf("region %q is in partition %s, but the credentials are for partition %s", name, PartitionOf(name), partition)
		}
		if known != nil {
			r, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("region %q: unknown region (not listed by ec2:DescribeRegions)", name)
			}
			if !r.Enabled() {
				return nil, fmt.Errorf("region %q is not enabled for this account (opt-in status %s)", name, r.OptInStatus)
			}
		}
		if !seen[name] {
			selected = append(selected, name)
			seen[name] = true
		}
	}
	sort.Strings(selected)
	return selected, nil
}

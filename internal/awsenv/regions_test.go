package awsenv

import (
	"reflect"
	"strings"
	"testing"
)

// known is what DescribeRegions(AllRegions) reports, as the emulator does:
// commercial regions in every opt-in state, plus China and GovCloud.
var known = []Region{
	{Name: "us-east-1", OptInStatus: "opt-in-not-required"},
	{Name: "eu-west-1", OptInStatus: "opt-in-not-required"},
	{Name: "ap-east-1", OptInStatus: "opted-in"},
	{Name: "af-south-1", OptInStatus: "not-opted-in"},
	{Name: "me-south-1", OptInStatus: "not-opted-in"},
	{Name: "eu-central-1", OptInStatus: ""},
	{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, // listed twice
	{Name: "cn-north-1", OptInStatus: "opt-in-not-required"},
	{Name: "cn-northwest-1", OptInStatus: "opt-in-not-required"},
	{Name: "us-gov-west-1", OptInStatus: "opt-in-not-required"},
}

func TestSelectRegions(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		known     []Region
		partition string
		want      []string
		wantErr   []string // substrings of the error
	}{
		{name: "nil means all enabled in partition, sorted", requested: nil, known: known, partition: "aws",
			want: []string{"ap-east-1", "eu-central-1", "eu-west-1", "us-east-1"}},
		{name: "empty list means all", requested: []string{}, known: known, partition: "aws",
			want: []string{"ap-east-1", "eu-central-1", "eu-west-1", "us-east-1"}},
		{name: "all", requested: []string{"all"}, known: known, partition: "aws",
			want: []string{"ap-east-1", "eu-central-1", "eu-west-1", "us-east-1"}},
		{name: "all in aws-cn keeps only China", requested: []string{"all"}, known: known, partition: "aws-cn",
			want: []string{"cn-north-1", "cn-northwest-1"}},
		{name: "all in aws-us-gov keeps only GovCloud", requested: []string{"all"}, known: known, partition: "aws-us-gov",
			want: []string{"us-gov-west-1"}},
		{name: "all with no enabled region", requested: []string{"all"},
			known: []Region{{Name: "af-south-1", OptInStatus: "not-opted-in"}, {Name: "cn-north-1"}}, partition: "aws",
			wantErr: []string{"no enabled region in partition aws"}},
		{name: "all with nothing known", requested: []string{"all"}, known: nil, partition: "aws",
			wantErr: []string{"no enabled region"}},
		{name: "explicit list sorted and deduplicated", requested: []string{"us-east-1", "eu-west-1", "us-east-1", " ap-east-1 "}, known: known, partition: "aws",
			want: []string{"ap-east-1", "eu-west-1", "us-east-1"}},
		{name: "explicit single", requested: []string{"eu-central-1"}, known: known, partition: "aws",
			want: []string{"eu-central-1"}},
		{name: "explicit unknown", requested: []string{"us-east-1", "eu-west-9"}, known: known, partition: "aws",
			wantErr: []string{`"eu-west-9"`, "unknown region"}},
		{name: "explicit malformed", requested: []string{"useast1"}, known: known, partition: "aws",
			wantErr: []string{`"useast1"`, "not a region name"}},
		{name: "explicit upper case", requested: []string{"US-EAST-1"}, known: known, partition: "aws",
			wantErr: []string{"not a region name"}},
		{name: "explicit empty name", requested: []string{""}, known: known, partition: "aws",
			wantErr: []string{"not a region name"}},
		{name: "explicit global pseudo-region", requested: []string{"global"}, known: known, partition: "aws",
			wantErr: []string{"not a region name"}},
		{name: "explicit region of another partition (China)", requested: []string{"cn-north-1"}, known: known, partition: "aws",
			wantErr: []string{`"cn-north-1"`, "partition aws-cn", "credentials are for partition aws"}},
		{name: "explicit region of another partition (GovCloud)", requested: []string{"us-gov-west-1"}, known: known, partition: "aws",
			wantErr: []string{"partition aws-us-gov"}},
		{name: "explicit commercial region from China credentials", requested: []string{"us-east-1"}, known: known, partition: "aws-cn",
			wantErr: []string{"partition aws,", "credentials are for partition aws-cn"}},
		{name: "explicit not opted in", requested: []string{"af-south-1"}, known: known, partition: "aws",
			wantErr: []string{`"af-south-1"`, "not enabled", "not-opted-in"}},
		{name: "explicit opted in", requested: []string{"ap-east-1"}, known: known, partition: "aws",
			want: []string{"ap-east-1"}},
		{name: "all combined with a region", requested: []string{"all", "us-east-1"}, known: known, partition: "aws",
			wantErr: []string{`"all" cannot be combined`}},
		{name: "nil known list: syntactic check only", requested: []string{"eu-west-3", "ap-southeast-5", "eu-west-3"}, known: nil, partition: "aws",
			want: []string{"ap-southeast-5", "eu-west-3"}},
		{name: "nil known list: malformed still refused", requested: []string{"eu_west_3"}, known: nil, partition: "aws",
			wantErr: []string{"not a region name"}},
		{name: "nil known list: other partition still refused", requested: []string{"cn-north-1"}, known: nil, partition: "aws",
			wantErr: []string{"partition aws-cn"}},
		{name: "China explicit", requested: []string{"cn-northwest-1", "cn-north-1"}, known: known, partition: "aws-cn",
			want: []string{"cn-north-1", "cn-northwest-1"}},
		{name: "European Sovereign Cloud explicit", requested: []string{"eusc-de-east-1"}, known: nil, partition: "aws-eusc",
			want: []string{"eusc-de-east-1"}},
		{name: "European Sovereign Cloud all", requested: nil, known: []Region{{Name: "eusc-de-east-1", OptInStatus: "opt-in-not-required"}}, partition: "aws-eusc",
			want: []string{"eusc-de-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectRegions(tt.requested, tt.known, tt.partition)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("SelectRegions = %v, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if got != nil {
					t.Errorf("regions %v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("SelectRegions: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SelectRegions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegionEnabled(t *testing.T) {
	for status, want := range map[string]bool{
		"": true, "opt-in-not-required": true, "opted-in": true, "not-opted-in": false, "unknown": false,
	} {
		if got := (Region{Name: "x", OptInStatus: status}).Enabled(); got != want {
			t.Errorf("Enabled(%q) = %v, want %v", status, got, want)
		}
	}
}

// partitionRegions has regions of every partition the SDK knows, from its
// endpoint rules (aws-sdk-go-v2 internal/endpoints/awsrulesfn/partitions.json).
var partitionRegions = map[string][]string{
	"aws":        {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-7", "af-south-1", "il-central-1", "mx-central-1", "ca-west-1", "me-central-1", "sa-east-1"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-us-gov": {"us-gov-west-1", "us-gov-east-1"},
	"aws-iso":    {"us-iso-east-1", "us-iso-west-1"},
	"aws-iso-b":  {"us-isob-east-1", "us-isob-west-1"},
	"aws-iso-e":  {"eu-isoe-west-1"},
	"aws-iso-f":  {"us-isof-east-1", "us-isof-south-1"},
	"aws-eusc":   {"eusc-de-east-1"},
}

func TestPartitionOf(t *testing.T) {
	for partition, regions := range partitionRegions {
		for _, r := range regions {
			if got := PartitionOf(r); got != partition {
				t.Errorf("PartitionOf(%q) = %q, want %q", r, got, partition)
			}
			if !regionName.MatchString(r) {
				t.Errorf("region %q of partition %s is refused as malformed", r, partition)
			}
		}
	}
}

func TestHomeRegion(t *testing.T) {
	want := map[string]string{
		"aws":        "us-east-1",
		"aws-cn":     "cn-north-1",
		"aws-us-gov": "us-gov-west-1",
		"aws-iso":    "us-iso-east-1",
		"aws-iso-b":  "us-isob-east-1",
		"aws-iso-e":  "eu-isoe-west-1",
		"aws-iso-f":  "us-isof-south-1",
		"aws-eusc":   "eusc-de-east-1",
		"":           "us-east-1",
	}
	for partition, region := range want {
		if got := HomeRegion(partition); got != region {
			t.Errorf("HomeRegion(%q) = %q, want %q", partition, got, region)
		}
	}
	// The home region of every partition lies in that partition: global
	// services must never be called across a partition boundary.
	for partition := range partitionRegions {
		if got := PartitionOf(HomeRegion(partition)); got != partition {
			t.Errorf("HomeRegion(%q) = %q, which is in partition %q", partition, HomeRegion(partition), got)
		}
	}
}

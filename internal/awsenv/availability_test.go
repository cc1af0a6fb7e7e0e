package awsenv

import "testing"

// TestOffered checks the table's facts: the services posture scans exist
// in the launched regions of every partition, and not in a region AWS has
// announced but not opened; what the table does not know is offered.
func TestOffered(t *testing.T) {
	tests := []struct {
		service, region string
		want            bool
	}{
		{"ec2", "us-east-1", true},
		{"ec2", "ap-southeast-7", true},
		{"efs", "mx-central-1", true},
		{"redshift", "us-gov-east-1", true},
		{"sns", "cn-northwest-1", true},
		{"lambda", "il-central-1", true},
		{"ec2", "me-west-1", false},
		{"sqs", "sa-west-1", false},
		{"ec2", "xx-future-9", true},
		{"newservice", "us-east-1", true},
	}
	for _, tt := range tests {
		if got := Offered(tt.service, tt.region); got != tt.want {
			t.Errorf("Offered(%q, %q) = %v, want %v", tt.service, tt.region, got, tt.want)
		}
	}
	if AvailabilitySource() == "" {
		t.Error("AvailabilitySource is empty")
	}
}

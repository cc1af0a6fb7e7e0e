package s3

import (
	"reflect"
	"strings"
	"testing"
)

func TestPublicStatements(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		want    []PublicStatement
		wantErr bool
	}{
		{name: "empty policy", policy: "", want: nil},
		{name: "blank policy", policy: "  \n", want: nil},
		{name: "principal star string",
			policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			want:   []PublicStatement{{Sid: "Pub", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "principal AWS star",
			policy: `{"Statement":[{"Sid":"Pub","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`,
			want:   []PublicStatement{{Sid: "Pub", Actions: []string{"s3:GetObject", "s3:ListBucket"}, Reason: "Principal is *"}}},
		{name: "principal AWS list with star",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","*"]},"Action":"s3:*","Resource":"*"}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:*"}, Reason: "Principal is *"}}},
		{name: "principal AWS list without star",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:role/r"]},"Action":"s3:*","Resource":"*"}]}`,
			want:   nil},
		{name: "principal one account",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"*"}]}`,
			want:   nil},
		{name: "principal service",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}]}`,
			want:   nil},
		{name: "statement as a single object",
			policy: `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`,
			want:   []PublicStatement{{Sid: "One", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "deny statements ignored",
			policy: `{"Statement":[{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			want:   nil},
		{name: "deny with principal star and no condition ignored",
			policy: `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteBucket","Resource":"*"}]}`,
			want:   nil},
		{name: "allow with NotPrincipal",
			policy: `{"Statement":[{"Sid":"NP","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"*"}]}`,
			want:   []PublicStatement{{Sid: "NP", Actions: []string{"s3:GetObject"}, Reason: "Allow with NotPrincipal applies to everyone not listed"}}},
		{name: "deny with NotPrincipal ignored",
			policy: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*"}]}`,
			want:   nil},
		{name: "SourceIp private range restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
			want:   nil},
		{name: "SourceIp list restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.7/32"]}}}]}`,
			want:   nil},
		{name: "PrincipalOrgID restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`,
			want:   nil},
		{name: "condition key in other letter case restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"AWS:SourceVpce":"vpce-1a2b"}}}]}`,
			want:   nil},
		{name: "SecureTransport does not restrict who",
			policy: `{"Statement":[{"Sid":"TLSOnly","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
			want:   []PublicStatement{{Sid: "TLSOnly", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "SourceIp 0.0.0.0/0 does not restrict",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "SourceIp 0.0.0.0/0 and ::/0 does not restrict",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["0.0.0.0/0","::/0"]}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "PrincipalOrgID wildcard does not restrict",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:PrincipalOrgID":"*"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "NotIpAddress admits everyone outside the range",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "StringNotEquals PrincipalOrgID admits every other organisation",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "IfExists admits requests without the key",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "ForAllValues admits requests without the key",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:SourceVpce":"vpce-1a2b"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "ForAnyValue restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-1/r-ab12/ou-ab12-11111111/*"}}}]}`,
			want:   nil},
		{name: "Null requiring the key to be absent admits the internet",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"true"}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "Null with a boolean value does not restrict",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:SourceIp":true}}}]}`,
			want:   []PublicStatement{{Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "a restricting key beside a negated one still restricts",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.1.0.0/16"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
			want:   nil},
		{name: "mixed statements: only the public allow",
			policy: `{"Statement":[
				{"Sid":"Deny","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
				{"Sid":"Org","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
				{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*"},
				{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			want: []PublicStatement{{Sid: "Public", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "no Statement", policy: `{"Version":"2012-10-17"}`, want: nil},
		{name: "malformed JSON", policy: `{"Statement":[{"Effect":"Allow",`, wantErr: true},
		{name: "not an object", policy: `"just a string"`, wantErr: true},
		{name: "statement of the wrong type", policy: `{"Statement":"Allow everything"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PublicStatements(tt.policy)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("PublicStatements = %+v, want an error", got)
				}
				if !strings.Contains(err.Error(), "parse bucket policy") {
					t.Errorf("error = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PublicStatements: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PublicStatements =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestRestrictingOperator(t *testing.T) {
	for op, want := range map[string]bool{
		"StringEquals": true, "StringLike": true, "IpAddress": true, "ArnEquals": true, "ArnLike": true, "Null": false,
		"ForAnyValue:StringEquals": true, "stringequals": true,
		"StringNotEquals": false, "StringNotLike": false, "NotIpAddress": false, "ArnNotEquals": false, "ArnNotLike": false,
		"StringNotEqualsIgnoreCase": false, "ForAnyValue:StringNotLike": false,
		"StringEqualsIfExists": false, "IpAddressIfExists": false, "ForAllValues:StringEquals": false,
	} {
		if got := restrictingOperator(op); got != want {
			t.Errorf("restrictingOperator(%q) = %v, want %v", op, got, want)
		}
	}
}

package s3

import (
	"reflect"
	"testing"
)

// perimeter builds a policy of one public Allow and the given Deny
// statements (JSON objects, comma-separated).
func perimeter(allowActions, denies string) string {
	return `{"Version":"2012-10-17","Statement":[
		{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":` + allowActions + `,"Resource":"arn:aws:s3:::b/*"}` + denies + `]}`
}

// TestPublicStatementsDenyNarrows: a Deny on Principal * whose negated
// conditions confine the survivors to fixed VPCs, endpoints, organisations,
// accounts, principals or addresses narrows the Allow it covers, so the
// perimeter pattern ("allow everyone, deny unless from my endpoint") is not
// public; a Deny that does not confine the caller, or covers only some of
// the allowed actions or resources, leaves the rest public.
func TestPublicStatementsDenyNarrows(t *testing.T) {
	const get = `"s3:GetObject"`
	public := func(actions ...string) []PublicStatement {
		return []PublicStatement{{Sid: "PublicRead", Actions: actions, Reason: "Principal is *"}}
	}
	tests := []struct {
		name   string
		policy string
		want   []PublicStatement
	}{
		{"deny unless from my VPC endpoint",
			perimeter(get, `,{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`),
			nil},
		{"deny unless from my organisation",
			perimeter(get, `,{"Sid":"OnlyOrg","Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`),
			nil},
		{"deny unless from my addresses",
			perimeter(get, `,{"Sid":"OnlyOffice","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}}`),
			nil},
		{"deny unless from my VPC (IfExists still confines)",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpc":"vpc-111"}}}`),
			nil},
		{"deny unless a fixed principal ARN",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/reader"}}}`),
			nil},
		{"deny unless a principal of one account (ArnNotLike, account fixed)",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}}`),
			nil},
		{"deny unless my account (StringNotLike with a fixed value)",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotLike":{"aws:PrincipalAccount":"111122223333"}}}`),
			nil},
		{"deny unless my endpoint or my addresses (two negated conditions, both confine)",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"},"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}`),
			nil},
		{"deny everyone without condition kills the allow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}`),
			nil},
		{"deny everyone except fixed principals (NotPrincipal)",
			perimeter(get, `,{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/app"]},"Action":"s3:*","Resource":"*"}`),
			nil},

		{"deny with a wildcard organisation does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotLike":{"aws:PrincipalOrgID":"o-*"}}}`),
			public("s3:GetObject")},
		{"deny unless the whole internet does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["0.0.0.0/1","128.0.0.0/1"]}}}`),
			public("s3:GetObject")},
		{"deny without TLS only does not narrow who",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			public("s3:GetObject")},
		{"deny unless endpoint AND without TLS: survivors include TLS callers from anywhere",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"},"Bool":{"aws:SecureTransport":"false"}}}`),
			public("s3:GetObject")},
		{"a positive condition in a deny does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:GetObject")},
		{"a deny on one account's principal does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:GetObject")},
		{"a deny on a negated key that does not say who does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"s3:x-amz-acl":"private"}}}`),
			public("s3:GetObject")},
		{"a deny covering other resources does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/private/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:GetObject")},
		{"a deny with NotResource does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::b/public/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:GetObject")},
		{"a deny narrows only the actions it covers",
			perimeter(`["s3:GetObject","s3:PutObject","s3:ListBucket"]`, `,{"Effect":"Deny","Principal":"*","Action":["s3:GetObject","s3:List*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:PutObject")},
		{"a narrower deny action does not cover a wider allowed action",
			perimeter(`"s3:*"`, `,{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:*")},
		{"deny NotAction covers the actions it does not exclude",
			perimeter(`["s3:GetObject","s3:PutObject"]`, `,{"Effect":"Deny","Principal":"*","NotAction":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:PutObject")},
		{"deny except a principal pattern does not narrow",
			perimeter(get, `,{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}`),
			public("s3:GetObject")},
		{"deny with a set operator does not narrow",
			perimeter(get, `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`),
			public("s3:GetObject")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PublicStatements(tt.policy)
			if err != nil {
				t.Fatalf("PublicStatements: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PublicStatements =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestPublicStatementsFixedValues: only fixed values confine the caller, as
// in AWS's definition of a non-public policy; a wildcard organisation,
// account or principal ARN admits every AWS account, and a source address
// set whose union is all of IPv4 or all of IPv6 admits the internet.
func TestPublicStatementsFixedValues(t *testing.T) {
	allow := func(cond string) string {
		return `{"Statement":[{"Sid":"S","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":` + cond + `}]}`
	}
	public := []PublicStatement{{Sid: "S", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}
	tests := []struct {
		name, cond string
		public     bool
	}{
		{"PrincipalArn any account any role", `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, true},
		{"PrincipalArn one account any role", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}`, false},
		{"PrincipalArn fixed", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app"}}`, false},
		{"PrincipalArn wildcard in the account", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::1111*:role/app"}}`, true},
		{"PrincipalOrgID o-*", `{"StringLike":{"aws:PrincipalOrgID":"o-*"}}`, true},
		{"PrincipalOrgID o-ab?", `{"StringLike":{"aws:PrincipalOrgID":"o-ab?"}}`, true},
		{"PrincipalOrgID fixed beside a wildcard", `{"StringLike":{"aws:PrincipalOrgID":["o-abc123","o-*"]}}`, true},
		{"PrincipalOrgID fixed list", `{"StringEquals":{"aws:PrincipalOrgID":["o-abc123","o-def456"]}}`, false},
		{"PrincipalAccount wildcard", `{"StringLike":{"aws:PrincipalAccount":"*"}}`, true},
		{"SourceAccount fixed", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, false},
		{"SourceVpce policy variable", `{"StringEquals":{"aws:SourceVpce":"${aws:SourceVpc}"}}`, true},
		{"userid role with any session", `{"StringLike":{"aws:userid":"AROAEXAMPLEID:*"}}`, false},
		{"userid any", `{"StringLike":{"aws:userid":"*:alice"}}`, true},
		{"username names a user of every account", `{"StringEquals":{"aws:username":"alice"}}`, true},
		{"SourceIp the two halves of IPv4", `{"IpAddress":{"aws:SourceIp":["0.0.0.0/1","128.0.0.0/1"]}}`, true},
		{"SourceIp all of IPv6", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::/0"]}}`, true},
		{"SourceIp IPv6 halves", `{"IpAddress":{"aws:SourceIp":["::/1","8000::/1"]}}`, true},
		{"SourceIp IPv4 quarters", `{"IpAddress":{"aws:SourceIp":["0.0.0.0/2","64.0.0.0/2","128.0.0.0/2","192.0.0.0/2"]}}`, true},
		{"SourceIp three quarters", `{"IpAddress":{"aws:SourceIp":["0.0.0.0/2","64.0.0.0/2","192.0.0.0/2"]}}`, false},
		{"SourceIp bare address", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, false},
		{"SourceIp malformed", `{"IpAddress":{"aws:SourceIp":"office"}}`, true},
		{"SourceIp under a string operator", `{"StringEquals":{"aws:SourceIp":"203.0.113.7"}}`, true},
		{"SourceOrgPaths under one organisation", `{"ForAnyValue:StringLike":{"aws:SourceOrgPaths":"o-abc123/r-ab12/*"}}`, false},
		{"PrincipalOrgPaths any organisation", `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-*/r-ab12/*"}}`, true},
		{"access point account", `{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PublicStatements(allow(tt.cond))
			if err != nil {
				t.Fatal(err)
			}
			want := []PublicStatement(nil)
			if tt.public {
				want = public
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("PublicStatements = %+v, want %+v", got, want)
			}
		})
	}
}

// TestBucketPublicPerimeterPolicy: the perimeter pattern passes with the
// narrowing deny in the evidence; a deny covering only part of the allowed
// actions fails with the rest.
func TestBucketPublicPerimeterPolicy(t *testing.T) {
	vpce := perimeter(`["s3:GetObject","s3:PutObject"]`, `,{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b"}}}`)
	all := perimeter(`"s3:GetObject"`, `,{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b"}}}`)
	inv := &Inventory{AccountID: acct, Partition: "aws", Buckets: []Bucket{
		{Name: "perimeter", Region: "us-east-1", Policy: all},
		{Name: "half", Region: "us-east-1", Policy: vpce},
	}}
	got := evalCheck(t, "s3-bucket-public", inv)
	if len(got) != 2 {
		t.Fatalf("%d findings", len(got))
	}
	p, h := got[0], got[1]
	wantNarrowed := []NarrowedStatement{{Sid: "PublicRead", Actions: []string{"s3:GetObject"}, By: []string{"OnlyVpce (denies unless aws:SourceVpce has a fixed value)"}}}
	if p.Status != "PASS" || p.Message != "bucket perimeter grants no public access in its ACL or policy: its policy's allows to everyone are confined by deny statements (PublicRead: s3:GetObject narrowed by OnlyVpce (denies unless aws:SourceVpce has a fixed value))" {
		t.Errorf("perimeter: %s %q", p.Status, p.Message)
	}
	if n, _ := p.Evidence["narrowed_statements"].([]NarrowedStatement); !reflect.DeepEqual(n, wantNarrowed) {
		t.Errorf("perimeter narrowed evidence = %#v", p.Evidence["narrowed_statements"])
	}
	if h.Status != "FAIL" || h.Message != "bucket half is public: the policy allows everyone (PublicRead: Principal is *, s3:PutObject)" {
		t.Errorf("half: %s %q", h.Status, h.Message)
	}
	if n, _ := h.Evidence["narrowed_statements"].([]NarrowedStatement); !reflect.DeepEqual(n, wantNarrowed) {
		t.Errorf("half narrowed evidence = %#v", h.Evidence["narrowed_statements"])
	}
}

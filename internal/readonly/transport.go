package readonly

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/aws/smithy-go/middleware"
)

// RetryableError tells the SDK's retryer never to retry a refusal.
func (e *RefusedError) RetryableError() bool { return false }

// GuardTransport installs the wire check on t. net/http calls a
// transport's Proxy function with every request before it opens or picks a
// connection; GuardTransport makes it call CheckRequest first and refuse the
// request on an error, then defer to the Proxy function t had
// (http.ProxyFromEnvironment by default). http.Transport.Clone keeps the
// function, so the copies the SDK derives from a BuildableClient (with a CA
// bundle, a read timeout) are guarded too.
func GuardTransport(t *http.Transport) {
	next := t.Proxy
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		if err := CheckRequest(req); err != nil {
			return nil, err
		}
		if next == nil {
			return nil, nil
		}
		return next(req)
	}
}

// CheckRequest is the transport's check of one request, from what goes on
// the wire, independent of the client's middleware:
//
//   - A request signed with SigV4 (an Authorization header or a presigned
//     X-Amz-Credential) names its service in the credential scope
//     (…/region/SERVICE/aws4_request). Its operation is read from the
//     X-Amz-Target header (JSON protocols), the Action parameter of the URL
//     (query protocols), the path of the RPC v2 CBOR protocol, or, for the
//     REST protocols, the method and path of the few REST calls on the list
//     (restRoutes; only GET). A query-protocol POST carries Action in a form
//     body, which this hook can not read without consuming it; there the
//     operation is the one the SDK serialised the body for, from the
//     request's context (set by the SDK's own service-metadata middleware,
//     which no APIOptions entry removes in this program: scanners may not
//     touch APIOptions, see scanners/guard_test.go). S3's PutObject (a PUT
//     of an object path with x-id=PutObject) and ListObjectsV2 (a GET of a
//     bucket path with list-type=2) are read from the wire too, for the
//     Delivery list. The pair must be on Scanning, or on Signing or
//     Delivery when the client's AllowOnClient guard allowed it for this
//     request.
//   - An unsigned request acts as nobody in any account; only the
//     credential providers' requests are let through: the instance metadata
//     and container credential endpoints, IAM Identity Center (SSO)
//     credentials and token refresh, and sts:AssumeRoleWithWebIdentity.
//
// Anything else is refused with a *RefusedError.
func CheckRequest(req *http.Request) error {
	service := signingName(req)
	op := wireOperation(req, service)
	if service == "" {
		if credentialRequest(req, op) {
			return nil
		}
		return &RefusedError{Service: "unsigned request to " + req.URL.Host, Operation: describe(req, op)}
	}
	if op != "" {
		if AllowedOnWire(service, op) {
			return nil
		}
		for _, call := range extraCalls(req.Context()) {
			if call.Prefix() == service && call.Operation == op {
				return nil
			}
		}
	}
	return &RefusedError{Service: service, Operation: describe(req, op)}
}

// describe names a refused request's operation, or its method and path when
// it could not be identified.
func describe(req *http.Request, op string) string {
	if op != "" {
		return op
	}
	return req.Method + " " + req.URL.Path
}

// signingName returns the service of the request's SigV4 credential scope,
// or "" for a request that is not signed with SigV4.
func signingName(req *http.Request) string {
	cred := req.URL.Query().Get("X-Amz-Credential")
	if auth := req.Header.Get("Authorization"); strings.HasPrefix(auth, "AWS4-") {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			cred, _, _ = strings.Cut(rest, ",")
			cred = strings.TrimSpace(cred)
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[3]
}

// restRoute identifies one REST call on the allow-list by signing name,
// method, path and, for S3, the subresource query key.
type restRoute struct {
	service     string
	path        *regexp.Regexp
	subresource string
	operation   string
}

// restRoutes are the REST calls of the allow-list (all GETs). S3's bucket
// calls are matched by their subresource on a bucket-level path (s3Bucket)
// and ListBuckets by its x-id; the rest by their exact paths.
var restRoutes = []restRoute{
	{"s3", regexp.MustCompile(`^/v20180820/configuration/publicAccessBlock$`), "", "GetPublicAccessBlock"}, // S3 Control
	{"lambda", regexp.MustCompile(`^/2015-03-31/functions/?$`), "", "ListFunctions"},
	{"elasticfilesystem", regexp.MustCompile(`^/2015-02-01/file-systems/?$`), "", "DescribeFileSystems"},
}

// s3Subresources maps the S3 bucket subresources on the list to their
// operations.
var s3Subresources = map[string]string{
	"location": "GetBucketLocation", "acl": "GetBucketAcl", "policy": "GetBucketPolicy",
	"publicAccessBlock": "GetPublicAccessBlock", "encryption": "GetBucketEncryption",
}

// cborPath is the RPC v2 CBOR protocol's path: /service/S/operation/OP.
var cborPath = regexp.MustCompile(`/service/[^/]+/operation/([^/]+)$`)

// wireOperation returns the request's operation as read from the wire (see
// CheckRequest), or "" when it is not one this check can identify.
func wireOperation(req *http.Request, service string) string {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		return target[strings.LastIndex(target, ".")+1:]
	}
	query := req.URL.Query()
	if action := query.Get("Action"); action != "" {
		return action
	}
	if req.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		if m := cborPath.FindStringSubmatch(req.URL.Path); m != nil {
			return m[1]
		}
		return ""
	}
	if req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return middleware.GetOperationName(req.Context())
	}
	if req.Method == http.MethodPut && service == "s3" && query.Get("x-id") == "PutObject" && !s3Bucket(req) {
		return "PutObject" // an object's path; only a Delivery client may send it
	}
	if req.Method != http.MethodGet {
		return ""
	}
	for _, r := range restRoutes {
		if r.service == service && r.path.MatchString(req.URL.Path) {
			return r.operation
		}
	}
	if service != "s3" {
		return ""
	}
	if id := query.Get("x-id"); id != "" {
		if id == "ListBuckets" && req.URL.Path != "/" {
			return ""
		}
		return id
	}
	if !s3Bucket(req) {
		return ""
	}
	op := ""
	if query.Get("list-type") == "2" {
		op = "ListObjectsV2" // only a Delivery client may send it
	}
	for key := range query {
		if sub, ok := s3Subresources[key]; ok {
			if op != "" {
				return ""
			}
			op = sub
		}
	}
	return op
}

// s3Bucket reports whether an S3 request addresses a bucket, not an
// object: the path is "/" for a virtual-hosted request
// (bucket.s3.region.amazonaws.com), one segment for a path-style one.
func s3Bucket(req *http.Request) bool {
	host := req.URL.Hostname()
	if i := strings.Index(host, ".s3."); i > 0 || strings.Contains(host, ".s3-") {
		return req.URL.Path == "/"
	}
	return !strings.Contains(strings.Trim(req.URL.Path, "/"), "/")
}

// credentialHosts are the instance metadata and container credential
// endpoints.
var credentialHosts = map[string]bool{
	"169.254.169.254": true, "fd00:ec2::254": true, "169.254.170.2": true, "169.254.170.23": true, "fd00:ec2::23": true,
}

// credentialRequest reports whether an unsigned request is a credential
// provider's.
func credentialRequest(req *http.Request, op string) bool {
	host := req.URL.Hostname()
	if credentialHosts[host] {
		return true
	}
	for _, env := range []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		if u, err := url.Parse(os.Getenv(env)); err == nil && u.Hostname() != "" && u.Hostname() == host {
			return true
		}
	}
	if ip := net.ParseIP(host); ip != nil {
		return false
	}
	switch {
	case strings.HasPrefix(host, "portal.sso.") && req.Method == http.MethodGet && req.URL.Path == "/federation/credentials":
		return true // sso:GetRoleCredentials, with the SSO bearer token
	case strings.HasPrefix(host, "oidc.") && req.Method == http.MethodPost && req.URL.Path == "/token":
		return true // sso-oauth:CreateToken, refreshing the SSO token
	case strings.HasPrefix(host, "sts.") && op == "AssumeRoleWithWebIdentity":
		return true
	}
	return false
}

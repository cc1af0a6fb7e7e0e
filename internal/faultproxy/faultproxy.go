// Package faultproxy is a fault-injecting HTTP reverse proxy for tests.
//
// Put a Proxy on loopback in front of the AWS emulator and aim the SDK at
// Proxy.URL: requests that match a Rule get an injected fault (AccessDenied,
// throttling, a 5xx, a dropped connection or extra latency) shaped exactly as
// the AWS service's protocol returns it, so the SDK's real error
// classification and retry paths run. Everything else is forwarded unchanged.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a kind of failure the proxy injects.
type Fault int

// The faults the proxy can inject.
const (
	// AccessDenied answers with the protocol's access-denied error
	// (UnauthorizedOperation for EC2, AccessDenied, AccessDeniedException).
	AccessDenied Fault = iota + 1
	// Throttle answers with the protocol's throttling error
	// (RequestLimitExceeded, Throttling, ThrottlingException,
	// TooManyRequestsException, SlowDown).
	Throttle
	// ServerError answers 500 with the protocol's internal-error body.
	ServerError
	// DropConnection closes the connection without a response.
	DropConnection
	// Latency waits Rule.Delay, then forwards the request normally.
	Latency
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case AccessDenied:
		return "AccessDenied"
	case Throttle:
		return "Throttle"
	case ServerError:
		return "ServerError"
	case DropConnection:
		return "DropConnection"
	case Latency:
		return "Latency"
	default:
		return fmt.Sprintf("Fault(%d)", int(f))
	}
}

// Rule selects requests and the fault to inject. Empty match fields match anything.
type Rule struct {
	// Service is the SigV4 signing name from the Authorization header's
	// credential scope, e.g. "ec2", "s3", "rds", "sts", "iam", "redshift".
	Service string
	// Action is the operation name: the Action form or query parameter (EC2
	// and query protocols), or the part after the last '.' of the
	// X-Amz-Target header (JSON protocols). Matched case-sensitively.
	Action string
	// AccessKeyID is the access key ID from the Authorization header, to
	// target one account or caller.
	AccessKeyID string
	// PathContains is a substring of the URL path, e.g. an S3 bucket "/mybucket".
	PathContains string
	// QueryHas is a query parameter key that must be present, e.g. "policy"
	// or "encryption" for S3 sub-resources.
	QueryHas string
	// BodyContains is a substring of the raw request body, to target one
	// resource of a JSON or query-protocol call, which names it in the body:
	// a queue URL, a table name, a topic ARN. Query-protocol bodies are
	// form-encoded, so match the encoded form (an ARN's ':' is "%3A").
	BodyContains string
	// Fault is what to inject.
	Fault Fault
	// Probability is the fraction of matching requests that get the fault;
	// 0 or 1 means always.
	Probability float64
	// Delay is how long a Latency fault waits before forwarding.
	Delay time.Duration
	// AccountID is the account the request's access key belongs to, as AWS
	// (and the emulator, for the keys AssumeRole returns) encodes it in
	// AKIA/ASIA access key IDs (AccountOfKey), to target one account of a
	// multi-account scan. Keys that encode no account never match it.
	AccountID string
}

// validate reports a rule that cannot be applied.
func (r Rule) validate() error {
	if r.Fault < AccessDenied || r.Fault > Latency {
		return fmt.Errorf("unknown fault %v", r.Fault)
	}
	if r.Probability < 0 || r.Probability > 1 {
		return fmt.Errorf("probability %v outside [0, 1]", r.Probability)
	}
	if r.Delay < 0 {
		return fmt.Errorf("negative delay %v", r.Delay)
	}
	return nil
}

// matches reports whether the rule's match fields select the request.
func (r Rule) matches(req *http.Request, info requestInfo) bool {
	return (r.Service == "" || r.Service == info.service) &&
		(r.Action == "" || r.Action == info.action) &&
		(r.AccessKeyID == "" || r.AccessKeyID == info.accessKeyID) &&
		(r.PathContains == "" || strings.Contains(req.URL.Path, r.PathContains)) &&
		(r.QueryHas == "" || req.URL.Query().Has(r.QueryHas)) &&
		(r.BodyContains == "" || bytes.Contains(info.body, []byte(r.BodyContains))) &&
		(r.AccountID == "" || r.AccountID == AccountOfKey(info.accessKeyID))
}

// keyAlphabet is the base32 alphabet of access key IDs.
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// AccountOfKey returns the account ID encoded in an AKIA or ASIA access key
// ID, or "" when the key encodes none: characters 5 to 12 are the base32 of
// (account / 2) with the top bit of 40 set, and the 13th character is in
// the upper half of the alphabet when the account ID is odd.
func AccountOfKey(key string) string {
	if len(key) < 16 || (key[:4] != "AKIA" && key[:4] != "ASIA") {
		return ""
	}
	var n uint64
	for _, c := range key[4:12] {
		i := strings.IndexRune(keyAlphabet, c)
		if i < 0 {
			return ""
		}
		n = n<<5 | uint64(i)
	}
	odd := strings.IndexByte(keyAlphabet, key[12])
	if odd < 0 || n < 1<<39 {
		return ""
	}
	account := (n-1<<39)*2 + uint64(odd/16)
	return fmt.Sprintf("%012d", account)
}

// Options configures NewWithOptions.
type Options struct {
	// Seed seeds the random draws for rules with a Probability strictly
	// between 0 and 1, so that a sequence of requests sees the same faults
	// on every run.
	Seed uint64
}

// Proxy is a running fault-injecting reverse proxy on a loopback port.
type Proxy struct {
	// URL is the proxy's endpoint, http://127.0.0.1:PORT.
	URL string

	server    *http.Server
	transport *http.Transport
	forward   *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []Rule
	rng      *rand.Rand
	injected map[Fault]int
	requests int

	closeOnce sync.Once
	closeErr  error
}

// New starts a proxy on 127.0.0.1 that forwards to target (e.g. the
// emulator's URL) and injects faults per rules. The first matching rule
// whose probability draw succeeds wins. Probability draws use seed 0; see
// NewWithOptions.
func New(target string, rules ...Rule) (*Proxy, error) {
	return NewWithOptions(target, Options{}, rules...)
}

// NewWithOptions is New with options.
func NewWithOptions(target string, opts Options, rules ...Rule) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parse proxy target %q: %w", target, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("proxy target %q: want an http(s)://host:port URL", target)
	}
	if err := validateRules(rules); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DisableCompression = true
	p := &Proxy{
		URL:       "http://" + ln.Addr().String(),
		transport: transport,
		rules:     append([]Rule(nil), rules...),
		rng:       rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		injected:  make(map[Fault]int),
	}
	p.forward = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u) // also sets Host to the target's host
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "faultproxy: forward to target: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.server = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = p.server.Serve(ln) }()
	return p, nil
}

// validateRules checks every rule.
func validateRules(rules []Rule) error {
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("faultproxy rule %d: %w", i, err)
		}
	}
	return nil
}

// SetRules replaces the proxy's rules, e.g. to lift the faults halfway
// through a test. Invalid rules leave the current ones in place.
func (p *Proxy) SetRules(rules ...Rule) error {
	if err := validateRules(rules); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]Rule(nil), rules...)
	return nil
}

// Close stops the proxy and closes its connections. It is safe to call more
// than once.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		if err := p.server.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.closeErr = fmt.Errorf("close fault proxy %s: %w", p.URL, err)
		}
		p.transport.CloseIdleConnections()
	})
	return p.closeErr
}

// Injected returns how many faults of each kind were injected so far.
func (p *Proxy) Injected() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.injected))
	for f, n := range p.injected {
		out[f] = n
	}
	return out
}

// Requests returns the total number of requests the proxy has received,
// faulted or not.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// ServeHTTP implements http.Handler: it injects the first matching rule's
// fault, or forwards the request to the target.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := bufferBody(r)
	if err != nil {
		http.Error(w, "faultproxy: read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	info := inspect(r, body)

	rule, ok := p.pick(r, info)
	if !ok {
		p.forward.ServeHTTP(w, r)
		return
	}
	switch rule.Fault {
	case Latency:
		t := time.NewTimer(rule.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client gave up
		}
		p.forward.ServeHTTP(w, r)
	case DropConnection:
		dropConnection(w)
	default:
		writeError(w, r, info.protocol, rule.Fault, info)
	}
}

// pick counts the request and returns the rule to apply, if any.
func (p *Proxy) pick(r *http.Request, info requestInfo) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	for _, rule := range p.rules {
		if !rule.matches(r, info) {
			continue
		}
		if rule.Probability > 0 && rule.Probability < 1 && p.rng.Float64() >= rule.Probability {
			continue
		}
		p.injected[rule.Fault]++
		return rule, true
	}
	return Rule{}, false
}

// bufferBody reads the request body fully and restores it, so it can be
// inspected and still forwarded intact.
func bufferBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	return body, nil
}

// dropConnection closes the client connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (e.g. HTTP/2): make the server abort the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// protocol is an AWS wire protocol, which decides how errors look.
type protocol int

const (
	protoEC2       protocol = iota // ec2query: <Response><Errors><Error>
	protoQuery                     // awsQuery (and wrapped restXml): <ErrorResponse><Error>
	protoJSON                      // awsJson1_0/1_1: {"__type": ...}
	protoRESTJSON                  // restJson1: X-Amzn-ErrorType header
	protoS3                        // S3 restXml: unwrapped <Error>
	protoS3Control                 // S3 Control restXml: <ErrorResponse><Error>
)

// requestInfo is what the proxy learnt about a request.
type requestInfo struct {
	service     string
	accessKeyID string
	action      string
	protocol    protocol
	body        []byte
}

// wrappedRESTXMLServices are restXml services whose errors use the
// <ErrorResponse><Error> form, as the query protocol does.
var wrappedRESTXMLServices = map[string]bool{"route53": true, "cloudfront": true}

// inspect extracts the signing scope, the operation and the protocol.
func inspect(r *http.Request, body []byte) requestInfo {
	info := requestInfo{body: body}
	info.accessKeyID, info.service = credentialScope(r)

	target := r.Header.Get("X-Amz-Target")
	formAction := r.URL.Query().Get("Action")
	if formAction == "" && isForm(r) {
		if vals, err := url.ParseQuery(string(body)); err == nil {
			formAction = vals.Get("Action")
		}
	}
	switch {
	case formAction != "":
		info.action = formAction
	case target != "":
		info.action = target[strings.LastIndex(target, ".")+1:]
	}

	contentType := r.Header.Get("Content-Type")
	switch {
	case info.service == "ec2":
		info.protocol = protoEC2
	case info.service == "s3" || info.service == "s3-control":
		if strings.HasPrefix(r.URL.Path, "/v20180820/") || r.Header.Get("X-Amz-Account-Id") != "" {
			info.protocol = protoS3Control
		} else {
			info.protocol = protoS3
		}
	case target != "" || strings.HasPrefix(contentType, "application/x-amz-json"):
		info.protocol = protoJSON
	case formAction != "" || wrappedRESTXMLServices[info.service]:
		info.protocol = protoQuery
	default:
		info.protocol = protoRESTJSON
	}
	return info
}

// isForm reports whether the request body is form-encoded.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// credentialScope returns the access key ID and signing name from a SigV4
// (or SigV4a) Authorization header or presigned-URL X-Amz-Credential.
// The credential is AKID/DATE/REGION/SERVICE/aws4_request (SigV4a omits
// REGION).
func credentialScope(r *http.Request) (accessKeyID, service string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			cred, _, _ = strings.Cut(rest, ",")
			cred = strings.TrimSpace(cred)
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 4 || parts[len(parts)-1] != "aws4_request" {
		return "", ""
	}
	return parts[0], parts[len(parts)-2]
}

// errorShape is one protocol's rendering of one fault.
type errorShape struct {
	status  int
	code    string
	message string
}

// shape returns how proto reports fault, as AWS does.
func shape(proto protocol, fault Fault, info requestInfo) errorShape {
	denied := "User is not authorized to perform: " + info.service + ":" + info.action + " (injected by faultproxy)"
	switch proto {
	case protoEC2:
		switch fault {
		case AccessDenied:
			return errorShape{http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. (injected by faultproxy)"}
		case Throttle:
			return errorShape{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded. (injected by faultproxy)"}
		default:
			return errorShape{http.StatusInternalServerError, "InternalError", "An internal error has occurred. (injected by faultproxy)"}
		}
	case protoS3, protoS3Control:
		switch fault {
		case AccessDenied:
			return errorShape{http.StatusForbidden, "AccessDenied", "Access Denied"}
		case Throttle:
			return errorShape{http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."}
		default:
			return errorShape{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
		}
	case protoJSON:
		switch fault {
		case AccessDenied:
			return errorShape{http.StatusBadRequest, "AccessDeniedException", denied}
		case Throttle:
			return errorShape{http.StatusBadRequest, "ThrottlingException", "Rate exceeded (injected by faultproxy)"}
		default:
			return errorShape{http.StatusInternalServerError, "InternalFailure", "Internal failure (injected by faultproxy)"}
		}
	case protoRESTJSON:
		switch fault {
		case AccessDenied:
			return errorShape{http.StatusForbidden, "AccessDeniedException", denied}
		case Throttle:
			return errorShape{http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded (injected by faultproxy)"}
		default:
			return errorShape{http.StatusInternalServerError, "InternalFailure", "Internal failure (injected by faultproxy)"}
		}
	default: // protoQuery
		switch fault {
		case AccessDenied:
			return errorShape{http.StatusForbidden, "AccessDenied", denied}
		case Throttle:
			return errorShape{http.StatusBadRequest, "Throttling", "Rate exceeded (injected by faultproxy)"}
		default:
			return errorShape{http.StatusInternalServerError, "InternalFailure", "Internal failure (injected by faultproxy)"}
		}
	}
}

// writeError answers the request with fault in proto's error format.
func writeError(w http.ResponseWriter, r *http.Request, proto protocol, fault Fault, info requestInfo) {
	s := shape(proto, fault, info)
	id := requestID()
	code, msg := xmlEscape(s.code), xmlEscape(s.message)
	h := w.Header()
	var body string
	switch proto {
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		body = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<Response><Errors><Error><Code>` + code + `</Code><Message>` + msg +
			`</Message></Error></Errors><RequestID>` + id + `</RequestID></Response>`
	case protoQuery, protoS3Control:
		errType := "Sender"
		if s.status >= 500 {
			errType = "Receiver"
		}
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-RequestId", id)
		if proto == protoS3Control {
			h.Set("Content-Type", "application/xml")
			h.Set("X-Amz-Request-Id", id)
			h.Set("X-Amz-Id-2", id)
		}
		body = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<ErrorResponse><Error><Type>` + errType + `</Type><Code>` + code + `</Code><Message>` + msg +
			`</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`
	case protoS3:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		h.Set("X-Amz-Id-2", id)
		body = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>` + id +
			`</RequestId><HostId>` + id + `</HostId></Error>`
	case protoJSON:
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/x-amz-json") {
			ct = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", ct)
		h.Set("X-Amzn-RequestId", id)
		h.Set("X-Amzn-ErrorType", s.code)
		body = jsonBody(map[string]string{"__type": s.code, "message": s.message})
	case protoRESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-RequestId", id)
		h.Set("X-Amzn-ErrorType", s.code)
		body = jsonBody(map[string]string{"message": s.message})
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(s.status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

// requestID returns a random identifier in the UUID form AWS uses.
func requestID() string {
	a, b := rand.Uint64(), rand.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// xmlEscape escapes s for use as XML character data.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// jsonBody renders fields as a JSON object.
func jsonBody(fields map[string]string) string {
	b, _ := json.Marshal(fields) // a map of strings always marshals
	return string(b)
}

// Package pageproxy is a recording reverse proxy for tests that splits the
// answers of list operations into pages the way AWS does, in front of an
// emulator that answers them in one piece (moto ignores SQS ListQueues
// MaxResults and NextToken, and never returns an S3 ListBuckets
// ContinuationToken).
//
// It re-pages SQS ListQueues (awsJson) and S3 ListBuckets (restXml), with
// PageSize standing in for the service's own cap: a request with a page-size
// parameter (MaxResults, max-buckets) gets at most min(that, PageSize) items
// and a token to the next page; a request without one gets the first
// PageSize items and no token, as AWS answers an unpaginated ListQueues
// (the first 1,000 queues). Every request is recorded, so a test can assert
// the parameters the scanner sent. Everything else is forwarded unchanged.
package pageproxy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Request is one request the proxy received.
type Request struct {
	// Service is the SigV4 signing name ("s3", "sqs").
	Service string
	// Action is the operation for JSON protocols (from X-Amz-Target) and
	// query protocols (the Action parameter); "ListBuckets" for S3's GET /.
	Action string
	Query  url.Values
	// Params is the JSON body of an awsJson request, decoded.
	Params map[string]any
}

// Proxy is a running recording, re-paging proxy.
type Proxy struct {
	// URL is the proxy's base URL: aim the SDK at it.
	URL string
	// PageSize is the largest page the proxy returns.
	PageSize int

	srv     *httptest.Server
	target  *url.URL
	forward *httputil.ReverseProxy
	mu      sync.Mutex
	seen    []Request
}

// New starts a proxy in front of target on loopback.
func New(target string, pageSize int) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("pageproxy: target %q: %w", target, err)
	}
	if pageSize < 1 {
		return nil, fmt.Errorf("pageproxy: page size %d < 1", pageSize)
	}
	p := &Proxy{PageSize: pageSize, target: u, forward: httputil.NewSingleHostReverseProxy(u)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pageproxy: listen: %w", err)
	}
	p.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: p}}
	p.srv.Start()
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Requests returns the recorded requests of one service and action.
func (p *Proxy) Requests(service, action string) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Request
	for _, r := range p.seen {
		if r.Service == service && r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "pageproxy: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	req := Request{Service: signingName(r), Query: r.URL.Query()}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		req.Action = t[strings.LastIndex(t, ".")+1:]
		_ = json.Unmarshal(body, &req.Params)
	} else if a := req.Query.Get("Action"); a != "" {
		req.Action = a
	}
	if req.Service == "s3" && r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "") && !strings.Contains(r.Host, ".s3") {
		req.Action = "ListBuckets"
	}
	p.mu.Lock()
	p.seen = append(p.seen, req)
	p.mu.Unlock()

	switch {
	case req.Service == "sqs" && req.Action == "ListQueues":
		p.listQueues(w, r, body, req)
	case req.Action == "ListBuckets":
		p.listBuckets(w, r, req)
	default:
		p.forward.ServeHTTP(w, r)
	}
}

// fetch sends r (with body) to the target and returns the response body.
func (p *Proxy) fetch(r *http.Request, body []byte, query string) (int, http.Header, []byte, error) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, query
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// page returns the bounds of the page a request with the given page-size
// parameter (0: none) and token asks for, over n items, and the next token.
func (p *Proxy) page(n, max int, token string) (from, to int, next string, err error) {
	size := p.PageSize
	if max > 0 && max < size {
		size = max
	}
	if token != "" {
		if from, err = strconv.Atoi(token); err != nil || from < 0 || from > n {
			return 0, 0, "", fmt.Errorf("invalid token %q", token)
		}
	}
	to = min(from+size, n)
	if max > 0 && to < n { // only a request that asks for pages gets a token
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (p *Proxy) listQueues(w http.ResponseWriter, r *http.Request, body []byte, req Request) {
	// The emulator is asked for every queue: the token is the proxy's own
	// (moto 5.2.5 and later page ListQueues themselves and refuse a token
	// they did not issue).
	if _, ok := req.Params["NextToken"]; ok {
		params := map[string]any{}
		for k, v := range req.Params {
			if k != "NextToken" {
				params[k] = v
			}
		}
		body, _ = json.Marshal(params)
	}
	status, hdr, b, err := p.fetch(r, body, r.URL.RawQuery)
	if err != nil {
		http.Error(w, "pageproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	var out map[string]any
	if status != http.StatusOK || json.Unmarshal(b, &out) != nil {
		copyResponse(w, status, hdr, b)
		return
	}
	urls, _ := out["QueueUrls"].([]any)
	maxResults, _ := req.Params["MaxResults"].(float64)
	token, _ := req.Params["NextToken"].(string)
	from, to, next, err := p.page(len(urls), int(maxResults), token)
	if err != nil {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":%q}`, err.Error())
		return
	}
	out = map[string]any{"QueueUrls": urls[from:to]}
	if next != "" {
		out["NextToken"] = next
	}
	b, _ = json.Marshal(out)
	hdr.Del("Content-Length")
	copyResponse(w, status, hdr, b)
}

type listBucketsResult struct {
	XMLName           xml.Name   `xml:"ListAllMyBucketsResult"`
	Xmlns             string     `xml:"xmlns,attr,omitempty"`
	Owner             *ownerXML  `xml:"Owner,omitempty"`
	Buckets           bucketsXML `xml:"Buckets"`
	ContinuationToken string     `xml:"ContinuationToken,omitempty"`
}

type ownerXML struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type bucketsXML struct {
	Bucket []struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion,omitempty"`
	} `xml:"Bucket"`
}

func (p *Proxy) listBuckets(w http.ResponseWriter, r *http.Request, req Request) {
	q := r.URL.Query()
	q.Del("max-buckets")
	q.Del("continuation-token")
	status, hdr, b, err := p.fetch(r, nil, q.Encode())
	if err != nil {
		http.Error(w, "pageproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	var out listBucketsResult
	if status != http.StatusOK || xml.Unmarshal(b, &out) != nil {
		copyResponse(w, status, hdr, b)
		return
	}
	maxBuckets, _ := strconv.Atoi(req.Query.Get("max-buckets"))
	from, to, next, err := p.page(len(out.Buckets.Bucket), maxBuckets, req.Query.Get("continuation-token"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `<Error><Code>InvalidArgument</Code><Message>%s</Message></Error>`, err.Error())
		return
	}
	out.Buckets.Bucket = out.Buckets.Bucket[from:to]
	out.ContinuationToken = next
	out.Xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"
	b, err = xml.Marshal(out)
	if err != nil {
		http.Error(w, "pageproxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hdr.Del("Content-Length")
	copyResponse(w, status, hdr, append([]byte(xml.Header), b...))
}

func copyResponse(w http.ResponseWriter, status int, hdr http.Header, body []byte) {
	for k, v := range hdr {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// signingName returns the service of a SigV4 Authorization header's
// credential scope (AKID/DATE/REGION/SERVICE/aws4_request).
func signingName(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[len(parts)-2]
}

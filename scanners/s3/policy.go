package s3

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// PublicStatement is a policy statement that grants access to anyone.
type PublicStatement struct {
	Sid     string   `json:"sid,omitempty"`
	Actions []string `json:"actions"`
	Reason  string   `json:"reason"`
}

// NarrowedStatement is an Allow to everyone whose actions (all or some) a
// Deny statement confines to a fixed network, organisation, account or
// principal: for those actions the policy is not public.
type NarrowedStatement struct {
	Sid     string   `json:"sid,omitempty"`
	Actions []string `json:"actions"`
	// By names the Deny statements that narrow it and how.
	By []string `json:"narrowed_by"`
}

// PolicyAnalysis is what a bucket policy grants to everyone.
type PolicyAnalysis struct {
	// Public lists the Allow statements open to anyone, each with the actions
	// no Deny narrows.
	Public []PublicStatement
	// Narrowed lists the Allow statements to everyone that Deny statements
	// narrow, with the actions they narrow.
	Narrowed []NarrowedStatement
}

// identityKeys are the condition keys that say who the caller is or where
// the request comes from, as AWS defines a non-public policy ("The meaning
// of public" in the S3 Block Public Access documentation): a fixed value of
// one of them confines a statement with Principal "*" to a network, an
// organisation, an account or a principal. Other keys (aws:SecureTransport,
// s3:x-amz-acl, ...) limit how, not who; aws:username and
// aws:PrincipalServiceName name a user or a service of every account.
var identityKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:sourcearn": true,
	"aws:sourceorgid": true, "aws:sourceorgpaths": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:principalaccount": true,
	"aws:principalarn": true, "aws:userid": true,
	"s3:dataaccesspointaccount": true, "s3:dataaccesspointarn": true,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": true,
}

type policyDocument struct {
	Statement json.RawMessage `json:"Statement"`
}

type statement struct {
	Sid          string                                `json:"Sid"`
	Effect       string                                `json:"Effect"`
	Principal    json.RawMessage                       `json:"Principal"`
	NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
	Action       json.RawMessage                       `json:"Action"`
	NotAction    json.RawMessage                       `json:"NotAction"`
	Resource     json.RawMessage                       `json:"Resource"`
	NotResource  json.RawMessage                       `json:"NotResource"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

// parseStatements parses a bucket policy into its statements.
func parseStatements(policy string) ([]statement, error) {
	var doc policyDocument
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return nil, fmt.Errorf("parse bucket policy: %w", err)
	}
	var stmts []statement
	if err := unmarshalOneOrMany(doc.Statement, &stmts); err != nil {
		return nil, fmt.Errorf("parse bucket policy statements: %w", err)
	}
	return stmts, nil
}

// PublicStatements parses a bucket policy and returns the statements that
// allow anyone (see AnalysePolicy).
func PublicStatements(policy string) ([]PublicStatement, error) {
	a, err := AnalysePolicy(policy)
	return a.Public, err
}

// AnalysePolicy parses a bucket policy and decides what it grants to
// everyone. An Allow statement is open to anyone when it has Principal "*"
// (or {"AWS": "*"}), or a NotPrincipal, and no condition that confines the
// caller to fixed values of an identity key (restrictingCondition). A Deny
// statement that applies to everyone and, through negated conditions on
// identity keys, spares only callers of fixed values ("deny unless from my
// VPC endpoint") narrows the Allow statements whose actions and resources
// it covers: the survivors of the pair are no longer everyone. A Deny that
// covers only some of the allowed actions narrows only those.
func AnalysePolicy(policy string) (PolicyAnalysis, error) {
	var out PolicyAnalysis
	if strings.TrimSpace(policy) == "" {
		return out, nil
	}
	stmts, err := parseStatements(policy)
	if err != nil {
		return out, err
	}
	var denies []narrowingDeny
	for i, s := range stmts {
		if d, ok := narrowing(s, i); ok {
			denies = append(denies, d)
		}
	}
	for _, s := range stmts {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		var reason string
		switch {
		case len(s.NotPrincipal) > 0:
			reason = "Allow with NotPrincipal applies to everyone not listed"
		case principalIsEveryone(s.Principal):
			reason = "Principal is *"
		default:
			continue
		}
		if _, ok := restrictingCondition(s.Condition); ok {
			continue
		}
		var actions, resources []string
		_ = unmarshalOneOrMany(s.Action, &actions)
		if len(s.NotAction) > 0 {
			actions = append(actions, "*") // everything but the listed actions
		}
		_ = unmarshalOneOrMany(s.Resource, &resources)
		if len(s.NotResource) > 0 || len(resources) == 0 {
			resources = []string{"*"}
		}
		var open, narrowed, by []string
		for _, a := range actions {
			var names []string
			for _, d := range denies {
				if d.covers(a, resources) {
					names = append(names, d.label)
				}
			}
			if len(names) == 0 {
				open = append(open, a)
				continue
			}
			narrowed = append(narrowed, a)
			for _, n := range names {
				if !slices.Contains(by, n) {
					by = append(by, n)
				}
			}
		}
		if len(narrowed) > 0 {
			out.Narrowed = append(out.Narrowed, NarrowedStatement{Sid: s.Sid, Actions: narrowed, By: by})
		}
		if len(open) > 0 || len(actions) == 0 {
			if len(s.NotAction) > 0 {
				open = slices.DeleteFunc(open, func(a string) bool { return a == "*" })
				var not []string
				_ = unmarshalOneOrMany(s.NotAction, &not)
				for _, n := range not {
					open = append(open, "NotAction "+n)
				}
			}
			out.Public = append(out.Public, PublicStatement{Sid: s.Sid, Actions: open, Reason: reason})
		}
	}
	return out, nil
}

// narrowingDeny is a Deny statement that confines whom it spares.
type narrowingDeny struct {
	label      string
	actions    []string // Action patterns; with notActions, every action but those
	notActions bool
	resources  []string
}

// covers reports whether the Deny applies to every request that the allowed
// action pattern and resource patterns admit.
func (d narrowingDeny) covers(action string, resources []string) bool {
	action = normaliseAction(action)
	if d.notActions {
		for _, n := range d.actions {
			if patternsOverlap(normaliseAction(n), action, true) {
				return false
			}
		}
	} else if !slices.ContainsFunc(d.actions, func(p string) bool { return patternCovers(normaliseAction(p), action, true) }) {
		return false
	}
	for _, r := range resources {
		if !slices.ContainsFunc(d.resources, func(p string) bool { return patternCovers(p, r, false) }) {
			return false
		}
	}
	return true
}

// narrowing returns the Deny statement s as a narrowing deny when it applies
// to everyone but callers confined to fixed identities: Principal "*" with
// only negated conditions on identity keys with fixed values (the survivors
// are those matching one of the values, of one of the conditions), or no
// condition at all (nobody survives); or NotPrincipal listing only fixed
// principals (they alone survive). A Deny with NotResource, or a condition
// that limits how rather than who (aws:SecureTransport), does not narrow:
// its survivors include callers from anywhere.
func narrowing(s statement, i int) (narrowingDeny, bool) {
	if !strings.EqualFold(s.Effect, "Deny") || len(s.NotResource) > 0 {
		return narrowingDeny{}, false
	}
	label := s.Sid
	if label == "" {
		label = fmt.Sprintf("statement %d", i+1)
	}
	switch {
	case len(s.NotPrincipal) > 0:
		if !fixedPrincipals(s.NotPrincipal) || len(s.Condition) > 0 {
			return narrowingDeny{}, false
		}
		label += " (denies everyone but the principals it lists)"
	case principalIsEveryone(s.Principal):
		if len(s.Condition) == 0 {
			label += " (denies everyone)"
			break
		}
		var spares []string
		for op, keys := range s.Condition {
			if !narrowingOperator(op) || len(keys) == 0 {
				return narrowingDeny{}, false
			}
			for key, raw := range keys {
				if !identityKeys[strings.ToLower(key)] || !confines(op, key, raw) {
					return narrowingDeny{}, false
				}
				spares = append(spares, key)
			}
		}
		slices.Sort(spares)
		label += " (denies unless " + strings.Join(spares, " or ") + " has a fixed value)"
	default:
		return narrowingDeny{}, false
	}
	d := narrowingDeny{label: label}
	if len(s.NotAction) > 0 {
		d.notActions = true
		_ = unmarshalOneOrMany(s.NotAction, &d.actions)
	} else {
		_ = unmarshalOneOrMany(s.Action, &d.actions)
	}
	_ = unmarshalOneOrMany(s.Resource, &d.resources)
	if len(d.resources) == 0 {
		return narrowingDeny{}, false
	}
	return d, true
}

// fixedPrincipals reports whether a NotPrincipal element lists only fixed
// principals (no wildcard anywhere).
func fixedPrincipals(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return false
	}
	for _, v := range m {
		var values []string
		if unmarshalOneOrMany(v, &values) != nil || len(values) == 0 {
			return false
		}
		for _, p := range values {
			if !fixed(p) {
				return false
			}
		}
	}
	return true
}

// narrowingOperator reports whether a Deny's condition operator spares only
// the callers whose key equals one of its values: the negated string, ARN
// and address operators (with or without IfExists, which also denies
// requests without the key). Set operators and positive operators do not.
func narrowingOperator(op string) bool {
	o := strings.TrimSuffix(strings.ToLower(op), "ifexists")
	switch o {
	case "stringnotequals", "stringnotequalsignorecase", "stringnotlike", "notipaddress", "arnnotequals", "arnnotlike":
		return true
	}
	return false
}

// normaliseAction maps "*" to "s3:*" (a bucket policy governs S3 actions
// only) and lower-cases the action (action names are case-insensitive).
func normaliseAction(a string) string {
	a = strings.ToLower(a)
	if a == "*" {
		return "s3:*"
	}
	return a
}

// patternCovers reports whether every string that pattern q matches is also
// matched by pattern p (* and ? wildcards). It answers soundly, not
// completely: p covers q when p is "*", when q has no wildcard and p matches
// it, or when p is a wildcard-free prefix followed by "*" and q starts with
// that prefix.
func patternCovers(p, q string, fold bool) bool {
	if fold {
		p, q = strings.ToLower(p), strings.ToLower(q)
	}
	if p == "*" || p == q {
		return true
	}
	if !strings.ContainsAny(q, "*?") {
		return wildcardMatch(p, q)
	}
	prefix, ok := strings.CutSuffix(p, "*")
	return ok && !strings.ContainsAny(prefix, "*?") && strings.HasPrefix(q, prefix)
}

// patternsOverlap reports whether some string may match both patterns; it
// answers "yes" when unsure.
func patternsOverlap(p, q string, fold bool) bool {
	if fold {
		p, q = strings.ToLower(p), strings.ToLower(q)
	}
	if !strings.ContainsAny(q, "*?") {
		return wildcardMatch(p, q)
	}
	if !strings.ContainsAny(p, "*?") {
		return wildcardMatch(q, p)
	}
	pp, qp := literalPrefix(p), literalPrefix(q)
	return strings.HasPrefix(pp, qp) || strings.HasPrefix(qp, pp)
}

func literalPrefix(p string) string {
	if i := strings.IndexAny(p, "*?"); i >= 0 {
		return p[:i]
	}
	return p
}

// principalIsEveryone reports whether a Principal element is "*" or
// {"AWS": "*"} (alone or in a list).
func principalIsEveryone(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		if !strings.EqualFold(k, "AWS") && !strings.EqualFold(k, "CanonicalUser") {
			continue
		}
		var values []string
		if unmarshalOneOrMany(v, &values) != nil {
			continue
		}
		for _, p := range values {
			if p == "*" {
				return true
			}
		}
	}
	return false
}

// restrictingCondition returns the first condition key that confines the
// caller to something narrower than everyone: an identity key under an
// operator that confines the caller to its values (restrictingOperator),
// with only fixed values (confines).
func restrictingCondition(cond map[string]map[string]json.RawMessage) (string, bool) {
	for op, keys := range cond {
		if !restrictingOperator(op) {
			continue
		}
		for key, raw := range keys {
			if identityKeys[strings.ToLower(key)] && confines(op, key, raw) {
				return key, true
			}
		}
	}
	return "", false
}

// confines reports whether the values of a condition on an identity key name
// fixed identities, so that the callers matching one of them are not
// everyone. Every value must be fixed: no * or ? and no policy variable, as
// AWS defines a non-public policy, with three refinements that still name
// one account, role or organisation: an ARN (aws:PrincipalArn,
// aws:SourceArn, s3:DataAccessPointArn) whose fields up to the account are
// fixed and whose account is a 12-digit ID; aws:userid "ROLEID:*" (any
// session of one role); an organisation path whose organisation ID is
// fixed. aws:SourceIp confines only under an address operator, with CIDRs
// that all parse and whose union covers neither all of IPv4 nor all of IPv6.
func confines(op, key string, raw json.RawMessage) bool {
	var values []string
	if unmarshalOneOrMany(raw, &values) != nil || len(values) == 0 {
		return false
	}
	k := strings.ToLower(key)
	if k == "aws:sourceip" {
		o := strings.TrimSuffix(strings.ToLower(op[strings.LastIndex(op, ":")+1:]), "ifexists")
		return (o == "ipaddress" || o == "notipaddress") && !coversInternet(values)
	}
	for _, v := range values {
		ok := fixed(v)
		switch k {
		case "aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn":
			ok = ok || accountFixedARN(v)
		case "aws:userid":
			id, rest, found := strings.Cut(v, ":")
			ok = ok || (found && rest == "*" && id != "" && fixed(id))
		case "aws:principalorgpaths", "aws:sourceorgpaths":
			org, _, _ := strings.Cut(v, "/")
			ok = strings.HasPrefix(org, "o-") && fixed(org)
		}
		if !ok {
			return false
		}
	}
	return true
}

// fixed reports whether a condition or principal value names one thing: not
// empty, no wildcard, no policy variable.
func fixed(v string) bool {
	return v != "" && !strings.ContainsAny(v, "*?") && !strings.Contains(v, "${")
}

// accountFixedARN reports whether an ARN pattern names one account: its
// partition, service, region and account fields have no wildcard and the
// account is a 12-digit ID (arn:aws:iam::111122223333:role/*).
func accountFixedARN(v string) bool {
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return false
	}
	for _, f := range parts[:5] {
		if !fixed(f) && f != "" {
			return false
		}
	}
	acct := parts[4]
	if len(acct) != 12 {
		return false
	}
	for _, c := range acct {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// coversInternet reports whether a set of addresses admits the internet:
// a value does not parse as an address or CIDR, or the union of the
// prefixes covers all of IPv4 or all of IPv6 (0.0.0.0/1 with 128.0.0.0/1 is
// 0.0.0.0/0).
func coversInternet(values []string) bool {
	var v4, v6 []netip.Prefix
	for _, v := range values {
		p, err := netip.ParsePrefix(strings.TrimSpace(v))
		if err != nil {
			a, aerr := netip.ParseAddr(strings.TrimSpace(v))
			if aerr != nil {
				return true
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return coversAll(v4, netip.IPv4Unspecified()) || coversAll(v6, netip.IPv6Unspecified())
}

// coversAll reports whether the union of prefixes (of one family) covers
// every address of the family whose first address is zero.
func coversAll(prefixes []netip.Prefix, zero netip.Addr) bool {
	if len(prefixes) == 0 {
		return false
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	next := zero // the first address not yet covered
	for _, p := range prefixes {
		if next.Less(p.Addr()) {
			return false // a gap before p
		}
		last := lastAddr(p)
		if !last.Less(next) {
			if !last.Next().IsValid() {
				return true // reached the family's last address
			}
			next = last.Next()
		}
	}
	return false
}

// lastAddr returns the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// restrictingOperator reports whether a condition operator confines the
// caller to the values it lists. A negated operator (StringNotEquals,
// NotIpAddress, ArnNotLike, ...) admits everyone outside its values; an
// ...IfExists operator, and ForAllValues:, also match requests that lack the
// key (a request from the internet carries no aws:SourceVpce); Null tests
// only whether the key is present, never whose it is.
func restrictingOperator(op string) bool {
	o := strings.ToLower(op)
	if strings.HasPrefix(o, "forallvalues:") || o == "null" {
		return false
	}
	if i := strings.LastIndex(o, ":"); i >= 0 {
		o = o[i+1:]
	}
	return !strings.Contains(o, "not") && !strings.HasSuffix(o, "ifexists")
}

// unmarshalOneOrMany decodes a JSON value that may be one item or a list.
func unmarshalOneOrMany[T any](raw json.RawMessage, out *[]T) error {
	if len(raw) == 0 {
		return nil
	}
	var one T
	if err := json.Unmarshal(raw, &one); err == nil {
		*out = []T{one}
		return nil
	}
	return json.Unmarshal(raw, out)
}

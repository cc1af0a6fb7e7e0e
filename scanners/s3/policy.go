package s3

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PublicStatement is a policy statement that grants access to anyone.
type PublicStatement struct {
	Sid     string   `json:"sid,omitempty"`
	Actions []string `json:"actions"`
	Reason  string   `json:"reason"`
}

// restrictingKeys are condition keys that limit who can use a statement
// (their caller's network, account, organisation or identity), so that a
// statement with Principal "*" and one of them is not public. Other
// conditions (aws:SecureTransport, s3:x-amz-acl, ...) limit how, not who.
var restrictingKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:sourcearn": true,
	"aws:sourceorgid": true, "aws:sourceorgpaths": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:principalaccount": true,
	"aws:principalarn": true, "aws:userid": true, "aws:username": true,
	"aws:principalservicename": true, "s3:dataaccesspointaccount": true, "s3:dataaccesspointarn": true,
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
// allow anyone: Effect Allow with Principal "*" (or {"AWS": "*"}), or with a
// NotPrincipal, and no condition that restricts who the caller is.
func PublicStatements(policy string) ([]PublicStatement, error) {
	if strings.TrimSpace(policy) == "" {
		return nil, nil
	}
	stmts, err := parseStatements(policy)
	if err != nil {
		return nil, err
	}
	var out []PublicStatement
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
		var actions []string
		_ = unmarshalOneOrMany(s.Action, &actions)
		out = append(out, PublicStatement{Sid: s.Sid, Actions: actions, Reason: reason})
	}
	return out, nil
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

// restrictingCondition returns the first condition key that restricts the
// caller to something narrower than everyone. A key whose values are all
// wildcards ("*", 0.0.0.0/0, ::/0) restricts nothing, and neither does a key
// under an operator that does not confine the caller to its values (see
// restrictingOperator).
func restrictingCondition(cond map[string]map[string]json.RawMessage) (string, bool) {
	for op, keys := range cond {
		if !restrictingOperator(op) {
			continue
		}
		for key, raw := range keys {
			if !restrictingKeys[strings.ToLower(key)] {
				continue
			}
			var values []string
			if unmarshalOneOrMany(raw, &values) != nil {
				return key, true
			}
			for _, v := range values {
				if v != "*" && v != "0.0.0.0/0" && v != "::/0" {
					return key, true
				}
			}
		}
	}
	return "", false
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

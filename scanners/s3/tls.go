package s3

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TLSStatement is a bucket policy statement that denies every S3 action on
// the bucket (or its objects) to everyone when the request is not sent over
// TLS.
type TLSStatement struct {
	// Label is the statement's Sid, or "statement N" (1-based) without one.
	Label     string   `json:"statement"`
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
	// Condition renders the condition as written, e.g.
	// `Bool aws:SecureTransport "false"`.
	Condition string `json:"condition"`
}

// TLSEnforcement parses a bucket policy and returns the first statement that
// enforces TLS on the bucket whose ARN is bucketARN. When none does, it
// returns why: for each Deny statement with an aws:SecureTransport condition,
// what keeps it from qualifying, or that there is no such statement.
//
// A statement qualifies when it has Effect Deny; Principal "*" or
// {"AWS": "*"} (no NotPrincipal); Action "s3:*" or "*" (no NotAction);
// Resource "*" or a pattern that covers the bucket or its objects (no
// NotResource); and as its only condition Bool or BoolIfExists
// aws:SecureTransport "false" (a string or a JSON bool, any case). A further
// condition would narrow the deny to some of the plain-HTTP requests.
func TLSEnforcement(policy, bucketARN string) (*TLSStatement, []string, error) {
	if strings.TrimSpace(policy) == "" {
		return nil, []string{"the bucket has no policy"}, nil
	}
	stmts, err := parseStatements(policy)
	if err != nil {
		return nil, nil, err
	}
	var reasons []string
	for i, s := range stmts {
		label := s.Sid
		if label == "" {
			label = fmt.Sprintf("statement %d", i+1)
		}
		cond, mentions := secureTransportCondition(s.Condition)
		if !strings.EqualFold(s.Effect, "Deny") || !mentions {
			continue
		}
		var actions, resources []string
		_ = unmarshalOneOrMany(s.Action, &actions)
		_ = unmarshalOneOrMany(s.Resource, &resources)
		var why []string
		switch {
		case len(s.NotPrincipal) > 0:
			why = append(why, "it uses NotPrincipal, so it does not apply to everyone")
		case !principalIsEveryone(s.Principal):
			why = append(why, "its Principal is not *")
		}
		switch {
		case len(s.NotAction) > 0:
			why = append(why, "it uses NotAction, so it does not deny every action")
		case !allS3Actions(actions):
			why = append(why, fmt.Sprintf("it denies only %s, not s3:*", strings.Join(actions, ", ")))
		}
		switch {
		case len(s.NotResource) > 0:
			why = append(why, "it uses NotResource")
		case !coversBucket(resources, bucketARN):
			why = append(why, fmt.Sprintf("its resources (%s) do not cover %s or its objects", strings.Join(resources, ", "), bucketARN))
		}
		if cond == "" {
			why = append(why, conditionProblem(s.Condition))
		}
		if len(why) == 0 {
			return &TLSStatement{Label: label, Actions: actions, Resources: resources, Condition: describeCondition(s.Condition)}, nil, nil
		}
		reasons = append(reasons, label+": "+strings.Join(why, "; "))
	}
	if len(reasons) == 0 {
		reasons = []string{"no Deny statement has an aws:SecureTransport condition"}
	}
	return nil, reasons, nil
}

// secureTransportCondition reports whether a statement's condition mentions
// aws:SecureTransport, and returns the key's operator when the condition is
// exactly Bool (or BoolIfExists) aws:SecureTransport with every value false.
func secureTransportCondition(cond map[string]map[string]json.RawMessage) (op string, mentions bool) {
	keys := 0
	for o, kv := range cond {
		for k, raw := range kv {
			keys++
			if !strings.EqualFold(k, "aws:SecureTransport") {
				continue
			}
			mentions = true
			if (strings.EqualFold(o, "Bool") || strings.EqualFold(o, "BoolIfExists")) && allFalse(raw) {
				op = o
			}
		}
	}
	if keys != 1 {
		op = ""
	}
	return op, mentions
}

// conditionProblem says why a condition that mentions aws:SecureTransport
// does not deny exactly the requests without TLS.
func conditionProblem(cond map[string]map[string]json.RawMessage) string {
	keys := 0
	for _, kv := range cond {
		keys += len(kv)
	}
	for o, kv := range cond {
		for k, raw := range kv {
			if !strings.EqualFold(k, "aws:SecureTransport") {
				continue
			}
			switch {
			case !strings.EqualFold(o, "Bool") && !strings.EqualFold(o, "BoolIfExists"):
				return fmt.Sprintf("its condition uses %s, not Bool, on aws:SecureTransport", o)
			case !allFalse(raw):
				return fmt.Sprintf("its condition matches aws:SecureTransport %s, not false", string(raw))
			}
		}
	}
	if keys > 1 {
		return "it has further conditions that narrow the deny to some of the requests without TLS"
	}
	return "its condition is not Bool aws:SecureTransport false"
}

// describeCondition renders a condition as "Op key value; ..." (the value as
// written in the policy).
func describeCondition(cond map[string]map[string]json.RawMessage) string {
	var parts []string
	for o, kv := range cond {
		for k, raw := range kv {
			parts = append(parts, o+" "+k+" "+string(raw))
		}
	}
	return strings.Join(parts, "; ")
}

// allFalse reports whether a condition value is false, or a non-empty list
// of false values: "false" in any case, or the JSON bool false.
func allFalse(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	values, ok := v.([]any)
	if !ok {
		values = []any{v}
	}
	if len(values) == 0 {
		return false
	}
	for _, v := range values {
		switch x := v.(type) {
		case bool:
			if x {
				return false
			}
		case string:
			if !strings.EqualFold(x, "false") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// allS3Actions reports whether an Action list includes every S3 action.
func allS3Actions(actions []string) bool {
	for _, a := range actions {
		if a == "*" || strings.EqualFold(a, "s3:*") {
			return true
		}
	}
	return false
}

// coversBucket reports whether a Resource list covers the bucket or all of
// its objects: "*", or a pattern that matches the bucket ARN or, read
// literally, the object pattern bucketARN/*.
func coversBucket(resources []string, bucketARN string) bool {
	for _, r := range resources {
		if r == "*" || wildcardMatch(r, bucketARN) || wildcardMatch(r, bucketARN+"/*") {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where * matches any run
// of characters (slashes included) and ? any one character, as in IAM
// resource ARNs.
func wildcardMatch(pattern, s string) bool {
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[str]):
			p++
			str++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, str
			p++
		case star >= 0:
			p = star + 1
			mark++
			str = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Package deploy reads the deployment templates (template.yaml, the SAM
// template of the nightly run, and member-role.yaml, the member accounts'
// scanning role) so that tests can hold their security properties: a later
// edit that drops the bucket's encryption, widens a role or forgets an
// environment variable fails a test instead of shipping.
//
// CloudFormation's YAML short forms (!Ref, !Sub, !GetAtt, !If, ...) are
// turned into their long JSON forms ({"Ref": ...}, {"Fn::Sub": ...}), so a
// template reads as the plain maps and lists CloudFormation itself sees.
package deploy

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed CloudFormation or SAM template.
type Template map[string]any

// Load reads and parses the template at path.
func Load(path string) (Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deploy: read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template from YAML (or JSON) text.
func Parse(data []byte) (Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(root.Content) != 1 {
		return nil, fmt.Errorf("parse template: want one YAML document, got %d", len(root.Content))
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse template: the top level is %T, not a mapping", v)
	}
	return Template(m), nil
}

// Resource returns the resource with the given logical ID, or nil.
func (t Template) Resource(id string) map[string]any {
	res, _ := t["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	return r
}

// ResourcesOfType returns the logical IDs of the resources of one type.
func (t Template) ResourcesOfType(typ string) []string {
	res, _ := t["Resources"].(map[string]any)
	var ids []string
	for id, r := range res {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// Parameter returns the parameter with the given name, or nil.
func (t Template) Parameter(name string) map[string]any {
	ps, _ := t["Parameters"].(map[string]any)
	p, _ := ps[name].(map[string]any)
	return p
}

// Get follows a path of map keys (strings) and list indexes (ints) from v and
// returns what it finds, or nil when a step is missing.
func Get(v any, path ...any) any {
	for _, step := range path {
		if t, ok := v.(Template); ok {
			v = map[string]any(t)
		}
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[s]
		case int:
			l, ok := v.([]any)
			if !ok || s < 0 || s >= len(l) {
				return nil
			}
			v = l[s]
		default:
			return nil
		}
	}
	return v
}

// shortForms maps a YAML tag to the intrinsic function's long name.
var shortForms = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Base64": "Fn::Base64",
	"!Cidr": "Fn::Cidr", "!Contains": "Fn::Contains", "!EachMemberEquals": "Fn::EachMemberEquals",
	"!EachMemberIn": "Fn::EachMemberIn", "!RefAll": "Fn::RefAll", "!ValueOf": "Fn::ValueOf",
	"!ValueOfAll": "Fn::ValueOfAll", "!Transform": "Fn::Transform", "!ToJsonString": "Fn::ToJsonString",
	"!Length": "Fn::Length",
}

// convert turns a YAML node into maps, lists, strings, bools, numbers and
// nil, with short-form intrinsic functions in their long form.
func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key that is not a scalar", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			cv, err := convert(val)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := convert(c)
			if err != nil {
				return nil, err
			}
			l = append(l, cv)
		}
		v = l
	case yaml.ScalarNode:
		v = scalar(n)
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name, ok := shortForms[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	if name == "Fn::GetAtt" {
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not RESOURCE.ATTRIBUTE", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{name: v}, nil
}

// scalar returns a scalar node's value: a string unless its resolved tag is
// a bool, an int, a float or null.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b
		}
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err == nil {
			return i
		}
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err == nil {
			return f
		}
	case "!!null":
		return nil
	}
	return n.Value
}

// SampleSubstitutions returns values for the DefinitionSubstitutions of the
// state machine resource id, as a deployment with the parameters' defaults
// would fill them: a Ref of a parameter is its Default, the ARN of a
// function in the template a sample Lambda ARN. It fails on a substitution
// it cannot fill, so that a validator sees what AWS would.
func (t Template) SampleSubstitutions(id string) (map[string]string, error) {
	r := t.Resource(id)
	if r == nil {
		return nil, fmt.Errorf("deploy: no resource %s", id)
	}
	subs, ok := Get(r, "Properties", "DefinitionSubstitutions").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("deploy: %s has no DefinitionSubstitutions", id)
	}
	out := make(map[string]string, len(subs))
	for k, v := range subs {
		if name, ok := Get(v, "Ref").(string); ok {
			p := t.Parameter(name)
			if p == nil || p["Default"] == nil {
				return nil, fmt.Errorf("deploy: substitution %s: parameter %s has no default", k, name)
			}
			out[k] = fmt.Sprint(p["Default"])
			continue
		}
		att, _ := Get(v, "Fn::GetAtt").([]any)
		if len(att) == 2 && att[1] == "Arn" {
			if fn := t.Resource(fmt.Sprint(att[0])); fn != nil && fn["Type"] == "AWS::Serverless::Function" {
				out[k] = "arn:aws:lambda:us-east-1:123456789012:function:" + fmt.Sprint(att[0])
				continue
			}
		}
		return nil, fmt.Errorf("deploy: substitution %s: cannot fill %v", k, v)
	}
	return out, nil
}

// Package controls holds the certification frameworks as data and maps scan
// results onto them.
//
// A framework catalogue is a YAML file: the framework (id, name, version,
// publisher, link) and its controls, each with an ID, a short title in our
// own words, its type (automated or manual) and the IDs of the checks that
// are evidence for it. The built-in catalogues are embedded from
// catalogues/*.yaml; users add their own with LoadFile.
//
// The mapping is held in one direction only: framework -> control -> checks.
// Checks never name controls; a result's controls are derived from the
// catalogues (Index, Apply), so the two can never drift apart.
package controls

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/yamlerr"
)

// catalogueFS holds the built-in framework catalogues.
//
//go:embed catalogues/*.yaml
var catalogueFS embed.FS

// builtinOrder is the order in which the built-in frameworks are listed,
// rolled up and reported.
func builtinOrder() []string {
	return []string{
		"cis-aws-3.0.0", "cis-aws-5.0.0", "aws-fsbp", "soc2",
		"pci-dss-4.0.1", "nist-800-53-r5", "iso-27001-2022", "hipaa",
	}
}

// Type says how a control is evidenced.
type Type string

// The control types.
const (
	// Automated controls have at least one check as evidence.
	Automated Type = "automated"
	// Manual controls have no check: the evidence is gathered by people.
	Manual Type = "manual"
)

// Control is one control (requirement, criterion, recommendation) of a
// framework.
type Control struct {
	// ID is the publisher's identifier, e.g. "5.2" or "CC6.1".
	ID string
	// Title is a short paraphrase in our own words, never the publisher's text.
	Title string
	// Type is Automated when Checks is not empty, else Manual.
	Type Type
	// Checks are the IDs of the checks that are evidence for the control.
	Checks []string
	// Coverage says how much of the control its checks evidence:
	// model.CoverageFull or model.CoveragePartial (the default for an
	// automated control); empty for a manual one.
	Coverage string
	// Line is where the control starts in its catalogue file.
	Line int
}

// Framework is one version of a certification framework and its controls.
type Framework struct {
	// ID is lowercase and stable, e.g. "cis-aws-5.0.0"; results name
	// controls as "<ID>:<control ID>".
	ID        string
	Name      string
	Version   string
	Publisher string
	// URL links to the publisher's page for the framework.
	URL string
	// Scope says what part of the framework the catalogue covers, when it
	// is not the whole framework.
	Scope    string
	Controls []Control
	// Source is the catalogue file: "builtin:<name>" or a path.
	Source string
}

// Counts returns how many controls of the framework are automated and manual.
func (f Framework) Counts() (automated, manual int) {
	for _, c := range f.Controls {
		if c.Type == Automated {
			automated++
		} else {
			manual++
		}
	}
	return automated, manual
}

// Key returns the name of a control in results: "<framework>:<control>".
func Key(framework, control string) string { return framework + ":" + control }

// Builtin returns the embedded framework catalogues in their fixed order.
// They are validated like a user's file, except that check IDs are not
// checked against a registry here (a test does that).
func Builtin() ([]Framework, error) {
	entries, err := fs.ReadDir(catalogueFS, "catalogues")
	if err != nil {
		return nil, fmt.Errorf("read built-in catalogues: %w", err)
	}
	byID := map[string]Framework{}
	for _, e := range entries {
		name := path.Join("catalogues", e.Name())
		data, err := catalogueFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read built-in catalogue %s: %w", name, err)
		}
		fw, err := Parse("builtin:"+e.Name(), data, nil)
		if err != nil {
			return nil, err
		}
		if _, dup := byID[fw.ID]; dup {
			return nil, fmt.Errorf("built-in catalogue %s: framework %q defined twice", e.Name(), fw.ID)
		}
		byID[fw.ID] = fw
	}
	out := make([]Framework, 0, len(byID))
	for _, id := range builtinOrder() {
		fw, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("built-in framework %q has no catalogue file", id)
		}
		out = append(out, fw)
		delete(byID, id)
	}
	for id := range byID {
		return nil, fmt.Errorf("built-in framework %q is not in the built-in order", id)
	}
	return out, nil
}

// LoadFile reads a user's catalogue. known is the set of check IDs that
// exist; a check ID outside it is an error naming the file and line.
func LoadFile(file string, known map[string]bool) (Framework, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Framework{}, fmt.Errorf("read framework catalogue: %w", err)
	}
	return Parse(file, data, known)
}

// ParseError is a catalogue that does not keep the format. Its message names
// the file, the line and the field, e.g.
// "my.yaml:12: controls[3].checks[0]: unknown check ID \"ec2-nope\"".
// It is the config file's error type too (config.ParseError).
type ParseError = yamlerr.Error

var (
	frameworkIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]*[a-z0-9]$`)
	controlIDPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.()\-]*$`)
)

// Parse decodes and validates one catalogue document; file names it in
// errors. When known is not nil, every check ID must be in it. Every problem
// found is reported (joined), each with its line and field.
func Parse(file string, data []byte, known map[string]bool) (Framework, error) {
	p := &parser{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return Framework{}, &ParseError{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return Framework{}, &ParseError{File: file, Msg: "empty catalogue"}
	}
	fw := Framework{Source: file}
	root := doc.Content[0]
	fields := p.mapping(root, "", []string{"framework", "controls"}, []string{"framework", "controls"})

	if n := fields["framework"]; n != nil {
		meta := p.mapping(n, "framework", []string{"id", "name", "version", "publisher", "url", "scope"},
			[]string{"id", "name", "version", "publisher"})
		fw.ID = p.scalar(meta, "framework", "id")
		fw.Name = p.scalar(meta, "framework", "name")
		fw.Version = p.scalar(meta, "framework", "version")
		fw.Publisher = p.scalar(meta, "framework", "publisher")
		fw.URL = p.scalar(meta, "framework", "url")
		fw.Scope = p.scalar(meta, "framework", "scope")
		if fw.ID != "" && !frameworkIDPattern.MatchString(fw.ID) {
			p.errorf(meta["id"], "framework.id", "%q is not a lowercase ID (letters, digits, '.', '-')", fw.ID)
		}
		if fw.URL != "" && !strings.HasPrefix(fw.URL, "https://") && !strings.HasPrefix(fw.URL, "http://") {
			p.errorf(meta["url"], "framework.url", "%q is not an http(s) link", fw.URL)
		}
	}

	if n := fields["controls"]; n != nil {
		if n.Kind != yaml.SequenceNode {
			p.errorf(n, "controls", "want a list of controls")
		} else if len(n.Content) == 0 {
			p.errorf(n, "controls", "the list is empty")
		}
		seen := map[string]int{}
		if n.Kind == yaml.SequenceNode {
			for i, cn := range n.Content {
				field := fmt.Sprintf("controls[%d]", i)
				c := p.control(cn, field, known)
				if c.ID != "" {
					if first, dup := seen[c.ID]; dup {
						p.errorf(cn, field+".id", "duplicate control ID %q (first at line %d)", c.ID, first)
					} else {
						seen[c.ID] = cn.Line
					}
				}
				fw.Controls = append(fw.Controls, c)
			}
		}
	}
	if len(p.errs) > 0 {
		return Framework{}, errors.Join(p.errs...)
	}
	return fw, nil
}

// parser walks a yaml.Node tree and collects errors with their lines.
type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// mapping checks that n is a mapping with only the allowed keys, each once,
// and the required ones present, and returns the value nodes by key.
func (p *parser) mapping(n *yaml.Node, field string, allowed, required []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	where := field
	if where == "" {
		where = "document"
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping with the keys %s", strings.Join(required, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		switch {
		case !contains(allowed, k.Value):
			p.errorf(k, name, "unknown field (allowed in %s: %s)", where, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.errorf(k, name, "field given twice")
		default:
			out[k.Value] = v
		}
	}
	for _, r := range required {
		if out[r] == nil {
			p.errorf(n, join(field, r), "missing required field")
		}
	}
	return out
}

// scalar returns the text of a string field, reporting a non-scalar or an
// empty value; a missing field was reported by mapping.
func (p *parser) scalar(m map[string]*yaml.Node, parent, key string) string {
	n := m[key]
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, join(parent, key), "want a text value")
		return ""
	}
	v := strings.TrimSpace(n.Value)
	if v == "" {
		p.errorf(n, join(parent, key), "must not be empty")
	}
	return v
}

func (p *parser) control(n *yaml.Node, field string, known map[string]bool) Control {
	m := p.mapping(n, field, []string{"id", "title", "type", "checks", "coverage"}, []string{"id", "title", "type"})
	c := Control{Line: n.Line}
	listed := 0
	c.ID = p.scalar(m, field, "id")
	c.Title = p.scalar(m, field, "title")
	if c.ID != "" && !controlIDPattern.MatchString(c.ID) {
		p.errorf(m["id"], field+".id", "%q is not a control ID (letters, digits, '.', '-', parentheses)", c.ID)
	}
	if cn := m["checks"]; cn != nil {
		if cn.Kind != yaml.SequenceNode {
			p.errorf(cn, field+".checks", "want a list of check IDs")
		} else {
			listed = len(cn.Content)
			seen := map[string]bool{}
			for j, item := range cn.Content {
				cf := fmt.Sprintf("%s.checks[%d]", field, j)
				switch {
				case item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "":
					p.errorf(item, cf, "want a check ID")
				case seen[item.Value]:
					p.errorf(item, cf, "check %q listed twice", item.Value)
				case known != nil && !known[item.Value]:
					p.errorf(item, cf, "unknown check ID %q (see `posture checks`)", item.Value)
				default:
					seen[item.Value] = true
					c.Checks = append(c.Checks, item.Value)
				}
			}
		}
	}
	typ := Type(p.scalar(m, field, "type"))
	switch {
	case m["type"] == nil || typ == "":
	case typ != Automated && typ != Manual:
		p.errorf(m["type"], field+".type", "%q: want automated or manual", typ)
	case typ == Automated && listed == 0:
		p.errorf(m["type"], field+".type", "automated control without checks (list its checks, or make it manual)")
	case typ == Manual && listed > 0:
		p.errorf(m["type"], field+".type", "manual control with checks (make it automated, or remove its checks)")
	}
	c.Type = typ
	if c.Type == Automated {
		c.Coverage = model.CoveragePartial
	}
	if cov := p.scalar(m, field, "coverage"); m["coverage"] != nil && cov != "" {
		switch {
		case cov != model.CoverageFull && cov != model.CoveragePartial:
			p.errorf(m["coverage"], field+".coverage", "%q: want full or partial", cov)
		case c.Type != Automated:
			p.errorf(m["coverage"], field+".coverage", "only an automated control has a coverage")
		default:
			c.Coverage = cov
		}
	}
	return c
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

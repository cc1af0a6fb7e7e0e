package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/posture-dev/posture/internal/yamlerr"
)

// DateLayout is the layout of a waiver's expiry date: YYYY-MM-DD.
const DateLayout = "2006-01-02"

// DefaultWaiverMaxDays is how far ahead a waiver may expire unless the file
// says otherwise (waivers_policy.max_days): an exception is reviewed at
// least once a year.
const DefaultWaiverMaxDays = 365

// WaiversPolicy bounds the waivers of the file.
type WaiversPolicy struct {
	// MaxDays: a waiver may expire at most this many days after the day the
	// file is loaded (UTC).
	MaxDays int `yaml:"max_days"`
}

// Waiver is one accepted exception: the FAIL results of Check whose
// resource, account and region it matches are MUTED while it is live (see
// package waivers). Patterns may use `*` for any run of characters.
type Waiver struct {
	// ID names the waiver; "waiver-N" (its position in the list, from 1)
	// when the file gives none. IDs are unique within a file.
	ID string
	// Check is the check ID the waiver applies to.
	Check string
	// Resources match a result's resource_id or resource_arn; at least one.
	Resources []string
	// Accounts and Regions, when given, limit the waiver to results whose
	// account_id or region one of them matches.
	Accounts []string
	Regions  []string
	// Reason and Owner are required: why the risk is accepted, and who owns it.
	Reason string
	Owner  string
	// Ticket and ApprovedBy are optional references for the auditor.
	Ticket     string
	ApprovedBy string
	// Expires is the last day the waiver mutes (00:00 UTC of that day).
	Expires time.Time
	// Line is where the waiver starts in its file.
	Line int
}

// ExpiresOn is the expiry as written in the file, YYYY-MM-DD.
func (w Waiver) ExpiresOn() string { return w.Expires.Format(DateLayout) }

// Expired reports whether the waiver no longer mutes at now: its expiry day
// (UTC) is before now's day (UTC). The expiry day itself is still live.
func (w Waiver) Expired(now time.Time) bool {
	return w.Expires.Before(day(now))
}

// day is the start (00:00 UTC) of t's day in UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Options are what Parse and Load need beyond the file to validate waivers.
type Options struct {
	// Checks are the known check IDs; when not nil, a waiver's check must
	// be one of them.
	Checks map[string]bool
	// Now is when the file is loaded: a waiver may expire at most
	// waivers_policy.max_days after its day (UTC). Zero means time.Now().
	Now time.Time
}

func options(opts []Options) Options {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// ParseError is a waiver that does not keep the format. Its message names
// the file, the line and the field, e.g.
// "posture.yaml:12: waivers[1].expires: want a date YYYY-MM-DD, got \"soon\"";
// without a file name, "line 12: waivers[1].expires: ...". It is the
// framework catalogues' error type too (controls.ParseError).
type ParseError = yamlerr.Error

// The fields of a waiver, in the order the documentation lists them.
var (
	waiverFields   = []string{"id", "check", "resources", "accounts", "regions", "reason", "owner", "ticket", "expires", "approved_by"}
	waiverRequired = []string{"check", "resources", "reason", "owner", "expires"}

	waiverIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)
	datePattern      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	accountPattern   = regexp.MustCompile(`^[0-9*]+$`)
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z0-9*-]+$`)
)

// waiverParser walks the waivers list and collects every problem with its
// line and field.
type waiverParser struct {
	file string
	opts Options
	errs []error
}

func (p *waiverParser) errorf(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &ParseError{File: p.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// parseWaivers decodes the waivers list (node n, the value of the top-level
// waivers key) with maxDays the policy's maximum.
func parseWaivers(file string, n *yaml.Node, maxDays int, opts Options) ([]Waiver, error) {
	if n == nil || isNull(n) {
		return nil, nil
	}
	p := &waiverParser{file: file, opts: opts}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "waivers", "want a list of waivers")
		return nil, errors.Join(p.errs...)
	}
	var out []Waiver
	firstLine := map[string]int{}
	for i, item := range n.Content {
		w, ok := p.waiver(item, fmt.Sprintf("waivers[%d]", i), i+1, maxDays)
		if !ok {
			continue
		}
		if first, dup := firstLine[w.ID]; dup {
			p.errorf(item, fmt.Sprintf("waivers[%d].id", i), "duplicate waiver id %q (first at line %d)", w.ID, first)
			continue
		}
		firstLine[w.ID] = item.Line
		out = append(out, w)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return out, nil
}

// waiver decodes one waiver; ok is false when it had an error.
func (p *waiverParser) waiver(n *yaml.Node, field string, position, maxDays int) (Waiver, bool) {
	before := len(p.errs)
	w := Waiver{Line: n.Line, ID: fmt.Sprintf("waiver-%d", position)}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping with the fields %s", strings.Join(waiverRequired, ", "))
		return w, false
	}
	m := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := field + "." + k.Value
		switch {
		case !contains(waiverFields, k.Value):
			p.errorf(k, name, "unknown field (allowed: %s)", strings.Join(waiverFields, ", "))
		case m[k.Value] != nil:
			p.errorf(k, name, "field given twice")
		default:
			m[k.Value] = v
		}
	}
	for _, r := range waiverRequired {
		if m[r] == nil {
			p.errorf(n, field+"."+r, "missing required field")
		}
	}

	if m["id"] != nil {
		if id := p.text(m, field, "id"); id != "" {
			if waiverIDPattern.MatchString(id) {
				w.ID = id
			} else {
				p.errorf(m["id"], field+".id", "%q is not an id (letters, digits, '.', '_', ':', '/', '-')", id)
			}
		}
	}
	w.Check = p.text(m, field, "check")
	if w.Check != "" && p.opts.Checks != nil && !p.opts.Checks[w.Check] {
		p.errorf(m["check"], field+".check", "unknown check ID %q (see posture checks)", w.Check)
	}
	w.Resources = p.list(m, field, "resources", nil, "")
	w.Accounts = p.list(m, field, "accounts", func(s string) bool {
		return accountPattern.MatchString(s) && (strings.Contains(s, "*") || accountIDPattern.MatchString(s))
	}, "a 12-digit account ID or a glob of one")
	w.Regions = p.list(m, field, "regions", regionPattern.MatchString, "a region name (or global) or a glob of one")
	w.Reason = p.text(m, field, "reason")
	w.Owner = p.text(m, field, "owner")
	w.Ticket = p.text(m, field, "ticket")
	w.ApprovedBy = p.text(m, field, "approved_by")
	if s := p.text(m, field, "expires"); s != "" {
		w.Expires = p.date(m["expires"], field+".expires", s, maxDays)
	}
	return w, len(p.errs) == before
}

// text returns a scalar field's trimmed text, reporting a non-scalar or an
// empty value; an absent field is "" (a missing required one was reported).
func (p *waiverParser) text(m map[string]*yaml.Node, field, key string) string {
	n := m[key]
	if n == nil {
		return ""
	}
	name := field + "." + key
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, name, "want a text value")
		return ""
	}
	v := strings.TrimSpace(n.Value)
	if isNull(n) || v == "" {
		p.errorf(n, name, "must not be empty")
		return ""
	}
	return v
}

// list returns a list field's items, reporting a value that is not a
// non-empty list of non-empty texts, or an item valid rejects (want says
// what is expected).
func (p *waiverParser) list(m map[string]*yaml.Node, field, key string, valid func(string) bool, want string) []string {
	n := m[key]
	if n == nil {
		return nil
	}
	name := field + "." + key
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, name, "want a list, e.g. [%s]", map[string]string{
			"resources": "sg-0123, \"arn:aws:s3:::logs-*\"", "accounts": "\"111111111111\"", "regions": "us-east-1, \"eu-*\""}[key])
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, name, "the list is empty")
		return nil
	}
	var out []string
	for i, item := range n.Content {
		v := strings.TrimSpace(item.Value)
		switch {
		case item.Kind != yaml.ScalarNode || isNull(item) || v == "":
			p.errorf(item, fmt.Sprintf("%s[%d]", name, i), "want a non-empty text")
		case valid != nil && !valid(v):
			p.errorf(item, fmt.Sprintf("%s[%d]", name, i), "%q is not %s", v, want)
		default:
			out = append(out, v)
		}
	}
	return out
}

// date parses an expiry and bounds it to maxDays after the load day.
func (p *waiverParser) date(n *yaml.Node, field, s string, maxDays int) time.Time {
	t, err := time.Parse(DateLayout, s)
	if !datePattern.MatchString(s) || err != nil {
		p.errorf(n, field, "want a date YYYY-MM-DD, got %q", s)
		return time.Time{}
	}
	today := day(p.opts.Now)
	if latest := today.AddDate(0, 0, maxDays); t.After(latest) {
		p.errorf(n, field, "%s is %d days ahead, more than waivers_policy.max_days (%d, latest %s): an exception must be reviewed, renew it when it expires",
			s, int(t.Sub(today).Hours()/24), maxDays, latest.Format(DateLayout))
		return time.Time{}
	}
	return t
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

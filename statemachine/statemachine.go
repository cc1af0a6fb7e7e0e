// Package statemachine holds the nightly fan-out's Step Functions definition,
// posture.asl.json, the file template.yaml deploys (DefinitionUri), and
// renders it the way CloudFormation does: every ${Name} placeholder is
// replaced, as text, by its DefinitionSubstitutions value before the result
// is parsed.
//
// The numeric placeholders (MaxConcurrency, ToleratedFailureCount) stand
// unquoted where the numbers go, so the file is JSON only once rendered: a
// quoted "${MaxConcurrency}" would render to the string "20", which Step
// Functions (and asl-validator) reject. Validate and execute the rendered
// definition (Render), never the file as it is.
package statemachine

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// File is the definition's path relative to the repository top, as
// template.yaml's DefinitionUri names it.
const File = "statemachine/posture.asl.json"

//go:embed posture.asl.json
var source string

// placeholder matches a DefinitionSubstitutions placeholder. The ASL's own
// "$$.Map..." and "$.x" paths have no braces and never match.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Source returns the definition as the file holds it, placeholders in place.
func Source() string { return source }

// Placeholders returns the names of the placeholders in the definition,
// sorted, each once.
func Placeholders() []string {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(source, -1) {
		seen[m[1]] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Render returns the definition with every placeholder replaced by its value
// in values. It fails when a placeholder has no value, when a value names no
// placeholder (CloudFormation would ignore it; here it is a mistake), or
// when the result is not JSON.
func Render(values map[string]string) (string, error) {
	names := Placeholders()
	var missing, unknown []string
	for _, n := range names {
		if _, ok := values[n]; !ok {
			missing = append(missing, n)
		}
	}
	for n := range values {
		if !slices.Contains(names, n) {
			unknown = append(unknown, n)
		}
	}
	sort.Strings(unknown)
	if len(missing) > 0 {
		return "", fmt.Errorf("statemachine: no value for placeholder(s) %s", strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		return "", fmt.Errorf("statemachine: %s name(s) no placeholder", strings.Join(unknown, ", "))
	}
	out := placeholder.ReplaceAllStringFunc(source, func(m string) string {
		return values[placeholder.FindStringSubmatch(m)[1]]
	})
	if !json.Valid([]byte(out)) {
		var v any
		err := json.Unmarshal([]byte(out), &v)
		return "", fmt.Errorf("statemachine: the rendered definition is not JSON: %w", err)
	}
	return out, nil
}

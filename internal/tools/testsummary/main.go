// Command testsummary reads `go test -json` on stdin and prints what a reader
// of CI output needs: one line per package, the output of every failing test,
// every skipped test with its reason (so that a skipped integration test is
// never silent), and a closing line "N passed, N failed, N skipped". It exits
// 1 when a test or a package build failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

type testKey struct{ pkg, test string }

func main() {
	os.Exit(summarise(os.Stdin, os.Stdout))
}

func summarise(in io.Reader, out io.Writer) int {
	outputs := map[testKey]*strings.Builder{}
	var passed, failed, skipped int
	var failures, skips, pkgLines, buildFailures []string
	pkgFailed := false
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		line := scanner.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			fmt.Fprintln(out, string(line)) // not JSON: a build error printed by go itself
			continue
		}
		k := testKey{e.Package, e.Test}
		switch e.Action {
		case "output":
			if outputs[k] == nil {
				outputs[k] = &strings.Builder{}
			}
			outputs[k].WriteString(e.Output)
		case "build-output":
			buildFailures = append(buildFailures, strings.TrimRight(e.Output, "\n"))
		case "pass", "fail", "skip":
			if e.Test == "" {
				status := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "?   "}[e.Action]
				note := fmt.Sprintf("%.1fs", e.Elapsed)
				if e.Action == "skip" {
					note = "[no test files]"
				}
				if e.Action == "fail" {
					pkgFailed = true
					if o := outputs[k]; o != nil && !strings.Contains(o.String(), "--- FAIL") {
						failures = append(failures, fmt.Sprintf("package %s:\n%s", e.Package, o.String()))
					}
				}
				pkgLines = append(pkgLines, fmt.Sprintf("%s %s %s", status, e.Package, note))
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				if !hasSubtests(outputs, k) {
					failures = append(failures, fmt.Sprintf("--- FAIL %s %s\n%s", e.Package, e.Test, text(outputs[k])))
				}
			case "skip":
				skipped++
				skips = append(skips, fmt.Sprintf("SKIP %s %s: %s", e.Package, e.Test, skipReason(text(outputs[k]))))
			}
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintf(out, "testsummary: read go test output: %v\n", err)
		return 1
	}
	for _, l := range buildFailures {
		fmt.Fprintln(out, l)
	}
	for _, l := range pkgLines {
		fmt.Fprintln(out, l)
	}
	for _, f := range failures {
		fmt.Fprintln(out, "\n"+strings.TrimRight(f, "\n"))
	}
	sort.Strings(skips)
	if len(skips) > 0 {
		fmt.Fprintf(out, "\nskipped tests:\n  %s\n", strings.Join(skips, "\n  "))
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || pkgFailed || len(buildFailures) > 0 {
		return 1
	}
	return 0
}

// hasSubtests reports whether a failing test failed through its subtests,
// whose own output is printed instead.
func hasSubtests(outputs map[testKey]*strings.Builder, k testKey) bool {
	for other := range outputs {
		if other.pkg == k.pkg && strings.HasPrefix(other.test, k.test+"/") {
			return true
		}
	}
	return false
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// skipReason extracts the message a test gave to t.Skip.
func skipReason(output string) string {
	for _, l := range strings.Split(output, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		return l
	}
	return "(no reason given)"
}

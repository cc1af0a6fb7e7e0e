package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	cases := []struct {
		name  string
		input string
		code  int
		want  []string
	}{
		{
			name: "pass and skip",
			input: `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: moto_server not found\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"pass","Package":"p","Elapsed":1.25}
{"Action":"skip","Package":"q"}`,
			code: 0,
			want: []string{"ok   p 1.2s", "?    q [no test files]", "SKIP p TestB: b_test.go:9: moto_server not found", "1 passed, 0 failed, 1 skipped"},
		},
		{
			name: "failing subtest",
			input: `{"Action":"output","Package":"p","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"output","Package":"p","Test":"TestC/x","Output":"    c_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"p","Test":"TestC/x"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"fail","Package":"p","Elapsed":0.5}`,
			code: 1,
			want: []string{"FAIL p 0.5s", "--- FAIL p TestC/x", "got 1, want 2", "0 passed, 2 failed, 0 skipped"},
		},
		{
			name:  "build failure",
			input: `{"ImportPath":"p [p.test]","Action":"build-output","Output":"p/x.go:1:1: undefined: y\n"}` + "\n" + `{"Action":"fail","Package":"p","Elapsed":0}`,
			code:  1,
			want:  []string{"undefined: y", "FAIL p"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := summarise(strings.NewReader(c.input), &out); code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

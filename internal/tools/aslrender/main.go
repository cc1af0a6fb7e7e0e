// Command aslrender writes the fan-out's state machine definition as a
// deployment of template.yaml with its parameters' defaults would make it:
// every DefinitionSubstitutions placeholder filled (see package
// statemachine: the file is JSON only once rendered). `make validate` runs
// asl-validator on its output.
//
//	go run ./internal/tools/aslrender -template template.yaml -o out.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/posture-dev/posture/internal/deploy"
	"github.com/posture-dev/posture/statemachine"
)

func main() {
	tplPath := flag.String("template", "template.yaml", "the SAM template")
	resource := flag.String("resource", "PostureStateMachine", "the state machine's logical ID")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if err := run(*tplPath, *resource, *out); err != nil {
		fmt.Fprintln(os.Stderr, "aslrender:", err)
		os.Exit(1)
	}
}

func run(tplPath, resource, out string) error {
	tpl, err := deploy.Load(tplPath)
	if err != nil {
		return err
	}
	if uri := deploy.Get(tpl.Resource(resource), "Properties", "DefinitionUri"); uri != statemachine.File {
		return fmt.Errorf("%s: DefinitionUri is %v, not %s", resource, uri, statemachine.File)
	}
	values, err := tpl.SampleSubstitutions(resource)
	if err != nil {
		return err
	}
	def, err := statemachine.Render(values)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.WriteString(def)
		return err
	}
	if err := os.WriteFile(out, []byte(def), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

package scanners

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pageSizeFields names the list operations that page only when asked with a
// page size: without it they answer one capped, token-less page (SQS
// ListQueues: the first 1,000 queues) or one unpaged answer that AWS
// refuses for large accounts (S3 ListBuckets beyond 10,000 buckets). Their
// paginator's input must set the field.
var pageSizeFields = map[string]string{
	"sqs.ListQueues": "MaxResults",
	"s3.ListBuckets": "MaxBuckets",
}

// unpagedAllowed are direct calls of operations that have a paginator, each
// with the reason one page is always everything.
var unpagedAllowed = map[string]string{
	"iam.ListMFADevices": "a user has at most 8 MFA devices; the default page holds 100",
}

var paginatorFunc = regexp.MustCompile(`(?m)^func New(\w+)Paginator\(`)

// TestEveryListCallPages reads the source of every scanner package and fails
// on a direct call of an operation for which the pinned SDK has a paginator
// (a call that would read only the first page), on a paginator of an
// operation in pageSizeFields whose input does not set the page size, and
// on a hand-written HasMorePages loop (internal/paging reads every page).
func TestEveryListCallPages(t *testing.T) {
	files, err := filepath.Glob("*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	paginated := map[string]map[string]bool{} // SDK import path -> operations with a paginator
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		sdk := map[string]string{} // local package name -> SDK service import path
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/service/") || strings.Count(path, "/") != 4 {
				continue
			}
			name := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			sdk[name] = path
			if paginated[path] == nil {
				paginated[path] = paginatorsOf(t, path)
			}
		}
		if len(sdk) == 0 {
			continue
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pos := fset.Position(call.Pos())
			if sel.Sel.Name == "HasMorePages" {
				t.Errorf("%s: a hand-written page loop: read the paginator with paging.All or paging.Pages", pos)
				return true
			}
			// pkg.NewOpPaginator(client, &pkg.OpInput{...})
			if pkg, ok := sel.X.(*ast.Ident); ok && sdk[pkg.Name] != "" {
				if op, ok := strings.CutSuffix(strings.TrimPrefix(sel.Sel.Name, "New"), "Paginator"); ok && strings.HasPrefix(sel.Sel.Name, "New") {
					svc := sdk[pkg.Name][strings.LastIndex(sdk[pkg.Name], "/")+1:]
					if field := pageSizeFields[svc+"."+op]; field != "" && !setsField(call, field) {
						t.Errorf("%s: %s.%s paginator without %s: the operation pages only when asked with a page size", pos, svc, op, field)
					}
				}
				return true
			}
			// client.Op(ctx, ...) of an operation with a paginator
			for _, path := range sdk {
				svc := path[strings.LastIndex(path, "/")+1:]
				if paginated[path][sel.Sel.Name] && unpagedAllowed[svc+"."+sel.Sel.Name] == "" {
					t.Errorf("%s: direct call of %s.%s reads one page: use New%sPaginator", pos, svc, sel.Sel.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("only %d scanner files import an SDK service: the test is not reading the scanners", checked)
	}
}

// paginatorsOf returns the operations of an SDK service package that have a
// paginator, from the source of the pinned module.
func paginatorsOf(t *testing.T, path string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", path, err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no operations in %s (%v)", dir, err)
	}
	ops := map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range paginatorFunc.FindAllSubmatch(b, -1) {
			ops[string(m[1])] = true
		}
	}
	return ops
}

// setsField reports whether the call's input argument is a composite
// literal (or its address) that sets field.
func setsField(call *ast.CallExpr, field string) bool {
	for _, arg := range call.Args {
		if u, ok := arg.(*ast.UnaryExpr); ok {
			arg = u.X
		}
		lit, ok := arg.(*ast.CompositeLit)
		if !ok {
			continue
		}
		for _, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == field {
					return true
				}
			}
		}
	}
	return false
}

package scanners

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/readonly"
	"github.com/posture-dev/posture/scanners/acm"
	"github.com/posture-dev/posture/scanners/cloudtrail"
	"github.com/posture-dev/posture/scanners/dynamodb"
	"github.com/posture-dev/posture/scanners/ec2"
	"github.com/posture-dev/posture/scanners/efs"
	"github.com/posture-dev/posture/scanners/elasticache"
	"github.com/posture-dev/posture/scanners/iam"
	"github.com/posture-dev/posture/scanners/kinesis"
	"github.com/posture-dev/posture/scanners/kms"
	"github.com/posture-dev/posture/scanners/lambda"
	"github.com/posture-dev/posture/scanners/rds"
	"github.com/posture-dev/posture/scanners/redshift"
	"github.com/posture-dev/posture/scanners/s3"
	"github.com/posture-dev/posture/scanners/secretsmanager"
	"github.com/posture-dev/posture/scanners/sns"
	"github.com/posture-dev/posture/scanners/sqs"
)

// sdkInterface is one scanner package's SDK interface and the SDK service
// ID of the client behind it.
type sdkInterface struct {
	pkg, name, service string
	typ                reflect.Type
}

func iface[T any](pkg, name, service string) sdkInterface {
	return sdkInterface{pkg, name, service, reflect.TypeFor[T]()}
}

// sdkInterfaces are the SDK interfaces of every scanner package: API, plus
// S3's ControlAPI. TestEveryScannerDeclaresAPI keeps the list complete.
var sdkInterfaces = []sdkInterface{
	iface[acm.API]("acm", "API", "ACM"),
	iface[cloudtrail.API]("cloudtrail", "API", "CloudTrail"),
	iface[dynamodb.API]("dynamodb", "API", "DynamoDB"),
	iface[ec2.API]("ec2", "API", "EC2"),
	iface[efs.API]("efs", "API", "EFS"),
	iface[elasticache.API]("elasticache", "API", "ElastiCache"),
	iface[iam.API]("iam", "API", "IAM"),
	iface[kinesis.API]("kinesis", "API", "Kinesis"),
	iface[kms.API]("kms", "API", "KMS"),
	iface[lambda.API]("lambda", "API", "Lambda"),
	iface[rds.API]("rds", "API", "RDS"),
	iface[redshift.API]("redshift", "API", "Redshift"),
	iface[s3.API]("s3", "API", "S3"),
	iface[s3.ControlAPI]("s3", "ControlAPI", "S3 Control"),
	iface[secretsmanager.API]("secretsmanager", "API", "Secrets Manager"),
	iface[sns.API]("sns", "API", "SNS"),
	iface[sqs.API]("sqs", "API", "SQS"),
}

// TestEveryAPIMethodIsAllowed: every method of every scanner's SDK
// interface is on the read-only allow-list for its service, so a scanner
// that adds a call not on the list fails here (and is refused at run time).
func TestEveryAPIMethodIsAllowed(t *testing.T) {
	for _, s := range sdkInterfaces {
		if s.typ.Kind() != reflect.Interface || s.typ.NumMethod() == 0 {
			t.Errorf("%s.%s is not an interface with methods", s.pkg, s.name)
			continue
		}
		for i := range s.typ.NumMethod() {
			if m := s.typ.Method(i).Name; !readonly.Allowed(s.service, m) {
				t.Errorf("%s.%s has %s, which is not on the allow-list for %s", s.pkg, s.name, m, s.service)
			}
		}
	}
}

// scannerFiles parses the non-test Go files of every package under
// scanners/ (this directory included), by package directory.
func scannerFiles(t *testing.T) (map[string][]*ast.File, *token.FileSet) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string][]*ast.File{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files[filepath.Dir(path)] = append(files[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, fset
}

// TestEveryScannerDeclaresAPI: every scanner package declares its SDK calls
// as an interface named API, and sdkInterfaces lists each one.
func TestEveryScannerDeclaresAPI(t *testing.T) {
	files, _ := scannerFiles(t)
	listed := map[string]bool{}
	for _, s := range sdkInterfaces {
		listed[s.pkg+"."+s.name] = true
	}
	var dirs []string
	for dir := range files {
		if dir != "." {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	if len(dirs) != len(All()) {
		t.Errorf("%d scanner packages, %d scanners registered", len(dirs), len(All()))
	}
	for _, dir := range dirs {
		var ifaces []string
		for _, f := range files[dir] {
			ast.Inspect(f, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok {
					if _, ok := ts.Type.(*ast.InterfaceType); ok && strings.HasSuffix(ts.Name.Name, "API") {
						ifaces = append(ifaces, ts.Name.Name)
					}
				}
				return true
			})
		}
		if !contains(ifaces, "API") {
			t.Errorf("package %s declares no API interface (it has %v)", dir, ifaces)
		}
		for _, name := range ifaces {
			if !listed[dir+"."+name] && !(dir == "iam" && name == "ReportAPI") {
				t.Errorf("%s.%s is not in sdkInterfaces", dir, name)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestScannersUseTheGuardedConfig: no package under scanners/ builds its own
// AWS configuration or client options, so every client is built from the
// scope's configuration (awsenv.Load: the guard middleware and the guarded
// HTTP client) with NewFromConfig or awsenv.S3/S3Control. Forbidden in
// non-test files:
//
//   - importing aws-sdk-go-v2/config (config.LoadDefaultConfig and its
//     loaders), smithy-go/middleware (touching a middleware stack), or
//     net/http (an HTTP client of its own);
//   - an aws.Config composite literal (a configuration without the guard);
//   - calling a service package's New (a client from bare Options) or
//     writing an Options composite literal of a service package;
//   - any use of the fields APIOptions, HTTPClient or EndpointResolverV2
//     (replacing the guard, the guarded transport, or where requests go).
//
// Each check is also tried on a sample that breaks it, so the test can not
// pass by seeing nothing.
func TestScannersUseTheGuardedConfig(t *testing.T) {
	files, fset := scannerFiles(t)
	n := 0
	for _, list := range files {
		for _, f := range list {
			n++
			for _, v := range guardViolations(f) {
				t.Errorf("%s: %s", fset.Position(v.pos), v.what)
			}
		}
	}
	if n < len(All()) {
		t.Fatalf("parsed %d files", n)
	}
	for _, bad := range []string{
		`import "github.com/aws/aws-sdk-go-v2/config"`,
		`import "github.com/aws/smithy-go/middleware"`,
		`import "net/http"`,
		`import "github.com/aws/aws-sdk-go-v2/aws"; var c = aws.Config{}`,
		`import awsx "github.com/aws/aws-sdk-go-v2/aws"; var c = &awsx.Config{Region: "x"}`,
		`import "github.com/aws/aws-sdk-go-v2/service/ec2"; var c = ec2.New(ec2.Options{})`,
		`import sdk "github.com/aws/aws-sdk-go-v2/service/ec2"; var o sdk.Options = sdk.Options{}`,
		`import "github.com/aws/aws-sdk-go-v2/service/ec2"; func f(cfg any) { ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.APIOptions = nil }) }`,
		`func f(o *struct{ HTTPClient any }) { o.HTTPClient = nil }`,
		`func f(o *struct{ EndpointResolverV2 any }) { _ = o.EndpointResolverV2 }`,
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "bad.go", "package bad\n"+bad, 0)
		if err != nil {
			t.Fatalf("sample %q: %v", bad, err)
		}
		if len(guardViolations(f)) == 0 {
			t.Errorf("sample %q: no violation found", bad)
		}
	}
}

type violation struct {
	pos  token.Pos
	what string
}

// forbiddenImports may not be imported by a scanner package.
var forbiddenImports = map[string]string{
	"github.com/aws/aws-sdk-go-v2/config": "builds its own AWS configuration",
	"github.com/aws/smithy-go/middleware": "touches a middleware stack",
	"net/http":                            "may build an HTTP client of its own",
}

// forbiddenFields may not be read or written by a scanner package.
var forbiddenFields = map[string]bool{"APIOptions": true, "HTTPClient": true, "EndpointResolverV2": true}

// guardViolations returns what a file does that TestScannersUseTheGuardedConfig
// forbids.
func guardViolations(f *ast.File) []violation {
	var out []violation
	awsNames, serviceNames := map[string]bool{}, map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if why, ok := forbiddenImports[path]; ok {
			out = append(out, violation{imp.Pos(), "imports " + path + ": " + why})
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		switch {
		case path == "github.com/aws/aws-sdk-go-v2/aws":
			awsNames[name] = true
		case strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/service/") && strings.Count(path, "/") == 4:
			serviceNames[name] = true
		}
	}
	qualified := func(e ast.Expr, pkgs map[string]bool, sel string) bool {
		s, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		id, ok := s.X.(*ast.Ident)
		return ok && pkgs[id.Name] && s.Sel.Name == sel
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if qualified(n.Type, awsNames, "Config") {
				out = append(out, violation{n.Pos(), "builds an aws.Config"})
			}
			if qualified(n.Type, serviceNames, "Options") {
				out = append(out, violation{n.Pos(), "builds a service client's Options"})
			}
		case *ast.CallExpr:
			if qualified(n.Fun, serviceNames, "New") {
				out = append(out, violation{n.Pos(), "builds a client with New, not from the scope's configuration"})
			}
		case *ast.SelectorExpr:
			if forbiddenFields[n.Sel.Name] {
				out = append(out, violation{n.Pos(), "uses the field " + n.Sel.Name})
			}
		}
		return true
	})
	return out
}

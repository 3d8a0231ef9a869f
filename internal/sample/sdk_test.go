package sample_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3/webhooks"

	"github.com/hookrelay/hookrelay/internal/sample"
)

// sdkEventTypes reads the event types openai-go knows from its own source,
// the package compiled into this test: the exported WebhookTestParamsEventType
// constants (every subscribable type, video.* included) and the cases of
// UnwrapWebhookEventUnion.AsAny (every typed variant). Go cannot list a
// package's constants at run time, so the test parses them; a bump of
// openai-go that adds a type then fails the tests until the catalog has it.
func sdkEventTypes(t *testing.T) (constants, variants []string) {
	t.Helper()
	fset := token.NewFileSet()
	for _, path := range sdkFiles(t) {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		constants = append(constants, typedConstants(f, "WebhookTestParamsEventType")...)
		variants = append(variants, asAnyCases(f)...)
	}
	if len(constants) == 0 || len(variants) == 0 {
		t.Fatalf("found %d event type constants and %d union variants in openai-go's source",
			len(constants), len(variants))
	}
	slices.Sort(constants)
	slices.Sort(variants)
	return constants, variants
}

// sdkFiles returns the non-test Go files of openai-go's webhooks package.
func sdkFiles(t *testing.T) []string {
	t.Helper()
	dir := sdkDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("list openai-go webhooks sources in %s: %d files, %v", dir, len(paths), err)
	}
	return slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "_test.go") })
}

// sdkDir finds the source folder of the webhooks package linked into this
// test binary from where the compiler saw one of its functions: an absolute
// path, or in a -trimpath build "module@version/webhooks/…" inside the
// module cache.
func sdkDir(t *testing.T) string {
	t.Helper()
	pc := reflect.ValueOf(webhooks.NewWebhookService).Pointer()
	file, _ := runtime.FuncForPC(pc).FileLine(pc)
	if filepath.IsAbs(file) {
		return filepath.Dir(file)
	}
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), filepath.Dir(file))
}

// typedConstants returns the string values of the constants of type typ
// declared in f.
func typedConstants(f *ast.File, typ string) []string {
	var values []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == typ {
				values = append(values, stringLits(vs.Values)...)
			}
		}
	}
	return values
}

// asAnyCases returns the string cases of UnwrapWebhookEventUnion.AsAny in f.
func asAnyCases(f *ast.File) []string {
	var cases []string
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "AsAny" || fd.Recv == nil || fd.Body == nil {
			continue
		}
		recv, ok := fd.Recv.List[0].Type.(*ast.Ident)
		if !ok || recv.Name != "UnwrapWebhookEventUnion" {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				cases = append(cases, stringLits(cc.List)...)
			}
			return true
		})
	}
	return cases
}

func stringLits(exprs []ast.Expr) []string {
	var out []string
	for _, e := range exprs {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		if s, err := strconv.Unquote(lit.Value); err == nil {
			out = append(out, s)
		}
	}
	return out
}

func TestTypesCoverOpenAIGo(t *testing.T) {
	constants, variants := sdkEventTypes(t)
	types := sample.Types()

	for _, typ := range slices.Concat(constants, variants) {
		if !slices.Contains(types, typ) {
			t.Errorf("Types() lacks %q, which openai-go knows", typ)
		}
	}
	for _, typ := range types {
		if !slices.Contains(constants, typ) && !slices.Contains(variants, typ) {
			t.Errorf("Types() has %q, which openai-go does not know", typ)
		}
	}
	for _, typ := range variants {
		if _, ok := wantVariant[typ]; !ok {
			t.Errorf("openai-go decodes %q into a typed variant missing from wantVariant", typ)
		}
	}
	for typ := range wantVariant {
		if !slices.Contains(variants, typ) {
			t.Errorf("wantVariant has %q, which openai-go's AsAny does not decode", typ)
		}
	}
}

package relay

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// forbidden lists the imports the relay must not have, with the reason.
var forbidden = map[string]string{
	"github.com/hookrelay/hookrelay/tui": "the server never carries the terminal UI",
	"github.com/hookrelay/hookrelay/internal/agent": "imports point down: " +
		"the agent may embed a relay, not the reverse",
	"github.com/hookrelay/hookrelay/cmd": "main packages only wire parts together",
	"charm.land/":                        "Bubble Tea and its kin belong to the agent's screen",
	"github.com/charmbracelet/":          "Bubble Tea and its kin belong to the agent's screen",
}

// sourceFiles parses the package's non-test files.
func sourceFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatalf("read package directory: %v", err)
	}
	files := make(map[string]*ast.File)
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		files[name] = f
	}
	return files
}

func TestImports(t *testing.T) {
	for name, f := range sourceFiles(t) {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for prefix, why := range forbidden {
				if strings.HasPrefix(path, prefix) {
					t.Errorf("%s imports %s: %s", name, path, why)
				}
			}
		}
	}
}

func TestPackageComment(t *testing.T) {
	var docs int
	for name, f := range sourceFiles(t) {
		if f.Doc == nil {
			continue
		}
		docs++
		if !strings.HasPrefix(f.Doc.Text(), "Package relay ") {
			t.Errorf("%s: package comment does not start with \"Package relay \"", name)
		}
	}
	if docs != 1 {
		t.Errorf("%d files have a package comment, want 1", docs)
	}
}

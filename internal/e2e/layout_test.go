package e2e

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// pkg is what go list says of a package.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "github.com/hookrelay/hookrelay/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestImportDirection keeps the arrows of DESIGN.md pointing down.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/hookrelay/hookrelay/"
	forbidden := []struct {
		pkg, dep, why string
	}{
		{"cmd/relay-server", mod + "tui", "the server binary never carries the terminal UI"},
		{"cmd/relay-server", "charm.land/bubbletea/v2",
			"the server binary never carries Bubble Tea"},
		{"internal/relay", mod + "internal/agent", "the relay knows nothing of agents' insides"},
		{"internal/agent", mod + "tui", "the agent publishes updates; the screen is one listener"},
		{"internal/agent", "charm.land/bubbletea/v2", "the agent never draws"},
		{"internal/wire", mod + "internal/", "wire imports none of the other packages"},
		{"internal/store", mod + "internal/", "the store imports none of the other packages"},
		{"internal/sign", mod + "internal/", "sign imports none of the other packages"},
	}
	pkgs := map[string]pkg{}
	for _, p := range listPackages(t) {
		pkgs[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	for _, f := range forbidden {
		p, ok := pkgs[f.pkg]
		if !ok {
			t.Errorf("package %s not found", f.pkg)
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, f.dep) && d != mod+f.pkg &&
				!strings.HasPrefix(d, mod+f.pkg+"/") {
				t.Errorf("%s depends on %s: %s", f.pkg, d, f.why)
			}
		}
	}
}

// TestPackageComments requires every package to say what it provides.
func TestPackageComments(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("package %s has no package comment", p.ImportPath)
		}
		switch p.Name {
		case "util", "common", "helpers", "misc", "types", "models":
			t.Errorf("package %s is named %s: name it after what it provides", p.ImportPath, p.Name)
		}
	}
}

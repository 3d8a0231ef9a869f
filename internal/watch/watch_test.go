package watch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// testDebounce keeps tests fast while leaving a burst of back-to-back writes
// well inside one window.
const testDebounce = 50 * time.Millisecond

// startRun runs a watch of cfg, once its watches are in place, and returns
// the lists it reports. The watch stops when the test ends.
func startRun(t *testing.T, cfg Config) <-chan []string {
	t.Helper()
	cfg.Debounce = testDebounce
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), opts))
	w, err := newWatcher(cfg)
	if err != nil {
		t.Fatalf("newWatcher: %v", err)
	}
	settled := make(chan []string, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		defer w.close()
		done <- w.run(ctx, func(changed []string) { settled <- changed })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v", err)
		}
	})
	return settled
}

// wantSettled waits for the next report and checks it lists exactly want.
func wantSettled(t *testing.T, settled <-chan []string, want ...string) {
	t.Helper()
	select {
	case got := <-settled:
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("settled with %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing settled within 5s, want %q", want)
	}
}

// wantSettledWith waits for the next report and checks it includes path.
func wantSettledWith(t *testing.T, settled <-chan []string, path string) {
	t.Helper()
	select {
	case got := <-settled:
		if !slices.Contains(got, path) {
			t.Fatalf("settled with %q, want %s among them", got, path)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing settled within 5s, want %s", path)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunFileWriteTriggersOnce(t *testing.T) {
	dir := t.TempDir()
	app, marker := filepath.Join(dir, "app.py"), filepath.Join(dir, "marker.py")
	write(t, app, "v1")
	write(t, marker, "m")
	write(t, filepath.Join(dir, "other.py"), "not watched")
	settled := startRun(t, Config{Paths: []string{app, marker}})

	write(t, app, "v2")
	wantSettled(t, settled, app)
	// A second report for the write to app would come before this one.
	write(t, filepath.Join(dir, "other.py"), "changed, not watched")
	write(t, marker, "m2")
	wantSettled(t, settled, marker)
}

func TestRunFileRenameSave(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	write(t, app, "v1")
	settled := startRun(t, Config{Paths: []string{app}})

	tmp := filepath.Join(dir, "app.py.tmp")
	write(t, tmp, "v2")
	if err := os.Rename(tmp, app); err != nil {
		t.Fatal(err)
	}
	wantSettled(t, settled, app)
}

func TestRunBurstTriggersOnce(t *testing.T) {
	dir := t.TempDir()
	settled := startRun(t, Config{Paths: []string{dir}})

	a, b := filepath.Join(dir, "a.py"), filepath.Join(dir, "b.py")
	for i := range 5 {
		write(t, a, string(rune('0'+i)))
	}
	write(t, b, "b")
	wantSettled(t, settled, a, b)
	marker := filepath.Join(dir, "marker.py")
	write(t, marker, "m")
	wantSettled(t, settled, marker)
}

func TestRunNewSubfolder(t *testing.T) {
	dir := t.TempDir()
	settled := startRun(t, Config{Paths: []string{dir}})

	file := filepath.Join(dir, "pkg", "sub", "handler.py")
	write(t, file, "v1")
	wantSettledWith(t, settled, file)
	// The new folder is watched now, not only walked once.
	write(t, file, "v2")
	wantSettled(t, settled, file)
}

func TestRunIgnored(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".git", "HEAD"), "ref")
	write(t, filepath.Join(dir, "docs", "index.md"), "doc")
	settled := startRun(t, Config{
		Paths:  []string{dir},
		Ignore: []string{"build", "*.log", "docs/*.md"},
	})

	for _, p := range []string{
		".git/index",
		".git/objects/ab/cdef",
		"__pycache__/app.cpython-313.pyc",
		"node_modules/x/index.js",
		".venv/lib/site.py",
		"foo.py.swp",
		".foo.py.swx",
		"foo.py~",
		"4913",
		".#foo.py",
		"#foo.py#",
		"save.tmp",
		".DS_Store",
		"build/out.js",
		"server.log",
		"docs/index.md",
	} {
		write(t, filepath.Join(dir, p), "ignored")
	}
	app := filepath.Join(dir, "app.py")
	write(t, app, "seen")
	wantSettled(t, settled, app)
}

func TestRelevant(t *testing.T) {
	w := &watcher{
		roots: []root{{path: "/proj", dir: true}, {path: "/other/main.go"}},
	}
	w.ignore, _ = ignorePatterns([]string{"build/gen", "*.log"})
	tests := []struct {
		path string
		want bool
	}{
		{"/proj/app.py", true},
		{"/proj/pkg/handler.go", true},
		{"/proj/.github/workflows/ci.yml", true},
		{"/proj/.git/HEAD", false},
		{"/proj/pkg/__pycache__/x.pyc", false},
		{"/proj/build/gen/x.go", false},
		{"/proj/build/keep.go", true},
		{"/proj/logs/a.log", false},
		{"/proj/x.swo", false},
		{"/proj/a.go___jb_tmp___", false},
		{"/other/main.go", true},
		{"/other/other.go", false},
		{"/project/app.py", false},
		{"/app.py", false},
	}
	for _, tt := range tests {
		if got := w.relevant(tt.path); got != tt.want {
			t.Errorf("relevant(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no_paths", cfg: Config{}},
		{name: "missing_path", cfg: Config{Paths: []string{filepath.Join(dir, "gone")}}},
		{name: "bad_pattern", cfg: Config{Paths: []string{dir}, Ignore: []string{"[x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(t.Context(), tt.cfg, func([]string) { t.Error("onSettled called") })
			if err == nil {
				t.Error("Run succeeded, want an error")
			}
		})
	}
}

func TestRunReturnsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Run(ctx, Config{Paths: []string{t.TempDir()}}, func([]string) {}); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

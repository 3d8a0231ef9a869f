package agentconfig

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// reloads collects what a watch reports.
type reloads struct {
	changes chan *File
	errs    chan error
}

// startWatch watches path with Watch's own reload step, once the watch is in
// place, and stops it when the test ends.
func startWatch(t *testing.T, path string) reloads {
	t.Helper()
	r := reloads{changes: make(chan *File, 16), errs: make(chan error, 16)}
	w, err := watchFile(path)
	if err != nil {
		t.Fatalf("watchFile: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func([]string) {
			f, err := Load(path, nil)
			if err != nil {
				r.errs <- err
				return
			}
			r.changes <- f
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch returned %v", err)
		}
	})
	return r
}

// next returns the next reload, failing the test if none comes in time.
func (r reloads) next(t *testing.T) (*File, error) {
	t.Helper()
	select {
	case f := <-r.changes:
		return f, nil
	case err := <-r.errs:
		return nil, err
	case <-time.After(5 * time.Second):
		t.Fatal("no reload within 5s")
		return nil, nil
	}
}

// wantTarget waits for the next reload and checks it is valid with the
// given forward_to.
func (r reloads) wantTarget(t *testing.T, want string) {
	t.Helper()
	f, err := r.next(t)
	if err != nil {
		t.Fatalf("reload error %v, want forward_to %q", err, want)
	}
	if f.ForwardTo != want {
		t.Fatalf("reloaded forward_to = %q, want %q", f.ForwardTo, want)
	}
}

func target(port string) string { return "http://localhost:" + port + "/hook" }

func writeTarget(t *testing.T, path, port string) {
	t.Helper()
	src := "forward_to = \"" + target(port) + "\"\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWatchReloadsOnWrite(t *testing.T) {
	path := writeConfig(t, "")
	r := startWatch(t, path)
	writeTarget(t, path, "5001")
	r.wantTarget(t, target("5001"))
}

func TestWatchReloadsOnRenameSave(t *testing.T) {
	path := writeConfig(t, "")
	r := startWatch(t, path)
	tmp := filepath.Join(filepath.Dir(path), ".relay-agent.toml.tmp1234")
	writeTarget(t, tmp, "5002")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	r.wantTarget(t, target("5002"))
}

func TestWatchReloadsAfterBackupAndCreate(t *testing.T) {
	path := writeConfig(t, "")
	r := startWatch(t, path)
	if err := os.Rename(path, path+"~"); err != nil { // vim's backupcopy=no
		t.Fatal(err)
	}
	writeTarget(t, path, "5003")
	r.wantTarget(t, target("5003"))
}

func TestWatchInvalidThenValid(t *testing.T) {
	path := writeConfig(t, "")
	r := startWatch(t, path)
	if err := os.WriteFile(path, []byte("\nforward_to = \"htp://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := r.next(t)
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("reload of an invalid file: %v, want a LoadError at line 2", err)
	}
	writeTarget(t, path, "5004")
	r.wantTarget(t, target("5004"))
}

func TestWatchBurstReloadsOnce(t *testing.T) {
	path := writeConfig(t, "")
	r := startWatch(t, path)
	for _, port := range []string{"6001", "6002", "6003", "6004", "6005"} {
		writeTarget(t, path, port)
	}
	r.wantTarget(t, target("6005"))
	// A burst that caused two reloads would show its content again here,
	// before the marker.
	writeTarget(t, path, "7000")
	r.wantTarget(t, target("7000"))
}

func TestWatchReturnsWhenDone(t *testing.T) {
	path := writeConfig(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := Watch(ctx, path, nil, func(*File) {}, func(error) {})
	if err != nil {
		t.Errorf("Watch after cancel = %v, want nil", err)
	}
}

func TestWatchMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone", DefaultName)
	err := Watch(t.Context(), path, nil, func(*File) {}, func(error) {})
	if err == nil {
		t.Error("Watch of a missing folder succeeded")
	}
}

package agentconfig

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce is how long the file must stay quiet after a change before
// it is loaded: long enough to cover an editor's save, which can take a
// rename, a create, several writes and a chmod.
const reloadDebounce = 100 * time.Millisecond

// Watch reloads the config file at path each time it changes, until ctx is
// done, and returns nil then. After a burst of changes settles, it loads the
// file as Load does and calls onChange with the result, or onError with the
// error when the file is invalid or gone; the caller keeps its previous
// config then. Every valid change is reported, even one that leaves the
// settings as they were. Both callbacks run on Watch's goroutine, one at a
// time.
//
// Watch watches the file's folder rather than the file, so that an editor
// that saves by writing a new file and renaming it over the old one (vim,
// JetBrains IDEs, VS Code) is seen. It returns an error at once when the
// folder cannot be watched.
//
// Limitation: when path is a symbolic link, changes to the file it points to
// in another folder are not seen; watching the resolved path's folder too
// would lift this.
func Watch(
	ctx context.Context,
	path string,
	getenv func(string) (string, bool),
	onChange func(*File),
	onError func(error),
) error {
	w, err := newFileWatcher(path)
	if err != nil {
		return err
	}
	defer w.close()
	return w.run(ctx, reloadDebounce, func() {
		f, err := Load(path, getenv)
		if err != nil {
			onError(err)
			return
		}
		onChange(f)
	})
}

// fileWatcher reports changes to one file, watching its folder.
type fileWatcher struct {
	fs   *fsnotify.Watcher
	dir  string
	name string
}

func newFileWatcher(path string) (*fileWatcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch config %s: %w", path, err)
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch config %s: %w", path, err)
	}
	w := &fileWatcher{fs: fs, dir: filepath.Dir(abs), name: filepath.Base(abs)}
	if err := fs.Add(w.dir); err != nil {
		fs.Close()
		return nil, fmt.Errorf("watch config folder %s: %w", w.dir, err)
	}
	return w, nil
}

func (w *fileWatcher) close() { w.fs.Close() }

// run calls changed once the file has had no event for debounce, after
// each burst of events.
func (w *fileWatcher) run(ctx context.Context, debounce time.Duration, changed func()) error {
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return nil
			}
			if w.concerns(ev) {
				timer.Reset(debounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return fmt.Errorf("watch config folder %s: %w", w.dir, err)
			}
			timer.Reset(debounce) // events were lost; the file may have changed
		case <-timer.C:
			changed()
		}
	}
}

// concerns reports whether ev may have changed the file's content. A chmod
// alone cannot.
func (w *fileWatcher) concerns(ev fsnotify.Event) bool {
	return filepath.Base(ev.Name) == w.name &&
		ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename)
}

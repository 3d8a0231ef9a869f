// Package watch serves replay on save: it reports when the files a developer
// edits have settled after a save, and waits until the app, restarted by its
// reloader, accepts connections again.
//
// Run watches files and folders, ignoring version control, caches and editor
// scratch files, and calls back once per burst of changes. WaitReady blocks
// until a target URL's port accepts TCP connections.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hookrelay/hookrelay/internal/logkey"
)

// DefaultDebounce is how long changes must pause before Run reports them,
// when Config.Debounce is zero.
const DefaultDebounce = 300 * time.Millisecond

// Config says what Run watches.
type Config struct {
	// Paths are the files and folders to watch. Folders are watched with
	// all their subfolders, including ones created later.
	Paths []string
	// Ignore holds extra glob patterns, in path.Match syntax, for paths
	// below a watched folder. A pattern without a slash is matched against
	// each name in the path ("build", "*.log"); one with a slash against the
	// whole path relative to the folder ("docs/*.md"). Always ignored:
	// .git, .hg, .svn, __pycache__, node_modules, .venv, .idea, tool caches,
	// *.pyc, editor swap and backup files (*.swp, *.swx, *~, .#*, #*#, 4913,
	// *.tmp, JetBrains' ___jb_tmp___ files) and .DS_Store. A file named in
	// Paths is never ignored.
	Ignore []string
	// Debounce is how long changes must pause before they are reported, so
	// that a burst of saves is reported once. If zero, DefaultDebounce is
	// used.
	Debounce time.Duration
	// Logger receives a debug line per change and warnings about lost
	// events. If nil, logs are discarded.
	Logger *slog.Logger
}

// Run watches cfg.Paths until ctx is done, and then returns nil. After each
// burst of changes has settled, it calls onSettled with the absolute paths
// that changed, sorted; a new folder comes with the files found in it. The
// list is empty when the system dropped events, so that what changed is
// unknown.
//
// onSettled runs on Run's goroutine: changes made while it runs are
// gathered and reported after it returns, so a slow onSettled (one that
// waits for the app and replays an event) is never called twice at once.
//
// Run returns an error at once when a path does not exist or cannot be
// watched (on Linux, fs.inotify.max_user_watches bounds the folder count),
// or when an ignore pattern is malformed.
func Run(ctx context.Context, cfg Config, onSettled func(changed []string)) error {
	w, err := New(cfg)
	if err != nil {
		return err
	}
	return w.Run(ctx, onSettled)
}

// Watcher is a watch in place: changes made after New returns are reported
// by Run. Run may be called once, and closes the watch when it returns.
type Watcher struct {
	w *watcher
}

// New watches cfg.Paths and returns the errors Run would return at once.
// The caller must call Run.
func New(cfg Config) (*Watcher, error) {
	w, err := newWatcher(cfg)
	if err != nil {
		return nil, err
	}
	return &Watcher{w: w}, nil
}

// Run reports changes as the package function Run does, until ctx is done.
func (w *Watcher) Run(ctx context.Context, onSettled func(changed []string)) error {
	defer w.w.close()
	return w.w.run(ctx, onSettled)
}

// watcher holds Run's state. Only Run's goroutine uses it.
type watcher struct {
	fs       *fsnotify.Watcher
	roots    []root
	ignore   []string // built-in patterns, then Config.Ignore
	debounce time.Duration
	logger   *slog.Logger

	changed map[string]bool // paths changed since the last report
}

// root is one of Config.Paths, made absolute.
type root struct {
	path string
	dir  bool
}

func newWatcher(cfg Config) (*watcher, error) {
	if len(cfg.Paths) == 0 {
		return nil, errors.New("watch: no paths given")
	}
	ignore, err := ignorePatterns(cfg.Ignore)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("start file watcher: %w", err)
	}
	w := &watcher{
		fs:       fsw,
		ignore:   ignore,
		debounce: orDefault(cfg.Debounce, DefaultDebounce),
		logger:   orDiscard(cfg.Logger).With(logkey.Component, "watch"),
		changed:  make(map[string]bool),
	}
	for _, p := range cfg.Paths {
		if err := w.addRoot(p); err != nil {
			fsw.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *watcher) close() { w.fs.Close() }

// addRoot watches p: a folder with its subfolders, a file through its
// folder, so that an editor that saves by renaming a new file over it is
// seen.
func (w *watcher) addRoot(p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return fmt.Errorf("watch %s: %w", p, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("watch %s: %w", p, err)
	}
	w.roots = append(w.roots, root{path: abs, dir: info.IsDir()})
	if info.IsDir() {
		return w.addTree(abs, nil)
	}
	if err := w.fs.Add(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	return nil
}

// addTree watches dir and the folders below it that are not ignored, and
// calls found, if set, for each file that is not ignored.
func (w *watcher) addTree(dir string, found func(path string)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && path == dir:
			return fmt.Errorf("watch %s: %w", path, err)
		case err != nil:
			w.logger.Debug("skip unreadable path", logkey.Path, path, logkey.Err, err)
			return nil
		case path != dir && !w.relevant(path):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case !d.IsDir():
			if found != nil {
				found(path)
			}
			return nil
		}
		if err := w.fs.Add(path); err != nil {
			return fmt.Errorf("watch %s: %w", path, err)
		}
		return nil
	})
}

// run reports changes after each burst, until ctx is done.
func (w *watcher) run(ctx context.Context, onSettled func([]string)) error {
	timer := time.NewTimer(w.debounce)
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
			if w.handle(ev) {
				timer.Reset(w.debounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return fmt.Errorf("watch files: %w", err)
			}
			w.logger.Warn("file events lost, reporting a change", logkey.Err, err)
			timer.Reset(w.debounce)
		case <-timer.C:
			w.settle(onSettled)
		}
	}
}

// handle records ev if it concerns a watched path, and reports whether it
// did. A new folder is watched at once, and the files already in it count
// as changed, since they may have been written before the watch began.
func (w *watcher) handle(ev fsnotify.Event) bool {
	if !w.relevant(ev.Name) {
		return false
	}
	w.logger.Debug("file changed", logkey.Path, ev.Name)
	w.changed[ev.Name] = true
	if !ev.Has(fsnotify.Create) {
		return true
	}
	if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
		err := w.addTree(ev.Name, func(p string) { w.changed[p] = true })
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.logger.Warn("new folder not watched", logkey.Path, ev.Name, logkey.Err, err)
		}
	}
	return true
}

func (w *watcher) settle(onSettled func([]string)) {
	changed := make([]string, 0, len(w.changed))
	for p := range w.changed {
		changed = append(changed, p)
	}
	slices.Sort(changed)
	clear(w.changed)
	onSettled(changed)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

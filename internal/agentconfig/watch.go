package agentconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/internal/watch"
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
	w, err := watchFile(path)
	if err != nil {
		return err
	}
	return w.Run(ctx, func([]string) {
		f, err := Load(path, getenv)
		if err != nil {
			onError(err)
			return
		}
		onChange(f)
	})
}

// watchFile puts a watch on path in place.
func watchFile(path string) (*watch.Watcher, error) {
	w, err := watch.New(watch.Config{Paths: []string{path}, Debounce: reloadDebounce})
	if err != nil {
		return nil, fmt.Errorf("watch config: %w", err)
	}
	return w, nil
}

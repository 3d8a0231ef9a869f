package watch

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// alwaysIgnored are the patterns every watch ignores: version control,
// dependency and cache folders, compiled Python, and the scratch files that
// editors write while saving.
var alwaysIgnored = []string{
	".git", ".hg", ".svn",
	"__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache",
	"node_modules", ".venv",
	".idea",
	"*.sw[a-px]", // vim swap files: .swp, then .swo, .swn and on; .swx probes
	"*~", "4913", // vim backups, and the file vim writes to test a folder
	".#*", "#*#", // Emacs lock and auto-save files
	"*.tmp",         // many editors' save-by-rename temporaries
	"*___jb_tmp___", // JetBrains save-by-rename temporaries
	"*___jb_old___",
	".DS_Store",
}

// ignorePatterns returns the built-in patterns followed by extra, or an
// error naming the first malformed one.
func ignorePatterns(extra []string) ([]string, error) {
	for _, p := range extra {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("ignore pattern %q: %w", p, err)
		}
	}
	return append(append([]string(nil), alwaysIgnored...), extra...), nil
}

// relevant reports whether a change at p, an absolute path, concerns the
// watch: p is a file named in Config.Paths, or lies below a watched folder
// and no ignore pattern matches it.
func (w *watcher) relevant(p string) bool {
	for _, r := range w.roots {
		if p == r.path {
			return true
		}
		if !r.dir {
			continue
		}
		if rel, ok := below(r.path, p); ok && !ignored(w.ignore, rel) {
			return true
		}
	}
	return false
}

// below returns p relative to dir, with slashes, when p lies below dir.
func below(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	up := rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
	if err != nil || rel == "." || up {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// ignored reports whether a pattern matches rel, a slash-separated relative
// path: a pattern with a slash matches rel or a folder it lies in ("build/gen"
// matches "build/gen/x.go"), one without matches any name in rel.
func ignored(patterns []string, rel string) bool {
	names := strings.Split(rel, "/")
	for _, pat := range patterns {
		slash := strings.Contains(pat, "/")
		for i, name := range names {
			subject := name
			if slash {
				subject = strings.Join(names[:i+1], "/")
			}
			if ok, _ := path.Match(pat, subject); ok {
				return true
			}
		}
	}
	return false
}

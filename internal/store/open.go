package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Open opens the store that dsn names:
//
//   - postgres://… or postgresql://… opens PostgreSQL with OpenPostgres;
//   - sqlite:PATH, sqlite://PATH (sqlite:///abs/path for an absolute path)
//     or a plain file path opens SQLite with OpenSQLite.
//
// Errors never contain the password of dsn.
func Open(ctx context.Context, dsn string) (Store, error) {
	scheme, rest, hasScheme := strings.Cut(dsn, ":")
	switch {
	case !hasScheme || len(scheme) < 2:
		// No scheme: a plain path, or a Windows drive letter.
	case strings.EqualFold(scheme, "postgres"), strings.EqualFold(scheme, "postgresql"):
		p, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return p, nil
	case strings.EqualFold(scheme, "sqlite"):
		dsn = strings.TrimPrefix(rest, "//")
	case strings.HasPrefix(rest, "//"):
		return nil, fmt.Errorf("open store: unsupported database URL scheme %q", scheme)
	}
	if dsn == "" {
		return nil, errors.New("open store: empty database path")
	}
	s, err := OpenSQLite(dsn)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// redactedError is an error whose message has had passwords masked. Unwrap
// still returns the original error, for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

// redactMask replaces a password in error messages.
const redactMask = "xxxxx"

// redactError returns err with every password of dsn masked in its message.
func redactError(err error, dsn string) error {
	secrets := dsnSecrets(dsn)
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, redactMask)
	}
	return &redactedError{msg: msg, err: err}
}

var (
	// userinfoPassword finds the password of a URL even when the URL does
	// not parse.
	userinfoPassword = regexp.MustCompile(`://[^:/@]*:([^@]*)@`)
	// keywordPassword finds password=… and sslpassword=… in a
	// keyword/value connection string.
	keywordPassword = regexp.MustCompile(`(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)
)

// dsnSecrets returns the passwords that dsn holds, raw and as they may be
// escaped, longest first so that a longer one is masked whole.
func dsnSecrets(dsn string) []string {
	var found []string
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			found = append(found, pw)
		}
		q := u.Query()
		found = append(found, q["password"]...)
		found = append(found, q["sslpassword"]...)
	}
	for _, m := range userinfoPassword.FindAllStringSubmatch(dsn, -1) {
		found = append(found, m[1])
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		found = append(found, m[1], strings.Trim(m[1], "'"))
	}
	var secrets []string
	for _, s := range found {
		for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if v != "" && !slices.Contains(secrets, v) {
				secrets = append(secrets, v)
			}
		}
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return secrets
}

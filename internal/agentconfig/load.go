package agentconfig

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/wire"
)

// LoadError is a problem in a config file, with where it is. Its message
// reads like "relay-agent.toml:7: forward_to: "htp://x" is not an http(s)
// URL", and never holds the value of a token or a secret.
type LoadError struct {
	Path string // the file, as given to Load
	Line int    // from 1; 0 when unknown
	Col  int    // from 1; 0 when unknown
	Key  string // the setting at fault, such as "route[2].events"; may be empty
	Err  error  // the reason
}

// Error implements error.
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the reason.
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads and validates the config file at path.
//
// A string value of the form "env:NAME" is replaced by the variable NAME,
// which getenv looks up (the caller passes os.LookupEnv); an unset or empty
// variable is an error naming it. If getenv is nil, every env: reference is
// an error. Event patterns are taken as written. A key Load does not know is
// an error, so that a typo is never silently ignored.
//
// A file that cannot be read gives an error wrapping the os error, so
// errors.Is(err, fs.ErrNotExist) tells a missing file. Every problem in the
// file gives a *LoadError.
func Load(path string, getenv func(string) (string, bool)) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return parse(path, string(src), getenv)
}

// rawFile is the file as decoded, before types and values are checked. The
// fields are untyped so that a wrong type gets this package's message and
// line, and route is decoded in a second step to check its shape.
type rawFile struct {
	Relay      any            `toml:"relay"`
	Token      any            `toml:"token"`
	ForwardTo  any            `toml:"forward_to"`
	SignMode   any            `toml:"sign_mode"`
	SignSecret any            `toml:"sign_secret"`
	Events     any            `toml:"events"`
	Route      toml.Primitive `toml:"route"`
}

type rawRoute struct {
	Events    any `toml:"events"`
	ForwardTo any `toml:"forward_to"`
}

// Known keys, for suggestions when a key is unknown.
var (
	topKeys = []string{
		"relay", "token", "forward_to", "sign_mode", "sign_secret", "events", "route",
	}
	routeKeys = []string{"events", "forward_to"}
)

func parse(path, src string, getenv func(string) (string, bool)) (*File, error) {
	var raw rawFile
	md, err := toml.Decode(src, &raw)
	if err != nil {
		return nil, syntaxError(path, err)
	}
	l := &loader{path: path, keys: scanKeys(src), getenv: getenv}
	rawRoutes := l.routeTables(&md, raw.Route)
	l.unknownKeys(md)
	f := l.file(raw, rawRoutes)
	if l.err != nil {
		return nil, l.err
	}
	return f, nil
}

func syntaxError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &LoadError{
			Path: path,
			Line: pe.Position.Line,
			Col:  pe.Position.Col,
			Err:  errors.New(pe.Message),
		}
	}
	return &LoadError{Path: path, Err: err}
}

// loader checks decoded values and keeps the first problem it finds.
type loader struct {
	path   string
	keys   []keyPos
	getenv func(string) (string, bool)
	err    error // the first problem, a *LoadError
}

// place names a setting in errors and says where to look for its line.
type place struct {
	name  string   // as errors show it: "forward_to", "route[2].events"
	path  toml.Key // the key path
	index int      // which [[route]], from 0; -1 for the first anywhere
}

func top(key string) place { return place{name: key, path: toml.Key{key}} }

func routeTable(i int) place {
	return place{name: fmt.Sprintf("route[%d]", i+1), path: toml.Key{"route"}, index: i}
}

func inRoute(i int, key string) place {
	return place{
		name:  fmt.Sprintf("route[%d].%s", i+1, key),
		path:  toml.Key{"route", key},
		index: i,
	}
}

func (l *loader) fail(p place, reason error) {
	if l.err != nil {
		return
	}
	l.err = &LoadError{
		Path: l.path,
		Line: lineOf(l.keys, p.path, p.index),
		Key:  p.name,
		Err:  reason,
	}
}

// routeTables decodes the [[route]] tables, marking their keys decoded.
func (l *loader) routeTables(md *toml.MetaData, prim toml.Primitive) []rawRoute {
	if !md.IsDefined("route") {
		return nil
	}
	var routes []rawRoute
	if err := md.PrimitiveDecode(prim, &routes); err != nil {
		l.fail(top("route"), errors.New("want [[route]] tables, each with events and forward_to"))
		return nil
	}
	return routes
}

// unknownKeys reports the first key that no field took. Keys inside a value
// of the wrong type (a table where a string belongs) are left to the type
// check, which explains them better.
func (l *loader) unknownKeys(md toml.MetaData) {
	undecoded := md.Undecoded()
	isUndecoded := make(map[string]bool, len(undecoded))
	for _, k := range undecoded {
		isUndecoded[k.String()] = true
	}
	for _, k := range undecoded {
		if insideValue(k, isUndecoded) {
			continue
		}
		l.fail(place{name: k.String(), path: k, index: -1}, unknownKeyError(k))
		return
	}
}

func insideValue(k toml.Key, isUndecoded map[string]bool) bool {
	for n := 1; n < len(k); n++ {
		parent := k[:n].String()
		if !isUndecoded[parent] && parent != "route" {
			return true
		}
	}
	return false
}

func unknownKeyError(k toml.Key) error {
	var known []string
	switch {
	case len(k) == 1:
		known = topKeys
	case len(k) == 2 && k[0] == "route":
		known = routeKeys
	}
	if s := suggest(k[len(k)-1], known); s != "" {
		return fmt.Errorf("unknown key; did you mean %s?", s)
	}
	return errors.New("unknown key")
}

func (l *loader) file(raw rawFile, routes []rawRoute) *File {
	f := &File{
		Relay:      l.str(top("relay"), raw.Relay, checkRelay),
		Token:      l.str(top("token"), raw.Token, nil),
		ForwardTo:  l.str(top("forward_to"), raw.ForwardTo, checkHTTP),
		SignMode:   l.str(top("sign_mode"), raw.SignMode, checkMode),
		SignSecret: l.str(top("sign_secret"), raw.SignSecret, nil),
		Events:     l.patterns(top("events"), raw.Events),
	}
	if f.SignMode == string(sign.ModeResign) && f.SignSecret != "" {
		if err := sign.CheckSecret(f.SignSecret); err != nil {
			l.fail(top("sign_secret"), err)
		}
	}
	for i, r := range routes {
		f.Routes = append(f.Routes, l.route(i, r))
	}
	return f
}

func (l *loader) route(i int, r rawRoute) Route {
	if r.Events == nil {
		l.fail(routeTable(i), errors.New("events is missing"))
	}
	if r.ForwardTo == nil {
		l.fail(routeTable(i), errors.New("forward_to is missing"))
	}
	out := Route{
		Events:    l.patterns(inRoute(i, "events"), r.Events),
		ForwardTo: l.str(inRoute(i, "forward_to"), r.ForwardTo, checkHTTP),
	}
	if r.Events != nil && out.Events == nil {
		l.fail(inRoute(i, "events"), errors.New("no event patterns"))
	}
	if r.ForwardTo != nil && out.ForwardTo == "" {
		l.fail(inRoute(i, "forward_to"), errors.New("want an http(s) URL, got an empty string"))
	}
	return out
}

// str returns the string v, resolved and checked. An empty literal means
// unset and is not checked.
func (l *loader) str(p place, v any, check func(string) error) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		l.fail(p, fmt.Errorf("want a string, got %s", typeName(v)))
		return ""
	}
	s, err := resolve(s, l.getenv)
	if err != nil {
		l.fail(p, err)
		return ""
	}
	if check != nil && s != "" {
		if err := check(s); err != nil {
			l.fail(p, err)
			return ""
		}
	}
	return s
}

// patterns returns the array of event patterns v, or nil when it is empty.
func (l *loader) patterns(p place, v any) []string {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		l.fail(p, fmt.Errorf("want an array of strings, got %s", typeName(v)))
		return nil
	}
	var out []string
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			l.fail(p, fmt.Errorf("want an array of strings, got %s in it", typeName(e)))
			return nil
		}
		out = append(out, s)
	}
	if err := wire.ValidatePatterns(out); err != nil {
		l.fail(p, err)
		return nil
	}
	return out
}

// resolve returns v, or the variable it names when it reads "env:NAME". The
// error names the variable, never a value.
func resolve(v string, getenv func(string) (string, bool)) (string, error) {
	name, ok := strings.CutPrefix(v, "env:")
	if !ok {
		return v, nil
	}
	if name == "" {
		return "", errors.New(`"env:" names no variable`)
	}
	val, ok := "", false
	if getenv != nil {
		val, ok = getenv(name)
	}
	switch {
	case !ok:
		return "", fmt.Errorf("environment variable %s is not set", name)
	case val == "":
		return "", fmt.Errorf("environment variable %s is empty", name)
	}
	return val, nil
}

func checkRelay(s string) error {
	return checkURL(s, "an http(s) or ws(s) URL", "http", "https", "ws", "wss")
}

func checkHTTP(s string) error {
	return checkURL(s, "an http(s) URL", "http", "https")
}

func checkURL(s, want string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not %s", s, want)
	}
	for _, sc := range schemes {
		if u.Scheme == sc && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("%q is not %s", u.Redacted(), want)
}

func checkMode(s string) error {
	_, err := sign.ParseMode(s)
	return err
}

// typeName names the TOML type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// suggest returns the known key closest to key, if it is close enough to be
// a typo of it.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

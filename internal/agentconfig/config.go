// Package agentconfig reads relay-agent.toml, the agent's config file, and
// watches it for changes.
//
// Load reads and validates a file, resolving env:NAME references, and
// returns a File; its errors name the file, the line and the reason. Watch
// reloads the file whenever an editor saves it. File.Target picks the local
// target of an event from the file's routes, and File.Override lays the
// settings given as flags over those of the file.
package agentconfig

import (
	"log/slog"
	"slices"

	"github.com/hookrelay/hookrelay/internal/wire"
)

// DefaultName is the file name looked for in the working folder.
const DefaultName = "relay-agent.toml"

// File is what a config file says, after env: references are resolved. An
// empty string or a nil slice means the file does not set that value.
//
// LogValue leaves Token and SignSecret out, so a File may be logged.
type File struct {
	Relay      string   // relay base URL, http(s):// or ws(s)://
	Token      string   // bearer token for the relay
	ForwardTo  string   // default delivery target, an http(s) URL
	SignMode   string   // "resign", "passthrough" or "hex"
	SignSecret string   // secret used to sign deliveries
	Events     []string // event type patterns to receive; nil means all
	Routes     []Route  // other targets for some event types, in file order
}

// Route sends the events whose type matches one of Events to ForwardTo.
type Route struct {
	Events    []string // event type patterns, as wire.Match takes them
	ForwardTo string   // an http(s) URL
}

// Target returns where an event of type eventType goes: the ForwardTo of the
// first route whose patterns match it, or defaultTarget when none does. A
// nil File has no routes.
func (f *File) Target(eventType, defaultTarget string) string {
	if f == nil {
		return defaultTarget
	}
	for _, r := range f.Routes {
		if wire.Match(r.Events, eventType) {
			return r.ForwardTo
		}
	}
	return defaultTarget
}

// Override returns a copy of f in which every value that o sets replaces
// f's: a non-empty string, or a non-nil Events or Routes. Neither f nor o is
// changed, and the copy shares no slice with them. A nil f stands for no
// config file.
//
// The caller builds o from the flags the user gave, and applies it to each
// newly loaded File, so that flags keep overriding the file across reloads.
func (f *File) Override(o File) *File {
	var out File
	if f != nil {
		out = *f
	}
	out.Relay = pick(o.Relay, out.Relay)
	out.Token = pick(o.Token, out.Token)
	out.ForwardTo = pick(o.ForwardTo, out.ForwardTo)
	out.SignMode = pick(o.SignMode, out.SignMode)
	out.SignSecret = pick(o.SignSecret, out.SignSecret)
	if o.Events != nil {
		out.Events = o.Events
	}
	if o.Routes != nil {
		out.Routes = o.Routes
	}
	out.Events = slices.Clone(out.Events)
	out.Routes = cloneRoutes(out.Routes)
	return &out
}

// LogValue implements slog.LogValuer. It reports whether the token and the
// secret are set, never their values.
func (f File) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("relay", f.Relay),
		slog.Bool("token_set", f.Token != ""),
		slog.String("forward_to", f.ForwardTo),
		slog.String("sign_mode", f.SignMode),
		slog.Bool("sign_secret_set", f.SignSecret != ""),
		slog.Any("events", f.Events),
		slog.Int("routes", len(f.Routes)),
	)
}

func pick(over, base string) string {
	if over != "" {
		return over
	}
	return base
}

func cloneRoutes(rs []Route) []Route {
	if rs == nil {
		return nil
	}
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = Route{Events: slices.Clone(r.Events), ForwardTo: r.ForwardTo}
	}
	return out
}

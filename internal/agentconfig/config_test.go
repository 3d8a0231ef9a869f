package agentconfig

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	const (
		def    = "http://localhost:5000/webhooks/openai"
		batch  = "http://localhost:8080/batch"
		failed = "http://localhost:8081/failed"
	)
	f := &File{Routes: []Route{
		{Events: []string{"batch.*"}, ForwardTo: batch},
		{Events: []string{"batch.failed", "*.failed"}, ForwardTo: failed},
	}}
	tests := []struct {
		name string
		file *File
		typ  string
		want string
	}{
		{name: "first_route", file: f, typ: "batch.completed", want: batch},
		{name: "first_match_wins", file: f, typ: "batch.failed", want: batch},
		{name: "second_route", file: f, typ: "response.failed", want: failed},
		{name: "unmatched", file: f, typ: "response.completed", want: def},
		{name: "no_routes", file: &File{}, typ: "batch.completed", want: def},
		{name: "nil_file", file: nil, typ: "batch.completed", want: def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.file.Target(tt.typ, def); got != tt.want {
				t.Errorf("Target(%q) = %q, want %q", tt.typ, got, tt.want)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	file := &File{
		Relay:     "https://file.example",
		Token:     "file-token",
		ForwardTo: "http://localhost:5000/file",
		SignMode:  "hex",
		Events:    []string{"batch.*"},
		Routes:    []Route{{Events: []string{"a.*"}, ForwardTo: "http://localhost:1/a"}},
	}
	flags := File{ForwardTo: "http://localhost:9000/flag", Events: []string{"response.*"}}
	got := file.Override(flags)
	want := &File{
		Relay:     "https://file.example",
		Token:     "file-token",
		ForwardTo: "http://localhost:9000/flag",
		SignMode:  "hex",
		Events:    []string{"response.*"},
		Routes:    []Route{{Events: []string{"a.*"}, ForwardTo: "http://localhost:1/a"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Override = %+v, want %+v", got, want)
	}
	got.Routes[0].Events[0] = "changed"
	got.Events[0] = "changed"
	if file.Routes[0].Events[0] != "a.*" || flags.Events[0] != "response.*" {
		t.Error("Override's result shares slices with its inputs")
	}
}

func TestOverrideNilFile(t *testing.T) {
	var none *File
	got := none.Override(File{Relay: "https://flag.example"})
	if !reflect.DeepEqual(got, &File{Relay: "https://flag.example"}) {
		t.Errorf("Override on nil = %+v, want the flags alone", got)
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	f := File{Relay: "https://r.example", Token: "tok-hunter2", SignSecret: testSecret}
	logger.Info("config loaded", "config", f)
	logger.Info("config loaded", "config", &f)
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, testSecret) {
		t.Errorf("log shows a secret: %s", out)
	}
	if !strings.Contains(out, "config.relay=https://r.example") {
		t.Errorf("log lacks the relay: %s", out)
	}
}

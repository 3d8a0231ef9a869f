package agentconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testSecret is a well-formed whsec_ secret made up for these tests.
const testSecret = "whsec_dGVzdC1zZWNyZXQtZm9yLWhvb2tyZWxheS10ZXN0cw=="

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), DefaultName)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullConfig = `# every field
relay = "https://hookrelay.example.onrender.com"
token = "env:RELAY_TOKEN"
forward_to = "http://localhost:5000/webhooks/openai"
sign_mode = "resign"
sign_secret = "env:OPENAI_WEBHOOK_SECRET"
events = ["response.*", "batch.*"]

[[route]]                      # first match wins
events = ["batch.*"]
forward_to = "http://localhost:8080/batch"

[[route]]
events = ["response.failed", "*.cancelled"]
forward_to = "https://localhost:8443/failures"
`

func TestLoadEveryField(t *testing.T) {
	path := writeConfig(t, fullConfig)
	vars := map[string]string{"RELAY_TOKEN": "tok-123", "OPENAI_WEBHOOK_SECRET": testSecret}
	got, err := Load(path, env(vars))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &File{
		Relay:      "https://hookrelay.example.onrender.com",
		Token:      "tok-123",
		ForwardTo:  "http://localhost:5000/webhooks/openai",
		SignMode:   "resign",
		SignSecret: testSecret,
		Events:     []string{"response.*", "batch.*"},
		Routes: []Route{
			{Events: []string{"batch.*"}, ForwardTo: "http://localhost:8080/batch"},
			{
				Events:    []string{"response.failed", "*.cancelled"},
				ForwardTo: "https://localhost:8443/failures",
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, want %+v", got, want)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	got, err := Load(writeConfig(t, "# nothing set\n"), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, &File{}) {
		t.Errorf("Load = %+v, want an empty File", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), DefaultName), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestLoadEnvReference(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		vars    map[string]string
		want    string // the token, when valid
		wantErr string
	}{
		{name: "set", src: `token = "env:TOK"`, vars: map[string]string{"TOK": "t1"}, want: "t1"},
		{name: "literal", src: `token = "plain"`, want: "plain"},
		{name: "unset", src: `token = "env:TOK"`,
			wantErr: "x.toml:1: token: environment variable TOK is not set"},
		{name: "empty", src: `token = "env:TOK"`, vars: map[string]string{"TOK": ""},
			wantErr: "x.toml:1: token: environment variable TOK is empty"},
		{name: "no_name", src: "\ntoken = \"env:\"",
			wantErr: `x.toml:2: token: "env:" names no variable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parse("x.toml", tt.src, env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if f.Token != tt.want {
				t.Errorf("Token = %q, want %q", f.Token, tt.want)
			}
		})
	}
}

func TestLoadNilGetenv(t *testing.T) {
	_, err := parse("x.toml", `sign_secret = "env:S"`, nil)
	if err == nil || !strings.Contains(err.Error(), "environment variable S is not set") {
		t.Errorf("parse with nil getenv: %v, want variable S not set", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantCol  int
		wantMsg  string // the whole message after "relay-agent.toml:"
	}{
		{
			name:     "bad_forward_to",
			src:      strings.Repeat("# comment\n", 6) + `forward_to = "htp://x"`,
			wantLine: 7,
			wantMsg:  `7: forward_to: "htp://x" is not an http(s) URL`,
		},
		{
			name:     "unknown_key",
			src:      "relay = \"https://r.example\"\nforwrd_to = \"http://localhost:5000\"\n",
			wantLine: 2,
			wantMsg:  "2: forwrd_to: unknown key; did you mean forward_to?",
		},
		{
			name:     "unknown_key_in_route",
			src:      routes2 + "sign = \"x\"\n",
			wantLine: 8,
			wantMsg:  "8: route.sign: unknown key",
		},
		{
			name:     "unknown_table",
			src:      "\n[[routes]]\nevents = [\"a\"]\n",
			wantLine: 2,
			wantMsg:  "2: routes: unknown key; did you mean route?",
		},
		{
			name:     "bad_relay",
			src:      `relay = "ftp://r.example"`,
			wantLine: 1,
			wantMsg:  `1: relay: "ftp://r.example" is not an http(s) or ws(s) URL`,
		},
		{
			name:     "relay_credentials_redacted",
			src:      `relay = "ftp://user:hunter2@r.example"`,
			wantLine: 1,
			wantMsg:  `1: relay: "ftp://user:xxxxx@r.example" is not an http(s) or ws(s) URL`,
		},
		{
			name:     "bad_sign_mode",
			src:      "\n\nsign_mode = \"hmac\"",
			wantLine: 3,
			wantMsg:  `3: sign_mode: unknown signing mode "hmac": use resign, passthrough or hex`,
		},
		{
			name:     "bad_pattern",
			src:      "events = [\n  \"response.*\",\n  \"batch.[\",\n]",
			wantLine: 1,
			wantMsg:  `1: events: event pattern "batch.[": syntax error in pattern`,
		},
		{
			name:     "wrong_type",
			src:      "relay = \"https://r.example\"\ntoken = 42",
			wantLine: 2,
			wantMsg:  "2: token: want a string, got an integer",
		},
		{
			name:     "table_for_string",
			src:      "token = \"t\"\n\n[relay]\nurl = \"https://r.example\"\n",
			wantLine: 3,
			wantMsg:  "3: relay: want a string, got a table",
		},
		{
			name:     "events_not_array",
			src:      `events = "response.*"`,
			wantLine: 1,
			wantMsg:  "1: events: want an array of strings, got a string",
		},
		{
			name:     "route_not_array",
			src:      "relay = \"https://r.example\"\n[route]\nevents = [\"a\"]\n",
			wantLine: 2,
			wantMsg:  "2: route: want [[route]] tables, each with events and forward_to",
		},
		{
			name:     "second_route_bad_target",
			src:      routes2 + "forward_to = \"localhost:9000\"\n",
			wantLine: 8,
			wantMsg:  `8: route[2].forward_to: "localhost:9000" is not an http(s) URL`,
		},
		{
			name:     "first_route_bad_target",
			src:      strings.Replace(routes2, "8080", "80x80", 1),
			wantLine: 3,
			wantMsg:  `3: route[1].forward_to: "http://localhost:80x80/batch" is not an http(s) URL`,
		},
		{
			name:     "route_missing_forward_to",
			src:      routes2,
			wantLine: 6,
			wantMsg:  "6: route[2]: forward_to is missing",
		},
		{
			name:     "route_missing_events",
			src:      "[[route]]\nforward_to = \"http://localhost:1\"\n",
			wantLine: 1,
			wantMsg:  "1: route[1]: events is missing",
		},
		{
			name:     "route_empty_events",
			src:      "[[route]]\nevents = []\nforward_to = \"http://localhost:1\"\n",
			wantLine: 2,
			wantMsg:  "2: route[1].events: no event patterns",
		},
		{
			name:     "syntax_error",
			src:      "relay = \"https://r.example\"\ntoken = \"abc\n",
			wantLine: 2,
			wantCol:  13,
			wantMsg:  "2:13: strings cannot contain newlines",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(DefaultName, tt.src, env(nil))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("parse error = %v, want a *LoadError", err)
			}
			if le.Line != tt.wantLine || le.Col != tt.wantCol {
				t.Errorf("line:col = %d:%d, want %d:%d", le.Line, le.Col, tt.wantLine, tt.wantCol)
			}
			if want := DefaultName + ":" + tt.wantMsg; err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err, want)
			}
		})
	}
}

// routes2 has two [[route]] tables; the second lacks forward_to, so that
// cases can add a key to it.
const routes2 = `[[route]]
events = ["batch.*"]
forward_to = "http://localhost:8080/batch"

# the second route
[[route]]
events = ["response.*"]
`

func TestLoadErrorsHideSecrets(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{name: "malformed_secret", src: "sign_mode = \"resign\"\nsign_secret = \"env:S\""},
		{name: "secret_as_number", src: "token = \"env:S\"\nsign_secret = 7"},
		{name: "unknown_key_after", src: "token = \"env:S\"\ntokn = \"env:S\""},
	}
	const secret = "whsec_%%hunter2%%"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(DefaultName, tt.src, env(map[string]string{"S": secret}))
			if err == nil {
				t.Fatal("parse succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestLoadSecretChecked(t *testing.T) {
	src := "sign_mode = \"resign\"\n\nsign_secret = \"whsec_%%not-base64\""
	_, err := parse(DefaultName, src, nil)
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 3 || le.Key != "sign_secret" {
		t.Errorf("parse = %v, want an error on sign_secret at line 3", err)
	}
	hex := "sign_mode = \"hex\"\nsign_secret = \"plain\""
	if _, err := parse(DefaultName, hex, nil); err != nil {
		t.Errorf("hex mode with a plain secret: %v", err)
	}
}

// Command relay-server receives OpenAI webhooks, verifies and stores them,
// and streams them to connected relay agents. See README.md for its flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay-server:", err)
	}
	os.Exit(cli.Code(err))
}

// config is what the flags and environment say.
type config struct {
	addr      string
	secret    string
	token     string
	database  string
	retention time.Duration
	maxBody   string
	logLevel  string
	channels  []string
	// extra holds the named channels, with secrets and tokens from env.
	extra []relay.Channel
}

func run(ctx context.Context, args []string, env cli.Env, stdout, stderr io.Writer) error {
	var cfg config
	serve := func(cmd *cobra.Command, _ []string) error {
		if err := cfg.fromEnv(cmd, env); err != nil {
			return err
		}
		return cfg.serve(ctx, stderr)
	}
	root := &cobra.Command{
		Use:   "relay-server",
		Short: "Receive OpenAI webhooks and stream them to relay agents",
		Args:  cobra.NoArgs,
		RunE:  serve,
	}
	flags := root.PersistentFlags()
	flags.StringVar(&cfg.addr, "addr", ":8080", "listen address (env PORT: port only)")
	flags.StringVar(&cfg.secret, "openai-secret", "",
		"whsec_ secret of the default channel (env OPENAI_WEBHOOK_SECRET)")
	flags.StringVar(&cfg.token, "token", "", "bearer token agents present (env RELAY_TOKEN)")
	flags.StringVar(&cfg.database, "database", "relay-data/relay.db",
		"postgres:// URL, sqlite: URL or SQLite file path (env DATABASE_URL)")
	flags.DurationVar(&cfg.retention, "retention", 72*time.Hour,
		"how long events are kept (env RELAY_RETENTION)")
	flags.StringVar(&cfg.maxBody, "max-body", "1MiB",
		"largest webhook body accepted (env RELAY_MAX_BODY)")
	flags.StringVar(&cfg.logLevel, "log-level", "info",
		"debug, info, warn or error (env RELAY_LOG_LEVEL)")
	flags.StringSliceVar(&cfg.channels, "channels", nil,
		"more channels, comma-separated, each served at /webhooks/openai/NAME with its secret and token\n"+
			"from OPENAI_WEBHOOK_SECRET_NAME and RELAY_TOKEN_NAME (env RELAY_CHANNELS)")
	root.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Run the relay (the default command)",
		Args:  cobra.NoArgs,
		RunE:  serve,
	})
	cli.Quiet(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func (c *config) fromEnv(cmd *cobra.Command, env cli.Env) error {
	err := cli.FromEnv(cmd.Flags(), env, map[string]string{
		"openai-secret": "OPENAI_WEBHOOK_SECRET",
		"token":         "RELAY_TOKEN",
		"database":      "DATABASE_URL",
		"retention":     "RELAY_RETENTION",
		"max-body":      "RELAY_MAX_BODY",
		"log-level":     "RELAY_LOG_LEVEL",
		"channels":      "RELAY_CHANNELS",
	})
	if err != nil {
		return err
	}
	if port, ok := env("PORT"); ok && port != "" && !cmd.Flags().Changed("addr") {
		c.addr = ":" + port
	}
	if c.secret == "" {
		return cli.Usagef("no webhook secret: set --openai-secret or OPENAI_WEBHOOK_SECRET " +
			"(the whsec_ secret OpenAI shows for your webhook endpoint)")
	}
	if c.token == "" {
		return cli.Usagef("no agent token: set --token or RELAY_TOKEN (any long random string)")
	}
	for _, name := range c.channels {
		ch, err := namedChannel(name, env)
		if err != nil {
			return err
		}
		c.extra = append(c.extra, ch)
	}
	return nil
}

// namedChannel reads the secret and token of the channel name from
// OPENAI_WEBHOOK_SECRET_NAME and RELAY_TOKEN_NAME: secrets come from the
// environment, never from flags, which other users of the machine can see.
func namedChannel(name string, env cli.Env) (relay.Channel, error) {
	suffix := strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name))
	secretVar, tokenVar := "OPENAI_WEBHOOK_SECRET_"+suffix, "RELAY_TOKEN_"+suffix
	secret, _ := env(secretVar)
	token, _ := env(tokenVar)
	if secret == "" || token == "" {
		return relay.Channel{}, cli.Usagef("channel %q needs %s and %s", name, secretVar, tokenVar)
	}
	return relay.Channel{Name: name, Secret: secret, Token: token}, nil
}

func (c *config) serve(ctx context.Context, stderr io.Writer) error {
	maxBody, err := humanize.ParseBytes(c.maxBody)
	if err != nil || maxBody == 0 {
		return cli.Usagef("--max-body %q: want a size such as 1MiB or 512KB", c.maxBody)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	st, err := store.Open(ctx, c.database)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	srv, err := relay.New(relay.Config{
		Channels: append([]relay.Channel{{Name: "default", Secret: c.secret, Token: c.token}},
			c.extra...),
		Retention: c.retention,
		MaxBody:   int64(maxBody),
		Logger:    logger,
	}, st)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	logger.Info("store opened", logkey.Store, storeKind(c.database),
		logkey.Retention, c.retention.String())
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("relay stopped")
	return nil
}

func storeKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

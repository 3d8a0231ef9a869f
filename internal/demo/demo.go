// Package demo runs hookrelay end to end in one process with no set-up: a
// relay on 127.0.0.1 with a SQLite store in a temporary folder, a sample
// receiving app that verifies every delivery with openai-go, and a firer
// that posts a signed sample event to the relay every interval. The caller
// connects an agent to Relay and Token and forwards to AppURL.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/logkey"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
	"github.com/hookrelay/hookrelay/internal/store"
)

// DefaultInterval is how often the demo fires a sample event.
const DefaultInterval = 2 * time.Second

// Config configures a Demo. The zero value is ready to use.
type Config struct {
	// Interval between sample events. If zero, DefaultInterval is used.
	Interval time.Duration
	// Logger receives the relay's and the app's logs. If nil, they are
	// discarded.
	Logger *slog.Logger
}

// Demo is a running relay, sample app and event firer. Close stops them and
// removes the temporary folder.
type Demo struct {
	// Relay is the relay's base URL.
	Relay string
	// Token is the agent token the relay expects.
	Token string
	// Secret is the whsec_ secret both OpenAI's side and the app use.
	Secret string
	// AppURL is where the sample app receives webhooks.
	AppURL string

	dir    string
	st     store.Store
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts a Demo. Events begin to fire once Start returns.
func Start(ctx context.Context, cfg Config) (*Demo, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := os.MkdirTemp("", "hookrelay-demo-")
	if err != nil {
		return nil, fmt.Errorf("make demo folder: %w", err)
	}
	d := &Demo{dir: dir, Secret: newSecret(), Token: newToken()}
	if err := d.start(ctx, cfg, log); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Demo) start(ctx context.Context, cfg Config, log *slog.Logger) error {
	st, err := store.OpenSQLite(filepath.Join(d.dir, "relay.db"))
	if err != nil {
		return err
	}
	d.st = st
	srv, err := relay.New(relay.Config{
		Channels: []relay.Channel{{Name: "default", Secret: d.Secret, Token: d.Token}},
		Logger:   log,
	}, st)
	if err != nil {
		return err
	}
	relayLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the relay: %w", err)
	}
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		relayLn.Close()
		return fmt.Errorf("listen for the sample app: %w", err)
	}
	d.Relay = "http://" + relayLn.Addr().String()
	d.AppURL = "http://" + appLn.Addr().String() + "/webhooks/openai"
	app, err := NewApp(d.Secret, log)
	if err != nil {
		relayLn.Close()
		appLn.Close()
		return err
	}
	signer, err := sign.NewSigner(sign.ModeResign, d.Secret)
	if err != nil {
		return err
	}

	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	d.goRun(func() { srv.Serve(ctx, relayLn) })
	d.goRun(func() { serveApp(ctx, appLn, app) })
	d.goRun(func() { fire(ctx, d.Relay+"/webhooks/openai", signer, cfg.Interval, log) })
	return nil
}

func (d *Demo) goRun(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// Dir is the demo's temporary folder, removed by Close.
func (d *Demo) Dir() string { return d.dir }

// Close stops the relay, the app and the firer, and removes the demo's
// temporary folder.
func (d *Demo) Close() error {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	var err error
	if d.st != nil {
		err = d.st.Close()
	}
	return errors.Join(err, os.RemoveAll(d.dir))
}

func serveApp(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	srv.Serve(ln)
}

// fire posts a signed sample event of each type in turn to url every
// interval, the first one at once, until ctx ends.
func fire(
	ctx context.Context, url string, s *sign.Signer, interval time.Duration, log *slog.Logger,
) {
	types := fireOrder()
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; ; i++ {
		typ := types[i%len(types)]
		if err := post(ctx, url, s, typ); err != nil && ctx.Err() == nil {
			log.Warn("demo event not accepted by the relay", logkey.EventType, typ, logkey.Err, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fireOrder lists every sample type, the ones developers meet most first.
func fireOrder() []string {
	first := []string{"response.completed", "batch.completed", "fine_tuning.job.succeeded",
		"eval.run.succeeded", "response.failed"}
	order := slices.Clone(first)
	for _, typ := range sample.Types() {
		if !slices.Contains(first, typ) {
			order = append(order, typ)
		}
	}
	return order
}

func post(ctx context.Context, url string, s *sign.Signer, typ string) error {
	req, err := sample.Request(ctx, url, s, typ, time.Now())
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("relay answered %s", resp.Status)
	}
	return nil
}

// newSecret returns a fresh whsec_ secret of 32 random bytes.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

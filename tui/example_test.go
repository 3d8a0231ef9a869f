package tui_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/tui"
)

// The agent is the screen's controller: the screen follows its updates and
// gives it the commands of the keys.
var _ tui.Controller = (*agent.Agent)(nil)

// The agent also fetches the responses of response.* events for the
// details, when its Config has an Enricher.
var _ tui.Enricher = (*agent.Agent)(nil)

func ExampleRun() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	hist, err := history.Open("history.db")
	if err != nil {
		log.Fatal(err)
	}
	defer hist.Close()
	a, err := agent.New(agent.Config{
		Relay: "https://relay.example.com",
		Token: os.Getenv("RELAY_TOKEN"),
	}, hist)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	err = tui.Run(ctx, a, tui.Options{LogPath: "agent.log", Editor: os.Getenv("EDITOR")})
	cancel()
	if err := <-done; err != nil {
		log.Print(err)
	}
	if err != nil {
		log.Fatal(err)
	}
}

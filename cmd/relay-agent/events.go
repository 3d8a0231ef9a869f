package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/cli"
	"github.com/hookrelay/hookrelay/internal/history"
	"github.com/hookrelay/hookrelay/internal/printer"
)

func newEventsCmd(e *env) *cobra.Command {
	var (
		path   string
		limit  int
		types  []string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the events in the local history, newest last",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hist, err := e.openHistory(path)
			if err != nil {
				return err
			}
			defer hist.Close()
			return e.listEvents(
				cmd.Context(),
				hist,
				history.Query{Types: types, Limit: limit},
				asJSON,
			)
		},
	}
	cmd.Flags().StringVar(&path, "history", "", "local history file (env RELAY_HISTORY)")
	cmd.Flags().IntVarP(&limit, "limit", "n", 50,
		"how many of the newest events to list; -1 for all")
	cmd.Flags().StringSliceVar(&types, "events", nil, "only these event type patterns")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	cmd.AddCommand(newExportCmd(e))
	return cmd
}

func (e *env) openHistory(flag string) (*history.History, error) {
	path, err := e.historyPath(flag)
	if err != nil {
		return nil, err
	}
	return history.Open(path)
}

// eventRow is one line of relay-agent events --json.
type eventRow struct {
	ID         int64     `json:"id"`
	Seq        int64     `json:"seq"`
	EventID    string    `json:"event_id"`
	WebhookID  string    `json:"webhook_id"`
	Type       string    `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
	State      string    `json:"state"`
	Status     int       `json:"status,omitempty"`
}

func (e *env) listEvents(
	ctx context.Context, h *history.History, q history.Query, asJSON bool,
) error {
	evs, err := h.Events(ctx, q)
	if err != nil {
		return err
	}
	ids := make([]int64, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	last, err := h.LastAttempts(ctx, ids)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, ev := range evs {
			row := eventRow{ev.ID, ev.Seq, ev.EventID, ev.WebhookID, ev.Type, ev.ReceivedAt,
				string(ev.State), last[ev.ID].Status}
			if err := enc.Encode(row); err != nil {
				return err
			}
		}
		return nil
	}
	if len(evs) == 0 {
		fmt.Fprintf(e.stdout, "no events in %s yet\n", h.Path())
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tTYPE\tEVENT\tSTATE\tLAST")
	for _, ev := range evs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", ev.ID,
			ev.ReceivedAt.Local().Format("2006-01-02 15:04:05"), ev.Type, ev.EventID, ev.State,
			lastResult(last[ev.ID]))
	}
	return tw.Flush()
}

func lastResult(a history.Attempt) string {
	switch {
	case a.ID == 0:
		return "-"
	case a.Status != 0:
		return fmt.Sprintf("%d", a.Status)
	}
	return string(a.Outcome)
}

// recordedFlags are the flags of the commands that deliver a recorded
// event again: replay and events export.
type recordedFlags struct {
	history   string
	forwardTo string
	sign      signFlags
}

func (r *recordedFlags) add(cmd *cobra.Command, forwardHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&r.history, "history", "", "local history file (env RELAY_HISTORY)")
	fl.StringVar(&r.forwardTo, "forward-to", agent.DefaultForwardTo,
		forwardHelp+" (env FORWARD_TO)")
	r.sign.add(cmd)
}

func (e *env) recordedFromEnv(cmd *cobra.Command) error {
	return cli.FromEnv(cmd.Flags(), e.lookup, map[string]string{
		"forward-to":  "FORWARD_TO",
		"sign-secret": "OPENAI_WEBHOOK_SECRET",
		"history":     "RELAY_HISTORY",
	})
}

// findRecorded opens the history and finds the event key names in it. The
// caller closes the history.
func (e *env) findRecorded(ctx context.Context, historyFlag, key string) (*history.History,
	history.Event, error) {
	hist, err := e.openHistory(historyFlag)
	if err != nil {
		return nil, history.Event{}, err
	}
	ev, err := hist.Find(ctx, key)
	if err != nil {
		hist.Close()
		if errors.Is(err, history.ErrNotFound) {
			err = cli.Usagef("%v (list them with relay-agent events)", err)
		}
		return nil, history.Event{}, err
	}
	return hist, ev, nil
}

type replayFlags struct {
	recordedFlags
	timeout time.Duration
}

func newReplayCmd(e *env) *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Deliver a recorded event again (ID: history number, evt_ id or webhook-id)",
		Args:  oneArg("event ID (see relay-agent events)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := e.recordedFromEnv(cmd); err != nil {
				return err
			}
			return e.replay(cmd.Context(), &f, args[0])
		},
	}
	f.add(cmd, "where to deliver")
	cmd.Flags().DurationVar(&f.timeout, "timeout", agent.DefaultTimeout,
		"how long the delivery waits for the app")
	return cmd
}

func (e *env) replay(ctx context.Context, f *replayFlags, key string) error {
	signer, err := f.sign.signer()
	if err != nil {
		return err
	}
	hist, ev, err := e.findRecorded(ctx, f.history, key)
	if err != nil {
		return err
	}
	defer hist.Close()
	fwd := agent.NewForwarder(agent.Targets{Default: f.forwardTo}, signer, f.timeout)
	att := fwd.Deliver(ctx, &agent.Delivery{Event: ev, Replay: true, N: 1})
	if _, err := hist.AddAttempt(ctx, &att); err != nil {
		return err
	}
	line, _ := json.Marshal(printer.NewRecord(&ev, &att))
	fmt.Fprintln(e.stdout, string(line))
	if att.Outcome != history.OutcomeDelivered {
		return fmt.Errorf("replay of %s not delivered: %s", key, describe(att))
	}
	return nil
}

func describe(a history.Attempt) string {
	if a.Status != 0 {
		return fmt.Sprintf("%s answered %d", a.Target, a.Status)
	}
	return fmt.Sprintf("%s: %s", a.Target, a.Error)
}

package store

import (
	"context"
	"sync"
)

// notifier wakes the Waits of one process. Each watched channel has a
// broadcast chan that is closed, and forgotten, when the channel may have a
// new head; a waiter takes the chan before it reads the head, so a commit that
// lands between the two still wakes it.
type notifier struct {
	// closed is closed by close; every waiter selects on it.
	closed    chan struct{}
	closeOnce sync.Once

	// mu guards watch.
	mu    sync.Mutex
	watch map[string]chan struct{}
}

func newNotifier() *notifier {
	return &notifier{closed: make(chan struct{}), watch: make(map[string]chan struct{})}
}

// changed returns a chan that is closed after the next wake of channel.
func (n *notifier) changed(channel string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.watch[channel]
	if !ok {
		c = make(chan struct{})
		n.watch[channel] = c
	}
	return c
}

// wake wakes the waiters of channel.
func (n *notifier) wake(channel string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.watch[channel]; ok {
		close(c)
		delete(n.watch, channel)
	}
}

// wakeAll wakes the waiters of every channel, which then re-read their heads.
func (n *notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for channel, c := range n.watch {
		close(c)
		delete(n.watch, channel)
	}
}

// close wakes every waiter for good.
func (n *notifier) close() {
	n.closeOnce.Do(func() { close(n.closed) })
}

// wait blocks until head(channel) > after, ctx is done or n is closed.
func (n *notifier) wait(
	ctx context.Context,
	channel string,
	after int64,
	head func(context.Context, string) (int64, error),
) error {
	for {
		changed := n.changed(channel)
		h, err := head(ctx, channel)
		if err != nil {
			return err
		}
		if h > after {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.closed:
			return ErrClosed
		}
	}
}

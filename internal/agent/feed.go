package agent

import (
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/history"
)

// Update tells listeners what the agent just did. Kind says which pointer
// fields are set: the one named beside each, and Event too for
// KindDelivering and KindAttempt.
type Update struct {
	Kind UpdateKind
	Time time.Time

	Conn    *ConnState       // KindConn
	Event   *history.Event   // KindEvent: recorded, its delivery queued
	Attempt *history.Attempt // KindAttempt: an attempt finished
	Pending *PendingDelivery // KindDelivering: an attempt is starting
	Paused  *bool            // KindPaused: forwarding paused or resumed
	Notice  *Notice          // KindNotice: a message for the user
}

// UpdateKind says which field of an Update is set.
type UpdateKind int

// Update kinds.
const (
	KindConn UpdateKind = iota + 1
	KindEvent
	KindDelivering
	KindAttempt
	KindPaused
	KindNotice
)

// ConnState is the state of the agent's connection to the relay.
type ConnState struct {
	State ConnPhase
	// Relay is the relay's base URL.
	Relay string
	// Channel is the channel named by the relay's welcome.
	Channel string
	// Attempt counts failed connection attempts in a row, from 1.
	Attempt int
	// Retry is how long until the next attempt, when reconnecting.
	Retry time.Duration
	// Err says why the last attempt failed, when it did.
	Err string
}

// ConnPhase is where the agent's connection stands.
type ConnPhase string

// Connection phases.
const (
	PhaseConnecting   ConnPhase = "connecting"   // dialing, before the welcome
	PhaseConnected    ConnPhase = "connected"    // the relay sent its welcome
	PhaseReconnecting ConnPhase = "reconnecting" // waiting Retry before dialing again
	PhaseRefused      ConnPhase = "refused"      // the relay refused the token; final
	PhaseStopped      ConnPhase = "stopped"      // Run returned
)

// PendingDelivery describes an attempt about to be made.
type PendingDelivery struct {
	EventID int64
	N       int
	Replay  bool
	Target  string
}

// Notice is a message for the user, such as a config reload.
type Notice struct {
	Level   string // "info", "warn" or "error"
	Message string
}

// feed fans updates out to subscribers without ever blocking the publisher:
// each subscriber has an unbounded queue that its own goroutine drains into
// the channel it reads, so a slow screen never slows delivery.
type feed struct {
	mu   sync.Mutex // guards subs
	subs map[*subscriber]struct{}
}

type subscriber struct {
	out  chan Update
	wake chan struct{} // capacity 1: there are queued updates
	done chan struct{} // closed by cancel

	mu    sync.Mutex // guards queue
	queue []Update
}

func (f *feed) publish(u Update) {
	if u.Time.IsZero() {
		u.Time = time.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.mu.Lock()
		s.queue = append(s.queue, u)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel of every update published from now on and a
// function that ends the subscription and closes the channel.
func (f *feed) subscribe() (<-chan Update, func()) {
	s := &subscriber{
		out:  make(chan Update),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[*subscriber]struct{})
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.run()
	}()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, s)
			f.mu.Unlock()
			close(s.done)
			<-stopped
		})
	}
	return s.out, cancel
}

// run moves queued updates to out until done is closed, then closes out.
func (s *subscriber) run() {
	defer close(s.out)
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, u := range batch {
			select {
			case s.out <- u:
			case <-s.done:
				return
			}
		}
	}
}

// Snapshot is the agent's state at one moment, for a screen to start from.
type Snapshot struct {
	Relay     string    // relay base URL as configured
	Channel   string    // channel from the relay's welcome, "" before it
	ForwardTo string    // default delivery target
	SignMode  string    // resign, passthrough or hex
	Conn      ConnState // connection state
	Paused    bool      // forwarding paused
	Queued    int       // deliveries waiting
	Received  int       // events received in this run
	Delivered int       // first deliveries answered 2xx in this run
	Failed    int       // first deliveries given up in this run
}

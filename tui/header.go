package tui

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
)

// headerHeight is the header's number of lines.
const headerHeight = 2

// header shows where events come from and go, the connection, the counts
// and whether forwarding is paused.
type header struct {
	styles *Styles
	now    func() time.Time

	snap   agent.Snapshot
	conn   agent.ConnState
	connAt time.Time // when conn was published, for the retry countdown
	paused bool
	pinned string // the pinned event's id, or ""
	width  int
}

// Init implements the component contract; the header starts nothing.
func (h header) Init() tea.Cmd { return nil }

// Update implements the component contract; the model feeds the header its
// state directly.
func (h header) Update(tea.Msg) (header, tea.Cmd) { return h, nil }

// SetSize sets the header's width; its height is fixed.
func (h *header) SetSize(width, _ int) { h.width = max(width, 1) }

// reconnecting reports whether the header shows a countdown.
func (h *header) reconnecting() bool {
	return h.conn.State == agent.PhaseReconnecting
}

// View renders the header's two lines.
func (h header) View() string {
	st := h.styles
	relay := h.conn.Relay
	if relay == "" {
		relay = h.snap.Relay
	}
	channel := h.conn.Channel
	if channel == "" {
		channel = h.snap.Channel
	}
	first := st.App.Render("hookrelay") + "  " + h.connView() + "  " + printable(hostOf(relay))
	if channel != "" {
		first += st.Muted.Render(" channel ") + printable(channel)
	}
	if h.pinned != "" {
		first += st.Marker.Render("  ⚑ ") + truncateMiddle(printable(h.pinned), 16)
	}
	var second string
	if h.paused {
		second = st.PausedTag.Render(" PAUSED ") +
			st.Muted.Render(fmt.Sprintf(" %d queued", h.snap.Queued)) + "  "
	}
	second += h.countsView() + "  " + st.Muted.Render("→ ") +
		printable(strings.TrimPrefix(h.snap.ForwardTo, "http://"))
	fit := st.Line.MaxWidth(h.width)
	return fit.Render(first) + "\n" + fit.Render(second)
}

func (h *header) connView() string {
	st := h.styles
	c := h.conn
	switch c.State {
	case agent.PhaseConnected:
		return st.ConnOK.Render("● connected")
	case agent.PhaseReconnecting:
		left := c.Retry - h.now().Sub(h.connAt)
		secs := max(int(math.Ceil(left.Seconds())), 0)
		return st.ConnWarn.Render(fmt.Sprintf("reconnecting, attempt %d, next try in %ds",
			c.Attempt, secs))
	case agent.PhaseRefused:
		return st.ConnBad.Render("refused: bad token")
	case agent.PhaseStopped:
		return st.ConnBad.Render("stopped")
	}
	return st.ConnWarn.Render("connecting…")
}

func (h *header) countsView() string {
	st := h.styles
	s := h.snap
	failed := fmt.Sprintf("failed %d", s.Failed)
	if s.Failed > 0 {
		failed = st.Failed.Render(failed)
	} else {
		failed = st.Muted.Render(failed)
	}
	counts := fmt.Sprintf("received %d · delivered %d · ", s.Received, s.Delivered)
	return st.Muted.Render(counts) + failed
}

// hostOf returns the host of a relay URL, or the URL itself when it has
// none.
func hostOf(relay string) string {
	if u, err := url.Parse(relay); err == nil && u.Host != "" {
		return u.Host
	}
	return relay
}

// Package tui is the terminal screen of relay-agent: a live list of the
// webhooks the agent receives and delivers, their details, and keys to
// filter, re-send, edit, pause and step through them.
//
// New returns the Bubble Tea model for a Controller (the agent); Run shows
// it full screen until the user quits or the context ends. The screen only
// listens to the agent's updates and calls its commands from tea.Cmds, so a
// slow terminal never slows delivery.
package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/enrich"
	"github.com/hookrelay/hookrelay/internal/history"
)

// defaultEditor is the editor of key e when Options.Editor is empty.
const defaultEditor = "vi"

// Default size until the terminal reports its own.
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// Options configures the screen.
type Options struct {
	// LogPath is the file the logs go to, shown by the ? screen; the
	// screen itself never shows logs. If empty, no log file is shown.
	LogPath string
	// NoColor draws without colour (NO_COLOR is set).
	NoColor bool
	// Editor is the command that key e runs on a body, such as $EDITOR;
	// it may carry arguments ("code --wait"). If empty, "vi" is used.
	Editor string
	// Now returns the current time. If nil, time.Now is used. Times are
	// shown in the location of the times it returns.
	Now func() time.Time
}

// state is where the screen's start stands.
type state int

const (
	stateLoading state = iota // reading the history of earlier runs
	stateReady
	stateError // the history could not be read; live events still show
)

// focus says which part of the screen has the keys.
type focus int

const (
	focusList focus = iota
	focusDetail
	focusHelp
)

// Model is the screen: a header, the event list or one event's details or
// the help, and a footer. It implements tea.Model.
//
// New subscribes to the controller's updates at once, so that none
// published after New returns is missed; Close ends the subscription. Run
// does both. A Model is used by one Bubble Tea program at a time, like any
// tea.Model.
type Model struct {
	c      Controller
	opts   Options
	ctx    context.Context // lifetime of the commands' calls
	sub    *subscription
	keys   *KeyMap
	styles *Styles
	loc    *time.Location

	state   state
	focus   focus
	back    focus // what esc or ? returns to from the help
	loadErr error
	width   int
	height  int

	header header
	list   eventList
	detail detail
	footer footer

	// Keeping up with the agent.
	early       []agent.Update // updates naming events the loading history lacks
	fetching    map[int64]bool // events being fetched for an update that named them
	snapPending bool           // a snapshot is being taken
	snapAgain   bool           // the agent changed meanwhile: take another
	ticking     bool           // a countdown tick is pending
	feedClosed  bool
	noEnrich    bool // the controller said enrichment is off
}

// subscription is the model's subscription to the agent's updates, shared
// by every copy of the model.
type subscription struct {
	ch     <-chan agent.Update
	cancel func()
	once   sync.Once
}

// New returns the screen for c. It subscribes to c's updates and takes a
// snapshot of its state; the history of earlier runs loads when the program
// starts (Init). The caller must call Close once the program has ended.
func New(c Controller, opts Options) Model {
	if opts.Editor == "" {
		opts.Editor = defaultEditor
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := DefaultKeyMap()
	styles := DefaultStyles(opts.NoColor)
	ch, cancel := c.Subscribe()
	m := Model{
		c:        c,
		opts:     opts,
		ctx:      context.Background(),
		sub:      &subscription{ch: ch, cancel: cancel},
		keys:     &keys,
		styles:   &styles,
		loc:      opts.Now().Location(),
		fetching: make(map[int64]bool),
	}
	snap := c.Snapshot()
	m.header = header{styles: m.styles, now: opts.Now, snap: snap, conn: snap.Conn,
		connAt: opts.Now(), paused: snap.Paused}
	m.list = newEventList(m.keys, m.styles, opts.Now)
	m.detail = newDetail(m.keys, m.styles)
	m.footer = newFooter(m.keys, m.styles)
	if c.History() == nil {
		m.state = stateReady
	} else {
		m.list.loading, m.list.lean = true, true
	}
	m.setSize(defaultWidth, defaultHeight)
	return m
}

// Close ends the model's subscription to the agent's updates. It is safe to
// call more than once.
func (m Model) Close() {
	m.sub.once.Do(m.sub.cancel)
}

// Init implements tea.Model: it starts listening to the agent and loading
// the history.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitUpdatesCmd(m.sub.ch)}
	if h := m.c.History(); h != nil {
		cmds = append(cmds, loadHistoryCmd(m.ctx, h))
	}
	if m.header.reconnecting() {
		cmds = append(cmds, tickCmd())
	}
	return tea.Batch(cmds...)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.handleFilterInput(msg)
	case updatesMsg:
		return m.applyUpdates(msg)
	case feedClosedMsg:
		m.feedClosed = true
	case historyMsg:
		return m.applyHistory(msg)
	case eventMsg:
		m.applyEvent(msg)
	case snapshotMsg:
		return m.applySnapshot(msg)
	case detailMsg:
		return m.applyDetail(msg)
	case enrichMsg:
		m.applyEnrich(msg)
	case statusMsg:
		m.footer.setStatus(string(msg), levelInfo)
	case curlMsg:
		m.footer.setStatus("copied the curl command for "+msg.label+" to the clipboard", levelInfo)
		return m, tea.SetClipboard(msg.cmd)
	case editorReadyMsg:
		return m, editorCmd(m.opts.Editor, msg)
	case editorDoneMsg:
		return m, editFinishCmd(m.ctx, m.c, msg)
	case tickMsg:
		m.ticking = false
		return m, m.tickIfNeeded()
	case errMsg:
		return m.applyErr(msg)
	}
	return m, nil
}

// View implements tea.Model.
func (m Model) View() tea.View {
	var body string
	switch m.focus {
	case focusDetail:
		body = m.detail.View()
	case focusHelp:
		body = m.footer.fullHelp(m.width, m.bodyHeight(), m.opts.LogPath, m.historyPath())
	default:
		body = m.list.View()
	}
	m.footer.summary = m.summary()
	m.footer.bindings = m.footerBindings()
	v := tea.NewView(m.header.View() + "\n" + body + "\n" + m.footer.View())
	v.AltScreen = true
	return v
}

func (m *Model) setSize(width, height int) {
	m.width, m.height = max(width, 1), max(height, 1)
	m.header.SetSize(m.width, headerHeight)
	m.footer.SetSize(m.width, footerHeight)
	m.list.SetSize(m.width, m.bodyHeight())
	m.detail.SetSize(m.width, m.bodyHeight())
}

// bodyHeight is the height left between the header and the footer.
func (m *Model) bodyHeight() int {
	return max(m.height-headerHeight-footerHeight, 1)
}

func (m *Model) historyPath() string {
	if h := m.c.History(); h != nil {
		return h.Path()
	}
	return ""
}

// summary describes what the list shows, for the status line.
func (m *Model) summary() string {
	l := &m.list
	var parts []string
	switch {
	case len(l.matches) == 0 && l.filter.active():
		parts = append(parts, fmt.Sprintf("0 of %d events", len(l.rows)))
	case l.filter.active():
		parts = append(parts,
			fmt.Sprintf("%d/%d of %d events", l.cursor+1, len(l.matches), len(l.rows)))
	default:
		parts = append(parts,
			fmt.Sprintf("%d/%d events", min(l.cursor+1, len(l.rows)), len(l.rows)))
	}
	if t := m.footer.input.Value(); t != "" && !m.footer.typing {
		parts = append(parts, fmt.Sprintf("filter %q", t))
	}
	if l.filter.family != "" {
		parts = append(parts, "family "+l.filter.family)
	}
	if l.filter.failedOnly {
		parts = append(parts, "failed only")
	}
	if l.follow && len(l.matches) > 0 {
		parts = append(parts, "following live")
	}
	if m.state == stateError {
		parts = append(parts, "history not loaded: "+m.loadErr.Error())
	}
	return strings.Join(parts, " · ")
}

func (m *Model) footerBindings() []key.Binding {
	switch {
	case m.footer.typing:
		return m.keys.filterHelp()
	case m.focus == focusDetail:
		return m.keys.detailHelp()
	case m.header.paused:
		return m.keys.pausedHelp()
	}
	return m.keys.ShortHelp()
}

// applyUpdates follows what the agent did, then waits for more.
func (m Model) applyUpdates(batch updatesMsg) (tea.Model, tea.Cmd) {
	cmds := []tea.Cmd{waitUpdatesCmd(m.sub.ch)}
	changed, detailChanged := false, false
	for _, u := range batch {
		id, cmd := m.applyUpdate(u)
		cmds = append(cmds, cmd)
		changed = changed || u.Kind != agent.KindConn && u.Kind != agent.KindNotice
		detailChanged = detailChanged || id != 0 && id == m.detail.eventID
	}
	if changed {
		cmds = append(cmds, m.refreshSnapshot())
	}
	if detailChanged && m.focus == focusDetail {
		cmds = append(cmds, m.reloadDetail())
	}
	cmds = append(cmds, m.tickIfNeeded())
	return m, tea.Batch(cmds...)
}

// applyUpdate applies one update and returns the history ID of the event it
// concerns, if any, and a command to fetch that event if the list lacks it.
func (m *Model) applyUpdate(u agent.Update) (int64, tea.Cmd) {
	switch {
	case u.Kind == agent.KindConn && u.Conn != nil:
		m.header.conn, m.header.connAt = *u.Conn, u.Time
	case u.Kind == agent.KindEvent && u.Event != nil:
		m.list.add(*u.Event)
		return u.Event.ID, nil
	case u.Kind == agent.KindDelivering && u.Pending != nil:
		m.addMissing(u.Event)
		if !m.list.setInflight(*u.Pending) {
			return u.Pending.EventID, m.missing(u, u.Pending.EventID)
		}
		return u.Pending.EventID, nil
	case u.Kind == agent.KindAttempt && u.Attempt != nil:
		m.addMissing(u.Event)
		if !m.list.setAttempt(*u.Attempt) {
			return u.Attempt.EventID, m.missing(u, u.Attempt.EventID)
		}
		return u.Attempt.EventID, nil
	case u.Kind == agent.KindPaused && u.Paused != nil:
		m.header.paused = *u.Paused
	case u.Kind == agent.KindNotice && u.Notice != nil:
		m.footer.setStatus(u.Notice.Message, noticeLevel(u.Notice.Level))
	}
	return 0, nil
}

// addMissing lists the event an update carries along, if the list lacks it.
func (m *Model) addMissing(ev *history.Event) {
	if ev == nil {
		return
	}
	if _, ok := m.list.row(ev.ID); !ok {
		m.list.add(*ev)
	}
}

// missing handles an update about an event the list lacks and the update
// does not carry: kept until the history has loaded, or the event is
// fetched.
func (m *Model) missing(u agent.Update, id int64) tea.Cmd {
	h := m.c.History()
	switch {
	case m.state == stateLoading:
		m.early = append(m.early, u)
		return nil
	case h == nil || m.fetching[id]:
		return nil
	}
	m.fetching[id] = true
	return loadEventCmd(m.ctx, h, id)
}

func noticeLevel(level string) statusLevel {
	switch level {
	case "warn":
		return levelWarn
	case "error":
		return levelError
	}
	return levelInfo
}

func (m *Model) refreshSnapshot() tea.Cmd {
	if m.snapPending {
		m.snapAgain = true
		return nil
	}
	m.snapPending = true
	return snapshotCmd(m.c)
}

func (m Model) applySnapshot(s snapshotMsg) (tea.Model, tea.Cmd) {
	conn, paused := m.header.conn, m.header.paused
	m.header.snap = agent.Snapshot(s)
	// Updates tell the connection and the pause in order; a snapshot taken
	// meanwhile could be older.
	m.header.conn, m.header.paused = conn, paused
	m.snapPending = false
	if m.snapAgain {
		m.snapAgain = false
		return m, m.refreshSnapshot()
	}
	return m, nil
}

func (m *Model) tickIfNeeded() tea.Cmd {
	if m.ticking || !m.header.reconnecting() {
		return nil
	}
	m.ticking = true
	return tickCmd()
}

func (m Model) applyHistory(h historyMsg) (tea.Model, tea.Cmd) {
	m.list.merge(h.events, h.last)
	m.list.loading = false
	m.state = stateReady
	return m, m.applyEarly()
}

// applyEarly applies the updates kept while the history loaded.
func (m *Model) applyEarly() tea.Cmd {
	early := m.early
	m.early = nil
	var cmds []tea.Cmd
	for _, u := range early {
		_, cmd := m.applyUpdate(u)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyEvent(e eventMsg) {
	delete(m.fetching, e.ev.ID)
	m.list.add(e.ev)
	if e.last != nil {
		m.list.setAttempt(*e.last)
	}
}

func (m Model) applyErr(e errMsg) (tea.Model, tea.Cmd) {
	clear(m.fetching) // a failed fetch may be retried by the next update
	m.footer.setStatus(e.Error(), levelError)
	if !e.load {
		return m, nil
	}
	m.state, m.loadErr = stateError, e.err
	m.list.loading = false
	return m, m.applyEarly()
}

// target returns the event the action keys act on: the one shown in
// details, else the selected one.
func (m *Model) target() (*row, bool) {
	if m.focus == focusDetail {
		return m.list.row(m.detail.eventID)
	}
	return m.list.selected()
}

func (m *Model) openDetail(r *row) tea.Cmd {
	m.focus = focusDetail
	m.detail.open(r.ev.ID, r.ev.Type+"  "+r.displayID())
	fetch := m.enrichDetail(r.ev)
	h := m.c.History()
	if h == nil {
		var attempts []history.Attempt
		if r.hasLast {
			attempts = append(attempts, r.last)
		}
		facts, lines := renderDetail(r.ev, attempts, m.styles, m.loc)
		m.detail.setContent(detailMsg{eventID: r.ev.ID, ev: r.ev, facts: facts, lines: lines})
		return fetch
	}
	return tea.Batch(loadDetailCmd(m.ctx, h, r.ev.ID, m.styles, m.loc), fetch)
}

// enrichDetail starts fetching the response that ev names, when ev is a
// response.* event and the controller can fetch it.
func (m *Model) enrichDetail(ev history.Event) tea.Cmd {
	en, ok := m.c.(Enricher)
	if !ok || m.noEnrich || !enrich.Applies(ev.Type) {
		return nil
	}
	m.detail.setResponse(fetchingLines(m.styles))
	return enrichCmd(m.ctx, en, ev.ID, m.styles, m.loc)
}

func (m *Model) applyEnrich(e enrichMsg) {
	if e.disabled {
		m.noEnrich = true
	}
	if e.eventID == m.detail.eventID {
		m.detail.setResponse(e.lines)
	}
}

// reloadDetail loads the shown event again after it changed, once the load
// under way ends.
func (m *Model) reloadDetail() tea.Cmd {
	h := m.c.History()
	if h == nil {
		return nil
	}
	if m.detail.loading {
		m.detail.stale = true
		return nil
	}
	m.detail.loading = true
	return loadDetailCmd(m.ctx, h, m.detail.eventID, m.styles, m.loc)
}

func (m Model) applyDetail(d detailMsg) (tea.Model, tea.Cmd) {
	if d.eventID != m.detail.eventID {
		return m, nil
	}
	if i, ok := m.list.byID[d.eventID]; ok && m.list.rows[i].ev.State != d.ev.State {
		m.list.rows[i].ev.State = d.ev.State
		m.list.refresh(i)
	}
	m.detail.setContent(d)
	if m.detail.stale && m.focus == focusDetail {
		m.detail.stale = false
		return m, m.reloadDetail()
	}
	return m, nil
}

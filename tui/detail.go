package tui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/history"
)

// detail shows one event in full: headers, body, the app's answer and every
// attempt, and for a response.* event the response it names, in a
// scrollable view.
type detail struct {
	keys   *KeyMap
	styles *Styles
	vp     viewport.Model

	eventID int64
	title   string
	loading bool // a load is running
	stale   bool // the event changed during the load: load again
	width   int

	// Content, shown in this order.
	facts []string // the event's facts
	resp  []string // the Response section, or nil
	rest  []string // headers, body, answer and attempts
}

func newDetail(keys *KeyMap, styles *Styles) detail {
	vp := viewport.New()
	vp.SoftWrap = true
	vp.FillHeight = true
	vp.MouseWheelEnabled = false
	return detail{keys: keys, styles: styles, vp: vp}
}

// Init implements the component contract; the details start nothing.
func (d detail) Init() tea.Cmd { return nil }

// Update scrolls on movement keys.
func (d detail) Update(msg tea.Msg) (detail, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	switch {
	case key.Matches(k, d.keys.Up):
		d.vp.ScrollUp(1)
	case key.Matches(k, d.keys.Down):
		d.vp.ScrollDown(1)
	case key.Matches(k, d.keys.PageUp):
		d.vp.PageUp()
	case key.Matches(k, d.keys.PageDown):
		d.vp.PageDown()
	case key.Matches(k, d.keys.Top):
		d.vp.GotoTop()
	case key.Matches(k, d.keys.Bottom):
		d.vp.GotoBottom()
	}
	return d, nil
}

// SetSize sets the size of the details, title line included.
func (d *detail) SetSize(width, height int) {
	d.width = max(width, 1)
	d.vp.SetWidth(d.width)
	d.vp.SetHeight(max(height-1, 1))
}

// open starts showing event id, titled title, until its content arrives.
func (d *detail) open(id int64, title string) {
	d.eventID, d.title = id, title
	d.loading, d.stale = true, false
	d.facts, d.resp, d.rest = nil, nil, nil
	d.vp.SetContentLines([]string{d.styles.Muted.Render("loading…")})
	d.vp.GotoTop()
}

// setContent shows loaded content, keeping the scroll position when the
// same event is reloaded.
func (d *detail) setContent(m detailMsg) {
	d.loading = false
	d.facts, d.rest = m.facts, m.lines
	d.show()
}

// setResponse sets the Response section; nil removes it.
func (d *detail) setResponse(lines []string) {
	d.resp = lines
	if !d.loading {
		d.show()
	}
}

// show puts the content in the view, keeping the scroll position.
func (d *detail) show() {
	lines := slices.Concat(d.facts, d.rest)
	if d.resp != nil {
		lines = slices.Concat(d.facts, []string{""}, d.resp, d.rest)
	}
	y := d.vp.YOffset()
	d.vp.SetContentLines(lines)
	d.vp.SetYOffset(y)
}

// View renders the title line and the visible part of the details.
func (d detail) View() string {
	pos := ""
	if total := d.vp.TotalLineCount(); total > d.vp.Height() {
		pos = fmt.Sprintf(" %d%%", int(d.vp.ScrollPercent()*100))
	}
	title := truncate(printable(d.title), max(d.width-len(pos), 1))
	line := d.styles.Title.Render(title) + d.styles.Muted.Render(pos)
	return line + "\n" + d.vp.View()
}

// renderDetail renders an event and its attempts, oldest first, as the
// lines of the details: the event's facts, and the rest.
func renderDetail(
	ev history.Event, attempts []history.Attempt, st *Styles, loc *time.Location,
) (facts, rest []string) {
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	var last *history.Attempt
	if n := len(attempts); n > 0 {
		last = &attempts[n-1]
	}
	add("")
	if last != nil && len(last.RequestHeader) > 0 {
		add(st.Section.Render("Request headers") + st.Muted.Render(
			fmt.Sprintf("  as sent in attempt %d%s", last.N, replayNote(last))))
		add(indent(headerLines(last.RequestHeader, st))...)
	} else {
		add(st.Section.Render("Request headers") + st.Muted.Render("  as the relay received them"))
		add(indent(headerLines(ev.Header, st))...)
	}
	add("")
	add(bodySection("Body", ev.Body, st)...)
	if last != nil && last.Edited {
		add("")
		add(bodySection(fmt.Sprintf("Edited body sent in attempt %d", last.N), last.Body, st)...)
	}
	add("")
	add(answerSection(last, st)...)
	add("")
	add(attemptLines(attempts, st, loc)...)
	return eventFacts(ev, st, loc), lines
}

func eventFacts(ev history.Event, st *Styles, loc *time.Location) []string {
	fact := func(name, value string) string {
		return st.Muted.Render(pad(name, 10)) + printable(value)
	}
	lines := []string{
		fact("Event", orDash(ev.EventID)),
		fact("Type", orDash(ev.Type)),
		fact("Webhook", orDash(ev.WebhookID)),
		fact("Received", formatStamp(ev.ReceivedAt, loc)+
			"  recorded "+formatStamp(ev.RecordedAt, loc)),
		fact("Source", ev.Source+"  seq "+strconv.FormatInt(ev.Seq, 10)),
		fact("State", string(ev.State)),
	}
	return lines
}

func replayNote(a *history.Attempt) string {
	switch {
	case a.Edited:
		return ", an edited replay"
	case a.Replay:
		return ", a replay"
	}
	return ""
}

func bodySection(title string, body []byte, st *Styles) []string {
	sum := sha256.Sum256(body)
	lines := []string{
		st.Section.Render(title) + st.Muted.Render("  "+formatBytes(len(body))),
		st.Muted.Render("SHA-256 ") + hex.EncodeToString(sum[:]),
	}
	return append(lines, indent(bodyLines(body, st))...)
}

func answerSection(a *history.Attempt, st *Styles) []string {
	if a == nil {
		return []string{st.Section.Render("Answer"), st.Muted.Render("no delivery yet")}
	}
	out, kind := attemptOutcome(a)
	style := st.Failed
	if kind == outcomeOK {
		style = st.OK
	}
	head := st.Section.Render("Answer") + "  " + style.Render(out) +
		st.Muted.Render(fmt.Sprintf("  %s  attempt %d → %s",
			formatLatency(a.Latency), a.N, printable(a.Target)))
	lines := []string{head}
	if a.Error != "" {
		lines = append(lines, "  "+st.Failed.Render(printable(a.Error)))
	}
	if a.Status == 0 {
		return lines
	}
	lines = append(lines, indent(headerLines(a.ResponseHeader, st))...)
	lines = append(lines, "")
	return append(lines, indent(bodyLines(a.ResponseBody, st))...)
}

func attemptLines(attempts []history.Attempt, st *Styles, loc *time.Location) []string {
	lines := []string{st.Section.Render("Attempts")}
	if len(attempts) == 0 {
		return append(lines, st.Muted.Render("none yet"))
	}
	for i := range attempts {
		a := &attempts[i]
		kind := "first "
		switch {
		case a.Edited:
			kind = "edited"
		case a.Replay:
			kind = "replay"
		}
		out, ok := attemptOutcome(a)
		style := st.Failed
		if ok == outcomeOK {
			style = st.OK
		}
		line := fmt.Sprintf("#%-2d %s  %s  ", a.N, formatStamp(a.StartedAt, loc), kind) +
			style.Render(pad(out, 9)) + " " + padLeft(formatLatency(a.Latency), latencyWidth)
		if a.Error != "" {
			line += "  " + st.Muted.Render(printable(a.Error))
		}
		lines = append(lines, "  "+line)
	}
	return lines
}

// indent indents the lines of a section by two spaces.
func indent(lines []string) []string {
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return lines
}

// headerLines renders headers sorted by name, secrets redacted and
// signatures shortened.
func headerLines(h http.Header, st *Styles) []string {
	if len(h) == 0 {
		return []string{st.Muted.Render("(none)")}
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var lines []string
	for _, name := range names {
		for _, v := range h[name] {
			value, redacted := headerValue(name, v)
			if redacted {
				value = st.Redacted.Render(value)
			}
			lines = append(lines, st.HeaderKey.Render(printable(name)+":")+" "+value)
		}
	}
	return lines
}

// headerValue returns the value of a header as the details show it: a
// credential redacted, a signature shortened, anything else as is. It
// reports whether the value was hidden.
func headerValue(name, v string) (string, bool) {
	n := strings.ToLower(name)
	switch {
	case n == "authorization", n == "proxy-authorization", n == "cookie", n == "set-cookie",
		strings.Contains(n, "token"), strings.Contains(n, "secret"),
		strings.Contains(n, "password"), strings.Contains(n, "api-key"):
		return "[redacted]", true
	case strings.Contains(n, "signature"):
		return shortenSignatures(printable(v)), false
	}
	return printable(v), false
}

// shortenSignatures keeps the version and the first characters of each
// space-separated signature: enough to tell two apart, too few to matter.
func shortenSignatures(v string) string {
	const keep = 8
	parts := strings.Fields(v)
	for i, p := range parts {
		prefix, sig := "", p
		if j := strings.IndexByte(p, ','); j >= 0 {
			prefix, sig = p[:j+1], p[j+1:]
		}
		if len(sig) > keep {
			parts[i] = prefix + sig[:keep] + "…"
		}
	}
	return strings.Join(parts, " ")
}

func formatStamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05.000")
}

func formatBytes(n int) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 10<<10:
		return strconv.Itoa(n) + " bytes"
	case n < 10<<20:
		return strconv.Itoa(n>>10) + " KiB (" + strconv.Itoa(n) + " bytes)"
	}
	return strconv.Itoa(n>>20) + " MiB (" + strconv.Itoa(n) + " bytes)"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

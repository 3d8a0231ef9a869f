package tui

import (
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hookrelay/hookrelay/internal/agent"
	"github.com/hookrelay/hookrelay/internal/history"
)

// Column widths of the event list; the type and id columns share the rest.
const (
	cursorWidth  = 1 // › on the selected row, for screens without reverse video
	markWidth    = 1 // ✗ on a failed delivery
	timeWidth    = 8 // 15:04:05, or Jan 02 for an older day
	outcomeWidth = 11
	latencyWidth = 6
	flagsWidth   = 2 // replay or edit marker, pin marker
	maxTypeWidth = 28
	maxIDWidth   = 40
	// fixedWidth is the columns' width and the gaps between them, without
	// the type and id.
	fixedWidth = cursorWidth + markWidth + timeWidth + outcomeWidth + latencyWidth +
		flagsWidth + 6
)

// eventList is the list of events, newest at the bottom. It renders only the
// rows on screen and filters incrementally, so that it stays fast with
// hundreds of thousands of events.
type eventList struct {
	keys   *KeyMap
	styles *Styles
	now    func() time.Time

	// Rows, ordered by history ID, and the text the filter searches.
	rows     []row
	hay      haystack
	byID     map[int64]int  // history ID to index in rows
	families map[string]int // rows per family

	// What is shown: matches holds the indexes of the rows that pass filter.
	filter  filter
	matches []int
	cursor  int  // index in matches of the selected row
	offset  int  // index in matches of the top visible row
	follow  bool // keep the newest row selected as events arrive
	pinned  int64

	width, height  int // height includes the column titles
	typeCol, idCol int
	loading        bool // the history is being loaded
	// lean drops the events' headers, which the details read from the
	// history, so that a long history fits in memory.
	lean bool
}

func newEventList(keys *KeyMap, styles *Styles, now func() time.Time) eventList {
	return eventList{
		keys:     keys,
		styles:   styles,
		now:      now,
		byID:     make(map[int64]int),
		families: make(map[string]int),
		follow:   true,
	}
}

// Init implements the component contract; the list starts nothing.
func (l eventList) Init() tea.Cmd { return nil }

// Update moves the selection on movement keys.
func (l eventList) Update(msg tea.Msg) (eventList, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return l, nil
	}
	page := l.pageSize()
	switch {
	case key.Matches(k, l.keys.Up):
		l.moveTo(l.cursor - 1)
	case key.Matches(k, l.keys.Down):
		l.moveTo(l.cursor + 1)
	case key.Matches(k, l.keys.PageUp):
		l.moveTo(l.cursor - page)
	case key.Matches(k, l.keys.PageDown):
		l.moveTo(l.cursor + page)
	case key.Matches(k, l.keys.Top):
		l.moveTo(0)
	case key.Matches(k, l.keys.Bottom):
		l.moveTo(len(l.matches) - 1)
	}
	return l, nil
}

// SetSize sets the list's size, column titles included, and reflows the
// columns.
func (l *eventList) SetSize(width, height int) {
	l.width, l.height = max(width, 1), max(height, 1)
	avail := max(l.width-fixedWidth, 8)
	l.typeCol = min(maxTypeWidth, max(avail-19, avail/2))
	l.idCol = min(maxIDWidth, avail-l.typeCol)
	l.scrollToCursor()
}

func (l *eventList) pageSize() int {
	return max(l.height-1, 1)
}

// moveTo selects the match at index i, clamped, and follows live events
// when it is the newest.
func (l *eventList) moveTo(i int) {
	if len(l.matches) == 0 {
		l.cursor, l.offset, l.follow = 0, 0, true
		return
	}
	l.cursor = min(max(i, 0), len(l.matches)-1)
	l.follow = l.cursor == len(l.matches)-1
	l.scrollToCursor()
}

// scrollToCursor moves the visible window as little as needed to show the
// cursor.
func (l *eventList) scrollToCursor() {
	page := l.pageSize()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+page {
		l.offset = l.cursor - page + 1
	}
	l.offset = max(0, min(l.offset, len(l.matches)-page))
}

// selected returns the selected row, if any.
func (l *eventList) selected() (*row, bool) {
	if len(l.matches) == 0 {
		return nil, false
	}
	return &l.rows[l.matches[l.cursor]], true
}

// row returns the row of the event with history ID id.
func (l *eventList) row(id int64) (*row, bool) {
	i, ok := l.byID[id]
	if !ok {
		return nil, false
	}
	return &l.rows[i], true
}

// add shows a newly recorded event. An event already listed keeps its
// attempts and takes the new state: the agent republishes an event when its
// delivery settles.
func (l *eventList) add(ev history.Event) {
	if i, ok := l.byID[ev.ID]; ok {
		l.rows[i].ev.State = ev.State
		l.refresh(i)
		return
	}
	if n := len(l.rows); n > 0 && l.rows[n-1].ev.ID > ev.ID {
		l.insert(l.newRow(ev))
		return
	}
	l.rows = append(l.rows, l.newRow(ev))
	i := len(l.rows) - 1
	l.hay.add(&l.rows[i].ev)
	l.byID[ev.ID] = i
	l.families[l.rows[i].family]++
	if l.filter.match(l.rows, &l.hay, i) {
		l.matches = append(l.matches, i)
		l.keepFollowing()
	}
}

// newRow returns the row of ev, lean when the list is.
func (l *eventList) newRow(ev history.Event) row {
	if l.lean {
		ev.Header = nil
	}
	return newRow(ev)
}

// insert places a row that arrived out of order; it rebuilds the index, so
// it is the slow path.
func (l *eventList) insert(r row) {
	at := sort.Search(len(l.rows), func(i int) bool { return l.rows[i].ev.ID > r.ev.ID })
	sel := l.selectedID()
	l.rows = slices.Insert(l.rows, at, r)
	l.families[r.family]++
	l.reindex(sel)
}

// merge adds the events of earlier runs, loaded from the history, to the
// rows that arrived live meanwhile; last holds their newest attempts.
func (l *eventList) merge(events []history.Event, last map[int64]history.Attempt) {
	rows := make([]row, 0, len(events)+len(l.rows))
	for _, ev := range events {
		if _, live := l.byID[ev.ID]; live {
			continue
		}
		r := l.newRow(ev)
		if a, ok := last[ev.ID]; ok {
			r.last, r.hasLast = listAttempt(a), true
		}
		rows = append(rows, r)
		l.families[r.family]++
	}
	rows = append(rows, l.rows...)
	slices.SortStableFunc(rows, func(a, b row) int { return compareIDs(a.ev.ID, b.ev.ID) })
	sel := l.selectedID()
	l.rows = rows
	l.reindex(sel)
}

func compareIDs(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// reindex rebuilds the ID index, the search text and the matches after rows
// moved, keeping the event sel selected.
func (l *eventList) reindex(sel int64) {
	l.hay.rebuild(l.rows)
	clear(l.byID)
	for i := range l.rows {
		l.byID[l.rows[i].ev.ID] = i
	}
	l.refilter(l.filter, false, sel)
}

// selectedID returns the history ID of the selected event, or 0.
func (l *eventList) selectedID() int64 {
	if r, ok := l.selected(); ok {
		return r.ev.ID
	}
	return 0
}

// setAttempt records a finished attempt of a listed event.
func (l *eventList) setAttempt(a history.Attempt) bool {
	i, ok := l.byID[a.EventID]
	if ok {
		l.rows[i].setAttempt(a)
		l.refresh(i)
	}
	return ok
}

// setInflight marks the attempt that is starting on a listed event.
func (l *eventList) setInflight(p agent.PendingDelivery) bool {
	i, ok := l.byID[p.EventID]
	if ok {
		l.rows[i].inflight, l.rows[i].inflightReplay = p.N, p.Replay
	}
	return ok
}

// refresh adds row i to the matches or removes it after it changed, keeping
// the selected row selected.
func (l *eventList) refresh(i int) {
	at, in := slices.BinarySearch(l.matches, i)
	want := l.filter.match(l.rows, &l.hay, i)
	switch {
	case want && !in:
		l.matches = slices.Insert(l.matches, at, i)
		if at <= l.cursor && len(l.matches) > 1 && !l.follow {
			l.cursor++
			l.offset++
		}
		l.keepFollowing()
	case !want && in:
		l.matches = slices.Delete(l.matches, at, at+1)
		if at < l.cursor || l.cursor == len(l.matches) {
			l.cursor = max(l.cursor-1, 0)
		}
		l.keepFollowing()
	}
}

// keepFollowing selects the newest match while the list follows live events.
func (l *eventList) keepFollowing() {
	if l.follow {
		l.cursor = max(len(l.matches)-1, 0)
	}
	l.scrollToCursor()
}

// setFilter shows only the rows that pass f. A filter that narrows the
// current one re-checks only the current matches.
func (l *eventList) setFilter(f filter) {
	l.refilter(f, f.narrows(l.filter), l.selectedID())
}

// refilter recomputes the matches of f, re-checking only the current ones
// when incremental, and selects the event sel, or the nearest newer match.
func (l *eventList) refilter(f filter, incremental bool, sel int64) {
	l.matches = f.matches(l.rows, &l.hay, l.matches, incremental)
	l.filter = f
	i, ok := l.byID[sel]
	if l.follow || !ok {
		l.moveTo(len(l.matches) - 1)
		return
	}
	at, _ := slices.BinarySearch(l.matches, i)
	l.moveTo(min(at, len(l.matches)-1))
	l.follow = false
}

// nextFamily returns the family after f in the cycle of t: the known
// families, then the others present, then "" for every family.
func (l *eventList) nextFamily(f string) string {
	cycle := make([]string, 0, len(l.families))
	for _, k := range knownFamilies {
		if l.families[k] > 0 {
			cycle = append(cycle, k)
		}
	}
	var others []string
	for k, n := range l.families {
		if n > 0 && !slices.Contains(knownFamilies, k) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	cycle = append(cycle, others...)
	i := slices.Index(cycle, f)
	if i+1 >= len(cycle) {
		return ""
	}
	return cycle[i+1]
}

// View renders the column titles and the visible rows, padded to the list's
// height.
func (l eventList) View() string {
	var b strings.Builder
	b.WriteString(l.styles.ColumnTitle.Render(l.titleLine()))
	shown := 1
	end := min(l.offset+l.pageSize(), len(l.matches))
	for i := l.offset; i < end; i++ {
		b.WriteByte('\n')
		b.WriteString(l.renderRow(&l.rows[l.matches[i]], i == l.cursor))
		shown++
	}
	if len(l.matches) == 0 && shown < l.height {
		b.WriteString("\n\n  ")
		b.WriteString(l.styles.Muted.Render(l.emptyMessage()))
		shown += 2
	}
	for ; shown < l.height; shown++ {
		b.WriteByte('\n')
	}
	return b.String()
}

func (l *eventList) emptyMessage() string {
	switch {
	case l.loading:
		return "loading the history…"
	case len(l.rows) > 0:
		return "no event matches the filter (esc clears it)"
	}
	return "no events yet: waiting for webhooks"
}

func (l *eventList) titleLine() string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", cursorWidth+markWidth+1))
	writeCell(&b, "TIME", timeWidth)
	writeCell(&b, "TYPE", l.typeCol)
	writeCell(&b, "EVENT ID", l.idCol)
	writeCell(&b, "OUTCOME", outcomeWidth)
	b.WriteString(padLeft("LATENCY", latencyWidth+1))
	return cut(b.String(), l.width)
}

// rowCells holds the texts of a row's cells, already fitted to their
// columns.
type rowCells struct {
	mark, time, typ, id, outcome, latency, flags string
	kind                                         outcomeKind
}

func (l *eventList) cells(r *row) rowCells {
	out, kind := r.outcome()
	c := rowCells{
		mark:    " ",
		time:    l.formatTime(r.receivedAt()),
		typ:     pad(truncate(printable(r.ev.Type), l.typeCol), l.typeCol),
		id:      pad(truncateMiddle(printable(r.displayID()), l.idCol), l.idCol),
		outcome: pad(truncate(out, outcomeWidth), outcomeWidth),
		latency: padLeft(r.latency(), latencyWidth),
		kind:    kind,
	}
	if r.failed() || kind == outcomeBad {
		c.mark = "✗"
	}
	c.flags = pad(r.replayMark(), 1)
	if r.ev.ID == l.pinned {
		c.flags += "⚑"
	}
	c.flags = pad(c.flags, flagsWidth)
	return c
}

func (l *eventList) formatTime(t time.Time) string {
	if t.IsZero() {
		return pad("", timeWidth)
	}
	t = t.In(l.now().Location())
	y, m, d := t.Date()
	ny, nm, nd := l.now().Date()
	if y == ny && m == nm && d == nd {
		return t.Format("15:04:05")
	}
	return pad(t.Format("Jan 02"), timeWidth)
}

// renderRow draws one row. The selected row is drawn in reverse video
// without its colours, which a reversed row would garble.
func (l *eventList) renderRow(r *row, selected bool) string {
	c := l.cells(r)
	cursor := " "
	if selected {
		cursor = "›"
	}
	if selected || l.width < fixedWidth+8 {
		line := cut(cursor+c.plain(), l.width)
		if !selected {
			return line
		}
		return l.styles.Selected.Render(pad(line, l.width))
	}
	st := l.styles
	outcome := st.Pending
	switch c.kind {
	case outcomeOK:
		outcome = st.OK
	case outcomeBad:
		outcome = st.Failed
	}
	parts := []string{
		cursor + st.Failed.Render(c.mark),
		st.Time.Render(c.time),
		st.familyStyle(r.family).Render(c.typ),
		st.ID.Render(c.id),
		outcome.Render(c.outcome),
		st.Latency.Render(c.latency),
		st.Marker.Render(c.flags),
	}
	return strings.Join(parts, " ")
}

func (c *rowCells) plain() string {
	return strings.Join([]string{c.mark, c.time, c.typ, c.id, c.outcome, c.latency, c.flags}, " ")
}

package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// handleKey routes a key to the part of the screen that has the keys.
func (m Model) handleKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.footer.typing {
		return m.handleFilterInput(k)
	}
	if key.Matches(k, m.keys.Quit) {
		return m, tea.Quit
	}
	m.footer.setStatus("", levelInfo)
	switch m.focus {
	case focusHelp:
		if key.Matches(k, m.keys.Help, m.keys.Back) {
			m.focus = m.back
		}
		return m, nil
	case focusDetail:
		return m.handleDetailKey(k)
	}
	return m.handleListKey(k)
}

func (m Model) handleListKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Up, m.keys.Down, m.keys.Top, m.keys.Bottom,
		m.keys.PageUp, m.keys.PageDown):
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(k)
		return m, cmd
	case key.Matches(k, m.keys.Details):
		if r, ok := m.list.selected(); ok {
			return m, m.openDetail(r)
		}
		return m, nil
	case key.Matches(k, m.keys.Filter):
		return m, m.footer.startTyping()
	case key.Matches(k, m.keys.Family):
		m.cycleFamily()
		return m, nil
	case key.Matches(k, m.keys.Failed):
		f := m.list.filter
		f.failedOnly = !f.failedOnly
		m.list.setFilter(f)
		return m, nil
	case key.Matches(k, m.keys.Back):
		m.clearFilters()
		return m, nil
	}
	return m.handleAction(k)
}

func (m Model) handleDetailKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Back):
		m.focus = focusList
		return m, nil
	case key.Matches(k, m.keys.Up, m.keys.Down, m.keys.Top, m.keys.Bottom,
		m.keys.PageUp, m.keys.PageDown):
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(k)
		return m, cmd
	}
	return m.handleAction(k)
}

// handleAction runs the keys that work both on the list and in details.
func (m Model) handleAction(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Help):
		m.back, m.focus = m.focus, focusHelp
		return m, nil
	case key.Matches(k, m.keys.Pause):
		return m, m.togglePause()
	case key.Matches(k, m.keys.Step):
		return m, m.step()
	}
	r, ok := m.target()
	if !ok {
		if key.Matches(k, m.keys.Resend, m.keys.Edit, m.keys.CopyID, m.keys.CopyCurl, m.keys.Pin) {
			m.footer.setStatus("no event selected", levelWarn)
		}
		return m, nil
	}
	label := r.displayID()
	switch {
	case key.Matches(k, m.keys.Resend):
		return m, resendCmd(m.ctx, m.c, r.ev.ID, nil, label)
	case key.Matches(k, m.keys.Edit):
		body := r.ev.Body
		if r.hasLast && r.last.Edited {
			body = r.last.Body // carry on from the last edit
		}
		return m, editPrepareCmd(r.ev.ID, label, body)
	case key.Matches(k, m.keys.CopyID):
		m.footer.setStatus("copied "+label+" to the clipboard", levelInfo)
		return m, tea.SetClipboard(label)
	case key.Matches(k, m.keys.CopyCurl):
		return m, curlCmd(m.ctx, m.c, r.ev.ID, label)
	case key.Matches(k, m.keys.Pin):
		return m, m.togglePin(r)
	}
	return m, nil
}

// handleFilterInput edits the filter being typed, filtering as it changes.
func (m Model) handleFilterInput(msg tea.Msg) (tea.Model, tea.Cmd) {
	if !m.footer.typing {
		return m, nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, m.keys.ForceQuit):
			return m, tea.Quit
		case key.Matches(k, m.keys.KeepFilter):
			m.footer.stopTyping(false)
			return m, nil
		case key.Matches(k, m.keys.ClearFilter):
			m.footer.stopTyping(true)
			m.applyTextFilter()
			return m, nil
		}
	}
	var cmd tea.Cmd
	m.footer, cmd = m.footer.Update(msg)
	m.applyTextFilter()
	return m, cmd
}

func (m *Model) applyTextFilter() {
	f := m.list.filter
	f.text = strings.ToLower(strings.ReplaceAll(m.footer.input.Value(), "\x00", ""))
	if f != m.list.filter {
		m.list.setFilter(f)
	}
}

func (m *Model) clearFilters() {
	m.footer.input.SetValue("")
	m.list.setFilter(filter{})
}

func (m *Model) cycleFamily() {
	f := m.list.filter
	f.family = m.list.nextFamily(f.family)
	m.list.setFilter(f)
	if f.family == "" {
		m.footer.setStatus("showing every family", levelInfo)
		return
	}
	m.footer.setStatus("showing family "+f.family+" (t for the next)", levelInfo)
}

func (m *Model) togglePause() tea.Cmd {
	paused := !m.header.paused
	m.header.paused = paused
	if paused {
		m.footer.setStatus("paused: events queue as pending; n delivers the next", levelInfo)
	} else {
		m.footer.setStatus("resumed: delivering the queued events in order", levelInfo)
	}
	return pauseCmd(m.c, paused)
}

func (m *Model) step() tea.Cmd {
	if !m.header.paused {
		m.footer.setStatus("n delivers one event while paused; p pauses", levelWarn)
		return nil
	}
	return stepCmd(m.c)
}

func (m *Model) togglePin(r *row) tea.Cmd {
	if m.list.pinned == r.ev.ID {
		m.list.pinned, m.header.pinned = 0, ""
		m.footer.setStatus("unpinned "+r.displayID(), levelInfo)
		return pinCmd(m.c, 0)
	}
	m.list.pinned, m.header.pinned = r.ev.ID, r.displayID()
	m.footer.setStatus("pinned "+r.displayID()+": it is re-sent when your code is saved", levelInfo)
	return pinCmd(m.c, r.ev.ID)
}

package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// footerHeight is the footer's number of lines: the status line and the
// key help.
const footerHeight = 2

// statusLevel says how a status message is drawn.
type statusLevel int

const (
	levelInfo statusLevel = iota
	levelWarn
	levelError
)

// footer shows the filter being typed or the latest message, a summary of
// what the list shows, and the key help. It also renders the full help.
type footer struct {
	keys   *KeyMap
	styles *Styles
	help   help.Model
	input  textinput.Model

	typing   bool // the filter input has the keys
	status   string
	level    statusLevel
	summary  string        // set by the model before View
	bindings []key.Binding // set by the model before View
	width    int
}

func newFooter(keys *KeyMap, styles *Styles) footer {
	h := help.New()
	h.Styles = styles.Help
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "type, id or body text"
	in.SetStyles(styles.Input)
	in.KeyMap.Paste.SetEnabled(false) // a terminal paste arrives as tea.PasteMsg
	return footer{keys: keys, styles: styles, help: h, input: in}
}

// Init implements the component contract; the footer starts nothing.
func (f footer) Init() tea.Cmd { return nil }

// Update edits the filter while it is typed.
func (f footer) Update(msg tea.Msg) (footer, tea.Cmd) {
	if !f.typing {
		return f, nil
	}
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	return f, cmd
}

// SetSize sets the footer's width; its height is fixed.
func (f *footer) SetSize(width, _ int) {
	f.width = max(width, 1)
	f.help.SetWidth(f.width)
	f.input.SetWidth(max(f.width/2, 10))
}

// startTyping focuses the filter input, keeping any text kept before.
func (f *footer) startTyping() tea.Cmd {
	f.typing = true
	f.input.CursorEnd()
	return f.input.Focus()
}

// stopTyping blurs the filter input; clear also empties it.
func (f *footer) stopTyping(clear bool) {
	f.typing = false
	f.input.Blur()
	if clear {
		f.input.SetValue("")
	}
}

func (f *footer) setStatus(s string, l statusLevel) {
	f.status, f.level = s, l
}

// View renders the status line and the key help.
func (f footer) View() string {
	st := f.styles
	fit := st.Line.MaxWidth(f.width)
	var first string
	switch {
	case f.typing:
		first = f.input.View() + "  " + st.Muted.Render(f.summary)
	case f.status != "":
		style := st.Status
		switch f.level {
		case levelWarn:
			style = st.Warn
		case levelError:
			style = st.Error
		}
		first = style.Render(printable(f.status))
	default:
		first = st.Muted.Render(f.summary)
	}
	return fit.Render(first) + "\n" + fit.Render(f.help.ShortHelpView(f.bindings))
}

// fullHelp renders the ? screen: every key with its action in words, what
// the less obvious ones do, and where the logs and the history are.
func (f footer) fullHelp(width, height int, logPath, historyPath string) string {
	st := f.styles
	var blocks []string
	blocks = append(blocks, st.Title.Render("Keys"), "")
	blocks = append(blocks, f.helpColumns(width)...)
	blocks = append(blocks, "")
	for _, l := range helpNotes {
		blocks = append(blocks, st.Muted.Render(l))
	}
	blocks = append(blocks, "")
	if logPath != "" {
		blocks = append(blocks, st.Muted.Render("Logs:    ")+printable(logPath))
	}
	if historyPath != "" {
		blocks = append(blocks, st.Muted.Render("History: ")+printable(historyPath))
	}
	blocks = append(blocks, "", st.Muted.Render("? or esc closes this help"))
	lines := strings.Split(strings.Join(blocks, "\n"), "\n")
	fit := st.Line.MaxWidth(width)
	for i, l := range lines {
		lines[i] = fit.Render(l)
	}
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// helpColumns lays the full help's groups out in columns, as many side by
// side as the width allows.
func (f footer) helpColumns(width int) []string {
	var rows []string
	var line []string
	used := 0
	sep := f.styles.Help.FullSeparator.Render(f.help.FullSeparator)
	for _, g := range f.keys.FullHelp() {
		col := f.help.FullHelpView([][]key.Binding{g})
		w := lipgloss.Width(col)
		if len(line) > 0 && used+lipgloss.Width(sep)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...), "")
			line, used = nil, 0
		}
		if len(line) > 0 {
			line = append(line, sep)
			used += lipgloss.Width(sep)
		}
		line = append(line, col)
		used += w
	}
	if len(line) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...))
	}
	return rows
}

// helpNotes explain the keys whose name says too little.
var helpNotes = []string{
	"filter: matches type, event id and body text; enter keeps it, esc clears it",
	"family: cycles response, batch, fine_tuning, eval, realtime and the others",
	"resend: delivers the event again, re-signed, marked as a replay",
	"edit & send: opens the body in $EDITOR and sends what you save",
	"pause: events queue as pending; step delivers the next one; p again resumes",
	"copy id, copy curl: to the clipboard through the terminal (OSC 52)",
	"pin: the pinned event is re-sent each time your app's code is saved",
}

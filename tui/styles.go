package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// ANSI colours: the terminal's own palette, so the screen suits light and
// dark themes alike.
const (
	colRed     = "1"
	colGreen   = "2"
	colYellow  = "3"
	colBlue    = "4"
	colMagenta = "5"
	colCyan    = "6"
	colGrey    = "8"
)

// Styles holds every style the screen uses. Without colour, emphasis falls
// back to bold, faint and reverse video, and failures keep their ✗ marker.
type Styles struct {
	// Line fits a line to the screen's width (with MaxWidth).
	Line lipgloss.Style

	// Header.
	App       lipgloss.Style // the product name
	Muted     lipgloss.Style // labels and secondary text
	ConnOK    lipgloss.Style // connected
	ConnWarn  lipgloss.Style // connecting, reconnecting
	ConnBad   lipgloss.Style // refused, stopped
	PausedTag lipgloss.Style // the PAUSED marker

	// Event list.
	ColumnTitle lipgloss.Style
	Selected    lipgloss.Style // the selected row, drawn without its colours
	Time        lipgloss.Style
	Family      map[string]lipgloss.Style // event type by family
	OtherFamily lipgloss.Style            // a family without a colour of its own
	ID          lipgloss.Style
	OK          lipgloss.Style // a 2xx answer
	Failed      lipgloss.Style // any failed delivery, and its ✗ marker
	Pending     lipgloss.Style // pending and retrying
	Latency     lipgloss.Style
	Marker      lipgloss.Style // replay, edit and pin markers

	// Details.
	Title     lipgloss.Style
	Section   lipgloss.Style
	HeaderKey lipgloss.Style
	Redacted  lipgloss.Style
	JSONKey   lipgloss.Style
	JSONStr   lipgloss.Style
	JSONNum   lipgloss.Style
	JSONLit   lipgloss.Style // true, false and null

	// Footer.
	Status lipgloss.Style
	Error  lipgloss.Style
	Warn   lipgloss.Style
	Help   help.Styles
	Input  textinput.Styles
}

// DefaultStyles returns the screen's styles, without any colour when noColor
// is set (NO_COLOR).
func DefaultStyles(noColor bool) Styles {
	plain := lipgloss.NewStyle()
	fg := func(s lipgloss.Style, c string) lipgloss.Style {
		if noColor {
			return s
		}
		return s.Foreground(lipgloss.Color(c))
	}
	faint := plain.Faint(true)
	s := Styles{
		Line:        plain,
		App:         plain.Bold(true),
		Muted:       faint,
		ConnOK:      fg(plain, colGreen),
		ConnWarn:    fg(plain.Bold(true), colYellow),
		ConnBad:     fg(plain.Bold(true), colRed),
		PausedTag:   fg(plain.Bold(true).Reverse(true), colYellow),
		ColumnTitle: plain.Bold(true),
		Selected:    plain.Reverse(true),
		Time:        faint,
		OtherFamily: plain,
		ID:          plain,
		OK:          fg(plain, colGreen),
		Failed:      fg(plain.Bold(true), colRed),
		Pending:     fg(plain, colYellow),
		Latency:     faint,
		Marker:      fg(plain, colCyan),
		Title:       plain.Bold(true),
		Section:     fg(plain.Bold(true).Underline(true), colBlue),
		HeaderKey:   fg(plain, colCyan),
		Redacted:    faint,
		JSONKey:     fg(plain, colBlue),
		JSONStr:     fg(plain, colGreen),
		JSONNum:     fg(plain, colMagenta),
		JSONLit:     fg(plain, colYellow),
		Status:      plain,
		Error:       fg(plain.Bold(true), colRed),
		Warn:        fg(plain, colYellow),
	}
	s.Family = map[string]lipgloss.Style{
		"response":    fg(plain, colBlue),
		"batch":       fg(plain, colMagenta),
		"fine_tuning": fg(plain, colCyan),
		"eval":        fg(plain, colYellow),
		"realtime":    fg(plain, colGreen),
	}
	s.Help = helpStyles(fg, plain)
	s.Input = inputStyles(noColor, fg, plain)
	return s
}

func helpStyles(fg func(lipgloss.Style, string) lipgloss.Style, plain lipgloss.Style) help.Styles {
	key := fg(plain.Bold(true), colCyan)
	desc := plain
	sep := fg(plain.Faint(true), colGrey)
	return help.Styles{
		Ellipsis:       sep,
		ShortKey:       key,
		ShortDesc:      desc,
		ShortSeparator: sep,
		FullKey:        key,
		FullDesc:       desc,
		FullSeparator:  sep,
	}
}

func inputStyles(
	noColor bool,
	fg func(lipgloss.Style, string) lipgloss.Style,
	plain lipgloss.Style,
) textinput.Styles {
	state := textinput.StyleState{
		Text:        plain,
		Placeholder: plain.Faint(true),
		Suggestion:  plain.Faint(true),
		Prompt:      fg(plain.Bold(true), colCyan),
	}
	s := textinput.Styles{Focused: state, Blurred: state}
	s.Cursor.Blink = false
	if !noColor {
		s.Cursor.Color = lipgloss.Color("7")
	}
	return s
}

// familyStyle returns the style of an event type of family f.
func (s *Styles) familyStyle(f string) lipgloss.Style {
	if st, ok := s.Family[f]; ok {
		return st
	}
	return s.OtherFamily
}

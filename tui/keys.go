package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the screen. The help footer and the ?
// screen are generated from the same bindings that Update matches.
type KeyMap struct {
	// Moving.
	Up       key.Binding
	Down     key.Binding
	Top      key.Binding
	Bottom   key.Binding
	PageUp   key.Binding
	PageDown key.Binding

	// Viewing.
	Details key.Binding
	Back    key.Binding
	Filter  key.Binding
	Family  key.Binding
	Failed  key.Binding

	// While typing a filter.
	KeepFilter  key.Binding
	ClearFilter key.Binding

	// Acting on the selected event.
	Resend   key.Binding
	Edit     key.Binding
	Pause    key.Binding
	Step     key.Binding
	CopyID   key.Binding
	CopyCurl key.Binding
	Pin      key.Binding

	// The program.
	Help key.Binding
	Quit key.Binding
	// ForceQuit quits even while a filter is typed, where q is a letter.
	ForceQuit key.Binding
}

// DefaultKeyMap returns the bindings the issue and the README document.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       bind("up", "↑/k", "up", "k"),
		Down:     bind("down", "↓/j", "down", "j"),
		Top:      bind("oldest", "g/home", "g", "home"),
		Bottom:   bind("newest, follow", "G/end", "G", "end"),
		PageUp:   bind("page up", "pgup", "pgup"),
		PageDown: bind("page down", "pgdn", "pgdown"),

		Details: bind("details", "enter", "enter"),
		Back:    bind("back", "esc", "esc"),
		Filter:  bind("filter", "/", "/"),
		Family:  bind("family", "t", "t"),
		Failed:  bind("failed only", "f", "f"),

		KeepFilter:  bind("keep filter", "enter", "enter"),
		ClearFilter: bind("clear filter", "esc", "esc"),

		Resend:   bind("resend", "r", "r"),
		Edit:     bind("edit & send", "e", "e"),
		Pause:    bind("pause", "p", "p"),
		Step:     bind("step", "n", "n"),
		CopyID:   bind("copy id", "y", "y"),
		CopyCurl: bind("copy curl", "x", "x"),
		Pin:      bind("pin", "w", "w"),

		Help: bind("help", "?", "?"),
		Quit: bind("quit", "q", "q", "ctrl+c"),

		ForceQuit: bind("quit", "ctrl+c", "ctrl+c"),
	}
}

func bind(desc, helpKey string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// ShortHelp returns the bindings of the footer on the event list; it
// implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Filter, k.Details, k.Resend, k.Edit, k.Pause, k.Help, k.Quit}
}

// FullHelp returns every binding, grouped by purpose; it implements
// help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Details, k.Back, k.Filter, k.Family, k.Failed},
		{k.Resend, k.Edit, k.Pause, k.Step, k.Pin},
		{k.CopyID, k.CopyCurl, k.Help, k.Quit},
	}
}

// detailHelp returns the footer bindings while details are shown.
func (k KeyMap) detailHelp() []key.Binding {
	return []key.Binding{k.Back, k.Down, k.Resend, k.Edit, k.CopyCurl, k.Help, k.Quit}
}

// filterHelp returns the footer bindings while a filter is typed.
func (k KeyMap) filterHelp() []key.Binding {
	return []key.Binding{k.KeepFilter, k.ClearFilter}
}

// pausedHelp returns the footer bindings on the list while paused.
func (k KeyMap) pausedHelp() []key.Binding {
	return []key.Binding{k.Step, k.Pause, k.Filter, k.Details, k.Resend, k.Help, k.Quit}
}

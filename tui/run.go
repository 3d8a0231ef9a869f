package tui

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
)

// Run shows the screen for c on the terminal, full screen, until the user
// quits or ctx ends, and restores the terminal before it returns. Quitting
// and the end of ctx are not errors.
func Run(ctx context.Context, c Controller, opts Options) error {
	m := New(c, opts)
	defer m.Close()
	m.ctx = ctx
	return run(ctx, m)
}

// run runs m in a Bubble Tea program; tests pass their own input and output.
func run(ctx context.Context, m Model, extra ...tea.ProgramOption) error {
	opts := append([]tea.ProgramOption{tea.WithContext(ctx)}, extra...)
	_, err := tea.NewProgram(m, opts...).Run()
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("run terminal screen: %w", err)
}

// Package cli holds what both command-line programs share: flags that fall
// back to environment variables, usage errors that exit with code 2, and the
// mapping of errors to exit codes. Only the main packages use it.
package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes, stable so that systemd or a container restarts sensibly.
const (
	ExitOK      = 0 // stopped by the user
	ExitFailure = 1 // anything else
	ExitUsage   = 2 // bad usage or configuration: restarting will not help
	ExitRefused = 3 // the relay refused the token
)

// UsageError is a mistake in the command line or configuration.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries an exit code for an error that was already reported.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Code returns the exit code for err.
func Code(err error) int {
	var ue *UsageError
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailure
}

// Env is how a program reads its environment: os.LookupEnv in main, a
// map's lookup in tests.
type Env func(name string) (string, bool)

// FromEnv sets each flag the command line did not set from its variable,
// when that is set. fallbacks maps flag names to variable names.
func FromEnv(flags *pflag.FlagSet, env Env, fallbacks map[string]string) error {
	_, err := FromEnvSet(flags, env, fallbacks)
	return err
}

// FromEnvSet is FromEnv, also returning the names of the flags it set.
func FromEnvSet(
	flags *pflag.FlagSet, env Env, fallbacks map[string]string,
) (map[string]bool, error) {
	set := map[string]bool{}
	for name, variable := range fallbacks {
		f := flags.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		v, ok := env(variable)
		if !ok || v == "" {
			continue
		}
		if err := f.Value.Set(v); err != nil {
			if secretFlags[name] { // the parse error would quote the value
				return nil, Usagef("%s holds an invalid value for --%s", variable, name)
			}
			return nil, Usagef("%s=%q: %v", variable, v, err)
		}
		set[name] = true
	}
	return set, nil
}

// secretFlags hold values that must never be printed.
var secretFlags = map[string]bool{"token": true, "openai-secret": true, "sign-secret": true}

// Quiet makes cobra leave error printing and usage to the caller, and turns
// flag errors into usage errors.
func Quiet(cmd *cobra.Command) {
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return Usagef("%v (see %s --help)", err, c.CommandPath())
	})
}

// Package option is the one home of what the plugin's options, its Kubernetes table and the
// check command's flags share: the error that names a bad option, and the checks more than one
// of them make (ports). It has no dependencies.
package option

import (
	"errors"
	"fmt"
)

// Name is the name of an option as the user writes it, e.g. "timeout", "target[2].address",
// "kubernetes.pod_scrape_scope". A reason that mentions other options passes their names as
// Name arguments, so that a front end with its own names for the same settings (the check
// command's flags) renames them from data instead of rewriting sentences.
type Name string

// Error is an invalid option. Its message starts with the option's name, so that the line
// Telegraf logs points straight at the mistake: `timeout: must be positive, got "0s"`.
type Error struct {
	Option Name
	format string
	args   []any
}

// Errorf returns the error of option, its reason formatted as by fmt.Sprintf. Arguments of
// type Name are option names (see Rename).
func Errorf(option Name, format string, args ...any) *Error {
	return &Error{Option: option, format: format, args: args}
}

// Reason is the message without the option's name.
func (e *Error) Reason() string { return fmt.Sprintf(e.format, e.args...) }

func (e *Error) Error() string { return string(e.Option) + ": " + e.Reason() }

// renamed returns a copy of e with its option and every Name argument passed through rename.
func (e *Error) renamed(rename func(Name) Name) *Error {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		if n, ok := a.(Name); ok {
			a = rename(n)
		}
		args[i] = a
	}
	return &Error{Option: rename(e.Option), format: e.format, args: args}
}

// Rename returns err with every *Error in it (err itself, or the errors an errors.Join holds)
// renamed through rename; other errors are kept as they are. rename returns its argument for
// names it does not change.
func Rename(err error, rename func(Name) Name) error {
	if err == nil {
		return nil
	}
	var errs []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		if oe, ok := e.(*Error); ok {
			out[i] = oe.renamed(rename)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// Port bounds: a TCP port that can be dialled.
const (
	MinPort = 1
	MaxPort = 65535
)

// ValidPort reports whether p is a port that can be dialled (1-65535).
func ValidPort(p int) bool { return p >= MinPort && p <= MaxPort }

// Ports checks the ports of option, naming the first one out of range.
func Ports(option Name, ports []int) error {
	for _, p := range ports {
		if !ValidPort(p) {
			return Errorf(option, "port %d out of range %d-%d", p, MinPort, MaxPort)
		}
	}
	return nil
}

package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"k8s.io/klog/v2"
)

// KlogLogger receives client-go's own log lines.
type KlogLogger interface {
	Warnf(format string, args ...any)
	Debugf(format string, args ...any)
}

// RouteKlog sends the log lines of client-go (which logs through klog, to stderr by default)
// to log: errors as warnings, everything else as debug, each prefixed "kubernetes client: ".
// Without it, a line such as "Warning: watch ended with error" reaches Telegraf's execd
// without a level prefix and is logged as an error. The plugin's own messages about the API
// already cover the faults users must act on.
//
// klog is process-wide: the last call wins. The plugin binary runs one plugin instance.
func RouteKlog(log KlogLogger) {
	klog.SetSlogLogger(slog.New(klogHandler{log: log}))
}

// klogHandler is a slog.Handler writing one line per record, attributes as key=value.
type klogHandler struct {
	log   KlogLogger
	attrs []slog.Attr
}

// Enabled drops klog's verbose levels: V(n) arrives as slog level Info-n.
func (h klogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (h klogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("kubernetes client: ")
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	if r.Level >= slog.LevelError {
		h.log.Warnf("%s", b.String())
	} else {
		h.log.Debugf("%s", b.String())
	}
	return nil
}

func (h klogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return klogHandler{log: h.log, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// WithGroup flattens groups: client-go does not use them for anything a reader needs.
func (h klogHandler) WithGroup(string) slog.Handler { return h }

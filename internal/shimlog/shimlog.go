// Package shimlog makes the log lines of a plugin running under Telegraf's execd shim reach
// Telegraf with their level, and keeps them from piling up in memory.
//
// Two traps in the shim (Telegraf v1.39): it never calls logger.SetupLogging, so Telegraf's
// logger buffers every line, debug ones included, in memory for the life of the process; and
// its text format puts a timestamp first, while execd only recognises a level when the line
// starts with "E! ", "W! ", "I! " or "D! " — so every line would be logged as an error.
// Install fixes both: it redirects the logger to a Writer that strips the timestamp, keeps the
// level prefix on every line of a multi-line message, and drops debug lines unless asked.
package shimlog

import (
	"bytes"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/influxdata/telegraf/logger"
)

// Install sends every Telegraf log line of this process through a Writer to out.
func Install(out io.Writer, debug bool) {
	logger.RedirectLogging(NewWriter(out, debug))
}

// Writer rewrites Telegraf log lines for execd. Lines are written whole, one Write each.
type Writer struct {
	mu    sync.Mutex
	out   io.Writer
	debug bool
}

// NewWriter returns a Writer to out; debug keeps "D! " and "T! " lines, which are otherwise dropped.
func NewWriter(out io.Writer, debug bool) *Writer { return &Writer{out: out, debug: debug} }

var attributes = regexp.MustCompile(`^\(\w+=[^,()]*(,\w+=[^,()]*)*\) `)

var levels = [][]byte{[]byte("E!"), []byte("W!"), []byte("I!"), []byte("D!"), []byte("T!")}

// Write accepts one or more log lines and writes each as "<LEVEL>! message". A line without a
// level is passed on as info; continuation lines of a multi-line message get the level of its
// first line, so execd does not log them as errors.
func (w *Writer) Write(p []byte) (int, error) {
	var out bytes.Buffer
	level := []byte("I!")
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		line = stripTimestamp(line)
		if hasLevel(line) {
			level, line = line[:2], bytes.TrimLeft(line[2:], " ")
			// The redirect sink prints the logger's attributes, empty for the shim's
			// logger and in random order: "(category=,plugin=) message". Drop them.
			line = attributes.ReplaceAll(line, nil)
		}
		if !w.debug && (bytes.Equal(level, []byte("D!")) || bytes.Equal(level, []byte("T!"))) {
			continue
		}
		out.Write(level)
		out.WriteByte(' ')
		out.Write(line)
		out.WriteByte('\n')
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.out.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func hasLevel(line []byte) bool {
	for _, l := range levels {
		if bytes.HasPrefix(line, l) && (len(line) == 2 || line[2] == ' ') {
			return true
		}
	}
	return false
}

// stripTimestamp removes a leading RFC 3339 timestamp and the space after it.
func stripTimestamp(line []byte) []byte {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return line
	}
	if _, err := time.Parse(time.RFC3339, string(line[:sp])); err != nil {
		return line
	}
	return line[sp+1:]
}

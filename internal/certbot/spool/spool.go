// Package spool is the hook's local queue: a line protocol file that every renewal is appended
// to before any network write, and from which lines are removed only after a server (or the
// Telegraf input) has taken them.
//
// Crash semantics: appends are fsynced before the write is attempted; removal rewrites the
// remainder to PATH.tmp, fsyncs it and renames it over PATH (atomic), then fsyncs the
// directory. A crash at any point therefore leaves either the old spool (the delivered lines
// are sent again: a duplicate, harmless because points with equal series and timestamp
// overwrite) or the new one — never a spool missing an undelivered line.
//
// Every access holds an exclusive flock on PATH.lock, so the hook and the Telegraf input on
// the same host never interleave. The lock file is separate from PATH because removal
// replaces PATH's inode.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FileMode is the mode of files the spool creates: group-writable so that the certbot hook
// (root) and Telegraf (group telegraf, in a setgid directory) can share one spool.
const FileMode = 0o660

// DirMode is the mode of a spool directory the spool creates.
const DirMode = 0o770

// RejectedSuffix names the file that keeps lines a server refused as data (HTTP 400/422):
// kept for a human, out of the way of later renewals.
const RejectedSuffix = ".rejected"

// Spool is a spool file. The zero value is not usable; use New.
type Spool struct {
	path string
	// rename replaces the spool; tests swap it to simulate a crash before the rename.
	rename func(oldpath, newpath string) error
	// pollLock is how often Lock retries a held lock.
	pollLock time.Duration
}

// New returns the spool at path. Nothing is created until the first Lock.
func New(path string) *Spool {
	return &Spool{path: path, rename: os.Rename, pollLock: 50 * time.Millisecond}
}

// Path is the spool file's path.
func (s *Spool) Path() string { return s.path }

// ErrBusy is returned by TryLock when another process holds the spool.
var ErrBusy = errors.New("spool is locked by another process")

// Lock takes the spool's lock, waiting until ctx ends.
func (s *Spool) Lock(ctx context.Context) (*Tx, error) {
	for {
		tx, err := s.TryLock()
		if !errors.Is(err, ErrBusy) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("spool %s: waiting for the lock: %w", s.path, ctx.Err())
		case <-time.After(s.pollLock):
		}
	}
}

// TryLock takes the spool's lock or returns ErrBusy at once.
func (s *Spool) TryLock() (*Tx, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), DirMode); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDONLY, FileMode) // flock needs no write access
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("spool %s: %w", s.path, ErrBusy)
		}
		return nil, fmt.Errorf("spool %s: lock: %w", s.path, err)
	}
	return &Tx{s: s, lock: f}, nil
}

// Tx is the spool while its lock is held.
type Tx struct {
	s    *Spool
	lock *os.File
}

// Close releases the lock.
func (t *Tx) Close() error { return t.lock.Close() }

// Append adds newline-terminated lines at the end and fsyncs them. If an earlier append was
// torn (power loss mid-write), its fragment is closed with a newline first so that the new
// lines stay intact.
func (t *Tx) Append(lines []byte) error {
	return appendFile(t.s.path, lines)
}

func appendFile(path string, lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	if lines[len(lines)-1] != '\n' {
		lines = append(lines[:len(lines):len(lines)], '\n')
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, FileMode)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			lines = append([]byte{'\n'}, lines...)
		}
	}
	if _, err := f.Write(lines); err != nil {
		return fmt.Errorf("spool %s: append: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool %s: fsync: %w", path, err)
	}
	return nil
}

// Lines returns the spooled lines in order, without their newlines, skipping blank lines.
// A missing spool file is an empty spool.
func (t *Tx) Lines() ([][]byte, error) {
	b, err := os.ReadFile(t.s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out [][]byte
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// Remove drops the first n lines (as Lines counts them) and keeps the rest, atomically.
func (t *Tx) Remove(n int) error {
	if n <= 0 {
		return nil
	}
	lines, err := t.Lines()
	if err != nil {
		return err
	}
	if n > len(lines) {
		return fmt.Errorf("spool %s: removing %d lines but only %d are spooled", t.s.path, n, len(lines))
	}
	var rest []byte
	for _, l := range lines[n:] {
		rest = append(append(rest, l...), '\n')
	}
	tmp := t.s.path + ".tmp"
	// A stale .tmp (from a crash) may belong to the other user sharing the spool (root's
	// hook vs. telegraf); unlinking needs only the directory's write bit, rewriting would not.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	if err := writeSync(tmp, rest); err != nil {
		return err
	}
	if err := t.s.rename(tmp, t.s.path); err != nil {
		return fmt.Errorf("spool %s: replacing: %w", t.s.path, err)
	}
	return syncDir(filepath.Dir(t.s.path))
}

// Reject appends lines to PATH.rejected (they are removed from the spool by a following
// Remove).
func (t *Tx) Reject(lines [][]byte) error {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return appendFile(t.s.path+RejectedSuffix, b)
}

func writeSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, FileMode)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("spool %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("spool %s: fsync: %w", path, err)
	}
	return f.Close()
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("spool: fsync %s: %w", dir, err)
	}
	return nil
}

// RejectedPath is where Reject puts lines.
func (t *Tx) RejectedPath() string { return t.s.path + RejectedSuffix }

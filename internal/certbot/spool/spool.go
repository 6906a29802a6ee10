// Package spool is the hook's local queue: a line protocol file that every renewal is appended
// to before any network write, and from which lines are removed only after a receiver (a
// server, or the Telegraf input) has taken them.
//
// Crash semantics: appends are fsynced before the write is attempted; removal writes the
// remainder to a new temporary file (created exclusively), fsyncs it and renames it over PATH
// (atomic), then fsyncs the directory. A crash at any point therefore leaves either the old
// spool (the delivered lines are sent again: a duplicate, harmless because points with equal
// series and timestamp overwrite) or the new one — never a spool missing an undelivered line.
//
// Every access holds an exclusive flock on PATH.lock, so the hook and the Telegraf input on
// the same host never interleave. The lock file is separate from PATH because removal
// replaces PATH's inode.
//
// The spool directory is shared: the hook runs as root, Telegraf as a member of group
// telegraf, and the directory is group-writable. A member of that group must not be able to
// steer root, so every file opened in it (PATH, PATH.lock, PATH.rejected) is opened without
// following a symbolic link (O_NOFOLLOW), without blocking on a planted FIFO (O_NONBLOCK), and
// must then be a regular file with a single link (fstat); anything else is refused with an
// *UnsafeFileError. Temporary files are created with O_EXCL under a random name
// (os.CreateTemp), so a name planted in advance is never reused.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FileMode is the mode of files the spool creates: group-writable so that the certbot hook
// (root) and Telegraf (group telegraf, in a setgid directory) can share one spool.
const FileMode = 0o660

// DirMode is the mode of a spool directory the spool creates.
const DirMode = 0o770

// RejectedSuffix names the file that keeps lines that can never be delivered (not valid line
// protocol, cut short by a crash, or refused as data by the receiver): kept for a human, out
// of the way of later renewals.
const RejectedSuffix = ".rejected"

// tmpInfix starts the names of temporary files: PATH.tmp-RANDOM.
const tmpInfix = ".tmp"

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

// UnsafeFileError is a file in the spool directory that is not a plain regular file: a
// symbolic link, a FIFO, a device, a directory, or a file with more than one hard link. The
// spool never reads or writes through it.
type UnsafeFileError struct {
	Path   string
	Reason string // "is a symbolic link", "has 2 hard links", ...
}

func (e *UnsafeFileError) Error() string {
	return fmt.Sprintf("refusing %s: it %s; the spool directory may hold only regular files the spool made itself (the hook runs as root): remove it", e.Path, e.Reason)
}

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
	f, err := openRegular(s.path+".lock", os.O_CREATE|os.O_RDONLY) // flock needs no write access
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

// openRegular opens path for flag (os.O_CREATE creates it with FileMode) and refuses anything
// but a regular file with exactly one link.
func openRegular(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, FileMode)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, &UnsafeFileError{Path: path, Reason: "is " + kind(fi.Mode())}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &UnsafeFileError{Path: path, Reason: "is " + kind(fi.Mode())}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink != 1 {
		f.Close()
		return nil, &UnsafeFileError{Path: path, Reason: fmt.Sprintf("has %d hard links (another name could point at any file)", st.Nlink)}
	}
	return f, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Tx is the spool while its lock is held.
type Tx struct {
	s    *Spool
	lock *os.File
}

// Close releases the lock.
func (t *Tx) Close() error { return t.lock.Close() }

// Path is the spool file's path.
func (t *Tx) Path() string { return t.s.path }

// RejectedPath is where lines that can never be delivered are kept.
func (t *Tx) RejectedPath() string { return t.s.path + RejectedSuffix }

// Append adds newline-terminated lines at the end and fsyncs them (a missing final newline is
// added). Every complete append ends in a newline, so a spool that does not was cut short by a
// crash mid-append: that fragment can never be a whole point, and Append moves it to
// PATH.rejected (returned as torn) before adding lines, so that it is neither glued to the new
// lines nor later taken for a point with a truncated timestamp.
func (t *Tx) Append(lines []byte) (torn []byte, err error) {
	if len(lines) == 0 {
		return nil, nil
	}
	if lines[len(lines)-1] != '\n' {
		lines = append(lines[:len(lines):len(lines)], '\n')
	}
	f, err := openRegular(t.s.path, os.O_CREATE|os.O_RDWR|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	b, err := tail(f)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", t.s.path, err)
	}
	if end := bytes.LastIndexByte(b, '\n') + 1; end < len(b) {
		torn = b[end:]
		if err := t.Reject([][]byte{torn}); err != nil {
			return nil, err
		}
		if err := f.Truncate(int64(end)); err != nil { // b is the whole file here
			return nil, fmt.Errorf("spool %s: dropping a line cut short: %w", t.s.path, err)
		}
	}
	if _, err := f.Write(lines); err != nil {
		return torn, fmt.Errorf("spool %s: append: %w", t.s.path, err)
	}
	if err := f.Sync(); err != nil {
		return torn, fmt.Errorf("spool %s: fsync: %w", t.s.path, err)
	}
	return torn, nil
}

// tail returns f's content when it does not end in a newline, else at most its last byte: the
// common case (a clean spool) reads one byte, not the whole backlog.
func tail(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return nil, err
	}
	if last[0] == '\n' {
		return last, nil
	}
	return io.ReadAll(f)
}

// Lines returns the spooled lines in order, without their newlines, skipping blank lines.
// A missing spool file is an empty spool. A last line without its newline (cut short by a
// crash) is returned like the others; Drain tells it apart.
func (t *Tx) Lines() ([][]byte, error) {
	lines, torn, err := t.read()
	if torn != nil {
		lines = append(lines, torn)
	}
	return lines, err
}

// read returns the complete lines and, separately, a final fragment without newline.
func (t *Tx) read() (lines [][]byte, torn []byte, err error) {
	f, err := openRegular(t.s.path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("spool %s: %w", t.s.path, err)
	}
	end := bytes.LastIndexByte(b, '\n') + 1
	if len(bytes.TrimSpace(b[end:])) > 0 {
		torn = b[end:]
	}
	for _, l := range bytes.Split(b[:end], []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	return lines, torn, nil
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
	return t.replace(lines[n:])
}

// replace makes lines the spool's whole content, atomically.
func (t *Tx) replace(lines [][]byte) error {
	var rest []byte
	for _, l := range lines {
		rest = append(append(rest, l...), '\n')
	}
	dir, base := filepath.Split(t.s.path)
	if dir == "" {
		dir = "."
	}
	t.removeStaleTemps(dir, base)
	f, err := os.CreateTemp(dir, base+tmpInfix+"-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(FileMode) // CreateTemp makes 0600; the other user sharing the spool needs it too
	if err == nil {
		_, err = f.Write(rest)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool %s: %w", tmp, err)
	}
	if err := t.s.rename(tmp, t.s.path); err != nil {
		return fmt.Errorf("spool %s: replacing: %w", t.s.path, err)
	}
	return syncDir(dir)
}

// removeStaleTemps unlinks temporary files left by a crash (unlink never follows a link, so
// whatever was planted under such a name is only removed). Failures are ignored: a stale file
// costs only space.
func (t *Tx) removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base+tmpInfix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Reject appends lines to PATH.rejected (they are removed from the spool by a following
// Remove).
func (t *Tx) Reject(lines [][]byte) error {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	if len(b) == 0 {
		return nil
	}
	path := t.RejectedPath()
	f, err := openRegular(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("spool %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool %s: fsync: %w", path, err)
	}
	return nil
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

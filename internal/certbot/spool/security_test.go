package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The spool directory is writable by group telegraf while the hook runs as root. These tests
// plant what a member of that group could plant at each name the spool opens and show that the
// spool neither reads, writes, truncates nor creates anything through it, and says why.

const secret = "root-only secret line 1\n"

// plant makes a spool in a fresh directory and a root-only "victim" file outside it.
func plant(t *testing.T) (s *Spool, victim string) {
	t.Helper()
	dir := t.TempDir()
	victim = filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "spool"), 0o770); err != nil {
		t.Fatal(err)
	}
	return New(filepath.Join(dir, "spool", "certbot.lp")), victim
}

func unchanged(t *testing.T, victim string) {
	t.Helper()
	b, err := os.ReadFile(victim)
	if err != nil || string(b) != secret {
		t.Errorf("the victim file changed: %q, %v", b, err)
	}
}

func wantUnsafe(t *testing.T, err error, path, reason string) {
	t.Helper()
	want := "spool: refusing " + path + ": it " + reason + "; the spool directory may hold only regular files the spool made itself (the hook runs as root): remove it"
	var ue *UnsafeFileError
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v\nwant one containing %s", err, want)
	}
}

func TestSymlinkAsSpool(t *testing.T) {
	s, victim := plant(t)
	if err := os.Symlink(victim, s.Path()); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	_, err = tx.Append([]byte("certbot_renewal,domain=all renewed_count=1 1\n"))
	wantUnsafe(t, err, s.Path(), "is a symbolic link")
	_, err = tx.Drain(context.Background(), 0, func(context.Context, [][]byte) error {
		t.Error("lines read through the link were sent")
		return nil
	})
	wantUnsafe(t, err, s.Path(), "is a symbolic link")
	_, err = tx.Lines()
	wantUnsafe(t, err, s.Path(), "is a symbolic link")
	unchanged(t, victim)
}

func TestHardLinkAsSpool(t *testing.T) {
	s, victim := plant(t)
	if err := os.Link(victim, s.Path()); err != nil {
		t.Fatalf("hard link in one directory: %v", err)
	}
	tx, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	_, err = tx.Append([]byte("certbot_renewal,domain=all renewed_count=1 1\n"))
	wantUnsafe(t, err, s.Path(), "has 2 hard links (another name could point at any file)")
	_, err = tx.Lines()
	wantUnsafe(t, err, s.Path(), "has 2 hard links (another name could point at any file)")
	unchanged(t, victim)
}

// TestSymlinkAsLock: the lock file is created if missing; through a link that would let the
// group make root create (or, with O_TRUNC elsewhere, empty) any file.
func TestSymlinkAsLock(t *testing.T) {
	s, victim := plant(t)
	created := filepath.Join(filepath.Dir(victim), "created-by-root")
	for target, check := range map[string]func(){
		victim: func() { unchanged(t, victim) },
		created: func() {
			if _, err := os.Lstat(created); !os.IsNotExist(err) {
				t.Errorf("%s was created: %v", created, err)
			}
		},
	} {
		os.Remove(s.Path() + ".lock")
		if err := os.Symlink(target, s.Path()+".lock"); err != nil {
			t.Fatal(err)
		}
		_, err := s.TryLock()
		wantUnsafe(t, err, s.Path()+".lock", "is a symbolic link")
		check()
	}
}

// TestFIFOAsLock: a named pipe would block root's open forever (no writer ever comes).
func TestFIFOAsLock(t *testing.T) {
	s, _ := plant(t)
	if err := syscall.Mkfifo(s.Path()+".lock", 0o660); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.TryLock(); done <- err }()
	select {
	case err := <-done:
		wantUnsafe(t, err, s.Path()+".lock", "is a named pipe (FIFO)")
	case <-time.After(10 * time.Second):
		t.Fatal("TryLock blocked on a FIFO")
	}
}

func TestSymlinkAsRejected(t *testing.T) {
	s, victim := plant(t)
	tx, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, err := tx.Append([]byte("not a point\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, tx.RejectedPath()); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Drain(context.Background(), 0, func(context.Context, [][]byte) error { return nil })
	wantUnsafe(t, err, tx.RejectedPath(), "is a symbolic link")
	unchanged(t, victim)
	if got := lines(t, tx); len(got) != 1 || got[0] != "not a point" {
		t.Errorf("the bad line must stay in the spool until it can be moved aside: %q", got)
	}
}

// TestSymlinkAsTemp: the rewrite never opens a name it did not just create exclusively; a
// link planted under the old fixed name PATH.tmp (or any PATH.tmp* name) is unlinked, not
// followed.
func TestSymlinkAsTemp(t *testing.T) {
	s, victim := plant(t)
	tx, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, err := tx.Append([]byte("a 1\nb 2\n")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".tmp", ".tmp-1"} {
		if err := os.Symlink(victim, s.Path()+name); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Remove(1); err != nil {
		t.Fatal(err)
	}
	unchanged(t, victim)
	if got := lines(t, tx); len(got) != 1 || got[0] != "b 2" {
		t.Errorf("spool %q", got)
	}
	if tmps, _ := filepath.Glob(s.Path() + ".tmp*"); len(tmps) != 0 {
		t.Errorf("planted links stay: %q", tmps)
	}
}

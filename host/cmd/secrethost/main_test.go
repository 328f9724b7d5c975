package main_test

import (
	"os/exec"
	"testing"

	"github.com/secrethost/secrethost/internal/harden/hardentest"
	"github.com/secrethost/secrethost/internal/testbin"
)

// TestHostWritesNoCoreFile (issue 9, finding 8): secrethost, killed with
// SIGABRT under GOTRACEBACK=crash and an unlimited core size, writes no
// core file (one would hold its tokens and the secrets it resolved).
func TestHostWritesNoCoreFile(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.Build(t, dir, "secrethost", "./host/cmd/secrethost", "")
	hardentest.NoCoreFile(t, bin, []string{"inject"}, nil, func(t *testing.T, cmd *exec.Cmd) {
		// inject waits for its template on stdin, which stays open.
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
}

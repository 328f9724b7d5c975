//go:build linux

// Package hardentest checks, from outside, that a real process keeps its
// memory out of core files: it runs the process with an unlimited core
// size and GOTRACEBACK=crash in a directory of its own, waits until the
// process reports a core limit of 0 in /proc/<pid>/limits, raises the
// limit again from outside (so that only the non-dumpable flag stands
// between the process and a core file), sends SIGABRT and looks for a core
// file. A control process that does not harden itself must leave one, or
// the core-file part is skipped (core_pattern may pipe cores elsewhere).
package hardentest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Start is how the caller starts its process: cmd is prepared (Dir, Env
// with GOTRACEBACK=crash, ulimit -c unlimited through sh); Start must start
// it and return once the process is past its start-up (e.g. it printed a
// line), leaving it running.
type Start func(t *testing.T, cmd *exec.Cmd)

// NoCoreFile runs bin with args and checks as described above.
func NoCoreFile(t *testing.T, bin string, args []string, env []string, start Start) {
	t.Helper()
	pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	t.Logf("core_pattern: %q", strings.TrimSpace(string(pattern)))

	// Control: the same shell set-up with a process that does not harden
	// itself writes a core file, or this machine writes none anyway.
	coresWritten := true
	{
		dir := t.TempDir()
		cmd := prepare(dir, "sleep", []string{"30"}, nil)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return coreLimit(cmd.Process.Pid) == "unlimited" && comm(cmd.Process.Pid) == "sleep" }, "control to exec sleep")
		cmd.Process.Signal(syscall.SIGABRT)
		cmd.Wait()
		if cores(dir) == nil {
			coresWritten = false
			t.Logf("a plain process left no core file in its directory here (core_pattern %q); checking the limits only", strings.TrimSpace(string(pattern)))
		}
	}

	dir := t.TempDir()
	cmd := prepare(dir, bin, args, env)
	start(t, cmd)
	pid := cmd.Process.Pid
	defer cmd.Process.Kill()
	// The shell starts with the test's own limit; wait for the exec, then
	// give the process a moment to harden itself.
	waitFor(t, func() bool { c := comm(pid); return c != "" && c != "sh" }, "the exec of "+bin)
	settle := time.Now().Add(2 * time.Second)
	for coreLimit(pid) != "0" && time.Now().Before(settle) {
		time.Sleep(10 * time.Millisecond)
	}
	if l := coreLimit(pid); l != "0" {
		t.Errorf("%s runs with a core size limit of %s, want 0", bin, l)
	}
	if !coresWritten {
		cmd.Process.Kill()
		cmd.Wait()
		return
	}
	// Raise it again from outside: now only PR_SET_DUMPABLE 0 can stop
	// the core file.
	unlimited := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(pid, unix.RLIMIT_CORE, &unlimited, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("%s after SIGABRT: %v", filepath.Base(bin), err)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.CoreDump() {
		t.Errorf("the kernel reports a core dump of %s", bin)
	}
	if c := cores(dir); c != nil {
		t.Errorf("%s left a core file: %v", bin, c)
	}
}

func prepare(dir, bin string, args, env []string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit -c unlimited && exec "$@"`, "sh", bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"GOTRACEBACK=crash", "PATH=" + os.Getenv("PATH")}, env...)
	return cmd
}

func cores(dir string) []string {
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "core") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// coreLimit is the soft "Max core file size" of pid, or "".
func coreLimit(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			if f := strings.Fields(strings.TrimPrefix(line, "Max core file size")); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

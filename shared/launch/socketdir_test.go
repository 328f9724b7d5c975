package launch_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
)

// launchHelper is a host in a process of its own: it starts the plugin at
// path, prints its socket directory, and waits to be killed.
func launchHelper(path string) {
	proc, err := launch.Start(context.Background(), launch.Spec{Name: "test", Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(filepath.Dir(proc.Addr().String()))
	select {}
}

// startHost runs launchHelper in a child process with TMPDIR=tmp and
// returns it and the socket directory it made.
func startHost(t *testing.T, tmp string) (*exec.Cmd, string) {
	t.Helper()
	path := testbin.Build(t, testbin.PluginDir(), "test", "./host/internal/testplugin", "")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SECRETHOST_TEST_LAUNCH_HELPER="+path, "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper host: %v", err)
	}
	dir := strings.TrimSpace(line)
	if filepath.Dir(dir) != tmp {
		t.Fatalf("helper's socket directory %s is not in %s", dir, tmp)
	}
	return cmd, dir
}

// shortTemp is a temporary directory short enough for socket paths.
func shortTemp(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "sw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestSweepStaleSocketDirs (issue 9, finding 8): the socket directory a
// SIGKILLed host left behind is removed at the next start; a live host's
// directory, a directory of another user, one from another pid namespace
// and names not ours are left alone; a directory whose pid now belongs to
// a later process (pid reuse) is removed.
func TestSweepStaleSocketDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a directory to nobody")
	}
	tmp := shortTemp(t)
	t.Setenv("TMPDIR", tmp)

	killed, killedDir := startHost(t, tmp)
	_, liveDir := startHost(t, tmp)
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	// The plugin dies with its host (parent-death signal); give it a moment.
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(killedDir); err != nil {
		t.Fatalf("the killed host's socket directory is not there to sweep: %v", err)
	}

	// The killed host's name, with other random characters: made by the
	// same dead host as far as the name tells.
	name := filepath.Base(killedDir)
	tag := name[:len(name)-6]
	parts := strings.Split(strings.TrimPrefix(tag, "secrethost-plugin-"), "-") // pid, start[, ns], ""
	if len(parts) != 3 {
		t.Skipf("%s: this test expects the initial pid namespace", name)
	}
	mk := func(name string, uid int) string {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "plugin123"), nil, 0o600)
		if err := os.Chown(dir, uid, uid); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	foreign := mk(tag+"aaaaaa", 65534)
	otherNS := mk(fmt.Sprintf("secrethost-plugin-%s-%s-%s-bbbbbb", parts[0], parts[1], "1"), 0)
	oldStyle := mk("secrethost-plugin-33", 0)
	notOurs := mk("secrethost-pluginX-"+parts[0]+"-"+parts[1]+"-cccccc", 0)
	// pid 1 runs, but did not start at tick 1: its directory is stale.
	reused := mk("secrethost-plugin-1-1-dddddd", 0)
	// A directory named for this very process stays.
	self := mk(fmt.Sprintf("secrethost-plugin-%d-%s-eeeeee", os.Getpid(), selfStart(t)), 0)

	removed := launch.SweepStaleSocketDirs(nil)
	t.Logf("removed: %v", removed)
	for _, gone := range []string{killedDir, reused} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", gone, err)
		}
	}
	for _, kept := range []string{liveDir, foreign, otherNS, oldStyle, notOurs, self} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
}

// selfStart is this process's start time in clock ticks, in hex.
func selfStart(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var n uint64
	fmt.Sscan(f[19], &n)
	return strconv.FormatUint(n, 36)
}

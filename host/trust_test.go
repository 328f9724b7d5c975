package host_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/host/plugindir"
	"github.com/secrethost/secrethost/shared/launch"
)

// TestHostRefusesReplaceablePlugin (issue 9, finding 2): through the real
// host, a plugin whose binary or directories someone else could replace is
// refused before it runs (the plugin, a script that leaves a marker, never
// starts), and the error names the path and the fix. The same plugin in a
// trusted layout does run, so the marker can appear.
func TestHostRefusesReplaceablePlugin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to nobody (uid 65534)")
	}
	const nobody = 65534
	cases := []struct {
		name   string
		change func(parent, dir, bin string) string // returns the path at fault
		want   string
	}{
		{"trusted", func(_, _, _ string) string { return "" }, ""},
		{"plugin dir 0777", func(_, dir, _ string) string { os.Chmod(dir, 0o777); return dir }, "chmod go-w"},
		{"plugin dir 1777", func(_, dir, _ string) string { os.Chmod(dir, os.ModeSticky|0o777); return dir }, "chmod go-w,-t"},
		{"plugin dir 0775 group nogroup", func(_, dir, _ string) string {
			os.Chown(dir, 0, nobody)
			os.Chmod(dir, 0o775)
			return dir
		}, "chmod go-w"},
		{"binary owned by nobody", func(_, _, bin string) string { os.Chown(bin, nobody, nobody); return bin }, "chown root"},
		{"parent 0777", func(parent, _, _ string) string { os.Chmod(parent, 0o777); return parent }, "chmod go-w"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			marker := filepath.Join(base, "executed")
			parent := filepath.Join(base, "parent")
			dir := filepath.Join(parent, "plugins")
			bin := filepath.Join(dir, "plugin")
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			bad := c.change(parent, dir, bin)
			h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{
				Name: "p", Plugin: "plugin", Pos: "config.hcl:1:1",
			}}}, host.WithPluginDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			_, err = h.GetSecret(ctx(t), "x://y")
			_, statErr := os.Stat(marker)
			if bad == "" {
				if statErr != nil {
					t.Fatalf("the trusted plugin did not run (%v); the test cannot tell refusal from failure", err)
				}
				return
			}
			if statErr == nil {
				t.Fatalf("the plugin ran although %s is replaceable", bad)
			}
			if !errors.Is(err, plugindir.ErrUnsafe) {
				t.Fatalf("want ErrUnsafe, got %v", err)
			}
			for _, w := range []string{`provider "p"`, bad + " ", c.want + " " + bad} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestPinnedPluginSwapDuringLaunch (issue 9, finding 3): while the host
// launches a pinned plugin over and over, another goroutine keeps swapping
// the file at the plugin's path between the pinned binary and a script that
// leaves a marker. The bytes that were checked must be the bytes that run:
// every launch either runs the pinned binary or is refused, and the script
// never runs.
func TestPinnedPluginSwapDuringLaunch(t *testing.T) {
	const launches = 60
	dir := t.TempDir()
	marker := filepath.Join(dir, "executed")
	real := filepath.Join(dir, "real")
	evil := filepath.Join(dir, "evil")
	path := filepath.Join(dir, "test")
	copyFile(t, filepath.Join(pluginDir(t), "test"), real)
	if err := os.WriteFile(evil, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, real, path)
	pin := sha256Of(t, real)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	swaps := 0
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Atomic replacement, as an attacker with write access to the
			// directory (or a careless deploy) would do it.
			src, tmp := real, filepath.Join(dir, "tmp")
			if i%2 == 0 {
				src = evil
			}
			os.Remove(tmp)
			if err := os.Link(src, tmp); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Error(err)
				return
			}
			swaps++
		}
	}()

	// At least 60 launches, and more until both outcomes were seen a few
	// times: the pinned binary must run while the swapping goes on, and
	// the swapped-in file must have been seen (and refused).
	var ran, refused, i int
	deadline := time.Now().Add(2 * time.Minute)
	for ; i < launches || ((ran < 5 || refused < 5) && time.Now().Before(deadline)); i++ {
		h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{
			Name: "test", Plugin: "test", SHA256: pin, Pos: "config.hcl:1:1",
		}}}, host.WithPluginDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.GetSecret(ctx(t), "test://pid")
		h.Close()
		switch {
		case err == nil:
			ran++
		case errors.Is(err, launch.ErrChecksum):
			refused++
		default:
			// The swapped-in script, run instead of the pinned binary,
			// fails the handshake: the bug this test is about.
			t.Logf("launch %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d launches: %d ran the pinned binary, %d refused by the pin; %d swaps", i, ran, refused, swaps)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the swapped-in file was executed despite the pin")
	}
	if ran+refused != i {
		t.Errorf("%d launches neither ran the pinned binary nor were refused", i-ran-refused)
	}
	if ran == 0 || refused == 0 {
		t.Error("the launches did not see both files; the test exercised nothing")
	}
}

// TestPinnedScriptIsRefused: a pinned plugin runs from a sealed in-memory
// copy, which a #! script cannot (its interpreter would read the script
// again by path, after the check); the error says so and nothing ran.
func TestPinnedScriptIsRefused(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "executed")
	script := filepath.Join(dir, "pinned")
	os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755)
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{
		Name: "pinned", Plugin: "pinned", SHA256: sha256Of(t, script), Pos: "config.hcl:3:1",
	}}}, host.WithPluginDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.GetSecret(ctx(t), "x://y")
	if err == nil {
		t.Fatal("a pinned script started")
	}
	for _, want := range []string{`provider "pinned" (config.hcl:3:1)`, script, "script", "not executed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the pinned script ran")
	}
}

// TestPluginWorkingDirectory (issue 9, finding 12): a plugin does not run
// in the plugin directory (where it could find files planted next to it,
// or resolve relative paths against it) but in /, pinned or not.
func TestPluginWorkingDirectory(t *testing.T) {
	dir := pluginDir(t)
	for name, pin := range map[string]string{"unpinned": "", "pinned": sha256Of(t, filepath.Join(dir, "test"))} {
		t.Run(name, func(t *testing.T) {
			h := newHost(t, config.ProviderBlock{Name: "test", SHA256: pin})
			pid := resolvePid(t, h)
			cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
			if err != nil {
				t.Fatal(err)
			}
			if cwd != "/" {
				t.Errorf("plugin %d runs in %s, want /", pid, cwd)
			}
			// The pinned plugin runs from the host's sealed copy, and
			// inherits no descriptor of it.
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if wantMem := pin != ""; strings.HasPrefix(exe, "/memfd:secrethost-plugin:") != wantMem {
				t.Errorf("plugin runs from %s (pinned: %v)", exe, wantMem)
			}
			fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
			for _, fd := range fds {
				if target, _ := os.Readlink(fd); strings.Contains(target, "memfd:") || strings.Contains(target, dir) {
					t.Errorf("plugin inherited %s -> %s", fd, target)
				}
			}
			// ps shows its name, not the descriptor it was run from.
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "test" {
				t.Errorf("plugin's process name is %q, want test", comm)
			}
			t.Logf("plugin %d: exe %s, %d descriptors", pid, exe, len(fds))
		})
	}
}

// TestLibraryHardensProcess (issue 9, finding 8): host.New makes the
// embedding process (doco-cd) non-dumpable with a core limit of 0, unless
// the embedder opts out with AllowCoreDumps. Each case runs in a fresh
// process, since the flag cannot be observed twice in one.
func TestLibraryHardensProcess(t *testing.T) {
	for mode, want := range map[string]string{"default": "dumpable=0 core=0", "allow": "dumpable=1 core=unlimited"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", `ulimit -c unlimited && exec "$@"`, "sh", os.Args[0], "-test.run=^TestHardenHelper$")
			cmd.Env = append(os.Environ(), "SECRETHOST_TEST_HARDEN="+mode)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !strings.Contains(string(out), "RESULT "+want+"\n") {
				t.Errorf("want %q, got:\n%s", want, out)
			}
		})
	}
}

func TestHardenHelper(t *testing.T) {
	mode := os.Getenv("SECRETHOST_TEST_HARDEN")
	if mode == "" {
		t.Skip("helper of TestLibraryHardensProcess")
	}
	before, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if before != 1 {
		t.Fatalf("dumpable before New: %d", before)
	}
	opts := []host.Option{host.WithPluginDir(t.TempDir())}
	if mode == "allow" {
		opts = append(opts, host.AllowCoreDumps())
	}
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{Name: "p", Plugin: "p"}}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_CORE, &lim)
	core := strconv.FormatUint(lim.Cur, 10)
	if lim.Cur == unix.RLIM_INFINITY {
		core = "unlimited"
	}
	fmt.Printf("RESULT dumpable=%d core=%s\n", dumpable, core)
}

// TestHostSweepsStaleSocketDirs (issue 9, finding 8): a host killed with
// SIGKILL leaves its plugin's socket directory behind; the next host.New
// removes it.
func TestHostSweepsStaleSocketDirs(t *testing.T) {
	tmp, err := os.MkdirTemp("/tmp", "sw") // short enough for socket paths
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SECRETHOST_TEST_HOST_HELPER=1", "SECRETHOST_TEST_PLUGIN_DIR="+pluginDir(t), "TMPDIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitGone(t, pid)
	left, _ := filepath.Glob(filepath.Join(tmp, "secrethost-plugin-*"))
	if len(left) != 1 {
		t.Fatalf("want the killed host's one socket directory in %s, found %v", tmp, left)
	}

	t.Setenv("TMPDIR", tmp)
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{Name: "test", Plugin: "test"}}}, host.WithPluginDir(pluginDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := os.Stat(left[0]); !os.IsNotExist(err) {
		t.Errorf("%s survived the next host's start: %v", left[0], err)
	}
}

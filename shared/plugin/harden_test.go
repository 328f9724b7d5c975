package plugin_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/secrethost/secrethost/internal/harden/hardentest"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/plugin"
)

// TestServeWritesNoCoreFile (issue 9, finding 8): a plugin, through
// plugin.Serve, makes itself non-dumpable: killed with SIGABRT under
// GOTRACEBACK=crash and an unlimited core size once it has served its
// handshake, it writes no core file (one would hold its token).
func TestServeWritesNoCoreFile(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.Build(t, dir, "file", "./examples/file-provider", "")
	env := []string{
		plugin.Handshake.MagicCookieKey + "=" + plugin.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_UNIX_SOCKET_DIR=" + dir,
	}
	hardentest.NoCoreFile(t, bin, nil, env, func(t *testing.T, cmd *exec.Cmd) {
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("no handshake from the plugin: %v", err)
		}
		t.Logf("handshake: %s", line)
	})
}

// TestServeDropsStdin: go-plugin hands the host's stdin to every plugin
// (the terminal, or the input of `secrethost run`'s command); plugin.Serve
// replaces it with /dev/null, so a plugin cannot read what was meant for
// someone else.
func TestServeDropsStdin(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	dir := t.TempDir()
	bin := testbin.Build(t, dir, "file", "./examples/file-provider", "")
	cmd := exec.Command(bin)
	cmd.Env = []string{
		plugin.Handshake.MagicCookieKey + "=" + plugin.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_UNIX_SOCKET_DIR=" + dir,
	}
	stdin, err := cmd.StdinPipe() // like a host's stdin that is a pipe
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("no handshake from the plugin: %v", err)
	}
	fd0, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if fd0 != os.DevNull {
		t.Errorf("the plugin's stdin is %s, want %s", fd0, os.DevNull)
	}
}

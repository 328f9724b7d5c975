package plugin_test

import (
	"bufio"
	"os/exec"
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

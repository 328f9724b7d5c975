// Command testplugin serves internal/testprovider for the host's tests.
// Start-up misbehaviour is chosen at build time (-ldflags "-X
// main.mode=..."), because a plugin receives nothing from the host before
// the handshake.
package main

import (
	"fmt"
	"os"

	"github.com/secrethost/secrethost/internal/testprovider"
	"github.com/secrethost/secrethost/shared/plugin"
)

// mode: "" (well behaved), "stdout" (writes to stdout before the
// handshake), "crash" (exits during start-up), "shortbatch", "longbatch" and "extra"
// (break the one-result-per-reference rule).
var mode string

func main() {
	switch mode {
	case "stdout":
		fmt.Println("hello from a plugin that prints before its handshake")
	case "crash":
		fmt.Fprintln(os.Stderr, "fatal: cannot open the backend's state directory")
		os.Exit(1)
	}
	plugin.Serve(testprovider.New(mode))
}

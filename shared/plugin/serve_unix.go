//go:build unix

package plugin

import (
	"os"
	"syscall"
)

// dropStdin points the plugin's stdin at /dev/null. go-plugin starts every
// plugin with the host's stdin (a terminal, or the input meant for the
// command of `secrethost run`); a plugin has no business reading it, and the
// host talks to it over gRPC only.
func dropStdin() error {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	return dup2(int(null.Fd()), syscall.Stdin)
}

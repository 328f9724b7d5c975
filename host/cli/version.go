package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/secrethost/secrethost/shared/provider"
)

// Version is the secrethost release, set at build time with
// -ldflags "-X github.com/secrethost/secrethost/host/cli.Version=v1.2.3".
// When not set, the module version from the build information is used.
var Version = ""

var versionCommand = &command{
	name:    "version",
	summary: "print the version",
	usage: `
Usage: secrethost version

Prints the secrethost version, the plugin protocol version it speaks, and the
Go version and platform it was built for.
`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		return func(_ context.Context, args []string) int {
			if len(args) > 0 {
				return a.fail("version", usagef("unexpected arguments %q", args))
			}
			return a.printVersion(a.Stdout)
		}
	},
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func (a *app) printVersion(w io.Writer) int {
	fmt.Fprintf(w, "secrethost %s (plugin protocol %d, %s, %s/%s)\n",
		version(), provider.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

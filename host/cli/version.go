package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"

	buildversion "github.com/secrethost/secrethost/internal/version"
	"github.com/secrethost/secrethost/shared/provider"
)

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

func version() string { return buildversion.String() }

func (a *app) printVersion(w io.Writer) int {
	fmt.Fprintf(w, "secrethost %s (plugin protocol %d, %s, %s/%s)\n",
		version(), provider.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

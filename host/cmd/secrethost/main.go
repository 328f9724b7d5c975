// Command secrethost resolves secret references through provider plugins:
// resolve, run, inject, validate, doctor, plugins, version. See package
// github.com/secrethost/secrethost/host/cli, or run secrethost --help.
package main

import (
	"fmt"
	"os"

	"github.com/secrethost/secrethost/host/cli"
	"github.com/secrethost/secrethost/internal/harden"
)

func main() {
	// First, before a token or a secret is read: no core dumps, no ptrace
	// by other processes of this user.
	if err := harden.Process(); err != nil {
		fmt.Fprintf(os.Stderr, "secrethost: warning: cannot keep secrets out of core dumps: %v\n", err)
	}
	os.Exit(cli.Main(os.Args[1:]))
}

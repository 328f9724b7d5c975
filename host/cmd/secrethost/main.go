// Command secrethost resolves secret references through provider plugins:
// resolve, run, inject, validate, doctor, plugins, version. See package
// github.com/secrethost/secrethost/host/cli, or run secrethost --help.
package main

import (
	"os"

	"github.com/secrethost/secrethost/host/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }

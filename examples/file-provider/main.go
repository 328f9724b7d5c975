// Command file is the example third-party secrethost provider: it resolves
// file://<name> to the content of <dir>/<name>. The provider is package
// fileprovider; this main only serves it. See "Write your own provider" in
// the README.
package main

import (
	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/plugin"
)

func main() { plugin.Serve(fileprovider.New()) }

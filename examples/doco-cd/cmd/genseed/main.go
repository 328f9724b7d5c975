// Command genseed writes the doco-cd verification's Connect seed data
// (dococd.Seed) as connect-emulator -data JSON to stdout.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	dococd "github.com/secrethost/secrethost/examples/doco-cd"
)

func main() {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(dococd.Seed()); err != nil {
		fmt.Fprintln(os.Stderr, "genseed:", err)
		os.Exit(1)
	}
}

package onepasswordsa_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	onepassword "github.com/1password/onepassword-sdk-go"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount/serviceaccounttest"
)

// sdkValidateEnv makes the test binary, re-executed, run the SDK's own
// validator over its arguments and exit: a fresh process, so the first
// validation pays for loading the SDK's core, as a CI job would.
const sdkValidateEnv = "SECRETHOST_BENCH_SDK_VALIDATE"

func sdkValidateMain() {
	bad := 0
	for _, ref := range os.Args[1:] {
		if err := onepassword.Secrets.ValidateSecretReference(context.Background(), ref); err != nil {
			bad++
		}
	}
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "%d references rejected\n", bad)
		os.Exit(1)
	}
	os.Exit(0)
}

func bench100Refs() []string {
	refs := make([]string, 100)
	for i := range refs {
		refs[i] = fmt.Sprintf("op://Prod/Item %d/field-%d", i%10, i)
	}
	return refs
}

// BenchmarkValidate100: `secrethost validate` of 100 references in
// service-account mode, process start to exit (name=secrethost), against
// the SDK's own first validation of the same references in a fresh Go
// process (name=sdk).
func BenchmarkValidate100(b *testing.B) {
	dir := b.TempDir()
	cli := testbin.Build(b, dir, "secrethost", "./host/cmd/secrethost", "")
	if err := os.Mkdir(filepath.Join(dir, "plugins"), 0o700); err != nil {
		b.Fatal(err)
	}
	testbin.Build(b, filepath.Join(dir, "plugins"), pluginName, "./plugins/onepassword-sa", "")
	refs := bench100Refs()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, cmd *exec.Cmd) {
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	b.Run("name=secrethost", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(cli, append([]string{"validate"}, refs...)...)
			cmd.Env = []string{"SECRET_PROVIDER=1password", "SECRET_PROVIDER_ACCESS_TOKEN=" + serviceaccounttest.WellFormedFakeToken("my.1password.com")}
			run(b, cmd)
		}
	})
	b.Run("name=sdk", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(self, refs...)
			cmd.Env = append(os.Environ(), sdkValidateEnv+"=1")
			run(b, cmd)
		}
	})
}

package launch_test

import (
	"crypto/sha256"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/secrethost/secrethost/internal/testbin"
)

// BenchmarkPinSteps splits what a pin adds to a start (BenchmarkStart
// pinned minus unpinned) into its two steps, for the onepassword-connect
// plugin: copying the binary into an in-memory file (step=copy) and
// hashing that copy (step=hash), as verify in pin_linux.go does them.
func BenchmarkPinSteps(b *testing.B) {
	path := testbin.Build(b, testbin.PluginDir(), "onepassword-connect", "./plugins/onepassword-connect", "")
	b.Run("step=copy", func(b *testing.B) {
		for b.Loop() {
			src, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			fd, err := unix.MemfdCreate("bench", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
			if err != nil {
				b.Skip("no memfd:", err)
			}
			mem := os.NewFile(uintptr(fd), "memfd")
			n, err := io.Copy(mem, src)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			mem.Close()
			src.Close()
		}
	})
	b.Run("step=hash", func(b *testing.B) {
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(bin)))
		for b.Loop() {
			sha256.Sum256(bin)
		}
	})
}

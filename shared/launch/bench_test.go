package launch_test

import (
	"context"
	"crypto/sha256"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// BenchmarkStart measures exec + handshake + GetInfo for the small test
// plugin and the 1Password SA plugin (the largest binary), unpinned (run by
// path) and pinned (copied into a sealed memfd, hashed, run from there).
func BenchmarkStart(b *testing.B) {
	for _, pl := range []struct{ name, pkg string }{
		{"test", "./host/internal/testplugin"},
		{"onepassword-connect", "./plugins/onepassword-connect"},
		{"onepassword-sa", "./plugins/onepassword-sa"},
	} {
		path := testbin.Build(b, testbin.PluginDir(), pl.name, pl.pkg, "")
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256(bin)
		for _, mode := range []string{"unpinned", "pinned"} {
			b.Run(pl.name+"/"+mode, func(b *testing.B) {
				spec := launch.Spec{Name: pl.name, Path: path, LogLevel: hclog.Error}
				if mode == "pinned" {
					spec.SHA256 = sum[:]
				}
				b.ReportMetric(float64(len(bin))/1e6, "MB")
				ctx := context.Background()
				for b.Loop() {
					proc, err := launch.Start(ctx, spec)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					proc.Kill()
					b.StartTimer()
				}
			})
		}
	}
}

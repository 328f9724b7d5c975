package serviceaccount_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount/serviceaccounttest"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// The real plugin binary, with the real SDK inside, started the way the
// host starts it (shared/launch), without the host: what works offline,
// start-up, Configure rejecting a malformed token with the SDK's reason,
// and Validate. The tests that run it through the host and the CLI are in
// e2e/onepassword-sa.

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

const (
	pluginName    = "onepassword-sa"
	pluginVersion = "0.0.0-e2e"
)

// pluginBinary builds ./plugins/onepassword-sa once per test process.
func pluginBinary(t testing.TB) string {
	t.Helper()
	return testbin.Build(t, testbin.PluginDir(), pluginName, "./plugins/onepassword-sa",
		"-X github.com/secrethost/secrethost/internal/version.Version="+pluginVersion)
}

// TestPluginBinaryOffline drives the binary through shared/launch: start,
// GetInfo, Configure with a malformed token (rejected with the SDK's
// reason, no network needed), then Validate on the same process.
func TestPluginBinaryOffline(t *testing.T) {
	serviceaccounttest.SkipIfShort(t)
	t.Parallel()
	path := pluginBinary(t)
	ctx := serviceaccounttest.Context(t)
	start := time.Now()
	proc, err := launch.Start(ctx, launch.Spec{Name: pluginName, Path: path, LogLevel: hclog.Debug, Logger: serviceaccounttest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Kill()
	handshake := time.Since(start)

	info, err := proc.Client.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != pluginName || info.Version != pluginVersion || info.ProtocolVersion != provider.ProtocolVersion {
		t.Errorf("GetInfo = %+v", info)
	}

	_, err = proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{serviceaccount.AttrToken: serviceaccounttest.MalformedToken}})
	configured := time.Since(start)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != provider.CodeInvalidConfig {
		t.Fatalf("Configure: want invalid_config, got %v", err)
	}
	for _, want := range []string{serviceaccount.AttrToken, serviceaccounttest.MalformedReason} {
		if !strings.Contains(pe.Message, want) {
			t.Errorf("Configure error lacks %q: %s", want, pe.Message)
		}
	}
	if strings.Contains(pe.Message, serviceaccounttest.MalformedToken) {
		t.Errorf("Configure error echoes the token: %s", pe.Message)
	}
	t.Logf("exec+handshake %s; +GetInfo+Configure (offline token check, no SDK core) %s; peak RSS %d KiB",
		handshake.Round(time.Millisecond), configured.Round(time.Millisecond), vmHWM(t, proc.Pid()))

	// Validate needs no credential, so it works although Configure failed.
	refs := make([]string, len(serviceaccounttest.ValidateCases))
	for i, c := range serviceaccounttest.ValidateCases {
		refs[i] = c.Ref
	}
	resp, err := proc.Client.Validate(ctx, provider.ValidateRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	serviceaccounttest.CheckValidate(t, resp.Results)
}

// vmHWM returns the peak resident set size of process pid, in KiB.
func vmHWM(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// cpuSeconds returns the CPU time (user + system) process pid has used.
// Unlike wall time, it barely depends on what else the machine is doing.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks
}

// BenchmarkStartup is what the first use of the provider costs: exec,
// go-plugin handshake with AutoMTLS, GetInfo, and a Configure that loads
// the SDK's WebAssembly core and has the SDK check a (malformed) token,
// which is the Configure path that works offline. Besides time per start
// it reports the handshake alone, the plugin's CPU time (steadier than
// wall time on a busy machine), its peak RSS after Configure, and the
// binary's size.
func BenchmarkStartup(b *testing.B) {
	path := pluginBinary(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var (
		peak      int
		cpu       float64
		handshake time.Duration
		n         int
	)
	for b.Loop() {
		start := time.Now()
		proc, err := launch.Start(ctx, launch.Spec{Name: pluginName, Path: path, LogLevel: hclog.Error})
		if err != nil {
			b.Fatal(err)
		}
		handshake += time.Since(start)
		if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
			b.Fatal(err)
		}
		_, err = proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{serviceaccount.AttrToken: serviceaccounttest.MalformedToken}})
		if !errors.Is(err, provider.ErrInvalidConfig) {
			b.Fatalf("Configure: want invalid_config, got %v", err)
		}
		b.StopTimer()
		peak = max(peak, vmHWM(b, proc.Pid()))
		cpu += cpuSeconds(proc.Pid())
		n++
		proc.Kill()
		b.StartTimer()
	}
	b.ReportMetric(float64(handshake.Milliseconds())/float64(n), "handshake-ms")
	b.ReportMetric(cpu/float64(n), "plugin-CPU-s")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(st.Size())/(1<<20), "binary-MiB")
}

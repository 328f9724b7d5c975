package launch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/provider"
)

// startHandmade builds the hand-made plugin under name (its mistake, see
// testdata/handmade) and starts it; it returns the process or the start
// error, and how long the start and the stop took together.
func startHandmade(t *testing.T, name string, logger ...hclog.Logger) (*Process, error, time.Duration) {
	t.Helper()
	spec := Spec{Name: name, LogLevel: hclog.Trace}
	if len(logger) > 0 {
		spec.Logger = logger[0]
	}
	path := testbin.Build(t, testbin.PluginDir(), name, "./shared/launch/testdata/handmade", "")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	spec.Path = path
	proc, err := Start(ctx, spec)
	took := time.Since(start)
	if err == nil {
		t.Cleanup(proc.Kill)
	}
	return proc, err, took
}

// TestHandmadePluginWorks is the control: the hand-made plugin without a
// mistake starts and answers, so the failures below come from the one
// mistake each makes. It also writes log lines of the wrong JSON types
// ({"@level":"error","@message":42}), which panicked the host through
// go-plugin's parser: they are forwarded and the host lives on.
func TestHandmadePluginWorks(t *testing.T) {
	var logs syncbuf.Buffer
	proc, err, _ := startHandmade(t, "good", hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	info, err := proc.Client.GetInfo(ctx, provider.InfoRequest{})
	if err != nil || info.Name != "file" {
		t.Fatalf("GetInfo = %+v, %v", info, err)
	}
	begin := time.Now()
	proc.Kill()
	for _, want := range []string{"[ERROR] good: 42", `[DEBUG] good: {"nested":true}`, `[WARN]  good: k="[1,2]"`, "[INFO]  good: handmade-marker"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the host's log lacks %q:\n%s", want, logs.String())
		}
	}
	if d := time.Since(begin); d > 1500*time.Millisecond {
		t.Errorf("stopping the hand-made plugin took %v; its GRPCController.Shutdown should make it quick", d)
	}
}

// TestCertificateWithoutLocalhostSAN: a plugin certificate with the common
// name localhost but no DNS SAN fails the start at once, naming the cause,
// instead of passing the start and failing the first call as "plugin is
// not responding (it may have crashed)" after a 2 s kill.
func TestCertificateWithoutLocalhostSAN(t *testing.T) {
	proc, err, took := startHandmade(t, "nosan")
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, callErr := proc.Client.GetInfo(ctx, provider.InfoRequest{})
		t.Fatalf("Start succeeded with a certificate without the DNS name localhost; the first call then gave: %v", callErr)
	}
	if !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), "TLS certificate is unusable") || !strings.Contains(err.Error(), "has no DNS name localhost") {
		t.Errorf("Start error %q; want ErrStart saying the certificate has no DNS name localhost", err)
	}
	if strings.Contains(err.Error(), "not responding") {
		t.Errorf("Start error %q still says the plugin is not responding", err)
	}
	t.Logf("start failed after %v: %v", took, err)
	if took > 1500*time.Millisecond {
		t.Errorf("start and stop took %v; a certificate problem must not wait for go-plugin's 2 s kill", took)
	}
}

// TestPaddedBase64Certificate: '=' padding in the handshake line's
// certificate field (which go-plugin decodes as unpadded base64) fails the
// start with an error saying so; the hand-made plugin makes sure padding is
// needed, so this fails every time instead of about two times in three.
func TestPaddedBase64Certificate(t *testing.T) {
	_, err, _ := startHandmade(t, "padded")
	if err == nil {
		t.Fatal("Start succeeded with a padded certificate field")
	}
	for _, want := range []string{"illegal base64 data", "without '=' padding", "RawStdEncoding"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error %q does not say %q", err, want)
		}
	}
}

// TestPluginWithoutTLS: a plugin that announces a certificate but serves
// gRPC without TLS fails the start at once, saying there was no TLS
// handshake, instead of failing its first call as a crash.
func TestPluginWithoutTLS(t *testing.T) {
	proc, err, took := startHandmade(t, "notls")
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, callErr := proc.Client.GetInfo(ctx, provider.InfoRequest{})
		t.Fatalf("Start succeeded with a plugin that serves no TLS; the first call then gave: %v", callErr)
	}
	t.Logf("start failed after %v: %v", took, err)
	if !strings.Contains(err.Error(), "no TLS handshake") || strings.Contains(err.Error(), "not responding") {
		t.Errorf("Start error %q; want one saying there was no TLS handshake", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("start and stop took %v; want no 2 s kill", took)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"
)

const demoData = "../../../../../examples/demo/connect-data.json"

func TestRunServesAndStops(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"-data", demoData, "-addr", "127.0.0.1:0", "-addr-file", addrFile, "-log",
			"-token", "extra-token=*",
			"-fault", "status=503,count=1,path=/v1/vaults",
			"-latency", "1ms",
		}, &stdout, &stderr)
	}()

	var url string
	for deadline := time.Now().Add(5 * time.Second); url == ""; {
		if b, err := os.ReadFile(addrFile); err == nil {
			url = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("no addr file; stderr: %s", stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("addr file holds %q", url)
	}

	status := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/v1/vaults", "demo-token"); got != 503 {
		t.Errorf("first request: %d, want the injected 503", got)
	}
	if got := status("/v1/vaults", "demo-token"); got != 200 {
		t.Errorf("second request: %d", got)
	}
	if got := status("/v1/vaults/55d47gd6pyn5c5xoakwnwxz5yu", "demo-token"); got != 403 {
		t.Errorf("Ops with demo-token: %d, want 403", got)
	}
	if got := status("/v1/vaults/55d47gd6pyn5c5xoakwnwxz5yu", "extra-token"); got != 200 {
		t.Errorf("Ops with -token extra-token=*: %d", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop")
	}
	if want := "connect-emulator listening on " + url + "\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	logged := stderr.String()
	if !strings.Contains(logged, "GET /v1/vaults -> 503") || !strings.Contains(logged, "fault=status") {
		t.Errorf("request log: %s", logged)
	}
	for _, secret := range []string{"demo-token", "extra-token"} {
		if strings.Contains(logged, secret) {
			t.Errorf("stderr contains the token %q", secret)
		}
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Errorf("addr file left behind: %v", err)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	badData := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badData, []byte(`{"vaults": [{"id": "UPPER", "name": "x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no data":        {nil, "-data is required"},
		"missing file":   {[]string{"-data", "/nonexistent.json"}, "no such file"},
		"invalid data":   {[]string{"-data", badData}, "must be 26 lowercase"},
		"bad token flag": {[]string{"-data", demoData, "-token", "secret-value-no-equals"}, "want TOKEN=vaultId"},
		"unknown vault":  {[]string{"-data", demoData, "-token", "secret-value=abcdefghijklmnopqrstuvwxyz"}, "not in the data"},
		"bad fault":      {[]string{"-data", demoData, "-fault", "kind=explode"}, "unknown fault kind"},
		"bad latency":    {[]string{"-data", demoData, "-latency", "soon"}, "invalid value"},
		"stray argument": {[]string{"-data", demoData, "extra"}, "unexpected arguments"},
		"bad address":    {[]string{"-data", demoData, "-addr", "256.0.0.1:http-nope"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), c.args, io.Discard, &stderr)
			if err == nil {
				t.Fatal("run succeeded")
			}
			msg := err.Error() + stderr.String()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q / stderr %q, want %q", err, stderr.String(), c.want)
			}
			if strings.Contains(msg, "secret-value") {
				t.Errorf("the token was echoed: %s", msg)
			}
		})
	}
	if err := run(context.Background(), []string{"-help"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
}

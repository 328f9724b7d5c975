package connect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/shared/provider"
)

const secretToken = "eyJhbGciOiJFUzI1NiJ9.very-secret-token-4711"

func TestConfigure(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	os.WriteFile(good, []byte(secretToken+"\n"), 0o600)
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte(secretToken), 0o644)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	spaced := filepath.Join(dir, "spaced")
	os.WriteFile(spaced, []byte("abc def"), 0o600)

	host := map[string]string{AttrHost: "http://op-connect-api:8080"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range host {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}

	errCases := []struct {
		name string
		cfg  map[string]string
		has  []string
	}{
		{"no host", with(AttrHost, "", AttrToken, secretToken), []string{AttrHost, AttrHostFallback, "not set"}},
		{"host without scheme", with(AttrHost, "op-connect-api:8080", AttrToken, secretToken), []string{AttrHost, "http or https", "http://op-connect-api:8080"}},
		{"IP host without scheme", with(AttrHost, "127.0.0.1:18080", AttrToken, secretToken), []string{AttrHost, "scheme is missing: write http://127.0.0.1:18080"}},
		{"localhost without scheme", with(AttrHost, "localhost:18080", AttrToken, secretToken), []string{AttrHost, "scheme is missing: write http://localhost:18080"}},
		{"one slash", with(AttrHost, "http:/op-connect-api:8080", AttrToken, secretToken), []string{AttrHost, "no host name"}},
		{"scheme-relative", with(AttrHost, "//op-connect-api:8080", AttrToken, secretToken), []string{AttrHost, "scheme is missing: write http://op-connect-api:8080"}},
		{"IPv6 host without scheme", with(AttrHost, "[::1]:18080", AttrToken, secretToken), []string{AttrHost, "scheme is missing: write http://[::1]:18080"}},
		// A misspelt name is reported as such, with the name meant, not as
		// the attribute it was meant to be being missing.
		{"misspelt host", map[string]string{"SECRET_PROVIDER_CONNECT_HOTS": "http://x:8080", AttrToken: secretToken}, []string{`unknown configuration attribute "SECRET_PROVIDER_CONNECT_HOTS" (did you mean SECRET_PROVIDER_CONNECT_HOST?)`}},
		{"misspelt knob", with(AttrToken, secretToken, "request_timout", "5s"), []string{`"request_timout" (did you mean request_timeout?)`}},
		{"unknown attr", with(AttrToken, secretToken, "colour", secretToken), []string{`"colour"`, AttrRequestTimeout}},
		{"ftp host", with(AttrHost, "ftp://op-connect-api", AttrToken, secretToken), []string{AttrHost, "http or https"}},
		{"host no name", with(AttrHost, "http://", AttrToken, secretToken), []string{AttrHost, "no host name"}},
		{"host query", with(AttrHost, "http://x:8080/?a=b", AttrToken, secretToken), []string{AttrHost, "query"}},
		{"host userinfo", with(AttrHost, "http://user:hunter2@x:8080", AttrToken, secretToken), []string{AttrHost, "credentials"}},
		{"host bad url", with(AttrHost, "http://x:8080/%zz", AttrToken, secretToken), []string{AttrHost, "not a valid URL"}},
		{"bad fallback host", map[string]string{AttrHostFallback: "localhost", AttrToken: secretToken}, []string{AttrHostFallback}},
		{"no token", with(), []string{AttrToken, AttrTokenAlt, AttrTokenFile, "not set"}},
		{"both tokens", with(AttrToken, secretToken, AttrTokenFile, good), []string{AttrToken, AttrTokenFile, "mutually exclusive"}},
		{"fallback token and file", with(AttrTokenAlt, secretToken, AttrTokenFile, good), []string{AttrTokenAlt, AttrTokenFile, "mutually exclusive"}},
		{"missing token file", with(AttrTokenFile, filepath.Join(dir, "nope")), []string{AttrTokenFile, filepath.Join(dir, "nope")}},
		{"token file is a dir", with(AttrTokenFile, dir), []string{AttrTokenFile, "directory"}},
		{"empty token file", with(AttrTokenFile, empty), []string{AttrTokenFile, empty, "empty"}},
		{"token with space", with(AttrTokenFile, spaced), []string{AttrTokenFile, "whitespace"}},
		{"bad timeout", with(AttrToken, secretToken, AttrRequestTimeout, "10"), []string{AttrRequestTimeout, "duration"}},
		{"zero timeout", with(AttrToken, secretToken, AttrRequestTimeout, "0s"), []string{AttrRequestTimeout, "range"}},
		{"bad concurrency", with(AttrToken, secretToken, AttrMaxConcurrency, "many"), []string{AttrMaxConcurrency}},
		{"zero concurrency", with(AttrToken, secretToken, AttrMaxConcurrency, "0"), []string{AttrMaxConcurrency, "between 1 and"}},
		{"bad retries", with(AttrToken, secretToken, AttrMaxRetries, "-1"), []string{AttrMaxRetries}},
		// A token in the wrong setting is named, not echoed.
		{"token as timeout", with(AttrToken, secretToken, AttrRequestTimeout, secretToken), []string{AttrRequestTimeout, "not shown"}},
		{"token as concurrency", with(AttrToken, secretToken, AttrMaxConcurrency, secretToken), []string{AttrMaxConcurrency, "not shown"}},
		{"token as host", with(AttrHost, secretToken, AttrToken, secretToken), []string{AttrHost, "not shown"}},
		{"JWT as host", with(AttrHost, "eyJhbGciOiJFUzI1NiJ9."+strings.Repeat("eyJzdWIiOiJ4In0", 8)+".very-secret-token-4711", AttrToken, "x"),
			[]string{AttrHost, "not shown"}},
		{"token in the host's query", with(AttrHost, "http://x:8080/?token=hunter2", AttrToken, secretToken), []string{AttrHost, "query"}},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(nil).Configure(context.Background(), provider.ConfigureRequest{Config: c.cfg})
			if !errors.Is(err, provider.ErrInvalidConfig) {
				t.Fatalf("want invalid_config, got %v", err)
			}
			for _, s := range c.has {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}

	okCases := []struct {
		name     string
		cfg      map[string]string
		host     string
		from     string
		warnings []string
	}{
		{"inline", with(AttrToken, secretToken), "http://op-connect-api:8080", AttrToken, nil},
		{"trailing slash trimmed", with(AttrHost, "HTTPS://connect.example.com/", AttrToken, secretToken), "https://connect.example.com", AttrToken, nil},
		{"path prefix kept", with(AttrHost, "http://proxy/connect//", AttrToken, secretToken), "http://proxy/connect", AttrToken, nil},
		{"fallbacks", map[string]string{AttrHostFallback: "http://x:8080", AttrTokenAlt: secretToken}, "http://x:8080", AttrTokenAlt, nil},
		{"file", with(AttrTokenFile, good), "http://op-connect-api:8080", AttrTokenFile, nil},
		{"loose file warns", with(AttrTokenFile, loose), "http://op-connect-api:8080", AttrTokenFile, []string{"readable by group or others", loose}},
		{"two hosts warn", with(AttrHostFallback, "http://other:8080", AttrToken, secretToken), "http://op-connect-api:8080", AttrToken, []string{AttrHost, AttrHostFallback}},
	}
	for _, c := range okCases {
		t.Run(c.name, func(t *testing.T) {
			p := New(nil)
			resp, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: c.cfg})
			if err != nil {
				t.Fatal(err)
			}
			s, _, _ := p.current()
			if s.host != c.host || s.tokenFrom != c.from || s.token != secretToken {
				t.Errorf("host %q from %q token ok=%v; want %q from %q", s.host, s.tokenFrom, s.token == secretToken, c.host, c.from)
			}
			all := strings.Join(resp.Warnings, "\n")
			if len(c.warnings) == 0 && len(resp.Warnings) > 0 {
				t.Errorf("unexpected warnings: %s", all)
			}
			for _, w := range c.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q: %s", w, all)
				}
			}
			if strings.Contains(all, secretToken) {
				t.Errorf("warning echoes the token")
			}
		})
	}

	t.Run("tuning", func(t *testing.T) {
		p := New(nil)
		_, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: with(AttrToken, secretToken,
			AttrRequestTimeout, "1500ms", AttrMaxConcurrency, "3", AttrMaxRetries, "0")})
		if err != nil {
			t.Fatal(err)
		}
		s, pol, _ := p.current()
		if s.timeout != 1500*time.Millisecond || s.concurrent != 3 || cap(pol.sem) != 3 || pol.retries != 0 {
			t.Errorf("got timeout %s, concurrency %d/%d, retries %d", s.timeout, s.concurrent, cap(pol.sem), pol.retries)
		}
		p = New(nil)
		p.Configure(context.Background(), provider.ConfigureRequest{Config: with(AttrToken, secretToken)})
		s, _, _ = p.current()
		if s.timeout != DefaultRequestTimeout || s.concurrent != DefaultMaxConcurrency || s.retries != DefaultMaxRetries {
			t.Errorf("defaults: %s %d %d", s.timeout, s.concurrent, s.retries)
		}
	})
}

func TestGetInfoSchema(t *testing.T) {
	info, err := New(nil).GetInfo(context.Background(), provider.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != Name || len(info.Schemes) != 1 || info.Schemes[0] != "op" {
		t.Errorf("info %+v", info)
	}
	want := map[string]bool{AttrHost: false, AttrHostFallback: false, AttrToken: true, AttrTokenAlt: true,
		AttrTokenFile: false, AttrCAFile: false, AttrRequestTimeout: false, AttrMaxConcurrency: false, AttrMaxRetries: false}
	if !info.UsesNetwork {
		t.Error("UsesNetwork = false: the host would not pass the proxy and CA settings")
	}
	for _, a := range info.ConfigSchema {
		if a.Name == AttrCAFile && (!a.Path || a.SecretFile) {
			t.Errorf("%s: Path = %v, SecretFile = %v; want a plain path", a.Name, a.Path, a.SecretFile)
		}
		sens, ok := want[a.Name]
		if !ok {
			t.Errorf("unexpected attribute %s", a.Name)
			continue
		}
		delete(want, a.Name)
		if a.Sensitive != sens {
			t.Errorf("%s: Sensitive = %v, want %v", a.Name, a.Sensitive, sens)
		}
		if len(a.Description) < 20 {
			t.Errorf("%s: description too short: %q", a.Name, a.Description)
		}
	}
	for name := range want {
		t.Errorf("schema lacks %s", name)
	}
}

func TestTokenFileReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	os.WriteFile(path, []byte("old-token"), 0o600)
	p := New(nil)
	if _, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: map[string]string{
		AttrHost: "http://x:8080", AttrTokenFile: path}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("new-token\n"), 0o600)
	r, err := p.newResolver(context.Background())
	if err != nil || r.token != "new-token" {
		t.Fatalf("rotated token not picked up: %v", err)
	}
	os.Remove(path)
	if r, _ := p.newResolver(context.Background()); r.token != "old-token" {
		t.Errorf("a vanished file should keep the token read at Configure")
	}
}

func TestNotConfigured(t *testing.T) {
	_, err := New(nil).Resolve(context.Background(), provider.ResolveRequest{References: []string{"op://a/b/c"}})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Errorf("got %v", err)
	}
}

func TestValidateIsOffline(t *testing.T) {
	p := New(nil)
	// A host nothing listens on: Validate must not care.
	p.Configure(context.Background(), provider.ConfigureRequest{Config: map[string]string{AttrHost: "http://127.0.0.1:1", AttrToken: "t"}})
	resp, err := p.Validate(context.Background(), provider.ValidateRequest{References: []string{
		"op://Vault/Item/field", "op://Vault/Item/Section/field?attribute=otp", "vault://x/y", "op://Vault/Item", "op://v/i/f?attribute=bogus", "s3cr3t-pasted-value",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Code{0, 0, provider.CodeInvalidReference, provider.CodeInvalidReference, provider.CodeInvalidReference, provider.CodeInvalidReference}
	for i, r := range resp.Results {
		var got provider.Code
		if r.Err != nil {
			got = r.Err.Code
			if strings.Contains(r.Err.Message, "s3cr3t") {
				t.Errorf("message echoes a non-reference: %v", r.Err)
			}
		}
		if got != want[i] {
			t.Errorf("%s: got %v, want %v", r.Reference, r.Err, want[i])
		}
	}
	if !strings.Contains(resp.Results[2].Err.Message, `"op://"`) {
		t.Errorf("wrong scheme message: %v", resp.Results[2].Err)
	}
}

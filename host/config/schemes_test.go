package config

import (
	"slices"
	"strings"
	"testing"
)

// TestProviderSchemes: a provider block may declare its schemes; they are
// lower-cased, and anything that is not a list of distinct schemes is an
// error naming the attribute's position.
func TestProviderSchemes(t *testing.T) {
	cfg, err := loadSrc(t, "provider \"p\" {\n  schemes = [\"OP\", \"vault\"]\n}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].Schemes; !slices.Equal(got, []string{"op", "vault"}) {
		t.Fatalf("Schemes = %q", got)
	}
	cfg, err = loadSrc(t, "provider \"p\" {}\n", nil)
	if err != nil || cfg.Providers[0].Schemes != nil {
		t.Fatalf("without the attribute: %q, %v", cfg.Providers[0].Schemes, err)
	}

	for _, tc := range []struct{ src, want string }{
		{`schemes = "op"`, `config.hcl:2:13: Invalid schemes: The schemes attribute must be a list`},
		{`schemes = []`, `config.hcl:2:13: Invalid schemes: The schemes list is empty`},
		{`schemes = ["op://"]`, `config.hcl:2:13: Invalid schemes: "op://" is not a scheme`},
		{`schemes = ["op", "Op"]`, `config.hcl:2:13: Invalid schemes: The scheme "op" is listed twice.`},
		{`schemes = [env("S")]`, `config.hcl:2:13: Invalid schemes: The schemes of a provider must be written out`},
	} {
		_, err := loadSrc(t, "provider \"p\" {\n  "+tc.src+"\n}\n", map[string]string{"S": "op"})
		if err == nil || !strings.HasPrefix(firstLine(err.Error()), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

// TestProviderNetwork: a provider block may declare whether its plugin uses
// the network; written out, never read with env() or file().
func TestProviderNetwork(t *testing.T) {
	cfg, err := loadSrc(t, "provider \"p\" {\n  network = true\n}\nprovider \"q\" {\n  network = false\n}\nprovider \"r\" {}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.Providers[0].Network; n == nil || !*n {
		t.Errorf("network = true: %v", n)
	}
	if n := cfg.Providers[1].Network; n == nil || *n {
		t.Errorf("network = false: %v", n)
	}
	if n := cfg.Providers[2].Network; n != nil {
		t.Errorf("without the attribute: %v", *n)
	}
	for _, tc := range []struct{ src, want string }{
		{`network = env("N") == "1"`, `config.hcl:2:13: Invalid network: Whether a plugin uses the network must be written out`},
		{`network = "maybe"`, `config.hcl:2:13:`},
	} {
		_, err := loadSrc(t, "provider \"p\" {\n  "+tc.src+"\n}\n", map[string]string{"N": "1"})
		if err == nil || !strings.HasPrefix(firstLine(err.Error()), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// loadHere writes files (one of them "config.hcl") into a fresh directory,
// changes into it and loads "config.hcl", so that diagnostics say
// "config.hcl:line:col".
func loadHere(t *testing.T, files map[string]string, env map[string]string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return Load("config.hcl", lookup(env))
}

func loadSrc(t *testing.T, src string, env map[string]string) (*Config, error) {
	t.Helper()
	return loadHere(t, map[string]string{"config.hcl": src}, env)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func asConfigError(t *testing.T, err error) *Error {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	if len(ce.Diagnostics) == 0 {
		t.Fatal("*Error without diagnostics")
	}
	return ce
}

func providerNames(cfg *Config) []string {
	var names []string
	for _, p := range cfg.Providers {
		names = append(names, p.Name)
	}
	return names
}

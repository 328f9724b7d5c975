package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadFull(t *testing.T) {
	pin := strings.Repeat("Ab", 32)
	src := `plugin_dir = "bin/plugins"
log_level  = "INFO"

provider "one" {
  plugin          = "one-bin"
  sha256          = "` + pin + `"
  select          = "x"
  config_from_env = true
  config = {
    host    = env("HOST")
    port    = 8080
    ratio   = 0.5
    verbose = true
    absent  = null
    "quoted key" = "q"
  }
}

provider "two" {}
`
	cfg, err := loadSrc(t, src, map[string]string{"HOST": "h"})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs(".")
	want := &Config{
		Source:    "config.hcl",
		Dir:       dir,
		PluginDir: filepath.Join(dir, "bin", "plugins"),
		LogLevel:  "info",
		Providers: []ProviderBlock{
			{
				Name: "one", Plugin: "one-bin", SHA256: strings.ToLower(pin), Select: "x",
				ConfigFromEnv: true,
				Config: map[string]string{
					"host": "h", "port": "8080", "ratio": "0.5", "verbose": "true", "quoted key": "q",
				},
				Pos:          "config.hcl:4:1",
				Dir:          dir,
				SecretConfig: map[string]bool{"host": true},
			},
			{Name: "two", Plugin: "two", Select: "two", Config: map[string]string{}, Pos: "config.hcl:19:1", Dir: dir},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestPluginDir(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "plugins")
	tests := []struct {
		name, attr string
		want       func(cfgDir string) string
	}{
		{"absent", ``, func(string) string { return "" }},
		{"empty", `plugin_dir = ""`, func(string) string { return "" }},
		{"null", `plugin_dir = null`, func(string) string { return "" }},
		{"relative to config dir", `plugin_dir = "../bin/plugins"`, func(d string) string { return filepath.Join(filepath.Dir(d), "bin", "plugins") }},
		{"dot", `plugin_dir = "."`, func(d string) string { return d }},
		{"absolute", fmt.Sprintf("plugin_dir = %q", abs), func(string) string { return abs }},
		{"from env", `plugin_dir = env("PD")`, func(d string) string { return filepath.Join(d, "pd") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			cfgDir := filepath.Join(root, "etc")
			writeFile(t, filepath.Join(cfgDir, "config.hcl"), tt.attr+"\nprovider \"p\" {}\n")
			t.Chdir(root) // the working directory must not matter
			cfg, err := Load(filepath.Join("etc", "config.hcl"), lookup(map[string]string{"PD": "pd"}))
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(cfgDir); cfg.PluginDir != want {
				t.Errorf("PluginDir = %q, want %q", cfg.PluginDir, want)
			}
		})
	}
}

func TestLogLevels(t *testing.T) {
	for _, lvl := range append(LogLevels, "WARN", "Debug") {
		cfg, err := loadSrc(t, fmt.Sprintf("log_level = %q\nprovider \"p\" {}\n", lvl), nil)
		if err != nil {
			t.Fatalf("%s: %v", lvl, err)
		}
		if cfg.LogLevel != strings.ToLower(lvl) {
			t.Errorf("LogLevel = %q, want %q", cfg.LogLevel, strings.ToLower(lvl))
		}
	}
	cfg, err := loadSrc(t, "provider \"p\" {}\n", nil)
	if err != nil || cfg.LogLevel != "" {
		t.Errorf("absent log_level: %q, %v", cfg.LogLevel, err)
	}
}

func TestConfigMap(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		want    map[string]string
		wantErr string
	}{
		{name: "absent", config: ``, want: map[string]string{}},
		{name: "null", config: `config = null`, want: map[string]string{}},
		{name: "empty", config: `config = {}`, want: map[string]string{}},
		{name: "nulls dropped", config: `config = { a = null, b = env("NOPE", null), c = "c" }`, want: map[string]string{"c": "c"}},
		{name: "conversions", config: `config = { n = 42, f = 1.25, big = 12345678901234567890, t = true, f2 = false }`,
			want: map[string]string{"n": "42", "f": "1.25", "big": "12345678901234567890", "t": "true", "f2": "false"}},
		{name: "list value", config: `config = { good = "x", bad = [1, 2] }`,
			wantErr: `config.hcl:2:32: Invalid config value: config values must be strings, numbers or bools; the value for key "bad" is tuple.`},
		{name: "object value", config: `config = { bad = { x = 1 } }`,
			wantErr: `config.hcl:2:20: Invalid config value: config values must be strings, numbers or bools; the value for key "bad" is object.`},
		{name: "not a map", config: `config = "x"`,
			wantErr: `config.hcl:2:12: Invalid config: config must be a map, like config = { name = "value" }; got string.`},
		{name: "list", config: `config = ["x"]`,
			wantErr: `config.hcl:2:12: Invalid config: config must be a map, like config = { name = "value" }; got tuple.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadSrc(t, "provider \"p\" {\n  "+tt.config+"\n}\n", nil)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error: %+v", cfg)
				}
				asConfigError(t, err)
				if got := firstLine(err.Error()); got != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Providers[0].Config; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Config = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // first lines of the diagnostics, in order
	}{
		{
			name: "unknown argument in provider",
			src:  "provider \"p\" {\n  tiemout = \"5s\"\n}\n",
			want: []string{`config.hcl:2:3: Unsupported argument: An argument named "tiemout" is not expected here.`},
		},
		{
			name: "unknown top-level argument",
			src:  "plugin_directory = \"x\"\nprovider \"p\" {}\n",
			want: []string{`config.hcl:1:1: Unsupported argument: An argument named "plugin_directory" is not expected here.`},
		},
		{
			name: "unknown block",
			src:  "plugin \"p\" {}\n",
			want: []string{`config.hcl:1:1: Unsupported block type: Blocks of type "plugin" are not expected here.`},
		},
		{
			name: "nested block in provider",
			src:  "provider \"p\" {\n  config {\n  }\n}\n",
			want: []string{`config.hcl:2:3: Unsupported block type: Blocks of type "config" are not expected here. Did you mean to define argument "config"? If so, use the equals sign to assign it a value.`},
		},
		{
			name: "missing label",
			src:  "provider {}\n",
			want: []string{`config.hcl:1:10: Missing name for provider: All provider blocks must have 1 labels (name).`},
		},
		{
			name: "extra label",
			src:  "provider \"a\" \"b\" {}\n",
			want: []string{`config.hcl:1:14: Extraneous label for provider: Only 1 labels (name) are expected for provider blocks.`},
		},
		{
			name: "attribute redefined",
			src:  "provider \"p\" {\n  plugin = \"a\"\n  plugin = \"b\"\n}\n",
			want: []string{`config.hcl:3:3: Attribute redefined: The argument "plugin" was already set at config.hcl:2,3-9. Each argument may be set only once.`},
		},
		{
			name: "syntax error",
			src:  "provider \"p\" {\n  plugin = \n}\n",
			want: []string{`config.hcl:2:12: Invalid expression: Expected the start of an expression, but found an invalid expression token.`},
		},
		{
			name: "duplicate provider",
			src:  "provider \"p\" {}\n\nprovider \"p\" {}\n",
			want: []string{`config.hcl:3:10: Duplicate provider: A provider named "p" was already defined at config.hcl:1:1. Provider names must be unique.`},
		},
		{
			name: "bad provider name",
			src:  "provider \"my provider\" {}\n",
			want: []string{`config.hcl:1:10: Invalid provider name: A provider name must start with a letter or digit, contain only letters, digits, '_', '.' and '-', and be at most 64 characters long.`},
		},
		{
			name: "provider name with dots becomes the plugin",
			src:  "provider \"a..b\" {}\n",
			want: []string{`config.hcl:1:10: Invalid plugin: The plugin name defaults to the provider name, which contains ".."; set plugin to a plain file name.`},
		},
		{
			name: "sha256 too short",
			src:  "provider \"p\" {\n  sha256 = \"9f86d0\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid sha256: The sha256 pin must be exactly 64 hexadecimal characters (0-9, a-f); this value has 6 characters.`},
		},
		{
			name: "sha256 not hex",
			src:  "provider \"p\" {\n  sha256 = \"" + strings.Repeat("g", 64) + "\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid sha256: The sha256 pin must be exactly 64 hexadecimal characters (0-9, a-f); this value has other characters.`},
		},
		{
			name: "plugin with dot-dot",
			src:  "provider \"p\" {\n  plugin = \"../evil\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid plugin: The plugin name "../evil" must not contain "..".`},
		},
		{
			name: "absolute plugin with dot-dot",
			src:  "provider \"p\" {\n  plugin = \"/opt/plugins/../bin/sh\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid plugin: The plugin name "/opt/plugins/../bin/sh" must not contain "..".`},
		},
		{
			name: "plugin with separator",
			src:  "provider \"p\" {\n  plugin = \"sub/p\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid plugin: The plugin name "sub/p" must be a plain file name inside plugin_dir (or an absolute path), without path separators.`},
		},
		{
			name: "plugin with backslash",
			src:  "provider \"p\" {\n  plugin = \"sub\\\\p\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid plugin: The plugin name "sub\\p" must be a plain file name inside plugin_dir (or an absolute path), without path separators.`},
		},
		{
			name: "empty plugin",
			src:  "provider \"p\" {\n  plugin = \"\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid plugin: The plugin name "" must not be empty.`},
		},
		{
			name: "empty provider select",
			src:  "provider \"p\" {\n  select = \"\"\n}\n",
			want: []string{`config.hcl:2:12: Invalid select: A provider's select value must not be empty; remove the attribute to use the provider name.`},
		},
		{
			name: "unknown log level",
			src:  "log_level = \"verbose\"\nprovider \"p\" {}\n",
			want: []string{`config.hcl:1:13: Invalid log_level: The log level must be one of trace, debug, info, warn, error, off; got "verbose".`},
		},
		{
			name: "enabled not a bool",
			src:  "provider \"p\" {\n  enabled = \"yes\"\n}\n",
			want: []string{`config.hcl:2:13: Incorrect attribute value type: Inappropriate value for attribute "enabled": a bool is required.`},
		},
		{
			name: "config_from_env not a bool",
			src:  "provider \"p\" {\n  config_from_env = [true]\n}\n",
			want: []string{`config.hcl:2:21: Incorrect attribute value type: Inappropriate value for attribute "config_from_env": bool required, but have tuple.`},
		},
		{
			name: "plugin not a string",
			src:  "provider \"p\" {\n  plugin = [\"x\"]\n}\n",
			want: []string{`config.hcl:2:12: Incorrect attribute value type: Inappropriate value for attribute "plugin": string required, but have tuple.`},
		},
		{
			name: "several errors are reported in source order",
			src:  "log_level = \"loud\"\nprovider \"p\" {\n  sha256 = \"x\"\n  plugin = \"../x\"\n}\nprovider \"p\" {}\n",
			want: []string{
				`config.hcl:1:13: Invalid log_level: The log level must be one of trace, debug, info, warn, error, off; got "loud".`,
				`config.hcl:3:12: Invalid sha256: The sha256 pin must be exactly 64 hexadecimal characters (0-9, a-f); this value has 1 characters.`,
				`config.hcl:4:12: Invalid plugin: The plugin name "../x" must not contain "..".`,
				`config.hcl:6:10: Duplicate provider: A provider named "p" was already defined at config.hcl:2:1. Provider names must be unique.`,
			},
		},
		{
			name: "function error gives one diagnostic",
			src:  "provider \"p\" {\n  enabled = env(\"NOPE\") != \"\"\n}\n",
			want: []string{`config.hcl:2:13: Error in function call: Call to function "env" failed: environment variable NOPE is not set.`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadSrc(t, tt.src, nil)
			if err == nil {
				t.Fatalf("no error: %+v", cfg)
			}
			ce := asConfigError(t, err)
			var got []string
			for _, d := range ce.Diagnostics {
				got = append(got, firstLine(d.String()))
				if d.Snippet == "" || !strings.Contains(d.Snippet, "^") {
					t.Errorf("diagnostic without snippet: %q", d.String())
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tt.want)
			}
			if firstLine(err.Error()) != tt.want[0] {
				t.Errorf("Error() starts with %q", firstLine(err.Error()))
			}
		})
	}
}

// The rendered error is the position line followed by the source line and
// an underline.
func TestErrorRendering(t *testing.T) {
	_, err := loadSrc(t, "provider \"p\" {\n  tiemout = \"5s\"\n}\n", nil)
	want := `config.hcl:2:3: Unsupported argument: An argument named "tiemout" is not expected here.
    2 |   tiemout = "5s"
      |   ^^^^^^^`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestPluginAccepted(t *testing.T) {
	for _, plugin := range []string{"onepassword-connect", "p.exe", "/opt/secrethost/plugins/p", "a.b"} {
		cfg, err := loadSrc(t, fmt.Sprintf("provider \"p\" {\n  plugin = %q\n}\n", plugin), nil)
		if err != nil {
			t.Errorf("%s: %v", plugin, err)
			continue
		}
		if cfg.Providers[0].Plugin != plugin {
			t.Errorf("Plugin = %q, want %q", cfg.Providers[0].Plugin, plugin)
		}
	}
}

// config.hcl at the repository root must stay identical to the embedded
// default, and load to the same result.
func TestDefaultMatchesRepoConfig(t *testing.T) {
	repo, err := os.ReadFile(filepath.Join("..", "..", "config.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(repo, defaultHCL) {
		t.Fatal("config.hcl at the repository root differs from host/config/default.hcl; keep them byte-identical")
	}
	envs := []map[string]string{
		{"SECRET_PROVIDER": "1password"},
		{"SECRET_PROVIDER": "1password", "OP_CONNECT_HOST": "http://c"},
		{"SECRET_PROVIDER": "bogus"},
		{},
	}
	for _, env := range envs {
		fromFile, errFile := Load(filepath.Join("..", "..", "config.hcl"), lookup(env))
		builtin, errBuiltin := LoadDefault(lookup(env))
		if (errFile == nil) != (errBuiltin == nil) {
			t.Fatalf("env %v: file error %v, built-in error %v", env, errFile, errBuiltin)
		}
		if errFile != nil {
			if errFile.Error() != errBuiltin.Error() {
				t.Errorf("env %v: errors differ:\n%v\n%v", env, errFile, errBuiltin)
			}
			continue
		}
		if !reflect.DeepEqual(providerNames(fromFile), providerNames(builtin)) {
			t.Errorf("env %v: file selects %v, built-in %v", env, providerNames(fromFile), providerNames(builtin))
		}
	}
}

func TestBuiltinDefault(t *testing.T) {
	cfg, err := LoadDefault(lookup(map[string]string{"SECRET_PROVIDER": "1password"}))
	if err != nil {
		t.Fatal(err)
	}
	network := true
	want := &Config{
		Source: BuiltinSource,
		Origin: BuiltinSource,
		Secret: []string{"select"}, // SECRET_PROVIDER, read with env()
		Providers: []ProviderBlock{{
			Name: "onepassword-sa", Plugin: "onepassword-sa", Select: "1password",
			ConfigFromEnv: true, Config: map[string]string{},
			Schemes: []string{"op"}, Network: &network,
			Pos: cfg.Providers[0].Pos,
		}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if !strings.HasPrefix(cfg.Providers[0].Pos, "<built-in default>:") {
		t.Errorf("Pos = %q", cfg.Providers[0].Pos)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.hcl"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
	_, err = Load(t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("err = %v", err)
	}
}

// Any file extension works (hclsimple would insist on .hcl or .json).
func TestAnyExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrethost.conf")
	writeFile(t, path, "provider \"p\" {}\n")
	cfg, err := Load(path, lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != path {
		t.Errorf("Source = %q", cfg.Source)
	}
}

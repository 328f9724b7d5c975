package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// The expression under test sits at line 3, column 9.
const exprTemplate = `provider "p" {
  config = {
    v = %s
  }
}
`

func TestFunctions(t *testing.T) {
	env := map[string]string{
		"A":      "alpha",
		"EMPTY":  "",
		"SPACED": "  padded  ",
	}
	files := map[string]string{
		"token":      "  tok-en\n\n",
		"sub/nested": "nested\n",
	}
	tests := []struct {
		name    string
		expr    string
		want    string // expected config value
		absent  bool   // the entry is dropped
		wantErr string // expected first line of the error
	}{
		{name: "env set", expr: `env("A")`, want: "alpha"},
		{name: "env set with default", expr: `env("A", "d")`, want: "alpha"},
		{name: "env set empty ignores default", expr: `env("EMPTY", "d")`, want: ""},
		{name: "env unset default", expr: `env("NOPE", "d")`, want: "d"},
		{name: "env unset default number", expr: `env("NOPE", 5)`, want: "5"},
		{name: "env unset default null drops entry", expr: `env("NOPE", null)`, absent: true},
		{name: "env unset", expr: `env("NOPE")`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "env" failed: environment variable NOPE is not set.`},
		{name: "env empty name", expr: `env("")`,
			wantErr: `config.hcl:3:15: Invalid function argument: Invalid value for "name" parameter: the environment variable name must not be empty.`},
		{name: "env too many arguments", expr: `env("A", "b", "c")`,
			wantErr: `config.hcl:3:24: Invalid function argument: Invalid value for "default" parameter: env takes a name and at most one default.`},
		{name: "env no arguments", expr: `env()`,
			wantErr: `config.hcl:3:13: Not enough function arguments: Function "env" expects at least 1 argument(s). Missing value for "name".`},
		{name: "env keeps whitespace", expr: `env("SPACED")`, want: "  padded  "},
		{name: "file relative, trimmed", expr: `file("token")`, want: "tok-en"},
		{name: "file relative subdirectory", expr: `file("sub/nested")`, want: "nested"},
		{name: "file missing", expr: `file("missing")`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "file" failed: cannot read file "missing" (resolved to "DIR/missing"): no such file or directory.`},
		{name: "file directory", expr: `file("sub")`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "file" failed: cannot read file "sub" (resolved to "DIR/sub"): is a directory.`},
		{name: "file not regular", expr: `file("/dev/null")`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "file" failed: cannot read file "/dev/null": not a regular file.`},
		{name: "file empty path", expr: `file("")`,
			wantErr: `config.hcl:3:16: Invalid function argument: Invalid value for "path" parameter: the path must not be empty.`},
		{name: "file path from env", expr: `file(env("A"))`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "file" failed: cannot read file (path computed from env() or file(), not shown): no such file or directory.`},
		{name: "trimspace", expr: `trimspace(env("SPACED"))`, want: "padded"},
		{name: "upper", expr: `upper(env("A"))`, want: "ALPHA"},
		{name: "lower", expr: `lower("MiXeD")`, want: "mixed"},
		{name: "coalesce", expr: `coalesce(env("NOPE", null), env("A", null), "x")`, want: "alpha"},
		{name: "coalesce all null", expr: `coalesce(env("NOPE", null), null)`,
			wantErr: `config.hcl:3:9: Error in function call: Call to function "coalesce" failed: no non-null arguments.`},
		{name: "template", expr: `"${env("A")}-${file("token")}"`, want: "alpha-tok-en"},
		{name: "conditional", expr: `env("A", "") != "" ? "on" : "off"`, want: "on"},
		{name: "unknown function", expr: `nope("x")`,
			wantErr: `config.hcl:3:9: Call to unknown function: There is no function named "nope".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := map[string]string{"config.hcl": fmt.Sprintf(exprTemplate, tt.expr)}
			for k, v := range files {
				all[k] = v
			}
			cfg, err := loadHere(t, all, env)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error; config = %+v", cfg)
				}
				asConfigError(t, err)
				dir, _ := filepath.Abs(".")
				want := strings.ReplaceAll(tt.wantErr, "DIR", dir)
				if got := firstLine(err.Error()); got != want {
					t.Errorf("error:\n got %s\nwant %s", got, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := cfg.Providers[0].Config["v"]
			if tt.absent {
				if ok {
					t.Errorf("entry v = %q, want it dropped", got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Errorf("v = %q (present %v), want %q", got, ok, tt.want)
			}
		})
	}
}

// An absolute path in file() is used as is.
func TestFileAbsolute(t *testing.T) {
	other := t.TempDir()
	abs := filepath.Join(other, "secret")
	writeFile(t, abs, "value\n")
	cfg, err := loadSrc(t, fmt.Sprintf(exprTemplate, fmt.Sprintf("file(%q)", abs)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].Config["v"]; got != "value" {
		t.Errorf("v = %q", got)
	}
}

// Relative file() paths are relative to the configuration file, not to the
// working directory.
func TestFileRelativeToConfigDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "conf", "config.hcl"), fmt.Sprintf(exprTemplate, `file("token")`))
	writeFile(t, filepath.Join(dir, "conf", "token"), "right")
	writeFile(t, filepath.Join(dir, "token"), "wrong")
	t.Chdir(dir)
	cfg, err := Load(filepath.Join("conf", "config.hcl"), lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].Config["v"]; got != "right" {
		t.Errorf("v = %q, want %q", got, "right")
	}
}

func TestFileTooLarge(t *testing.T) {
	big := strings.Repeat("x", maxFileSize+1)
	_, err := loadHere(t, map[string]string{
		"config.hcl": fmt.Sprintf(exprTemplate, `file("big")`),
		"big":        big,
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileNotUTF8(t *testing.T) {
	_, err := loadHere(t, map[string]string{
		"config.hcl": fmt.Sprintf(exprTemplate, `file("bin")`),
		"bin":        "\xff\xfe",
	}, nil)
	if err == nil || !strings.Contains(err.Error(), `file "bin" (resolved to`) || !strings.Contains(err.Error(), "is not valid UTF-8 text") {
		t.Fatalf("err = %v", err)
	}
}

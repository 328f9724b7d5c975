package config

import (
	"errors"
	"reflect"
	"testing"
)

// The built-in default: doco-cd environment mode.
func TestDefaultSelection(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		want     []string
		wantErr  error
		wantText string
	}{
		{
			name: "1password without a Connect host uses the service account",
			env:  map[string]string{"SECRET_PROVIDER": "1password", "SECRET_PROVIDER_ACCESS_TOKEN": "ops_x"},
			want: []string{"onepassword-sa"},
		},
		{
			name: "SECRET_PROVIDER_CONNECT_HOST selects Connect",
			env:  map[string]string{"SECRET_PROVIDER": "1password", "SECRET_PROVIDER_CONNECT_HOST": "http://connect:8080"},
			want: []string{"onepassword-connect"},
		},
		{
			name: "OP_CONNECT_HOST fallback",
			env:  map[string]string{"SECRET_PROVIDER": "1password", "OP_CONNECT_HOST": "http://connect:8080"},
			want: []string{"onepassword-connect"},
		},
		{
			name: "empty SECRET_PROVIDER_CONNECT_HOST does not hide OP_CONNECT_HOST",
			env:  map[string]string{"SECRET_PROVIDER": "1password", "SECRET_PROVIDER_CONNECT_HOST": "", "OP_CONNECT_HOST": "http://c"},
			want: []string{"onepassword-connect"},
		},
		{
			name: "empty Connect hosts count as unset",
			env:  map[string]string{"SECRET_PROVIDER": "1password", "SECRET_PROVIDER_CONNECT_HOST": "", "OP_CONNECT_HOST": ""},
			want: []string{"onepassword-sa"},
		},
		{
			name:     "unknown SECRET_PROVIDER lists what is available",
			env:      map[string]string{"SECRET_PROVIDER": "bitwarden_sm"},
			wantErr:  ErrUnknownProvider,
			wantText: `unknown provider in SECRET_PROVIDER (its value, read with env() or file(), is not shown); available: 1password`,
		},
		{
			name:     "selector comparison is exact",
			env:      map[string]string{"SECRET_PROVIDER": "1Password"},
			wantErr:  ErrUnknownProvider,
			wantText: `unknown provider in SECRET_PROVIDER (its value, read with env() or file(), is not shown); available: 1password`,
		},
		{
			name:     "empty SECRET_PROVIDER",
			env:      map[string]string{"SECRET_PROVIDER": ""},
			wantErr:  ErrNoProvider,
			wantText: `nothing selects a provider: SECRET_PROVIDER is empty; set it to one of: 1password`,
		},
		{
			name:     "unset SECRET_PROVIDER",
			env:      map[string]string{},
			wantErr:  ErrNoProvider,
			wantText: `nothing selects a provider: SECRET_PROVIDER is empty; set it to one of: 1password`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadDefault(lookup(tt.env))
			if tt.wantErr != nil {
				checkSelectionError(t, err, tt.wantErr, tt.wantText)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := providerNames(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("providers = %v, want %v", got, tt.want)
			}
			for _, p := range cfg.Providers {
				if !p.ConfigFromEnv || p.Select != "1password" {
					t.Errorf("provider %+v", p)
				}
			}
		})
	}
}

func checkSelectionError(t *testing.T, err, sentinel error, text string) *SelectionError {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %v", err, sentinel)
	}
	var se *SelectionError
	if !errors.As(err, &se) {
		t.Fatalf("err is %T, want *SelectionError", err)
	}
	if err.Error() != text {
		t.Errorf("error:\n got %s\nwant %s", err.Error(), text)
	}
	return se
}

func TestSelection(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		env      map[string]string
		want     []string
		wantErr  error
		wantText string
	}{
		{
			name: "no select: every enabled provider, in file order",
			src:  `provider "b" {}` + "\n" + `provider "off" { enabled = false }` + "\n" + `provider "a" {}`,
			want: []string{"b", "a"},
		},
		{
			name: "select = null behaves as absent",
			src:  `select = env("SP", null)` + "\n" + `provider "a" {}`,
			want: []string{"a"},
		},
		{
			name: "select defaults to the label",
			src:  `select = env("SP")` + "\n" + `provider "a" {}` + "\n" + `provider "b" {}`,
			env:  map[string]string{"SP": "b"},
			want: []string{"b"},
		},
		{
			name: "several providers may answer to one selector",
			src: `select = "x"
provider "a" { select = "x" }
provider "b" { select = "y" }
provider "c" { select = "x" }
provider "d" {
  select  = "x"
  enabled = false
}`,
			want: []string{"a", "c"},
		},
		{
			name: "enabled from a string",
			src:  `provider "a" { enabled = env("ON") }`,
			env:  map[string]string{"ON": "true"},
			want: []string{"a"},
		},
		{
			name: "config of an inactive provider is not evaluated",
			src: `select = "b"
provider "a" { config = { t = env("UNSET") } }
provider "b" {}`,
			want: []string{"b"},
		},
		{
			name:     "available selectors are distinct and sorted",
			src:      `select = env("SP")` + "\n" + `provider "a" { select = "zeta" }` + "\n" + `provider "b" { select = "alpha" }` + "\n" + `provider "c" { select = "zeta" }`,
			env:      map[string]string{"SP": "nope"},
			wantErr:  ErrUnknownProvider,
			wantText: `unknown provider in SP (its value, read with env() or file(), is not shown); available: alpha, zeta`,
		},
		{
			name: "disabled providers still count as available",
			src: `select = env("SP", "")
provider "a" { enabled = false }`,
			env:      map[string]string{"SP": ""},
			wantErr:  ErrNoProvider,
			wantText: `nothing selects a provider: SP is empty; set it to one of: a`,
		},
		{
			name: "selected but none enabled",
			src: `select = env("SP")
provider "a" {
  select  = "x"
  enabled = false
}
provider "b" {
  select  = "x"
  enabled = env("B", "") != ""
}
provider "c" { select = "y" }`,
			env:      map[string]string{"SP": "x"},
			wantErr:  ErrNoActiveProvider,
			wantText: `SP selects a provider (its value, read with env() or file(), is not shown), but no provider for it is enabled; disabled: a (config.hcl:2:1), b (config.hcl:6:1)`,
		},
		{
			name:     "literal select names its position",
			src:      `select = "q"` + "\n" + `provider "a" {}`,
			wantErr:  ErrUnknownProvider,
			wantText: `unknown provider "q" in select (config.hcl:1:1); available: a`,
		},
		{
			name:     "no provider blocks",
			src:      `log_level = "info"`,
			wantErr:  ErrNoActiveProvider,
			wantText: `no provider is configured: config.hcl has no provider blocks`,
		},
		{
			name:     "no provider blocks with select",
			src:      `select = env("SP")`,
			env:      map[string]string{"SP": "x"},
			wantErr:  ErrUnknownProvider,
			wantText: `unknown provider in SP (its value, read with env() or file(), is not shown); available: none (config.hcl has no provider blocks)`,
		},
		{
			name:     "all disabled",
			src:      `provider "a" { enabled = false }` + "\n" + `provider "b" { enabled = false }`,
			wantErr:  ErrNoActiveProvider,
			wantText: `no provider is enabled in config.hcl; disabled: a (config.hcl:1:1), b (config.hcl:2:1)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadSrc(t, tt.src+"\n", tt.env)
			if tt.wantErr != nil {
				checkSelectionError(t, err, tt.wantErr, tt.wantText)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := providerNames(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("providers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSelectionErrorFields(t *testing.T) {
	_, err := loadSrc(t, "log_level = \"info\"\nselect = env(\"SECRET_PROVIDER\", \"\")\nprovider \"a\" { select = \"1password\" }\n",
		map[string]string{"SECRET_PROVIDER": "vault"})
	se := checkSelectionError(t, err, ErrUnknownProvider, `unknown provider in SECRET_PROVIDER (its value, read with env() or file(), is not shown); available: 1password`)
	want := &SelectionError{
		Err: ErrUnknownProvider, Selector: "SECRET_PROVIDER", Available: []string{"1password"}, Pos: "config.hcl:2:1",
		msg: se.msg,
	}
	if !reflect.DeepEqual(se, want) {
		t.Errorf("got %+v\nwant %+v", se, want)
	}
	if errors.Is(err, ErrNoProvider) || errors.Is(err, ErrNoActiveProvider) {
		t.Error("matches another sentinel")
	}
}

// Package config loads and validates the secrethost configuration: an HCL
// file that names the provider plugins to run and how to configure them.
//
// A file looks like this (see config.hcl at the repository root, which is
// identical to the built-in default, for a commented version):
//
//	plugin_dir = "bin/plugins"          # optional; relative to this file
//	log_level  = "info"                 # optional
//	select     = env("SECRET_PROVIDER", "")
//
//	provider "onepassword-connect" {
//	  plugin          = "onepassword-connect"   # default: the label
//	  sha256          = "9f86d0..."             # optional pin
//	  select          = "1password"             # default: the label
//	  enabled         = env("OP_CONNECT_HOST", "") != ""
//	  config_from_env = true
//	  config = {
//	    SECRET_PROVIDER_CONNECT_TOKEN = file("/run/secrets/op_connect_token")
//	  }
//	}
//
// Expressions may call env(name), env(name, default), file(path),
// trimspace, lower, upper and coalesce. Values obtained through env() and
// file() are treated as secrets, whatever attribute they set: no error
// produced by this package contains them, and Config.Secret,
// ProviderBlock.Secret and ProviderBlock.SecretConfig tell the host which attributes
// hold such values, so that it keeps them out of its own messages too.
//
// The configuration file comes from --config (FindAndLoad's flagPath) or
// $SECRETHOST_CONFIG; otherwise the built-in default is used. The working
// directory is never searched. A file that its group or others may write,
// or that is owned by another user than root or the current one, is refused
// (ErrUntrustedFile), as is one below a directory like that.
//
// Load, LoadDefault and FindAndLoad return *Error for a file that is invalid
// (each problem with "file:line:col" and a source snippet) and
// *SelectionError when the file is valid but the environment selects no
// usable provider.
package config

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// defaultHCL is the built-in configuration ("doco-cd environment mode").
// The repository's config.hcl is byte-identical to it.
//
//go:embed default.hcl
var defaultHCL []byte

const (
	// BuiltinSource is Config.Source and Config.Origin for the built-in
	// default.
	BuiltinSource = "built-in default"
	// BuiltinFilename is the file name diagnostics use for the built-in
	// default.
	BuiltinFilename = "<built-in default>"
	// EnvConfigPath names the environment variable that points at the
	// configuration file when --config is not given.
	EnvConfigPath = "SECRETHOST_CONFIG"
	// OriginFlag is Config.Origin for a file named by the --config flag
	// (the flagPath of FindAndLoad).
	OriginFlag = "--config"
)

// LogLevels are the accepted values of log_level.
var LogLevels = []string{"trace", "debug", "info", "warn", "error", "off"}

// Config is a loaded, validated configuration.
type Config struct {
	// Source is the path the configuration was loaded from (as given), or
	// BuiltinSource.
	Source string
	// Origin says how Source was chosen: OriginFlag, EnvConfigPath,
	// BuiltinSource, or "" for a file given to Load. Callers that load a
	// file themselves may set it (host.Open does).
	Origin string
	// Dir is the absolute directory of the configuration file, against
	// which its relative paths resolve; "" for the built-in default, whose
	// relative paths resolve against the working directory.
	Dir string
	// PluginDir is the absolute plugin directory, or "" when the file does
	// not set one (the host then picks its own default).
	PluginDir string
	// LogLevel is one of LogLevels, or "" when not set.
	LogLevel string
	// Providers are the active providers (enabled and, if the file has a
	// top-level select, selected), in file order. Never empty.
	Providers []ProviderBlock
	// Secret names the top-level attributes (plugin_dir, log_level, select)
	// whose value was computed from env() or file(). Such a value is a
	// secret: it must never appear in a message (see IsSecret).
	Secret []string
}

// IsSecret reports whether the top-level attribute name (plugin_dir,
// log_level, select) got its value from env() or file().
func (c *Config) IsSecret(name string) bool { return slices.Contains(c.Secret, name) }

// Describe names the configuration for a log line: "built-in default", or
// the quoted path and where it came from. It holds no value of the file.
func (c *Config) Describe() string {
	if c.Source == BuiltinSource || c.Source == "" {
		return BuiltinSource
	}
	s := strconv.Quote(c.Source)
	if c.Origin != "" {
		s += " (from " + c.Origin + ")"
	}
	return s
}

// ProviderBlock is one active provider block of the configuration (not
// provider.Provider, the interface a plugin implements).
type ProviderBlock struct {
	Name   string // the block label; unique
	Plugin string // binary name inside PluginDir (or an absolute path); never contains ".."
	SHA256 string // lowercase hex, or "" when not pinned
	Select string // the selector value this provider answers to
	// ConfigFromEnv asks the host to fill the plugin's configuration from
	// the environment variables the plugin declares in its schema.
	ConfigFromEnv bool
	// Config holds the config map with null entries dropped and numbers and
	// bools converted to strings. Never nil. Values may be secrets.
	Config map[string]string
	// Schemes, when not empty, are the reference schemes (lower-case,
	// without "://") the block declares its plugin handles (schemes =
	// ["op"]): the host then routes to it without starting it first, so a
	// call starts only the providers its references use, and refuses a
	// plugin that handles other schemes. Empty: the host starts the plugin
	// to learn them.
	Schemes []string
	// Network, when not nil, declares what the plugin's schema says of
	// network use (network = true or false): the host then starts the plugin
	// once, with the network settings (proxy, CA) or without, instead of
	// starting it to ask and again with them, and refuses a plugin whose
	// schema says otherwise. Nil: the host asks the plugin.
	Network *bool
	// Pos is "file:line:col" of the provider block.
	Pos string
	// Dir is the directory relative paths in Config resolve against: the
	// configuration file's (absolute), or "" for the built-in default,
	// meaning the working directory.
	Dir string
	// Secret names the attributes of the block (plugin, sha256, select,
	// enabled, config_from_env) whose value was computed from env() or
	// file(), and holds "config" when the config map's keys were (then
	// every key and value of Config is a secret). Such a value must never
	// appear in a message. See IsSecret.
	Secret []string
	// SecretConfig holds the keys of Config whose value was computed from
	// env() or file(). Such a value must never appear in a message; the
	// host scrubs it from whatever the plugin says back. (Values the host
	// reads for config_from_env are not covered: the plugin's schema
	// decides which of those are secret.)
	SecretConfig map[string]bool
}

// IsSecret reports whether the block attribute name (plugin, sha256,
// select, enabled, config_from_env, or config for the map's keys) got its
// value from env() or file().
func (p *ProviderBlock) IsSecret(name string) bool { return slices.Contains(p.Secret, name) }

// Locate finds the configuration file: the --config flag value if not
// empty, else $SECRETHOST_CONFIG if not empty. Otherwise it reports
// builtin = true. The working directory is never searched: whoever can
// write there (a deploy repository has many writers) must not be able to
// choose the plugins and where tokens go. It does not check that a path
// from the flag or the environment exists: Load reports that.
func Locate(flagPath string, lookupEnv func(string) (string, bool)) (path string, builtin bool) {
	path, _, builtin = locate(flagPath, orOS(lookupEnv))
	return path, builtin
}

func locate(flagPath string, lookupEnv func(string) (string, bool)) (path, origin string, builtin bool) {
	if flagPath != "" {
		return flagPath, OriginFlag, false
	}
	if v, ok := lookupEnv(EnvConfigPath); ok && v != "" {
		return v, EnvConfigPath, false
	}
	return "", "", true
}

// FindAndLoad locates the configuration (see Locate) and loads it. A file named
// by --config or SECRETHOST_CONFIG that does not exist is an error, and so
// is one that others may change (see Load).
// A nil lookupEnv means os.LookupEnv.
func FindAndLoad(flagPath string, lookupEnv func(string) (string, bool)) (*Config, error) {
	lookupEnv = orOS(lookupEnv)
	path, origin, builtin := locate(flagPath, lookupEnv)
	if builtin {
		return LoadDefault(lookupEnv)
	}
	return load(path, origin, lookupEnv)
}

// Load reads, evaluates and validates the configuration file at path.
// Relative paths in it (plugin_dir, file(), and the config values the
// plugin's schema marks as paths) are relative to its directory.
//
// The file must be trustworthy, since it decides which programs run and
// where credentials are sent: a file writable by its group or by others, or
// owned by anyone but root or the current user, is refused with an error
// wrapping ErrUntrustedFile that says why and how to fix it; so is a file
// below a directory like that (unless the directory is sticky, like /tmp).
// A nil lookupEnv means os.LookupEnv.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	return load(path, "", orOS(lookupEnv))
}

// LoadDefault evaluates the built-in default configuration. Relative file()
// paths in it would be relative to the working directory.
// A nil lookupEnv means os.LookupEnv.
func LoadDefault(lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg, err := parse(defaultHCL, BuiltinFilename, BuiltinSource, "", orOS(lookupEnv))
	if cfg != nil {
		cfg.Origin = BuiltinSource
	}
	return cfg, err
}

// maxConfigSize bounds the configuration file.
const maxConfigSize = 4 << 20

func load(path, origin string, lookupEnv func(string) (string, bool)) (*Config, error) {
	from := ""
	if origin != "" {
		from = " (from " + origin + ")"
	}
	src, err := readTrusted(path, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("config file %q%s: %w", path, from, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config file %q%s: %w", path, from, err)
	}
	cfg, err := parse(src, path, path, filepath.Dir(abs), lookupEnv)
	if cfg != nil {
		cfg.Origin = origin
	}
	return cfg, err
}

func orOS(lookupEnv func(string) (string, bool)) func(string) (string, bool) {
	if lookupEnv == nil {
		return os.LookupEnv
	}
	return lookupEnv
}

// fileSchema is the top level of the file, decoded by gohcl. Attributes
// are kept unevaluated (*hcl.Attribute) and evaluated by hand, so that a
// failing function call gives one diagnostic instead of two, and so that
// sensitive marks can be inspected. gohcl reports unknown arguments and
// blocks, missing labels and repeated attributes, with source ranges.
type fileSchema struct {
	PluginDir *hcl.Attribute   `hcl:"plugin_dir,optional"`
	LogLevel  *hcl.Attribute   `hcl:"log_level,optional"`
	Select    *hcl.Attribute   `hcl:"select,optional"`
	Providers []providerSchema `hcl:"provider,block"`
}

type providerSchema struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`
	DefRange  hcl.Range `hcl:",def_range"`

	Plugin        *hcl.Attribute `hcl:"plugin,optional"`
	SHA256        *hcl.Attribute `hcl:"sha256,optional"`
	Select        *hcl.Attribute `hcl:"select,optional"`
	Enabled       *hcl.Attribute `hcl:"enabled,optional"`
	ConfigFromEnv *hcl.Attribute `hcl:"config_from_env,optional"`
	Config        *hcl.Attribute `hcl:"config,optional"`
	Schemes       *hcl.Attribute `hcl:"schemes,optional"`
	Network       *hcl.Attribute `hcl:"network,optional"`
}

func decodeStructure(body hcl.Body) (*fileSchema, hcl.Diagnostics) {
	raw := &fileSchema{}
	diags := gohcl.DecodeBody(body, nil, raw)
	return raw, diags
}

// loader evaluates one file.
type loader struct {
	*evaluator
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func parse(src []byte, filename, source, baseDir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, newError(diags, p.Files(), nil)
	}
	raw, diags := decodeStructure(f.Body)
	if diags.HasErrors() {
		return nil, newError(diags, p.Files(), nil)
	}

	ev := &evaluator{lookupEnv: lookupEnv, baseDir: baseDir}
	l := &loader{evaluator: ev, ctx: ev.evalContext()}
	cfg, err := l.build(raw, filename, source, baseDir)
	if l.diags.HasErrors() {
		return nil, newError(l.diags, p.Files(), ev.sensitive)
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// provider is a provider block after evaluation, before selection.
type provider struct {
	ProviderBlock
	enabled bool
	schema  *providerSchema
}

func (l *loader) build(raw *fileSchema, filename, source, baseDir string) (*Config, error) {
	cfg := &Config{Source: source, Dir: baseDir}
	secret := func(name string, sensitive bool) {
		if sensitive {
			cfg.Secret = append(cfg.Secret, name)
		}
	}

	dir, ok, sensitive := l.str(raw.PluginDir)
	secret("plugin_dir", sensitive)
	if ok && dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(baseDir, dir)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			l.errorf(raw.PluginDir.Expr.Range(), "Invalid plugin_dir", "Cannot make the plugin directory absolute: %v.", err)
		}
		cfg.PluginDir = abs
	}

	lvl, ok, sensitive := l.str(raw.LogLevel)
	secret("log_level", sensitive)
	if ok {
		norm := strings.ToLower(lvl)
		if slices.Contains(LogLevels, norm) {
			cfg.LogLevel = norm
		} else {
			l.errorf(raw.LogLevel.Expr.Range(), "Invalid log_level", "The log level must be one of %s; got %s.",
				strings.Join(LogLevels, ", "), show(lvl, sensitive))
		}
	}

	selectVal, selectSet, selectSensitive := l.str(raw.Select)
	secret("select", selectSensitive)

	var providers []*provider
	seen := map[string]hcl.Range{}
	for i := range raw.Providers {
		ps := &raw.Providers[i]
		p := l.provider(ps)
		if prev, dup := seen[ps.Name]; dup {
			l.errorf(ps.NameRange, "Duplicate provider", "A provider named %q was already defined at %s. Provider names must be unique.",
				ps.Name, posOf(prev))
		} else {
			seen[ps.Name] = ps.DefRange
		}
		providers = append(providers, p)
	}
	if l.diags.HasErrors() {
		return nil, nil
	}

	sel := selection{providers: providers, filename: filename}
	if selectSet {
		sel.attr = raw.Select
		sel.value, sel.sensitive = selectVal, selectSensitive
	}
	active, err := sel.run()
	if err != nil {
		return nil, err
	}

	// config is evaluated for active providers only, so that a provider not
	// in use may read variables that are not set.
	for _, p := range active {
		p.Config = l.configMap(&p.ProviderBlock, p.schema.Config)
		cfg.Providers = append(cfg.Providers, p.ProviderBlock)
	}
	if l.diags.HasErrors() {
		return nil, nil
	}
	return cfg, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

const maxNameLen = 64

func (l *loader) provider(ps *providerSchema) *provider {
	p := &provider{
		ProviderBlock: ProviderBlock{
			Name:   ps.Name,
			Plugin: ps.Name,
			Select: ps.Name,
			Config: map[string]string{},
			Pos:    posOf(ps.DefRange),
			Dir:    l.baseDir,
		},
		enabled: true,
		schema:  ps,
	}
	if !namePattern.MatchString(ps.Name) || len(ps.Name) > maxNameLen {
		l.errorf(ps.NameRange, "Invalid provider name",
			"A provider name must start with a letter or digit, contain only letters, digits, '_', '.' and '-', and be at most %d characters long.", maxNameLen)
	}

	secret := func(name string, sensitive bool) {
		if sensitive {
			p.Secret = append(p.Secret, name)
		}
	}

	v, ok, sensitive := l.str(ps.Plugin)
	secret("plugin", sensitive)
	if ok {
		if msg := checkPlugin(v); msg != "" {
			l.errorf(ps.Plugin.Expr.Range(), "Invalid plugin", "The plugin name %s %s.", show(v, sensitive), msg)
		}
		p.Plugin = v
	} else if ps.Plugin == nil && strings.Contains(ps.Name, "..") {
		l.errorf(ps.NameRange, "Invalid plugin",
			"The plugin name defaults to the provider name, which contains \"..\"; set plugin to a plain file name.")
	}

	v, ok, sensitive = l.str(ps.SHA256)
	secret("sha256", sensitive)
	if ok && v != "" {
		if len(v) != 64 || !isHex(v) {
			detail := fmt.Sprintf("this value has %d characters", len(v))
			if len(v) == 64 {
				detail = "this value has other characters"
			}
			l.errorf(ps.SHA256.Expr.Range(), "Invalid sha256",
				"The sha256 pin must be exactly 64 hexadecimal characters (0-9, a-f); %s.", detail)
		}
		p.SHA256 = strings.ToLower(v)
	}

	v, ok, sensitive = l.str(ps.Select)
	secret("select", sensitive)
	if ok {
		if v == "" {
			l.errorf(ps.Select.Expr.Range(), "Invalid select", "A provider's select value must not be empty; remove the attribute to use the provider name.")
		}
		p.Select = v
	}

	b, ok, sensitive := l.boolean(ps.Enabled)
	secret("enabled", sensitive)
	if ok {
		p.enabled = b
	}
	b, ok, sensitive = l.boolean(ps.ConfigFromEnv)
	secret("config_from_env", sensitive)
	if ok {
		p.ConfigFromEnv = b
	}
	p.Schemes = l.schemes(ps.Schemes)
	if ps.Network != nil {
		b, ok, sensitive = l.boolean(ps.Network)
		if sensitive {
			// Like schemes: what a plugin is given must not hang on a secret.
			l.errorf(ps.Network.Expr.Range(), "Invalid network", "Whether a plugin uses the network must be written out (network = true or false), not read with env() or file().")
		} else if ok {
			p.Network = &b
		}
	}
	return p
}

var schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// schemes evaluates a provider's schemes attribute: a non-empty list of
// distinct reference schemes (RFC 3986 syntax, without "://"), returned
// lower-cased. Not a place for env() or file(): a scheme is no secret, and
// a list that depends on the environment would route by it.
func (l *loader) schemes(attr *hcl.Attribute) []string {
	v, sensitive, ok := l.eval(attr)
	if !ok {
		return nil
	}
	if sensitive {
		l.errorf(attr.Expr.Range(), "Invalid schemes", "The schemes of a provider must be written out, not read with env() or file().")
		return nil
	}
	v, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || v.IsNull() || !v.IsWhollyKnown() {
		l.errorf(attr.Expr.Range(), "Invalid schemes", `The schemes attribute must be a list of scheme names, like schemes = ["op"].`)
		return nil
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			l.errorf(attr.Expr.Range(), "Invalid schemes", "A scheme must not be null.")
			return nil
		}
		sc := e.AsString()
		if !schemePattern.MatchString(sc) {
			l.errorf(attr.Expr.Range(), "Invalid schemes",
				"%q is not a scheme: a scheme starts with a letter and holds only letters, digits, '+', '-' and '.', without \"://\" (\"op\" for op://… references).", sc)
			return nil
		}
		sc = strings.ToLower(sc)
		if slices.Contains(out, sc) {
			l.errorf(attr.Expr.Range(), "Invalid schemes", "The scheme %q is listed twice.", sc)
			return nil
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		l.errorf(attr.Expr.Range(), "Invalid schemes", "The schemes list is empty; remove the attribute to let the plugin say which schemes it handles.")
		return nil
	}
	return out
}

// checkPlugin returns why a plugin name is not acceptable, or "". A plugin
// is a plain file name inside plugin_dir; an absolute path is accepted here
// (the host checks it lies inside plugin_dir), but never one with "..".
func checkPlugin(v string) string {
	switch {
	case v == "":
		return "must not be empty"
	case strings.Contains(v, ".."):
		return `must not contain ".."`
	case strings.ContainsRune(v, 0):
		return "must not contain NUL characters"
	case filepath.IsAbs(v):
		return ""
	case strings.ContainsAny(v, `/\`):
		return "must be a plain file name inside plugin_dir (or an absolute path), without path separators"
	case v == ".":
		return "must be a file name"
	}
	return ""
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// errorf records a diagnostic written by this package.
func (l *loader) errorf(subject hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, diagf(subject, summary, format, args...))
}

// eval evaluates an attribute and strips marks. ok is false when the
// attribute is absent, null or failed (failures are recorded).
func (l *loader) eval(attr *hcl.Attribute) (v cty.Value, sensitive, ok bool) {
	if attr == nil {
		return cty.NilVal, false, false
	}
	v, diags := attr.Expr.Value(l.ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false, false
	}
	v, pvm := v.UnmarkDeepWithPaths()
	sensitive = len(pvm) > 0
	if v.IsNull() {
		return cty.NilVal, sensitive, false
	}
	if !v.IsWhollyKnown() {
		l.errorf(attr.Expr.Range(), "Invalid value", "The value of %s cannot be determined.", attr.Name)
		return cty.NilVal, sensitive, false
	}
	return v, sensitive, true
}

// str evaluates an optional string attribute. Numbers and bools are
// converted.
func (l *loader) str(attr *hcl.Attribute) (s string, ok, sensitive bool) {
	v, sensitive, ok := l.eval(attr)
	if !ok {
		return "", false, sensitive
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", attr.Name, err)
		return "", false, sensitive
	}
	return v.AsString(), true, sensitive
}

// boolean evaluates an optional bool attribute; "true" and "false" strings
// are accepted.
func (l *loader) boolean(attr *hcl.Attribute) (b, ok, sensitive bool) {
	v, sensitive, ok := l.eval(attr)
	if !ok {
		return false, false, sensitive
	}
	v, err := convert.Convert(v, cty.Bool)
	if err != nil {
		l.errorf(attr.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", attr.Name, err)
		return false, false, sensitive
	}
	return v.True(), true, sensitive
}

// configMap evaluates a provider's config attribute, and records in p which
// keys and values came from env() or file().
func (l *loader) configMap(p *ProviderBlock, attr *hcl.Attribute) map[string]string {
	out := map[string]string{}
	if attr == nil {
		return out
	}
	v, diags := attr.Expr.Value(l.ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return out
	}
	v, pvm := v.UnmarkDeepWithPaths()
	keysSensitive := false // a key computed from env() marks the whole object
	sensitiveKeys := map[string]bool{}
	for _, pm := range pvm {
		if len(pm.Path) == 0 {
			keysSensitive = true
			continue
		}
		switch step := pm.Path[0].(type) {
		case cty.GetAttrStep:
			sensitiveKeys[step.Name] = true
		case cty.IndexStep:
			if k := step.Key; k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
				sensitiveKeys[k.AsString()] = true
			}
		}
	}
	if keysSensitive {
		p.Secret = append(p.Secret, "config")
	}
	markSecret := func(key string) {
		if keysSensitive || sensitiveKeys[key] {
			if p.SecretConfig == nil {
				p.SecretConfig = map[string]bool{}
			}
			p.SecretConfig[key] = true
		}
	}
	if v.IsNull() {
		return out
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		l.errorf(attr.Expr.Range(), "Invalid config",
			`config must be a map, like config = { name = "value" }; got %s.`, ty.FriendlyName())
		return out
	}
	if !v.IsKnown() {
		l.errorf(attr.Expr.Range(), "Invalid config", "The value of config cannot be determined.")
		return out
	}
	ranges := itemRanges(attr.Expr)
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		key := k.AsString()
		if ev.IsNull() {
			continue // null means "not set"
		}
		rng, found := ranges[key]
		if !found {
			rng = attr.Expr.Range()
		}
		keyShown := fmt.Sprintf("%q", key)
		if keysSensitive {
			keyShown = "(computed key, not shown)"
		}
		if !ev.IsWhollyKnown() {
			l.errorf(rng, "Invalid config value", "The value for key %s cannot be determined.", keyShown)
			continue
		}
		switch ev.Type() {
		case cty.String:
			out[key] = ev.AsString()
			markSecret(key)
		case cty.Bool, cty.Number:
			sv, _ := convert.Convert(ev, cty.String) // cannot fail for these types
			out[key] = sv.AsString()
			markSecret(key)
		default:
			l.errorf(rng, "Invalid config value",
				"config values must be strings, numbers or bools; the value for key %s is %s.", keyShown, ev.Type().FriendlyName())
		}
	}
	return out
}

// itemRanges maps the literal keys of an object constructor to the ranges of
// their values, so a bad entry can be pointed at precisely.
func itemRanges(expr hcl.Expression) map[string]hcl.Range {
	oc, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	m := map[string]hcl.Range{}
	for _, item := range oc.Items {
		kv, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || !kv.IsKnown() || kv.IsNull() || kv.IsMarked() || kv.Type() != cty.String {
			continue
		}
		m[kv.AsString()] = item.ValueExpr.Range()
	}
	return m
}

func posOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// show quotes a value for a message unless it came from env() or file().
func show(v string, sensitive bool) string {
	if sensitive {
		return "(a value from env() or file(), not shown)"
	}
	return strconv.Quote(v)
}

package connect

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/secrethost/secrethost/internal/bounded"
	buildversion "github.com/secrethost/secrethost/internal/version"
	"github.com/secrethost/secrethost/plugins/internal/attrs"
	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/provider"
)

// Configuration attributes. The upper-case ones are doco-cd's environment
// variables (the host fills them from the environment with
// config_from_env); the lower-case ones are tuning knobs for config.hcl.
const (
	AttrHost         = "SECRET_PROVIDER_CONNECT_HOST"
	AttrHostFallback = "OP_CONNECT_HOST"
	AttrToken        = "SECRET_PROVIDER_CONNECT_TOKEN"
	AttrTokenAlt     = "OP_CONNECT_TOKEN"
	AttrTokenFile    = "SECRET_PROVIDER_CONNECT_TOKEN_FILE"
	AttrCAFile       = "SECRET_PROVIDER_CONNECT_CA_FILE"

	AttrRequestTimeout = "request_timeout"
	AttrMaxConcurrency = "max_concurrency"
	AttrMaxRetries     = "max_retries"
)

// Defaults and bounds of the tuning attributes.
const (
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxConcurrency lets a typical batch (10 to 16 distinct items)
	// run each stage of its plan in one round trip, and a warm batch of up
	// to 15 items in 2 vaults send its lookups and fetches at once (2 per
	// item plus 1 per vault, warm.go); a Connect server answers from its
	// local cache, so this is no burden for it.
	DefaultMaxConcurrency = 32
	DefaultMaxRetries     = 3

	maxRequestTimeout = 10 * time.Minute
	maxConcurrency    = 256
	maxRetries        = 10
)

// tokenSpec is THE inline-or-file rule for the Connect token.
var tokenSpec = credential.Spec{
	Inline: []string{AttrToken, AttrTokenAlt},
	File:   AttrTokenFile,
	What:   "Connect token",
}

// schema is what GetInfo advertises; the host reads exactly these names
// from the environment when config_from_env is on.
var schema = []provider.ConfigAttribute{
	{Name: AttrHost, Required: true, Description: "Base URL of the 1Password Connect server, http or https " +
		"(for example http://op-connect-api:8080). Falls back to " + AttrHostFallback + "."},
	{Name: AttrHostFallback, Description: "Fallback for " + AttrHost + " (the name connect-sdk-go and the op CLI use)."},
	{Name: AttrToken, Sensitive: true, Description: "Connect access token. Mutually exclusive with " + AttrTokenFile +
		". Falls back to " + AttrTokenAlt + ". The token can only read the vaults granted when it was created."},
	{Name: AttrTokenAlt, Sensitive: true, Description: "Fallback for " + AttrToken + " (the name connect-sdk-go and the op CLI use)."},
	{Name: AttrTokenFile, SecretFile: true, Description: "Path of a file holding the Connect access token (for example a Docker secret, " +
		"/run/secrets/op_connect_token). Mutually exclusive with " + AttrToken + "; read again on every call, so a " +
		"rotated token is picked up."},
	{Name: AttrCAFile, Path: true, Description: "Path of a PEM file with the certificate(s) of a private CA that " +
		"signed the Connect server's TLS certificate (an https host). Added to the system's trusted CAs (which " +
		"SSL_CERT_FILE and SSL_CERT_DIR, passed on by the host, also change); read once, at Configure."},
	{Name: AttrRequestTimeout, Description: fmt.Sprintf("Time limit of each HTTP attempt against Connect, as a Go "+
		"duration (default %s). Retries of transient failures get a fresh limit, within the caller's deadline.", DefaultRequestTimeout)},
	{Name: AttrMaxConcurrency, Description: fmt.Sprintf("Most HTTP requests in flight to Connect at once, "+
		"1 to %d (default %d).", maxConcurrency, DefaultMaxConcurrency)},
	{Name: AttrMaxRetries, Description: fmt.Sprintf("Retries of a request that failed transiently (5xx, 429, timeout, "+
		"refused or reset connection), 0 to %d (default %d).", maxRetries, DefaultMaxRetries)},
}

// settings is a validated configuration.
type settings struct {
	host       string // no trailing slash
	token      string
	tokenFrom  string // the attribute that supplied the token
	tokenPath  string // the file it came from, if any
	timeout    time.Duration
	concurrent int
	retries    int
	caFile     string         // AttrCAFile, "" when not set
	roots      *x509.CertPool // the system's CAs plus caFile's; nil without caFile
	// cfg is kept (not logged) so a token file can be read again.
	cfg map[string]string
}

// The version `make build` stamps into internal/version (the one the host
// and every plugin report) is the plugin's Version too. (Only here so as
// not to touch provider.go, where Version should become
// buildversion.String() when branches are merged.)
func init() {
	if v := buildversion.Stamped(); v != "" {
		Version = v
	}
}

// parseConfig validates cfg. Every error is a *provider.Error with
// CodeInvalidConfig that names the attribute and never contains a token.
func parseConfig(cfg map[string]string) (*settings, []string, error) {
	var warnings []string
	s := &settings{cfg: cfg}

	// First: a misspelt name would otherwise be reported as the attribute
	// it was meant to be, missing.
	if err := attrs.Check(cfg, knownNames()); err != nil {
		return nil, nil, invalidConfig("%v", err)
	}

	host, from, w := pick(cfg, AttrHost, AttrHostFallback)
	warnings = append(warnings, w...)
	if host == "" {
		return nil, nil, invalidConfig("%s is not set: set it to the Connect server's URL, for example http://op-connect-api:8080 (%s is accepted as a fallback)", AttrHost, AttrHostFallback)
	}
	var err error
	if s.host, err = parseHost(from, host, inlineTokens(cfg)); err != nil {
		return nil, nil, err
	}

	tok, err := credential.Load(cfg, tokenSpec)
	if err != nil {
		// credential's messages name variables and paths, never the value.
		return nil, nil, invalidConfig("%v", err)
	}
	if err := checkToken(tok); err != nil {
		return nil, nil, err
	}
	warnings = append(warnings, tok.Warnings...)
	s.token, s.tokenFrom, s.tokenPath = tok.Value, tok.From, tok.Path

	if s.caFile = strings.TrimSpace(cfg[AttrCAFile]); s.caFile != "" {
		if s.roots, err = loadCA(s.caFile); err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(s.host, "http://") {
			warnings = append(warnings, fmt.Sprintf("%s is set, but %s is an http:// URL: the CA is only used for https", AttrCAFile, from))
		}
	}

	if s.timeout, err = durationAttr(cfg, AttrRequestTimeout, DefaultRequestTimeout); err != nil {
		return nil, nil, err
	}
	if s.concurrent, err = intAttr(cfg, AttrMaxConcurrency, DefaultMaxConcurrency, 1, maxConcurrency); err != nil {
		return nil, nil, err
	}
	if s.retries, err = intAttr(cfg, AttrMaxRetries, DefaultMaxRetries, 0, maxRetries); err != nil {
		return nil, nil, err
	}
	return s, warnings, nil
}

// maxCAFile bounds a CA bundle; the whole Mozilla bundle is about 220 KB.
const maxCAFile = 16 << 20

// loadCA returns the system's trusted CAs plus the certificates in the PEM
// file at path. A CA file is no secret: its path is shown.
func loadCA(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, invalidConfig("%s: cannot read the CA file: %v", AttrCAFile, err)
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxCAFile)
	if err != nil {
		return nil, invalidConfig("%s: cannot read the CA file %s: %v", AttrCAFile, path, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, invalidConfig("%s: %s holds no PEM certificate (a block starting with -----BEGIN CERTIFICATE-----)", AttrCAFile, path)
	}
	return pool, nil
}

// reloadToken reads the token again when it comes from a file, so that a
// rotated Docker or Kubernetes secret is used without a restart.
func (s *settings) reloadToken() (string, error) {
	if s.tokenPath == "" {
		return s.token, nil
	}
	tok, err := credential.Load(s.cfg, tokenSpec)
	if err != nil {
		return s.token, err
	}
	if err := checkToken(tok); err != nil {
		return s.token, err
	}
	return tok.Value, nil
}

// pick returns the first set attribute among names, the one it came from,
// and a warning if a later one is set to something else.
func pick(cfg map[string]string, names ...string) (val, from string, warnings []string) {
	for _, n := range names {
		v := strings.TrimSpace(cfg[n])
		if v == "" {
			continue
		}
		if from == "" {
			val, from = v, n
		} else if v != val {
			warnings = append(warnings, fmt.Sprintf("%s and %s are both set, with different values; using %s", from, n, from))
		}
	}
	return val, from, warnings
}

// parseHost checks the Connect URL. The SDK builds request URLs as
// host+"/v1/...", so a trailing slash would produce "//v1" and is trimmed.
func parseHost(attr, raw string, tokens []string) (string, error) {
	echo := plausibleHost(raw) && !slices.ContainsFunc(tokens, func(t string) bool { return strings.Contains(raw, t) })
	if hostPort.MatchString(raw) && echo {
		// A host[:port] without a scheme: url.Parse would read
		// "localhost:8080" as scheme "localhost" and reject
		// "127.0.0.1:8080" outright; both are the same mistake.
		return "", invalidConfig("%s must be an http or https URL such as http://op-connect-api:8080, got %q (the scheme is missing: write http://%s)", attr, raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not echoed: a value this broken may be something pasted in the
		// wrong place, such as a token.
		return "", invalidConfig("%s is not a valid URL: it must be an http or https URL such as http://op-connect-api:8080", attr)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		if !echo {
			return "", invalidConfig("%s must be an http or https URL such as http://op-connect-api:8080, got a %d-character value that does not look like one (not shown)", attr, len(raw))
		}
		hint := ""
		if u.Scheme == "" || u.Opaque != "" {
			hint = " (the scheme is missing: write http://" + strings.TrimPrefix(raw, "//") + ")"
		}
		return "", invalidConfig("%s must be an http or https URL such as http://op-connect-api:8080, got %q%s", attr, redact(u, raw), hint)
	case u.Host == "" || u.Hostname() == "":
		return "", invalidConfig("%s has no host name: it must look like http://op-connect-api:8080", attr)
	case u.User != nil:
		return "", invalidConfig("%s must not contain credentials (user:password@); the Connect token goes in %s or %s", attr, AttrToken, AttrTokenFile)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		// Not echoed: a query may carry a credential.
		return "", invalidConfig("%s must not have a query or fragment: it must look like http://op-connect-api:8080", attr)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", invalidConfig("%s has an invalid port %q", attr, p)
		}
	}
	u.Scheme = scheme
	// A path prefix (a reverse proxy serving Connect under /connect) is
	// kept; only trailing slashes go.
	return strings.TrimRight(u.String(), "/"), nil
}

// hostPort is a host name, IPv4 or bracketed IPv6 address with an optional
// port and path, and no scheme: what people write for a URL's host.
var hostPort = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(:[0-9]+)?(/[^?#]*)?$`)

// inlineTokens are the tokens given inline, which no message may echo, not
// even as part of another setting.
func inlineTokens(cfg map[string]string) []string {
	var out []string
	for _, n := range tokenSpec.Inline {
		if t := strings.TrimSpace(cfg[n]); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// plausibleHost reports whether a rejected host value may be echoed: short
// and made of what a host, port and path consist of. Anything else (a
// token pasted into the wrong variable, say, such as a Connect token's
// long JWT) is not shown.
func plausibleHost(raw string) bool {
	if len(raw) > 64 {
		return false
	}
	for _, r := range raw {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:/[]@", r)) {
			return false
		}
	}
	return true
}

func redact(u *url.URL, raw string) string {
	if u.User != nil {
		return u.Redacted()
	}
	return raw
}

// checkToken rejects tokens that cannot go into an Authorization header.
func checkToken(tok credential.Result) error {
	if strings.IndexFunc(tok.Value, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		where := tok.From
		if tok.Path != "" {
			where = fmt.Sprintf("%s (file %q)", tok.From, tok.Path)
		}
		return invalidConfig("the Connect token in %s contains whitespace or control characters inside it; a Connect token is a single line without spaces", where)
	}
	return nil
}

func durationAttr(cfg map[string]string, name string, def time.Duration) (time.Duration, error) {
	d, err := attrs.Duration(cfg, name, def)
	if err != nil {
		return 0, invalidConfig("%v", err)
	}
	if d <= 0 || d > maxRequestTimeout {
		return 0, invalidConfig("%s = %s is out of range: it must be more than 0 and at most %s", name, d, maxRequestTimeout)
	}
	return d, nil
}

func intAttr(cfg map[string]string, name string, def, lo, hi int) (int, error) {
	n, err := attrs.Int(cfg, name, def, lo, hi)
	if err != nil {
		return 0, invalidConfig("%v", err)
	}
	return n, nil
}

func knownNames() []string {
	names := make([]string, len(schema))
	for i, a := range schema {
		names[i] = a.Name
	}
	return names
}

func invalidConfig(format string, args ...any) *provider.Error {
	return provider.Errorf(provider.CodeInvalidConfig, "", format, args...)
}

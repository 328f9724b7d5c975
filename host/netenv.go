package host

import (
	"net/url"
	"strings"
)

// NetworkEnvNames are the host's environment variables that a plugin whose
// schema says it uses the network (provider.InfoResponse.UsesNetwork) gets
// in its own environment, as the host has them (through WithLookupEnv when
// given): the proxy settings Go's net/http, curl, Python's requests and
// most HTTP stacks read, and OpenSSL's and Go's CA bundle overrides.
// Nothing else of the host's environment reaches any plugin, and a plugin
// that does not use the network gets none of these.
var NetworkEnvNames = []string{
	"HTTP_PROXY", "http_proxy",
	"HTTPS_PROXY", "https_proxy",
	"NO_PROXY", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
}

// netSettings are the network settings for plugins that use the network.
type netSettings struct {
	env   []string // "NAME=value", in NetworkEnvNames order
	names []string
	// secrets are the credentials in proxy URLs (user:password@), raw:
	// scrubbed from whatever any plugin says, never logged, and withheld by
	// `secrethost run` like a token.
	secrets []string
}

// networkSettings reads NetworkEnvNames through lookup. Empty values are
// left out (every client treats them as unset). A relative SSL_CERT_FILE,
// or a relative entry of SSL_CERT_DIR (a colon-separated list), is made
// absolute against the working directory: plugins run in /.
func networkSettings(lookup func(string) (string, bool)) netSettings {
	var s netSettings
	for _, name := range NetworkEnvNames {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		switch name {
		case "SSL_CERT_FILE":
			v = absPath(v, "")
		case "SSL_CERT_DIR":
			parts := strings.Split(v, ":")
			for i, p := range parts {
				parts[i] = absPath(p, "")
			}
			v = strings.Join(parts, ":")
		case "NO_PROXY", "no_proxy":
		default:
			s.secrets = append(s.secrets, proxyCredentials(v)...)
		}
		s.env = append(s.env, name+"="+v)
		s.names = append(s.names, name)
	}
	return s
}

// proxyCredentials returns the secrets in a proxy setting: when it carries
// user information (http://user:password@proxy:3128, or user@proxy the way
// some proxies take a token as the user name), the whole value, the value
// trimmed, the user information as written and decoded, and the password
// as written and decoded. A value that is not a URL at all is taken whole:
// it may be anything pasted in the wrong place. None for a plain proxy URL.
func proxyCredentials(raw string) []string {
	v := strings.TrimSpace(raw)
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// Go's rule (golang.org/x/net/http/httpproxy): a value without
		// a scheme is read as http://value.
		u, err = url.Parse("http://" + v)
	}
	if err != nil || u.Host == "" {
		return []string{raw, v}
	}
	if u.User == nil && !strings.Contains(v, "@") {
		return nil
	}
	out := []string{raw, v}
	if u.User == nil {
		return out
	}
	// The user information as written: between "//" and the last "@".
	if _, rest, ok := strings.Cut(v, "://"); ok {
		if i := strings.LastIndex(rest, "@"); i > 0 {
			out = append(out, rest[:i])
		}
	}
	user := u.User.Username()
	pass, hasPass := u.User.Password()
	if hasPass {
		out = append(out, user+":"+pass, pass, url.QueryEscape(pass), url.PathEscape(pass))
	} else {
		out = append(out, user, url.QueryEscape(user))
	}
	return out
}

// networkSecrets returns the proxy credentials a plugin that uses the
// network is given; none for one that does not.
func (h *Host) networkSecrets(usesNetwork bool) []string {
	if !usesNetwork {
		return nil
	}
	return h.net.secrets
}

// Package testproxy is a forwarding HTTP proxy for tests: it knows host
// names nobody else resolves and forwards them to local addresses, so a
// test proves a request went through the proxy while every request stays on
// this machine (Go never sends loopback addresses or "localhost" through a
// proxy, so tests need such names).
package testproxy

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Proxy is an HTTP proxy (absolute-form requests, and CONNECT
// for https) that knows host names nobody else resolves: routes maps
// "name:port" to a 127.0.0.1 address. Anything else gets 502, so nothing
// leaves the machine. With user set, it requires Basic proxy credentials.
type Proxy struct {
	*httptest.Server
	routes     map[string]string
	user, pass string

	mu       sync.Mutex
	seen     []string // "METHOD host" of every request it forwarded
	rejected int      // requests without the right credentials
}

// Rejected is the number of requests refused for want of the right
// credentials.
func (p *Proxy) Rejected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rejected
}

// New starts a proxy, closed when the test ends.
func New(t testing.TB, routes map[string]string, user, pass string) *Proxy {
	p := &Proxy{routes: routes, user: user, pass: pass}
	p.Server = httptest.NewServer(p)
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
		if r.Header.Get("Proxy-Authorization") != want {
			p.mu.Lock()
			p.rejected++
			p.mu.Unlock()
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
	}
	target, ok := p.routes[r.Host]
	if !ok {
		http.Error(w, "this proxy only knows its test routes", http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.Host)
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(up, buf); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", target
	out.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// Forwarded lists "METHOD host" of every request forwarded so far.
func (p *Proxy) Forwarded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

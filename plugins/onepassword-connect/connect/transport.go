package connect

// How the caller's context reaches connect-sdk-go's requests
// =========================================================
//
// connect-sdk-go v1.5.3 takes no context.Context and always sends through
// http.DefaultClient. This plugin owns its process, so it installs its own
// RoundTripper as http.DefaultClient.Transport (once, see install) and
// smuggles the context in through the one per-client value the SDK lets us
// choose: the User-Agent.
//
// Every SDK method call is an "op": begin registers the op (its context,
// the provider's policy, the call's counters) under a fresh ID and returns
// a User-Agent ending in " secrethost-op/<ID>"; the op's SDK client is built
// with connect.NewClientWithUserAgent (cheap: a struct, once the global
// tracer is registered). RoundTrip looks the ID up, restores the plain
// User-Agent before anything leaves the process, and runs the request under
// the op's context and policy. The op also records what the SDK throws
// away: the HTTP status (the SDK trusts the JSON "status"), Retry-After,
// and why a request failed, which is how errors get their contract codes.
//
// Alternatives considered: a path prefix in the host URL (same idea, but
// the marker would reach the URL-parsing and proxy code), reflect/unsafe
// on the SDK's unexported http client (breaks on any SDK change), a
// goroutine with its own deadline around each SDK call (leaks the
// goroutine and cannot cancel the request, nor limit or retry it). Per-op
// rather than per-Resolve IDs cost nothing more and make error attribution
// exact when many requests of one call fail differently.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/opentracing/opentracing-go"

	"github.com/secrethost/secrethost/internal/bounded"
)

// opMarker separates the plain User-Agent from the op ID.
const opMarker = " secrethost-op/"

// maxBody bounds a buffered response; Connect items are small JSON.
const maxBody = 64 << 20

// Backoff between attempts: capped exponential with jitter.
const (
	backoffBase = 100 * time.Millisecond
	backoffCap  = 2 * time.Second
	// maxRetryAfter is the longest Retry-After honoured by waiting; a
	// longer one fails the request as rate_limited at once, telling the
	// caller when to come back, instead of sitting on the call.
	maxRetryAfter = 30 * time.Second
)

var (
	installOnce sync.Once
	shared      *transport
)

// install makes this package's transport http.DefaultClient's, and
// registers a no-op global tracer so that connect-sdk-go never starts its
// Jaeger tracer (a UDP reporter and a localhost sampling poller). It runs
// once per process, before the first SDK client is built.
func install() *transport {
	installOnce.Do(func() {
		if !opentracing.IsGlobalTracerRegistered() {
			opentracing.SetGlobalTracer(opentracing.NoopTracer{})
		}
		shared = &transport{base: newBaseTransport(), ops: map[string]*op{}}
		http.DefaultClient.Transport = shared
	})
	return shared
}

// newBaseTransport is http.DefaultTransport with room for the connections
// max_concurrency needs: the default keeps only 2 idle connections per
// host, so parallel requests would open and close connections constantly.
func newBaseTransport() http.RoundTripper {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := base.Clone()
	t.MaxIdleConns = 2 * maxConcurrency
	t.MaxIdleConnsPerHost = maxConcurrency
	return t
}

// newCATransport is newBaseTransport trusting roots: for a Connect server
// whose certificate a private CA signed (SECRET_PROVIDER_CONNECT_CA_FILE).
// Proxies still come from the environment (http.ProxyFromEnvironment).
func newCATransport(roots *x509.CertPool) http.RoundTripper {
	t, ok := newBaseTransport().(*http.Transport)
	if !ok {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return t
}

// policy is one provider's request policy.
type policy struct {
	// base sends the requests when the configuration has its own CA
	// file; nil: the transport's shared base.
	base    http.RoundTripper
	timeout time.Duration // per attempt
	retries int           // attempts = retries + 1
	sem     chan struct{} // in-flight limit
	log     hclog.Logger
	backoff func(attempt int) time.Duration // nil: capped exponential with jitter (tests set it)
}

func newPolicy(s *settings, log hclog.Logger) *policy {
	p := &policy{timeout: s.timeout, retries: s.retries, sem: make(chan struct{}, s.concurrent), log: log}
	if s.roots != nil {
		p.base = newCATransport(s.roots)
	}
	return p
}

// callState belongs to one Resolve or Check: it counts the HTTP attempts
// and shares identical GETs between the call's ops.
//
// Sharing is what makes "one full fetch per distinct item" hold whatever
// path asks for the item: connect-sdk-go's GetItemsByTitle fetches every
// match itself, so an item named by title and by ID (or through two
// spellings of its vault) would otherwise be fetched twice. Responses are
// shared within the call only, never across calls, so values stay fresh.
type callState struct {
	requests atomic.Int64 // attempts sent
	retries  atomic.Int64
	shared   atomic.Int64 // GETs answered by another op's identical request

	mu     sync.Mutex
	gets   map[string]*sharedGet
	states map[string]string // item ID -> "ARCHIVED"/"DELETED" (state.go)
}

type sharedGet struct {
	done       chan struct{}
	resp       *http.Response // body buffered in body
	body       []byte
	retryAfter time.Duration
	fail       *transportError
}

// get returns the shared GET for key and whether the caller must send it.
func (c *callState) get(key string) (*sharedGet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.gets[key]; ok {
		return g, false
	}
	if c.gets == nil {
		c.gets = map[string]*sharedGet{}
	}
	g := &sharedGet{done: make(chan struct{})}
	c.gets[key] = g
	return g, true
}

// response is a private copy of the shared response for req.
func (g *sharedGet) response(req *http.Request) *http.Response {
	if g.resp == nil {
		return nil
	}
	r := *g.resp
	r.Header = g.resp.Header.Clone()
	r.Body = io.NopCloser(bytes.NewReader(g.body))
	r.Request = req
	return &r
}

// failKind says why a request produced no usable response.
type failKind int

const (
	failNone        failKind = iota
	failTimeout              // an attempt ran past request_timeout
	failUnreachable          // refused, reset, DNS, truncated response...
	failCanceled             // the caller's context ended
	failOther                // not transient (TLS, malformed URL, ...)
	failAborted              // not sent: an earlier request of the op failed
	failBadBody              // a 2xx answer from the API whose body is not JSON
)

var errAborted = errors.New("not sent: an earlier request of the same operation failed")

// transportError is what RoundTrip returns when it has no response; the
// SDK passes it on wrapped in a *url.Error.
type transportError struct {
	kind     failKind
	attempts int
	timeout  time.Duration
	err      error
}

func (e *transportError) Error() string {
	switch e.kind {
	case failTimeout:
		return fmt.Sprintf("no answer within %s (request_timeout), %s", e.timeout, plural(e.attempts, "attempt"))
	case failCanceled:
		return fmt.Sprintf("gave up before an answer: %v", e.err)
	}
	return fmt.Sprintf("%v (%s)", e.err, plural(e.attempts, "attempt"))
}

func (e *transportError) Unwrap() error { return e.err }

// op is one SDK method call in flight, registered under its ID.
//
// An op stops at its first failed request (a final status >= 400, or no
// response): any later request is refused without touching the network.
// connect-sdk-go sends such requests only in one place, GetItem, which
// swallows a failed fetch and searches for an item titled like the ID;
// that search costs a request and replaces the real error with "Found 0
// item(s)". The first failure is kept for the error message instead.
type op struct {
	id    string
	ctx   context.Context
	pol   *policy
	stats *callState

	mu         sync.Mutex
	lastStatus int
	failed     bool
	status     int           // the failed request's HTTP status, 0 if it had no response
	retryAfter time.Duration // its Retry-After
	message    string        // Connect's error message, from the JSON body
	path       string        // its URL path
	fail       *transportError
}

func (o *op) record(path string, resp *http.Response, retryAfter time.Duration, fail *transportError) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed {
		return
	}
	if fail == nil && resp.StatusCode < 400 {
		o.lastStatus = resp.StatusCode
		return
	}
	o.failed, o.path, o.fail, o.retryAfter = true, path, fail, retryAfter
	if resp != nil {
		o.status = resp.StatusCode
		o.message = errorMessage(resp)
	}
}

func (o *op) hasFailed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}

// outcome describes the op's first failed request, or else its last
// status.
type outcome struct {
	failed     bool
	status     int
	retryAfter time.Duration
	message    string
	path       string
	fail       *transportError
}

func (o *op) outcome() outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.failed {
		return outcome{status: o.lastStatus}
	}
	return outcome{failed: true, status: o.status, retryAfter: o.retryAfter, message: o.message, path: o.path, fail: o.fail}
}

// errorMessage reads Connect's {"status":N,"message":"..."} from a
// buffered error response. Connect's messages name IDs, never values.
func errorMessage(resp *http.Response) string {
	body, err := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	const maxLen = 300
	if len(e.Message) > maxLen {
		e.Message = e.Message[:maxLen] + "..."
	}
	return e.Message
}

// transport is the process-wide RoundTripper behind http.DefaultClient.
type transport struct {
	base http.RoundTripper
	next atomic.Uint64
	mu   sync.Mutex
	ops  map[string]*op
}

// begin registers an op and returns it, the User-Agent that carries its
// ID, and the function that unregisters it.
func (t *transport) begin(ctx context.Context, pol *policy, stats *callState, ua string) (*op, string, func()) {
	o := &op{id: strconv.FormatUint(t.next.Add(1), 36), ctx: ctx, pol: pol, stats: stats}
	t.mu.Lock()
	t.ops[o.id] = o
	t.mu.Unlock()
	return o, ua + opMarker + o.id, func() {
		t.mu.Lock()
		delete(t.ops, o.id)
		t.mu.Unlock()
	}
}

// lookup finds the op named in a User-Agent and returns the clean one.
func (t *transport) lookup(ua string) (*op, string) {
	i := strings.LastIndex(ua, opMarker)
	if i < 0 {
		return nil, ua
	}
	t.mu.Lock()
	o := t.ops[ua[i+len(opMarker):]]
	t.mu.Unlock()
	return o, ua[:i]
}

// defaultPolicy serves requests that carry no op (nothing in this plugin
// sends those, but http.DefaultClient is global).
var defaultPolicy = &policy{timeout: DefaultRequestTimeout, retries: 0, sem: make(chan struct{}, DefaultMaxConcurrency), log: hclog.NewNullLogger()}

// RoundTrip sends req under its op's context and policy: each attempt
// bounded by request_timeout and counted against max_concurrency,
// transient failures retried with backoff within the caller's deadline,
// identical GETs of one call sent once. The response body is read in full
// inside the attempt (so a body cut off mid-way is retried too, and the
// connection slot is freed at once).
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	o, ua := t.lookup(req.Header.Get("User-Agent"))
	ctx, pol, call := req.Context(), defaultPolicy, (*callState)(nil)
	if o != nil {
		if o.hasFailed() {
			return nil, &transportError{kind: failAborted, err: errAborted}
		}
		ctx, pol, call = o.ctx, o.pol, o.stats
	}
	req = req.Clone(ctx)
	if ua == "" {
		req.Header.Del("User-Agent")
	} else {
		req.Header.Set("User-Agent", ua)
	}
	done := func(resp *http.Response, retryAfter time.Duration, fail *transportError) (*http.Response, error) {
		if o != nil {
			o.record(req.URL.Path, resp, retryAfter, fail)
		}
		if fail != nil {
			return nil, fail
		}
		return resp, nil
	}

	if call == nil || req.Method != http.MethodGet {
		return done(t.send(ctx, pol, call, req))
	}
	g, leader := call.get(req.URL.String())
	if !leader {
		select {
		case <-g.done:
		case <-ctx.Done():
			return done(nil, 0, &transportError{kind: failCanceled, err: ctx.Err()})
		}
		call.shared.Add(1)
		return done(g.response(req), g.retryAfter, g.fail)
	}
	resp, retryAfter, fail := t.send(ctx, pol, call, req)
	if resp != nil {
		g.body, _ = io.ReadAll(resp.Body) // already buffered: cannot fail
		g.resp = resp
		call.noteStates(req.URL.Path, resp.StatusCode, g.body)
	}
	g.retryAfter, g.fail = retryAfter, fail
	close(g.done)
	return done(g.response(req), retryAfter, fail)
}

// send runs the attempts of one request.
func (t *transport) send(ctx context.Context, pol *policy, call *callState, req *http.Request) (*http.Response, time.Duration, *transportError) {
	retryable := req.Method == http.MethodGet || req.Method == http.MethodHead
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, fail := t.attempt(ctx, pol, req)
		if call != nil {
			call.requests.Add(1)
		}
		var retryAfter time.Duration
		status := 0
		if resp != nil {
			status = resp.StatusCode
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		if fail != nil {
			fail.attempts = attempt
			fail.timeout = pol.timeout
		}
		pol.log.Trace("connect request", "method", req.Method, "path", req.URL.Path, "status", status,
			"attempt", attempt, "duration", time.Since(start).String())

		wait, again := pol.shouldRetry(status, retryAfter, fail, attempt)
		if again && retryable {
			if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
				again = false // the wait alone would outlive the caller
			}
		}
		if !again || !retryable {
			return resp, retryAfter, fail
		}
		why := fmt.Sprintf("status %d", status)
		if fail != nil {
			why = fail.Error()
		}
		pol.log.Debug("retrying Connect request", "path", req.URL.Path, "attempt", attempt, "reason", why, "wait", wait.String())
		if call != nil {
			call.retries.Add(1)
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return resp, retryAfter, fail // the last answer is more useful than "canceled"
		}
	}
}

// attempt sends req once. It returns a response with a fully buffered
// body, or why there is none.
func (t *transport) attempt(ctx context.Context, pol *policy, req *http.Request) (*http.Response, *transportError) {
	select {
	case pol.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &transportError{kind: failCanceled, err: ctx.Err()}
	}
	defer func() { <-pol.sem }()

	actx, cancel := context.WithTimeout(ctx, pol.timeout)
	defer cancel()
	r := req.WithContext(actx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, &transportError{kind: failOther, err: err}
		}
		r.Body = body
	}
	base := t.base
	if pol.base != nil {
		base = pol.base
	}
	resp, err := base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusProxyAuthRequired {
		// The proxy's answer (for http; for https Go reports it as an
		// error), not Connect's.
		resp.Body.Close()
		return nil, &transportError{kind: failOther, err: errProxyAuth}
	}
	if err == nil {
		var body []byte
		body, err = bounded.ReadAll(resp.Body, maxBody)
		resp.Body.Close()
		if errors.Is(err, bounded.ErrTooLarge) {
			return nil, &transportError{kind: failOther, err: fmt.Errorf("response larger than %d bytes", maxBody)}
		}
		if err == nil && !jsonAnswer(r, resp, body) {
			return nil, &transportError{kind: failBadBody, err: fmt.Errorf("Connect answered %d with a body that is not valid JSON (%d bytes, Content-Type %q)",
				resp.StatusCode, len(body), resp.Header.Get("Content-Type"))}
		}
		if err == nil {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			return resp, nil
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil, &transportError{kind: failCanceled, err: ctx.Err()}
	case actx.Err() != nil:
		return nil, &transportError{kind: failTimeout, err: err}
	}
	return nil, &transportError{kind: classify(err), err: explainNet(err, r.URL.Hostname())}
}

var errProxyAuth = errors.New("the HTTP proxy refused the request (407 Proxy Authentication Required): " +
	"check the user and password in HTTPS_PROXY or HTTP_PROXY (https_proxy, http_proxy), written as http://user:password@proxy:port")

// explainNet says what to do about a certificate the plugin cannot
// verify (the most common cause is a Connect server, or a TLS-terminating
// proxy, with a certificate from a private CA, and Go's own words do not
// name the setting that fixes it) and about a proxy that wants
// credentials.
func explainNet(err error, host string) error {
	var unknown x509.UnknownAuthorityError
	var name x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("the TLS certificate of %s is signed by an unknown authority: if Connect uses a private CA, "+
			"set %s to that CA's certificate (PEM), or SSL_CERT_FILE to a CA bundle that includes it (%w)", host, AttrCAFile, err)
	case errors.As(err, &name):
		return fmt.Errorf("the TLS certificate presented for %s is not valid for that name: check that %s names the host "+
			"the certificate was issued for (%w)", host, AttrHost, err)
	case strings.Contains(err.Error(), "Proxy Authentication Required"):
		return errProxyAuth
	}
	return err
}

// jsonAnswer reports whether a response may go on to the SDK: anything but
// a success from the JSON API (/v1/...) whose body is not JSON.
//
// Such a body (a proxy's HTML page with status 200, a damaged answer) used
// to reach connect-sdk-go as a success. Its decoding error did not mark the
// op failed, so inside GetItemsByTitle the SDK's GetItem swallowed it and
// searched for an item *titled* like the item's ID: an extra request, and
// an error ("Found 0 item(s) ... with title <ID>") hiding the real cause;
// had an item carried that title, its fetch would have stood in for the
// broken one (only the resolver's title re-check kept its value out).
// As a failed request instead, it is retried like a body cut off mid-way,
// stops the op, and ends as unavailable naming the real cause. Error
// answers (>= 400) are left alone: their bodies are only read for a
// message. File contents (.../content) are not JSON and are not checked.
func jsonAnswer(req *http.Request, resp *http.Response, body []byte) bool {
	if resp.StatusCode < 200 || resp.StatusCode > 299 || req.Method == http.MethodHead {
		return true
	}
	p := req.URL.Path
	if !strings.Contains(p, "/v1/") || strings.HasSuffix(p, "/content") {
		return true // /heartbeat answers text/plain "."
	}
	return json.Valid(body)
}

// classify sorts a network error into transient or not.
func classify(err error) failKind {
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return failUnreachable
	case errors.As(err, &dns):
		// "no such host" is permanent in principle, but a Connect
		// container that is starting up is not in DNS yet either.
		return failUnreachable
	case errors.As(err, &nerr) && nerr.Timeout():
		return failTimeout
	}
	return failOther
}

// shouldRetry decides whether to try again and how long to wait first.
func (p *policy) shouldRetry(status int, retryAfter time.Duration, fail *transportError, attempt int) (time.Duration, bool) {
	if attempt > p.retries {
		return 0, false
	}
	switch {
	case fail != nil:
		if fail.kind != failTimeout && fail.kind != failUnreachable && fail.kind != failBadBody {
			return 0, false
		}
	case status == http.StatusTooManyRequests, status == http.StatusInternalServerError,
		status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if retryAfter > maxRetryAfter {
		return 0, false
	}
	wait := p.delay(attempt)
	return max(wait, retryAfter), true
}

func (p *policy) delay(attempt int) time.Duration {
	if p.backoff != nil {
		return p.backoff(attempt)
	}
	return backoff(attempt)
}

// backoff is capped exponential backoff with "equal jitter": half the
// step is fixed, half random, so retries of many requests spread out but
// none comes back immediately.
func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 10)
	d = min(d, backoffCap)
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

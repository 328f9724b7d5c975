package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind says what a Fault does to the requests it matches.
type FaultKind string

const (
	// FaultStatus answers with Status (default 500) and a Connect error body.
	FaultStatus FaultKind = "status"
	// FaultRateLimit answers 429 with a Retry-After header of RetryAfter (default 1s), rounded up
	// to whole seconds. Real Connect servers do not rate-limit; this is for negative tests.
	FaultRateLimit FaultKind = "ratelimit"
	// FaultDelay waits Delay, then serves the request normally (a latency spike).
	FaultDelay FaultKind = "delay"
	// FaultReset sends the real status line, headers (with the full Content-Length) and half the
	// body, then resets the TCP connection (RST).
	FaultReset FaultKind = "reset"
	// FaultTruncate sends the real headers with the full Content-Length but only half the body,
	// then closes the connection normally (FIN): the client sees an unexpected EOF.
	FaultTruncate FaultKind = "truncate"
	// FaultMalformedJSON answers Status (default 200) with Content-Type application/json and a
	// body that is not valid JSON.
	FaultMalformedJSON FaultKind = "malformed"
	// FaultHTML answers Status (default 200) with a text/html page, as a misconfigured proxy
	// would.
	FaultHTML FaultKind = "html"
	// FaultGoAway drops the request's connection without any response, then closes the listener
	// and every other connection: later requests get "connection refused" until Start is called
	// again.
	FaultGoAway FaultKind = "goaway"
)

// Fault describes an injected failure. It applies to requests that match Method, Path and
// Match (all optional, all must agree), Count times, or to every matching request if Count is 0.
// When several installed faults match, the one added first is used.
type Fault struct {
	Kind   FaultKind
	Method string                   // e.g. "GET"; "" matches any method
	Path   string                   // path prefix, e.g. "/v1/vaults"; "" matches any path
	Match  func(*http.Request) bool // optional extra test; must not call back into the Server
	Count  int                      // how many matching requests to affect; 0 means all of them

	Status     int           // FaultStatus, FaultMalformedJSON, FaultHTML
	Message    string        // FaultStatus error message; defaults to a realistic one for the status
	RetryAfter time.Duration // FaultRateLimit
	Delay      time.Duration // FaultDelay
}

// activeFault is an installed Fault with its remaining budget.
type activeFault struct {
	Fault
	remaining int // meaningless when Count is 0
}

// AddFault installs f. Kinds that need parameters get defaults (see FaultKind).
func (s *Server) AddFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faultMu.Lock()
	s.faults = append(s.faults, &activeFault{Fault: f, remaining: f.Count})
	s.faultMu.Unlock()
	return nil
}

// ClearFaults removes every installed fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	s.faults = nil
	s.faultMu.Unlock()
}

// PendingFaults returns how many installed faults can still fire.
func (s *Server) PendingFaults() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return len(s.faults)
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultStatus, FaultMalformedJSON, FaultHTML:
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
			return fmt.Errorf("fault %s: status %d out of range", f.Kind, f.Status)
		}
	case FaultRateLimit, FaultReset, FaultTruncate, FaultGoAway:
	case FaultDelay:
		if f.Delay <= 0 {
			return errors.New("fault delay: Delay must be positive")
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Count < 0 {
		return errors.New("fault: negative Count")
	}
	if f.RetryAfter < 0 {
		return errors.New("fault: negative RetryAfter")
	}
	return nil
}

// takeFault returns the fault to apply to r, if any, and uses up one of its Count.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, af := range s.faults {
		if af.Method != "" && !strings.EqualFold(af.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, af.Path) {
			continue
		}
		if af.Match != nil && !af.Match(r) {
			continue
		}
		f := af.Fault
		if af.Count > 0 {
			af.remaining--
			if af.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// faultResponse replaces resp for the kinds that send a complete, well-formed HTTP response.
// The kinds that break the connection are handled in ServeHTTP.
func faultResponse(f *Fault, resp response) response {
	switch f.Kind {
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		msg := f.Message
		if msg == "" {
			msg = defaultMessage(status)
		}
		return errorResponse(status, msg)
	case FaultRateLimit:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		r := errorResponse(http.StatusTooManyRequests, "Too Many Requests")
		r.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		return r
	case FaultMalformedJSON:
		return response{status: orDefault(f.Status, http.StatusOK), contentType: "application/json",
			body: []byte(`{"id":"malformed","title":"unterminated`)}
	case FaultHTML:
		return response{status: orDefault(f.Status, http.StatusOK), contentType: "text/html; charset=utf-8",
			body: []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n")}
	}
	return resp
}

// defaultMessage picks the message a real Connect server is known to send for a status, so
// that client code matching on it (ESO retries on "status 403: Authorization") is exercised.
func defaultMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return msgInvalidToken
	case http.StatusForbidden:
		return msgNoVaultAccess
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// ParseFault parses the binary's -fault syntax: comma-separated key=value pairs.
//
//	kind=status|ratelimit|delay|reset|truncate|malformed|html|goaway
//	status=N        HTTP status; alone it implies kind=status (or ratelimit for 429)
//	delay=DURATION  e.g. 500ms; alone it implies kind=delay
//	retry-after=DURATION or seconds, for ratelimit
//	count=N         affect the next N matching requests (default: all of them)
//	path=/prefix    only requests whose path starts with this
//	method=GET      only this method
//	message=TEXT    error message for kind=status (no commas)
//
// Examples: "status=503,count=3,path=/v1/vaults", "kind=reset,count=1",
// "status=429,retry-after=2", "delay=2s,path=/v1/vaults/".
func ParseFault(spec string) (Fault, error) {
	var f Fault
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return Fault{}, fmt.Errorf("fault %q: %q is not key=value", spec, part)
		}
		var err error
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "kind":
			f.Kind = FaultKind(strings.ToLower(val))
		case "status":
			f.Status, err = strconv.Atoi(val)
		case "delay":
			f.Delay, err = time.ParseDuration(val)
		case "retry-after":
			f.RetryAfter, err = parseSeconds(val)
		case "count":
			f.Count, err = strconv.Atoi(val)
		case "path":
			f.Path = val
		case "method":
			f.Method = strings.ToUpper(val)
		case "message":
			f.Message = val
		default:
			return Fault{}, fmt.Errorf("fault %q: unknown key %q", spec, key)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %s: %w", spec, key, err)
		}
	}
	if f.Kind == "" {
		switch {
		case f.Status == http.StatusTooManyRequests:
			f.Kind = FaultRateLimit
		case f.Status != 0:
			f.Kind = FaultStatus
		case f.Delay > 0:
			f.Kind = FaultDelay
		default:
			return Fault{}, fmt.Errorf("fault %q: say kind=... (or give status= or delay=)", spec)
		}
	}
	if err := f.validate(); err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	return f, nil
}

// parseSeconds accepts "2s"-style durations and bare seconds, as Retry-After uses seconds.
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

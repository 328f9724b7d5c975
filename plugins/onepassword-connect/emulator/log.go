package emulator

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request is one served request as the request log keeps it. The bearer token itself is never
// stored, only whether one was sent.
type Request struct {
	Method       string
	Path         string // decoded URL path, e.g. "/v1/vaults/<id>/items"
	RawQuery     string // as sent, e.g. "filter=title+eq+%22Demo%22"
	Status       int    // status code sent; 0 if the connection was dropped before any (FaultGoAway)
	Time         time.Time
	Duration     time.Duration
	TokenPresent bool      // an "Authorization: Bearer <something>" header was sent
	UserAgent    string    // e.g. "connect-sdk-go/1.5.3"
	Route        string    // the matched route pattern, e.g. "/v1/vaults/{vaultUuid}/items"; "" if none
	Fault        FaultKind // the fault applied to this request, "" if none
}

// requestLog holds the request history, the Prometheus counters and the OnRequest hook.
type requestLog struct {
	mu       sync.Mutex
	requests []Request
	counts   map[counterKey]int64 // never reset: Prometheus counters must only grow
	faults   map[FaultKind]int64
	hook     func(Request)
}

type counterKey struct {
	method, route string
	code          int
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.requests...)
}

// RequestCount returns the number of requests logged since the last ResetRequests.
func (s *Server) RequestCount() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return len(s.log.requests)
}

// ResetRequests clears the request log and restarts the in-flight high-water mark from the
// number of requests in flight now. The /metrics counters are not reset.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	s.log.requests = nil
	s.log.mu.Unlock()
	s.maxIn.Store(s.inFlight.Load())
}

// MaxInFlight returns the largest number of requests served at once since the server was
// built or since ResetRequests: 1 means the client never overlapped requests.
func (s *Server) MaxInFlight() int { return int(s.maxIn.Load()) }

// OnRequest installs fn (nil removes it) to be called after each request has been logged.
// It runs synchronously on the request's goroutine before the response is finished, so a
// change it makes (PutItem, DeleteItem, AddFault) is visible to the client's next request.
// fn must not block for long.
func (s *Server) OnRequest(fn func(Request)) {
	s.log.mu.Lock()
	s.log.hook = fn
	s.log.mu.Unlock()
}

// record logs a finished request, writes the log line and runs the hook.
func (s *Server) record(req Request) {
	s.log.mu.Lock()
	s.log.requests = append(s.log.requests, req)
	if s.log.counts == nil {
		s.log.counts = map[counterKey]int64{}
		s.log.faults = map[FaultKind]int64{}
	}
	s.log.counts[counterKey{metricMethod(req.Method), req.Route, req.Status}]++
	if req.Fault != "" {
		s.log.faults[req.Fault]++
	}
	hook := s.log.hook
	s.log.mu.Unlock()

	if s.logw != nil {
		auth := "no"
		if req.TokenPresent {
			auth = "yes"
		}
		line := fmt.Sprintf("%s %s %s", req.Time.UTC().Format(time.RFC3339Nano), req.Method, req.Path)
		if req.RawQuery != "" {
			line += "?" + req.RawQuery
		}
		line += fmt.Sprintf(" -> %d (%s) token=%s", req.Status, req.Duration.Round(time.Microsecond), auth)
		if req.Fault != "" {
			line += " fault=" + string(req.Fault)
		}
		// One Write call per line keeps lines whole when requests run concurrently.
		_, _ = io.WriteString(s.logw, line+"\n")
	}
	if hook != nil {
		hook(req)
	}
}

// metricMethod bounds the label's values: a client can send any method string.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// metricsText renders the Prometheus text exposition format (version 0.0.4).
func (s *Server) metricsText() []byte {
	s.log.mu.Lock()
	keys := make([]counterKey, 0, len(s.log.counts))
	for k := range s.log.counts {
		keys = append(keys, k)
	}
	counts := make(map[counterKey]int64, len(keys))
	for k, v := range s.log.counts {
		counts[k] = v
	}
	faults := make(map[FaultKind]int64, len(s.log.faults))
	for k, v := range s.log.faults {
		faults[k] = v
	}
	s.log.mu.Unlock()

	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.code < b.code
	})
	var b strings.Builder
	b.WriteString("# HELP connect_emulator_requests_total Requests served, by method, route pattern and status code.\n")
	b.WriteString("# TYPE connect_emulator_requests_total counter\n")
	for _, k := range keys {
		route := k.route
		if route == "" {
			route = "unmatched"
		}
		// %q is safe for these labels: methods and routes come from fixed ASCII sets.
		fmt.Fprintf(&b, "connect_emulator_requests_total{method=%q,route=%q,code=\"%d\"} %d\n",
			k.method, route, k.code, counts[k])
	}
	b.WriteString("# HELP connect_emulator_faults_injected_total Faults injected, by kind.\n")
	b.WriteString("# TYPE connect_emulator_faults_injected_total counter\n")
	kinds := make([]string, 0, len(faults))
	for k := range faults {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "connect_emulator_faults_injected_total{kind=%q} %d\n", k, faults[FaultKind(k)])
	}
	b.WriteString("# HELP connect_emulator_requests_in_flight Requests being served now.\n")
	b.WriteString("# TYPE connect_emulator_requests_in_flight gauge\n")
	fmt.Fprintf(&b, "connect_emulator_requests_in_flight %d\n", s.inFlight.Load())
	b.WriteString("# HELP connect_emulator_requests_in_flight_max Most requests served at once since start or the last reset.\n")
	b.WriteString("# TYPE connect_emulator_requests_in_flight_max gauge\n")
	fmt.Fprintf(&b, "connect_emulator_requests_in_flight_max %d\n", s.maxIn.Load())
	return []byte(b.String())
}

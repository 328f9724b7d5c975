// Package emulator is an in-process emulator of the 1Password Connect REST API, for tests and
// benchmarks. It speaks real HTTP with Connect's paths, JSON shapes, headers and error bodies
// closely enough for connect-sdk-go v1.5.3 and hand-written clients, serves read-only routes
// from seed Data, records every request, and can inject faults (errors, latency, resets,
// truncated or malformed bodies, a vanishing server).
//
// A typical test:
//
//	data := emulator.NewData()  // or emulator.Load("testdata/connect.json")
//	v := data.AddVault("Demo")
//	it := v.AddItem("Postgres", "DATABASE")
//	it.AddField(emulator.Field{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "s3cret"})
//	data.Grant("test-token", v.ID)
//	srv := emulator.NewTestServer(t, data)
//	client := connect.NewClient(srv.URL(), "test-token")
//
// Behaviour that Connect does not document is chosen conservatively and written down where it
// is implemented: vault filters are case-insensitive and item filters case-sensitive
// (filter.go), an unknown vault is 404 and a known but ungranted one 403 (handlers.go), a
// malformed OTP seed sends no "totp" (otp.go).
package emulator

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnectVersion is the Connect server version the emulator claims, in the
// 1Password-Connect-Version header and in /health. connect-sdk-go refuses to use its file
// functions unless the header says at least 1.3.0.
const ConnectVersion = "1.8.1"

// DefaultLastEditedBy is the user ID put in "lastEditedBy" when seed data leaves it out; real
// user IDs are 26 uppercase letters and digits like this one.
const DefaultLastEditedBy = "CONNECTEMULATORUSER0000000"

// DefaultInlineFileLimit is Connect's default OP_MAX_INLINE_FILE_SIZE_KB (100 KB), in bytes.
const DefaultInlineFileLimit = 100 * 1024

// Server is the emulator. It is an http.Handler, and can also listen on TCP itself (Start).
// All methods are safe for concurrent use.
type Server struct {
	// Settings fixed by New.
	clock       func() time.Time
	latency     time.Duration
	inlineLimit int64
	logw        io.Writer

	mu     sync.RWMutex // guards vaults, byID and tokens
	vaults []*Vault
	byID   map[string]*Vault
	tokens map[string]grant

	faultMu sync.Mutex
	faults  []*activeFault

	log      requestLog
	inFlight atomic.Int64
	maxIn    atomic.Int64

	lifeMu sync.Mutex // guards hs and url
	hs     *http.Server
	url    string
}

// grant is the set of vaults one token may read.
type grant struct {
	all    bool
	vaults map[string]bool
}

func (g grant) allows(vaultID string) bool { return g.all || g.vaults[vaultID] }

// Option configures a Server.
type Option func(*Server) error

// WithToken grants token read access to the given vault IDs (AllVaults for every vault), in
// addition to the grants in the seed data. The vaults must exist.
func WithToken(token string, vaultIDs ...string) Option {
	return func(s *Server) error {
		if token == "" {
			return errors.New("WithToken: empty token")
		}
		g := s.tokens[token]
		if g.vaults == nil {
			g.vaults = map[string]bool{}
		}
		for _, id := range vaultIDs {
			switch {
			case id == AllVaults:
				g.all = true
			case s.byID[id] == nil:
				// The token itself is deliberately not part of the message.
				return fmt.Errorf("WithToken: vault %q is not in the data", id)
			default:
				g.vaults[id] = true
			}
		}
		s.tokens[token] = g
		return nil
	}
}

// WithLatency delays every response by d, to make round trips visible in benchmarks and to
// exercise client timeouts.
func WithLatency(d time.Duration) Option {
	return func(s *Server) error {
		if d < 0 {
			return errors.New("WithLatency: negative duration")
		}
		s.latency = d
		return nil
	}
}

// WithClock sets the clock used for TOTP codes and for the timestamps the server fills in.
// The request log always uses the real time.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		s.clock = now
		return nil
	}
}

// WithInlineFileLimit sets the largest file, in bytes, that inline_files=true may embed;
// larger ones get 413. The default is DefaultInlineFileLimit.
func WithInlineFileLimit(n int64) Option {
	return func(s *Server) error {
		if n < 0 {
			return errors.New("WithInlineFileLimit: negative limit")
		}
		s.inlineLimit = n
		return nil
	}
}

// WithLogger writes one line per request to w (method, path, query, status, duration, whether
// a token was sent, any fault). Tokens are never written.
func WithLogger(w io.Writer) Option {
	return func(s *Server) error {
		s.logw = w
		return nil
	}
}

// New builds a Server serving a deep copy of data (nil means no vaults). The data is validated
// first; tokens come from data.Tokens and WithToken options.
func New(data *Data, opts ...Option) (*Server, error) {
	if data == nil {
		data = &Data{}
	}
	if err := data.Validate(); err != nil {
		return nil, fmt.Errorf("invalid emulator data: %w", err)
	}
	data = data.Clone()
	s := &Server{
		clock:       time.Now,
		inlineLimit: DefaultInlineFileLimit,
		byID:        map[string]*Vault{},
		tokens:      map[string]grant{},
	}
	for _, v := range data.Vaults {
		s.vaults = append(s.vaults, v)
		s.byID[v.ID] = v
	}
	for token, ids := range data.Tokens {
		if err := WithToken(token, ids...)(s); err != nil {
			return nil, err
		}
	}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	now := s.clock().UTC()
	for _, v := range s.vaults {
		normalizeVault(v, now)
		for _, it := range v.Items {
			normalizeItem(it, v.ID, now)
		}
	}
	return s, nil
}

// normalizeVault fills in what Connect always sends.
func normalizeVault(v *Vault, now time.Time) {
	if v.Type == "" {
		v.Type = "USER_CREATED"
	}
	if v.AttributeVersion == 0 {
		v.AttributeVersion = 1
	}
	if v.ContentVersion == 0 {
		v.ContentVersion = 1
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = v.CreatedAt
	}
}

// normalizeItem fills in what Connect always sends and turns seed-only file text into bytes.
// Timestamps are filled in because clients such as the onepassword-operator order duplicate
// titles by createdAt.
func normalizeItem(it *Item, vaultID string, now time.Time) {
	it.Vault = ItemVault{ID: vaultID, Name: it.Vault.Name}
	if it.LastEditedBy == "" {
		// Real servers always send the editor's user ID, and the op CLI is reported to expect it.
		it.LastEditedBy = DefaultLastEditedBy
	}
	if it.Version == 0 {
		it.Version = 1
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = now
	}
	if it.UpdatedAt.IsZero() {
		it.UpdatedAt = it.CreatedAt
	}
	for _, f := range it.Fields {
		if f.Type == "" {
			f.Type = "STRING"
		}
		f.TOTP = ""
	}
	for _, f := range it.Files {
		if f.ContentText != "" {
			f.Content = []byte(f.ContentText)
			f.ContentText = ""
		}
		f.Size = len(f.Content)
		f.ContentPath = contentPath(vaultID, it.ID, f.ID)
	}
}

// contentPath is a file's download path. Real servers send it with a leading slash, and
// connect-sdk-go appends it to the host as is, so the slash matters.
func contentPath(vaultID, itemID, fileID string) string {
	return "/v1/vaults/" + vaultID + "/items/" + itemID + "/files/" + fileID + "/content"
}

// Start listens on addr (e.g. "127.0.0.1:0" for a free port) and serves in the background. It
// returns the base URL, e.g. "http://127.0.0.1:40123", which is also available from URL.
// After Close, or after a FaultGoAway, Start may be called again (pass the old host:port to
// come back on the same address).
func (s *Server) Start(addr string) (string, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.hs != nil {
		return "", errors.New("emulator: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	errLog := io.Discard
	if s.logw != nil {
		errLog = s.logw
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(errLog, "connect-emulator: http: ", 0),
	}
	s.hs = hs
	s.url = "http://" + ln.Addr().String()
	go func() { _ = hs.Serve(ln) }()
	return s.url, nil
}

// URL returns the base URL of the last Start, or "" if the server never listened.
func (s *Server) URL() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.url
}

// Close stops listening and drops every open connection. It is a no-op when the server is not
// listening, so it is safe to call twice.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	hs := s.hs
	s.hs = nil
	s.lifeMu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Close()
}

// TB is the part of testing.TB that NewTestServer uses; it keeps package testing out of the
// binary.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts an emulator on a free loopback port and closes it when the test ends.
// Its base URL is srv.URL().
func NewTestServer(tb TB, data *Data, opts ...Option) *Server {
	tb.Helper()
	s, err := New(data, opts...)
	if err != nil {
		tb.Fatalf("emulator.New: %v", err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("emulator.Start: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// NewData returns empty seed data, ready for the AddVault/AddItem builders.
func NewData() *Data { return &Data{} }

// --- Mutation, for simulating changes while a client is mid-way -------------------------------

// Item returns a copy of an item as stored (without computed TOTP codes), or false.
func (s *Server) Item(vaultID, itemID string) (*Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.byID[vaultID]
	if v == nil {
		return nil, false
	}
	for _, it := range v.Items {
		if it.ID == itemID {
			return it.Clone(), true
		}
	}
	return nil, false
}

// PutItem stores a copy of item in the vault, replacing the item with the same ID or appending
// a new one. A replacement keeps its place and createdAt, gets version+1 (unless item.Version
// is higher) and a fresh updatedAt; the vault's contentVersion goes up either way.
func (s *Server) PutItem(vaultID string, item *Item) error {
	if item == nil {
		return errors.New("PutItem: nil item")
	}
	if !ValidID(item.ID) {
		return fmt.Errorf("PutItem: item id %q must be 26 lowercase letters or digits", item.ID)
	}
	if err := validateItem(item, vaultID); err != nil {
		return fmt.Errorf("PutItem: item %q: %w", item.Title, err)
	}
	it := item.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.byID[vaultID]
	if v == nil {
		return fmt.Errorf("PutItem: vault %s not found", vaultID)
	}
	now := s.clock().UTC()
	for _, other := range s.vaults {
		for i, old := range other.Items {
			if old.ID != it.ID {
				continue
			}
			if other != v {
				return fmt.Errorf("PutItem: item %s already exists in vault %s", it.ID, other.ID)
			}
			if it.Version <= old.Version {
				it.Version = old.Version + 1
			}
			if it.CreatedAt.IsZero() {
				it.CreatedAt = old.CreatedAt
			}
			if !it.UpdatedAt.After(old.UpdatedAt) {
				it.UpdatedAt = now
			}
			normalizeItem(it, v.ID, now)
			v.Items[i] = it
			v.ContentVersion++
			v.UpdatedAt = now
			return nil
		}
	}
	normalizeItem(it, v.ID, now)
	v.Items = append(v.Items, it)
	v.ContentVersion++
	v.UpdatedAt = now
	return nil
}

// DeleteItem removes an item, so the next request for it gets 404.
func (s *Server) DeleteItem(vaultID, itemID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.byID[vaultID]
	if v == nil {
		return fmt.Errorf("DeleteItem: vault %s not found", vaultID)
	}
	for i, it := range v.Items {
		if it.ID == itemID {
			v.Items = append(v.Items[:i:i], v.Items[i+1:]...)
			v.ContentVersion++
			v.UpdatedAt = s.clock().UTC()
			return nil
		}
	}
	return fmt.Errorf("DeleteItem: item %s not found in vault %s", itemID, vaultID)
}

// Command connect-emulator serves the 1Password Connect REST API from a seed data file, for
// demos, manual testing and tests in other languages. See package emulator for the behaviour.
//
//	connect-emulator -data examples/demo/connect-data.json -addr 127.0.0.1:0 -addr-file /tmp/url
//
// With -tls-cert and -tls-key it serves HTTPS instead, e.g. with a certificate from a private CA
// to try the Connect plugin's SECRET_PROVIDER_CONNECT_CA_FILE.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "connect-emulator:", err)
		}
		os.Exit(2)
	}
}

// errReported means the error has already been shown to the user.
var errReported = errors.New("invalid command line")

// tokenFlags collects repeated -token TOKEN=vaultId,vaultId flags.
type tokenFlags []tokenGrant

type tokenGrant struct {
	token  string
	vaults []string
	bad    bool // malformed; reported after parsing (see Set)
}

func (t *tokenFlags) String() string { return fmt.Sprintf("%d token(s)", len(*t)) } // never the tokens

// Set never fails: the flag package would quote the rejected value, i.e. the token, in its
// error message. Malformed values are reported by check instead.
func (t *tokenFlags) Set(v string) error {
	token, list, ok := strings.Cut(v, "=")
	var vaults []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			vaults = append(vaults, id)
		}
	}
	*t = append(*t, tokenGrant{token: token, vaults: vaults, bad: !ok || token == "" || len(vaults) == 0})
	return nil
}

// check reports malformed -token values by position, without repeating them.
func (t tokenFlags) check() error {
	for i, g := range t {
		if g.bad {
			return fmt.Errorf("-token #%d: want TOKEN=vaultId[,vaultId...] or TOKEN=*", i+1)
		}
	}
	return nil
}

// faultFlags collects repeated -fault specs.
type faultFlags []emulator.Fault

func (f *faultFlags) String() string { return fmt.Sprintf("%d fault(s)", len(*f)) }

func (f *faultFlags) Set(v string) error {
	fault, err := emulator.ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

const usageText = `Usage: connect-emulator -data FILE [flags]

Serves the 1Password Connect REST API (read routes, /heartbeat, /health, /metrics) from a seed
data file in Connect's JSON shapes. Prints "connect-emulator listening on URL" once ready and
stops cleanly on SIGINT or SIGTERM.

Flags:
`

const faultHelp = `
Fault specs (-fault, repeatable) are comma-separated key=value pairs:
  kind=status|ratelimit|delay|reset|truncate|malformed|html|goaway
  status=N          HTTP status; alone it implies kind=status (kind=ratelimit for 429)
  delay=DURATION    e.g. 500ms; alone it implies kind=delay
  retry-after=N     seconds (or a duration) for kind=ratelimit
  count=N           affect only the next N matching requests (default: every one)
  path=/PREFIX      only requests whose path starts with PREFIX
  method=GET        only this method
  message=TEXT      error message for kind=status (no commas)
Examples:
  -fault status=503,count=3,path=/v1/vaults
  -fault kind=reset,count=1,path=/v1/vaults/
  -fault status=429,retry-after=2
  -fault delay=2s,method=GET
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connect-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr        = fs.String("addr", "127.0.0.1:8080", "listen address; 127.0.0.1:0 picks a free port")
		dataPath    = fs.String("data", "", "seed data JSON file (required)")
		latency     = fs.Duration("latency", 0, "delay added to every response, e.g. 20ms")
		inlineLimit = fs.Int64("inline-limit", emulator.DefaultInlineFileLimit, "largest file in bytes that inline_files=true may embed (else 413)")
		logReqs     = fs.Bool("log", false, "log one line per request to stderr (tokens are never logged)")
		addrFile    = fs.String("addr-file", "", "write the base URL to this file once listening (removed on exit)")
		tlsCert     = fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs -tls-key")
		tlsKey      = fs.String("tls-key", "", "the PEM private key of -tls-cert")
		tokens      tokenFlags
		faults      faultFlags
	)
	fs.Var(&tokens, "token", "grant a token vaults: TOKEN=vaultId,vaultId or TOKEN=* (repeatable; adds to the data file's tokens)")
	fs.Var(&faults, "fault", "inject a fault, see below (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, faultHelp)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errReported // the flag package has already printed the error and the usage
	}
	if err := tokens.check(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *dataPath == "" {
		return errors.New("-data is required (see -help)")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	var cert tls.Certificate
	if *tlsCert != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(*tlsCert, *tlsKey); err != nil {
			return fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
	}
	data, err := emulator.Load(*dataPath)
	if err != nil {
		return err
	}

	opts := []emulator.Option{emulator.WithLatency(*latency), emulator.WithInlineFileLimit(*inlineLimit)}
	for _, t := range tokens {
		opts = append(opts, emulator.WithToken(t.token, t.vaults...))
	}
	if *logReqs {
		opts = append(opts, emulator.WithLogger(stderr))
	}
	srv, err := emulator.New(data, opts...)
	if err != nil {
		return err
	}
	for _, f := range faults {
		if err := srv.AddFault(f); err != nil {
			return err
		}
	}
	if len(data.Tokens) == 0 && len(tokens) == 0 {
		fmt.Fprintln(stderr, "connect-emulator: warning: no tokens configured, every /v1 request will get 401")
	}

	var (
		url  string
		stop func() error
	)
	if *tlsCert != "" {
		url, stop, err = serveTLS(srv, *addr, cert, stderr, *logReqs)
	} else {
		url, err = srv.Start(*addr)
		stop = srv.Close
	}
	if err != nil {
		return err
	}
	defer stop()
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, url+"\n"); err != nil {
			return fmt.Errorf("-addr-file: %w", err)
		}
		defer os.Remove(*addrFile) // a stale URL would point the next demo at a dead port
	}
	fmt.Fprintf(stdout, "connect-emulator listening on %s\n", url)

	<-ctx.Done()
	return stop()
}

// serveTLS serves srv over HTTPS on addr with cert. (The goaway fault, which restarts the
// emulator's own listener, does not apply.)
func serveTLS(srv *emulator.Server, addr string, cert tls.Certificate, stderr io.Writer, logErrors bool) (string, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	errLog := io.Discard
	if logErrors {
		errLog = stderr
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 30 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          log.New(errLog, "connect-emulator: https: ", 0),
	}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	return "https://" + ln.Addr().String(), hs.Close, nil
}

// writeFileAtomic writes via a temporary file and rename, so a script polling for the file
// never reads a half-written URL.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".connect-emulator-addr-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package launch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// go-plugin reads the plugin's certificate from the handshake line and
// trusts exactly that certificate for the name localhost, but only the
// first call finds out whether the TLS connection works. A plugin in
// another language whose certificate lacks the DNS name localhost started
// fine and then failed its first call as "plugin is not responding (it may
// have crashed)", after a 2 s kill. So the host connects before the first
// call and, if TLS fails, says why.

// tlsTimeout bounds the wait for the first TLS connection after the
// handshake line. A local handshake takes milliseconds.
const tlsTimeout = 10 * time.Second

// errPluginCertificate: the plugin's TLS certificate cannot work with
// go-plugin's AutoMTLS. (launch.Start's error keeps only its text.)
var errPluginCertificate = errors.New("the plugin's TLS certificate is unusable")

// explainHandshake adds the cause to go-plugin's errors about the
// handshake line's certificate field.
func explainHandshake(err error) error {
	if err != nil && strings.Contains(err.Error(), "error parsing server cert: illegal base64 data") {
		return fmt.Errorf("%w: %w; the 6th field of the handshake line must be the certificate's DER in standard base64 "+
			"without '=' padding (Go's base64.RawStdEncoding): padding fails whenever the DER length is not a multiple "+
			"of 3, which looks like a flaky start; strip the trailing '='", errPluginCertificate, err)
	}
	return err
}

// awaitTLS waits until the gRPC connection go-plugin made is ready, and
// explains a failure. It runs before any call, so a broken certificate is
// reported at start, in milliseconds, naming the cause.
func awaitTLS(rpc goplugin.ClientProtocol, addr net.Addr) error {
	gc, ok := rpc.(*goplugin.GRPCClient)
	if !ok || gc.Conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tlsTimeout)
	defer cancel()
	if waitReady(ctx, gc.Conn) {
		return nil
	}
	return diagnoseTLS(ctx, addr)
}

// waitReady reports whether conn becomes ready (false on a failed
// connection attempt or at ctx's end).
func waitReady(ctx context.Context, conn *grpc.ClientConn) bool {
	conn.Connect()
	for {
		switch s := conn.GetState(); s {
		case connectivity.Ready:
			return true
		case connectivity.TransientFailure, connectivity.Shutdown:
			return false
		default:
			if !conn.WaitForStateChange(ctx, s) {
				return false
			}
		}
	}
}

// diagnoseTLS connects to the plugin once more, without a client
// certificate and without verifying, only to read the certificate it
// serves (a TLS server sends it before it asks for the client's), and says
// what go-plugin's verification will not accept.
func diagnoseTLS(ctx context.Context, addr net.Addr) error {
	if addr == nil {
		return errors.New("the plugin's gRPC connection failed before the first call")
	}
	var leaf *x509.Certificate
	d := tls.Dialer{Config: &tls.Config{
		InsecureSkipVerify: true, // only to read the certificate; nothing is sent
		NextProtos:         []string{"h2"},
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) > 0 {
				leaf, _ = x509.ParseCertificate(raw[0])
			}
			return nil
		},
	}}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, dialErr := d.DialContext(dctx, addr.Network(), addr.String())
	if conn != nil {
		_ = conn.Close()
	}
	if leaf == nil {
		if dialErr == nil {
			dialErr = errors.New("it sent no certificate")
		}
		// Not a certificate problem that can be named: the plugin went
		// away, speaks no TLS, or hung. The stderr tail follows.
		return fmt.Errorf("the plugin's gRPC connection failed before the first call: no TLS handshake with %s: %v", addr, dialErr)
	}
	return certProblem(leaf)
}

// certProblem names what makes leaf unusable as the plugin's certificate
// for go-plugin's client: trusted as its own root, for the name localhost,
// for server authentication.
func certProblem(leaf *x509.Certificate) error {
	desc := fmt.Sprintf("subject %q, DNS names %q", leaf.Subject.String(), leaf.DNSNames)
	if !slices.Contains(leaf.DNSNames, "localhost") {
		return fmt.Errorf("%w: the plugin certificate has no DNS name localhost (%s), required by go-plugin's AutoMTLS, "+
			"which checks the server name localhost and ignores the common name; add the subject alternative name DNS:localhost",
			errPluginCertificate, desc)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", CurrentTime: time.Now()}); err != nil {
		return fmt.Errorf("%w: go-plugin's AutoMTLS cannot verify the plugin certificate (%s): %v", errPluginCertificate, desc, err)
	}
	return fmt.Errorf("%w: the TLS connection to the plugin failed although its certificate (%s) looks valid: "+
		"it must be the very certificate of the handshake line, and the plugin must accept the host's client certificate "+
		"from PLUGIN_CLIENT_CERT", errPluginCertificate, desc)
}

// killNow ends a plugin that cannot be used: go-plugin's polite stop goes
// through the very connection that failed and then waits 2 s.
func (p *Process) killNow() {
	if p.client.Exited() {
		return
	}
	if pid := p.Pid(); pid > 0 {
		if proc, err := os.FindProcess(pid); err == nil {
			_ = proc.Kill()
		}
	}
}

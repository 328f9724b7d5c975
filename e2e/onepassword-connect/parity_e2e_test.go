package onepasswordconnect_test

// 1Password parity (issue 12), end to end: the real host launches the real plugin binary,
// which talks to the Connect emulator in this process.

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/secrethost/secrethost/e2e/internal/harness"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
	"github.com/secrethost/secrethost/shared/provider"
)

const contentRoute = "/v1/vaults/{vaultUuid}/items/{itemUuid}/files/{fileUuid}/content"

func noSecretIn(t *testing.T, log *syncbuf.Buffer, secrets ...string) {
	t.Helper()
	harness.NoSecretIn(t, log.String(), secrets...)
}

// TestFileAttachments: files by name, with and without a section, and every file attribute
// 1Password documents. Content is fetched only for files whose bytes are referenced, once per
// file however many references name it, and as soon as its item is known: concurrently with
// the fetch of another item.
func TestFileAttachments(t *testing.T) {
	fx := fixture.New()
	v := fx.Production
	tls := v.AddItem("TLS", "SERVER")
	certs := tls.AddSection("Certs")
	ca := tls.AddFile("ca.pem", []byte("ca-file-content-9f1"))
	cert := tls.AddFile("cert.pem", []byte("cert-file-content-2b7"))
	cert.Section = certs.Ref()
	key := tls.AddFile("key.pem", []byte("key-file-content-never-fetched"))
	key.Section = certs.Ref()
	tls.AddFile("unused.bin", []byte("unused-content-never-fetched"))
	tls.AddField(emulator.Field{Type: "STRING", Label: "hostname", Value: "tls.internal"})
	bundle := v.AddItem("Bundle", "DOCUMENT")
	bundleFile := bundle.AddFile("bundle.pem", []byte("bundle-content-41c"))
	clash := v.AddItem("Clash", "PASSWORD")
	clash.AddField(emulator.Field{Type: "CONCEALED", Purpose: "PASSWORD", Label: "config", Value: "clash-field-value"})
	clashFile := clash.AddFile("config", []byte("clash-file-content-never-fetched"))
	srv := emulator.NewTestServer(t, fx.Data, emulator.WithLatency(40*time.Millisecond))
	h, log := newHost(t, cfg(srv.URL(), fixture.Token))

	vid := v.ID
	want := map[string]string{
		"op://" + vid + "/TLS/ca.pem":                       "ca-file-content-9f1",
		"op://" + vid + "/TLS/CA.PEM?attribute=content":     "ca-file-content-9f1", // same file, no second download
		"op://" + vid + "/TLS/Certs/cert.pem":               "cert-file-content-2b7",
		"op://" + vid + "/TLS/cert.pem":                     "cert-file-content-2b7", // inside a section, found without it
		"op://" + vid + "/TLS/ca.pem?attribute=size":        strconv.Itoa(len("ca-file-content-9f1")),
		"op://" + vid + "/TLS/ca.pem?attribute=id":          ca.ID,
		"op://" + vid + "/TLS/ca.pem?attribute=name":        "ca.pem",
		"op://" + vid + "/TLS/ca.pem?attribute=type":        "FILE",
		"op://" + vid + "/TLS/Certs/key.pem?attribute=size": strconv.Itoa(len("key-file-content-never-fetched")),
		"op://" + vid + "/TLS/" + ca.ID:                     "ca-file-content-9f1", // by file ID
		"op://" + vid + "/TLS/hostname":                     "tls.internal",
		"op://" + vid + "/" + bundle.ID + "/bundle.pem":     "bundle-content-41c",
		"op://" + vid + "/Clash/config?attribute=size":      strconv.Itoa(len("clash-file-content-never-fetched")),
		"op://" + vid + "/Clash/config?attribute=purpose":   "PASSWORD",
	}
	var refs []string
	for r := range want {
		refs = append(refs, r)
	}
	start := time.Now()
	got, err := h.Resolve(ctx(t, 30*time.Second), refs)
	if err != nil {
		t.Fatal(err)
	}
	for r, w := range want {
		if string(got[r]) != w {
			t.Errorf("%s = %q, want %q", r, got[r], w)
		}
	}
	reqs := srv.Requests()
	contents := map[string]int{}
	var bundleContent, tlsFetch emulator.Request
	for _, r := range reqs {
		if r.Route == contentRoute {
			contents[r.Path]++
		}
		switch r.Path {
		case itemPath(v, bundle) + "/files/" + bundleFile.ID + "/content":
			bundleContent = r
		case itemPath(v, tls):
			tlsFetch = r
		}
	}
	wantContents := []string{
		itemPath(v, tls) + "/files/" + ca.ID + "/content",
		itemPath(v, tls) + "/files/" + cert.ID + "/content",
		itemPath(v, bundle) + "/files/" + bundleFile.ID + "/content",
	}
	for _, p := range wantContents {
		if contents[p] != 1 {
			t.Errorf("%d content requests for %s, want 1", contents[p], p)
		}
	}
	if len(contents) != len(wantContents) {
		t.Errorf("content requests %v, want exactly %v (none for files only named for their size, nor for unreferenced ones)", contents, wantContents)
	}
	// Bundle (by ID) is known after one round trip, TLS (by title) after two: Bundle's
	// download must overlap TLS's fetch, not wait for the whole plan.
	if bundleContent.Time.IsZero() || tlsFetch.Time.IsZero() || !bundleContent.Time.Before(tlsFetch.Time.Add(tlsFetch.Duration)) {
		t.Errorf("the download of bundle.pem did not run concurrently with the fetch of TLS:\n%s", timeline(reqs, start))
	}
	// Round trips: item lookups and Bundle's fetch; TLS's and Clash's fetches and Bundle's
	// download; TLS's downloads.
	if d := chainDepth(reqs); d != 3 {
		t.Errorf("%d round trips, want 3:\n%s", d, timeline(reqs, start))
	}

	bad := []struct {
		ref  string
		code provider.Code
		has  []string
	}{
		{"op://" + vid + "/Clash/config", provider.CodeAmbiguous, []string{`"config" names both field`, clashFile.ID}},
		{"op://" + vid + "/TLS/nosuch.pem", provider.CodeNotFound, []string{"nosuch.pem", `its file attachments: "ca.pem"`}},
		{"op://" + vid + "/TLS/Certs/ca.pem", provider.CodeNotFound, []string{`in section "Certs"`}},
		{"op://" + vid + "/TLS/ca.pem?attribute=otp", provider.CodeInvalidReference, []string{"?attribute=otp applies to fields", `file "ca.pem"`}},
		{"op://" + vid + "/TLS/ca.pem?attribute=size&ssh-format=openssh", provider.CodeInvalidReference, nil},
		{"op://" + vid + "/TLS/hostname?attribute=size", provider.CodeInvalidReference, []string{"?attribute=size applies to file attachments", `"hostname"`}},
		{"op://" + vid + "/TLS/ca.pem?ssh-format=openssh", provider.CodeInvalidReference, []string{"?ssh-format=openssh applies to fields", "ca.pem"}},
		{"op://" + vid + "/TLS/nosuch?attribute=size", provider.CodeNotFound, []string{`no file attachment "nosuch"`}},
	}
	var badRefs []string
	for _, b := range bad {
		badRefs = append(badRefs, b.ref)
	}
	srv.ResetRequests()
	fs := failures(t, h, badRefs...)
	for _, b := range bad {
		expectErr(t, fs[b.ref], b.ref, b.code, b.has...)
	}
	for _, r := range srv.Requests() {
		if r.Route == contentRoute {
			t.Errorf("content downloaded for failing references: %s", r.Path)
		}
	}
	noSecretIn(t, log, "ca-file-content-9f1", "cert-file-content-2b7", "bundle-content-41c", "clash-field-value")
}

// TestSSHFormat: ?ssh-format=openssh turns the PKCS#8 key Connect stores into the OpenSSH
// private-key format, the same key; other fields are a clear error.
func TestSSHFormat(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fx := fixture.New()
	items := map[string]any{"Deploy Ed25519": edKey, "Deploy RSA": rsaKey}
	stored := map[string]string{}
	for title, k := range items {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		it := fx.Production.AddItem(title, "SSH_KEY")
		pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		stored[title] = pemText
		it.AddField(emulator.Field{ID: "private_key", Type: "SSHKEY", Label: "private key", Value: pemText})
		it.AddField(emulator.Field{ID: "public_key", Type: "STRING", Label: "public key", Value: "ssh-ed25519 AAAA..."})
	}
	broken := fx.Production.AddItem("Broken Key", "SSH_KEY")
	broken.AddField(emulator.Field{ID: "private_key", Type: "SSHKEY", Label: "private key", Value: "not-a-key-c0ffee"})
	srv := emulator.NewTestServer(t, fx.Data)
	h, log := newHost(t, cfg(srv.URL(), fixture.Token))

	for title, k := range items {
		ref := "op://Production/" + title + "/private key?ssh-format=openssh"
		got, err := h.GetSecret(ctx(t, 30*time.Second), ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if !strings.HasPrefix(got, "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
			t.Errorf("%s: not in OpenSSH format:\n%.60s", ref, got)
		}
		signer, err := ssh.ParsePrivateKey([]byte(got))
		if err != nil {
			t.Fatalf("%s: the result does not parse: %v", ref, err)
		}
		pub, err := ssh.NewPublicKey(k.(crypto.Signer).Public())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(signer.PublicKey().Marshal(), pub.Marshal()) {
			t.Errorf("%s: a different key than the stored one", ref)
		}
		plain, err := h.GetSecret(ctx(t, 30*time.Second), "op://Production/"+title+"/private key")
		if err != nil || plain != stored[title] {
			t.Errorf("%s without ssh-format: got %.40q, %v; want the stored PKCS#8 key", title, plain, err)
		}
	}
	bad := []struct {
		ref string
		has []string
	}{
		{"op://Production/Deploy RSA/public key?ssh-format=openssh", []string{"needs an SSH key's private key", `"public key"`, "type STRING"}},
		{"op://Production/Postgres/password?ssh-format=openssh", []string{"needs an SSH key's private key", "type CONCEALED"}},
		{"op://Production/Broken Key/private key?ssh-format=openssh", []string{"does not hold a private key"}},
	}
	var refs []string
	for _, b := range bad {
		refs = append(refs, b.ref)
	}
	fs := failures(t, h, refs...)
	for _, b := range bad {
		expectErr(t, fs[b.ref], b.ref, provider.CodeInvalidReference, b.has...)
		if fs[b.ref] != nil && strings.Contains(fs[b.ref].Message, "c0ffee") {
			t.Errorf("%s: the message quotes the field's value: %s", b.ref, fs[b.ref].Message)
		}
	}
	noSecretIn(t, log, "not-a-key-c0ffee", "PRIVATE KEY-----\n")
}

// TestFieldAttributes: every field attribute 1Password documents.
func TestFieldAttributes(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	h, _ := newHost(t, cfg(srv.URL(), fixture.Token))
	var pw *emulator.Field
	for _, f := range fx.Postgres.Fields {
		if f.Label == "password" && f.Section == nil {
			pw = f
		}
	}
	if pw == nil {
		t.Fatal("fixture: no password field")
	}
	want := map[string]string{
		"op://Production/Postgres/password":                   fixture.PGPassword,
		"op://Production/Postgres/password?attribute=value":   fixture.PGPassword,
		"op://Production/Postgres/password?attribute=type":    pw.Type,
		"op://Production/Postgres/password?attribute=id":      pw.ID,
		"op://Production/Postgres/password?attribute=purpose": pw.Purpose,
		"op://Production/Postgres/password?attribute=title":   "password",
		"op://Production/Postgres/password?attribute=label":   "password",
		"op://Production/Postgres/password?attr=TITLE":        "password",
	}
	var refs []string
	for r := range want {
		refs = append(refs, r)
	}
	got, err := h.Resolve(ctx(t, 30*time.Second), refs)
	if err != nil {
		t.Fatal(err)
	}
	for r, w := range want {
		if string(got[r]) != w {
			t.Errorf("%s = %q, want %q", r, got[r], w)
		}
	}
	if pw.Type != "CONCEALED" || pw.Purpose != "PASSWORD" {
		t.Errorf("fixture changed: type %q purpose %q", pw.Type, pw.Purpose)
	}
	for _, attr := range []string{"otp", "totp"} {
		code, err := h.GetSecret(ctx(t, 30*time.Second), "op://Production/GitHub/one-time password?attribute="+attr)
		if err != nil || len(code) != 6 {
			t.Errorf("?attribute=%s: %q, %v", attr, code, err)
		}
	}
	ref := "op://Production/Postgres/password?attribute=otp"
	expectErr(t, failures(t, h, ref)[ref], ref, provider.CodeInvalidReference, "one-time password field")
	ref = "op://Production/Postgres/password?attribute=color"
	expectErr(t, failures(t, h, ref)[ref], ref, provider.CodeInvalidReference, `unsupported attribute "color"`)
}

// TestDates: DATE and MONTH_YEAR fields come back as 1Password's tools show them, not as
// Connect's raw Unix seconds and YYYYMM.
func TestDates(t *testing.T) {
	fx := fixture.New()
	card := fx.Production.AddItem("Card", "CREDIT_CARD")
	card.AddField(emulator.Field{ID: "expiry", Type: "MONTH_YEAR", Label: "expiry date", Value: "202712"})
	card.AddField(emulator.Field{ID: "issued", Type: "DATE", Label: "issued", Value: "1696593660"})
	card.AddField(emulator.Field{ID: "old", Type: "DATE", Label: "old", Value: "-86400"})
	card.AddField(emulator.Field{ID: "raw", Type: "STRING", Label: "raw", Value: "1696593660"})
	srv := emulator.NewTestServer(t, fx.Data)
	h, _ := newHost(t, cfg(srv.URL(), fixture.Token))
	want := map[string]string{
		"op://Production/Card/expiry date":                "12/2027",
		"op://Production/Card/issued":                     "2023-10-06",
		"op://Production/Card/old":                        "1969-12-31",
		"op://Production/Card/raw":                        "1696593660", // only DATE fields are dates
		"op://Production/Card/issued?attribute=type":      "DATE",
		"op://Production/Card/expiry date?attribute=type": "MONTH_YEAR",
	}
	var refs []string
	for r := range want {
		refs = append(refs, r)
	}
	got, err := h.Resolve(ctx(t, 30*time.Second), refs)
	if err != nil {
		t.Fatal(err)
	}
	for r, w := range want {
		if string(got[r]) != w {
			t.Errorf("%s = %q, want %q", r, got[r], w)
		}
	}
}

// TestDatesAsSDKShowsThem: the service-account plugin returns what 1Password's SDK
// returns, and the SDK's core formats dates itself (it needs 1Password's servers to resolve
// anything, so it cannot run here). Its core states its formats in its own messages ("must
// be YYYY-MM-DD", "must be MM/YYYY"); this test reads them out of the SDK's core.wasm, the
// one the service-account plugin embeds, and checks that the Connect plugin gives the same
// field the same string. A new SDK that changes its formats fails here.
func TestDatesAsSDKShowsThem(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/1password/onepassword-sdk-go").Output()
	if err != nil {
		t.Fatalf("locating the SDK: %v", err)
	}
	core, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "wasm", "core.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	layout := func(kind string) string {
		re := regexp.MustCompile(`invalid ` + kind + ` format\. must be ([YMD/-]+)`)
		m := re.FindSubmatch(core)
		if m == nil {
			t.Fatalf("the SDK core no longer says how it formats a %s", kind)
		}
		return strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02").Replace(string(m[1]))
	}
	dateLayout, monthLayout := layout("date"), layout("month-year")

	fx := fixture.New()
	card := fx.Production.AddItem("Card", "CREDIT_CARD")
	card.AddField(emulator.Field{ID: "expiry", Type: "MONTH_YEAR", Label: "expiry date", Value: "202712"})
	card.AddField(emulator.Field{ID: "issued", Type: "DATE", Label: "issued", Value: "1696593660"})
	srv := emulator.NewTestServer(t, fx.Data)
	h, _ := newHost(t, cfg(srv.URL(), fixture.Token))
	got, err := h.Resolve(ctx(t, 30*time.Second), []string{"op://Production/Card/issued", "op://Production/Card/expiry date"})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1696593660, 0).UTC().Format(dateLayout); string(got["op://Production/Card/issued"]) != want {
		t.Errorf("DATE: Connect plugin %q, the SDK's format gives %q", got["op://Production/Card/issued"], want)
	}
	if want := time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC).Format(monthLayout); string(got["op://Production/Card/expiry date"]) != want {
		t.Errorf("MONTH_YEAR: Connect plugin %q, the SDK's format gives %q", got["op://Production/Card/expiry date"], want)
	}
	t.Logf("SDK core formats: DATE %s, MONTH_YEAR %s", dateLayout, monthLayout)
}

// TestValidatePortability, through the secrethost command: a reference outside 1Password's
// character set is valid in Connect mode, with a warning that op and service accounts refuse
// it; in service-account mode it is the SDK's error. Every reference the SDK's validator
// accepts is accepted in both modes.
func TestValidatePortability(t *testing.T) {
	dir := t.TempDir()
	cli := testbin.Build(t, dir, "secrethost", "./host/cmd/secrethost", "")
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o700); err != nil {
		t.Fatal(err)
	}
	testbin.Build(t, plugins, pluginName, "./plugins/onepassword-connect", "")
	testbin.Build(t, plugins, "onepassword-sa", "./plugins/onepassword-sa", "")
	srv := emulator.NewTestServer(t, fixture.New().Data)
	run := func(env []string, refs ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"validate"}, refs...)...)
		cmd.Dir = t.TempDir()
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "SECRET_PROVIDER=1password"}, env...)
		b, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(b), code
	}
	connectEnv := []string{"SECRET_PROVIDER_CONNECT_HOST=" + srv.URL(), "SECRET_PROVIDER_CONNECT_TOKEN=" + fixture.Token}
	saEnv := []string{"SECRET_PROVIDER_ACCESS_TOKEN=ops_" + strings.Repeat("x", 40)}

	odd := "op://Production/My Item (2)/pass@word"
	out, code := run(connectEnv, odd)
	if code != 0 || !strings.Contains(out, "the op CLI and service accounts (1Password's SDK) will not accept it") ||
		!strings.Contains(out, "invalid character in secret reference") {
		t.Errorf("connect mode, %s: exit %d, want 0 with a portability warning:\n%s", odd, code, out)
	}
	out, code = run(saEnv, odd)
	if code == 0 || !strings.Contains(out, "invalid character in secret reference") {
		t.Errorf("service-account mode, %s: exit %d, want the SDK's error:\n%s", odd, code, out)
	}

	// Accepted by the SDK's validator (opref.ValidateSDK, checked against the SDK itself in
	// plugins/onepassword-sa): valid in both modes, without a portability warning.
	sdkValid := []string{
		"op://Production/Postgres/password",
		"op://Production/Postgres/Details/password",
		"op://Production/GitHub/one-time password?attribute=otp",
		"op://Production/GitHub/one-time password?attribute=totp",
		"op://Production/Deploy/private key?ssh-format=openssh",
		"op://Production/TLS/ca.pem",
		"op://Production/Postgres/password ",
		"op://Production//password",
	}
	// A documented attribute the SDK does not support: op reads it, service accounts do not.
	out, code = run(connectEnv, "op://Production/TLS/ca.pem?attribute=size")
	if code != 0 || !strings.Contains(out, "service accounts (1Password's SDK) will not accept its query") || strings.Contains(out, "op CLI") {
		t.Errorf("connect mode, ?attribute=size: exit %d, want 0 with a service-account-only warning:\n%s", code, out)
	}
	for _, env := range [][]string{connectEnv, saEnv} {
		out, code := run(env, sdkValid...)
		if code != 0 {
			t.Errorf("%v: exit %d for references the SDK accepts:\n%s", env[0], code, out)
		}
		if strings.Contains(out, "will not accept it") {
			t.Errorf("%v: a portability warning for references the SDK accepts:\n%s", env[0], out)
		}
	}
	if out, _ := run(connectEnv, "op://Production//password"); !strings.Contains(out, "will not resolve") {
		t.Errorf("connect mode: no warning for an empty item name:\n%s", out)
	}
}

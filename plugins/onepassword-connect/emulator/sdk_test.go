package emulator_test

// These tests drive the emulator with the real connect-sdk-go v1.5.3 client over real HTTP,
// which is the proof that it is faithful enough for code built on that SDK.

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/1Password/connect-sdk-go/connect"
	"github.com/1Password/connect-sdk-go/onepassword"
	"github.com/opentracing/opentracing-go"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

var noopTracer sync.Once

// newClient returns an SDK client. A no-op global tracer goes in first, otherwise the SDK starts
// a process-wide Jaeger tracer with background goroutines and localhost UDP traffic.
func newClient(url, token string) connect.Client {
	noopTracer.Do(func() { opentracing.SetGlobalTracer(opentracing.NoopTracer{}) })
	return connect.NewClient(url, token)
}

type sdkFixture struct {
	srv            *emulator.Server
	client         connect.Client
	demo, ops      *emulator.Vault
	postgres, totp *emulator.Item
	file           *emulator.File
}

func newSDKFixture(t *testing.T) *sdkFixture {
	t.Helper()
	d := emulator.NewData()
	fx := &sdkFixture{demo: d.AddVault("Demo"), ops: d.AddVault("Ops")}
	fx.postgres = fx.demo.AddItem("Postgres", "DATABASE")
	fx.postgres.AddField(emulator.Field{ID: "username", Label: "username", Purpose: "USERNAME", Value: "app"})
	fx.postgres.AddField(emulator.Field{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "pw"})
	replica := fx.postgres.AddSection("Replica")
	fx.postgres.AddField(emulator.Field{Section: replica.Ref(), Type: "CONCEALED", Label: "password", Value: "replica-pw"})
	fx.file = fx.postgres.AddFile("ca.pem", []byte("certificate bytes"))
	fx.totp = fx.demo.AddItem("GitHub", "LOGIN")
	fx.totp.AddField(emulator.Field{Type: "OTP", Label: "one-time password",
		Value: "otpauth://totp/GitHub:bot?secret=" + emulator.GeneratedOTPSecret})
	fx.demo.AddItem("Twin", "LOGIN")
	fx.demo.AddItem("Twin", "LOGIN")
	fx.ops.AddItem("Deploy Key", "PASSWORD")
	d.Grant("sdk-token", fx.demo.ID)

	fx.srv = emulator.NewTestServer(t, d)
	fx.client = newClient(fx.srv.URL(), "sdk-token")
	return fx
}

// paths returns the logged requests as "PATH?QUERY" strings.
func paths(srv *emulator.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		p := r.Path
		if r.RawQuery != "" {
			p += "?" + r.RawQuery
		}
		out = append(out, p)
	}
	return out
}

func TestSDKVaults(t *testing.T) {
	fx := newSDKFixture(t)
	vaults, err := fx.client.GetVaultsByTitle("demo") // case-insensitive, like Connect
	if err != nil || len(vaults) != 1 || vaults[0].ID != fx.demo.ID || vaults[0].Items != 4 {
		t.Fatalf("GetVaultsByTitle: %+v, %v", vaults, err)
	}
	if got := paths(fx.srv); got[0] != "/v1/vaults?filter=title+eq+%22demo%22" {
		t.Errorf("wire request %q", got[0])
	}
	v, err := fx.client.GetVault(fx.demo.ID)
	if err != nil || v.Name != "Demo" || v.Type != onepassword.UserCreatedVault || v.CreatedAt.IsZero() {
		t.Errorf("GetVault(id): %+v, %v", v, err)
	}
	v, err = fx.client.GetVault("Demo")
	if err != nil || v.ID != fx.demo.ID {
		t.Errorf("GetVault(title): %+v, %v", v, err)
	}
	all, err := fx.client.GetVaults()
	if err != nil || len(all) != 1 {
		t.Errorf("GetVaults: %d vaults, %v; the Ops vault must be hidden", len(all), err)
	}
	if _, err := fx.client.GetVaultByTitle("Ops"); err == nil || !strings.Contains(err.Error(), "Found 0 vaults") {
		t.Errorf("ungranted vault by title: %v", err)
	}
}

func TestSDKItemByTitle(t *testing.T) {
	fx := newSDKFixture(t)
	fx.srv.ResetRequests()
	it, err := fx.client.GetItem("Postgres", "Demo")
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != fx.postgres.ID || it.Vault.ID != fx.demo.ID || len(it.Fields) != 3 || it.GetValue("password") != "pw" {
		t.Errorf("item: %+v", it)
	}
	if it.Fields[2].Section == nil || it.SectionLabelForID(it.Fields[2].Section.ID) != "Replica" {
		t.Errorf("sectioned field: %+v", it.Fields[2])
	}
	want := []string{
		"/v1/vaults?filter=title+eq+%22Demo%22",
		"/v1/vaults/" + fx.demo.ID + "/items?filter=title+eq+%22Postgres%22",
		"/v1/vaults/" + fx.demo.ID + "/items/" + fx.postgres.ID,
	}
	if got := paths(fx.srv); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("request sequence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range fx.srv.Requests() {
		if !r.TokenPresent || r.UserAgent != "connect-sdk-go/1.5.3" {
			t.Errorf("request %+v", r)
		}
	}

	items, err := fx.client.GetItemsByTitle("Postgres", fx.demo.ID)
	if err != nil || len(items) != 1 || len(items[0].Fields) != 3 {
		t.Errorf("GetItemsByTitle: %+v, %v", items, err)
	}
	twins, err := fx.client.GetItemsByTitle("Twin", fx.demo.ID)
	if err != nil || len(twins) != 2 {
		t.Errorf("GetItemsByTitle(Twin): %d, %v", len(twins), err)
	}
	if _, err := fx.client.GetItem("Twin", fx.demo.ID); err == nil || !strings.Contains(err.Error(), "Found 2 item(s)") {
		t.Errorf("duplicate titles: %v", err)
	}
	if _, err := fx.client.GetItem("postgres", fx.demo.ID); err == nil || !strings.Contains(err.Error(), "Found 0 item(s)") {
		t.Errorf("item titles must be case-sensitive: %v", err)
	}
}

func TestSDKItemByID(t *testing.T) {
	fx := newSDKFixture(t)
	fx.srv.ResetRequests()
	it, err := fx.client.GetItem(fx.totp.ID, fx.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fx.srv.RequestCount() != 1 {
		t.Errorf("GetItem by IDs took %d requests, want 1", fx.srv.RequestCount())
	}
	otp := it.Fields[0]
	if otp.Type != onepassword.FieldTypeOTP || len(otp.TOTP) != 6 || !strings.HasPrefix(otp.Value, "otpauth://") {
		t.Errorf("OTP field: %+v", otp)
	}
	it, err = fx.client.GetItemByUUID(fx.postgres.ID, fx.demo.ID)
	if err != nil || it.Title != "Postgres" {
		t.Errorf("GetItemByUUID: %+v, %v", it, err)
	}
}

func TestSDKFiles(t *testing.T) {
	fx := newSDKFixture(t)
	files, err := fx.client.GetFiles("Postgres", "Demo")
	if err != nil || len(files) != 1 || files[0].Name != "ca.pem" || files[0].Size != 17 {
		t.Fatalf("GetFiles: %+v, %v", files, err)
	}
	content, err := fx.client.GetFileContent(&files[0])
	if err != nil || string(content) != "certificate bytes" {
		t.Errorf("GetFileContent: %q, %v", content, err)
	}
	f, err := fx.client.GetFile(fx.file.ID, fx.postgres.ID, fx.demo.ID)
	if err != nil || f.ContentPath != "/v1/vaults/"+fx.demo.ID+"/items/"+fx.postgres.ID+"/files/"+fx.file.ID+"/content" {
		t.Errorf("GetFile: %+v, %v", f, err)
	}
	// Files listed on the full item work too (the ESO and operator path).
	it, err := fx.client.GetItemByUUID(fx.postgres.ID, fx.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	content, err = fx.client.GetFileContent(it.Files[0])
	if err != nil || string(content) != "certificate bytes" {
		t.Errorf("GetFileContent via item: %q, %v", content, err)
	}
}

// opError asserts err is an *onepassword.Error with the given status and message.
func opError(t *testing.T, what string, err error, status int, msgPrefix string) {
	t.Helper()
	var opErr *onepassword.Error
	if !errors.As(err, &opErr) {
		t.Errorf("%s: error %v (%T), want *onepassword.Error", what, err, err)
		return
	}
	if opErr.StatusCode != status || !strings.HasPrefix(opErr.Message, msgPrefix) {
		t.Errorf("%s: %v, want status %d %q", what, opErr, status, msgPrefix)
	}
}

func TestSDKErrors(t *testing.T) {
	fx := newSDKFixture(t)
	bad := newClient(fx.srv.URL(), "wrong-token")
	_, err := bad.GetVaults()
	opError(t, "unknown token", err, 401, "Invalid bearer token")
	_, err = bad.GetItem(fx.postgres.ID, fx.demo.ID) // the 401 of the fallback title search surfaces
	opError(t, "unknown token, GetItem", err, 401, "Invalid bearer token")

	_, err = fx.client.GetVault(fx.ops.ID)
	opError(t, "ungranted vault", err, 403, "Authorization: token does not have access to vault")
	_, err = fx.client.GetItemByUUID(fx.ops.Items[0].ID, fx.ops.ID)
	opError(t, "item in ungranted vault", err, 403, "Authorization:")

	unknown := emulator.NewID("unknown")
	_, err = fx.client.GetVault(unknown)
	opError(t, "unknown vault", err, 404, "vault "+unknown+" not found")
	_, err = fx.client.GetItemByUUID(unknown, fx.demo.ID)
	opError(t, "unknown item", err, 404, "item "+unknown+" not found")
	// GetItem swallows the 404 and falls back to a title search (SDK v1.5.3 behaviour).
	if _, err = fx.client.GetItem(unknown, fx.demo.ID); err == nil || !strings.Contains(err.Error(), "Found 0 item(s)") {
		t.Errorf("GetItem(unknown id): %v", err)
	}
	_, err = fx.client.GetFile(unknown, fx.postgres.ID, fx.demo.ID)
	opError(t, "unknown file", err, 404, "file "+unknown+" not found")
}

func TestSDKSeesFaults(t *testing.T) {
	fx := newSDKFixture(t)
	_ = fx.srv.AddFault(emulator.Fault{Kind: emulator.FaultStatus, Status: 500, Count: 1})
	_, err := fx.client.GetVault(fx.demo.ID)
	opError(t, "500 fault", err, 500, "Something went wrong")

	_ = fx.srv.AddFault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Count: 1})
	if _, err := fx.client.GetVault(fx.demo.ID); err == nil || !strings.Contains(err.Error(), "decoding response") {
		t.Errorf("malformed JSON: %v", err)
	}
	_ = fx.srv.AddFault(emulator.Fault{Kind: emulator.FaultHTML, Status: 502, Count: 1})
	_, err = fx.client.GetVault(fx.demo.ID)
	opError(t, "HTML 502", err, 502, "Bad Gateway") // the SDK falls back to the HTTP status text

	if _, err := fx.client.GetVault(fx.demo.ID); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

// BenchmarkSDKGetItemByTitle shows the emulator in a benchmark: the SDK's title lookup costs
// three round trips, which the request log makes visible as requests/op.
func BenchmarkSDKGetItemByTitle(b *testing.B) {
	srv := emulator.NewTestServer(b, emulator.Generate(2, 5))
	client := newClient(srv.URL(), emulator.GeneratedToken)
	srv.ResetRequests()
	for b.Loop() {
		if _, err := client.GetItem("Item 003", "Vault 01"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(srv.RequestCount())/float64(b.N), "requests/op")
	b.ReportMetric(float64(srv.MaxInFlight()), "max-in-flight")
}

// Package dococd holds what the doco-cd integration needs besides the
// patch (doco-cd.patch, which is the adapter: doco-cd's 1Password provider
// becomes a thin wrapper around host.OpenDocoCD): the Connect seed data
// that the verify script's ported doco-cd tests run against, and tests of
// the image and compose files. See README.md.
package dococd

import (
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// SeedToken is the Connect token the seed grants TestVault (not Other).
const SeedToken = "verify-token"

// SeedOTPSecret is the base32 seed of TestItem's one-time password.
const SeedOTPSecret = "JBSWY3DPEHPK3PXP"

// Seed is the Connect data of doco-cd's Connect test cases
// (client_connect_test.go at 03cbeb36) and of the cases where doco-cd's
// field rule and secrethost's differ:
//
//   - TestVault/TestItem: "password" in section Development (dev-secret)
//     and in section Production (prod-secret); "one-time password", an OTP
//     field; "plain", a text field without a one-time password.
//   - TestVault/Dup: two items with that title.
//   - TestVault/Mixed: "password" in section S ("in-section") first, then
//     "password" outside any section ("top-level"): doco-cd takes the first
//     in item order, secrethost the one outside any section.
//   - TestVault/Case: a field "API_Key" (doco-cd compares labels exactly,
//     secrethost case-insensitively).
//   - Other: a vault the token may not read.
func Seed() *emulator.Data {
	d := emulator.NewData()
	v := d.AddVault("TestVault")

	it := v.AddItem("TestItem", "LOGIN")
	dev, prod := it.AddSection("Development"), it.AddSection("Production")
	it.AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "dev-secret", Section: &emulator.SectionRef{ID: dev.ID}})
	it.AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "prod-secret", Section: &emulator.SectionRef{ID: prod.ID}})
	it.AddField(emulator.Field{Type: "OTP", Label: "one-time password", Value: "otpauth://totp/doco?secret=" + SeedOTPSecret})
	it.AddField(emulator.Field{Type: "STRING", Label: "plain", Value: "plain-value"})

	v.AddItem("Dup", "PASSWORD").AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "dup-one"})
	v.AddItem("Dup", "PASSWORD").AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "dup-two"})

	mixed := v.AddItem("Mixed", "LOGIN")
	s := mixed.AddSection("S")
	mixed.AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "in-section", Section: &emulator.SectionRef{ID: s.ID}})
	mixed.AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "top-level"})

	v.AddItem("Case", "API_CREDENTIAL").AddField(emulator.Field{Type: "CONCEALED", Label: "API_Key", Value: "case-value"})

	other := d.AddVault("Other")
	other.AddItem("Hidden", "PASSWORD").AddField(emulator.Field{Type: "CONCEALED", Label: "password", Value: "hidden"})

	d.Grant(SeedToken, v.ID)
	return d
}

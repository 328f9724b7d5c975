package emulator

import (
	"fmt"
	"time"
)

// GeneratedToken is the bearer token that Generate grants every vault.
const GeneratedToken = "generated-token"

// GeneratedOTPSecret is the base32 TOTP seed of every generated item's one-time password.
const GeneratedOTPSecret = "JBSWY3DPEHPK3PXP"

// generatedEpoch anchors generated timestamps so that repeated runs produce identical data.
var generatedEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate builds deterministic data for benchmarks and load tests: vaults named "Vault 00",
// "Vault 01", ..., each holding items "Item 000", "Item 001", ... IDs, values and timestamps
// depend only on the position, so two calls with the same arguments return equal data.
//
// Every item is a LOGIN with the built-in username and password fields, a section "Details"
// holding "host" and a second "password", a "one-time password" OTP field, a "notesPlain"
// field, the tag "generated", one URL and a small text file "config.txt". Token
// GeneratedToken may read every vault. Negative counts are treated as zero.
func Generate(vaults, itemsPerVault int) *Data {
	d := &Data{}
	for v := 0; v < vaults; v++ {
		vault := d.AddVault(fmt.Sprintf("Vault %02d", v))
		vault.Description = "generated"
		vault.CreatedAt = generatedEpoch.Add(time.Duration(v) * time.Hour)
		vault.UpdatedAt = vault.CreatedAt
		for i := 0; i < itemsPerVault; i++ {
			it := vault.AddItem(fmt.Sprintf("Item %03d", i), "LOGIN")
			it.Tags = []string{"generated"}
			it.URLs = []URL{{Href: fmt.Sprintf("https://app%d.example.com", i), Primary: true}}
			it.CreatedAt = vault.CreatedAt.Add(time.Duration(i) * time.Minute)
			it.UpdatedAt = it.CreatedAt
			it.Version = 1
			it.AddField(Field{ID: "username", Type: "STRING", Purpose: "USERNAME", Label: "username",
				Value: fmt.Sprintf("user-%d-%d", v, i)})
			it.AddField(Field{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password",
				Value: fmt.Sprintf("pw-%d-%d", v, i)})
			it.AddField(Field{ID: "notesPlain", Type: "STRING", Purpose: "NOTES", Label: "notesPlain",
				Value: "generated item"})
			it.AddField(Field{Type: "OTP", Label: "one-time password",
				Value: "otpauth://totp/Generated:user?secret=" + GeneratedOTPSecret + "&issuer=Generated"})
			details := it.AddSection("Details")
			it.AddField(Field{Section: details.Ref(), Type: "STRING", Label: "host",
				Value: fmt.Sprintf("db%d.example.com", i)})
			it.AddField(Field{Section: details.Ref(), Type: "CONCEALED", Label: "password",
				Value: fmt.Sprintf("details-pw-%d-%d", v, i)})
			it.AddFile("config.txt", fmt.Appendf(nil, "vault=%d item=%d\n", v, i))
		}
	}
	d.Grant(GeneratedToken, AllVaults)
	return d
}

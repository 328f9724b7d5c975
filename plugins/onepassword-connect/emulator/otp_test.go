package emulator

import (
	"testing"
	"time"
)

// RFC 6238 appendix B test vectors. The seeds are the ASCII keys "1234567890..." in base32.
const (
	rfcSHA1   = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	rfcSHA256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
	rfcSHA512 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"
)

func TestTOTPCode(t *testing.T) {
	at59 := time.Unix(59, 0)
	at1111111109 := time.Unix(1111111109, 0)
	for _, c := range []struct {
		value string
		at    time.Time
		want  string
	}{
		{"otpauth://totp/x?secret=" + rfcSHA1 + "&digits=8", at59, "94287082"},
		{"otpauth://totp/x?secret=" + rfcSHA256 + "&digits=8&algorithm=SHA256", at59, "46119246"},
		{"otpauth://totp/x?secret=" + rfcSHA512 + "&digits=8&algorithm=sha512", at59, "90693936"},
		{"otpauth://totp/x?secret=" + rfcSHA1 + "&digits=8", at1111111109, "07081804"},
		{"otpauth://totp/x?secret=" + rfcSHA1, at59, "287082"},                // 6 digits by default
		{"OTPAUTH://TOTP/x?secret=" + rfcSHA1, at59, "287082"},                // scheme and type in any case
		{"otpauth://totp/x?secret=" + rfcSHA1 + "&period=60", at59, "755224"}, // counter 0
		{rfcSHA1, at59, "287082"},                                   // a bare seed
		{"gezd gnbv gy3t qojq gezd gnbv gy3t qojq", at59, "287082"}, // grouped, lowercase
		{"  " + rfcSHA1 + "  ", at59, "287082"},
	} {
		got, ok := totpCode(c.value, c.at)
		if !ok || got != c.want {
			t.Errorf("totpCode(%q) = %q, %v; want %q", c.value, got, ok, c.want)
		}
	}
}

func TestTOTPCodeRejects(t *testing.T) {
	for _, v := range []string{
		"",
		"not a seed!",
		"otpauth://hotp/x?secret=" + rfcSHA1 + "&counter=1",
		"otpauth://totp/x",
		"otpauth://totp/x?secret=",
		"otpauth://totp/x?secret=0189",
		"otpauth://totp/x?secret=" + rfcSHA1 + "&algorithm=MD4",
		"otpauth://totp/x?secret=" + rfcSHA1 + "&digits=12",
		"otpauth://totp/x?secret=" + rfcSHA1 + "&digits=five",
		"otpauth://totp/x?secret=" + rfcSHA1 + "&period=0",
		"otpauth://totp/x?secret=" + rfcSHA1 + "&period=-30",
		"otpauth://totp/%zz?secret=" + rfcSHA1,
		"steam://" + rfcSHA1,
		"A", // not a valid base32 length
	} {
		if code, ok := totpCode(v, time.Unix(59, 0)); ok {
			t.Errorf("totpCode(%q) = %q, want no code", v, code)
		}
	}
}

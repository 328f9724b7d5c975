package emulator

import (
	"encoding/base32"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpCode computes the code Connect puts in an OTP field's "totp" key at time now.
//
// Accepted values:
//   - an otpauth://totp/... URI with a base32 "secret"; the optional "algorithm" (SHA1,
//     SHA256, SHA512), "digits" (6 to 8) and "period" (1 to 3600 seconds) override the
//     RFC 6238 defaults of SHA1, 6 digits and 30 seconds;
//   - a bare base32 seed (spaces and case ignored, padding optional), with the defaults.
//
// Anything else — HOTP URIs, steam://, an empty or non-base32 secret, unknown algorithms,
// out-of-range digits or period — yields ok=false and the field is sent without "totp".
// Connect's behaviour for malformed seeds is undocumented; leaving the key out is the
// likeliest reading and the one a client must cope with anyway.
func totpCode(value string, now time.Time) (code string, ok bool) {
	secret, opts, ok := parseOTP(value)
	if !ok {
		return "", false
	}
	code, err := totp.GenerateCodeCustom(secret, now, opts)
	if err != nil {
		return "", false
	}
	return code, true
}

// parseOTP turns a field value into a validated base32 secret and generation options.
func parseOTP(value string) (string, totp.ValidateOpts, bool) {
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	value = strings.TrimSpace(value)
	secret := value
	if len(value) >= 10 && strings.EqualFold(value[:10], "otpauth://") {
		u, err := url.Parse(value)
		if err != nil || !strings.EqualFold(u.Host, "totp") {
			return "", opts, false
		}
		q := u.Query()
		secret = q.Get("secret")
		if a := q.Get("algorithm"); a != "" {
			switch strings.ToUpper(a) {
			case "SHA1":
			case "SHA256":
				opts.Algorithm = otp.AlgorithmSHA256
			case "SHA512":
				opts.Algorithm = otp.AlgorithmSHA512
			default:
				return "", opts, false
			}
		}
		if d := q.Get("digits"); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 6 || n > 8 {
				return "", opts, false
			}
			opts.Digits = otp.Digits(n)
		}
		if p := q.Get("period"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 3600 {
				return "", opts, false
			}
			opts.Period = uint(n)
		}
	}
	secret = strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	secret = strings.TrimRight(secret, "=")
	if secret == "" {
		return "", opts, false
	}
	// Validate here rather than relying on the library's error, so that the rule is visible.
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil {
		return "", opts, false
	}
	return secret, opts, true
}

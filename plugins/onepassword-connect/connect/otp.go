package connect

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// fieldTypeOTP is Connect's type for one-time password fields. (The
// OpenAPI spec says "TOTP"; servers send and accept "OTP".)
const fieldTypeOTP = "OTP"

// errNoOTP is returned by totpFromURI for a value that cannot produce a
// code. Its messages never quote the value: it holds the TOTP seed.
var errNoOTP = errors.New("not a usable otpauth://totp URI")

// totpFromURI computes the current code from an otpauth://totp/ URI.
//
// pquerna/otp is lenient (any URL parses; unknown algorithms silently mean
// SHA1; digits=100 "works"), so the parameters are checked here first: a
// wrong code is worse than a clear error.
func totpFromURI(value string, now time.Time) (string, error) {
	value = strings.TrimSpace(value)
	u, err := url.Parse(value)
	if err != nil {
		return "", fmt.Errorf("%w: the value does not parse as a URI", errNoOTP)
	}
	if !strings.EqualFold(u.Scheme, "otpauth") {
		return "", fmt.Errorf("%w: the value is not an otpauth:// URI", errNoOTP)
	}
	if !strings.EqualFold(u.Host, "totp") {
		return "", fmt.Errorf("%w: only time-based (otpauth://totp/) codes are supported", errNoOTP)
	}
	q := u.Query()
	secret := strings.ToUpper(strings.TrimRight(strings.ReplaceAll(q.Get("secret"), " ", ""), "="))
	if secret == "" {
		return "", fmt.Errorf("%w: the URI has no secret", errNoOTP)
	}
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil {
		return "", fmt.Errorf("%w: the secret is not base32", errNoOTP)
	}
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	switch a := strings.ToUpper(q.Get("algorithm")); a {
	case "", "SHA1":
	case "SHA256":
		opts.Algorithm = otp.AlgorithmSHA256
	case "SHA512":
		opts.Algorithm = otp.AlgorithmSHA512
	default:
		return "", fmt.Errorf("%w: unsupported algorithm %q", errNoOTP, a)
	}
	if d := q.Get("digits"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 6 || n > 10 {
			return "", fmt.Errorf("%w: digits must be 6 to 10", errNoOTP)
		}
		opts.Digits = otp.Digits(n)
	}
	if p := q.Get("period"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 24*3600 {
			return "", fmt.Errorf("%w: period must be 1 to 86400 seconds", errNoOTP)
		}
		opts.Period = uint(n)
	}
	code, err := totp.GenerateCodeCustom(secret, now, opts)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoOTP, err)
	}
	return code, nil
}

package connect

import (
	"strconv"
	"time"
)

// Values as 1Password shows them (issue 12, item 4).
//
// Connect sends a DATE field's value as Unix seconds ("1696593660") and a MONTH_YEAR
// field's as YYYYMM ("202712"). 1Password's SDK, which the service-account plugin uses,
// gives them as YYYY-MM-DD and MM/YYYY: its core (onepassword-sdk-go v0.4.1,
// internal/wasm/core.wasm) states those formats in its own messages, "invalid date format.
// must be YYYY-MM-DD" and "invalid month-year format. must be MM/YYYY", and
// TestDateFormatsMatchSDKCore reads them out of the core, so a new SDK that changes them
// fails the test. A value that is not in Connect's raw form is passed through unchanged.

const (
	fieldTypeDate      = "DATE"
	fieldTypeMonthYear = "MONTH_YEAR"
)

// displayValue is a field's value as 1Password's tools show it.
func displayValue(fieldType, v string) string {
	switch fieldType {
	case fieldTypeDate:
		return formatDate(v)
	case fieldTypeMonthYear:
		return formatMonthYear(v)
	}
	return v
}

// formatDate turns Unix seconds into YYYY-MM-DD, in UTC (1Password stores a date as a
// moment of that day in UTC).
func formatDate(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || v == "" || v[0] == '+' {
		return v
	}
	return time.Unix(n, 0).UTC().Format(time.DateOnly)
}

// formatMonthYear turns YYYYMM into MM/YYYY.
func formatMonthYear(v string) string {
	if len(v) != 6 || !allDigits(v) {
		return v
	}
	if m, _ := strconv.Atoi(v[4:]); m < 1 || m > 12 {
		return v
	}
	return v[4:] + "/" + v[:4]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package connect

import "testing"

func TestDisplayValue(t *testing.T) {
	tests := []struct{ typ, in, want string }{
		{"DATE", "1696593660", "2023-10-06"},
		{"DATE", "0", "1970-01-01"},
		{"DATE", "-86400", "1969-12-31"},
		{"DATE", "2023-10-06", "2023-10-06"}, // already formatted: unchanged
		{"DATE", "", ""},
		{"DATE", "+5", "+5"},
		{"DATE", "99999999999999999999", "99999999999999999999"},
		{"MONTH_YEAR", "202712", "12/2027"},
		{"MONTH_YEAR", "200001", "01/2000"},
		{"MONTH_YEAR", "202713", "202713"}, // no month 13: unchanged
		{"MONTH_YEAR", "12/2027", "12/2027"},
		{"MONTH_YEAR", "2027-12", "2027-12"},
		{"STRING", "1696593660", "1696593660"},
		{"CONCEALED", "202712", "202712"},
	}
	for _, tt := range tests {
		if got := displayValue(tt.typ, tt.in); got != tt.want {
			t.Errorf("displayValue(%s, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

package gateway

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Exponent returns how many minor-unit digits a currency has (VND 0, USD 2, KWD 3), as the
// Unicode CLDR records the ISO 4217 currencies. Our amounts are int64 in these units.
func Exponent(cur string) (int, error) {
	if len(cur) != 3 {
		return 0, fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalidRequest, cur)
	}
	unit, err := currency.ParseISO(strings.ToUpper(cur))
	if err != nil {
		return 0, fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalidRequest, cur)
	}
	scale, _ := currency.Standard.Rounding(unit)
	return scale, nil
}

// Rescale converts an amount between two minor-unit exponents (VNPay wants VND times 100:
// Rescale(a, 0, 2)). Going down must not lose precision.
func Rescale(amount int64, from, to int) (int64, error) {
	orig := amount
	for ; from < to; from++ {
		if amount > math.MaxInt64/10 || amount < math.MinInt64/10 {
			return 0, fmt.Errorf("%w: amount %d overflows", ErrInvalidRequest, orig)
		}
		amount *= 10
	}
	for ; from > to; from-- {
		if amount%10 != 0 {
			return 0, fmt.Errorf("%w: amount %d is not a whole number of units", ErrInvalidRequest, orig)
		}
		amount /= 10
	}
	return amount, nil
}

// FormatDecimal writes minor units as a decimal string with exp fraction digits (1999, 2 ->
// "19.99"), the form PayPal's amount.value takes.
func FormatDecimal(amount int64, exp int) string {
	neg := amount < 0
	s := strconv.FormatUint(absUint(amount), 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseDecimal reads a decimal string into minor units with exp fraction digits ("19.99", 2 ->
// 1999). Fewer fraction digits are padded ("5", 2 -> 500); more are an error unless zeros.
func ParseDecimal(s string, exp int) (int64, error) {
	bad := fmt.Errorf("%w: amount %q is not a decimal", ErrMalformed, s)
	if s == "" {
		return 0, bad
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(frac) > exp || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", exp-len(frac)), 10, 64)
	if err != nil {
		return 0, bad
	}
	if neg {
		n = -n
	}
	return n, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func absUint(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1
	}
	return uint64(n)
}

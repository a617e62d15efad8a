// Package wire holds what several gateway adapters need on the wire: HMAC signatures in hex,
// compared in constant time, and JSON calls over HTTP with bounded response reading.
package wire

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/payment/gateway"
)

// maxResponse bounds how much of a provider's answer is read; their JSON answers are small.
const maxResponse = 1 << 20

// DefaultTimeout is the HTTP timeout adapters use when given no client. MoMo documents 30s as
// the minimum for its API, and the others answer well within it.
const DefaultTimeout = 30 * time.Second

// DefaultClient returns c, or a client with DefaultTimeout when c is nil.
func DefaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// HMACSHA256 returns the lowercase hex HMAC-SHA256 of msg under key.
func HMACSHA256(key, msg string) string { return mac(sha256.New, key, msg) }

// HMACSHA512 returns the lowercase hex HMAC-SHA512 of msg under key.
func HMACSHA512(key, msg string) string { return mac(sha512.New, key, msg) }

func mac(h func() hash.Hash, key, msg string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// EqualHex compares a received hex signature with the expected one in constant time; hex case
// does not matter (VNPay's examples use both).
func EqualHex(got, want string) bool {
	g, err1 := hex.DecodeString(got)
	w, err2 := hex.DecodeString(want)
	return err1 == nil && err2 == nil && len(w) > 0 && hmac.Equal(g, w)
}

// Request is one JSON call to a provider.
type Request struct {
	Method string
	URL    string
	Header http.Header
	// Body is marshalled as JSON, or sent as is when it is a []byte or a string (a form).
	Body any
}

// StatusError is a non-2xx answer; Body is kept so adapters can read the provider's error.
type StatusError struct {
	Status int
	Body   []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(string(e.Body)))
}

// Do sends req and decodes a 2xx JSON answer into out (when out is not nil). A non-2xx answer
// returns a *StatusError; a transport failure or an unreadable answer returns a
// *gateway.ProviderError for provider.
func Do(ctx context.Context, client *http.Client, provider string, req Request, out any) error {
	var body io.Reader
	contentType := "application/json"
	switch b := req.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
		contentType = "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("%s: encoding request: %w", provider, err)
		}
		body = bytes.NewReader(buf)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return fmt.Errorf("%s: building request: %w", provider, err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", contentType)
	}
	hr.Header.Set("Accept", "application/json")
	res, err := client.Do(hr)
	if err != nil {
		return &gateway.ProviderError{Provider: provider, Message: "request failed", Err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return &gateway.ProviderError{Provider: provider, Message: "reading answer", HTTPStatus: res.StatusCode, Err: err}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &StatusError{Status: res.StatusCode, Body: raw}
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &gateway.ProviderError{Provider: provider, Message: "unreadable answer", HTTPStatus: res.StatusCode,
			Err: errors.Join(gateway.ErrMalformed, err)}
	}
	return nil
}

// Text is a JSON scalar kept as the text it was sent as. VNPay and MoMo send some fields as a
// string in one message and a number in another, and their signatures are computed over the
// text, so the exact digits must survive decoding.
type Text string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case string(b) == "null":
		*t = ""
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			if string(b) != "true" && string(b) != "false" {
				return fmt.Errorf("wire: %s is not a scalar", b)
			}
			*t = Text(b)
			return nil
		}
		*t = Text(n)
	}
	return nil
}

// String returns the text.
func (t Text) String() string { return string(t) }

// Ready returns gateway.ErrUnavailable unless g has its credentials.
func Ready(g gateway.Gateway) error {
	if !g.Available() {
		return fmt.Errorf("%w: %s", gateway.ErrUnavailable, g.Name())
	}
	return nil
}

// CheckCreate is what every adapter's Create checks first: the gateway is configured and the
// request valid. vndAtOnce adds the rules of the Vietnamese gateways, which take only VND and
// capture when the buyer pays.
func CheckCreate(g gateway.Gateway, req gateway.CreateRequest, vndAtOnce bool) error {
	if err := Ready(g); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if !vndAtOnce {
		return nil
	}
	if req.Capture == gateway.CaptureManual {
		return fmt.Errorf("%w: %s captures at payment", gateway.ErrNotSupported, g.Name())
	}
	return VNDOnly(g.Name(), req.Currency)
}

// CheckRefund is what every adapter's Refund checks first, as CheckCreate.
func CheckRefund(g gateway.Gateway, req gateway.RefundRequest, vndOnly bool) error {
	if err := Ready(g); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if vndOnly {
		return VNDOnly(g.Name(), req.Currency)
	}
	return nil
}

// VNDOnly refuses any currency but VND.
func VNDOnly(provider, cur string) error {
	if !strings.EqualFold(cur, "VND") {
		return fmt.Errorf("%w: %s takes only VND, not %s", gateway.ErrInvalidRequest, provider, cur)
	}
	return nil
}

// First returns the first non-empty string.
func First(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

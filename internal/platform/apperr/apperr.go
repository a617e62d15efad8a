// Package apperr holds the typed application errors every context returns. The HTTP layer maps
// them to status codes and problem+json in one place (httpx.Error).
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable machine-readable error word, sent to clients as the problem's `code`.
type Code string

// The codes contexts use. Each maps to one HTTP status in httpx.
const (
	Invalid              Code = "validation_failed"
	BadRequest           Code = "bad_request"
	Unauthorized         Code = "unauthorized"
	InvalidCredentials   Code = "invalid_credentials"
	InvalidOTP           Code = "invalid_otp"
	InvalidToken         Code = "invalid_token"
	Forbidden            Code = "forbidden"
	NotFound             Code = "not_found"
	Conflict             Code = "conflict"
	InsufficientStock    Code = "insufficient_stock"
	IdempotencyKeyReused Code = "idempotency_key_reused"
	TooManyRequests      Code = "rate_limited"
	PayloadTooLarge      Code = "payload_too_large"
	Unavailable          Code = "unavailable"
	MailUnavailable      Code = "mail_unavailable" // a flow that needs email, on a server run with MAIL_DISABLED
	// ProviderUnavailable: an outside provider (a payment gateway) is failing and its circuit
	// breaker refuses calls for now; Retry-After says when it tries again, and the client may
	// pick another provider meanwhile.
	ProviderUnavailable Code = "provider_unavailable"
	Internal            Code = "internal"

	// Refusals of a voucher a buyer can act on: drop the voucher, wait for it, or buy more.
	VoucherExhausted  Code = "voucher_exhausted"   // no use left, in all or for this buyer
	VoucherExpired    Code = "voucher_expired"     // its time is over
	VoucherNotStarted Code = "voucher_not_started" // its time has not come yet
	MinSpendNotMet    Code = "min_spend_not_met"   // the items it covers cost less than it asks
)

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error: a code, a human message and, for validation, the fields.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs; never shown to clients
	// RetryAfter, when set, tells the client when to try again (the Retry-After header) of a
	// refusal that waiting cures: a rate limit, a server shedding load.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a code and a message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap makes an error with a code and a message that keeps err as its cause.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Validation makes a validation error listing the bad fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: fields}
}

// Field is shorthand for a single-field validation error.
func Field(field, message string) *Error {
	return Validation(FieldError{Field: field, Message: message})
}

// FieldCode is a refusal of one field's value with a code more precise than Invalid, for
// clients that act on it (VoucherExpired ...); the message is the field's, as with Field.
func FieldCode(code Code, field, message string) *Error {
	return &Error{Code: code, Message: message, Fields: []FieldError{{Field: field, Message: message}}}
}

// NotFoundf is shorthand for a not-found error about a kind of resource.
func NotFoundf(kind string) *Error {
	return New(NotFound, "%s not found", kind)
}

// CodeOf returns the code of err, or Internal when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

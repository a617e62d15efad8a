// Package httpx is the one way GoShop handlers decode and validate bodies, write JSON, write
// problems (RFC 9457) and paginate. Every handler of every context uses it.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// JSON writes v as a JSON body with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// OK writes v with 200.
func OK(w http.ResponseWriter, v any) { JSON(w, http.StatusOK, v) }

// Created writes v with 201.
func Created(w http.ResponseWriter, v any) { JSON(w, http.StatusCreated, v) }

// NoContent writes 204.
func NoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// Problem is an RFC 9457 problem document with GoShop's `code` and validation `errors`.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Code     apperr.Code         `json:"code"`
	Instance string              `json:"instance,omitempty"`
	Errors   []apperr.FieldError `json:"errors,omitempty"`
}

// statusOf is the one place application error codes become HTTP statuses.
var statusOf = map[apperr.Code]int{
	apperr.Invalid:              http.StatusUnprocessableEntity,
	apperr.BadRequest:           http.StatusBadRequest,
	apperr.Unauthorized:         http.StatusUnauthorized,
	apperr.InvalidCredentials:   http.StatusUnauthorized,
	apperr.InvalidOTP:           http.StatusBadRequest,
	apperr.InvalidToken:         http.StatusBadRequest,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.Conflict:             http.StatusConflict,
	apperr.InsufficientStock:    http.StatusConflict,
	apperr.IdempotencyKeyReused: http.StatusUnprocessableEntity,
	apperr.TooManyRequests:      http.StatusTooManyRequests,
	apperr.PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	apperr.Unavailable:          http.StatusServiceUnavailable,
	apperr.MailUnavailable:      http.StatusServiceUnavailable,
	apperr.ProviderUnavailable:  http.StatusServiceUnavailable,
	apperr.Internal:             http.StatusInternalServerError,
	apperr.VoucherExhausted:     http.StatusUnprocessableEntity,
	apperr.VoucherExpired:       http.StatusUnprocessableEntity,
	apperr.VoucherNotStarted:    http.StatusUnprocessableEntity,
	apperr.MinSpendNotMet:       http.StatusUnprocessableEntity,
}

// StatusOf returns the HTTP status for an application error code.
func StatusOf(code apperr.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error writes err as a problem. Application errors keep their code and message; anything else
// is logged and answered as a bare 500, so internals never reach clients.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			ae = apperr.Wrap(err, apperr.Unavailable, "the request took too long")
		case errors.Is(err, context.Canceled):
			ae = apperr.Wrap(err, apperr.Unavailable, "the request was cancelled")
		default:
			ae = apperr.Wrap(err, apperr.Internal, "internal error")
		}
	}
	status := StatusOf(ae.Code)
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	// A refusal with a Retry-After is load shed on purpose, counted by the metrics; logging each
	// one would flood the log in the very storm that causes them.
	if status >= 500 && ae.RetryAfter == 0 {
		logger(r.Context()).ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method,
			"path", r.URL.Path, "request_id", middleware.GetReqID(r.Context()))
	}
	WriteProblem(w, Problem{
		Type:     "https://goshop.dev/problems/" + string(ae.Code),
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   ae.Message,
		Code:     ae.Code,
		Instance: r.URL.Path,
		Errors:   ae.Fields,
	})
}

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// Fail writes a problem made from code and message, for middleware that has no error value.
func Fail(w http.ResponseWriter, r *http.Request, code apperr.Code, message string) {
	Error(w, r, apperr.New(code, "%s", message))
}

package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// PathValue returns a chi URL parameter.
func PathValue(r *http.Request, name string) string { return chi.URLParam(r, name) }

// Recorder is told of each request once it is served (metrics).
type Recorder func(r *http.Request, status int, elapsed time.Duration)

// Observe is the one wrapper every request goes through first. It bounds the request's context
// by timeout (database calls past it fail and answer 503), hands log to what serves the request
// (so that a failure seen by Error or Recover is logged where the app logs, in its format, and a
// test can read it), and once the request is served logs one structured line and tells each
// recorder. Logging, metrics and the timeout share one response wrapper and one request copy:
// each of those is an allocation on every request.
func Observe(log *slog.Logger, timeout time.Duration, recorders ...Recorder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), loggerKey{}, log), timeout)
			defer cancel()
			r = r.WithContext(ctx)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			for _, rec := range recorders {
				rec(r, status, elapsed)
			}
			level := slog.LevelInfo
			switch {
			case status >= 500 && ww.Header().Get("Retry-After") != "":
				level = slog.LevelWarn // load shed on purpose, not a fault
			case status >= 500:
				level = slog.LevelError
			}
			if !log.Enabled(ctx, level) {
				return
			}
			log.LogAttrs(context.WithoutCancel(ctx), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", RoutePattern(r)),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", elapsed),
				slog.String("remote", r.RemoteAddr),
				slog.String("request_id", middleware.GetReqID(ctx)),
			)
		})
	}
}

type loggerKey struct{}

// logger is the logger AccessLog handed the request, or slog's default outside it.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// RoutePattern is the chi pattern that matched r ("/api/v1/users/{id}"), or "unmatched"; logs
// and metrics use it so that IDs never explode their cardinality.
func RoutePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// Recover turns a panic into a logged 500 problem, so one bad request never takes the process.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger(r.Context()).ErrorContext(r.Context(), "panic", "panic", p, "stack", string(debug.Stack()),
					"request_id", middleware.GetReqID(r.Context()))
				Fail(w, r, apperr.Internal, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BodyLimit refuses bodies over n bytes with 413: at once when Content-Length says so, and
// through http.MaxBytesReader (seen by Decode) when the body is streamed. A multipart body is
// refused only as it is read, over n unless the upload route reading it has a limit of its own.
func BodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isMultipart(r) {
				// An upload route may raise the limit to its own (Multipart): it is not known
				// before routing, so the body is refused as it is read, not by its length.
				body := &liftableBody{rc: r.Body, limit: n}
				r.Body = body
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), liftableKey{}, body)))
				return
			}
			if r.ContentLength > n {
				Fail(w, r, apperr.PayloadTooLarge, "the body is too large")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets the headers an API should always send; HSTS only over TLS.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// RequestIDHeader echoes the request ID to the client so a report can be matched to logs.
func RequestIDHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set(middleware.RequestIDHeader, id)
		}
		next.ServeHTTP(w, r)
	})
}

// NotFound and MethodNotAllowed answer unknown routes with problems, like every other error.
func NotFound(w http.ResponseWriter, r *http.Request) { Fail(w, r, apperr.NotFound, "no such route") }

// MethodNotAllowed answers a known path with a wrong method.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, Problem{Type: "https://goshop.dev/problems/method_not_allowed", Title: "Method Not Allowed",
		Status: http.StatusMethodNotAllowed, Detail: "method not allowed on this route", Code: "method_not_allowed", Instance: r.URL.Path})
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loginServer answers registrations, and sign-ins with answer(n, body) for the n-th sign-in.
func loginServer(t *testing.T, answer func(n int64, w http.ResponseWriter)) (*fixture, *sync.Map) {
	t.Helper()
	var accounts sync.Map // email -> password
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/register", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		accounts.Store(in["email"], in["password"])
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	})
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		if pw, ok := accounts.Load(in["email"]); !ok || pw != in["password"] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		answer(n.Add(1), w)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{client: newClient(4), goshop: srv.URL}, &accounts
}

func shed(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"status":503,"code":"unavailable"}`))
}

func TestLoginRowCountsSignInsAndShedding(t *testing.T) {
	t.Parallel()
	f, accounts := loginServer(t, func(n int64, w http.ResponseWriter) {
		if n%3 == 0 {
			shed(w)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"x"}`))
	})
	o := loginOptions{Logins: 30, Users: 4}
	var out bytes.Buffer
	rep := newReport(&out, []string{o.name()})
	require.NoError(t, loginRow(context.Background(), f, o, os.Getpid(), rep, &out))
	t.Log("\n" + out.String())

	registered := 0
	accounts.Range(func(any, any) bool { registered++; return true })
	assert.Equal(t, 4, registered)
	reqs, errs := reportRow(t, out.String(), o.name())
	assert.Equal(t, 30, reqs)
	assert.Zero(t, errs)
	assert.Contains(t, out.String(), "20 signed in")
	assert.Contains(t, out.String(), "10 answered 503 with Retry-After, 0 failed otherwise")
	assert.Regexp(t, `server peak RSS [1-9]\d* MiB`, out.String())
}

// TestLoginRowFailsOnAnyOtherAnswer: a 503 without Retry-After is not the documented refusal,
// nor is a 401 for a right password; either fails the row.
func TestLoginRowFailsOnAnyOtherAnswer(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]func(w http.ResponseWriter){
		"503 without Retry-After": func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"401":                     func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) },
	} {
		f, _ := loginServer(t, func(n int64, w http.ResponseWriter) {
			if n == 5 {
				bad(w)
				return
			}
			shed(w)
		})
		o := loginOptions{Logins: 10, Users: 2}
		var out bytes.Buffer
		err := loginRow(context.Background(), f, o, os.Getpid(), newReport(&out, []string{o.name()}), &out)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "1 sign-ins failed", name)
		_, errs := reportRow(t, out.String(), o.name())
		assert.Equal(t, 1, errs, name)
	}
}

func TestLoginFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, loginOptions{Logins: 500, Users: 50}, o.Login)
	o, err = parseFlags([]string{"-only-logins", "-logins", "40", "-login-users", "40"})
	require.NoError(t, err)
	assert.Equal(t, loginOptions{Logins: 40, Users: 40, Only: true}, o.Login)
	for _, bad := range [][]string{{"-logins", "-1"}, {"-login-users", "0"}, {"-logins", "10", "-login-users", "11"},
		{"-only-logins", "-logins", "0"}} {
		_, err := parseFlags(bad)
		assert.Error(t, err, "%q", bad)
	}
}

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

// loginRunner is a runner whose server answers registrations, and sign-ins with answer(n, w)
// for the n-th sign-in; the memory watched is this test process's own.
func loginRunner(t *testing.T, o loginOptions, answer func(n int64, w http.ResponseWriter)) (*runner, *bytes.Buffer, *sync.Map) {
	t.Helper()
	var accounts sync.Map // email -> password
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/register", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		accounts.Store(in["email"], in["password"])
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	})
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if pw, ok := accounts.Load(in["email"]); !ok || pw != in["password"] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		answer(n.Add(1), w)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cpu, err := newCPUProbe()
	require.NoError(t, err)
	cpu.server = os.Getpid()
	var out bytes.Buffer
	opts := options{Login: o}
	return &runner{o: opts, f: &fixture{client: newClient(4), goshop: srv.URL}, load: loadConfig{CPU: cpu},
		rep: newReport(&out, []string{loginRowName(o)})}, &out, &accounts
}

func shed(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"status":503,"code":"unavailable"}`))
}

func TestLoginStormCountsSignInsAndShedding(t *testing.T) {
	t.Parallel()
	o := loginOptions{Logins: 30, Users: 4}
	r, out, accounts := loginRunner(t, o, func(n int64, w http.ResponseWriter) {
		if n%3 == 0 {
			shed(w)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"x"}`))
	})
	require.NoError(t, measureLogins(context.Background(), r, r.rep.row))
	require.NoError(t, r.rep.footer())
	t.Log("\n" + out.String())

	registered := 0
	accounts.Range(func(any, any) bool { registered++; return true })
	assert.Equal(t, 4, registered)
	reqs, errs := reportRow(t, out.String(), loginRowName(o))
	assert.Equal(t, 20, reqs, "the sign-ins that succeeded")
	assert.Zero(t, errs, "the documented 503 is no error")
	assert.Contains(t, out.String(), "10 more answered the documented 503")
	assert.Regexp(t, `server peak RSS [1-9]\d* MiB`, out.String())
	assert.Empty(t, r.rep.failed())
}

// TestLoginStormFailsOnAnyOtherAnswer: a 503 without Retry-After is not the documented
// refusal, nor is a 401 for a right password; either fails the row.
func TestLoginStormFailsOnAnyOtherAnswer(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]func(w http.ResponseWriter){
		"503 without Retry-After": func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"401":                     func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) },
	} {
		o := loginOptions{Logins: 10, Users: 2}
		r, out, _ := loginRunner(t, o, func(n int64, w http.ResponseWriter) {
			if n == 5 {
				bad(w)
				return
			}
			shed(w)
		})
		require.NoError(t, measureLogins(context.Background(), r, r.rep.row), name)
		require.NoError(t, r.rep.footer())
		_, errs := reportRow(t, out.String(), loginRowName(o))
		assert.Equal(t, 1, errs, name)
		assert.Equal(t, []string{loginRowName(o)}, r.rep.failed(), name)
	}
}

func TestLoginFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, loginOptions{Logins: 500, Users: 50}, o.Login)
	o, err = parseFlags([]string{"-logins", "40", "-login-users", "40", "-only", "login storm"})
	require.NoError(t, err)
	assert.Equal(t, loginOptions{Logins: 40, Users: 40}, o.Login)
	assert.Equal(t, []string{"login storm"}, o.Only)
	for _, bad := range [][]string{{"-logins", "-1"}, {"-login-users", "0"}, {"-logins", "10", "-login-users", "11"}} {
		_, err := parseFlags(bad)
		assert.Error(t, err, "%q", bad)
	}
}

package wire_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// RFC 4231 test case 2 (key "Jefe").
func TestHMACMatchesRFC4231(t *testing.T) {
	t.Parallel()
	msg := "what do ya want for nothing?"
	assert.Equal(t, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", wire.HMACSHA256("Jefe", msg))
	assert.Equal(t, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		wire.HMACSHA512("Jefe", msg))
}

func TestEqualHex(t *testing.T) {
	t.Parallel()
	assert.True(t, wire.EqualHex("ABCDEF", "abcdef"))
	assert.False(t, wire.EqualHex("abcdef", "abcdee"))
	assert.False(t, wire.EqualHex("", ""))
	assert.False(t, wire.EqualHex("xyz", "xyz"))
	assert.False(t, wire.EqualHex("abcd", "abcdef"))
}

func TestText(t *testing.T) {
	t.Parallel()
	var v struct{ A, B, C, D, E wire.Text }
	require.NoError(t, json.Unmarshal([]byte(`{"A":"x","B":1721720663942,"C":null,"D":0,"E":true}`), &v))
	assert.Equal(t, []wire.Text{"x", "1721720663942", "", "0", "true"}, []wire.Text{v.A, v.B, v.C, v.D, v.E})
	assert.Error(t, json.Unmarshal([]byte(`{"A":{"x":1}}`), &v))
}

func TestDo(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/json":
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			assert.Equal(t, "v", r.Header.Get("X-Custom"))
			assert.JSONEq(t, `{"a":1}`, string(body))
			_, _ = w.Write([]byte(`{"ok":true}`))
		case "/form":
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			assert.Equal(t, "grant_type=client_credentials", string(body))
			w.WriteHeader(http.StatusNoContent)
		case "/garbage":
			_, _ = w.Write([]byte(`<html>`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"name":"INVALID_REQUEST"}`))
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	var out struct{ OK bool }
	require.NoError(t, wire.Do(ctx, srv.Client(), "x", wire.Request{Method: "POST", URL: srv.URL + "/json",
		Header: http.Header{"X-Custom": {"v"}}, Body: map[string]int{"a": 1}}, &out))
	assert.True(t, out.OK)

	require.NoError(t, wire.Do(ctx, srv.Client(), "x", wire.Request{Method: "POST", URL: srv.URL + "/form",
		Body: "grant_type=client_credentials"}, &out))

	err := wire.Do(ctx, srv.Client(), "x", wire.Request{Method: "GET", URL: srv.URL + "/bad"}, &out)
	var se *wire.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadRequest, se.Status)
	assert.JSONEq(t, `{"name":"INVALID_REQUEST"}`, string(se.Body))

	err = wire.Do(ctx, srv.Client(), "x", wire.Request{Method: "GET", URL: srv.URL + "/garbage"}, &out)
	assert.ErrorIs(t, err, gateway.ErrMalformed)

	srv.Close()
	err = wire.Do(ctx, srv.Client(), "x", wire.Request{Method: "GET", URL: srv.URL + "/json"}, &out)
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Temporary(), "an unreachable provider may answer later")
}

package payment_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// flakyStripe answers like Stripe's API while up, and 503 (asking not to retry) while down;
// it counts the requests that reach it.
type flakyStripe struct {
	down atomic.Bool
	hits atomic.Int64
}

func (s *flakyStripe) options(t *testing.T) []apptest.Option {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if s.down.Load() {
			w.Header().Set("Stripe-Should-Retry", "false")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"Stripe is down"}}`)
			return
		}
		id := "pi_" + strings.ReplaceAll(r.Form.Get("metadata[payment_id]"), "-", "")[:20]
		fmt.Fprintf(w, `{"id":%q,"object":"payment_intent","amount":%s,"currency":%q,"status":"requires_payment_method",
			"client_secret":"%s_secret_test","created":%d,"metadata":{"payment_id":%q}}`,
			id, r.Form.Get("amount"), r.Form.Get("currency"), id, time.Now().Unix(), r.Form.Get("metadata[payment_id]"))
	}))
	t.Cleanup(srv.Close)
	return []apptest.Option{apptest.WithEnv("PAYMENT_STRIPE_SECRET_KEY", stripeKey),
		apptest.WithEnv("PAYMENT_STRIPE_WEBHOOK_SECRET", stripeWebhook), apptest.WithEnv("PAYMENT_STRIPE_API_URL", srv.URL),
		apptest.WithEnv("CIRCUIT_BREAKER_FAILURES", "3"), apptest.WithEnv("CIRCUIT_BREAKER_OPEN_FOR", "1s")}
}

// TestStripeOutageOpensTheBreakerAndHealsByItself: while Stripe fails, three payments fail
// reaching it, then the next ones are refused at once with 503 provider_unavailable and a
// Retry-After, without a request to Stripe; once Stripe is back, the breaker lets a probe
// through and payments go on, with nothing for anyone to reset.
func TestStripeOutageOpensTheBreakerAndHealsByItself(t *testing.T) {
	t.Parallel()
	stripe := &flakyStripe{}
	f := setup(t, stripe.options(t)...)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "stripe")[0]
	pay := func() *apptest.Response {
		return f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID})
	}
	breakerState := func() string {
		for _, line := range strings.Split(string(f.env.Get(t, "//metrics", "").Body), "\n") {
			if v, ok := strings.CutPrefix(line, `goshop_circuit_breaker_state{provider="stripe"} `); ok {
				return v
			}
		}
		return "missing"
	}
	assert.Equal(t, "0", breakerState(), "closed")

	stripe.down.Store(true)
	for i := range 3 {
		res := pay()
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
		assert.Equal(t, "unavailable", res.Map(t)["code"], "attempt %d reached Stripe and failed", i+1)
	}
	reached := stripe.hits.Load()
	for range 5 {
		res := pay()
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
		assert.Equal(t, "provider_unavailable", res.Map(t)["code"])
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
	assert.Equal(t, reached, stripe.hits.Load(), "an open breaker sends nothing to Stripe")
	assert.Equal(t, "2", breakerState(), "open")
	// Another provider still takes payments meanwhile: each has a breaker of its own.
	o2 := f.checkout(t, b, "card", "stripe")[0]
	res := f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o2.ID, "provider": "sandbox"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	stripe.down.Store(false)
	apptest.Eventually(t, func() bool { res = pay(); return res.Status == http.StatusCreated }, "a probe after CIRCUIT_BREAKER_OPEN_FOR reaches the healed Stripe")
	assert.Equal(t, "pending", res.Map(t)["status"])
	assert.Equal(t, "0", breakerState(), "closed again")
}

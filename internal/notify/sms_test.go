package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/notify"
)

// flakySMS speaks SpeedSMS's protocol and answers 503 while down, or to the next fail requests.
type flakySMS struct {
	mu   sync.Mutex
	down bool
	fail int
	got  []map[string]any
}

func (f *flakySMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user, _, ok := r.BasicAuth(); !ok || user != "tok" {
		_, _ = io.WriteString(w, `{"status":"error","code":"007","message":"unauthorized"}`)
		return
	}
	if f.down || f.fail > 0 {
		f.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.got = append(f.got, body)
	_, _ = io.WriteString(w, `{"status":"success","code":"00","data":{}}`)
}

// recoverAfter brings the provider back after it has failed n more requests.
func (f *flakySMS) recoverAfter(n int) {
	f.mu.Lock()
	f.down, f.fail = false, n
	f.mu.Unlock()
}

func (f *flakySMS) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// TestSMSOutageDelaysAndTheLastAttemptIsRecorded sends SMS by hand through a local SpeedSMS:
// while it is down the message waits and retries, and goes once it is back; a message whose
// every attempt fails is recorded failed, never dropped silently.
func TestSMSOutageDelaysAndTheLastAttemptIsRecorded(t *testing.T) {
	t.Parallel()
	fake := &flakySMS{down: true}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	env := apptest.New(t, apptest.WithEnv("SPEEDSMS_TOKEN", "tok"), apptest.WithEnv("SPEEDSMS_URL", srv.URL),
		apptest.WithEnv("NOTIFY_SEND_ATTEMPTS", "3"), apptest.WithEnv("CIRCUIT_BREAKER_FAILURES", "100"))
	admin := env.Admin(t, env.Register(t, "Admin"))
	u := env.Register(t, "Phone Owner")
	res := env.Put(t, "/users/profile", u.AccessToken, map[string]any{"phone": "0912345678"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	send := func() string {
		res := env.Post(t, "/notifications/sms/send", admin.AccessToken, map[string]any{"user_id": u.ID, "body": "Mã giảm giá: GOSHOP"})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		return res.Map(t)["id"].(string)
	}
	record := func(id string) notify.Delivery {
		ds, err := env.App.Notify.Deliveries(context.Background(), uuidOf(t, u.ID))
		require.NoError(t, err)
		for _, d := range ds {
			if d.ID.String() == id {
				return d
			}
		}
		t.Fatalf("no delivery %s", id)
		return notify.Delivery{}
	}

	t.Run("every attempt fails: recorded failed", func(t *testing.T) {
		id := send()
		apptest.Eventually(t, func() bool { return record(id).Status == notify.StatusFailed }, "failed after the last attempt")
		d := record(id)
		assert.Equal(t, 3, d.Attempts)
		assert.Contains(t, d.LastError, "503")
	})
	t.Run("an outage delays and loses nothing", func(t *testing.T) {
		fake.recoverAfter(2)
		id := send()
		apptest.Eventually(t, func() bool { return record(id).Status == notify.StatusSent }, "sent once the provider is back")
		assert.Equal(t, 3, record(id).Attempts, "two attempts met the outage")
		require.Equal(t, 1, fake.sent())
		assert.Equal(t, []any{"84912345678"}, fake.got[0]["to"], "E.164 without the plus, as SpeedSMS takes it")
		assert.Equal(t, "Mã giảm giá: GOSHOP", fake.got[0]["content"])
	})
}

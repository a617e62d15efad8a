package notify_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/notify"
)

type preference struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	Enabled bool   `json:"enabled"`
	Default bool   `json:"default"`
	Locked  bool   `json:"locked"`
}

type preferences struct {
	Locale     string            `json:"locale"`
	TimeZone   string            `json:"time_zone"`
	QuietHours map[string]string `json:"quiet_hours"`
	Items      []preference      `json:"items"`
}

func (p preferences) find(kind, channel string) preference {
	for _, it := range p.Items {
		if it.Kind == kind && it.Channel == channel {
			return it
		}
	}
	return preference{}
}

func TestPreferencesChangeTheChannels(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	var got preferences
	res := env.Get(t, "/notifications/preferences", m.buyer.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.JSON(t, &got)
	assert.Equal(t, "vi", got.Locale)
	assert.Equal(t, "Asia/Ho_Chi_Minh", got.TimeZone)
	assert.Equal(t, preference{Kind: "order_placed", Channel: "email", Enabled: true, Default: true}, got.find("order_placed", "email"))
	assert.Equal(t, preference{Kind: "password_changed", Channel: "email", Enabled: true, Default: true, Locked: true},
		got.find("password_changed", "email"))

	t.Run("what cannot be turned off is refused, and nothing changes", func(t *testing.T) {
		res := env.Put(t, "/notifications/preferences", m.buyer.AccessToken, map[string]any{"locale": "en",
			"items": []any{map[string]any{"kind": "password_changed", "channel": "email", "enabled": false}}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = env.Get(t, "/notifications/preferences", m.buyer.AccessToken)
		res.JSON(t, &got)
		assert.Equal(t, "vi", got.Locale)
	})
	t.Run("bad input", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"locale": "fr"},
			{"time_zone": "Mars/Olympus"},
			{"quiet_hours": map[string]any{"start": "25:00", "end": "07:00"}},
			{"quiet_hours": map[string]any{"start": "22:00", "end": "22:00"}},
			{"items": []any{map[string]any{"kind": "no_such_kind", "channel": "email", "enabled": true}}},
			{"items": []any{map[string]any{"kind": "order_placed", "channel": "pigeon", "enabled": true}}},
			{"time_zone": "Asia/Ho_Chi_Minh\x00"},
		} {
			res := env.Put(t, "/notifications/preferences", m.buyer.AccessToken, body)
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.Status, "%v: %s", body, res.Body)
		}
	})
	t.Run("English, email off, SMS on, quiet hours", func(t *testing.T) {
		// Quiet hours around now, in the buyer's zone: the SMS waits for their end.
		zone, err := time.LoadLocation("Asia/Bangkok")
		require.NoError(t, err)
		now := time.Now().In(zone)
		quiet := map[string]string{"start": now.Add(-time.Hour).Format("15:04"), "end": now.Add(time.Hour).Format("15:04")}
		res := env.Put(t, "/notifications/preferences", m.buyer.AccessToken, map[string]any{"locale": "en", "time_zone": "Asia/Bangkok",
			"quiet_hours": quiet,
			"items": []any{map[string]any{"kind": "order_placed", "channel": "email", "enabled": false},
				map[string]any{"kind": "order_placed", "channel": "sms", "enabled": true}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res.JSON(t, &got)
		assert.Equal(t, "en", got.Locale)
		assert.Equal(t, quiet, got.QuietHours)
		profile := env.Get(t, "/users/profile", m.buyer.AccessToken).Map(t)
		assert.Equal(t, "en", profile["locale"], "the language is the profile's")
		assert.Equal(t, "Asia/Bangkok", profile["time_zone"], "the zone is the profile's")
		assert.False(t, got.find("order_placed", "email").Enabled)
		assert.True(t, got.find("order_placed", "sms").Enabled)

		order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
		kindsOf(t, env, m.buyer.AccessToken, order, "order_placed")
		n := list(t, env, m.buyer.AccessToken, "").Items[0]
		assert.Contains(t, n.Title, "placed", "in English")
		waitIdle(t, env)
		assert.Empty(t, env.Mailbox.To(m.buyer.Email), "email turned off")
		ds, err := env.App.Notify.Deliveries(context.Background(), uuidOf(t, m.buyer.ID))
		require.NoError(t, err)
		var sms []notify.Delivery
		for _, d := range ds {
			if d.Channel == notify.SMS {
				sms = append(sms, d)
			}
		}
		require.Len(t, sms, 1, "SMS turned on")
		assert.Equal(t, notify.StatusQueued, sms[0].Status, "held until the quiet hours end")
		assert.Zero(t, sms[0].Attempts)
		// The seller's did go, in Vietnamese.
		assert.NotEmpty(t, env.Mailbox.To(m.seller.Email))
	})
	t.Run("a stranger's preferences are their own", func(t *testing.T) {
		other := env.Register(t, "Other")
		var theirs preferences
		env.Get(t, "/notifications/preferences", other.AccessToken).JSON(t, &theirs)
		assert.Equal(t, "vi", theirs.Locale)
		assert.True(t, theirs.find("order_placed", "email").Enabled)
	})
}

func TestTemplatesAreAdminsVersionedAndChecked(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	admin := env.Admin(t, env.Register(t, "Admin"))
	tpl := map[string]any{"kind": "order_placed", "channel": "in_app", "locale": "vi", "subject": "Cảm ơn! {{.order_ref}}",
		"body": "Tổng {{.total}} {{.currency}}"}

	assert.Equal(t, http.StatusForbidden, env.Post(t, "/notifications/templates", m.buyer.AccessToken, tpl).Status)
	assert.Equal(t, http.StatusForbidden, env.Get(t, "/notifications/templates", m.buyer.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/notifications/templates", "").Status)
	for name, bad := range map[string]map[string]any{
		"unknown variable": {"kind": "order_placed", "channel": "in_app", "locale": "vi", "subject": "x", "body": "{{.secret}}"},
		"does not parse":   {"kind": "order_placed", "channel": "in_app", "locale": "vi", "subject": "{{.order_ref", "body": "x"},
		"unknown kind":     {"kind": "nope", "channel": "in_app", "locale": "vi", "subject": "x", "body": "x"},
		"bad html":         {"kind": "order_placed", "channel": "email", "locale": "vi", "subject": "x", "body": "x", "html": "<p>{{.nope}}</p>"},
		"bad locale":       {"kind": "order_placed", "channel": "in_app", "locale": "fr", "subject": "x", "body": "x"},
	} {
		res := env.Post(t, "/notifications/templates", admin.AccessToken, bad)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
	}
	res := env.Post(t, "/notifications/templates", admin.AccessToken, tpl)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.EqualValues(t, 1, res.Map(t)["version"])
	tpl["body"] = "Tổng cộng {{.total}} {{.currency}}"
	res = env.Post(t, "/notifications/templates", admin.AccessToken, tpl)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.EqualValues(t, 2, res.Map(t)["version"])

	var l struct {
		Items []struct {
			Version int  `json:"version"`
			Active  bool `json:"active"`
		} `json:"items"`
	}
	res = env.Get(t, "/notifications/templates?kind=order_placed", admin.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.JSON(t, &l)
	require.Len(t, l.Items, 2)
	assert.Equal(t, 2, l.Items[0].Version)
	assert.True(t, l.Items[0].Active)
	assert.False(t, l.Items[1].Active, "the older version is kept, inactive")

	order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
	kindsOf(t, env, m.buyer.AccessToken, order, "order_placed")
	n := list(t, env, m.buyer.AccessToken, "").Items[0]
	assert.Contains(t, n.Title, "Cảm ơn! #")
	assert.Regexp(t, `^Tổng cộng \d+ VND$`, n.Body)
}

// browserKeys makes a browser's push subscription keys.
func browserKeys(t *testing.T) (p256dh, auth string, key *ecdh.PrivateKey, secret []byte) {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	secret = make([]byte, 16)
	_, _ = rand.Read(secret)
	return base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(secret), key, secret
}

func TestPushSubscriptionsAndHandSentMessages(t *testing.T) {
	t.Parallel()
	m := newMarket(t, apptest.WithEnv("NOTIFY_MAX_PUSH_PER_USER", "2"))
	env := m.env
	admin := env.Admin(t, env.Register(t, "Admin"))
	p256, auth, _, _ := browserKeys(t)
	sub := func(endpoint string) map[string]any {
		return map[string]any{"endpoint": endpoint, "keys": map[string]any{"p256dh": p256, "auth": auth}}
	}
	t.Run("register, limit, unregister", func(t *testing.T) {
		res := env.Post(t, "/notifications/push/register", m.buyer.AccessToken, sub("https://push.example/a"))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		assert.Equal(t, http.StatusCreated, env.Post(t, "/notifications/push/register", m.buyer.AccessToken, sub("https://push.example/a")).Status,
			"registering again is fine")
		assert.Equal(t, http.StatusCreated, env.Post(t, "/notifications/push/register", m.buyer.AccessToken, sub("https://push.example/b")).Status)
		res = env.Post(t, "/notifications/push/register", m.buyer.AccessToken, sub("https://push.example/c"))
		assert.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
		bad := sub("https://push.example/d")
		bad["keys"] = map[string]any{"p256dh": "short", "auth": auth}
		assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/notifications/push/register", m.buyer.AccessToken, bad).Status)

		del := func(token, endpoint string) int {
			return env.Do(t, apptest.Req{Method: http.MethodDelete, Path: "/notifications/push/unregister", Token: token,
				Body: map[string]any{"endpoint": endpoint}}).Status
		}
		assert.Equal(t, http.StatusNotFound, del(m.seller.AccessToken, "https://push.example/a"), "not the seller's")
		assert.Equal(t, http.StatusNoContent, del(m.buyer.AccessToken, "https://push.example/b"))
		assert.Equal(t, http.StatusNotFound, del(m.buyer.AccessToken, "https://push.example/b"))
	})
	t.Run("a push goes to the registered browser", func(t *testing.T) {
		shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)
		order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
		require.Equal(t, http.StatusOK, env.Put(t, "/orders/"+order+"/confirm", m.seller.AccessToken, nil).Status)
		apptest.Eventually(t, func() bool { return len(env.App.Outbox.Pushes("https://push.example/a")) >= 2 }, "confirmed and assigned pushes")
		assert.Contains(t, string(env.App.Outbox.Pushes("https://push.example/a")[0].Payload), `"title"`)

		// The shipper comes within a kilometre of the drop-off, twice: the buyer is told once.
		var sh struct {
			ShipperID string `json:"shipper_id"`
			Dropoff   *struct {
				Lat float64 `json:"lat"`
				Lng float64 `json:"lng"`
			} `json:"dropoff"`
		}
		apptest.Eventually(t, func() bool {
			env.Get(t, "/shipping/"+order+"/tracking", m.buyer.AccessToken).JSON(t, &sh)
			return sh.ShipperID == shipper.ID
		}, "the shipper has the order")
		require.NotNil(t, sh.Dropoff, "the address is on the map")
		far := env.Post(t, "/shipping/"+order+"/location", shipper.AccessToken, map[string]any{"lat": sh.Dropoff.Lat + 0.05, "lng": sh.Dropoff.Lng})
		require.Equal(t, http.StatusOK, far.Status, "%s", far.Body)
		for _, dlat := range []float64{0.005, 0.001} {
			res := env.Post(t, "/shipping/"+order+"/location", shipper.AccessToken, map[string]any{"lat": sh.Dropoff.Lat + dlat, "lng": sh.Dropoff.Lng})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		}
		nearby := func() int {
			n := 0
			for _, p := range env.App.Outbox.Pushes("https://push.example/a") {
				if strings.Contains(string(p.Payload), `"kind":"shipper_nearby"`) {
					n++
				}
			}
			return n
		}
		apptest.Eventually(t, func() bool { return nearby() == 1 }, "the nearby push")
		waitIdle(t, env)
		assert.Equal(t, 1, nearby())
	})
	t.Run("hand-sent email and SMS are admins'", func(t *testing.T) {
		msg := map[string]any{"user_id": m.buyer.ID, "subject": "Xin chào", "body": "Khuyến mãi hôm nay"}
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/notifications/email/send", m.buyer.AccessToken, msg).Status)
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/notifications/sms/send", m.buyer.AccessToken, msg).Status)
		res := env.Post(t, "/notifications/email/send", admin.AccessToken, msg)
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		assert.Equal(t, "queued", res.Map(t)["status"])
		apptest.Eventually(t, func() bool {
			for _, got := range env.Mailbox.To(m.buyer.Email) {
				if got.Subject == "Xin chào" && got.Body == "Khuyến mãi hôm nay" {
					return true
				}
			}
			return false
		}, "the hand-sent mail")
		for name, bad := range map[string]map[string]any{
			"no user":       {"user_id": "00000000-0000-0000-0000-000000000001", "subject": "x", "body": "y"},
			"nothing":       {"user_id": m.buyer.ID},
			"bad variable":  {"user_id": m.buyer.ID, "kind": "order_placed", "data": map[string]any{"secret": "x"}},
			"unknown kind":  {"user_id": m.buyer.ID, "kind": "nope"},
			"too long body": {"user_id": m.buyer.ID, "subject": "x", "body": string(make([]byte, 6000))},
		} {
			res := env.Post(t, "/notifications/email/send", admin.AccessToken, bad)
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.Status, "%s: %s", name, res.Body)
		}
		// The buyer has no phone: the SMS is recorded skipped, with why.
		res = env.Post(t, "/notifications/sms/send", admin.AccessToken, msg)
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	})
}

// TestQuietHoursAreKeptInTheProfilesZone gives two buyers the same time zone on their profiles,
// New York, twelve hours from the marketplace's default zone in December. One's quiet hours are
// around the present hour in New York: their SMS waits. The other's are around the present hour
// in Ho Chi Minh City, the default zone, which is the middle of the night in New York: their SMS
// goes at once. Read in the default zone instead, the two would swap.
func TestQuietHoursAreKeptInTheProfilesZone(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	night := env.Register(t, "Night Owl")
	nightAddress := env.CreateAddress(t, night)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	around := func(zone *time.Location) map[string]string {
		now := time.Now().In(zone)
		return map[string]string{"start": now.Add(-time.Hour).Format("15:04"), "end": now.Add(time.Hour).Format("15:04")}
	}
	for _, c := range []struct {
		u     apptest.User
		quiet map[string]string
	}{{m.buyer, around(ny)}, {night, around(hcm)}} {
		res := env.Put(t, "/users/profile", c.u.AccessToken, map[string]any{"time_zone": "America/New_York"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res = env.Put(t, "/notifications/preferences", c.u.AccessToken, map[string]any{"quiet_hours": c.quiet,
			"items": []any{map[string]any{"kind": "order_placed", "channel": "sms", "enabled": true}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var got preferences
		res.JSON(t, &got)
		assert.Equal(t, "America/New_York", got.TimeZone, "the preferences show the profile's zone")
	}
	env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
	env.CheckoutCOD(t, night, nightAddress, m.product.ID, 1)

	sms := func(u apptest.User) notify.Delivery {
		t.Helper()
		var out notify.Delivery
		apptest.Eventually(t, func() bool {
			ds, err := env.App.Notify.Deliveries(context.Background(), uuidOf(t, u.ID))
			require.NoError(t, err)
			for _, d := range ds {
				if d.Channel == notify.SMS {
					out = d
					return true
				}
			}
			return false
		}, "the SMS delivery")
		return out
	}
	apptest.Eventually(t, func() bool { return sms(night).Status != notify.StatusQueued }, "the SMS outside quiet hours is tried")
	waitIdle(t, env)
	held := sms(m.buyer)
	assert.Equal(t, notify.StatusQueued, held.Status, "held until the quiet hours end in New York")
	assert.Zero(t, held.Attempts)
}

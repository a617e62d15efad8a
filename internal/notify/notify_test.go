package notify_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/notify"
)

// market is a shop with a product, a buyer with an address, and available shippers near the shop.
type market struct {
	env      *apptest.Env
	seller   apptest.User
	buyer    apptest.User
	shop     string
	product  apptest.Product
	address  string
	shippers []apptest.User
}

func newMarket(t *testing.T, opts ...apptest.Option) *market {
	t.Helper()
	env := apptest.New(t, opts...)
	m := &market{env: env, seller: env.Register(t, "Seller"), buyer: env.Register(t, "Buyer")}
	m.shop = env.CreateShop(t, m.seller, "Notify Shop")
	m.product = env.CreateProduct(t, m.seller, m.shop, "Nón lá", 50_000, 100)
	m.address = env.CreateAddress(t, m.buyer)
	return m
}

// notification is a notification as the API answers it.
type notification struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Body  string `json:"body"`
	Read  bool   `json:"read"`
	Data  struct {
		OrderID string `json:"order_id"`
	} `json:"data"`
}

type page struct {
	Items       []notification `json:"items"`
	NextCursor  string         `json:"next_cursor"`
	UnreadCount int            `json:"unread_count"`
}

func list(t *testing.T, env *apptest.Env, token, query string) page {
	t.Helper()
	res := env.Get(t, "/notifications"+query, token)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p page
	res.JSON(t, &p)
	return p
}

// kindsOf waits until token's notifications about order include want (and answers them all).
func kindsOf(t *testing.T, env *apptest.Env, token, order string, want ...string) []string {
	t.Helper()
	var kinds []string
	apptest.Eventually(t, func() bool {
		kinds = kinds[:0]
		for _, n := range list(t, env, token, "?limit=100").Items {
			if n.Data.OrderID == order {
				kinds = append(kinds, n.Kind)
			}
		}
		for _, w := range want {
			found := false
			for _, k := range kinds {
				found = found || k == w
			}
			if !found {
				return false
			}
		}
		return true
	}, "notifications "+strings.Join(want, ", "))
	sort.Strings(kinds)
	return kinds
}

func TestInAppNotificationsBelongToTheirRecipient(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	stranger := env.Register(t, "Stranger")
	order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
	kindsOf(t, env, m.buyer.AccessToken, order, "order_placed")
	kindsOf(t, env, m.seller.AccessToken, order, "new_order")
	mine := list(t, env, m.buyer.AccessToken, "").Items[0]

	t.Run("a stranger sees none of them and cannot touch them", func(t *testing.T) {
		assert.Empty(t, list(t, env, stranger.AccessToken, "").Items)
		assert.Equal(t, http.StatusNotFound, env.Put(t, "/notifications/"+mine.ID+"/read", stranger.AccessToken, nil).Status)
		assert.Equal(t, http.StatusNotFound, env.Delete(t, "/notifications/"+mine.ID, stranger.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Put(t, "/notifications/not-an-id/read", m.buyer.AccessToken, nil).Status)
		assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/notifications", "").Status)
		assert.False(t, list(t, env, m.buyer.AccessToken, "").Items[0].Read, "the stranger's calls changed nothing")
	})
	t.Run("read, unread filter and count", func(t *testing.T) {
		before := list(t, env, m.buyer.AccessToken, "")
		res := env.Put(t, "/notifications/"+mine.ID+"/read", m.buyer.AccessToken, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, true, res.Map(t)["read"])
		after := list(t, env, m.buyer.AccessToken, "")
		assert.Equal(t, before.UnreadCount-1, after.UnreadCount)
		for _, n := range list(t, env, m.buyer.AccessToken, "?unread=true").Items {
			assert.NotEqual(t, mine.ID, n.ID)
		}
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/notifications?unread=maybe", m.buyer.AccessToken).Status)
	})
	t.Run("pages", func(t *testing.T) {
		env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
		apptest.Eventually(t, func() bool { return len(list(t, env, m.buyer.AccessToken, "").Items) >= 2 }, "two notifications")
		first := list(t, env, m.buyer.AccessToken, "?limit=1")
		require.Len(t, first.Items, 1)
		require.NotEmpty(t, first.NextCursor)
		second := list(t, env, m.buyer.AccessToken, "?limit=1&cursor="+url.QueryEscape(first.NextCursor))
		require.Len(t, second.Items, 1)
		assert.NotEqual(t, first.Items[0].ID, second.Items[0].ID)
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/notifications?cursor=bogus", m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/notifications?limit=1000", m.buyer.AccessToken).Status)
	})
	t.Run("mark all read and delete", func(t *testing.T) {
		res := env.Post(t, "/notifications/mark-all-read", m.buyer.AccessToken, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Zero(t, list(t, env, m.buyer.AccessToken, "").UnreadCount)
		assert.NotZero(t, list(t, env, m.seller.AccessToken, "").UnreadCount, "another's stay unread")
		require.Equal(t, http.StatusNoContent, env.Delete(t, "/notifications/"+mine.ID, m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Delete(t, "/notifications/"+mine.ID, m.buyer.AccessToken).Status)
		for _, n := range list(t, env, m.buyer.AccessToken, "").Items {
			assert.NotEqual(t, mine.ID, n.ID)
		}
	})
}

func TestAnOrdersLifeNotifiesByTheTableOnce(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)
	order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
	env.Deliver(t, order, m.seller, shipper)

	buyer := kindsOf(t, env, m.buyer.AccessToken, order, "order_placed", "order_confirmed", "shipper_assigned", "order_shipped", "order_delivered")
	assert.Equal(t, []string{"order_confirmed", "order_delivered", "order_placed", "order_shipped", "shipper_assigned"}, buyer)
	seller := kindsOf(t, env, m.seller.AccessToken, order, "new_order", "shop_shipper_assigned")
	assert.Equal(t, []string{"new_order", "shop_shipper_assigned"}, seller)
	assert.Equal(t, []string{"delivery_assigned"}, kindsOf(t, env, shipper.AccessToken, order, "delivery_assigned"))

	t.Run("email by default where the table says", func(t *testing.T) {
		apptest.Eventually(t, func() bool { return len(env.Mailbox.To(m.buyer.Email)) > 0 && len(env.Mailbox.To(m.seller.Email)) > 0 },
			"order mail")
		got := env.Mailbox.To(m.buyer.Email)[0]
		assert.Contains(t, got.Subject, "Đã đặt đơn hàng", "Vietnamese by default")
		assert.Contains(t, got.HTML, "<html", "an HTML part beside the text")
		assert.NotContains(t, got.Body, "<")
	})
	t.Run("push without a browser is recorded skipped, not lost", func(t *testing.T) {
		apptest.Eventually(t, func() bool {
			ds, err := env.App.Notify.Deliveries(context.Background(), uuidOf(t, m.buyer.ID))
			require.NoError(t, err)
			for _, d := range ds {
				if d.Channel == notify.Push && d.Status == notify.StatusSkipped {
					return true
				}
			}
			return false
		}, "a skipped push delivery")
	})
	t.Run("an event delivered twice makes nothing new", func(t *testing.T) {
		before := len(list(t, env, m.buyer.AccessToken, "?limit=100").Items)
		mails := len(env.Mailbox.To(m.buyer.Email))
		params, err := env.App.Bus.Jobs(events.OrderStatusChanged{OrderID: order, BuyerID: m.buyer.ID, ShopID: m.shop,
			From: events.OrderPending, To: events.OrderCancelled, Reason: "twice", At: time.Now()})
		require.NoError(t, err)
		ctx := context.Background()
		for range 2 {
			tx, err := env.App.Pool.Begin(ctx)
			require.NoError(t, err)
			require.NoError(t, env.App.Jobs.InsertManyTx(ctx, tx, params))
			require.NoError(t, tx.Commit(ctx))
		}
		kindsOf(t, env, m.buyer.AccessToken, order, "order_cancelled")
		kindsOf(t, env, m.seller.AccessToken, order, "shop_order_cancelled")
		apptest.Eventually(t, func() bool { return len(env.Mailbox.To(m.buyer.Email)) > mails }, "the cancellation mail")
		// Both deliveries have run once the second's mail would have arrived: wait for every job.
		waitIdle(t, env)
		assert.Len(t, list(t, env, m.buyer.AccessToken, "?limit=100").Items, before+1)
		assert.Len(t, env.Mailbox.To(m.buyer.Email), mails+1)
	})
}

// waitIdle waits until River has no job left to run now (jobs held for quiet hours wait).
func waitIdle(t *testing.T, env *apptest.Env) {
	t.Helper()
	apptest.Eventually(t, func() bool {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled')
			   AND scheduled_at < now() + interval '1 minute' AND kind IN ('event_delivery', 'event_batch', 'notify_send')`).Scan(&n))
		return n == 0
	}, "no job left")
}

func uuidOf(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}

func TestPasswordChangeMailCannotBeTurnedOff(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Careful User")
	res := env.Put(t, "/notifications/preferences", u.AccessToken, map[string]any{
		"items": []any{map[string]any{"kind": "password_changed", "channel": "email", "enabled": false}}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	res = env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": u.Password,
		"new_password": "another horse battery"})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool {
		for _, m := range env.Mailbox.To(u.Email) {
			if m.Subject == "Mật khẩu đã được thay đổi" {
				assert.Contains(t, m.Body, "Chào Careful User")
				assert.Regexp(t, `\d\d/\d\d/\d{4} \d\d:\d\d \(\+07\)`, m.Body, "the time in the user's zone")
				return true
			}
		}
		return false
	}, "the password-changed mail")
}

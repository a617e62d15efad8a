package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

type liveMessage struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// dial opens a live stream with the token in ?token= (as a browser must), answering the
// connection after its greeting, or the refusal's status.
func dial(t testing.TB, env *apptest.Env, path, token string) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := "ws" + strings.TrimPrefix(env.Server.URL, "http") + "/api/v1" + path + sep + "token=" + token
	conn, res, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		require.NotNil(t, res, "%v", err)
		_ = res.Body.Close()
		return nil, res.StatusCode
	}
	t.Cleanup(func() { conn.CloseNow() })
	require.Equal(t, "subscribed", readLive(t, conn).Type)
	return conn, 0
}

func readLive(t testing.TB, conn *websocket.Conn) liveMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, b, err := conn.Read(ctx)
	require.NoError(t, err)
	var m liveMessage
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// readUntil reads messages until one of type typ whose data contains want.
func readUntil(t *testing.T, conn *websocket.Conn, typ, want string) liveMessage {
	t.Helper()
	for {
		m := readLive(t, conn)
		if m.Type == typ && strings.Contains(string(m.Data), want) {
			return m
		}
	}
}

func TestLiveStreams(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	env := m.env
	stranger := env.Register(t, "Stranger")
	shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)

	mine, status := dial(t, env, "/notifications/live", m.buyer.AccessToken)
	require.Zero(t, status)
	theirs, status := dial(t, env, "/notifications/live", stranger.AccessToken)
	require.Zero(t, status)
	order := env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)

	t.Run("the caller's new notifications, and nobody else's", func(t *testing.T) {
		got := readUntil(t, mine, "notification", order)
		assert.Contains(t, string(got.Data), `"kind":"order_placed"`)
		// The stranger's own order comes after the buyer's: the first notification on the
		// stranger's stream is theirs, so the buyer's never went there.
		theirOrder := env.CheckoutCOD(t, stranger, env.CreateAddress(t, stranger), m.product.ID, 1)
		first := readLive(t, theirs)
		require.Equal(t, "notification", first.Type)
		assert.Contains(t, string(first.Data), theirOrder)
		assert.NotContains(t, string(first.Data), order)
	})
	t.Run("order updates to its buyer, shop and admins; 404 to anyone else", func(t *testing.T) {
		_, status := dial(t, env, "/orders/"+order+"/live-updates", stranger.AccessToken)
		assert.Equal(t, http.StatusNotFound, status)
		_, status = dial(t, env, "/orders/00000000-0000-0000-0000-000000000001/live-updates", m.buyer.AccessToken)
		assert.Equal(t, http.StatusNotFound, status)
		_, status = dial(t, env, "/orders/"+order+"/live-updates", "")
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, http.StatusBadRequest, env.Get(t, "/orders/"+order+"/live-updates", m.buyer.AccessToken).Status,
			"not an upgrade")
		buyer, status := dial(t, env, "/orders/"+order+"/live-updates", m.buyer.AccessToken)
		require.Zero(t, status)
		seller, status := dial(t, env, "/orders/"+order+"/live-updates", m.seller.AccessToken)
		require.Zero(t, status)
		require.Equal(t, http.StatusOK, env.Put(t, "/orders/"+order+"/confirm", m.seller.AccessToken, nil).Status)
		readUntil(t, buyer, "order_status", `"to":"confirmed"`)
		readUntil(t, seller, "order_status", `"to":"confirmed"`)
		got := readUntil(t, buyer, "shipment", shipper.ID)
		assert.Contains(t, string(got.Data), "awaiting_pickup")
	})
	t.Run("a reconnecting client first gets what it missed", func(t *testing.T) {
		all := list(t, env, m.buyer.AccessToken, "?limit=100").Items
		require.GreaterOrEqual(t, len(all), 2)
		oldest := all[len(all)-1]
		again, status := dial(t, env, "/notifications/live?after="+oldest.ID, m.buyer.AccessToken)
		require.Zero(t, status)
		got := readLive(t, again)
		require.Equal(t, "missed", got.Type)
		var missed struct {
			Items []notification `json:"items"`
		}
		require.NoError(t, json.Unmarshal(got.Data, &missed))
		// The order's later events may still be adding notifications: what was listed is all
		// there, oldest first, and anything newer follows it.
		require.GreaterOrEqual(t, len(missed.Items), len(all)-1)
		for i := range len(all) - 1 {
			assert.Equal(t, all[len(all)-2-i].ID, missed.Items[i].ID, "oldest first")
		}
		_, status = dial(t, env, "/notifications/live?after=nope", m.buyer.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, status)
	})
}

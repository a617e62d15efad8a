package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// readers registers six readers, the second of whom reads English, and answers their IDs,
// tokens and addresses.
func readers(t *testing.T, env *apptest.Env) (ids []uuid.UUID, tokens, emails []string) {
	t.Helper()
	for i := range 6 {
		u := env.Register(t, fmt.Sprintf("Reader %d", i))
		ids, tokens, emails = append(ids, uuidOf(t, u.ID)), append(tokens, u.AccessToken), append(emails, u.Email)
	}
	res := env.Put(t, "/users/profile", tokens[1], map[string]any{"locale": "en"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return ids, tokens, emails
}

// TestAnEventsRoundTripsDoNotGrowWithItsRecipients: turning one event into notifications takes
// as many round trips to PostgreSQL for six recipients as for one, and few (COMMIT included;
// BEGIN travels with the reads): the recipients' languages and zones, overrides, quiet hours
// and templates are read in one batch, the notifications and deliveries inserted set-based in
// another, the send jobs at once (it was eight or nine for one recipient, and five more for
// each other one). The
// recipients differ (an English reader, one with SMS on and quiet hours), so that every read
// finds something, and what was made is what their settings say.
func TestAnEventsRoundTripsDoNotGrowWithItsRecipients(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	env := apptest.New(t, apptest.WithRoundTrips(&rt))
	ctx := context.Background()
	users, tokens, _ := readers(t, env)
	now := time.Now().In(time.UTC)
	res := env.Put(t, "/notifications/preferences", tokens[2], map[string]any{"time_zone": "UTC",
		"quiet_hours": map[string]string{"start": now.Add(-time.Hour).Format("15:04"), "end": now.Add(time.Hour).Format("15:04")},
		"items":       []any{map[string]any{"kind": "order_placed", "channel": "sms", "enabled": true}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	// With the workers stopped, nothing else uses the pool, and one dispatch after another takes
	// the same idle connections, whose statement caches the warm-up fills, as a running server's are.
	env.Quiet(t)
	for range 3 {
		require.NoError(t, env.App.Notify.DispatchOrderPlaced(ctx, uuid.NewString(), uuid.NewString(), users...))
	}
	count := func(eventID string, to ...uuid.UUID) int64 {
		// River wakes the workers with a notification (one more round trip) at most once per
		// queue and fetch cooldown (50 ms here): each dispatch counted starts past it, so that
		// both counts include it.
		time.Sleep(200 * time.Millisecond)
		before := rt.N()
		require.NoError(t, env.App.Notify.DispatchOrderPlaced(ctx, eventID, uuid.NewString(), to...))
		return rt.N() - before
	}
	one := count(uuid.NewString(), users[0])
	event := uuid.NewString()
	six := count(event, users...)
	t.Logf("round trips: %d for one recipient, %d for six", one, six)
	assert.Equal(t, one, six, "as many for six recipients as for one")
	assert.LessOrEqual(t, six, int64(5), "BEGIN with the reads, the inserts, the send jobs and River's wake-up, COMMIT")

	var notifications, emails, sms int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM notify.notifications WHERE event_id = $1`, event).Scan(&notifications))
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE channel = 'email'), count(*) FILTER (WHERE channel = 'sms')
		FROM notify.deliveries WHERE event_id = $1`, event).Scan(&emails, &sms))
	assert.Equal(t, 6, notifications)
	assert.Equal(t, 6, emails)
	assert.Equal(t, 1, sms, "the one reader with SMS on")
	var title string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT title FROM notify.notifications WHERE event_id = $1 AND user_id = $2`,
		event, users[1]).Scan(&title))
	assert.Contains(t, title, "placed", "in English, the reader's language")
	var held int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_send' AND state = 'scheduled'
		AND args->>'delivery_id' IN (SELECT id::text FROM notify.deliveries WHERE event_id = $1 AND channel = 'sms')`, event).Scan(&held))
	assert.Equal(t, 1, held, "the SMS waits for the end of its reader's quiet hours")

	// The same event again (a redelivery) makes nothing.
	require.NoError(t, env.App.Notify.DispatchOrderPlaced(ctx, event, uuid.NewString(), users...))
	var again int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM notify.notifications WHERE event_id = $1)
		+ (SELECT count(*) FROM notify.deliveries WHERE event_id = $1)`, event).Scan(&again))
	assert.Equal(t, notifications+emails+sms, again)
}

// TestASendJobsReadsDoNotGrowWithItsDeliveries: sending a dispatch's mails reads the deliveries,
// their templates and their readers' contacts in two round trips whatever their number, and
// records them sent in one more (each mail cost four: its attempt, its reader's contact, its
// template and its record, one after the other). Every mail is sent, in its reader's language.
func TestASendJobsReadsDoNotGrowWithItsDeliveries(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	env := apptest.New(t, apptest.WithRoundTrips(&rt))
	ctx := context.Background()
	users, _, emails := readers(t, env)
	// With the workers stopped, nothing else uses the pool and the deliveries wait for the test.
	env.Quiet(t)
	deliveries := func(to ...uuid.UUID) []uuid.UUID {
		event := uuid.NewString()
		require.NoError(t, env.App.Notify.DispatchOrderPlaced(ctx, event, uuid.NewString(), to...))
		rows, err := env.App.Pool.Query(ctx, `SELECT id FROM notify.deliveries WHERE event_id = $1 AND channel = 'email'`, event)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		require.NoError(t, err)
		require.Len(t, ids, len(to))
		return ids
	}
	require.NoError(t, env.App.Notify.SendDeliveries(ctx, deliveries(users...)...), "a warm-up: the statements prepared")
	count := func(ids []uuid.UUID) int64 {
		before := rt.N()
		require.NoError(t, env.App.Notify.SendDeliveries(ctx, ids...))
		return rt.N() - before
	}
	one := count(deliveries(users[0]))
	six := count(deliveries(users...))
	t.Logf("round trips: %d for one mail, %d for six", one, six)
	assert.EqualValues(t, 2+1, one, "the reads, then the record of the one mail")
	assert.EqualValues(t, 2+1, six, "the same reads, then one record of the six mails")

	for i, addr := range emails {
		got := env.Mailbox.To(addr)
		want := 2 // the warm-up's and the six's
		if i == 0 {
			want = 3
		}
		require.Len(t, got, want, "%s", addr)
		if i == 1 {
			assert.Contains(t, got[len(got)-1].Subject, "placed", "in English, the reader's language")
		}
	}
	var queued int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM notify.deliveries WHERE channel = 'email' AND status <> 'sent'`).Scan(&queued))
	assert.Zero(t, queued, "every mail recorded sent")
}

// TestTheOwnersOfACheckoutsShopsAreReadInOneRoundTrip: a checkout's order.placed events tell
// each shop's owner; their owners are read together, in one statement and one round trip
// whatever the number of shops (it was one a shop, one after the other). A shop asked twice is
// read once, and one that does not exist, or an ID this system did not make, has no owner to
// tell.
func TestTheOwnersOfACheckoutsShopsAreReadInOneRoundTrip(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	env := apptest.New(t, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	ctx := context.Background()
	var shops []string
	var owners []uuid.UUID
	for i := range 3 {
		seller := env.Register(t, fmt.Sprintf("Seller %d", i))
		shops, owners = append(shops, env.CreateShop(t, seller, fmt.Sprintf("Shop %d", i))), append(owners, uuidOf(t, seller.ID))
	}
	gone := uuid.New()
	env.Quiet(t)
	ask := append(append([]string{}, shops...), shops[0], gone.String(), "not-an-id")
	_, err := env.App.Notify.OwnersOf(ctx, ask...) // warms the connection's statement cache
	require.NoError(t, err)
	before := rt.N()
	log.Start()
	got, err := env.App.Notify.OwnersOf(ctx, ask...)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rt.N()-before, "one round trip for three shops")
	assert.Equal(t, 1, log.Statements(), "one statement for three shops")
	for i, s := range shops {
		assert.Equal(t, owners[i], got[uuidOf(t, s)], "shop %d", i)
	}
	assert.Equal(t, uuid.Nil, got[gone], "a shop that does not exist has no owner")
	assert.Len(t, got, 3)
}

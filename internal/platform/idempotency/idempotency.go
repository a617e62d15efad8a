// Package idempotency implements the contract's Idempotency-Key: the same key with the same
// body replays the first answer and does the work once; the same key with another body is
// refused. Each context that offers it keeps the records in a table of its own schema with the
// columns (user_id uuid, key text, request_hash bytea, status_code int, response jsonb,
// created_at timestamptz, PRIMARY KEY (user_id, key)).
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// Keys is one context's table of records, e.g. "orders.idempotency_keys".
type Keys struct{ table string }

// New returns the records kept in table (schema-qualified).
func New(table string) Keys { return Keys{table: pgx.Identifier(strings.Split(table, ".")).Sanitize()} }

// Replay is a first answer to send again.
type Replay struct {
	Status int
	Body   json.RawMessage
}

// KeyOf reads and checks the request's key; "" when there is none.
func KeyOf(r *http.Request) (string, error) {
	k := strings.TrimSpace(r.Header.Get(Header))
	if len(k) > 255 {
		return "", apperr.Field(Header, "must be at most 255 characters")
	}
	return k, nil
}

// Hash fingerprints a request body (as decoded and re-encoded, so whitespace does not matter).
func Hash(v any) []byte {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return sum[:]
}

// Claim takes the key inside tx before the work. When another request already did the work
// with it, Claim answers that request's answer (nil when the key is new): a concurrent
// request with the same key waits on the unique index until the first commits, then replays
// it; if the first rolled back, the key is free again and the work is done once more.
func (k Keys) Claim(ctx context.Context, tx pgx.Tx, user uuid.UUID, key string, hash []byte) (*Replay, error) {
	tag, err := tx.Exec(ctx, fmt.Sprintf(
		`INSERT INTO %s (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, k.table), user, key, hash)
	if err != nil {
		return nil, fmt.Errorf("idempotency: claim a key of %s: %w", k.table, err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	return k.replay(ctx, tx, user, key, hash)
}

// replay reads the answer of the request that took the key first.
func (k Keys) replay(ctx context.Context, tx pgx.Tx, user uuid.UUID, key string, hash []byte) (*Replay, error) {
	var (
		prev   []byte
		status *int32
		body   []byte
	)
	err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT request_hash, status_code, response FROM %s WHERE user_id = $1 AND key = $2`, k.table),
		user, key).Scan(&prev, &status, &body)
	if err != nil {
		return nil, fmt.Errorf("idempotency: read a key of %s: %w", k.table, err)
	}
	if string(prev) != string(hash) {
		return nil, apperr.New(apperr.IdempotencyKeyReused, "this Idempotency-Key was used with another request")
	}
	if status == nil {
		return nil, apperr.New(apperr.Conflict, "a request with this Idempotency-Key is still being processed")
	}
	return &Replay{Status: int(*status), Body: body}, nil
}

// Claimed is a claim queued on a batch (QueueClaim), decided once the batch is sent.
type Claimed struct {
	k     Keys
	user  uuid.UUID
	key   string
	hash  []byte
	fresh bool
}

// QueueClaim queues Claim's taking of the key on b, so that it shares a round trip with the
// work's first reads. Once b is sent, Replay says whether the work is to be done.
func (k Keys) QueueClaim(ctx context.Context, b *pgdb.Batch, user uuid.UUID, key string, hash []byte) *Claimed {
	c := &Claimed{k: k, user: user, key: key, hash: hash}
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return db.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, k.table),
			user, key, hash)
	}, func(tag pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("idempotency: claim a key of %s: %w", k.table, err)
		}
		c.fresh = tag.RowsAffected() == 1
		return nil
	})
	return c
}

// Replay answers, once the claim's batch was sent, nil when the key was new (do the work), or
// the first request's answer (reading it through tx), as Claim does.
func (c *Claimed) Replay(ctx context.Context, tx pgx.Tx) (*Replay, error) {
	if c.fresh {
		return nil, nil
	}
	return c.k.replay(ctx, tx, c.user, c.key, c.hash)
}

// QueueSave queues Save on b: the answer is recorded in the batch's round trip.
func (k Keys) QueueSave(ctx context.Context, b *pgdb.Batch, user uuid.UUID, key string, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return db.Exec(ctx, fmt.Sprintf(`UPDATE %s SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2`, k.table),
			user, key, status, body)
	}, func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("idempotency: save the answer in %s: %w", k.table, err)
		}
		return nil
	})
	return nil
}

// Save records the answer in tx, so it commits with the work it describes.
func (k Keys) Save(ctx context.Context, tx pgx.Tx, user uuid.UUID, key string, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2`, k.table),
		user, key, status, body)
	if err != nil {
		return fmt.Errorf("idempotency: save the answer in %s: %w", k.table, err)
	}
	return nil
}

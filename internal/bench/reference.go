package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// profileSQL is the read GoShop's profile endpoint boils down to; the reference does exactly
// this and nothing else, so the gap between the two rows is GoShop's own overhead (routing,
// middleware, auth, logging, error mapping).
const profileSQL = `SELECT id, email, full_name, phone, roles, created_at FROM users.users WHERE id = $1 AND deleted_at IS NULL`

// profileRow is what the reference writes back.
type profileRow struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Phone     *string   `json:"phone"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

// referenceHandler is the floor GoShop is measured against: net/http's own mux, a pgxpool and
// encoding/json. Further scenarios add their own bare route here.
func referenceHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/profile", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		// Checked here so that a bad id is the client's 400, not a 500 from PostgreSQL's cast.
		if _, err := uuid.Parse(id); err != nil {
			http.Error(w, `{"error":"id must be a uuid"}`, http.StatusBadRequest)
			return
		}
		var p profileRow
		err := pool.QueryRow(r.Context(), profileSQL, id).
			Scan(&p.ID, &p.Email, &p.FullName, &p.Phone, &p.Roles, &p.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	})
	return mux
}

// reference is the bare server, run inside the bench process.
type reference struct {
	URL  string // base URL, e.g. http://127.0.0.1:40123
	pool *pgxpool.Pool
	srv  *http.Server
}

// startReference opens its own pool on dbURL, capped at maxConns when that is positive so that
// it reads through as many connections as the server under test.
func startReference(ctx context.Context, dbURL string, maxConns int32) (*reference, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("bench: reference: parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: reference: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("bench: reference: ping: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("bench: reference: listen: %w", err)
	}
	srv := &http.Server{Handler: referenceHandler(pool), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // returns ErrServerClosed on close
	return &reference{URL: "http://" + ln.Addr().String(), pool: pool, srv: srv}, nil
}

// MaxConns reports the pool cap, for the report's header line.
func (r *reference) MaxConns() int32 { return r.pool.Config().MaxConns }

func (r *reference) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	r.pool.Close()
}

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
// encoding/json. Each scenario has its own bare route here.
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
	mux.HandleFunc("GET /products/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := uuid.Parse(id); err != nil {
			http.Error(w, `{"error":"id must be a uuid"}`, http.StatusBadRequest)
			return
		}
		rows, err := pool.Query(r.Context(), productSQL, id)
		products, err := readProducts(r.Context(), pool, rows, err)
		switch {
		case err != nil:
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		case len(products) == 0:
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(products[0])
		}
	})
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		category := r.URL.Query().Get("category")
		if _, err := uuid.Parse(category); err != nil {
			http.Error(w, `{"error":"category must be a uuid"}`, http.StatusBadRequest)
			return
		}
		rows, err := pool.Query(r.Context(), categorySQL, category)
		products, err := readProducts(r.Context(), pool, rows, err)
		if err != nil {
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": products})
	})
	return mux
}

// The product reads are those of GoShop's product page and category listing: the product rows
// (a category's subtree walked per category along the newest-first index, as GoShop's list
// query does), then their variants in one query.
const (
	productColumns = `p.id, p.shop_id, p.title, p.description, p.brand, p.model, p.category_id, p.attributes, p.status,
		p.currency, p.price, p.rating::float8, p.rating_count, p.weight_grams, p.created_at, p.updated_at`
	productSQL  = `SELECT ` + productColumns + ` FROM catalog.products p WHERE p.id = $1 AND p.listed AND p.deleted_at IS NULL`
	categorySQL = `WITH RECURSIVE sub AS (
		SELECT c.id FROM catalog.categories c WHERE c.id = $1
		UNION ALL
		SELECT c.id FROM catalog.categories c JOIN sub ON c.parent_id = sub.id
	)
	SELECT ` + productColumns + ` FROM sub CROSS JOIN LATERAL (
		SELECT * FROM catalog.products p
		WHERE p.deleted_at IS NULL AND p.listed AND p.category_id = sub.id
		ORDER BY p.created_at DESC, p.id DESC LIMIT 21
	) p
	ORDER BY p.created_at DESC, p.id DESC LIMIT 21`
	variantsSQL = `SELECT product_id, id, sku, name, attributes, effective_price, price, stock
		FROM catalog.variants WHERE product_id = ANY($1::uuid[]) ORDER BY product_id, created_at, id`
)

// productRow and variantRow are what the reference writes back.
type productRow struct {
	ID          string          `json:"id"`
	ShopID      string          `json:"shop_id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Brand       string          `json:"brand"`
	Model       string          `json:"model"`
	CategoryID  *string         `json:"category_id"`
	Attributes  json.RawMessage `json:"attributes"`
	Status      string          `json:"status"`
	Currency    string          `json:"currency"`
	Price       int64           `json:"price"`
	Rating      float64         `json:"rating"`
	RatingCount int             `json:"rating_count"`
	WeightGrams int             `json:"weight_grams"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Variants    []variantRow    `json:"variants"`
}

type variantRow struct {
	ID         string          `json:"id"`
	SKU        string          `json:"sku"`
	Name       string          `json:"name"`
	Attributes json.RawMessage `json:"attributes"`
	Price      int64           `json:"price"`
	ListPrice  int64           `json:"list_price"`
	Stock      int             `json:"stock"`
}

// readProducts scans product rows (a Query's rows and error) and fetches their variants.
func readProducts(ctx context.Context, pool *pgxpool.Pool, rows pgx.Rows, err error) ([]*productRow, error) {
	if err != nil {
		return nil, err
	}
	products, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*productRow, error) {
		p := &productRow{Variants: []variantRow{}}
		return p, row.Scan(&p.ID, &p.ShopID, &p.Title, &p.Description, &p.Brand, &p.Model, &p.CategoryID, &p.Attributes,
			&p.Status, &p.Currency, &p.Price, &p.Rating, &p.RatingCount, &p.WeightGrams, &p.CreatedAt, &p.UpdatedAt)
	})
	if err != nil || len(products) == 0 {
		return products, err
	}
	byID := make(map[string]*productRow, len(products))
	ids := make([]string, len(products))
	for i, p := range products {
		byID[p.ID], ids[i] = p, p.ID
	}
	vrows, err := pool.Query(ctx, variantsSQL, ids)
	if err != nil {
		return nil, err
	}
	defer vrows.Close()
	for vrows.Next() {
		var pid string
		var v variantRow
		if err := vrows.Scan(&pid, &v.ID, &v.SKU, &v.Name, &v.Attributes, &v.Price, &v.ListPrice, &v.Stock); err != nil {
			return nil, err
		}
		byID[pid].Variants = append(byID[pid].Variants, v)
	}
	return products, vrows.Err()
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

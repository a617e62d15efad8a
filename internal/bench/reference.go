package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/user"
)

// The reference is the floor GoShop is measured against: net/http's own mux, one pgxpool and
// encoding/json, in a process of its own (`goshop bench reference`), doing for each measured
// route the work GoShop's answer needs and nothing else. It serves GoShop's paths and answers
// the same bytes: the same access-token check (golang-jwt, HS256 pinned, issuer and expiry,
// a look-up of the session in an in-memory revocation set), the same SQL with the same
// columns, the same JSON types, and the same headers (request id, security headers, Vary). So
// the ratio of the two rows is GoShop's own overhead: routing, middleware, metrics, logging,
// timeouts, error mapping, and whatever its handlers do beyond this.
//
// It is deliberately written without GoShop's handler code, so that making GoShop cheaper does
// not make the floor cheaper too; what keeps the two doing the same work is
// TestReferenceAnswersAsGoShop, which compares their answers byte for byte.

// referenceReady starts the line the reference prints on stdout once it accepts connections,
// followed by its base URL.
const referenceReady = "reference listening on "

// The reference's statements are GoShop's own (sqlc's GetUser, GetProduct, ListVariants and
// ListVariantsOf, and the category listing's query as catalog.listSQL writes it for
// ?category= with the default sort and limit).
const (
	refUserSQL = `-- name: GetUser :one
SELECT id, email, password_hash, full_name, phone, roles, created_at, updated_at, deleted_at, locale, time_zone FROM users.users WHERE id = $1 AND deleted_at IS NULL
`
	refProductColumns = `id, shop_id, title, description, brand, model, category_id, attributes, status, currency, price, low_stock_threshold, weight_grams, rating, rating_count, discount_id, discount_percent, discount_price, discount_variant_id, discount_starts_at, discount_ends_at, discount_by, created_by, created_at, updated_at, deleted_at, shop_hidden_at, listed, gtin`
	refProductSQL     = `-- name: GetProduct :one
SELECT ` + refProductColumns + ` FROM catalog.products WHERE id = $1
`
	refVariantColumns = `id, product_id, shop_id, sku, name, attributes, price, effective_price, stock, is_default, created_at, updated_at`
	refVariantsSQL    = `-- name: ListVariants :many
SELECT ` + refVariantColumns + ` FROM catalog.variants WHERE product_id = $1 ORDER BY created_at, id
`
	refVariantsOfSQL = `-- name: ListVariantsOf :many
SELECT ` + refVariantColumns + ` FROM catalog.variants WHERE product_id = ANY ($1::uuid[]) ORDER BY product_id, created_at, id
`
	// refMediaSQL is media's ListOwned: GoShop reads the media of every product it answers
	// with, so the reference does too.
	refMediaSQL = `-- name: ListOwned :many
SELECT id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after
FROM media.items
WHERE owner_kind = $1 AND owner_id = ANY($2::uuid[]) AND deleted_at IS NULL AND attached_at IS NOT NULL
ORDER BY owner_id, position, created_at, id
`
	refCategorySQL = `WITH RECURSIVE sub AS (
	SELECT c.id FROM catalog.categories c WHERE c.id = $1
	UNION ALL
	SELECT c.id FROM catalog.categories c JOIN sub ON c.parent_id = sub.id
)
SELECT p.* FROM sub CROSS JOIN LATERAL (
	SELECT p.* FROM catalog.products p
	WHERE p.deleted_at IS NULL
  AND p.listed
  AND p.category_id = sub.id
	ORDER BY p.created_at DESC, p.id DESC
	LIMIT $2
) p
ORDER BY p.created_at DESC, p.id DESC
LIMIT $2`
	// refPageLimit is the listing's default page size (httpx.DefaultLimit).
	refPageLimit = 20
)

// runReference is `goshop bench reference`: it serves until ctx ends. The bench passes the
// server's JWT_SECRET and JWT_ISSUER in the environment, as the server gets them.
func runReference(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench reference", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	dbURL := fs.String("database-url", "", "PostgreSQL database GoShop serves from")
	maxConns := fs.Int("db-max-conns", 0, "pool size (0: pgx's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret, issuer := os.Getenv("JWT_SECRET"), os.Getenv("JWT_ISSUER")
	if *dbURL == "" || secret == "" || issuer == "" {
		return errors.New("bench reference: -database-url, JWT_SECRET and JWT_ISSUER are required")
	}
	cfg, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		return fmt.Errorf("bench reference: parse database url: %w", err)
	}
	if *maxConns > 0 {
		cfg.MaxConns = int32(*maxConns)
	}
	pgdb.NativeUUIDs(cfg) // the same parameter encoding as GoShop's pool: the same work
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench reference: connect: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("bench reference: ping: %w", err)
	}
	return serveAnnounced(ctx, "bench reference", *addr, newReference(pool, secret, issuer), referenceReady, stdout)
}

// serveAnnounced serves h on addr until ctx ends, with GoShop's server timeouts so that the
// bench's own servers (the reference, the proxy) hold connections as GoShop does. Once it
// listens it prints ready and its base URL to stdout, the line startAnnounced waits for.
func serveAnnounced(ctx context.Context, name, addr string, h http.Handler, ready string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "%shttp://%s\n", ready, ln.Addr()); err != nil {
		_ = srv.Close()
		return err
	}
	select {
	case err := <-errc:
		return fmt.Errorf("%s: serve: %w", name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// reference serves GoShop's measured routes the bare way.
type reference struct {
	pool   *pgxpool.Pool
	secret []byte
	parser *jwt.Parser
	mux    *http.ServeMux
	// revoked is the in-memory revocation set every request's session is looked up in, as
	// GoShop's is (auth.Revocations, while its Redis subscription is up); nothing revokes here,
	// but the look-up is paid.
	mu      sync.RWMutex
	revoked map[uuid.UUID]time.Time
	// Request ids are made as chi's RequestID makes them: a process prefix and a counter.
	idPrefix string
	idSeq    atomic.Uint64
}

func newReference(pool *pgxpool.Pool, secret, issuer string) *reference {
	host, _ := os.Hostname()
	ref := &reference{
		pool:   pool,
		secret: []byte(secret),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second)),
		mux:      http.NewServeMux(),
		revoked:  map[uuid.UUID]time.Time{},
		idPrefix: cmpOr(host, "localhost") + "/" + randomHex(5),
	}
	ref.mux.HandleFunc("GET /api/v1/users/profile", ref.profile)
	ref.mux.HandleFunc("GET /api/v1/products/{id}", ref.product)
	ref.mux.HandleFunc("GET /api/v1/products", ref.products)
	ref.searchRoutes()
	return ref
}

// ServeHTTP sets the headers GoShop sends on every answer, then routes.
func (ref *reference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = fmt.Sprintf("%s-%06d", ref.idPrefix, ref.idSeq.Add(1))
	}
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Add("Vary", "Origin")
	ref.mux.ServeHTTP(w, r)
}

type refClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
}

// authenticate checks the bearer token as GoShop's auth.Authenticator does, writing the 401
// itself when it fails.
func (ref *reference) authenticate(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="goshop"`)
		writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "an access token is required")
		return uuid.Nil, false
	}
	var c refClaims
	_, err := ref.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return ref.secret, nil })
	var uid, sid uuid.UUID
	if err == nil {
		var err1, err2 error
		uid, err1 = uuid.Parse(c.Subject)
		sid, err2 = uuid.Parse(c.SessionID)
		err = errors.Join(err1, err2)
	}
	detail := "the access token is invalid or expired"
	if err == nil && ref.isRevoked(sid) {
		err, detail = errors.New("revoked"), "the session has ended"
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="goshop", error="invalid_token"`)
		writeProblem(w, r, http.StatusUnauthorized, "unauthorized", detail)
		return uuid.Nil, false
	}
	return uid, true
}

func (ref *reference) isRevoked(session uuid.UUID) bool {
	ref.mu.RLock()
	defer ref.mu.RUnlock()
	_, revoked := ref.revoked[session]
	return revoked
}

func (ref *reference) profile(w http.ResponseWriter, r *http.Request) {
	uid, ok := ref.authenticate(w, r)
	if !ok {
		return
	}
	// Every column of the row is read, as GoShop's sqlc query reads them.
	var (
		id                            uuid.UUID
		email, passwordHash, fullName string
		phone                         *string
		roles                         []string
		createdAt, updatedAt          time.Time
		deletedAt                     *time.Time
		locale, timeZone              string
	)
	err := ref.pool.QueryRow(r.Context(), refUserSQL, uid).
		Scan(&id, &email, &passwordHash, &fullName, &phone, &roles, &createdAt, &updatedAt, &deletedAt, &locale, &timeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		writeProblem(w, r, http.StatusNotFound, "not_found", "user not found")
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	writeJSON(w, user.User{ID: id, Email: email, FullName: fullName, Phone: phone, Roles: roles, Locale: locale, TimeZone: timeZone,
		CreatedAt: createdAt.UTC()})
}

// productRecord is a catalog.products row, all of its columns, as sqlc's store.CatalogProduct
// (internal to the catalog) holds it.
type productRecord struct {
	ID, ShopID                     uuid.UUID
	Title, Description, Brand      string
	Model                          string
	CategoryID                     *uuid.UUID
	Attributes                     catalog.Attributes
	Status, Currency               string
	Price                          int64
	LowStockThreshold, WeightGrams int32
	Rating                         float64
	RatingCount                    int32
	DiscountID                     *uuid.UUID
	DiscountPercent                *int32
	DiscountPrice                  *int64
	DiscountVariantID              *uuid.UUID
	DiscountStartsAt               *time.Time
	DiscountEndsAt                 *time.Time
	DiscountBy                     *uuid.UUID
	CreatedBy                      uuid.UUID
	CreatedAt, UpdatedAt           time.Time
	DeletedAt, ShopHiddenAt        *time.Time
	Listed                         bool
	GTIN                           string
}

func scanProduct(row pgx.Row) (productRecord, error) {
	var p productRecord
	err := row.Scan(&p.ID, &p.ShopID, &p.Title, &p.Description, &p.Brand, &p.Model, &p.CategoryID, &p.Attributes, &p.Status,
		&p.Currency, &p.Price, &p.LowStockThreshold, &p.WeightGrams, &p.Rating, &p.RatingCount, &p.DiscountID, &p.DiscountPercent,
		&p.DiscountPrice, &p.DiscountVariantID, &p.DiscountStartsAt, &p.DiscountEndsAt, &p.DiscountBy, &p.CreatedBy, &p.CreatedAt,
		&p.UpdatedAt, &p.DeletedAt, &p.ShopHiddenAt, &p.Listed, &p.GTIN)
	return p, err
}

// variantRecord is a catalog.variants row, all of its columns.
type variantRecord struct {
	ID, ProductID, ShopID uuid.UUID
	SKU, Name             string
	Attributes            map[string]string
	Price, EffectivePrice int64
	Stock                 int32
	IsDefault             bool
	CreatedAt, UpdatedAt  time.Time
}

func scanVariant(row pgx.Row) (variantRecord, error) {
	var v variantRecord
	err := row.Scan(&v.ID, &v.ProductID, &v.ShopID, &v.SKU, &v.Name, &v.Attributes, &v.Price, &v.EffectivePrice, &v.Stock,
		&v.IsDefault, &v.CreatedAt, &v.UpdatedAt)
	return v, err
}

func (ref *reference) product(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, "not_found", "product not found")
		return
	}
	// The bench reads listed products anonymously; GoShop also shows an owner their unlisted
	// ones, which needs a token the reference does not take on this route.
	p, err := scanProduct(ref.pool.QueryRow(r.Context(), refProductSQL, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (p.DeletedAt != nil || !p.Listed)) {
		writeProblem(w, r, http.StatusNotFound, "not_found", "product not found")
		return
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	vs, err := queryAll(r.Context(), ref.pool, scanVariant, refVariantsSQL, id)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	if !ref.noMedia(w, r, []uuid.UUID{id}) {
		return
	}
	writeJSON(w, productJSON(p, vs, time.Now()))
}

// refCursor is the listing's next-page position, as GoShop encodes it for the newest-first sort.
type refCursor struct {
	Sort string    `json:"s"`
	Time time.Time `json:"t"`
	ID   uuid.UUID `json:"i"`
}

// refList is the answer shape of GoShop's lists.
type refList struct {
	Items      []catalog.Product `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// products is the listing of a category's subtree, newest first: the one listing the bench
// measures, so any other parameter is refused rather than ignored.
func (ref *reference) products(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	category, err := uuid.Parse(q.Get("category"))
	if err != nil || len(q) != 1 {
		writeProblem(w, r, http.StatusBadRequest, "bad_request", "the reference lists by ?category=<uuid> only")
		return
	}
	ps, err := queryAll(r.Context(), ref.pool, scanProduct, refCategorySQL, category, refPageLimit+1)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	var out refList
	if len(ps) > refPageLimit {
		ps = ps[:refPageLimit]
		last := ps[len(ps)-1]
		b, _ := json.Marshal(refCursor{Sort: "newest", Time: last.CreatedAt, ID: last.ID})
		out.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	ids := make([]uuid.UUID, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	vs, err := queryAll(r.Context(), ref.pool, scanVariant, refVariantsOfSQL, ids)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	if !ref.noMedia(w, r, ids) {
		return
	}
	byProduct := make(map[uuid.UUID][]variantRecord, len(ps))
	for _, v := range vs {
		byProduct[v.ProductID] = append(byProduct[v.ProductID], v)
	}
	now := time.Now()
	out.Items = make([]catalog.Product, len(ps))
	for i, p := range ps {
		out.Items[i] = productJSON(p, byProduct[p.ID], now)
	}
	writeJSON(w, out)
}

// noMedia reads the products' media as GoShop does and says whether they have none; the
// reference does not render media (the bench's seeded products have none), so a product with
// some is answered 500, which fails the row rather than comparing different answers.
func (ref *reference) noMedia(w http.ResponseWriter, r *http.Request, ids []uuid.UUID) bool {
	rows, err := ref.pool.Query(r.Context(), refMediaSQL, string(events.MediaOwnerProduct), ids)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return false
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil || n > 0 {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "the reference renders no media")
		return false
	}
	return true
}

// queryAll runs sql and scans every row with scan.
func queryAll[T any](ctx context.Context, pool *pgxpool.Pool, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// productJSON is a product as GoShop answers it at instant now: prices under its discount,
// the lowest variant price and the stock summed over variants.
func productJSON(r productRecord, vs []variantRecord, now time.Time) catalog.Product {
	p := catalog.Product{
		ID: r.ID, ShopID: r.ShopID, Title: r.Title, Description: r.Description, Brand: r.Brand, Model: r.Model, GTIN: r.GTIN,
		CategoryID: r.CategoryID, Attributes: r.Attributes, Currency: r.Currency, Status: r.Status,
		Rating: r.Rating, RatingCount: int(r.RatingCount), WeightGrams: int(r.WeightGrams),
		LowStockThreshold: int(r.LowStockThreshold), Media: []catalog.Media{}, Variants: make([]catalog.Variant, 0, len(vs)),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	var d *catalog.Discount
	if r.DiscountID != nil && r.DiscountStartsAt != nil && r.DiscountEndsAt != nil {
		d = &catalog.Discount{ID: *r.DiscountID, VariantID: r.DiscountVariantID, SalePrice: r.DiscountPrice,
			StartsAt: r.DiscountStartsAt.UTC(), EndsAt: r.DiscountEndsAt.UTC()}
		if r.DiscountPercent != nil {
			pct := int(*r.DiscountPercent)
			d.Percent = &pct
		}
	}
	active := d != nil && !now.Before(d.StartsAt) && now.Before(d.EndsAt)
	if d != nil && now.Before(d.EndsAt) {
		shown := *d
		shown.Active = active
		p.Discount = &shown
	}
	for i, v := range vs {
		price := v.Price
		if active && (d.VariantID == nil || *d.VariantID == v.ID) {
			if d.Percent != nil {
				price = v.Price - (v.Price*int64(*d.Percent)+99)/100
			} else {
				price = min(v.Price, *d.SalePrice)
			}
		}
		pv := catalog.Variant{ID: v.ID, SKU: v.SKU, Name: v.Name, Attributes: v.Attributes, Price: price, ListPrice: v.Price,
			OnSale: price < v.Price, Stock: int(v.Stock), IsDefault: v.IsDefault}
		p.Variants = append(p.Variants, pv)
		p.Stock += pv.Stock
		if i == 0 || pv.Price < p.Price {
			p.Price, p.ListPrice, p.OnSale = pv.Price, pv.ListPrice, pv.OnSale
		}
	}
	return p
}

// writeJSON answers 200 with v, encoded as GoShop encodes answers.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// refProblem is GoShop's problem document (RFC 9457 with its code).
type refProblem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(refProblem{Type: "https://goshop.dev/problems/" + code, Title: http.StatusText(status),
		Status: status, Detail: detail, Code: code, Instance: r.URL.Path})
}

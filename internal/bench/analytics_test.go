package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// fakeRebuild imitates `goshop analytics rebuild`: it counts the orders a rebuild would read and
// says so as the command does.
func fakeRebuild() int {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake rebuild:", err)
		return 1
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders.orders").Scan(&n); err != nil {
		fmt.Fprintln(os.Stderr, "fake rebuild:", err)
		return 1
	}
	fmt.Printf("analytics: rebuilt from %d orders in 12.5ms\n", n)
	return 0
}

// fakeAnalytics answers the analytics rows' reads for a signed-in user who names a range.
func fakeAnalytics(mux *http.ServeMux, tokens *sync.Map) {
	read := func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tokens.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); !ok {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("from") == "" || r.URL.Query().Get("to") == "" {
			http.Error(w, `{"error":"no range"}`, http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"current":{}}`))
	}
	mux.HandleFunc("GET /api/v1/shops/{id}/analytics/revenue", read)
	mux.HandleFunc("GET /api/v1/shops/{id}/analytics/products", read)
}

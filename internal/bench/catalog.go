package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// productTargets is how many different products the product scenario cycles through, so that
// it reads a spread of the catalog rather than one hot row.
const productTargets = 1000

// ensureCatalog makes the catalog hold at least o.Products products, running `<binary> seed`
// with the server's environment when it holds fewer; seeding tops up, so a second run of the
// bench reuses the first one's catalog.
func ensureCatalog(ctx context.Context, o options, env []string, pool *pgxpool.Pool) error {
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM catalog.products").Scan(&n); err != nil {
		return fmt.Errorf("bench: count products: %w", err)
	}
	if n >= o.Products {
		return nil
	}
	fmt.Fprintf(o.ServerOutput, "bench: the catalog holds %d products; seeding %d\n", n, o.Products)
	return runSeed(ctx, o, env, "-products", strconv.Itoa(o.Products))
}

// runSeed runs `<binary> seed args...` with the server's environment.
func runSeed(ctx context.Context, o options, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, o.Binary, append([]string{"seed"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = o.ServerOutput, o.ServerOutput
	// Cancelled, the seed gets to stop its own transaction, as the server does.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("bench: %s seed: %w", o.Binary, err)
	}
	return nil
}

// pickProducts chooses a spread of listed products for the product scenario, after making sure
// the catalog holds enough.
func (r *runner) pickProducts(ctx context.Context) error {
	if len(r.f.productIDs) > 0 {
		return nil
	}
	if err := ensureCatalog(ctx, r.o, r.env, r.pool); err != nil {
		return err
	}
	rows, err := r.pool.Query(ctx, "SELECT id::text FROM catalog.products WHERE listed ORDER BY random() LIMIT $1", productTargets)
	if err != nil {
		return fmt.Errorf("bench: pick products: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("bench: pick products: %w", err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("bench: the catalog has no listed product")
	}
	r.f.productIDs = ids
	return nil
}

// categorySQL is the root category with the most listed products in its subtree (ties broken
// by id): the same category every run on the same catalog, and one whose listing is full.
const categorySQL = `
WITH RECURSIVE tree AS (
	SELECT id AS root, id FROM catalog.categories WHERE parent_id IS NULL
	UNION ALL
	SELECT t.root, c.id FROM catalog.categories c JOIN tree t ON c.parent_id = t.id
)
SELECT t.root::text FROM tree t JOIN catalog.products p ON p.category_id = t.id
WHERE p.listed AND p.deleted_at IS NULL
GROUP BY t.root
ORDER BY count(*) DESC, t.root
LIMIT 1`

// pickCategory chooses the root category the listing scenario reads.
func (r *runner) pickCategory(ctx context.Context) error {
	if r.f.categoryID != "" {
		return nil
	}
	if err := ensureCatalog(ctx, r.o, r.env, r.pool); err != nil {
		return err
	}
	err := r.pool.QueryRow(ctx, categorySQL).Scan(&r.f.categoryID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.New("bench: no root category has a listed product")
	}
	if err != nil {
		return fmt.Errorf("bench: pick a category: %w", err)
	}
	return nil
}

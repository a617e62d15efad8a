package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

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
	cmd := exec.CommandContext(ctx, o.Binary, "seed", "-products", strconv.Itoa(o.Products))
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

// pickProducts chooses what the product scenarios read: a spread of listed products, and the
// root category of one of them, whose listing takes in its whole subtree.
func (f *fixture) pickProducts(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, "SELECT id::text FROM catalog.products WHERE listed ORDER BY random() LIMIT $1", productTargets)
	if err != nil {
		return fmt.Errorf("bench: pick products: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		f.productIDs = append(f.productIDs, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("bench: pick products: %w", err)
	}
	if len(f.productIDs) == 0 {
		return fmt.Errorf("bench: the catalog has no listed product")
	}
	err = pool.QueryRow(ctx, `
		WITH RECURSIVE up AS (
			SELECT c.id, c.parent_id FROM catalog.categories c
			WHERE c.id = (SELECT category_id FROM catalog.products WHERE id = $1)
			UNION ALL
			SELECT c.id, c.parent_id FROM catalog.categories c JOIN up ON c.id = up.parent_id
		)
		SELECT id::text FROM up WHERE parent_id IS NULL`, f.productIDs[0]).Scan(&f.categoryID)
	if err != nil {
		return fmt.Errorf("bench: pick a category: %w", err)
	}
	return nil
}

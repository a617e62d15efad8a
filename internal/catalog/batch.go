package catalog

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// QueueVariantSnapshots queues the reads of VariantSnapshotTx for several variants on b, in one
// statement whatever their number, for a caller that batches its reads (checkout, adding a
// line); once b is sent, done gets the snapshots by variant. A variant not found is not in it.
// It runs under its generic plan (a lookup by primary key): planned for its values, as the plan
// cache otherwise does at every execution, it cost 0.17 ms a checkout against 0.03 to run.
func (s *Service) QueueVariantSnapshots(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID,
	done func(map[uuid.UUID]VariantSnapshot, error) error) {
	pgdb.QueueGeneric(b, func(db pgdb.DBTX) ([]store.VariantSnapshotsRow, error) {
		return newStore(db).VariantSnapshots(ctx, variantIDs)
	}, func(rows []store.VariantSnapshotsRow, err error) error {
		if err != nil {
			return done(nil, fmt.Errorf("catalog: variant snapshots: %w", err))
		}
		out := make(map[uuid.UUID]VariantSnapshot, len(rows))
		for _, r := range rows {
			v, err := toSnapshot(store.VariantSnapshotRow(r), nil)
			if err != nil {
				return done(nil, err)
			}
			out[r.VariantID] = v
		}
		return done(out, nil)
	})
}

// QueueOnlyVariant queues on b the read of a listed product's variant when it has exactly one;
// once b is sent, done gets its snapshot. A product gone or not listed is not found; one with
// several variants is a validation error: the buyer must choose. The cart sends it in its
// transaction, on the primary, never the replica (a buyer who puts a product in their cart just
// after it was listed must find it).
func (s *Service) QueueOnlyVariant(ctx context.Context, b *pgdb.Batch, productID uuid.UUID, done func(VariantSnapshot, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.ProductVariantSnapshotsRow, error) {
		return newStore(db).ProductVariantSnapshots(ctx, productID)
	}, func(rows []store.ProductVariantSnapshotsRow, err error) error {
		switch {
		case err != nil:
			return done(VariantSnapshot{}, fmt.Errorf("catalog: variants of %s: %w", productID, err))
		case len(rows) == 0 || !rows[0].Listed:
			return done(VariantSnapshot{}, apperr.NotFoundf("product"))
		case len(rows) > 1:
			return done(VariantSnapshot{}, apperr.Field("variant_id", "this product comes in several variants: choose one"))
		}
		return done(toSnapshot(store.VariantSnapshotRow(rows[0]), nil))
	})
}

// Reservation is checkout's stock reservation, queued on a batch (QueueReserveStock).
type Reservation struct {
	want map[uuid.UUID]int
	rows []store.ReserveStockRow
}

// QueueReserveStock queues, on b, the taking of the stock of every line in one statement that
// also records the movements: rows locked in variant order, each taken only while enough is
// left, so concurrent checkouts never sell more than there is. Lines of one variant are merged.
// Once b is sent, Done says whether every line was met and returns the stock events for the
// caller to publish with its own (one River insert for the whole checkout).
func (s *Service) QueueReserveStock(ctx context.Context, b *pgdb.Batch, lines []StockLine) (*Reservation, error) {
	merged, err := mergeLines(lines)
	if err != nil {
		return nil, err
	}
	r := &Reservation{want: map[uuid.UUID]int{}}
	if len(merged) == 0 {
		return r, nil
	}
	p := store.ReserveStockParams{Kind: "reservation", Reason: merged[0].Ref}
	for _, l := range merged {
		p.VariantIds = append(p.VariantIds, l.VariantID)
		p.Quantities = append(p.Quantities, int32(l.Quantity))
		r.want[l.VariantID] = l.Quantity
	}
	// Under the generic plan: the custom one, remade at every checkout, cost more to make than
	// to run.
	pgdb.QueueGeneric(b, func(db pgdb.DBTX) ([]store.ReserveStockRow, error) { return newStore(db).ReserveStock(ctx, p) },
		func(rows []store.ReserveStockRow, err error) error {
			r.rows = rows
			return err
		})
	return r, nil
}

// Done answers, once the reservation's batch was sent, the stock events to publish, or
// insufficient_stock naming a variant that could not be met (read through tx: the statement
// changed nothing the caller keeps, its transaction is rolled back).
func (r *Reservation) Done(ctx context.Context, tx pgx.Tx) ([]eventbus.Event, error) {
	met := map[uuid.UUID]bool{}
	var evs []eventbus.Event
	for _, row := range r.rows {
		met[row.VariantID] = true
		old, stock, at := int(row.Stock+row.Qty), int(row.Stock), row.CreatedAt.UTC()
		evs = append(evs, events.StockChanged{ProductID: row.ProductID.String(), VariantID: row.VariantID.String(),
			ShopID: row.ShopID.String(), Delta: -int(row.Qty), Stock: stock, Kind: "reservation", At: at})
		if th := int(row.LowStockThreshold); old > th && stock <= th {
			evs = append(evs, events.LowStock{ProductID: row.ProductID.String(), VariantID: row.VariantID.String(),
				ShopID: row.ShopID.String(), SKU: row.Sku, Stock: stock, Threshold: th, At: at})
		}
	}
	for id, qty := range r.want {
		if met[id] {
			continue
		}
		v, err := newStore(tx).GetVariant(ctx, id)
		if err != nil {
			return nil, pgdb.NotFound(err, "variant")
		}
		return nil, apperr.New(apperr.InsufficientStock, "variant %s (%s) has %d in stock; %d asked", v.ID, v.Name, v.Stock, qty)
	}
	return evs, nil
}

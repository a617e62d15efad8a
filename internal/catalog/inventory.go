package catalog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// recentMovements is how many of a product's latest stock movements its inventory shows.
const recentMovements = 20

// Inventory returns a product's stock, variant by variant, to its shop's owner and admins.
func (s *Service) Inventory(ctx context.Context, p auth.Principal, id uuid.UUID) (Inventory, error) {
	row, err := s.managedRow(ctx, p, id, actionSeeStock)
	if err != nil {
		return Inventory{}, err
	}
	return s.inventoryOf(ctx, row)
}

func (s *Service) inventoryOf(ctx context.Context, row store.CatalogProduct) (Inventory, error) {
	vs, err := s.q.ListVariants(ctx, row.ID)
	if err != nil {
		return Inventory{}, err
	}
	ms, err := s.q.RecentMovements(ctx, store.RecentMovementsParams{ProductID: row.ID, Lim: recentMovements})
	if err != nil {
		return Inventory{}, err
	}
	inv := Inventory{ProductID: row.ID, ShopID: row.ShopID, LowStockThreshold: int(row.LowStockThreshold),
		Variants: make([]InventoryItem, len(vs)), Movements: make([]Movement, len(ms))}
	for i, v := range vs {
		inv.Stock += int(v.Stock)
		inv.Variants[i] = toItem(store.InventoryRow{VariantID: v.ID, ProductID: row.ID, ShopID: row.ShopID, Sku: v.Sku,
			VariantName: v.Name, Stock: v.Stock, Title: row.Title, LowStockThreshold: row.LowStockThreshold})
	}
	for i, m := range ms {
		inv.Movements[i] = toMovement(m)
	}
	return inv, nil
}

// StockInput sets a variant's stock, the product's low-stock threshold, or both. VariantID may
// be left out for a product with a single variant.
type StockInput struct {
	VariantID         *uuid.UUID `json:"variant_id"`
	Stock             *int       `json:"stock" validate:"omitempty,min=0,max=1000000000"`
	LowStockThreshold *int       `json:"low_stock_threshold" validate:"omitempty,min=0,max=1000000000"`
	Reason            string     `json:"reason" validate:"max=200"`
}

// SetInventory sets stock (recorded as a movement of the difference) and the threshold.
func (s *Service) SetInventory(ctx context.Context, p auth.Principal, id uuid.UUID, in StockInput) (Inventory, error) {
	if in.Stock == nil && in.LowStockThreshold == nil {
		return Inventory{}, apperr.Field("stock", "give stock, low_stock_threshold or both")
	}
	row, err := s.managedRow(ctx, p, id, actionSetStock)
	if err != nil {
		return Inventory{}, err
	}
	var variant uuid.UUID
	if in.Stock != nil {
		if variant, err = s.pickVariant(ctx, id, in.VariantID); err != nil {
			return Inventory{}, err
		}
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		reason = "stock count"
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if in.LowStockThreshold != nil {
			if err := q.SetLowStockThreshold(ctx, store.SetLowStockThresholdParams{ID: id, Threshold: int32(*in.LowStockThreshold)}); err != nil {
				return err
			}
		}
		if in.Stock == nil {
			return nil
		}
		r, err := q.SetStock(ctx, store.SetStockParams{ID: variant, Stock: int32(*in.Stock)})
		if err != nil || r.OldStock == r.Stock {
			return err
		}
		_, err = s.record(ctx, tx, q, stockChange{variant: variant, product: r.ProductID, shop: r.ShopID, sku: r.Sku,
			old: int(r.OldStock), stock: int(r.Stock), threshold: int(r.LowStockThreshold)}, "set", reason, &p.UserID)
		return err
	})
	if err != nil {
		return Inventory{}, err
	}
	if row, err = s.q.GetProduct(ctx, id); err != nil {
		return Inventory{}, err
	}
	return s.inventoryOf(ctx, row)
}

// AdjustmentInput is a signed change of a variant's stock and why: +20 "restocked", -1
// "damaged in the warehouse".
type AdjustmentInput struct {
	VariantID *uuid.UUID `json:"variant_id"`
	Delta     int        `json:"delta" validate:"required,min=-1000000000,max=1000000000"`
	Reason    string     `json:"reason" validate:"required,max=200"`
}

// Adjust applies a signed delta to a variant's stock; a delta that would take it below zero is
// refused with insufficient_stock.
func (s *Service) Adjust(ctx context.Context, p auth.Principal, id uuid.UUID, in AdjustmentInput) (Movement, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		return Movement{}, apperr.Field("reason", "is required")
	}
	if _, err := s.managedRow(ctx, p, id, actionSetStock); err != nil {
		return Movement{}, err
	}
	variant, err := s.pickVariant(ctx, id, in.VariantID)
	if err != nil {
		return Movement{}, err
	}
	var m store.CatalogStockMovement
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		m, err = s.move(ctx, tx, newStore(tx), variant, in.Delta, "adjustment", in.Reason, &p.UserID)
		return err
	})
	if err != nil {
		return Movement{}, err
	}
	return toMovement(m), nil
}

// pickVariant resolves the variant a stock request names: the given one, which must be the
// product's, or the only one.
func (s *Service) pickVariant(ctx context.Context, product uuid.UUID, id *uuid.UUID) (uuid.UUID, error) {
	vs, err := s.q.ListVariants(ctx, product)
	if err != nil {
		return uuid.Nil, err
	}
	if id == nil {
		if len(vs) == 1 {
			return vs[0].ID, nil
		}
		return uuid.Nil, apperr.Field("variant_id", "is required: the product has several variants")
	}
	if !slices.ContainsFunc(vs, func(v store.CatalogVariant) bool { return v.ID == *id }) {
		return uuid.Nil, apperr.Field("variant_id", "is not a variant of this product")
	}
	return *id, nil
}

// ReserveStock takes stock for checkout inside the caller's transaction: every line or none.
// Each line is a conditional update (it applies only while enough stock is left), so
// concurrent checkouts never sell more than there is; a line that cannot be met fails the
// whole call with insufficient_stock naming the variant, and the lines already taken are
// rolled back to a savepoint, so that the caller's transaction stays usable. Lines of the same
// variant are merged, and rows are locked in ID order so that two checkouts never deadlock.
// Movements are recorded and stock events published in the same transaction.
func (s *Service) ReserveStock(ctx context.Context, tx pgx.Tx, lines []StockLine) error {
	return s.applyLines(ctx, tx, lines, -1, "reservation")
}

// ReleaseStock gives reserved stock back (a cancelled order, a failed payment) inside the
// caller's transaction. The caller makes sure it releases an order's stock only once.
func (s *Service) ReleaseStock(ctx context.Context, tx pgx.Tx, lines []StockLine) error {
	return s.applyLines(ctx, tx, lines, 1, "release")
}

func (s *Service) applyLines(ctx context.Context, tx pgx.Tx, lines []StockLine, sign int, kind string) error {
	merged, err := mergeLines(lines)
	if err != nil || len(merged) == 0 {
		return err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("catalog: stock savepoint: %w", err)
	}
	q := newStore(sp)
	for _, l := range merged {
		if _, err := s.move(ctx, sp, q, l.VariantID, sign*l.Quantity, kind, l.Ref, nil); err != nil {
			_ = sp.Rollback(ctx)
			return err
		}
	}
	return sp.Commit(ctx)
}

func mergeLines(lines []StockLine) ([]StockLine, error) {
	at := map[uuid.UUID]int{}
	var out []StockLine
	for _, l := range lines {
		if l.Quantity <= 0 {
			return nil, apperr.New(apperr.Invalid, "the quantity of variant %s must be at least 1", l.VariantID)
		}
		if i, ok := at[l.VariantID]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.VariantID] = len(out)
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b StockLine) int { return bytes.Compare(a.VariantID[:], b.VariantID[:]) })
	return out, nil
}

// move applies delta to a variant's stock unless that would take it below zero, and records
// the movement, in tx.
func (s *Service) move(ctx context.Context, tx pgx.Tx, q *store.Queries, variant uuid.UUID, delta int, kind, reason string,
	actor *uuid.UUID) (store.CatalogStockMovement, error) {
	r, err := q.AdjustStock(ctx, store.AdjustStockParams{ID: variant, Delta: int32(delta)})
	if pgdb.IsNoRows(err) {
		v, err := q.GetVariant(ctx, variant)
		if err != nil {
			return store.CatalogStockMovement{}, pgdb.NotFound(err, "variant")
		}
		return store.CatalogStockMovement{}, apperr.New(apperr.InsufficientStock,
			"variant %s (%s) has %d in stock; %d asked", v.ID, v.Name, v.Stock, -delta)
	}
	if err != nil {
		return store.CatalogStockMovement{}, err
	}
	return s.record(ctx, tx, q, stockChange{variant: variant, product: r.ProductID, shop: r.ShopID, sku: r.Sku,
		old: int(r.Stock) - delta, stock: int(r.Stock), threshold: int(r.LowStockThreshold)}, kind, reason, actor)
}

// stockChange is one variant's stock going from old to stock.
type stockChange struct {
	variant, product, shop uuid.UUID
	sku                    string
	old, stock, threshold  int
}

// record keeps a stock movement and publishes inventory.stock_changed, and
// inventory.low_stock when the stock has just fallen to or below the threshold.
func (s *Service) record(ctx context.Context, tx pgx.Tx, q *store.Queries, c stockChange, kind, reason string,
	actor *uuid.UUID) (store.CatalogStockMovement, error) {
	m, err := q.AddMovement(ctx, store.AddMovementParams{VariantID: c.variant, ProductID: c.product, Kind: kind,
		Delta: int32(c.stock - c.old), StockAfter: int32(c.stock), Reason: reason, ActorID: actor})
	if err != nil {
		return m, err
	}
	evs := []eventbus.Event{events.StockChanged{ProductID: c.product.String(), VariantID: c.variant.String(),
		ShopID: c.shop.String(), Delta: c.stock - c.old, Stock: c.stock, Kind: kind, At: m.CreatedAt.UTC()}}
	if c.old > c.threshold && c.stock <= c.threshold {
		evs = append(evs, events.LowStock{ProductID: c.product.String(), VariantID: c.variant.String(),
			ShopID: c.shop.String(), SKU: c.sku, Stock: c.stock, Threshold: c.threshold, At: m.CreatedAt.UTC()})
	}
	return m, s.bus.Publish(ctx, tx, evs...)
}

// inventoryCursor is typed as the stock column, so that a cursor whose stock does not fit it
// is refused when read rather than wrapped into another position.
type inventoryCursor struct {
	Stock int32     `json:"s"`
	ID    uuid.UUID `json:"i"`
}

// ShopInventory pages through a shop's variants with their stock, lowest first (lowOnly: only
// those at or under their threshold), for the shop's owner and admins.
func (s *Service) ShopInventory(ctx context.Context, p auth.Principal, shopID uuid.UUID, lowOnly bool, page httpx.Page) (httpx.List[InventoryItem], error) {
	owner, _, err := s.shops.ShopOwner(ctx, shopID)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	if owner != p.UserID && !p.IsAdmin() {
		return httpx.List[InventoryItem]{}, apperr.New(apperr.Forbidden, "only the shop's owner may see its inventory")
	}
	return s.inventory(ctx, &shopID, lowOnly, page)
}

// LowStock pages through one shop's low-stock variants or, for admins who name no shop,
// every shop's.
func (s *Service) LowStock(ctx context.Context, p auth.Principal, shopID *uuid.UUID, page httpx.Page) (httpx.List[InventoryItem], error) {
	if shopID != nil {
		return s.ShopInventory(ctx, p, *shopID, true, page)
	}
	if !p.IsAdmin() {
		return httpx.List[InventoryItem]{}, apperr.Field("shop_id", "is required")
	}
	return s.inventory(ctx, nil, true, page)
}

func (s *Service) inventory(ctx context.Context, shopID *uuid.UUID, lowOnly bool, page httpx.Page) (httpx.List[InventoryItem], error) {
	var cur inventoryCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	rows, err := s.q.Inventory(ctx, store.InventoryParams{ShopID: shopID, LowOnly: lowOnly, HasCursor: has,
		AfterStock: cur.Stock, AfterID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	out := make([]InventoryItem, len(rows))
	for i, r := range rows {
		out[i] = toItem(r)
	}
	return httpx.Paginate(out, page.Limit, func(it InventoryItem) any { return inventoryCursor{int32(it.Stock), it.VariantID} }), nil
}

func toItem(r store.InventoryRow) InventoryItem {
	return InventoryItem{ProductID: r.ProductID, VariantID: r.VariantID, ShopID: r.ShopID, Title: r.Title,
		VariantName: r.VariantName, SKU: r.Sku, Stock: int(r.Stock), LowStockThreshold: int(r.LowStockThreshold),
		LowStock: r.Stock <= r.LowStockThreshold}
}

func toMovement(m store.CatalogStockMovement) Movement {
	return Movement{ID: m.ID, VariantID: m.VariantID, ProductID: m.ProductID, Kind: m.Kind, Delta: int(m.Delta),
		Stock: int(m.StockAfter), Reason: m.Reason, ActorID: m.ActorID, CreatedAt: m.CreatedAt.UTC()}
}

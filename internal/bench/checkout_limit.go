package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// limitFunctionSQL creates bench.checkout(client, pick0, pick1): the statements one cycle of the
// checkout row makes GoShop send to PostgreSQL, in their order, run as one function call, so that
// pgbench can run them as one round trip a transaction. They were read off the statements a
// 2-item, 2-shop, cash-on-delivery cycle sends (apptest.SQLLog, as BenchmarkCheckout counts
// them):
//
//   - each POST /cart/items: ProductVariantSnapshots, LockCart, Fill, AddItem, RecordCartAdd and
//     ActiveCampaignItems;
//   - POST /orders: GetAddress, ItemsForUpdate and Coupons; VariantSnapshots,
//     ActiveCampaignItems and GetShops; CreateOrders, AddItems, AddPlacedHistory, Clear and
//     ClearCoupons; ReserveStock; and River's insert of the job that carries the checkout's
//     events (order.placed a shop, inventory.stock_changed a line), into bench.river_job, a copy
//     of river_job with its indexes, so that no worker runs them.
//
// The tables are GoShop's own, in the bench database, with the checkout row's buyers and
// products, so rows, indexes and their sizes are those GoShop writes. Prices and fees are
// constants where GoShop computes them in Go: the same columns are written, not the same sums.
// What the function does not pay for is GoShop's: three transactions (two adds and the
// checkout) where it has one, and a round trip for each batch. When checkout's statements
// change, read them off again and change them here.
//
// %[1]s to %[6]s are the fixture's buyers, their addresses, and the products and variants of
// each shop, as array literals; pgbench's client number picks the buyer, so that no two clients
// share a cart.
const limitFunctionSQL = `
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.river_job (LIKE public.river_job INCLUDING ALL);
TRUNCATE bench.river_job; -- each row starts with none of an earlier run's jobs
CREATE OR REPLACE FUNCTION bench.checkout(client int, pick0 int, pick1 int) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
	c_buyers    CONSTANT uuid[] := '%[1]s';
	c_addresses CONSTANT uuid[] := '%[2]s';
	c_products0 CONSTANT uuid[] := '%[3]s';
	c_products1 CONSTANT uuid[] := '%[4]s';
	c_variants0 CONSTANT uuid[] := '%[5]s';
	c_variants1 CONSTANT uuid[] := '%[6]s';
	v_buyer     uuid := c_buyers[client %% cardinality(c_buyers) + 1];
	v_address   uuid := c_addresses[client %% cardinality(c_addresses) + 1];
	v_checkout  uuid := gen_random_uuid();
	v_now       timestamptz := now();
	v_addr      users.addresses;
	v_addr_json jsonb;
	v_product   uuid;
	v_snap      record;
	v_fill      record;
	v_line      record;
	v_vars      uuid[];
	v_qtys      int[];
	v_shops     uuid[];
	v_prices    bigint[];
	v_titles    text[];
	v_names     text[];
	v_skus      text[];
	v_weights   bigint[];
	v_products  uuid[];
	v_order_ids uuid[];
	v_order_shops uuid[];
	v_order_totals bigint[];
	v_events    jsonb := '[]';
	v_taken     int;
	i           int;
BEGIN
	-- The cart refill: the statements of the buyer's two POST /cart/items.
	FOREACH v_product IN ARRAY ARRAY[c_products0[pick0 + 1], c_products1[pick1 + 1]] LOOP
		-- ProductVariantSnapshots.
		SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
		       p.title, p.currency, p.weight_grams, p.listed,
		       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
		       p.discount_starts_at, p.discount_ends_at
		INTO v_snap
		FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
		WHERE v.product_id = v_product AND p.deleted_at IS NULL
		ORDER BY v.created_at, v.id
		LIMIT 2;
		-- LockCart.
		PERFORM pg_advisory_xact_lock(hashtextextended('cart.items:' || v_buyer::text, 0));
		-- Fill.
		SELECT count(*) AS lines, coalesce(array_agg(variant_id) FILTER (WHERE product_id = v_product), '{}')::uuid[] AS variant_ids,
		       coalesce(array_agg(quantity) FILTER (WHERE product_id = v_product), '{}')::int[] AS quantities
		INTO v_fill
		FROM cart.items WHERE user_id = v_buyer;
		-- AddItem.
		INSERT INTO cart.items (user_id, variant_id, product_id, shop_id, quantity)
		VALUES (v_buyer, v_snap.variant_id, v_snap.product_id, v_snap.shop_id, 1)
		ON CONFLICT (user_id, variant_id) DO UPDATE SET quantity = cart.items.quantity + EXCLUDED.quantity, updated_at = now()
		RETURNING id, user_id, variant_id, product_id, shop_id, quantity, created_at, updated_at INTO v_line;
		-- RecordCartAdd.
		INSERT INTO search.cart_adds (event_id, user_id, product_id, shop_id, quantity, at)
		VALUES (gen_random_uuid()::text, v_buyer, v_snap.product_id, v_snap.shop_id, 1, v_now)
		ON CONFLICT (event_id) DO NOTHING;
		-- ActiveCampaignItems.
		PERFORM i.campaign_id, i.variant_id, i.product_id, i.campaign_price, i.regular_price, i.campaign_stock, i.sold, c.ends_at
		FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
		WHERE i.variant_id = ANY (ARRAY[v_snap.variant_id]) AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at;
	END LOOP;

	-- GetAddress.
	SELECT * INTO STRICT v_addr FROM users.addresses WHERE id = v_address AND user_id = v_buyer;
	v_addr_json := jsonb_build_object('id', v_addr.id, 'recipient_name', v_addr.recipient_name, 'phone', v_addr.phone,
		'line1', v_addr.line1, 'ward', v_addr.ward, 'district', v_addr.district, 'province', v_addr.province,
		'country', v_addr.country, 'lat', v_addr.lat, 'lng', v_addr.lng, 'is_default', v_addr.is_default);
	-- ItemsForUpdate.
	SELECT array_agg(variant_id ORDER BY created_at, id), array_agg(quantity ORDER BY created_at, id)
	INTO v_vars, v_qtys
	FROM (SELECT id, user_id, variant_id, product_id, shop_id, quantity, created_at, updated_at
	      FROM cart.items WHERE user_id = v_buyer ORDER BY created_at, id FOR UPDATE) ci;
	-- Coupons.
	PERFORM user_id, shop_id, code, applied_at FROM cart.coupons WHERE user_id = v_buyer ORDER BY shop_id;
	-- VariantSnapshots, each matched to its line as GoShop does in Go, under its generic plan as
	-- GoShop runs it.
	PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
	FOR v_snap IN
		SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
		       p.title, p.currency, p.weight_grams, p.listed,
		       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
		       p.discount_starts_at, p.discount_ends_at
		FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
		WHERE v.id = ANY (v_vars)
	LOOP
		i := array_position(v_vars, v_snap.variant_id);
		v_shops[i] := v_snap.shop_id;
		v_prices[i] := v_snap.price;
		v_titles[i] := v_snap.title;
		v_names[i] := v_snap.variant_name;
		v_skus[i] := v_snap.sku;
		v_weights[i] := v_snap.weight_grams;
		v_products[i] := v_snap.product_id;
	END LOOP;
	PERFORM set_config('plan_cache_mode', 'auto', true);
	-- ActiveCampaignItems.
	PERFORM i.campaign_id, i.variant_id, i.product_id, i.campaign_price, i.regular_price, i.campaign_stock, i.sold, c.ends_at
	FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
	WHERE i.variant_id = ANY (v_vars) AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at;
	-- GetShops.
	PERFORM * FROM shop.shops WHERE id = ANY (v_shops) AND status <> 'deleted';

	-- CreateOrders: one a shop.
	WITH o AS (
		SELECT gen_random_uuid() AS id, x.shop_id, sum(x.price * x.qty)::bigint AS subtotal, sum(x.weight * x.qty)::bigint AS weight
		FROM unnest(v_shops, v_prices, v_qtys, v_weights) AS x(shop_id, price, qty, weight)
		GROUP BY x.shop_id
	), ins AS (
		INSERT INTO orders.orders (id, checkout_id, buyer_id, shop_id, payment_method, payment_provider, shipping_method,
		    subtotal, discount, shipping_fee, tax, tax_inclusive, tax_rate_bps, total, currency, weight_grams,
		    voucher_id, voucher_code, address, note)
		SELECT o.id, v_checkout, v_buyer, o.shop_id, 'cod', NULL, 'standard', o.subtotal, 0, 15000,
		    round(o.subtotal * 1000 / 11000.0)::bigint, true, 1000, o.subtotal + 15000, 'VND', o.weight, NULL, NULL, v_addr_json, ''
		FROM o
		RETURNING *
	)
	SELECT array_agg(id), array_agg(shop_id), array_agg(total) INTO v_order_ids, v_order_shops, v_order_totals FROM ins;
	-- AddItems.
	WITH ins AS (
		INSERT INTO orders.items (id, order_id, product_id, variant_id, title, variant_name, sku, unit_price, regular_price,
		    campaign_id, quantity, line_total, weight_grams)
		SELECT gen_random_uuid(), o.id, x.product_id, x.variant_id, x.title, x.variant_name, x.sku, x.price, x.price,
		    NULL, x.qty, x.price * x.qty, x.weight
		FROM unnest(v_vars, v_products, v_shops, v_titles, v_names, v_skus, v_prices, v_qtys, v_weights)
		    AS x(variant_id, product_id, shop_id, title, variant_name, sku, price, qty, weight)
		JOIN unnest(v_order_ids, v_order_shops) AS o(id, shop_id) ON o.shop_id = x.shop_id
		RETURNING *
	)
	SELECT count(*) INTO v_taken FROM ins;
	-- AddPlacedHistory.
	INSERT INTO orders.status_history (order_id, to_status, actor_id, actor_role, reason)
	SELECT unnest(v_order_ids), 'pending', v_buyer, 'buyer', 'order placed';
	-- Clear and ClearCoupons.
	DELETE FROM cart.items WHERE user_id = v_buyer;
	DELETE FROM cart.coupons WHERE user_id = v_buyer;

	-- ReserveStock, last: the rows locked in variant order, each taken only while enough is left;
	-- under its generic plan, as GoShop runs it (pgdb.QueueGeneric's set_config on either side).
	PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
	WITH want AS (
		SELECT unnest(v_vars) AS id, unnest(v_qtys) AS qty
	), locked AS (
		SELECT v.id FROM catalog.variants v WHERE v.id IN (SELECT id FROM want) ORDER BY v.id FOR UPDATE
	), upd AS (
		UPDATE catalog.variants v SET stock = v.stock - w.qty, updated_at = now()
		FROM want w, locked l, catalog.products p
		WHERE v.id = w.id AND l.id = w.id AND p.id = v.product_id AND v.stock >= w.qty
		RETURNING v.id, v.product_id, v.shop_id, v.sku, v.stock, w.qty, p.low_stock_threshold
	), moved AS (
		INSERT INTO catalog.stock_movements (variant_id, product_id, kind, delta, stock_after, reason)
		SELECT upd.id, upd.product_id, 'reservation', -upd.qty, upd.stock, 'checkout' FROM upd
		RETURNING variant_id, created_at
	), taken AS (
		SELECT upd.id, upd.product_id, upd.shop_id, upd.stock, upd.qty::int AS qty FROM upd JOIN moved ON moved.variant_id = upd.id
	)
	SELECT count(*), coalesce(jsonb_agg(jsonb_build_object('envelope', jsonb_build_object('id', gen_random_uuid(),
		'topic', 'inventory.stock_changed', 'occurred_at', v_now, 'payload', jsonb_build_object('at', v_now,
		'kind', 'reservation', 'delta', -taken.qty, 'stock', taken.stock, 'shop_id', taken.shop_id,
		'product_id', taken.product_id, 'variant_id', taken.id)), 'subscribers', jsonb_build_array('search.sales_and_stock'))), '[]')
	INTO v_taken, v_events
	FROM taken;
	PERFORM set_config('plan_cache_mode', 'auto', true);
	IF v_taken <> cardinality(v_vars) THEN
		RAISE EXCEPTION 'insufficient stock';
	END IF;

	-- River's insert of the job that carries the checkout's events to their subscribers.
	SELECT jsonb_agg(jsonb_build_object('envelope', jsonb_build_object('id', gen_random_uuid(), 'topic', 'order.placed',
		'occurred_at', v_now, 'payload', jsonb_build_object('at', v_now, 'total', o.total, 'shop_id', o.shop_id,
		'buyer_id', v_buyer, 'currency', 'VND', 'order_id', o.id, 'checkout_id', v_checkout, 'payment_method', 'cod',
		'lines', (SELECT jsonb_agg(jsonb_build_object('quantity', x.qty, 'product_id', x.product_id, 'unit_price', x.price,
			'variant_id', x.variant_id)) FROM unnest(v_vars, v_products, v_shops, v_prices, v_qtys)
			AS x(variant_id, product_id, shop_id, price, qty) WHERE x.shop_id = o.shop_id))),
		'subscribers', jsonb_build_array('search.sales_and_stock', 'notify.order_placed', 'analytics.order_placed'))) || v_events
	INTO v_events
	FROM unnest(v_order_ids, v_order_shops, v_order_totals) AS o(id, shop_id, total);
	INSERT INTO bench.river_job (args, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags)
	VALUES (jsonb_build_object('events', v_events), 'event_batch', 25, '{}', 1, 'default', v_now, 'available', '{}');
	RETURN cardinality(v_order_ids);
END
$fn$`

// limitScript is pgbench's transaction: one call, for the client's own buyer and a random
// product of each shop, as the checkout row's buyers pick them.
var limitScript = fmt.Sprintf(`\set pick0 random(0, %[1]d)
\set pick1 random(0, %[1]d)
SELECT bench.checkout(:client_id, :pick0, :pick1);
`, checkoutProducts-1)

// installLimitFunction creates bench.checkout for the fixture fx in the database r.pool reads.
func (r *runner) installLimitFunction(ctx context.Context, fx *checkoutFixture) error {
	var buyers, addresses []string
	for _, b := range fx.buyers {
		buyers, addresses = append(buyers, b.userID), append(addresses, b.addressID)
	}
	var products, variants [2][]string
	for i, ps := range fx.shops {
		for _, p := range ps {
			products[i], variants[i] = append(products[i], p.id), append(variants[i], p.variantID)
		}
	}
	lits := make([]any, 0, 6)
	for _, ids := range [][]string{buyers, addresses, products[0], products[1], variants[0], variants[1]} {
		lit, err := uuidArray(ids)
		if err != nil {
			return err
		}
		lits = append(lits, lit)
	}
	if _, err := r.pool.Exec(ctx, fmt.Sprintf(limitFunctionSQL, lits...)); err != nil {
		return fmt.Errorf("bench: create bench.checkout: %w", err)
	}
	return nil
}

// uuidArray writes ids as a PostgreSQL array literal, refusing anything but UUIDs (they are
// pasted into SQL).
func uuidArray(ids []string) (string, error) {
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			return "", fmt.Errorf("bench: %q is not a UUID", id)
		}
	}
	return "{" + strings.Join(ids, ",") + "}", nil
}

// checkoutLimit runs the checkout row's statements with pgbench, one function call a
// transaction, with as many clients as the row has buyers, for as long.
func (r *runner) checkoutLimit(ctx context.Context) (stats, error) {
	fx := r.f.checkout
	if err := r.installLimitFunction(ctx, fx); err != nil {
		return stats{}, err
	}
	// Carts the checkout row left behind (a failed cycle) would be checked out too.
	var buyers []string
	for _, b := range fx.buyers {
		buyers = append(buyers, b.userID)
	}
	if _, err := r.pool.Exec(ctx, "DELETE FROM cart.items WHERE user_id = ANY ($1::uuid[])", buyers); err != nil {
		return stats{}, fmt.Errorf("bench: empty the buyers' carts: %w", err)
	}
	dir, err := os.MkdirTemp("", "goshop-limit-")
	if err != nil {
		return stats{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "checkout.sql")
	if err := os.WriteFile(script, []byte(limitScript), 0o600); err != nil {
		return stats{}, err
	}
	_, limitRow, _ := checkoutRows(r.o.CheckoutBuyers)
	return runPgbench(ctx, r.load.CPU, limitRow, r.o.CheckoutBuyers, r.o.Duration, r.o.DatabaseURL, "-f", script)
}

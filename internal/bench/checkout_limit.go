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
// pgbench can run them as one round trip a transaction. They were read off PostgreSQL's
// statement log (log_statement = all) of a 2-item, 2-shop, cash-on-delivery checkout:
//
//   - the cart refill, the rows of the two POST /cart/items (their reads are left out);
//   - GetAddress before the transaction; then ItemsForUpdate, Coupons, per line VariantSnapshot
//     and ActiveCampaignItem, per shop GetShop and GetAddress (the shipping fee);
//   - per shop CreateOrder, AddItem per line, AddHistory and Items;
//   - Clear and ClearCoupons of the cart;
//   - in a subtransaction (GoShop's savepoint), per line in variant order AdjustStock and
//     AddMovement.
//
// The tables are GoShop's own, in the bench database, with the checkout row's buyers and
// products, so rows, indexes and their sizes are those GoShop writes. Prices and fees are
// constants where GoShop computes them in Go: the same columns are written, not the same sums.
// When checkout's statements change, read them off the log again and change them here.
//
// %[1]s to %[4]s are the fixture's buyers, their addresses, and the variants of each shop, as
// array literals; pgbench's client number picks the buyer, so that no two clients share a cart.
const limitFunctionSQL = `
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE FUNCTION bench.checkout(client int, pick0 int, pick1 int) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
	c_buyers    CONSTANT uuid[] := '%[1]s';
	c_addresses CONSTANT uuid[] := '%[2]s';
	c_shop0     CONSTANT uuid[] := '%[3]s';
	c_shop1     CONSTANT uuid[] := '%[4]s';
	v_buyer     uuid := c_buyers[client %% cardinality(c_buyers) + 1];
	v_address   uuid := c_addresses[client %% cardinality(c_addresses) + 1];
	v_checkout  uuid := gen_random_uuid();
	v_addr      users.addresses;
	v_shop      shop.shops;
	v_order     orders.orders;
	v_snap      record;
	v_moved     record;
	v_movement  catalog.stock_movements;
	v_addr_json jsonb;
	v_variant   uuid;
	v_line_vars uuid[];
	v_line_qtys int[];
	v_products  uuid[] := '{}';
	v_shops     uuid[] := '{}';
	v_titles    text[] := '{}';
	v_names     text[] := '{}';
	v_skus      text[] := '{}';
	v_prices    bigint[] := '{}';
	v_weights   bigint[] := '{}';
	v_order_shops uuid[] := '{}';
	v_subtotal  bigint;
	v_weight    bigint;
	v_order_id  uuid;
	i           int;
	s           uuid;
BEGIN
	-- The cart refill: the rows of the buyer's two POST /cart/items.
	FOREACH v_variant IN ARRAY ARRAY[c_shop0[pick0 + 1], c_shop1[pick1 + 1]] LOOP
		INSERT INTO cart.items (user_id, variant_id, product_id, shop_id, quantity)
		SELECT v_buyer, v.id, v.product_id, v.shop_id, 1 FROM catalog.variants v WHERE v.id = v_variant
		ON CONFLICT (user_id, variant_id) DO UPDATE
		SET quantity = cart.items.quantity + EXCLUDED.quantity, updated_at = now();
	END LOOP;

	-- GetAddress.
	SELECT * INTO STRICT v_addr FROM users.addresses WHERE id = v_address AND user_id = v_buyer;
	v_addr_json := jsonb_build_object('recipient_name', v_addr.recipient_name, 'phone', v_addr.phone, 'line1', v_addr.line1,
		'ward', v_addr.ward, 'district', v_addr.district, 'province', v_addr.province, 'country', v_addr.country);
	-- ItemsForUpdate.
	SELECT array_agg(variant_id ORDER BY created_at, id), array_agg(quantity ORDER BY created_at, id)
	INTO v_line_vars, v_line_qtys
	FROM (SELECT * FROM cart.items WHERE user_id = v_buyer ORDER BY created_at, id FOR UPDATE) ci;
	-- Coupons.
	PERFORM user_id, shop_id, code, applied_at FROM cart.coupons WHERE user_id = v_buyer ORDER BY shop_id;
	FOR i IN 1 .. cardinality(v_line_vars) LOOP
		-- VariantSnapshot.
		SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
		       p.title, p.currency, p.weight_grams, p.listed,
		       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
		       p.discount_starts_at, p.discount_ends_at
		INTO STRICT v_snap
		FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
		WHERE v.id = v_line_vars[i];
		-- ActiveCampaignItem.
		PERFORM ci.*, c.ends_at FROM shop.campaign_items ci JOIN shop.campaigns c ON c.id = ci.campaign_id
		WHERE ci.variant_id = v_line_vars[i] AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at
		LIMIT 1;
		v_products := v_products || v_snap.product_id;
		v_shops := v_shops || v_snap.shop_id;
		v_titles := v_titles || v_snap.title;
		v_names := v_names || v_snap.variant_name;
		v_skus := v_skus || v_snap.sku;
		v_prices := v_prices || v_snap.price;
		v_weights := v_weights || v_snap.weight_grams::bigint;
		IF NOT v_snap.shop_id = ANY (v_order_shops) THEN
			v_order_shops := v_order_shops || v_snap.shop_id;
		END IF;
	END LOOP;
	-- GetShop and GetAddress, per shop.
	FOREACH s IN ARRAY v_order_shops LOOP
		SELECT * INTO STRICT v_shop FROM shop.shops WHERE id = s AND status <> 'deleted';
		PERFORM * FROM users.addresses WHERE id = v_address AND user_id = v_buyer;
	END LOOP;

	FOREACH s IN ARRAY v_order_shops LOOP
		v_subtotal := 0;
		v_weight := 0;
		FOR i IN 1 .. cardinality(v_line_vars) LOOP
			IF v_shops[i] = s THEN
				v_subtotal := v_subtotal + v_prices[i] * v_line_qtys[i];
				v_weight := v_weight + v_weights[i] * v_line_qtys[i];
			END IF;
		END LOOP;
		v_order_id := gen_random_uuid();
		-- CreateOrder.
		INSERT INTO orders.orders (id, checkout_id, buyer_id, shop_id, payment_method, payment_provider, shipping_method,
		    subtotal, discount, shipping_fee, tax, tax_inclusive, tax_rate_bps, total, currency, weight_grams,
		    voucher_id, voucher_code, address, note)
		VALUES (v_order_id, v_checkout, v_buyer, s, 'cod', NULL, 'standard',
		    v_subtotal, 0, 15000, round(v_subtotal * 1000 / 11000.0)::bigint, true, 1000, v_subtotal + 15000, 'VND', v_weight,
		    NULL, NULL, v_addr_json, '')
		RETURNING * INTO v_order;
		-- AddItem, per line of the shop.
		FOR i IN 1 .. cardinality(v_line_vars) LOOP
			IF v_shops[i] = s THEN
				INSERT INTO orders.items (order_id, product_id, variant_id, title, variant_name, sku, unit_price, regular_price,
				    campaign_id, quantity, line_total, weight_grams)
				VALUES (v_order_id, v_products[i], v_line_vars[i], v_titles[i], v_names[i], v_skus[i], v_prices[i], v_prices[i],
				    NULL, v_line_qtys[i], v_prices[i] * v_line_qtys[i], v_weights[i]);
			END IF;
		END LOOP;
		-- AddHistory.
		INSERT INTO orders.status_history (order_id, from_status, to_status, actor_id, actor_role, reason)
		VALUES (v_order_id, NULL, 'pending', v_buyer, 'buyer', 'order placed');
		-- Items.
		PERFORM * FROM orders.items WHERE order_id = v_order_id ORDER BY title, id;
	END LOOP;

	-- Clear and ClearCoupons.
	DELETE FROM cart.items WHERE user_id = v_buyer;
	DELETE FROM cart.coupons WHERE user_id = v_buyer;

	-- The stock, last, in variant order, in a subtransaction as GoShop's savepoint makes one.
	BEGIN
		FOR i IN SELECT t.n FROM unnest(v_line_vars) WITH ORDINALITY AS t(v, n) ORDER BY t.v LOOP
			-- AdjustStock.
			UPDATE catalog.variants v
			SET stock = v.stock - v_line_qtys[i], updated_at = now()
			FROM catalog.products p
			WHERE v.id = v_line_vars[i] AND p.id = v.product_id AND v.stock - v_line_qtys[i] >= 0
			RETURNING v.stock, v.product_id, v.shop_id, v.sku, v.name, p.low_stock_threshold INTO v_moved;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'insufficient stock of variant %%', v_line_vars[i];
			END IF;
			-- AddMovement.
			INSERT INTO catalog.stock_movements (variant_id, product_id, kind, delta, stock_after, reason, actor_id)
			VALUES (v_line_vars[i], v_moved.product_id, 'reservation', -v_line_qtys[i], v_moved.stock, 'checkout', NULL)
			RETURNING * INTO v_movement;
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		RAISE;
	END;
	RETURN cardinality(v_order_shops);
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
	var shops [2][]string
	for i, ps := range fx.shops {
		for _, p := range ps {
			shops[i] = append(shops[i], p.variantID)
		}
	}
	lits := make([]any, 0, 4)
	for _, ids := range [][]string{buyers, addresses, shops[0], shops[1]} {
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

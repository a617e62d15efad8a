package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/shop"
)

// The adapters below let one context use another through the small interface it declares,
// without either importing the other.

// shopDirectory answers the catalog's questions about shops from the shop context.
type shopDirectory struct{ shops *shop.Service }

// ShopOwner returns a live shop's owner and whether it is active; a missing or deleted shop is
// not found.
func (d shopDirectory) ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, bool, error) {
	info, err := d.shops.Info(ctx, shopID)
	if err != nil {
		return uuid.Nil, false, err
	}
	return info.OwnerID, info.Active(), nil
}

// lazyCatalog hands the shop context, which is built before the catalog, the catalog it will
// call once both exist.
type lazyCatalog struct{ a *App }

// ProductShop returns the shop a live product belongs to.
func (c lazyCatalog) ProductShop(ctx context.Context, productID uuid.UUID) (uuid.UUID, error) {
	return c.a.Catalog.ProductShop(ctx, productID)
}

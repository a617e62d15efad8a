package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/config"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/shop"
)

// seedOwner owns the seeded shops. No account has this ID, so nobody can sign in as their
// owner; admins manage them like any shop.
var seedOwner = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://goshop.dev/seed-owner"))

// seedCities spread the seeded shops over Vietnam's three largest cities.
var seedCities = []struct {
	province string
	lat, lng float64
}{{"Hồ Chí Minh", 10.7769, 106.7009}, {"Hà Nội", 21.0285, 105.8542}, {"Đà Nẵng", 16.0544, 108.2022}}

// seed is `goshop seed`: shops, then the catalog's categories and products, each topped up to
// the numbers asked for; or, with -demo, the demo marketplace (seed_demo.go).
func seed(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	products := fs.Int("products", 100000, "how many products the catalog should hold")
	shops := fs.Int("shops", 50, "how many seeded shops to spread them over")
	reviews := fs.Int("reviews", 0, "how many published reviews the most reviewed product should hold (benchmarks)")
	demo := fs.Bool("demo", false, "make a small demo marketplace with known sign-ins instead (development only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *demo {
		return seedDemoCmd(ctx, cfg, log, fs, stdout)
	}
	if *products < 0 || *shops < 1 || *reviews < 0 || fs.NArg() > 0 {
		return errors.New("usage: goshop seed [-products N] [-shops S] [-reviews R], N >= 0, S >= 1, R >= 0")
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	ids, err := seedShops(ctx, a.Shops, *shops)
	if err != nil {
		return err
	}
	added, err := a.Catalog.Seed(ctx, seedOwner, ids, *products)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded: %d shops, %d products added\n", len(ids), added)
	if *reviews > 0 {
		pid, n, err := seedReviews(ctx, a, ids[0], *reviews)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "seeded: %d reviews added to product %s\n", n, pid)
	}
	if added > 0 {
		// Seeded rows publish no events: the search read model is rebuilt over them.
		n, err := a.Search.Reindex(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "search: %d products indexed\n", n)
	}
	return nil
}

// seedDemoCmd is `goshop seed -demo`: the demo marketplace alone, never in production, where
// accounts with a published password have no place.
func seedDemoCmd(ctx context.Context, cfg config.Config, log *slog.Logger, fs *flag.FlagSet, stdout io.Writer) error {
	var other []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "demo" {
			other = append(other, "-"+f.Name)
		}
	})
	if len(other) > 0 || fs.NArg() > 0 {
		return fmt.Errorf("usage: goshop seed -demo (alone; not with %v %v)", other, fs.Args())
	}
	if cfg.Production() {
		return errors.New("seed -demo makes accounts with a published password: refused with APP_ENV=production")
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	return seedDemo(ctx, a, stdout)
}

// searchCmd is `goshop search reindex`: the read model rebuilt from the catalog.
func searchCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "reindex" {
		return errors.New("usage: goshop search reindex")
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Search.Reindex(ctx, func(done int) {
		if done%10000 == 0 {
			fmt.Fprintf(stdout, "search: %d products indexed\n", done)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "search: reindexed, %d products\n", n)
	return nil
}

// seedReviews tops up the reviews of the most reviewed product, or of the first seeded shop's
// newest product when none has any.
func seedReviews(ctx context.Context, a *App, shopID uuid.UUID, n int) (uuid.UUID, int, error) {
	pid, ok, err := a.Reviews.MostReviewedProduct(ctx)
	if err != nil {
		return uuid.Nil, 0, err
	}
	if !ok {
		l, err := a.Catalog.ShopProducts(ctx, nil, shopID, "", httpx.Page{Limit: 1})
		if err != nil {
			return uuid.Nil, 0, err
		}
		if len(l.Items) == 0 {
			return uuid.Nil, 0, errors.New("seed: no product to review: seed products first")
		}
		pid = l.Items[0].ID
	}
	p, err := a.Catalog.Get(ctx, nil, pid)
	if err != nil {
		return uuid.Nil, 0, err
	}
	if len(p.Variants) == 0 {
		return uuid.Nil, 0, fmt.Errorf("seed: product %s has no variant", pid)
	}
	added, err := a.Reviews.SeedProductReviews(ctx, pid, p.Variants[0].ID, p.ShopID, n)
	return pid, added, err
}

// seedShops returns n shops of the seed owner, opening those that are missing.
func seedShops(ctx context.Context, shops *shop.Service, n int) ([]uuid.UUID, error) {
	owner := seedOwner
	var ids []uuid.UUID
	page := httpx.Page{Limit: httpx.MaxLimit}
	for len(ids) < n {
		l, err := shops.List(ctx, &owner, page)
		if err != nil {
			return nil, err
		}
		for _, s := range l.Items {
			ids = append(ids, s.ID)
		}
		if l.NextCursor == "" {
			break
		}
		page.Cursor = l.NextCursor
	}
	for i := len(ids); i < n; i++ {
		c := seedCities[i%len(seedCities)]
		lat, lng := c.lat+float64(i%10)*0.01, c.lng+float64(i/10%10)*0.01
		s, err := shops.Create(ctx, auth.Principal{UserID: owner}, shop.ShopInput{
			Name: fmt.Sprintf("Cửa hàng mẫu %d", i+1), Description: "Seeded for benchmarks and demos",
			Address: shop.Address{Line1: fmt.Sprintf("%d Đường Mẫu", i+1), Province: c.province, Country: "VN"},
			Lat:     &lat, Lng: &lng,
		})
		if err != nil {
			return nil, err
		}
		ids = append(ids, s.ID)
	}
	return ids[:n], nil
}

// analyticsCmd runs `goshop analytics rebuild`: the analytics read model made again from the
// order and payment contexts, in one transaction, and the time it took.
func analyticsCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "rebuild" {
		return errors.New("usage: goshop analytics rebuild")
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	n, err := a.Analytics.Rebuild(ctx, func(done int) {
		if done%10000 == 0 {
			fmt.Fprintf(stdout, "analytics: %d orders read\n", done)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "analytics: rebuilt from %d orders in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

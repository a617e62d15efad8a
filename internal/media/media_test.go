package media_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/media"
)

func TestImageUploadIsReencodedWithThumbnails(t *testing.T) {
	t.Parallel()
	f := setup(t)
	env := f.env

	res := f.upload(t, f.owner.AccessToken, f.product, "IMG_0001.JPG", jpegWithEXIF(t, picture(1200, 800, false)),
		"alt", "Áo thun trắng, mặt trước")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	it := res.Map(t)
	assert.Equal(t, "image", it["kind"])
	assert.EqualValues(t, 1200, it["width"])
	assert.EqualValues(t, 800, it["height"])
	assert.Equal(t, "Áo thun trắng, mặt trước", it["alt"])
	assert.Equal(t, true, it["is_primary"], "the first image is the primary one")
	url := it["url"].(string)
	assert.True(t, strings.HasPrefix(url, "/media/") && strings.HasSuffix(url, "/original.jpg"), url)
	var widths []float64
	for _, th := range it["thumbnails"].([]any) {
		widths = append(widths, th.(map[string]any)["width"].(float64))
	}
	assert.Equal(t, []float64{160, 480, 960}, widths)

	t.Run("the stored file is served with an ETag and long caching, and keeps no EXIF", func(t *testing.T) {
		got := env.Get(t, "/"+url, "")
		require.Equal(t, http.StatusOK, got.Status)
		assert.Equal(t, "image/jpeg", got.Header.Get("Content-Type"))
		assert.Contains(t, got.Header.Get("Cache-Control"), "max-age=31536000")
		etag := got.Header.Get("ETag")
		require.NotEmpty(t, etag)
		assert.NotContains(t, string(got.Body), "Exif")
		assert.NotContains(t, string(got.Body), secret)
		cfg, format, err := image.DecodeConfig(bytes.NewReader(got.Body))
		require.NoError(t, err)
		assert.Equal(t, "jpeg", format)
		assert.Equal(t, 1200, cfg.Width)
		again := env.Do(t, apptest.Req{Method: http.MethodGet, Path: "/" + url, Header: map[string]string{"If-None-Match": etag}})
		assert.Equal(t, http.StatusNotModified, again.Status)
		for _, p := range f.files(t) {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.NotContains(t, string(b), secret, p)
		}
		th := it["thumbnails"].([]any)[0].(map[string]any)["url"].(string)
		got = env.Get(t, "/"+th, "")
		require.Equal(t, http.StatusOK, got.Status)
		cfg, _, err = image.DecodeConfig(bytes.NewReader(got.Body))
		require.NoError(t, err)
		assert.Equal(t, 160, cfg.Width)
		assert.Equal(t, 107, cfg.Height)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "//media/"+uuid.NewString()+"/original.jpg", "").Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "//media/"+it["id"].(string)+"/..%2f..%2fetc%2fpasswd", "").Status)
	})

	t.Run("the product lists its media, alone and in lists", func(t *testing.T) {
		p := env.Get(t, "/products/"+f.product, "").Map(t)
		require.Len(t, p["media"], 1)
		assert.Equal(t, it["id"], p["media"].([]any)[0].(map[string]any)["id"])
		list := env.Get(t, "/shops/"+f.shop+"/products", "").Map(t)
		require.Len(t, list["items"], 1)
		assert.Len(t, list["items"].([]any)[0].(map[string]any)["media"], 1)
	})

	t.Run("transparency is kept as PNG; WebP is read", func(t *testing.T) {
		res := f.upload(t, f.owner.AccessToken, f.product, "logo.png", pngOf(t, picture(300, 200, true)))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		assert.True(t, strings.HasSuffix(m["url"].(string), "/original.png"), m["url"])
		assert.Equal(t, false, m["is_primary"])
		got := env.Get(t, "/"+m["url"].(string), "")
		assert.Equal(t, "image/png", got.Header.Get("Content-Type"))
		img, err := png.Decode(bytes.NewReader(got.Body))
		require.NoError(t, err)
		_, _, _, a := img.At(0, 0).RGBA()
		assert.Less(t, a, uint32(0xffff), "the transparent half stays transparent")

		res = f.upload(t, f.owner.AccessToken, f.product, "tiny.webp", fixtureFile(t, "tiny.webp"))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m = res.Map(t)
		assert.EqualValues(t, 40, m["width"])
		assert.True(t, strings.HasSuffix(m["url"].(string), "/original.jpg"), "an opaque WebP is stored as JPEG")
		assert.Empty(t, m["thumbnails"], "an image narrower than every thumbnail width gets none")
	})
}

func TestBadUploadsAreRefusedAndStoreNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_IMAGE_MAX_BYTES", "200000"))
	full := jpegOf(t, picture(400, 300, false), 90)
	cases := []struct {
		name, filename string
		data           []byte
		status         int
		says           string
	}{
		{"a GIF", "anim.gif", gifOf(t), http.StatusUnprocessableEntity, "image/gif"},
		{"a GIF named .jpg", "photo.jpg", gifOf(t), http.StatusUnprocessableEntity, "image/gif"},
		{"a PNG with a lying extension", "photo.jpg", pngOf(t, picture(50, 50, false)), http.StatusUnprocessableEntity, "image/png"},
		{"a truncated JPEG", "photo.jpg", full[:len(full)/2], http.StatusUnprocessableEntity, "damaged"},
		{"a crafted 20000×20000 header", "big.png", bombPNG(t, 20000, 20000), http.StatusUnprocessableEntity, "20000×20000"},
		{"a zip named .jpg", "photo.jpg", zipOf(t), http.StatusUnprocessableEntity, "application/zip"},
		{"text", "notes.txt", []byte("hello, this is not an image"), http.StatusUnprocessableEntity, "text/plain"},
		{"an empty file", "empty.jpg", nil, http.StatusUnprocessableEntity, "must be"},
		{"an image over the size limit", "huge.jpg", jpegOf(t, noise(900, 900), 100), http.StatusRequestEntityTooLarge, "at most 200000 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.upload(t, f.owner.AccessToken, f.product, c.filename, c.data)
			require.Equal(t, c.status, res.Status, "%s", res.Body)
			assert.Contains(t, string(res.Body), c.says)
		})
	}
	t.Run("a body that is not multipart, and a form without a file", func(t *testing.T) {
		res := f.env.Post(t, "/products/"+f.product+"/media", f.owner.AccessToken, map[string]any{"file": "x"})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		body, ct := form(t, "x.jpg", nil)
		body = bytes.Replace(body, []byte(`name="file"`), []byte(`name="other"`), 1)
		res = f.env.Do(t, apptest.Req{Method: http.MethodPost, Path: "/products/" + f.product + "/media", Token: f.owner.AccessToken,
			Body: body, Header: map[string]string{"Content-Type": ct}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = f.upload(t, f.owner.AccessToken, f.product, "a.jpg", full, "position", "first")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = f.upload(t, f.owner.AccessToken, f.product, "a.jpg", full, "alt", "a\x00b")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})
	assert.Empty(t, f.files(t), "nothing stored")
	assert.Zero(t, f.rows(t), "no row left")
	assert.Empty(t, f.env.Get(t, "/products/"+f.product, "").Map(t)["media"])
}

// noise is an image JPEG cannot compress much.
func noise(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	return img
}

func TestOnlyTheShopOwnerChangesProductMedia(t *testing.T) {
	t.Parallel()
	f := setup(t)
	env := f.env
	img := jpegOf(t, picture(200, 100, false), 80)
	res := f.upload(t, f.other.AccessToken, f.product, "a.jpg", img)
	assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusUnauthorized, f.upload(t, "", f.product, "a.jpg", img).Status)
	assert.Equal(t, http.StatusNotFound, f.upload(t, f.owner.AccessToken, uuid.NewString(), "a.jpg", img).Status)

	first := f.upload(t, f.owner.AccessToken, f.product, "a.jpg", img).Map(t)
	second := f.upload(t, f.owner.AccessToken, f.product, "b.jpg", img, "position", "0", "is_primary", "true").Map(t)
	assert.Equal(t, true, second["is_primary"])

	// Another shop's product, with media of its own.
	otherShop := env.CreateShop(t, f.other, "Other Shop")
	otherProduct := env.CreateProduct(t, f.other, otherShop, "Quần", 100_000, 5).ID
	theirs := f.upload(t, f.other.AccessToken, otherProduct, "c.jpg", img).Map(t)

	path := func(product string, m map[string]any) string {
		return "/products/" + product + "/media/" + m["id"].(string)
	}
	assert.Equal(t, http.StatusForbidden, env.Delete(t, path(f.product, first), f.other.AccessToken).Status)
	assert.Equal(t, http.StatusForbidden, env.Put(t, path(f.product, first), f.other.AccessToken, map[string]any{"alt": "x"}).Status)
	// Their media through the owner's product: not the product's.
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/products/"+f.product+"/media/"+theirs["id"].(string), f.owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/products/"+f.product+"/media/"+theirs["id"].(string), f.owner.AccessToken,
		map[string]any{"alt": "x"}).Status)

	t.Run("order and primary", func(t *testing.T) {
		media := env.Get(t, "/products/"+f.product, "").Map(t)["media"].([]any)
		require.Len(t, media, 2)
		assert.Equal(t, second["id"], media[0].(map[string]any)["id"], "position 0 comes first")
		assert.Equal(t, false, media[1].(map[string]any)["is_primary"], "one primary only")

		res := env.Put(t, path(f.product, first), f.owner.AccessToken, map[string]any{"is_primary": true, "position": 0, "alt": "Mặt sau"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "Mặt sau", res.Map(t)["alt"])
		res = env.Put(t, path(f.product, second), f.owner.AccessToken, map[string]any{"position": 5})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		media = env.Get(t, "/products/"+f.product, "").Map(t)["media"].([]any)
		assert.Equal(t, first["id"], media[0].(map[string]any)["id"])
		assert.Equal(t, true, media[0].(map[string]any)["is_primary"])
		assert.Equal(t, false, media[1].(map[string]any)["is_primary"])
		assert.Equal(t, http.StatusUnprocessableEntity, env.Put(t, path(f.product, first), f.owner.AccessToken,
			map[string]any{"is_primary": false}).Status, "the primary image is replaced, not unset")

		// Deleting the primary image makes the first one left primary.
		require.Equal(t, http.StatusNoContent, env.Delete(t, path(f.product, first), f.owner.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Delete(t, path(f.product, first), f.owner.AccessToken).Status)
		media = env.Get(t, "/products/"+f.product, "").Map(t)["media"].([]any)
		require.Len(t, media, 1)
		assert.Equal(t, true, media[0].(map[string]any)["is_primary"])
		// Its files are purged by a job.
		apptest.Eventually(t, func() bool {
			_, err := os.Stat(f.dir + "/" + first["id"].(string))
			return os.IsNotExist(err)
		}, "the deleted image's files are removed")
	})
}

func TestVideosAreKeptWithDurationAndPoster(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ffprobe, _ := f.env.App.Media.VideoTools()
	for _, name := range []string{"tiny.mp4", "tiny.webm"} {
		t.Run(name, func(t *testing.T) {
			res := f.upload(t, f.owner.AccessToken, f.product, name, fixtureFile(t, name))
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			m := res.Map(t)
			assert.Equal(t, "video", m["kind"])
			assert.Equal(t, false, m["is_primary"])
			assert.True(t, strings.HasSuffix(m["url"].(string), name[strings.LastIndex(name, "."):]), m["url"])
			got := f.env.Get(t, "/"+m["url"].(string), "")
			require.Equal(t, http.StatusOK, got.Status)
			assert.Equal(t, fixtureFile(t, name), got.Body, "videos are stored as sent")
			if !ffprobe {
				assert.Nil(t, m["duration_ms"], "without ffprobe a video has no duration")
			}
			f.env.NeedVideoTools(t)
			assert.InDelta(t, 1500, m["duration_ms"], 100)
			assert.EqualValues(t, 64, m["width"])
			assert.EqualValues(t, 48, m["height"])
			poster := f.env.Poster(t, "/products/"+f.product, m["id"].(string))
			got = f.env.Get(t, "/"+poster, "")
			require.Equal(t, http.StatusOK, got.Status)
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(got.Body))
			require.NoError(t, err)
			assert.Equal(t, 64, cfg.Width, "the poster is a frame of the video")
		})
	}
	t.Run("a video cannot be the primary image, nor a broken one be kept", func(t *testing.T) {
		res := f.upload(t, f.owner.AccessToken, f.product, "v.mp4", fixtureFile(t, "tiny.mp4"), "is_primary", "true")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		f.env.NeedVideoTools(t)
		mp4 := fixtureFile(t, "tiny.mp4")
		res = f.upload(t, f.owner.AccessToken, f.product, "v.mp4", mp4[:64])
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "ffprobe finds no video in a cut one: %s", res.Body)
	})
}

func TestDeletedProductsLoseTheirFilesAfterTheGracePeriod(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_DELETE_GRACE", "1s"))
	img := jpegOf(t, picture(500, 400, false), 80)
	for range 2 {
		require.Equal(t, http.StatusCreated, f.upload(t, f.owner.AccessToken, f.product, "a.jpg", img).Status)
	}
	require.NotEmpty(t, f.files(t))
	require.Equal(t, http.StatusNoContent, f.env.Delete(t, "/products/"+f.product, f.owner.AccessToken).Status)
	apptest.Eventually(t, func() bool { return len(f.files(t)) == 0 && f.rows(t) == 0 }, "the files and rows are purged")

	// The same again changes nothing (the purge and the delete are idempotent).
	ctx := context.Background()
	require.NoError(t, f.env.App.Media.DeleteAll(ctx, media.Owner{Kind: events.MediaOwnerProduct, ID: uuid.MustParse(f.product)}))
	n, err := f.env.App.Media.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestGracePeriodKeepsFilesMeanwhile(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_DELETE_GRACE", "1h"))
	require.Equal(t, http.StatusCreated, f.upload(t, f.owner.AccessToken, f.product, "a.jpg", jpegOf(t, picture(200, 200, false), 80)).Status)
	ctx := context.Background()
	owner := media.Owner{Kind: events.MediaOwnerProduct, ID: uuid.MustParse(f.product)}
	require.NoError(t, f.env.App.Media.DeleteAll(ctx, owner))
	items, err := f.env.App.Media.List(ctx, owner)
	require.NoError(t, err)
	assert.Empty(t, items, "gone from the owner at once")
	n, err := f.env.App.Media.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "within the grace period nothing is purged")
	assert.NotEmpty(t, f.files(t))
	assert.Equal(t, 1, f.rows(t))
}

func TestUnattachedUploadsAreSweptAway(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_UNATTACHED_TTL", "1ms"))
	ctx := context.Background()
	svc := f.env.App.Media
	uploader := uuid.MustParse(f.owner.ID)
	pending := media.Owner{Kind: events.MediaOwnerReview}
	it, err := svc.Upload(ctx, pending, uploader, "a.png", bytes.NewReader(pngOf(t, picture(30, 30, false))))
	require.NoError(t, err)
	kept, err := svc.Upload(ctx, pending, uploader, "b.png", bytes.NewReader(pngOf(t, picture(30, 30, false))))
	require.NoError(t, err)
	review := uuid.New()
	owner := media.Owner{Kind: events.MediaOwnerReview, ID: review}
	assert.Error(t, svc.Attach(ctx, nil, owner, uuid.New(), []uuid.UUID{kept.ID}), "only its uploader attaches it")
	require.NoError(t, svc.Attach(ctx, nil, owner, uploader, []uuid.UUID{kept.ID}))
	require.Len(t, f.files(t), 2)

	n, err := svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	files := f.files(t)
	require.Len(t, files, 1)
	assert.Contains(t, files[0], kept.ID.String())
	assert.NotContains(t, files[0], it.ID.String())
	items, err := svc.List(ctx, owner)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, kept.ID, items[0].ID)
}

func TestMediaPerOwnerIsBounded(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_MAX_PER_OWNER", "2"))
	img := jpegOf(t, picture(100, 100, false), 80)
	for range 2 {
		require.Equal(t, http.StatusCreated, f.upload(t, f.owner.AccessToken, f.product, "a.jpg", img).Status)
	}
	res := f.upload(t, f.owner.AccessToken, f.product, "a.jpg", img)
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	assert.Equal(t, 2, f.rows(t))
}

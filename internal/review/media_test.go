package review_test

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"image/color/palette"
	"image/gif"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// mediaMarket is a market whose media files go to a directory of the test's, with a review of
// the buyer's to attach photos and videos to.
type mediaMarket struct {
	*market
	dir    string
	review string
}

func setupMedia(t *testing.T, opts ...apptest.Option) *mediaMarket {
	t.Helper()
	dir := t.TempDir()
	m := &mediaMarket{market: setup(t, append([]apptest.Option{apptest.WithEnv("MEDIA_DIR", dir)}, opts...)...), dir: dir}
	m.delivered(t, m.buyer, m.addr)
	m.review = post(t, m.env, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken,
		map[string]any{"rating": 5, "comment": "Bình đẹp, đóng gói cẩn thận"}, http.StatusCreated)["id"].(string)
	return m
}

// upload posts a file to a review's media as token.
func (m *mediaMarket) upload(t *testing.T, review, token, filename string, data []byte, fields ...string) *apptest.Response {
	t.Helper()
	return m.env.Upload(t, "/reviews/"+review+"/media", token, filename, data, fields...)
}

// files lists the files under the media directory.
func (m *mediaMarket) files(t *testing.T) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(m.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// rows counts a review's media rows, deleted ones not yet purged included.
func (m *mediaMarket) rows(t *testing.T, review string) int {
	t.Helper()
	var n int
	require.NoError(t, m.env.App.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM media.items WHERE owner_kind = 'review' AND owner_id = $1", review).Scan(&n))
	return n
}

func mediaIDs(list []any) []string {
	var out []string
	for _, it := range list {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestReviewPhotosByTheirAuthor(t *testing.T) {
	t.Parallel()
	m := setupMedia(t, apptest.WithEnv("REVIEW_MAX_MEDIA", "2"), apptest.WithEnv("MEDIA_DELETE_GRACE", "1s"))
	env := m.env
	other := env.Register(t, "Other")
	photo := apptest.JPEG(t, 600, 400)
	var first, second map[string]any
	var productPhoto string

	t.Run("the author uploads a photo; the review lists it", func(t *testing.T) {
		res := m.upload(t, m.review, m.buyer.AccessToken, "bình.jpg", photo, "alt", "Bình gốm men lam")
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		first = res.Map(t)
		assert.Equal(t, "image", first["kind"])
		assert.Equal(t, "Bình gốm men lam", first["alt"])
		assert.NotEmpty(t, first["thumbnails"], "thumbnails are made at upload")
		got := env.Get(t, "/"+first["url"].(string), "")
		require.Equal(t, http.StatusOK, got.Status)

		r := get(t, env, "/reviews/"+m.review, "")
		assert.Equal(t, []string{first["id"].(string)}, mediaIDs(r["media"].([]any)))
		listed := items(get(t, env, "/reviews/"+m.review+"/media", ""))
		require.Len(t, listed, 1, "anyone sees a published review's media")
		assert.Equal(t, first["url"], listed[0]["url"])
		page := items(get(t, env, "/products/"+m.p.ID+"/reviews", ""))
		require.Len(t, page, 1)
		assert.Equal(t, []string{first["id"].(string)}, mediaIDs(page[0]["media"].([]any)), "a page of reviews lists their media")
	})

	t.Run("nobody else changes them", func(t *testing.T) {
		for name, tok := range map[string]string{"another user": other.AccessToken, "the shop's owner": m.seller.AccessToken} {
			res := m.upload(t, m.review, tok, "a.jpg", photo)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s: %s", name, res.Body)
			res = env.Delete(t, "/reviews/"+m.review+"/media/"+first["id"].(string), tok)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s: %s", name, res.Body)
			res = env.Put(t, "/reviews/"+m.review+"/media/"+first["id"].(string), tok, map[string]any{"alt": "mine"})
			assert.Equal(t, http.StatusForbidden, res.Status, "%s: %s", name, res.Body)
		}
		assert.Equal(t, http.StatusUnauthorized, m.upload(t, m.review, "", "a.jpg", photo).Status)
		assert.Equal(t, http.StatusNotFound, m.upload(t, uuid.NewString(), m.buyer.AccessToken, "a.jpg", photo).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+uuid.NewString()+"/media", "").Status)
		// The product's own media are not the review's, nor the other way round.
		prod := env.Upload(t, "/products/"+m.p.ID+"/media", m.seller.AccessToken, "p.jpg", photo)
		require.Equal(t, http.StatusCreated, prod.Status, "%s", prod.Body)
		productPhoto = prod.Map(t)["id"].(string)
		res := env.Delete(t, "/reviews/"+m.review+"/media/"+productPhoto, m.buyer.AccessToken)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
		res = env.Delete(t, "/products/"+m.p.ID+"/media/"+first["id"].(string), m.seller.AccessToken)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
		assert.Equal(t, 1, m.rows(t, m.review))
	})

	t.Run("a held review's media are its author's to see", func(t *testing.T) {
		buyer := env.Register(t, "Held Buyer")
		m.delivered(t, buyer, env.CreateAddress(t, buyer))
		held := post(t, env, "/products/"+m.p.ID+"/reviews", buyer.AccessToken,
			map[string]any{"rating": 1, "comment": "Rẻ hơn ở zalo 0901 234 567"}, http.StatusCreated)
		require.Equal(t, "pending", held["status"])
		id := held["id"].(string)
		require.Equal(t, http.StatusCreated, m.upload(t, id, buyer.AccessToken, "a.jpg", photo).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+id+"/media", "").Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+id+"/media", other.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, m.upload(t, id, other.AccessToken, "a.jpg", photo).Status,
			"a review another user may not see is not found")
		assert.Len(t, items(get(t, env, "/reviews/"+id+"/media", buyer.AccessToken)), 1)
	})

	t.Run("bad files are refused and store nothing", func(t *testing.T) {
		before := len(m.files(t))
		full := apptest.JPEG(t, 300, 200)
		for _, c := range []struct {
			name, filename string
			data           []byte
		}{
			{"a GIF", "anim.gif", gifOf(t)},
			{"a PNG with a lying extension", "photo.jpg", pngOf(t, 40, 40)},
			{"a truncated JPEG", "photo.jpg", full[:len(full)/2]},
			{"a zip named .jpg", "photo.jpg", zipOf(t, full)},
			{"text", "notes.txt", []byte("not a photo at all")},
		} {
			res := m.upload(t, m.review, m.buyer.AccessToken, c.filename, c.data)
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", c.name, res.Body)
		}
		res := m.upload(t, m.review, m.buyer.AccessToken, "a.jpg", photo, "alt", "a\x00b")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = env.Post(t, "/reviews/"+m.review+"/media", m.buyer.AccessToken, map[string]any{"file": "x"})
		assert.Equal(t, http.StatusBadRequest, res.Status, "not multipart: %s", res.Body)
		assert.Len(t, m.files(t), before)
		assert.Equal(t, 1, m.rows(t, m.review))
	})

	t.Run("no more than REVIEW_MAX_MEDIA", func(t *testing.T) {
		res := m.upload(t, m.review, m.buyer.AccessToken, "b.png", pngOf(t, 120, 90), "position", "0")
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		second = res.Map(t)
		res = m.upload(t, m.review, m.buyer.AccessToken, "c.jpg", photo)
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		assert.Contains(t, string(res.Body), "at most 2")
		assert.Equal(t, 2, m.rows(t, m.review))
		listed := items(get(t, env, "/reviews/"+m.review+"/media", ""))
		assert.Equal(t, []any{second["id"], first["id"]}, []any{listed[0]["id"], listed[1]["id"]}, "position 0 comes first")
	})

	t.Run("the author deletes one", func(t *testing.T) {
		res := env.Delete(t, "/reviews/"+m.review+"/media/"+second["id"].(string), m.buyer.AccessToken)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		assert.Equal(t, http.StatusNotFound, env.Delete(t, "/reviews/"+m.review+"/media/"+second["id"].(string), m.buyer.AccessToken).Status)
		assert.Equal(t, []string{first["id"].(string)}, mediaIDs(get(t, env, "/reviews/"+m.review, "")["media"].([]any)))
		apptest.Eventually(t, func() bool {
			_, err := os.Stat(filepath.Join(m.dir, second["id"].(string)))
			return os.IsNotExist(err)
		}, "the deleted photo's files are removed")
		res = m.upload(t, m.review, m.buyer.AccessToken, "c.jpg", photo)
		assert.Equal(t, http.StatusCreated, res.Status, "room again: %s", res.Body)
	})

	t.Run("deleting the review purges its media after the grace period", func(t *testing.T) {
		require.NotZero(t, m.rows(t, m.review))
		ours := func() int {
			n := 0
			for _, f := range m.files(t) {
				if strings.Contains(f, first["id"].(string)) {
					n++
				}
			}
			return n
		}
		require.NotZero(t, ours())
		require.Equal(t, http.StatusNoContent, env.Delete(t, "/reviews/"+m.review, m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+m.review+"/media", m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, m.upload(t, m.review, m.buyer.AccessToken, "a.jpg", photo).Status)
		apptest.Eventually(t, func() bool { return m.rows(t, m.review) == 0 && ours() == 0 }, "the review's files and rows are purged")
		assert.Equal(t, []string{productPhoto}, mediaIDs(get(t, env, "/products/"+m.p.ID, "")["media"].([]any)),
			"the product's photo stays")
	})
}

func TestReviewMediaLimitHoldsUnderConcurrentUploads(t *testing.T) {
	t.Parallel()
	m := setupMedia(t, apptest.WithEnv("REVIEW_MAX_MEDIA", "1"), apptest.WithEnv("MEDIA_UPLOADS_PER_USER", "4"))
	photo := apptest.JPEG(t, 400, 300)
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = m.upload(t, m.review, m.buyer.AccessToken, "a.jpg", photo).Status })
	}
	wg.Wait()
	sort.Ints(statuses)
	assert.Equal(t, []int{http.StatusCreated, http.StatusConflict, http.StatusConflict, http.StatusConflict}, statuses)
	assert.Equal(t, 1, m.rows(t, m.review), "the loser's row and files are taken back")
	assert.Len(t, items(get(t, m.env, "/reviews/"+m.review+"/media", "")), 1)
}

func TestReviewVideos(t *testing.T) {
	t.Parallel()
	m := setupMedia(t)
	for _, name := range []string{"tiny.mp4", "tiny.webm"} {
		t.Run(name, func(t *testing.T) {
			video, err := os.ReadFile(filepath.Join("..", "media", "testdata", name))
			require.NoError(t, err)
			res := m.upload(t, m.review, m.buyer.AccessToken, name, video)
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			v := res.Map(t)
			assert.Equal(t, "video", v["kind"])
			assert.Contains(t, mediaIDs(get(t, m.env, "/reviews/"+m.review, "")["media"].([]any)), v["id"])
			m.env.NeedVideoTools(t)
			assert.InDelta(t, 1500, v["duration_ms"], 100, "ffprobe reads the duration")
			poster := m.env.Poster(t, "/reviews/"+m.review, v["id"].(string))
			assert.Equal(t, http.StatusOK, m.env.Get(t, "/"+poster, "").Status)
		})
	}
}

func gifOf(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 20, 20), palette.Plan9), nil))
	return buf.Bytes()
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 13)
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func zipOf(t *testing.T, inside []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fw, err := w.Create("photo.jpg")
	require.NoError(t, err)
	_, err = fw.Write(inside)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

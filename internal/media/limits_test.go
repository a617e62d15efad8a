package media_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestUploadsInProgressAreBounded holds one upload open (its file half sent) and checks that
// the same user's next one is refused with 429 and another user's with 503, both with
// Retry-After, and that the held one still completes.
func TestUploadsInProgressAreBounded(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("MEDIA_UPLOADS_PER_USER", "1"), apptest.WithEnv("MEDIA_UPLOADS", "1"))
	otherShop := f.env.CreateShop(t, f.other, "Other Shop")
	otherProduct := f.env.CreateProduct(t, f.other, otherShop, "Quần", 100_000, 5).ID
	// The app's router without the contract checker, which reads whole bodies before the app.
	srv := httptest.NewServer(f.env.App.Router)
	defer srv.Close()

	// Noise, so the file is large: the held half must overflow the client's 4 KiB write buffer,
	// or the request (headers included) would not leave the client until the rest is written.
	img := jpegOf(t, noise(400, 300), 90)
	require.Greater(t, len(img), 32<<10)
	pr, pw := io.Pipe()
	// A failure below must not leave the held upload open: srv.Close would wait for it forever.
	defer pw.CloseWithError(io.ErrUnexpectedEOF)
	mw := multipart.NewWriter(pw)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/products/"+f.product+"/media", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.owner.AccessToken)
	done := make(chan int, 1)
	go func() {
		res, err := srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	part, err := mw.CreateFormFile("file", "slow.jpg")
	require.NoError(t, err)
	_, err = part.Write(img[:len(img)/2])
	require.NoError(t, err)

	// Only once the held upload holds its slot is a second one sure to find it taken (sent
	// sooner, the second could take the slot first and leave the held one refused).
	apptest.Eventually(t, func() bool { return f.env.App.Media.UploadsInProgress() == 1 }, "the held upload holds its slot")
	mine := f.upload(t, f.owner.AccessToken, f.product, "a.jpg", img)
	require.Equal(t, http.StatusTooManyRequests, mine.Status, "%s", mine.Body)
	assert.Equal(t, "rate_limited", mine.Code(t))
	assert.NotEmpty(t, mine.Header.Get("Retry-After"))
	theirs := f.upload(t, f.other.AccessToken, otherProduct, "b.jpg", img)
	assert.Equal(t, http.StatusServiceUnavailable, theirs.Status, "%s", theirs.Body)
	assert.NotEmpty(t, theirs.Header.Get("Retry-After"))

	_, err = part.Write(img[len(img)/2:])
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	require.NoError(t, pw.Close())
	assert.Equal(t, http.StatusCreated, <-done)
	assert.Equal(t, http.StatusCreated, f.upload(t, f.other.AccessToken, otherProduct, "b.jpg", img).Status, "the slot is free again")
}

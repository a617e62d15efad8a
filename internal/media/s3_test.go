package media_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/media"
)

const (
	s3Key    = "AKIAGOSHOPTEST"
	s3Secret = "goshop-test-secret-key-0123456789"
)

// s3Server is an S3 protocol server in the test's process (gofakes3 on an in-memory backend).
// It speaks S3's REST protocol to minio-go as AWS does, but does not check SigV4 signatures,
// so TestS3PresignedURLsAreSigned checks them itself.
func s3Server(t *testing.T) (*httptest.Server, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket("goshop-media"))
	return srv, backend
}

func s3Env(srv *httptest.Server, extra ...apptest.Option) []apptest.Option {
	return append([]apptest.Option{apptest.WithEnv("S3_ENDPOINT", srv.URL), apptest.WithEnv("S3_BUCKET", "goshop-media"),
		apptest.WithEnv("S3_ACCESS_KEY", s3Key), apptest.WithEnv("S3_SECRET_KEY", s3Secret), apptest.WithEnv("S3_URL_TTL", "15m"),
		apptest.WithEnv("MEDIA_DELETE_GRACE", "0s")}, extra...)
}

func TestS3StoresServesAndPurges(t *testing.T) {
	t.Parallel()
	srv, backend := s3Server(t)
	f := setup(t, s3Env(srv)...)
	res := f.upload(t, f.owner.AccessToken, f.product, "a.jpg", jpegWithEXIF(t, picture(600, 400, false)))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	it := res.Map(t)
	u := it["url"].(string)
	require.True(t, strings.HasPrefix(u, srv.URL+"/goshop-media/"), u)
	assert.Empty(t, f.files(t), "nothing on the local disk")

	got, err := http.Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	require.Equal(t, http.StatusOK, got.StatusCode)
	assert.Equal(t, "image/jpeg", got.Header.Get("Content-Type"))
	assert.NotContains(t, string(body), secret)
	assert.True(t, verifyPresigned(t, u, s3Secret), "the URL carries a valid SigV4 signature")

	list, err := backend.ListBucket("goshop-media", nil, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	assert.Len(t, list.Contents, 1+2, "the original and two thumbnails")

	t.Run("a video's poster is made from the bucket's copy", func(t *testing.T) {
		if _, ffmpeg := f.env.App.Media.VideoTools(); !ffmpeg {
			t.Skip("ffmpeg is not installed: videos are kept without a poster")
		}
		res := f.upload(t, f.owner.AccessToken, f.product, "v.webm", fixtureFile(t, "tiny.webm"))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		apptest.Eventually(t, func() bool {
			for _, m := range f.env.Get(t, "/products/"+f.product, "").Map(t)["media"].([]any) {
				if m.(map[string]any)["poster_url"] != nil {
					return true
				}
			}
			return false
		}, "the poster is made")
	})

	require.Equal(t, http.StatusNoContent, f.env.Delete(t, "/products/"+f.product, f.owner.AccessToken).Status)
	apptest.Eventually(t, func() bool {
		list, err := backend.ListBucket("goshop-media", nil, gofakes3.ListBucketPage{})
		return err == nil && len(list.Contents) == 0
	}, "the deleted product's objects are removed")
}

func TestS3PublicBaseURL(t *testing.T) {
	t.Parallel()
	srv, _ := s3Server(t)
	f := setup(t, s3Env(srv, apptest.WithEnv("S3_PUBLIC_BASE_URL", "https://cdn.example.com/m/"))...)
	res := f.upload(t, f.owner.AccessToken, f.product, "a.png", pngOf(t, picture(100, 80, true)))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	it := res.Map(t)
	assert.Regexp(t, `^https://cdn\.example\.com/m/[0-9a-f-]{36}/original\.png$`, it["url"])
}

// TestS3PresignedURLsAreSigned checks the presigned URLs against SigV4 recomputed here from
// the secret (gofakes3 does not check signatures): a URL whose key, expiry or signature is
// changed no longer verifies, and one signed with another secret does not either.
func TestS3PresignedURLsAreSigned(t *testing.T) {
	t.Parallel()
	store, err := media.NewS3(media.S3Config{Endpoint: "http://127.0.0.1:9", Region: "us-east-1", Bucket: "goshop-media",
		AccessKey: s3Key, SecretKey: s3Secret, URLTTL: 15 * time.Minute})
	require.NoError(t, err)
	u, err := store.URL(context.Background(), "0f8fad5b-d9cb-469f-a165-70867728950e/original.jpg")
	require.NoError(t, err)
	q, _ := url.Parse(u)
	assert.Equal(t, "900", q.Query().Get("X-Amz-Expires"))
	assert.True(t, verifyPresigned(t, u, s3Secret))
	assert.False(t, verifyPresigned(t, u, "another-secret"))
	assert.False(t, verifyPresigned(t, strings.Replace(u, "original.jpg", "w160.jpg", 1), s3Secret), "another key")
	assert.False(t, verifyPresigned(t, strings.Replace(u, "X-Amz-Expires=900", "X-Amz-Expires=604800", 1), s3Secret), "a longer life")
	sig := q.Query().Get("X-Amz-Signature")
	flipped := []byte(sig)
	flipped[0] = "01"[map[bool]int{true: 1}[flipped[0] == '0']]
	assert.False(t, verifyPresigned(t, strings.Replace(u, sig, string(flipped), 1), s3Secret), "a changed signature")

	_, err = media.NewS3(media.S3Config{Endpoint: "http://127.0.0.1:9", Bucket: "b", AccessKey: "a", SecretKey: "s",
		URLTTL: 8 * 24 * time.Hour})
	assert.Error(t, err, "SigV4 presigned URLs live at most 7 days")
}

// verifyPresigned recomputes the AWS Signature Version 4 of a presigned GET URL (query
// authentication, UNSIGNED-PAYLOAD, host the only signed header) and compares it.
func verifyPresigned(t *testing.T, raw, secret string) bool {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
	require.Equal(t, "host", q.Get("X-Amz-SignedHeaders"))
	cred := strings.SplitN(q.Get("X-Amz-Credential"), "/", 2)
	require.Len(t, cred, 2)
	scope := cred[1] // date/region/s3/aws4_request
	parts := strings.Split(scope, "/")
	require.Len(t, parts, 4)
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "X-Amz-Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var cq []string
	for _, k := range keys {
		cq = append(cq, awsEscape(k)+"="+awsEscape(q.Get(k)))
	}
	canonical := strings.Join([]string{"GET", u.EscapedPath(), strings.Join(cq, "&"), "host:" + u.Host + "\n", "host",
		"UNSIGNED-PAYLOAD"}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", q.Get("X-Amz-Date"), scope, hex.EncodeToString(sum[:])}, "\n")
	key := []byte("AWS4" + secret)
	for _, p := range parts {
		key = hmacOf(key, p)
	}
	return hmac.Equal([]byte(hex.EncodeToString(hmacOf(key, toSign))), []byte(q.Get("X-Amz-Signature")))
}

func hmacOf(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// awsEscape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XX.
func awsEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

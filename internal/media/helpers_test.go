package media_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// fixture is a test's marketplace: an owner with a shop and a product, and another user.
type fixture struct {
	env     *apptest.Env
	owner   apptest.User
	other   apptest.User
	shop    string
	product string
	dir     string
}

func setup(t *testing.T, opts ...apptest.Option) *fixture {
	t.Helper()
	dir := t.TempDir()
	env := apptest.New(t, append([]apptest.Option{apptest.WithEnv("MEDIA_DIR", dir)}, opts...)...)
	f := &fixture{env: env, owner: env.Register(t, "Owner"), other: env.Register(t, "Other"), dir: dir}
	f.shop = env.CreateShop(t, f.owner, "Media Shop")
	f.product = env.CreateProduct(t, f.owner, f.shop, "Áo thun", 150_000, 10).ID
	return f
}

// form is a multipart body: fields in order, then the file.
func form(t testing.TB, filename string, data []byte, fields ...string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, w.WriteField(fields[i], fields[i+1]))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	h.Set("Content-Type", "image/jpeg") // what a client claims: never read
	part, err := w.CreatePart(h)
	require.NoError(t, err)
	_, err = part.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes(), w.FormDataContentType()
}

// upload posts a file to the product's media as token.
func (f *fixture) upload(t testing.TB, token, product, filename string, data []byte, fields ...string) *apptest.Response {
	t.Helper()
	body, ct := form(t, filename, data, fields...)
	return f.env.Do(t, apptest.Req{Method: http.MethodPost, Path: "/products/" + product + "/media", Token: token, Body: body,
		Header: map[string]string{"Content-Type": ct}})
}

// files lists the files under the media directory.
func (f *fixture) files(t testing.TB) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// rows counts media rows.
func (f *fixture) rows(t testing.TB) int {
	t.Helper()
	var n int
	require.NoError(t, f.env.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM media.items").Scan(&n))
	return n
}

// picture is a w×h image with a gradient, so that encoders have something to keep.
func picture(w, h int, alpha bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if alpha && x < w/2 {
				a = 80
			}
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 120, A: a})
		}
	}
	return img
}

func jpegOf(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}))
	return buf.Bytes()
}

func pngOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// secret is what the EXIF block of jpegWithEXIF carries: no stored file may hold it.
const secret = "GPS 10.7769N 106.7009E camera serial 12345"

// jpegWithEXIF is a JPEG with an APP1 EXIF segment right after its start: a TIFF header whose
// only IFD holds an ImageDescription naming a place, as phones write GPS positions.
func jpegWithEXIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	plain := jpegOf(t, img, 90)
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	_ = binary.Write(&tiff, binary.BigEndian, uint32(8))
	_ = binary.Write(&tiff, binary.BigEndian, uint16(1))      // one entry
	_ = binary.Write(&tiff, binary.BigEndian, uint16(0x010e)) // ImageDescription
	_ = binary.Write(&tiff, binary.BigEndian, uint16(2))      // ASCII
	_ = binary.Write(&tiff, binary.BigEndian, uint32(len(secret)+1))
	_ = binary.Write(&tiff, binary.BigEndian, uint32(8+2+12+4))
	_ = binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	tiff.WriteString(secret + "\x00")
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(plain[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(len(payload)+2))
	out.Write(payload)
	out.Write(plain[2:])
	return out.Bytes()
}

func gifOf(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, picture(20, 20, false), nil))
	return buf.Bytes()
}

func zipOf(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fw, err := w.Create("photo.jpg")
	require.NoError(t, err)
	_, _ = fw.Write(jpegOf(t, picture(10, 10, false), 80))
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// bombPNG is a valid PNG whose header claims w×h pixels (its CRC fixed), with the pixel data of
// a 1×1 image: a decompression bomb's header without the bomb.
func bombPNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := pngOf(t, picture(1, 1, false))
	// 8-byte signature, then the IHDR chunk: length(4) "IHDR"(4) width(4) height(4) ...
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func fixtureFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

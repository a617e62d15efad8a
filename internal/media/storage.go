package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Storage keeps the files of media under keys ("<media id>/w320.jpg"). Stored files never
// change: a new upload gets new keys, so that every URL may be cached for good.
type Storage interface {
	// Put stores the size bytes of r under key.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open reads a stored file (not found: an apperr NotFound).
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes a file; a file already gone is no error, so a purge may run twice.
	Delete(ctx context.Context, key string) error
	// URL is where clients fetch the file.
	URL(ctx context.Context, key string) (string, error)
}

// Local keeps files in a directory of this machine, served by GoShop itself (Serve) under
// BaseURL. Every instance that serves the API must see the same directory.
type Local struct {
	Dir string
	// BaseURL is what file URLs start with ("/media"); a key is appended.
	BaseURL string
}

// NewLocal keeps files in dir (see Prepare).
func NewLocal(dir, baseURL string) *Local {
	return &Local{Dir: dir, BaseURL: strings.TrimSuffix(baseURL, "/")}
}

// Prepare makes the directory when it is missing, so that a directory the process may not
// write stops it at start-up rather than failing every upload.
func (l *Local) Prepare() error {
	if err := os.MkdirAll(l.Dir, 0o750); err != nil {
		return fmt.Errorf("media: MEDIA_DIR %s: %w", l.Dir, err)
	}
	return nil
}

// path maps a key to its file, refusing any key that would leave the directory.
func (l *Local) path(key string) (string, error) {
	if key == "" || !fs.ValidPath(key) || strings.Contains(key, "\\") {
		return "", apperr.NotFoundf("file")
	}
	return filepath.Join(l.Dir, filepath.FromSlash(key)), nil
}

// Put writes the file under a temporary name and renames it, so a reader never sees half a file.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, _ int64, _ string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("media: store %s: %w", key, err)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := p + ".tmp-" + hex.EncodeToString(suffix[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("media: store %s: %w", key, err)
	}
	_, err = io.Copy(f, ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("media: store %s: %w", key, err)
	}
	return nil
}

// Open reads a stored file.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, apperr.NotFoundf("file")
	}
	return f, err
}

// Delete removes a file and, when it was the last, its media's directory.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	_ = os.Remove(filepath.Dir(p)) // fails while other files remain, as it should
	return nil
}

// URL is BaseURL/key.
func (l *Local) URL(_ context.Context, key string) (string, error) { return l.BaseURL + "/" + key, nil }

// Serve answers GET of a stored file with its type, a strong ETag (its key and size and time:
// files never change) and a year of caching; If-None-Match and ranges are http.ServeContent's.
func (l *Local) Serve(w http.ResponseWriter, r *http.Request, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return apperr.NotFoundf("file")
	}
	if err != nil {
		return fmt.Errorf("media: open %s: %w", key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return apperr.NotFoundf("file")
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeOf(key))
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano()))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	// The API's default policy forbids everything; a file is data to show, never a document.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

// contentTypeOf is the type of a stored file, from the extension GoShop itself gave it.
func contentTypeOf(key string) string {
	switch strings.ToLower(filepath.Ext(key)) {
	case ".jpg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	}
	return "application/octet-stream"
}

// ctxReader stops a copy when the request is gone.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// presignTTL bounds how long a presigned URL may live.
const presignTTL = 7 * 24 * time.Hour

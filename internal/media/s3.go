package media

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// S3Config locates an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2 ...).
type S3Config struct {
	// Endpoint is host[:port] or a URL (http:// for a local server).
	Endpoint, Region, Bucket, AccessKey, SecretKey string
	// PublicBaseURL, when set, is where the bucket's objects are readable by anyone (a CDN or a
	// public bucket): URLs are PublicBaseURL/key. Otherwise URLs are presigned for URLTTL.
	PublicBaseURL string
	URLTTL        time.Duration
}

// S3 keeps files in an S3-compatible bucket through minio-go.
type S3 struct {
	client *minio.Client
	cfg    S3Config
}

// NewS3 connects to the bucket (no request is made until a file is stored or read).
func NewS3(cfg S3Config) (*S3, error) {
	host, secure := cfg.Endpoint, true
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		host, secure = u.Host, u.Scheme != "http"
	}
	if cfg.URLTTL <= 0 || cfg.URLTTL > presignTTL {
		return nil, fmt.Errorf("media: S3_URL_TTL must be positive and at most %s (SigV4's limit)", presignTTL)
	}
	c, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("media: S3_ENDPOINT: %w", err)
	}
	cfg.PublicBaseURL = strings.TrimSuffix(cfg.PublicBaseURL, "/")
	return &S3{client: c, cfg: cfg}, nil
}

// Put uploads the object with its type and a year of caching (objects never change).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, r, size, minio.PutObjectOptions{
		ContentType: contentType, CacheControl: "public, max-age=31536000, immutable"})
	if err != nil {
		return fmt.Errorf("media: s3 put %s: %w", key, err)
	}
	return nil
}

// Open reads an object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("media: s3 get %s: %w", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, apperr.NotFoundf("file")
		}
		return nil, fmt.Errorf("media: s3 get %s: %w", key, err)
	}
	return obj, nil
}

// Delete removes an object; S3 answers success for one already gone.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil &&
		minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("media: s3 delete %s: %w", key, err)
	}
	return nil
}

// URL is the public URL of the object, or a GET presigned for URLTTL (signed locally, no request).
func (s *S3) URL(ctx context.Context, key string) (string, error) {
	if s.cfg.PublicBaseURL != "" {
		return s.cfg.PublicBaseURL + "/" + key, nil
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, key, s.cfg.URLTTL, nil)
	if err != nil {
		return "", fmt.Errorf("media: s3 presign %s: %w", key, err)
	}
	return u.String(), nil
}

package nightly

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/readonly"
)

// ErrNotFound is returned by Store.Get for a key the bucket does not hold.
var ErrNotFound = errors.New("no such object")

// Store is the run's own bucket, reached with the tool's own identity (the
// Lambda's role, never a scanned account's): the one S3 client of the
// program allowed PutObject, GetObject and ListObjectsV2 (the readonly
// Delivery list, through readonly.AllowOnClient).
type Store struct {
	client *s3.Client
	bucket string
}

// NewStore returns the store of bucket. cfg is the tool's own
// configuration (awsenv.Load); against an emulator endpoint the client
// uses path-style addressing, as awsenv.S3 does.
func NewStore(cfg aws.Config, bucket string) *Store {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		// A small object uploaded in one part has no checksum for the SDK
		// to validate on the way back; that is not worth a log line.
		o.DisableLogOutputChecksumValidationSkipped = true
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("S3", "PutObject", "GetObject", "ListObjectsV2"))
	})
	return &Store{client: client, bucket: bucket}
}

// Bucket is the store's bucket name.
func (s *Store) Bucket() string { return s.bucket }

// URI returns the s3:// URI of key.
func (s *Store) URI(key string) string { return "s3://" + s.bucket + "/" + key }

// Put writes body to key. Every object is written with
// ServerSideEncryption aws:kms: the bucket's default key encrypts it, and a
// bucket policy that denies uploads without SSE-KMS (the template's) lets it
// through.
func (s *Store) Put(ctx context.Context, key string, body []byte, contentType string) error {
	return s.put(ctx, key, bytes.NewReader(body), int64(len(body)), contentType)
}

// PutFile writes the file at path to key, streamed from disk.
func (s *Store) PutFile(ctx context.Context, key, path, contentType string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return s.put(ctx, key, f, info.Size(), contentType)
}

func (s *Store) put(ctx context.Context, key string, body io.ReadSeeker, size int64, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               aws.String(s.bucket),
		Key:                  aws.String(key),
		Body:                 body,
		ContentLength:        aws.Int64(size),
		ContentType:          aws.String(contentType),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
	})
	if err != nil {
		return fmt.Errorf("write %s: s3:PutObject: %w", s.URI(key), err)
	}
	return nil
}

// Get reads key; a missing key is an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *s3types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")) {
			return nil, fmt.Errorf("read %s: %w", s.URI(key), ErrNotFound)
		}
		return nil, fmt.Errorf("read %s: s3:GetObject: %w", s.URI(key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.URI(key), err)
	}
	return data, nil
}

// List returns every key under prefix, in the order S3 lists them (UTF-8
// binary order), reading every page of ListObjectsV2.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: s3:ListObjectsV2: %w", s.URI(prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// contentType is the Content-Type of a package file.
func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".sig":
		return "application/json"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".pdf":
		return "application/pdf"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".gz":
		return "application/gzip"
	case ".yaml", ".yml":
		return "application/yaml"
	}
	if name == "SHA256SUMS" {
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// notifier publishes the summary: the one SNS client allowed sns:Publish,
// in the topic's region, with the tool's own identity.
func notifier(cfg aws.Config, topic string) *sns.Client {
	region := ""
	if parts := strings.Split(topic, ":"); len(parts) == 6 {
		region = parts[3]
	}
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		if region != "" {
			o.Region = region
		}
		o.APIOptions = append(o.APIOptions, readonly.AllowOnClient("SNS", "Publish"))
	})
}

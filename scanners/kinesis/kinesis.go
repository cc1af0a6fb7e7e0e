// Package kinesis collects the Kinesis data streams of one region with their
// encryption settings and holds the checks that read them. It never reads
// records.
package kinesis

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartStreams is the list of the region's streams (ListStreams).
	PartStreams = "streams"
	// PartStreamSummaries is each stream's summary (DescribeStreamSummary); a
	// stream whose summary failed carries the error.
	PartStreamSummaries = "stream-summaries"
)

// Inventory is what the Kinesis scanner collects in one region.
type Inventory struct {
	AccountID string   `json:"account_id"`
	Region    string   `json:"region"`
	Partition string   `json:"partition"`
	Streams   []Stream `json:"streams"`
}

// Stream is a Kinesis data stream.
type Stream struct {
	Name string `json:"name"`
	// ARN is the stream ARN the API returned; empty when it gave none.
	ARN string `json:"arn,omitempty"`
	// EncryptionType is NONE or KMS; empty when not reported.
	EncryptionType string `json:"encryption_type,omitempty"`
	KeyID          string `json:"key_id,omitempty"`
	// Error is set when the stream's summary could not be read.
	Error string `json:"error,omitempty"`
}

// Scanner returns the Kinesis scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "kinesis", Collect: Collect, List: Checks()}
}

// API is the Kinesis calls the collector makes: each is on the read-only allow-list
// (scanners/guard_test.go checks it).
type API interface {
	kinesis.ListStreamsAPIClient
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// Collect lists the region's streams (every page) and reads each one's
// summary, with bounded concurrency: only the summary has the encryption.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, kinesis.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, c API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartStreams) {
		return inv
	}
	streams, err := list(ctx, c)
	if err != nil {
		gaps.Add(PartStreams, "ListStreams", "", fmt.Errorf("list Kinesis streams in %s: %w", scope.Region, err))
		return inv
	}
	if scope.Wants(PartStreamSummaries) {
		streams = fanout.Fill(ctx, streams, scope.CallConcurrency, func(ctx context.Context, s *Stream) bool {
			return summarise(ctx, c, s, gaps)
		})
	}
	inv.Streams = streams
	return inv
}

// list returns every stream, from each page's StreamSummaries when it has
// them (they carry the ARN), else from its StreamNames, each stream once.
func list(ctx context.Context, c API) ([]Stream, error) {
	var streams []Stream
	seen := map[string]bool{}
	add := func(name, arn string) {
		if name != "" && !seen[name] {
			seen[name] = true
			streams = append(streams, Stream{Name: name, ARN: arn})
		}
	}
	err := paging.Pages(ctx, kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{}), func(page *kinesis.ListStreamsOutput) {
		if len(page.StreamSummaries) > 0 {
			for _, s := range page.StreamSummaries {
				add(aws.ToString(s.StreamName), aws.ToString(s.StreamARN))
			}
			return
		}
		for _, n := range page.StreamNames {
			add(n, "")
		}
	})
	if err != nil {
		return nil, err
	}
	return streams, nil
}

// summarise fills s from DescribeStreamSummary. It reports whether the
// stream was deleted since it was listed, and so is no longer in scope.
func summarise(ctx context.Context, c API, s *Stream, gaps *check.Gaps) (gone bool) {
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(s.Name)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return true
	case err != nil:
		gaps.Add(PartStreamSummaries, "DescribeStreamSummary", s.Name, fmt.Errorf("describe Kinesis stream %s: %w", s.Name, err))
		s.Error = check.ErrorText(err)
		return false
	case out.StreamDescriptionSummary == nil:
		return false
	}
	d := out.StreamDescriptionSummary
	if a := aws.ToString(d.StreamARN); a != "" {
		s.ARN = a
	}
	s.EncryptionType, s.KeyID = string(d.EncryptionType), aws.ToString(d.KeyId)
	return false
}

// Checks returns the Kinesis checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "kinesis-stream-unencrypted", Title: "Kinesis data stream is not encrypted at rest",
				Family: model.FamilyUnencrypted, Service: "kinesis", Severity: model.SeverityMedium, ResourceType: "AWS::Kinesis::Stream",
				Rationale:   "Records of an unencrypted stream are kept in clear text for the whole retention period; server-side encryption with KMS protects them at rest and logs every use of the key.",
				Remediation: "Start stream encryption (StartStreamEncryption, EncryptionType=KMS) with the aws/kinesis key or a customer managed key.",
				References:  []string{"https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/kinesis-controls.html#kinesis-1"},
			},
			Needs: []string{PartStreams},
			Reads: []string{PartStreamSummaries},
			Eval:  unencryptedCheck,
		},
	}
}

func unencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range inv.Streams {
		a := s.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "kinesis", inv.Region, inv.AccountID, "stream/"+s.Name)
		}
		if s.Error != "" {
			out = append(out, check.Error(s.Name, a, fmt.Sprintf("cannot decide whether Kinesis stream %s is encrypted: DescribeStreamSummary failed: %s", s.Name, s.Error),
				map[string]any{"operation": "DescribeStreamSummary", "error": s.Error}))
			continue
		}
		evidence := map[string]any{"encryption_type": check.OrAbsent(s.EncryptionType), "key_id": check.OrAbsent(s.KeyID)}
		if s.EncryptionType == "" || s.EncryptionType == string(types.EncryptionTypeNone) {
			out = append(out, check.Fail(s.Name, a, fmt.Sprintf("Kinesis stream %s is not encrypted at rest (encryption type %s)", s.Name, check.OrAbsent(s.EncryptionType)), evidence))
			continue
		}
		out = append(out, check.Pass(s.Name, a, fmt.Sprintf("Kinesis stream %s is encrypted at rest (%s, key %s)", s.Name, s.EncryptionType, check.OrAbsent(s.KeyID)), evidence))
	}
	return out
}

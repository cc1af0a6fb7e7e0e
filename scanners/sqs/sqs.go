// Package sqs collects the SQS queues of one region with their encryption
// attributes and holds the checks that read them. It never reads messages.
package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartQueues is the list of the region's queues (ListQueues).
	PartQueues = "queues"
	// PartQueueAttributes is each queue's encryption attributes
	// (GetQueueAttributes); a queue whose attributes failed carries the error.
	PartQueueAttributes = "queue-attributes"
)

// Inventory is what the SQS scanner collects in one region.
type Inventory struct {
	AccountID string  `json:"account_id"`
	Region    string  `json:"region"`
	Partition string  `json:"partition"`
	Queues    []Queue `json:"queues"`
}

// Queue is an SQS queue.
type Queue struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// ARN is the QueueArn attribute; empty when it was not returned.
	ARN string `json:"arn,omitempty"`
	// SQSManagedSSE is the SqsManagedSseEnabled attribute; nil when the
	// queue does not report it.
	SQSManagedSSE *bool `json:"sqs_managed_sse_enabled,omitempty"`
	// KMSMasterKeyID is the KMS key of SSE-KMS; empty when none is set.
	KMSMasterKeyID string `json:"kms_master_key_id,omitempty"`
	// Error is set when the queue's attributes could not be read.
	Error string `json:"error,omitempty"`
}

// Scanner returns the SQS scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "sqs", Collect: Collect, List: Checks()}
}

// listQueuesPageSize is ListQueues' largest page (MaxResults 1-1000).
const listQueuesPageSize = 1000

// API is the SQS calls the collector makes: each is on the read-only allow-list
// (scanners/guard_test.go checks it).
type API interface {
	sqs.ListQueuesAPIClient
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Collect lists the region's queues (every page) and reads each one's
// encryption attributes, with bounded concurrency.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, sqs.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, c API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartQueues) {
		return inv
	}
	// Without MaxResults, ListQueues returns at most 1,000 queues and no
	// NextToken: ask for pages so that every queue of the region is listed.
	listed, err := paging.All(ctx, sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: aws.Int32(listQueuesPageSize)}),
		func(page *sqs.ListQueuesOutput) []string { return page.QueueUrls })
	if err != nil {
		gaps.Add(PartQueues, "ListQueues", "", fmt.Errorf("list SQS queues in %s: %w", scope.Region, err))
		return inv
	}
	var queues []Queue
	for _, u := range listed {
		queues = append(queues, Queue{Name: u[strings.LastIndex(u, "/")+1:], URL: u})
	}
	if scope.Wants(PartQueueAttributes) {
		queues = fanout.Fill(ctx, queues, scope.CallConcurrency, func(ctx context.Context, q *Queue) bool {
			return attributes(ctx, c, q, gaps)
		})
	}
	inv.Queues = queues
	return inv
}

// attributes fills q's encryption attributes. It reports whether the queue
// was deleted since it was listed, and so is no longer in scope.
func attributes(ctx context.Context, c API, q *Queue, gaps *check.Gaps) (gone bool) {
	// Only the encryption attributes and the ARN: nothing about messages.
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameSqsManagedSseEnabled, types.QueueAttributeNameKmsMasterKeyId, types.QueueAttributeNameQueueArn,
	}})
	var notFound *types.QueueDoesNotExist
	switch {
	case errors.As(err, &notFound):
		return true
	case err != nil:
		gaps.Add(PartQueueAttributes, "GetQueueAttributes", q.Name, fmt.Errorf("get attributes of SQS queue %s: %w", q.Name, err))
		q.Error = check.ErrorText(err)
		return false
	}
	attrs := out.Attributes
	q.ARN = attrs[string(types.QueueAttributeNameQueueArn)]
	q.KMSMasterKeyID = attrs[string(types.QueueAttributeNameKmsMasterKeyId)]
	if v, ok := attrs[string(types.QueueAttributeNameSqsManagedSseEnabled)]; ok {
		on, err := strconv.ParseBool(v)
		q.SQSManagedSSE = aws.Bool(err == nil && on)
	}
	return false
}

// Checks returns the SQS checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "sqs-queue-unencrypted", Title: "SQS queue is not encrypted at rest",
				Family: model.FamilyUnencrypted, Service: "sqs", Severity: model.SeverityMedium, ResourceType: "AWS::SQS::Queue",
				Rationale:   "Messages wait in an unencrypted queue in clear text on the storage AWS manages; SSE-SQS costs nothing and SSE-KMS adds a key policy and an audit trail of every decryption.",
				Remediation: "Set SqsManagedSseEnabled=true on the queue, or a KmsMasterKeyId (aws/sqs or a customer managed key) for SSE-KMS.",
				References:  []string{"https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/sqs-controls.html#sqs-1"},
			},
			Needs: []string{PartQueues},
			Reads: []string{PartQueueAttributes},
			Eval:  unencryptedCheck,
		},
	}
}

func unencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, q := range inv.Queues {
		a := q.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "sqs", inv.Region, inv.AccountID, q.Name)
		}
		if q.Error != "" {
			out = append(out, check.Error(q.Name, a, fmt.Sprintf("cannot decide whether SQS queue %s is encrypted: GetQueueAttributes failed: %s", q.Name, q.Error),
				map[string]any{"operation": "GetQueueAttributes", "error": q.Error}))
			continue
		}
		var sse any = "absent"
		if q.SQSManagedSSE != nil {
			sse = *q.SQSManagedSSE
		}
		evidence := map[string]any{"sqs_managed_sse_enabled": sse, "kms_master_key_id": check.OrAbsent(q.KMSMasterKeyID)}
		switch {
		case q.KMSMasterKeyID != "":
			out = append(out, check.Pass(q.Name, a, fmt.Sprintf("SQS queue %s is encrypted with KMS key %s (SSE-KMS)", q.Name, q.KMSMasterKeyID), evidence))
		case aws.ToBool(q.SQSManagedSSE):
			out = append(out, check.Pass(q.Name, a, fmt.Sprintf("SQS queue %s is encrypted with SQS-managed keys (SSE-SQS)", q.Name), evidence))
		default:
			out = append(out, check.Fail(q.Name, a, fmt.Sprintf("SQS queue %s is not encrypted: neither SSE-SQS nor a KMS key is set", q.Name), evidence))
		}
	}
	return out
}

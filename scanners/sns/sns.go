// Package sns collects the SNS topics of one region with their encryption
// attribute and holds the checks that read them.
package sns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartTopics is the list of the region's topics (ListTopics).
	PartTopics = "topics"
	// PartTopicAttributes is each topic's attributes (GetTopicAttributes); a
	// topic whose attributes failed carries the error.
	PartTopicAttributes = "topic-attributes"
)

// Inventory is what the SNS scanner collects in one region.
type Inventory struct {
	AccountID string  `json:"account_id"`
	Region    string  `json:"region"`
	Partition string  `json:"partition"`
	Topics    []Topic `json:"topics"`
}

// Topic is an SNS topic.
type Topic struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// KMSMasterKeyID is the KMS key of server-side encryption; empty when
	// none is set.
	KMSMasterKeyID string `json:"kms_master_key_id,omitempty"`
	// Error is set when the topic's attributes could not be read.
	Error string `json:"error,omitempty"`
}

// Scanner returns the SNS scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "sns", Collect: Collect, List: Checks()}
}

// API is the SNS calls the collector makes: each is on the read-only allow-list
// (scanners/guard_test.go checks it).
type API interface {
	sns.ListTopicsAPIClient
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

// Collect lists the region's topics (every page) and reads each one's
// attributes, with bounded concurrency: no list call returns the key.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, sns.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, c API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartTopics) {
		return inv
	}
	listed, err := paging.All(ctx, sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{}),
		func(page *sns.ListTopicsOutput) []types.Topic { return page.Topics })
	if err != nil {
		gaps.Add(PartTopics, "ListTopics", "", fmt.Errorf("list SNS topics in %s: %w", scope.Region, err))
		return inv
	}
	var topics []Topic
	for _, t := range listed {
		a := aws.ToString(t.TopicArn)
		topics = append(topics, Topic{Name: a[strings.LastIndex(a, ":")+1:], ARN: a})
	}
	if scope.Wants(PartTopicAttributes) {
		topics = fanout.Fill(ctx, topics, scope.CallConcurrency, func(ctx context.Context, t *Topic) bool {
			return attributes(ctx, c, t, gaps)
		})
	}
	inv.Topics = topics
	return inv
}

// attributes fills t's encryption attribute. It reports whether the topic
// was deleted since it was listed, and so is no longer in scope.
func attributes(ctx context.Context, c API, t *Topic, gaps *check.Gaps) (gone bool) {
	out, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(t.ARN)})
	var notFound *types.NotFoundException
	switch {
	case errors.As(err, &notFound):
		return true
	case err != nil:
		gaps.Add(PartTopicAttributes, "GetTopicAttributes", t.Name, fmt.Errorf("get attributes of SNS topic %s: %w", t.ARN, err))
		t.Error = check.ErrorText(err)
		return false
	}
	t.KMSMasterKeyID = out.Attributes["KmsMasterKeyId"]
	return false
}

// Checks returns the SNS checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "sns-topic-unencrypted", Title: "SNS topic is not encrypted at rest with KMS",
				Family: model.FamilyUnencrypted, Service: "sns", Severity: model.SeverityMedium, ResourceType: "AWS::SNS::Topic",
				Rationale:   "Without server-side encryption, messages published to the topic are stored in clear text until they are delivered; a KMS key encrypts them and logs every use.",
				Remediation: "Set the topic's KmsMasterKeyId attribute to the aws/sns key or a customer managed key (whose policy lets the publishing services use it).",
				References:  []string{"https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html#sns-1"},
			},
			Needs: []string{PartTopics},
			Reads: []string{PartTopicAttributes},
			Eval:  unencryptedCheck,
		},
	}
}

func unencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, t := range inv.Topics {
		a := t.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "sns", inv.Region, inv.AccountID, t.Name)
		}
		if t.Error != "" {
			out = append(out, check.Error(t.Name, a, fmt.Sprintf("cannot decide whether SNS topic %s is encrypted: GetTopicAttributes failed: %s", t.Name, t.Error),
				map[string]any{"operation": "GetTopicAttributes", "error": t.Error}))
			continue
		}
		if t.KMSMasterKeyID == "" {
			out = append(out, check.Fail(t.Name, a, fmt.Sprintf("SNS topic %s is not encrypted: it has no KmsMasterKeyId", t.Name), map[string]any{"kms_master_key_id": "absent"}))
			continue
		}
		out = append(out, check.Pass(t.Name, a, fmt.Sprintf("SNS topic %s is encrypted with KMS key %s", t.Name, t.KMSMasterKeyID), map[string]any{"kms_master_key_id": t.KMSMasterKeyID}))
	}
	return out
}

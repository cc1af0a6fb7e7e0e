package sqs_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const checkID = "sqs-queue-unencrypted"

var regions = []string{"us-east-1", "eu-west-1"}

// seed creates, in each region, a queue with no encryption, one with SSE-SQS
// and one with SSE-KMS, plus extra queues in us-east-1; it returns the
// expected results. moto makes every queue SSE-SQS unless it is created with
// SqsManagedSseEnabled=false, so the unencrypted and SSE-KMS queues set it.
func seed(t *testing.T, url string, extra map[string]model.Status) map[scantest.Key]model.Status {
	t.Helper()
	ctx := context.Background()
	want := map[scantest.Key]model.Status{}
	for _, region := range regions {
		cfg := emutest.Config(t, url, region)
		key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("create key in %s: %v", region, err)
		}
		queues := map[string]map[string]string{
			"jobs-plain": {"SqsManagedSseEnabled": "false"},
			"jobs-sse":   {"SqsManagedSseEnabled": "true"},
			"jobs-kms":   {"SqsManagedSseEnabled": "false", "KmsMasterKeyId": aws.ToString(key.KeyMetadata.KeyId)},
		}
		status := map[string]model.Status{"jobs-plain": model.StatusFail, "jobs-sse": model.StatusPass, "jobs-kms": model.StatusPass}
		if region == "us-east-1" {
			for name, st := range extra {
				queues[name] = map[string]string{"SqsManagedSseEnabled": "false"}
				status[name] = st
			}
		}
		c := sqs.NewFromConfig(cfg)
		for name, attrs := range queues {
			if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs}); err != nil {
				t.Fatalf("create queue %s in %s: %v", name, region, err)
			}
			want[scantest.Key{Check: checkID, Region: region, Resource: name}] = status[name]
		}
	}
	return want
}

func TestSQSUnencryptedAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	want := seed(t, srv.URL, nil)
	scan := scantest.Scan(t, srv.URL, regions, checkID)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, checkID, want, nil)

	plain := scantest.Find(t, scan, checkID, "eu-west-1", "jobs-plain")
	if plain.ResourceARN != "arn:aws:sqs:eu-west-1:123456789012:jobs-plain" ||
		plain.Evidence["sqs_managed_sse_enabled"] != false || plain.Evidence["kms_master_key_id"] != "absent" {
		t.Errorf("unencrypted queue: %s %v", plain.ResourceARN, plain.Evidence)
	}
	sse := scantest.Find(t, scan, checkID, "us-east-1", "jobs-sse")
	if sse.Evidence["sqs_managed_sse_enabled"] != true || !strings.Contains(sse.Message, "SSE-SQS") {
		t.Errorf("SSE-SQS queue: %s %v", sse.Message, sse.Evidence)
	}
	kmsQueue := scantest.Find(t, scan, checkID, "us-east-1", "jobs-kms")
	if kmsQueue.Evidence["kms_master_key_id"] == "absent" || !strings.Contains(kmsQueue.Message, "SSE-KMS") {
		t.Errorf("SSE-KMS queue: %s %v", kmsQueue.Message, kmsQueue.Evidence)
	}
}

// TestSQSAttributesDeniedForOneQueue: GetQueueAttributes denied for one
// queue makes that queue ERROR; every other queue is judged as usual and the
// coverage names the failed call and queue.
func TestSQSAttributesDeniedForOneQueue(t *testing.T) {
	srv := emutest.Fresh(t)
	want := seed(t, srv.URL, map[string]model.Status{"jobs-denied": model.StatusError})
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{
		Service: "sqs", Action: "GetQueueAttributes", BodyContains: `/jobs-denied"`, Fault: faultproxy.AccessDenied,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	scan := scantest.Scan(t, p.URL, regions, checkID)
	scantest.ExpectExactly(t, scan, checkID, want, nil)
	denied := scantest.Find(t, scan, checkID, "us-east-1", "jobs-denied")
	if denied.ResourceARN != "arn:aws:sqs:us-east-1:123456789012:jobs-denied" || !strings.Contains(denied.Message, "GetQueueAttributes failed: AccessDenied") ||
		denied.Evidence["operation"] != "GetQueueAttributes" {
		t.Errorf("denied queue: %s %q %v", denied.ResourceARN, denied.Message, denied.Evidence)
	}
	gaps := scan.Gaps()
	if len(gaps) != 1 || gaps[0].Region != "us-east-1" || gaps[0].Service != "sqs" || len(gaps[0].Failures) != 1 {
		t.Fatalf("gaps: %+v", gaps)
	}
	if f := gaps[0].Failures[0]; f.Operation != "GetQueueAttributes" || f.Resource != "jobs-denied" || f.Code != "AccessDeniedException" || f.Part != "queue-attributes" {
		t.Errorf("failure: %+v", f)
	}
	if n := p.Injected()[faultproxy.AccessDenied]; n != 1 {
		t.Errorf("injected AccessDenied %d times, want 1", n)
	}
}

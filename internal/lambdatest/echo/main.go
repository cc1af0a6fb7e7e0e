// Command echo is the stand-in Lambda bootstrap that internal/lambdatest's
// own tests run under the Runtime Interface Emulator. It is built with
// `go build -tags lambda.norpc` like the real function.
//
// An event without "action" is echoed back with the values of the
// environment variables it names, after optionally sleeping, writing an
// object to S3 (through AWS_ENDPOINT_URL) or failing. The actions "plan",
// "scan-account" and "assemble" play the three fan-out steps of the nightly
// state machine against the bucket named by POSTURE_BUCKET.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// event is every field any action reads.
type event struct {
	Action  string          `json:"action"`
	Echo    json.RawMessage `json:"echo,omitempty"`
	Env     []string        `json:"env,omitempty"`
	SleepMS int             `json:"sleep_ms,omitempty"`
	Fail    string          `json:"fail,omitempty"`
	Panic   string          `json:"panic,omitempty"`
	Exit    *int            `json:"exit,omitempty"`
	Alloc   int             `json:"alloc_mb,omitempty"`
	Put     *putObject      `json:"put,omitempty"`

	// Fan-out fields (the nightly contract's names).
	Items       int             `json:"items,omitempty"`
	FailItems   []int           `json:"fail_items,omitempty"`
	NoPlan      bool            `json:"no_plan,omitempty"`
	ScanID      string          `json:"scan_id,omitempty"`
	AccountID   string          `json:"account_id,omitempty"`
	AccountName string          `json:"account_name,omitempty"`
	MapError    json.RawMessage `json:"map_error,omitempty"`
}

// putObject names an object to write.
type putObject struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Body   string `json:"body"`
}

// EchoFailed is the error a "fail" event returns; aws-lambda-go reports its
// type name, so Step Functions sees the error name "EchoFailed".
type EchoFailed struct{ Msg string }

func (e *EchoFailed) Error() string { return e.Msg }

// sink keeps allocations alive so that alloc_mb raises the peak RSS.
var sink [][]byte

func handle(ctx context.Context, ev event) (any, error) {
	switch ev.Action {
	case "":
		return echo(ctx, ev)
	case "plan":
		return plan(ctx, ev)
	case "scan-account":
		return scanAccount(ctx, ev)
	case "assemble":
		return assemble(ctx, ev)
	default:
		return nil, fmt.Errorf("unknown action %q", ev.Action)
	}
}

func echo(ctx context.Context, ev event) (any, error) {
	started := time.Now()
	if ev.SleepMS > 0 {
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
	}
	if ev.Alloc > 0 {
		b := make([]byte, ev.Alloc<<20)
		for i := range b {
			b[i] = byte(i)
		}
		sink = append(sink, b)
	}
	if ev.Exit != nil {
		os.Exit(*ev.Exit)
	}
	if ev.Panic != "" {
		panic(ev.Panic)
	}
	if ev.Fail != "" {
		return nil, &EchoFailed{Msg: ev.Fail}
	}
	out := map[string]any{"echo": ev.Echo, "pid": os.Getpid(), "started_ns": started.UnixNano(), "ended_ns": time.Now().UnixNano()}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		out["request_id"] = lc.AwsRequestID
	}
	if deadline, ok := ctx.Deadline(); ok {
		out["deadline_ms"] = time.Until(deadline).Milliseconds()
	}
	env := map[string]*string{}
	for _, name := range ev.Env {
		if v, ok := os.LookupEnv(name); ok {
			env[name] = &v
		} else {
			env[name] = nil
		}
	}
	out["env"] = env
	if ev.Put != nil {
		if err := put(ctx, ev.Put.Bucket, ev.Put.Key, []byte(ev.Put.Body)); err != nil {
			return nil, err
		}
		out["put"] = "s3://" + ev.Put.Bucket + "/" + ev.Put.Key
	}
	return out, nil
}

// plan writes work/<scan>/plan.json, an array of Items accounts; the
// accounts at the FailItems indexes get a name starting with "fail", which
// makes scan-account fail for them every time. With NoPlan it writes nothing
// and returns the key of a missing object.
func plan(ctx context.Context, ev event) (any, error) {
	bucket := os.Getenv("POSTURE_BUCKET")
	scanID := fmt.Sprintf("scan-%d", time.Now().UnixNano())
	type item struct {
		AccountID   string `json:"account_id"`
		AccountName string `json:"account_name"`
	}
	items := make([]item, ev.Items)
	for i := range items {
		items[i] = item{AccountID: fmt.Sprintf("%012d", 100000000000+i), AccountName: fmt.Sprintf("acct-%02d", i)}
	}
	for _, i := range ev.FailItems {
		if i >= 0 && i < len(items) {
			items[i].AccountName = "fail-" + items[i].AccountName
		}
	}
	body, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	key := "work/" + scanID + "/plan.json"
	if ev.NoPlan {
		key = "work/" + scanID + "/missing-plan.json" // the Map's ItemReader fails
	} else if err := put(ctx, bucket, key, body); err != nil {
		return nil, err
	}
	return map[string]any{"scan_id": scanID, "bucket": bucket, "plan_key": key, "accounts": len(items)}, nil
}

// scanAccount records the attempt, then fails for a "fail..." account or
// writes the account's marker.
func scanAccount(ctx context.Context, ev event) (any, error) {
	bucket := os.Getenv("POSTURE_BUCKET")
	lc, _ := lambdacontext.FromContext(ctx)
	reqID := "unknown"
	if lc != nil {
		reqID = lc.AwsRequestID
	}
	attempt := "work/" + ev.ScanID + "/attempts/" + ev.AccountID + "/" + reqID
	if err := put(ctx, bucket, attempt, nil); err != nil {
		return nil, err
	}
	if strings.HasPrefix(ev.AccountName, "fail") {
		return nil, &EchoFailed{Msg: "account " + ev.AccountID + " failed"}
	}
	key := "work/" + ev.ScanID + "/accounts/" + ev.AccountID + ".json"
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode marker: %w", err)
	}
	if err := put(ctx, bucket, key, body); err != nil {
		return nil, err
	}
	return map[string]any{"account_id": ev.AccountID, "partial_key": key}, nil
}

// assemble lists the markers (paginated, 10 a page) and writes its output
// to work/<scan>/assembled.json too.
func assemble(ctx context.Context, ev event) (any, error) {
	bucket := os.Getenv("POSTURE_BUCKET")
	client, err := s3Client(ctx)
	if err != nil {
		return nil, err
	}
	var accounts []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String("work/" + ev.ScanID + "/accounts/"), MaxKeys: aws.Int32(10),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list partials: %w", err)
		}
		for _, o := range page.Contents {
			accounts = append(accounts, strings.TrimSuffix(path.Base(aws.ToString(o.Key)), ".json"))
		}
	}
	out := map[string]any{"scan_id": ev.ScanID, "partials": len(accounts), "accounts": accounts}
	if len(ev.MapError) > 0 {
		out["map_error"] = ev.MapError
	}
	// Also kept in S3: after AssembleIncomplete the execution ends in a Fail
	// state, whose output is not visible.
	body, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode assemble output: %w", err)
	}
	if err := put(ctx, bucket, "work/"+ev.ScanID+"/assembled.json", body); err != nil {
		return nil, err
	}
	return out, nil
}

func s3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

func put(ctx context.Context, bucket, key string, body []byte) error {
	client, err := s3Client(ctx)
	if err != nil {
		return err
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(string(body)),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func main() { lambda.Start(handle) }

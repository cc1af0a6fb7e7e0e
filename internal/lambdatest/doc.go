// Package lambdatest runs a real Lambda bootstrap on this machine, without
// AWS or Docker: under the AWS Lambda Runtime Interface Emulator (RIE), and
// behind moto's Step Functions executor through a loopback bridge. It imports
// "testing" and is for tests only.
//
//	func TestMain(m *testing.M) { os.Exit(lambdatest.Main(m)) }
//
//	boot := lambdatest.Build(t, "./lambda")                 // go build -tags lambda.norpc
//	rie := lambdatest.StartRIE(t, boot, map[string]string{"POSTURE_BUCKET": "b", "AWS_ENDPOINT_URL": moto})
//	out, err := rie.Invoke(ctx, []byte(`{"action":"run"}`)) // *FunctionError on a handler error
//
//	sf := lambdatest.StartSFN(t, nil)                       // moto 5.2.5+ executing ASL, bridge in front
//	pool := lambdatest.NewPool(t, boot, map[string]string{"AWS_ENDPOINT_URL": sf.MotoURL}, 4)
//	sf.SetInvoker(pool)                                     // every lambda:invoke task -> the pool
//	cfg := sf.Config(t, "us-east-1")                        // SDK clients for sfn, s3, ...
//
// # The Runtime Interface Emulator (pinned RIEVersion)
//
// Installed by `GOBIN=$PWD/.tools/bin go install
// github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@<RIEVersion>`;
// located by LocateRIE ($POSTURE_RIE, .tools/bin, PATH). Facts, from its
// source and tried here:
//   - Run as `aws-lambda-rie --runtime-interface-emulator-address
//     127.0.0.1:P --runtime-api-address 127.0.0.1:Q <bootstrap>`. The first
//     defaults to 0.0.0.0:8080 and the second to 127.0.0.1:9001, so several
//     emulators need both set. A last extra argument would be taken as the
//     handler name. AWS_LAMBDA_MAX_CONCURRENCY in its environment switches it
//     to a different (managed-instances) mode: never set it.
//   - It serves only POST /2015-03-31/functions/function/invocations
//     (InvokePath), so the SDK's FunctionName must be "function". Any method
//     on that path is an invocation; readiness is checked by a TCP connect.
//   - The bootstrap starts lazily on the first invocation (Init). The
//     emulator passes its own whole environment to the bootstrap, plus
//     AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_VERSION ($LATEST),
//     AWS_LAMBDA_FUNCTION_MEMORY_SIZE (3008 unless set; informational only,
//     nothing limits memory), AWS_LAMBDA_LOG_GROUP_NAME/STREAM_NAME and
//     AWS_LAMBDA_FUNCTION_NAME (test_function unless set). It does not set
//     AWS_REGION or credentials: StartRIE's DefaultEnv does (us-east-1,
//     static keys "testing"), and gives no other variable of the test
//     process (only PATH, a private HOME, TMPDIR).
//   - The timeout is AWS_LAMBDA_FUNCTION_TIMEOUT seconds (emulator default
//     300; DefaultEnv 900, Lambda's maximum); the handler's context deadline
//     matches it. On timeout the answer is HTTP 200 with the plain text
//     "Task timed out after N.00 seconds" and the runtime is killed; the next
//     invocation starts a new one.
//   - A handler error is HTTP 200 with the error document
//     {"errorMessage":...,"errorType":...} and no X-Amz-Function-Error
//     header (the emulator drops response headers): Invoke recognises the
//     document. errorType is the Go type name of the returned error
//     (aws-lambda-go): "errorString" for errors.New, "wrapError" for
//     fmt.Errorf with %w, the struct name for a custom type; a handler can
//     choose it by returning messages.InvokeResponse_Error. The runtime
//     keeps running.
//   - A panic is HTTP 502 with the error document (errorType: the panic
//     value's type, e.g. "string", plus stackTrace); os.Exit is HTTP 502
//     with errorType "Runtime.ExitError". The runtime is restarted on the
//     next invocation.
//   - Two invocations at once crash it (a nil dereference in rapidcore after
//     "ReserveFailed: AlreadyReserved"; the process exits and the bootstrap
//     with it). RIE.Invoke therefore holds a mutex; a Pool holds n emulators.
//   - Payloads are limited as on Lambda: the source caps a response at
//     6 MiB + 100 bytes (interop.MaxPayloadSize); a 7 MiB event reached the
//     Go handler truncated (errorType "errorString", "unexpected EOF"),
//     a 5 MiB one round-tripped.
//   - Its REPORT line's "Max Memory Used" is just the memory size. The
//     measured peak is the bootstrap's VmHWM from /proc, reset (clear_refs 5)
//     before each warm invocation: Invocation.PeakRSS.
//   - The bootstrap runs in its own process group (the emulator sets
//     Setpgid): Close kills it by pid, then the emulator's group. The
//     emulator gets Pdeathsig SIGKILL, so a test binary killed by -timeout
//     leaves no emulator; the bootstrap then exits on its next Runtime API
//     call.
//   - Measured here (echo bootstrap, 2 shared cores): cold start 10-15 ms,
//     warm invocation 1.5 ms p50 through the SDK client, peak RSS ~10 MiB.
//
// # moto's Step Functions executor and the bridge
//
// moto (5.2.5+; 5.2.1 fails every execution after the first) executes ASL
// when its config has {"stepfunctions": {"execute_state_machine": true}},
// set in server mode by POST /moto-api/config (answers 201; its config view
// does not show the stepfunctions part). Its task states call other services
// with boto3 at http://localhost:${MOTO_PORT} (no retries, MOTO_PORT
// default 5000). StartSFN starts moto on one port with MOTO_PORT set to the
// bridge's port; the bridge (127.0.0.1, and ::1 where it exists: localhost
// is 127.0.0.1 only on this machine) sends POST
// /2015-03-31/functions/<name or ARN>/invocations to the Invoker and proxies
// everything else (the ItemReader's s3:getObject included) to moto. The
// bridge answers as Lambda does: 200 and the payload; on a *FunctionError
// 200, X-Amz-Function-Error: Unhandled and the error document, which moto
// turns into a task failure named by the document's errorType; on any other
// error 500 with X-Amzn-ErrorType ServiceException (the task error
// Lambda.ServiceException, which the nightly Retry list catches). Every
// answer carries X-Amzn-RequestId: without it moto's Lambda task fails on a
// service error with KeyError('RequestId') instead of
// Lambda.ServiceException. InvocationType Event is answered 202 and run in
// the background.
//
// What moto 5.2.5 does with the nightly shape (Plan -> Distributed Map with
// an S3 JSON ItemReader, ItemSelector with $$.Map.Item.Value, MaxConcurrency
// 4, ResultPath null, inner lambda:invoke with Retry -> Assemble; Catch ->
// AssembleIncomplete -> Fail), see TestStepFunctionsFanOutOnMoto:
//   - A 25-item run takes 1.1-1.6 s (27 invocations, 4 emulators), and
//     later executions in the same moto succeed too.
//   - StartExecution without a Name names the execution "None": the second
//     one fails with ExecutionAlreadyExists. Always pass a Name.
//   - Retry works (an always-failing item is invoked 1 + MaxAttempts
//     times, IntervalSeconds honoured; a Lambda.ServiceException from the
//     bridge is retried and the item then succeeds).
//   - ToleratedFailureCount is not enforced: failed items never fail the
//     Map run, even with 0 tolerated; the execution goes on to Assemble and
//     SUCCEEDS, and the Map's Catch is not taken (moto logs
//     "ToleratedFailureCount declarations currently have no effect on the
//     program evaluation"). DescribeMapRun does report them
//     (ItemCounts.Failed, Succeeded, Total) and the tolerated count.
//   - The Catch is taken when the Map run itself fails, e.g. its ItemReader
//     cannot read the plan: map_error is {"Error": "States.Runtime",
//     "Cause": "An error occurred (NoSuchKey) ..."}, AssembleIncomplete runs,
//     the execution FAILS with the Fail state's error.
//   - ListExecutions by MapRunArn is not implemented (HTTP 500): the child
//     executions of a Distributed Map cannot be inspected.
//   - The execution history holds only the parent's events (MapRunStarted,
//     MapRunSucceeded/MapRunFailed, ...), no child-execution events.
package lambdatest

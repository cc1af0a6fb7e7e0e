// Command bootstrap is posture's nightly Lambda function (provided.al2023,
// arm64): a thin main around internal/nightly's Handler, which scans through
// the same run function as the CLI and writes the evidence package to S3.
//
// Build it for AWS with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./lambda
//
// Its settings are environment variables (POSTURE_BUCKET, ...; see the
// README); a bad one fails the invocation with a message naming it, so
// settings are read per invocation, not at start-up.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/posture-dev/posture/internal/nightly"
)

// version is the tool version recorded in scan.json (set with
// -ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	h := nightly.Handler{Version: version}
	lambda.Start(h.Handle)
}

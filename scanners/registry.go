// Package scanners is the registry: the one place that lists every scanner
// the product runs. main and the Lambda build it and pass it down; nothing
// registers itself.
package scanners

import (
	"fmt"
	"sort"
	"strings"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/scanners/acm"
	"github.com/posture-dev/posture/scanners/cloudtrail"
	"github.com/posture-dev/posture/scanners/dynamodb"
	"github.com/posture-dev/posture/scanners/ec2"
	"github.com/posture-dev/posture/scanners/efs"
	"github.com/posture-dev/posture/scanners/elasticache"
	"github.com/posture-dev/posture/scanners/iam"
	"github.com/posture-dev/posture/scanners/kinesis"
	"github.com/posture-dev/posture/scanners/kms"
	"github.com/posture-dev/posture/scanners/lambda"
	"github.com/posture-dev/posture/scanners/rds"
	"github.com/posture-dev/posture/scanners/redshift"
	"github.com/posture-dev/posture/scanners/s3"
	"github.com/posture-dev/posture/scanners/secretsmanager"
	"github.com/posture-dev/posture/scanners/sns"
	"github.com/posture-dev/posture/scanners/sqs"
)

// All returns every scanner, in a stable order.
func All() []check.Scanner {
	return []check.Scanner{
		acm.Scanner(),
		cloudtrail.Scanner(),
		dynamodb.Scanner(),
		ec2.Scanner(),
		efs.Scanner(),
		elasticache.Scanner(),
		iam.Scanner(),
		kinesis.Scanner(),
		kms.Scanner(),
		lambda.Scanner(),
		rds.Scanner(),
		redshift.Scanner(),
		s3.Scanner(),
		secretsmanager.Scanner(),
		sns.Scanner(),
		sqs.Scanner(),
	}
}

// Catalogue returns the metadata of every check of the scanners, sorted by
// family then ID.
func Catalogue(list []check.Scanner) []check.Meta {
	var metas []check.Meta
	for _, s := range list {
		metas = append(metas, s.Checks()...)
	}
	sort.SliceStable(metas, func(i, j int) bool {
		if metas[i].Family != metas[j].Family {
			return metas[i].Family.Rank() < metas[j].Family.Rank()
		}
		return metas[i].ID < metas[j].ID
	})
	return metas
}

// Select resolves the user's --checks and --exclude-checks into the IDs of
// the checks to run. An empty include list means every check. An unknown ID
// in either list is an error naming it.
func Select(catalogue []check.Meta, include, exclude []string) ([]string, error) {
	known := map[string]bool{}
	for _, m := range catalogue {
		known[m.ID] = true
	}
	var unknown []string
	for _, id := range append(append([]string{}, include...), exclude...) {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown check ID(s): %s (see `posture checks`)", strings.Join(unknown, ", "))
	}
	excluded := map[string]bool{}
	for _, id := range exclude {
		excluded[id] = true
	}
	included := map[string]bool{}
	for _, id := range include {
		included[id] = true
	}
	var selected []string
	for _, m := range catalogue {
		if (len(include) == 0 || included[m.ID]) && !excluded[m.ID] {
			selected = append(selected, m.ID)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("no check selected: --checks and --exclude-checks leave nothing to run")
	}
	return selected, nil
}

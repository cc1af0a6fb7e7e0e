package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/readonly"
	"github.com/posture-dev/posture/statemachine"
)

// root is the repository top, where the templates are.
const root = "../.."

func load(t *testing.T, name string) Template {
	t.Helper()
	tpl, err := Load(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func res(t *testing.T, tpl Template, id string) map[string]any {
	t.Helper()
	r := tpl.Resource(id)
	if r == nil {
		t.Fatalf("no resource %s", id)
	}
	return r
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

func sub(s string) map[string]any { return map[string]any{"Fn::Sub": s} }

// statement is one IAM policy statement of a role, with where it came from.
type statement struct {
	where     string
	effect    string
	actions   []string
	resources []any
	condition any
}

// branches returns the values v may take: both branches of an Fn::If
// (AWS::NoValue dropped), v itself otherwise.
func branches(v any) []any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if args, ok := m["Fn::If"].([]any); ok && len(args) == 3 {
			var out []any
			for _, b := range args[1:] {
				if js(b) == `{"Ref":"AWS::NoValue"}` {
					continue
				}
				out = append(out, branches(b)...)
			}
			return out
		}
	}
	return []any{v}
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strs(e)...)
		}
		return out
	}
	return nil
}

func anys(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// roleStatements returns every statement of an AWS::IAM::Role's inline
// policies, in every Fn::If branch, plus those of AWS::IAM::RolePolicy
// resources attached to it.
func roleStatements(t *testing.T, tpl Template, roleID string) []statement {
	t.Helper()
	var out []statement
	add := func(where string, doc any) {
		for _, s := range anys(Get(doc, "Statement")) {
			for _, s := range branches(s) {
				out = append(out, statement{
					where:     where,
					effect:    fmt.Sprint(Get(s, "Effect")),
					actions:   strs(Get(s, "Action")),
					resources: anys(Get(s, "Resource")),
					condition: Get(s, "Condition"),
				})
			}
		}
	}
	for _, p := range anys(Get(res(t, tpl, roleID), "Properties", "Policies")) {
		for _, p := range branches(p) {
			add(fmt.Sprint(Get(p, "PolicyName")), Get(p, "PolicyDocument"))
		}
	}
	for _, id := range tpl.ResourcesOfType("AWS::IAM::RolePolicy") {
		if js(Get(tpl.Resource(id), "Properties", "RoleName")) == js(ref(roleID)) {
			add(id, Get(tpl.Resource(id), "Properties", "PolicyDocument"))
		}
	}
	if len(out) == 0 {
		t.Fatalf("role %s has no policy statements", roleID)
	}
	return out
}

// callerOnly are the calls on readonly.Scanning the scanner makes with its
// own credentials, never a scanned account's.
var callerOnly = []string{"sts:AssumeRole", "organizations:ListAccounts", "organizations:DescribeOrganization"}

// scanningActions returns the IAM actions of readonly.Scanning, sorted.
func scanningActions() []string {
	seen := map[string]bool{}
	for _, g := range readonly.Scanning() {
		for _, c := range g.Calls {
			seen[c.Action] = true
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// memberReads is what a scanned account's role must grant: Scanning without
// the caller-only calls.
func memberReads() []string {
	var out []string
	for _, a := range scanningActions() {
		if !slices.Contains(callerOnly, a) {
			out = append(out, a)
		}
	}
	return out
}

// diffLists says what want has that got lacks and the reverse.
func diffLists(got, want []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}

func TestTemplateIsSAM(t *testing.T) {
	tpl := load(t, "template.yaml")
	if tpl["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v", tpl["Transform"])
	}
}

func TestParameters(t *testing.T) {
	tpl := load(t, "template.yaml")
	defaults := map[string]any{
		"ScheduleExpression": "cron(0 2 * * ? *)", "ScheduleTimezone": "UTC", "Mode": "fanout",
		"ScanOrganization": "false", "Accounts": "", "MemberRoleName": "PostureAudit", "ExternalId": "",
		"Regions": "all", "Frameworks": "", "ConfigKey": "", "MaxConcurrency": int64(20),
		"ToleratedFailureCount": int64(5), "MemorySize": int64(2048), "Timeout": int64(900),
		"EvidenceRetentionYears": int64(0), "NoncurrentVersionExpirationDays": int64(0),
		"WorkFilesExpirationDays": int64(30), "AlarmEmail": "", "SigningKeyArn": "", "LogRetentionDays": int64(365),
		"ScanOwnAccount": "false", "Prefix": "posture/",
	}
	for name, want := range defaults {
		p := tpl.Parameter(name)
		if p == nil {
			t.Errorf("no parameter %s", name)
			continue
		}
		if p["Default"] != want {
			t.Errorf("%s default = %#v, want %#v", name, p["Default"], want)
		}
	}
	if tpl.Parameter("ExternalId")["NoEcho"] != true {
		t.Error("ExternalId is not NoEcho")
	}
	if got := js(tpl.Parameter("Mode")["AllowedValues"]); got != `["single","fanout"]` {
		t.Errorf("Mode AllowedValues = %s", got)
	}
}

func TestEvidenceBucket(t *testing.T) {
	tpl := load(t, "template.yaml")
	b := res(t, tpl, "EvidenceBucket")
	p := b["Properties"]
	if b["DeletionPolicy"] != "Retain" {
		t.Errorf("DeletionPolicy = %v, want Retain", b["DeletionPolicy"])
	}
	if got := Get(p, "VersioningConfiguration", "Status"); got != "Enabled" {
		t.Errorf("versioning = %v", got)
	}
	sse := Get(p, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
	if got := Get(sse, "ServerSideEncryptionByDefault", "SSEAlgorithm"); got != "aws:kms" {
		t.Errorf("SSEAlgorithm = %v, want aws:kms", got)
	}
	if Get(sse, "ServerSideEncryptionByDefault", "KMSMasterKeyID") == nil {
		t.Error("no KMSMasterKeyID: the bucket would use the AWS managed key")
	}
	if Get(sse, "BucketKeyEnabled") != true {
		t.Error("BucketKeyEnabled is not true")
	}
	for _, f := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if Get(p, "PublicAccessBlockConfiguration", f) != true {
			t.Errorf("PublicAccessBlockConfiguration.%s is not true", f)
		}
	}
	if got := Get(p, "OwnershipControls", "Rules", 0, "ObjectOwnership"); got != "BucketOwnerEnforced" {
		t.Errorf("ObjectOwnership = %v", got)
	}
	// Object Lock only with a retention, in the chosen mode, for the chosen years.
	if got := js(Get(p, "ObjectLockEnabled")); got != `{"Fn::If":["ObjectLock",true,{"Ref":"AWS::NoValue"}]}` {
		t.Errorf("ObjectLockEnabled = %s", got)
	}
	lock := Get(p, "ObjectLockConfiguration", "Fn::If")
	if Get(lock, 0) != "ObjectLock" || js(Get(lock, 1, "Rule", "DefaultRetention")) != js(map[string]any{
		"Mode": ref("ObjectLockMode"), "Years": ref("EvidenceRetentionYears")}) {
		t.Errorf("ObjectLockConfiguration = %s", js(Get(p, "ObjectLockConfiguration")))
	}
	if got := js(Get(tpl, "Conditions", "ObjectLock")); got != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"EvidenceRetentionYears"},0]}]}` {
		t.Errorf("condition ObjectLock = %s", got)
	}
	// Lifecycle: incomplete uploads are aborted, noncurrent versions expire
	// when asked. No work files here: they live in the work bucket.
	var abort, noncurrent bool
	for _, r := range anys(Get(p, "LifecycleConfiguration", "Rules")) {
		switch {
		case Get(r, "AbortIncompleteMultipartUpload", "DaysAfterInitiation") != nil:
			abort = Get(r, "Status") == "Enabled" && Get(r, "Prefix") == nil
		case Get(r, "NoncurrentVersionExpiration") != nil:
			noncurrent = js(Get(r, "Status")) == `{"Fn::If":["ExpireNoncurrent","Enabled","Disabled"]}`
		}
	}
	if !abort || !noncurrent {
		t.Errorf("lifecycle rules: abort incomplete uploads %v, noncurrent expiry %v; want both", abort, noncurrent)
	}
}

// TestWorkBucket: the fan-out's working files live in a bucket of their own,
// never under Object Lock, encrypted with the same key, private, TLS-only,
// and expired after WorkFilesExpirationDays.
func TestWorkBucket(t *testing.T) {
	tpl := load(t, "template.yaml")
	b := res(t, tpl, "WorkBucket")
	p := b["Properties"]
	if Get(p, "ObjectLockEnabled") != nil || Get(p, "ObjectLockConfiguration") != nil {
		t.Error("the work bucket has Object Lock: its files would be kept for the evidence retention")
	}
	sse := Get(p, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
	if got := Get(sse, "ServerSideEncryptionByDefault", "SSEAlgorithm"); got != "aws:kms" {
		t.Errorf("SSEAlgorithm = %v, want aws:kms", got)
	}
	for _, f := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if Get(p, "PublicAccessBlockConfiguration", f) != true {
			t.Errorf("PublicAccessBlockConfiguration.%s is not true", f)
		}
	}
	expires := false
	for _, r := range anys(Get(p, "LifecycleConfiguration", "Rules")) {
		if Get(r, "Status") == "Enabled" && js(Get(r, "ExpirationInDays")) == js(ref("WorkFilesExpirationDays")) && Get(r, "Prefix") == nil {
			expires = true
		}
	}
	if !expires {
		t.Errorf("the work bucket's files do not expire after WorkFilesExpirationDays: %s", js(Get(p, "LifecycleConfiguration")))
	}
	policy := js(Get(res(t, tpl, "WorkBucketPolicy"), "Properties"))
	for _, want := range []string{`"aws:SecureTransport":"false"`, `"s3:x-amz-server-side-encryption":"aws:kms"`, `{"Ref":"WorkBucket"}`} {
		if !strings.Contains(policy, want) {
			t.Errorf("the work bucket policy lacks %s: %s", want, policy)
		}
	}
	env := js(Get(res(t, tpl, "PostureFunction"), "Properties", "Environment", "Variables", "POSTURE_WORK_BUCKET"))
	if env != js(ref("WorkBucket")) {
		t.Errorf("POSTURE_WORK_BUCKET = %s, want the work bucket", env)
	}
}

func TestBucketPolicy(t *testing.T) {
	tpl := load(t, "template.yaml")
	p := res(t, tpl, "EvidenceBucketPolicy")["Properties"]
	if js(Get(p, "Bucket")) != js(ref("EvidenceBucket")) {
		t.Fatalf("the policy is on %s", js(Get(p, "Bucket")))
	}
	var tls, kms bool
	for _, s := range anys(Get(p, "PolicyDocument", "Statement")) {
		if Get(s, "Effect") != "Deny" || Get(s, "Principal") != "*" {
			continue
		}
		resources := js(Get(s, "Resource"))
		if Get(s, "Condition", "Bool", "aws:SecureTransport") == "false" && js(Get(s, "Action")) == `"s3:*"` &&
			strings.Contains(resources, `["EvidenceBucket","Arn"]`) && strings.Contains(resources, `${EvidenceBucket.Arn}/*`) {
			tls = true
		}
		if slices.Contains(strs(Get(s, "Action")), "s3:PutObject") &&
			Get(s, "Condition", "StringNotEquals", "s3:x-amz-server-side-encryption") == "aws:kms" &&
			Get(s, "Condition", "Null", "s3:x-amz-server-side-encryption") == "false" {
			kms = true
		}
	}
	if !tls {
		t.Error("no Deny of s3:* on the bucket and its objects when aws:SecureTransport is false")
	}
	if !kms {
		t.Error("no Deny of an s3:PutObject that asks for other than aws:kms")
	}
}

func TestFunction(t *testing.T) {
	tpl := load(t, "template.yaml")
	f := res(t, tpl, "PostureFunction")
	p := f["Properties"]
	if f["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("PostureFunction is %v", f["Type"])
	}
	for k, want := range map[string]string{"Runtime": `"provided.al2023"`, "Architectures": `["arm64"]`,
		"Handler": `"bootstrap"`, "CodeUri": `"lambda/"`, "MemorySize": js(ref("MemorySize")), "Timeout": js(ref("Timeout"))} {
		if got := js(Get(p, k)); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if got := Get(p, "EphemeralStorage", "Size"); got != int64(2048) {
		t.Errorf("EphemeralStorage = %v, want 2048", got)
	}
	if got := Get(f, "Metadata", "BuildMethod"); got != "makefile" {
		t.Errorf("BuildMethod = %v, want makefile", got)
	}
	// sam build runs lambda/Makefile's build-PostureFunction in WorkingDirectory.
	mk, err := os.ReadFile(filepath.Join(root, "lambda", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	build := regexp.MustCompile(`(?m)^build-PostureFunction:\s*\n\t(.+)$`).FindStringSubmatch(string(mk))
	if build == nil {
		t.Fatal("lambda/Makefile has no build-PostureFunction target")
	}
	for _, w := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-tags lambda.norpc", "-o $(ARTIFACTS_DIR)/bootstrap", "./lambda"} {
		if !strings.Contains(build[1], w) {
			t.Errorf("build-PostureFunction %q lacks %q", build[1], w)
		}
	}
	if got := Get(f, "Metadata", "WorkingDirectory"); got != "." {
		t.Errorf("WorkingDirectory = %v, want . (go build ./lambda needs the module at the top)", got)
	}
	// Every setting NIGHTLY.md lists reaches the function.
	vars, _ := Get(p, "Environment", "Variables").(map[string]any)
	for _, name := range []string{"POSTURE_BUCKET", "POSTURE_PREFIX", "POSTURE_REGIONS", "POSTURE_ORG", "POSTURE_ACCOUNTS",
		"POSTURE_ROLE_NAME", "POSTURE_EXTERNAL_ID", "POSTURE_FRAMEWORKS", "POSTURE_CONFIG", "POSTURE_SIGN_KMS_KEY",
		"POSTURE_TOPIC_ARN", "POSTURE_CHECKS", "POSTURE_EXCLUDE_CHECKS", "POSTURE_LOG_LEVEL"} {
		if vars[name] == nil {
			t.Errorf("environment variable %s is not set", name)
		}
	}
	for name := range vars {
		if !strings.HasPrefix(name, "POSTURE_") {
			t.Errorf("unexpected environment variable %s", name)
		}
	}
	if js(vars["POSTURE_BUCKET"]) != js(ref("EvidenceBucket")) || js(vars["POSTURE_TOPIC_ARN"]) != js(ref("Topic")) {
		t.Errorf("POSTURE_BUCKET = %s, POSTURE_TOPIC_ARN = %s", js(vars["POSTURE_BUCKET"]), js(vars["POSTURE_TOPIC_ARN"]))
	}
	if js(Get(p, "Role")) != `{"Fn::GetAtt":["PostureFunctionRole","Arn"]}` {
		t.Errorf("Role = %s", js(Get(p, "Role")))
	}
}

func TestSchedules(t *testing.T) {
	tpl := load(t, "template.yaml")
	for _, c := range []struct{ resource, event, state, input string }{
		{"PostureFunction", "NightlySingleRun", "ScheduleSingle", `{"action":"run"}`},
		{"PostureStateMachine", "NightlyFanOut", "ScheduleFanout", `{}`},
	} {
		e := Get(res(t, tpl, c.resource), "Properties", "Events", c.event)
		if Get(e, "Type") != "ScheduleV2" {
			t.Errorf("%s.%s Type = %v, want ScheduleV2", c.resource, c.event, Get(e, "Type"))
		}
		p := Get(e, "Properties")
		if js(Get(p, "ScheduleExpression")) != js(ref("ScheduleExpression")) ||
			js(Get(p, "ScheduleExpressionTimezone")) != js(ref("ScheduleTimezone")) {
			t.Errorf("%s.%s: expression %s, timezone %s", c.resource, c.event, js(Get(p, "ScheduleExpression")), js(Get(p, "ScheduleExpressionTimezone")))
		}
		if got := js(Get(p, "State")); got != js(map[string]any{"Fn::If": []any{c.state, "ENABLED", "DISABLED"}}) {
			t.Errorf("%s.%s State = %s", c.resource, c.event, got)
		}
		if Get(p, "Input") != c.input {
			t.Errorf("%s.%s Input = %v, want %s", c.resource, c.event, Get(p, "Input"), c.input)
		}
	}
	conds := js(Get(tpl, "Conditions"))
	for _, w := range []string{`"IsFanout":{"Fn::Equals":[{"Ref":"Mode"},"fanout"]}`,
		`"ScheduleFanout":{"Fn::And":[{"Condition":"IsFanout"},{"Condition":"ScheduleOn"}]}`,
		`"ScheduleSingle":{"Fn::And":[{"Fn::Not":[{"Condition":"IsFanout"}]},{"Condition":"ScheduleOn"}]}`} {
		if !strings.Contains(conds, w) {
			t.Errorf("Conditions lack %s", w)
		}
	}
}

func TestStateMachine(t *testing.T) {
	tpl := load(t, "template.yaml")
	sm := res(t, tpl, "PostureStateMachine")
	p := sm["Properties"]
	if sm["Type"] != "AWS::Serverless::StateMachine" || Get(p, "Type") != "STANDARD" {
		t.Errorf("state machine %v of type %v", sm["Type"], Get(p, "Type"))
	}
	if Get(p, "DefinitionUri") != statemachine.File {
		t.Errorf("DefinitionUri = %v, want %s", Get(p, "DefinitionUri"), statemachine.File)
	}
	if _, err := os.Stat(filepath.Join(root, statemachine.File)); err != nil {
		t.Errorf("DefinitionUri: %v", err)
	}
	// Every placeholder has a substitution and every substitution a
	// placeholder; rendered with the parameters' defaults it is JSON.
	subs, _ := Get(p, "DefinitionSubstitutions").(map[string]any)
	var keys []string
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if d := diffLists(keys, statemachine.Placeholders()); d != "" {
		t.Errorf("DefinitionSubstitutions against the ASL's placeholders: %s", d)
	}
	if js(subs["PostureFunctionArn"]) != `{"Fn::GetAtt":["PostureFunction","Arn"]}` ||
		js(subs["MaxConcurrency"]) != js(ref("MaxConcurrency")) || js(subs["ToleratedFailureCount"]) != js(ref("ToleratedFailureCount")) {
		t.Errorf("DefinitionSubstitutions = %s", js(subs))
	}
	values, err := tpl.SampleSubstitutions("PostureStateMachine")
	if err != nil {
		t.Fatal(err)
	}
	if values["MaxConcurrency"] != "20" || values["ToleratedFailureCount"] != "5" {
		t.Errorf("sample substitutions %v, want the defaults 20 and 5", values)
	}
	if _, err := statemachine.Render(values); err != nil {
		t.Errorf("rendered with the defaults: %v", err)
	}
	if Get(p, "Logging", "Destinations", 0, "CloudWatchLogsLogGroup", "LogGroupArn") == nil {
		t.Error("the state machine does not log")
	}

	// Its role: invoke the function, read the plan, run its own children.
	st := roleStatements(t, tpl, "StateMachineRole")
	want := map[string]string{
		"lambda:InvokeFunction":    `["PostureFunction","Arn"]`,
		"s3:GetObject":             `${WorkBucket.Arn}/${Prefix}work/*`,
		"states:StartExecution":    `{"Ref":"PostureStateMachine"}`,
		"states:DescribeExecution": `execution:${PostureStateMachine.Name}/*`,
		"states:StopExecution":     `execution:${PostureStateMachine.Name}/*`,
	}
	for action, resource := range want {
		found := false
		for _, s := range st {
			if s.effect == "Allow" && slices.Contains(s.actions, action) && strings.Contains(js(s.resources), resource) {
				found = true
			}
		}
		if !found {
			t.Errorf("the state machine role does not allow %s on %s", action, resource)
		}
	}
	for _, s := range st {
		for _, a := range s.actions {
			if s.effect == "Allow" && !strings.HasPrefix(a, "logs:") && js(s.resources) == `["*"]` {
				t.Errorf("%s: %s on every resource", s.where, a)
			}
		}
	}
}

func TestFunctionRoleLeastPrivilege(t *testing.T) {
	tpl := load(t, "template.yaml")
	st := roleStatements(t, tpl, "PostureFunctionRole")
	reads := scanningActions()
	// Actions allowed on every resource: reads of the scanner's list (its
	// own account, when it scans it) and who-am-I.
	anyResourceOK := append(slices.Clone(reads), "ec2:DescribeRegions", "sts:GetCallerIdentity")
	var ownReads []string
	for _, s := range st {
		if s.effect != "Allow" {
			t.Errorf("%s: unexpected %s statement", s.where, s.effect)
			continue
		}
		for _, a := range s.actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s", s.where, a)
			}
			prefix, name, _ := strings.Cut(a, ":")
			switch {
			case a == "sts:AssumeRole":
				if js(s.resources) != js([]any{sub("arn:${AWS::Partition}:iam::*:role/${MemberRoleName}")}) {
					t.Errorf("%s: sts:AssumeRole on %s, want only the member role", s.where, js(s.resources))
				}
			case prefix == "iam" || prefix == "sts":
				if !slices.Contains(reads, a) {
					t.Errorf("%s: %s is not a read on the scanner's list", s.where, a)
				}
			case prefix == "s3" && !slices.Contains(reads, a):
				// Object reads and writes, and listing: only its own buckets
				// (evidence, and work files below Prefix work/).
				for _, r := range s.resources {
					rs := js(r)
					if rs != `{"Fn::GetAtt":["EvidenceBucket","Arn"]}` && !strings.HasPrefix(rs, `{"Fn::Sub":"${EvidenceBucket.Arn}/`) &&
						rs != `{"Fn::GetAtt":["WorkBucket","Arn"]}` && rs != `{"Fn::Sub":"${WorkBucket.Arn}/${Prefix}work/*"}` {
						t.Errorf("%s: %s on %s, outside its buckets", s.where, a, rs)
					}
				}
				if name == "ListBucket" && Get(s.condition, "StringLike", "s3:prefix") == nil {
					t.Errorf("%s: s3:ListBucket without an s3:prefix condition", s.where)
				}
			case prefix == "kms":
				if js(s.resources) == `["*"]` && !slices.Contains(reads, a) {
					t.Errorf("%s: %s on every key", s.where, a)
				}
			}
			if js(s.resources) == `["*"]` && !slices.Contains(anyResourceOK, a) &&
				!(s.where == "list-organization" && strings.HasPrefix(a, "organizations:")) {
				t.Errorf("%s: %s on every resource", s.where, a)
			}
		}
		if s.where == "scan-own-account" {
			ownReads = append(ownReads, s.actions...)
		}
	}
	// The managed read policies only with the own-account read.
	mp := Get(res(t, tpl, "PostureFunctionRole"), "Properties", "ManagedPolicyArns")
	if js(mp) != js(map[string]any{"Fn::If": []any{"GrantOwnAccountRead", []any{
		sub("arn:${AWS::Partition}:iam::aws:policy/SecurityAudit"),
		sub("arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess")}, ref("AWS::NoValue")}}) {
		t.Errorf("ManagedPolicyArns = %s, want SecurityAudit and ViewOnlyAccess only if GrantOwnAccountRead", js(mp))
	}
	sort.Strings(ownReads)
	if d := diffLists(ownReads, memberReads()); d != "" {
		t.Errorf("scan-own-account against readonly.Scanning: %s", d)
	}
}

func TestAlarms(t *testing.T) {
	tpl := load(t, "template.yaml")
	want := map[string]string{
		"AWS/States ExecutionsFailed":   `{"Ref":"PostureStateMachine"}`,
		"AWS/States ExecutionsTimedOut": `{"Ref":"PostureStateMachine"}`,
		"AWS/States ExecutionsAborted":  `{"Ref":"PostureStateMachine"}`,
		"AWS/Lambda Errors":             `{"Ref":"PostureFunction"}`,
	}
	for _, id := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		p := tpl.Resource(id)["Properties"]
		key := fmt.Sprint(Get(p, "Namespace"), " ", Get(p, "MetricName"))
		if w, ok := want[key]; ok && js(Get(p, "Dimensions", 0, "Value")) == w &&
			js(Get(p, "AlarmActions")) == `[{"Ref":"Topic"}]` && Get(p, "Threshold") == int64(1) {
			delete(want, key)
		}
	}
	for k := range want {
		t.Errorf("no alarm on %s to the topic", k)
	}
	if Get(res(t, tpl, "Topic"), "Properties", "KmsMasterKeyId") == nil {
		t.Error("the topic is not KMS-encrypted")
	}
}

func TestMemberRole(t *testing.T) {
	tpl := load(t, "member-role.yaml")
	r := res(t, tpl, "PostureAuditRole")
	p := r["Properties"]
	if js(Get(p, "RoleName")) != js(ref("RoleName")) || tpl.Parameter("RoleName")["Default"] != "PostureAudit" {
		t.Errorf("RoleName = %s, default %v", js(Get(p, "RoleName")), tpl.Parameter("RoleName")["Default"])
	}
	if Get(p, "MaxSessionDuration") != int64(3600) {
		t.Errorf("MaxSessionDuration = %v", Get(p, "MaxSessionDuration"))
	}
	if tpl.Parameter("ExternalId")["NoEcho"] != true {
		t.Error("ExternalId is not NoEcho")
	}
	trust := anys(Get(p, "AssumeRolePolicyDocument", "Statement"))
	if len(trust) != 1 || js(Get(trust[0], "Principal")) != `{"AWS":{"Ref":"ScannerRoleArn"}}` ||
		Get(trust[0], "Action") != "sts:AssumeRole" ||
		js(Get(trust[0], "Condition")) != `{"StringEquals":{"sts:ExternalId":{"Ref":"ExternalId"}}}` {
		t.Errorf("trust = %s, want only ScannerRoleArn with the external ID", js(trust))
	}
	if got := js(Get(p, "ManagedPolicyArns")); got != js([]any{sub("arn:${AWS::Partition}:iam::aws:policy/SecurityAudit"),
		sub("arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess")}) {
		t.Errorf("ManagedPolicyArns = %s", got)
	}
	st := roleStatements(t, tpl, "PostureAuditRole")
	var allowed, denied []string
	for _, s := range st {
		switch s.effect {
		case "Allow":
			allowed = append(allowed, s.actions...)
			for _, a := range s.actions {
				_, name, _ := strings.Cut(a, ":")
				if !regexp.MustCompile(`^(Describe|List|Get|GenerateCredentialReport$)`).MatchString(name) {
					t.Errorf("allows %s, not a read", a)
				}
			}
		case "Deny":
			denied = append(denied, s.actions...)
		}
	}
	sort.Strings(allowed)
	// The inline list is exactly what the scanner calls with a scanned
	// account's credentials, whatever SecurityAudit holds this year.
	if d := diffLists(allowed, memberReads()); d != "" {
		t.Errorf("the role's reads against readonly.Scanning: %s", d)
	}
	for _, must := range []string{"secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters",
		"ssm:GetParametersByPath", "s3:GetObject", "kms:Decrypt", "lambda:GetFunction", "lambda:GetFunctionConfiguration"} {
		if !slices.Contains(denied, must) {
			t.Errorf("%s is not denied", must)
		}
	}
	for _, d := range denied {
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(d), `\*`, ".*") + "$")
		for _, a := range scanningActions() {
			if re.MatchString(a) {
				t.Errorf("denies %s, which the scanner calls (%s)", d, a)
			}
		}
	}
}

// TestNoUnknownShortForms keeps the loader honest: it refuses a tag it does
// not know rather than reading it as a plain value.
func TestNoUnknownShortForms(t *testing.T) {
	if _, err := Parse([]byte("A: !Nope x\n")); err == nil || !strings.Contains(err.Error(), "!Nope") {
		t.Errorf("unknown tag: err = %v", err)
	}
	tpl, err := Parse([]byte("A: !GetAtt B.Arn\nC: !If [X, !Ref D, 3]\nE: yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	if js(tpl) != `{"A":{"Fn::GetAtt":["B","Arn"]},"C":{"Fn::If":["X",{"Ref":"D"},3]},"E":"yes"}` {
		t.Errorf("parsed %s", js(tpl))
	}
}

// Command sdkv2 runs the issue #14 scenarios through the unmodified official Go SDK v2
// (github.com/yandex-cloud/go-sdk/v2) against a running emulator, and prints one line per check:
//
//	sdkv2 -scenario auth|images|errors|workflow -endpoint 127.0.0.1:TLS_PORT -ca ca.pem \
//	      -token IAM_TOKEN -oauth-token OAUTH_TOKEN -folder FOLDER -admin http://127.0.0.1:ADMIN_PORT
//
// (or the YCR_* environment variables, see -help). The emulator runs strict auth with both tokens
// configured for FOLDER only, and FOLDER starts empty: each scenario adds what it lists through the
// control plane, which also makes operations pend so that the SDK's waiter polls.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	cloudregistry "github.com/yandex-cloud/go-genproto/yandex/cloud/cloudregistry/v1"
	containerregistry "github.com/yandex-cloud/go-genproto/yandex/cloud/containerregistry/v1"
	ycsdk "github.com/yandex-cloud/go-sdk/v2"
	"github.com/yandex-cloud/go-sdk/v2/credentials"
	"github.com/yandex-cloud/go-sdk/v2/pkg/options"
	"github.com/yandex-cloud/go-sdk/v2/pkg/transport/middleware/idempotency"
	"github.com/yandex-cloud/go-sdk/v2/pkg/transport/middleware/requestid"

	"ycrtest/check"
)

var (
	settings check.Settings
	run      = &check.Run{Name: "go-sdk v2"}
	admin    check.Admin
	ctx      = context.Background()
)

func main() {
	settings = check.Parse("auth", "images", "errors", "workflow")
	run.Name += " " + settings.Scenario
	admin = check.Admin{URL: settings.AdminURL, Token: settings.AdminToken}
	if err := admin.OperationModes(check.PendingOperations); err != nil {
		run.Fatal("setup: operation modes", err)
	}
	sdk := build(credentials.IAMToken(settings.Token))
	map[string]func(*ycsdk.SDK){"auth": auth, "images": images, "errors": errorCodes, "workflow": workflow}[settings.Scenario](sdk)
	run.Exit()
}

// build is connect, or the end of the scenario.
func build(credentials credentials.Credentials, more ...options.Option) *ycsdk.SDK {
	sdk, err := connect(settings.Endpoint, settings.CAFile, credentials, more...)
	if err != nil {
		run.Fatal("build the SDK", err)
	}
	return sdk
}

// README snippet: go-sdk v2
// connect points the SDK at the emulator: its TLS address, its CA, and a token it accepts.
func connect(endpoint, caFile string, credentials credentials.Credentials, more ...options.Option) (*ycsdk.SDK, error) {
	// go-sdk v2 dials the discovery endpoint, and every endpoint it discovers, with the system's
	// roots (options.WithTLSConfig does not reach them): SSL_CERT_FILE makes the emulator's CA the
	// process's roots. Set it before the process's first TLS connection, or in its environment.
	if err := os.Setenv("SSL_CERT_FILE", caFile); err != nil { // ycr-emulator --tls-port 50052 --ca-file ca.pem
		return nil, err
	}
	return ycsdk.Build(context.Background(), append([]options.Option{
		options.WithDiscoveryEndpoint(endpoint), // ApiEndpointService answers the emulator's own address
		options.WithCredentials(credentials),    // credentials.IAMToken(token), or credentials.OAuthToken(token)
	}, more...)...)
}

// end of README snippet

// ---- auth: discovery, TLS, IAM token, OAuth token exchange, and their refusals ----------------------

func auth(sdk *ycsdk.SDK) {
	list := func(sdk *ycsdk.SDK, folder string) error {
		_, err := RegistryClient{sdk}.List(ctx, &containerregistry.ListRegistriesRequest{FolderId: folder})
		return err
	}
	run.NoError("IAM token: RegistryService.List", list(sdk, settings.Folder))
	for _, method := range []protoreflect.FullName{method("ImageService", "List"), operationGet, ycsdk.IamTokenCreateEndpoint} {
		endpoint, err := sdk.GetEndpoint(method)
		run.That("discovery: "+string(method)+" is the emulator", check.If(err != nil || endpoint.Addr != settings.Endpoint,
			"discovered %v (%v), want %s", endpoint, err, settings.Endpoint))
	}

	exchanged := build(credentials.OAuthToken(settings.OAuthToken))
	run.NoError("OAuth token: exchanged through IamTokenService.Create for RegistryService.List", list(exchanged, settings.Folder))
	token, err := exchanged.CreateIAMToken(ctx)
	if run.NoError("OAuth token: SDK.CreateIAMToken", err) {
		run.That("OAuth token: the IAM token expires in 12 hours", check.Within(time.Until(token.GetExpiresAt()), 11*time.Hour, 13*time.Hour))
	}
	recorded, err := admin.Codes("IamTokenService/Create")
	if run.NoError("OAuth token: calls recorded", err) {
		run.That("OAuth token: IamTokenService.Create answered the SDK twice", check.Same("codes", recorded, []string{"OK", "OK"}))
	}

	run.Expect("UNAUTHENTICATED: no token (credentials.NoAuthentication)",
		list(build(credentials.NoAuthentication()), settings.Folder), codes.Unauthenticated)
	run.Expect("UNAUTHENTICATED: empty IAM token", list(build(credentials.IAMToken("")), settings.Folder), codes.Unauthenticated)
	run.Expect("UNAUTHENTICATED: an IAM token the emulator did not issue",
		list(build(credentials.IAMToken("t1.not-issued")), settings.Folder), codes.Unauthenticated)
	run.Expect("UNAUTHENTICATED: an OAuth token not configured",
		list(build(credentials.OAuthToken("y0_not-configured")), settings.Folder), codes.Unauthenticated)
	run.Expect("PERMISSION_DENIED: a folder the token may not touch", list(sdk, settings.OtherFolder), codes.PermissionDenied)
	// (No "refused without the emulator's CA" here: after connect the process's roots are that CA.
	// The go-sdk v1 program checks it.)
	recorded, err = admin.Codes("RegistryService/List")
	if run.NoError("refusals: calls recorded", err) {
		run.That("refusals: the emulator answered each (the OAuth token's at IamTokenService.Create)",
			check.Same("RegistryService/List codes", recorded, []string{"OK", "OK", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "PERMISSION_DENIED"}))
	}
	recorded, err = admin.Codes("ApiEndpointService/List")
	if run.NoError("discovery: calls recorded", err) {
		run.That("discovery: each SDK listed the endpoints through the emulator", check.AllOK(recorded))
	}
}

// ---- images: List with paging in every scope, Get, Delete and the SDK's operation waiter -----------

func images(sdk *ycsdk.SDK) {
	seeded := check.SeedImages(run, admin, settings.Folder)
	client := ImageClient{sdk}
	var inRegistry []*containerregistry.Image
	for _, scope := range seeded.Scopes() {
		request := func(size int64) *containerregistry.ListImagesRequest {
			return &containerregistry.ListImagesRequest{
				FolderId: scope.Folder, RegistryId: scope.Registry, RepositoryName: scope.Repository, PageSize: size,
			}
		}
		// The SDK's iterator, two images a page.
		iterated, err := client.ImagesIterator(ctx, request(2)).TakeAll()
		if run.NoError("List "+scope.Name+": iterator.Iterator, 2 a page", err) {
			run.That("List "+scope.Name+": iterator.Iterator lists each image once", check.Same("ids", check.Sorted(check.IDs(iterated)), check.Sorted(scope.Want)))
		}
		// By hand: pages of 3 following next_page_token, in the order of one big page.
		whole, err := client.List(ctx, request(0))
		if !run.NoError("List "+scope.Name+": one page", err) {
			continue
		}
		var paged, sizes []string
		next := request(3)
		for {
			page, err := client.List(ctx, next)
			if err != nil {
				run.Fail("List "+scope.Name+": pages of 3", "%v", err)
				break
			}
			paged, sizes = append(paged, check.IDs(page.Images)...), append(sizes, fmt.Sprint(len(page.Images)))
			if next.PageToken = page.NextPageToken; next.PageToken == "" {
				break
			}
		}
		run.That("List "+scope.Name+": pages of 3 follow next_page_token in one page's order", check.Same("ids", paged, check.IDs(whole.Images)))
		run.That("List "+scope.Name+": page sizes", check.Same("sizes", sizes, check.PageSizes(len(scope.Want), 3)))
		if scope.Registry != "" && scope.Repository == "" {
			inRegistry = whole.Images
		}
	}
	if len(inRegistry) == 0 {
		run.Fatal("List", fmt.Errorf("nothing listed in registry %s", seeded.Main))
	}
	filtered, err := client.List(ctx, &containerregistry.ListImagesRequest{
		RegistryId: seeded.Main, Filter: fmt.Sprintf("name = %q", seeded.Main+"/team/web"), OrderBy: "created_at desc",
	})
	if run.NoError("List: filter and order_by", err) {
		run.That("List: filter", check.Same("ids", check.Sorted(check.IDs(filtered.Images)), check.Sorted(seeded.Added[seeded.Main+"/team/web"])))
		run.That("List: order_by created_at desc", check.NewestFirst(filtered.Images))
	}

	target := inRegistry[0]
	got, err := client.Get(ctx, &containerregistry.GetImageRequest{ImageId: target.Id})
	if run.NoError("Get", err) {
		run.That("Get: the image List gave", check.Equal(got, target))
	}
	op, err := client.Delete(ctx, &containerregistry.DeleteImageRequest{ImageId: target.Id})
	if !run.NoError("Delete", err) {
		return
	}
	run.That("Delete: the operation pends", check.If(op.Done(), "done at once"))
	meta, ok := op.Metadata().(*containerregistry.DeleteImageMetadata)
	run.That("Delete: DeleteImageMetadata.image_id", check.If(!ok || meta.ImageId != target.Id || op.ResourceID() != target.Id,
		"%v", op.Metadata()))
	response, err := op.Wait(ctx)
	if run.NoError("Delete: Operation.Wait polls OperationService.Get", err) {
		_, empty := response.(*emptypb.Empty)
		run.That("Delete: done with Empty", check.If(!op.Done() || !empty, "done=%v response=%v", op.Done(), response))
	}
	_, err = client.Get(ctx, &containerregistry.GetImageRequest{ImageId: target.Id})
	run.Expect("Delete: Get afterwards is NOT_FOUND", err, codes.NotFound)
	left, err := client.ImagesIterator(ctx, &containerregistry.ListImagesRequest{RegistryId: seeded.Main}).TakeAll()
	if run.NoError("Delete: List afterwards", err) {
		run.That("Delete: List afterwards lists one image less", check.If(len(left) != len(inRegistry)-1, "%d images", len(left)))
	}
	lifecycle(sdk, seeded.Main+"/app")
	scan(sdk, seeded.Main+"/app")
}

// ---- lifecycle (a step of the images scenario): a DISABLED policy, its dry run, what it would delete

func lifecycle(sdk *ycsdk.SDK, repositoryName string) {
	repository, err := RepositoryClient{sdk}.GetByName(ctx, &containerregistry.GetRepositoryByNameRequest{RepositoryName: repositoryName})
	if err != nil {
		run.Fatal("lifecycle: RepositoryService.GetByName "+repositoryName, err)
	}
	inRepository, err := ImageClient{sdk}.ImagesIterator(ctx, &containerregistry.ListImagesRequest{RepositoryName: repositoryName}).TakeAll()
	if err != nil {
		run.Fatal("lifecycle: ImageService.List of "+repositoryName, err)
	}
	policies := LifecyclePolicyClient{sdk}
	op, err := policies.Create(ctx, &containerregistry.CreateLifecyclePolicyRequest{
		RepositoryId: repository.Id, Name: "go-keep-newest", Status: containerregistry.LifecyclePolicy_DISABLED,
		Rules: []*containerregistry.LifecycleRule{{
			TagRegexp: check.KeepTagRegexp, ExpirePeriod: durationpb.New(check.KeepExpire), RetainedTop: check.KeepRetainedTop,
		}},
	})
	if err != nil {
		run.Fatal("LifecyclePolicyService.Create", err)
	}
	run.That("LifecyclePolicyService.Create: the operation pends", check.If(op.Done(), "done at once"))
	meta, ok := op.Metadata().(*containerregistry.CreateLifecyclePolicyMetadata)
	if !ok || meta.LifecyclePolicyId == "" || op.ResourceID() != meta.LifecyclePolicyId {
		run.Fatal("LifecyclePolicyService.Create: CreateLifecyclePolicyMetadata.lifecycle_policy_id", fmt.Errorf("%v", op.Metadata()))
	}
	policyID := meta.LifecyclePolicyId
	response, err := op.Wait(ctx)
	if err != nil {
		run.Fatal("LifecyclePolicyService.Create: Operation.Wait", err)
	}
	created, ok := response.(*containerregistry.LifecyclePolicy)
	run.That("LifecyclePolicyService.Create: the DISABLED LifecyclePolicy in the response", check.If(!ok ||
		created.Id != policyID || created.RepositoryId != repository.Id || created.Status != containerregistry.LifecyclePolicy_DISABLED,
		"%v", response))

	got, err := policies.Get(ctx, &containerregistry.GetLifecyclePolicyRequest{LifecyclePolicyId: policyID})
	if run.NoError("LifecyclePolicyService.Get", err) {
		rules := got.GetRules()
		run.That("LifecyclePolicyService.Get: the rule, expire_period 24h", check.If(len(rules) != 1 ||
			rules[0].GetExpirePeriod().AsDuration() != 24*time.Hour || rules[0].GetTagRegexp() != check.KeepTagRegexp ||
			rules[0].GetRetainedTop() != check.KeepRetainedTop, "rules %v", rules))
	}

	op, err = policies.DryRun(ctx, &containerregistry.DryRunLifecyclePolicyRequest{LifecyclePolicyId: policyID})
	if err == nil {
		response, err = op.Wait(ctx)
	}
	if err != nil {
		run.Fatal("LifecyclePolicyService.DryRun, and wait", err)
	}
	result, ok := response.(*containerregistry.DryRunLifecyclePolicyResult)
	if !ok {
		run.Fatal("LifecyclePolicyService.DryRun: response", fmt.Errorf("%v", response))
	}
	dryRun, ok := op.Metadata().(*containerregistry.DryRunLifecyclePolicyMetadata)
	run.That("LifecyclePolicyService.DryRun: DryRunLifecyclePolicyMetadata names the result and the policy", check.If(!ok ||
		dryRun.DryRunLifecyclePolicyResultId != result.DryRunLifecyclePolicyResultId || dryRun.LifecyclePolicyId != policyID,
		"%v, result %v", op.Metadata(), result))
	fetched, err := policies.GetDryRunResult(ctx, &containerregistry.GetDryRunLifecyclePolicyResultRequest{
		DryRunLifecyclePolicyResultId: result.DryRunLifecyclePolicyResultId,
	})
	if run.NoError("LifecyclePolicyService.GetDryRunResult", err) {
		run.That("LifecyclePolicyService.GetDryRunResult: the operation's result", check.Equal(fetched, result))
	}
	affected, err := policies.DryRunResultAffectedImagesIterator(ctx, &containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest{
		DryRunLifecyclePolicyResultId: result.DryRunLifecyclePolicyResultId, PageSize: 1,
	}).TakeAll()
	if run.NoError("LifecyclePolicyService.ListDryRunResultAffectedImages, 1 a page", err) {
		run.That("ListDryRunResultAffectedImages: as many as affected_images_count, at least one", check.If(
			int64(len(affected)) != result.AffectedImagesCount || len(affected) == 0,
			"%d listed, affected_images_count %d", len(affected), result.AffectedImagesCount))
		want := check.WouldDelete(inRepository, result.RunAt.AsTime(), check.KeepExpire, check.KeepRetainedTop)
		run.That("ListDryRunResultAffectedImages: all but the newest image", check.Same("ids", check.Sorted(check.IDs(affected)), check.Sorted(want)))
	}

	deleting, err := policies.Delete(ctx, &containerregistry.DeleteLifecyclePolicyRequest{LifecyclePolicyId: policyID})
	if err == nil {
		_, err = deleting.Wait(ctx)
	}
	run.NoError("LifecyclePolicyService.Delete, and wait", err)
	_, err = policies.Get(ctx, &containerregistry.GetLifecyclePolicyRequest{LifecyclePolicyId: policyID})
	run.Expect("LifecyclePolicyService.Get of the deleted policy is NOT_FOUND", err, codes.NotFound)
	left, err := ImageClient{sdk}.ImagesIterator(ctx, &containerregistry.ListImagesRequest{RepositoryName: repositoryName}).TakeAll()
	if run.NoError("lifecycle: ImageService.List afterwards", err) {
		run.That("lifecycle: the dry run deleted nothing", check.Same("ids", check.Sorted(check.IDs(left)), check.Sorted(check.IDs(inRepository))))
	}
}

// ---- scan (the images scenario's last step): a vulnerability report for an image's digest, and its scan

func scan(sdk *ycsdk.SDK, repositoryName string) {
	inRepository, err := ImageClient{sdk}.ImagesIterator(ctx, &containerregistry.ListImagesRequest{RepositoryName: repositoryName}).TakeAll()
	if err == nil && len(inRepository) == 0 {
		err = fmt.Errorf("no image")
	}
	if err != nil {
		run.Fatal("scan: ImageService.List of "+repositoryName, err)
	}
	image := inRepository[0]
	if err := admin.AddVulnerabilityReport(image.Digest, check.ScanReport); err != nil {
		run.Fatal("scan: a vulnerability report for the image's digest (control plane)", err)
	}
	scanner := ScannerClient{sdk}
	op, err := scanner.Scan(ctx, &containerregistry.ScanRequest{ImageId: image.Id})
	if err != nil {
		run.Fatal("ScannerService.Scan", err)
	}
	run.That("ScannerService.Scan: the operation pends", check.If(op.Done(), "done at once"))
	meta, ok := op.Metadata().(*containerregistry.ScanMetadata)
	if !ok || meta.ScanResultId == "" || op.ResourceID() != meta.ScanResultId {
		run.Fatal("ScannerService.Scan: ScanMetadata.scan_result_id", fmt.Errorf("%v", op.Metadata()))
	}
	running, err := scanner.Get(ctx, &containerregistry.GetScanResultRequest{ScanResultId: meta.ScanResultId})
	if run.NoError("ScannerService.Get while the scan pends", err) {
		run.That("ScannerService.Get: RUNNING while the operation pends", check.If(
			running.Status != containerregistry.ScanResult_RUNNING || running.ImageId != image.Id, "%v", running))
	}
	response, err := op.Wait(ctx)
	if err != nil {
		run.Fatal("ScannerService.Scan: Operation.Wait", err)
	}
	result, ok := response.(*containerregistry.ScanResult)
	if !ok {
		run.Fatal("ScannerService.Scan: response", fmt.Errorf("%v", response))
	}
	run.That("ScannerService.Scan: the READY ScanResult of the image in the response", check.If(result.Id != meta.ScanResultId ||
		result.ImageId != image.Id || result.Status != containerregistry.ScanResult_READY || result.ScannedAt == nil, "%v", result))
	run.That("ScannerService.Scan: VulnerabilityStats counts the seeded report", check.SameCounts(check.SeverityCounts(result.Vulnerabilities), check.ReportCounts()))

	last, err := scanner.GetLast(ctx, &containerregistry.GetLastScanResultRequest{ImageId: image.Id})
	if run.NoError("ScannerService.GetLast", err) {
		run.That("ScannerService.GetLast: the image's last result is the scan's", check.Equal(last, result))
	}
	found, err := scanner.VulnerabilitiesIterator(ctx, &containerregistry.ListVulnerabilitiesRequest{
		ScanResultId: result.Id, PageSize: 1,
	}).TakeAll()
	if run.NoError("ScannerService.ListVulnerabilities, 1 a page", err) {
		var names, packages []string
		for _, vulnerability := range found {
			names, packages = append(names, vulnerability.GetPackage().GetName()), append(packages, vulnerability.GetPackage().GetPackage())
		}
		run.That("ListVulnerabilities: the seeded report's vulnerabilities", check.Same("names", check.Sorted(names), check.ReportPackages("name")))
		run.That("ListVulnerabilities: their packages", check.Same("packages", check.Sorted(packages), check.ReportPackages("package")))
	}
}

// ---- errors: each documented code as the SDK surfaces it, request ids, retries ----------------------

func errorCodes(sdk *ycsdk.SDK) {
	registry, err := admin.AddRegistry(settings.Folder, "go-errors")
	if err != nil {
		run.Fatal("setup", err)
	}
	if _, err := admin.AddImage(registry.ID, "app", "latest"); err != nil {
		run.Fatal("setup", err)
	}
	images, registries := ImageClient{sdk}, RegistryClient{sdk}
	for _, bad := range check.BadLists(settings.Folder) {
		_, err := images.List(ctx, &containerregistry.ListImagesRequest{FolderId: bad.Folder, PageSize: bad.PageSize,
			Filter: bad.Filter, OrderBy: bad.OrderBy, PageToken: bad.PageToken})
		if run.Expect("INVALID_ARGUMENT: "+bad.Field, err, codes.InvalidArgument) {
			run.That("INVALID_ARGUMENT: "+bad.Field+" named in google.rpc.BadRequest", check.Violates(err, bad.Field))
		}
	}
	_, err = images.Get(ctx, &containerregistry.GetImageRequest{ImageId: check.Unknown})
	run.Expect("NOT_FOUND: ImageService.Get", err, codes.NotFound)
	_, err = images.Delete(ctx, &containerregistry.DeleteImageRequest{ImageId: check.Unknown})
	run.Expect("NOT_FOUND: ImageService.Delete", err, codes.NotFound)
	_, err = images.List(ctx, &containerregistry.ListImagesRequest{RegistryId: check.Unknown})
	run.Expect("NOT_FOUND: ImageService.List of an unknown registry", err, codes.NotFound)
	_, err = poller(sdk)(ctx, check.Unknown)
	run.Expect("NOT_FOUND: OperationService.Get", err, codes.NotFound)
	_, err = registries.Delete(ctx, &containerregistry.DeleteRegistryRequest{RegistryId: registry.ID})
	run.Expect("FAILED_PRECONDITION: RegistryService.Delete of a registry that holds images", err, codes.FailedPrecondition)
	_, err = registries.Create(ctx, &containerregistry.CreateRegistryRequest{FolderId: settings.Folder, Name: "go-errors"})
	run.Expect("ALREADY_EXISTS: RegistryService.Create with a name taken", err, codes.AlreadyExists)

	// The SDK's own interceptors: request ids on every error, an idempotency key on every call.
	traced := build(credentials.IAMToken(settings.Token), options.WithCustomDialOptions(
		grpc.WithChainUnaryInterceptor(idempotency.Interceptor(), requestid.Interceptor())))
	_, err = ImageClient{traced}.Get(ctx, &containerregistry.GetImageRequest{ImageId: check.Unknown})
	if run.Expect("request ids: NOT_FOUND through requestid.Interceptor", err, codes.NotFound) {
		ids, ok := requestid.RequestIDsFromError(err)
		run.That("request ids: x-request-id and x-server-trace-id read from the response",
			check.If(!ok || ids.RequestID == "" || len(ids.ServerTraceID) != 32, "%+v", ids))
		info := check.RequestInfo(err)
		run.That("request ids: x-request-id is RequestInfo.request_id (the emulator's, not the client's)",
			check.If(info == nil || ids == nil || info.RequestId != ids.RequestID, "%v vs %+v", info, ids))
	}
	_, err = ImageClient{traced}.List(ctx, &containerregistry.ListImagesRequest{RegistryId: registry.ID})
	run.NoError("idempotency-key on a List is accepted", err)

	// An injected UNAVAILABLE (trailers-only, as from the infrastructure): surfaced as it is, or
	// retried by the SDK's retry policy.
	fault := map[string]any{"method": "ImageService/List", "code": "UNAVAILABLE", "count": 1}
	if err := admin.AddFault(fault); err != nil {
		run.Fatal("setup", err)
	}
	_, err = images.List(ctx, &containerregistry.ListImagesRequest{RegistryId: registry.ID})
	run.Expect("UNAVAILABLE: an injected fault, without retries", err, codes.Unavailable)
	retrying := build(credentials.IAMToken(settings.Token), options.WithDefaultRetryOptions())
	if err := admin.AddFault(fault); err != nil {
		run.Fatal("setup", err)
	}
	_, err = ImageClient{retrying}.List(ctx, &containerregistry.ListImagesRequest{RegistryId: registry.ID})
	run.NoError("retry: the SDK's retry policy (options.WithDefaultRetryOptions) retries UNAVAILABLE", err)
	recorded, err := admin.Codes("ImageService/List")
	if run.NoError("retry: calls recorded", err) {
		run.That("retry: the emulator answered UNAVAILABLE, then OK", check.Same("last codes", check.Last(recorded, 2), []string{"UNAVAILABLE", "OK"}))
	}

	// An operation that finishes with an error: the waiter returns it.
	image, err := admin.AddImage(registry.ID, "app", "v2")
	if err == nil {
		err = admin.AddFault(check.OperationError)
	}
	if err != nil {
		run.Fatal("setup", err)
	}
	op, err := images.Delete(ctx, &containerregistry.DeleteImageRequest{ImageId: image.ID})
	if run.NoError("operation error: Delete answers an operation", err) {
		_, err := op.Wait(ctx)
		run.Expect("operation error: Operation.Wait returns the operation's error", err, codes.FailedPrecondition)
	}
}

// ---- workflow: create a registry, list repositories, delete images, delete the registry; then Cloud Registry

func workflow(sdk *ycsdk.SDK) {
	registries := RegistryClient{sdk}
	op, err := registries.Create(ctx, &containerregistry.CreateRegistryRequest{
		FolderId: settings.Folder, Name: "go-workflow", Labels: map[string]string{"team": "ci"},
	})
	if err != nil {
		run.Fatal("RegistryService.Create", err)
	}
	run.That("RegistryService.Create: the operation pends", check.If(op.Done(), "done at once"))
	response, err := op.Wait(ctx)
	if err != nil {
		run.Fatal("RegistryService.Create: Operation.Wait", err)
	}
	created, ok := response.(*containerregistry.Registry)
	if !ok {
		run.Fatal("RegistryService.Create: response", fmt.Errorf("%v", response))
	}
	run.That("RegistryService.Create: the Registry in the response", check.If(created.Name != "go-workflow" ||
		created.Status != containerregistry.Registry_ACTIVE || created.Labels["team"] != "ci", "%v", created))
	run.That("RegistryService.Create: CreateRegistryMetadata.registry_id", check.If(op.ResourceID() != created.Id, "%v", op.Metadata()))

	found, err := registries.RegistriesIterator(ctx, &containerregistry.ListRegistriesRequest{
		FolderId: settings.Folder, Filter: `name = "go-workflow"`,
	}).TakeAll()
	if run.NoError("RegistryService.List: by name", err) {
		run.That("RegistryService.List: by name finds it alone", check.Same("ids", check.IDs(found), []string{created.Id}))
	}

	for n, path := range check.WorkflowImages {
		if _, err := admin.AddImage(created.Id, path, fmt.Sprintf("v%d", n)); err != nil {
			run.Fatal("setup: add images", err)
		}
	}
	repositories := RepositoryClient{sdk}
	listed, err := repositories.RepositoriesIterator(ctx, &containerregistry.ListRepositoriesRequest{
		RegistryId: created.Id, OrderBy: "name", PageSize: 1,
	}).TakeAll()
	if !run.NoError("RepositoryService.List", err) {
		run.Exit()
	}
	run.That("RepositoryService.List: one a page, by name", check.Same("names", check.NamesOf(listed), check.Repositories(created.Id)))
	if len(listed) > 0 {
		byName, err := repositories.GetByName(ctx, &containerregistry.GetRepositoryByNameRequest{RepositoryName: listed[0].Name})
		if run.NoError("RepositoryService.GetByName", err) {
			run.That("RepositoryService.GetByName: the listed repository", check.Equal(byName, listed[0]))
		}
	}

	images := ImageClient{sdk}
	deleted := 0
	for _, repository := range listed {
		inRepository, err := images.ImagesIterator(ctx, &containerregistry.ListImagesRequest{RepositoryName: repository.Name}).TakeAll()
		if !run.NoError("ImageService.List of "+repository.Name, err) {
			continue
		}
		for _, image := range inRepository {
			op, err := images.Delete(ctx, &containerregistry.DeleteImageRequest{ImageId: image.Id})
			if err == nil {
				_, err = op.Wait(ctx)
			}
			if err != nil {
				run.Fail("ImageService.Delete "+image.Id, "%v", err)
				continue
			}
			deleted++
		}
	}
	run.That("ImageService.Delete of every image, waiting for each", check.If(deleted != len(check.WorkflowImages), "%d deleted", deleted))
	emptied, err := repositories.List(ctx, &containerregistry.ListRepositoriesRequest{RegistryId: created.Id})
	if run.NoError("RepositoryService.List afterwards", err) {
		run.That("RepositoryService.List afterwards: repositories go with their last image",
			check.Same("names", check.NamesOf(emptied.Repositories), nil))
	}

	deleting, err := registries.Delete(ctx, &containerregistry.DeleteRegistryRequest{RegistryId: created.Id})
	if err == nil {
		_, err = deleting.Wait(ctx)
	}
	run.NoError("RegistryService.Delete, and wait", err)
	_, err = registries.Get(ctx, &containerregistry.GetRegistryRequest{RegistryId: created.Id})
	run.Expect("RegistryService.Get of the deleted registry is NOT_FOUND", err, codes.NotFound)
	cloudRegistry(sdk)
	migration(sdk)
}

// ---- cloud registry (the workflow scenario's last step): a Docker image's tags as Cloud Registry artifacts

func cloudRegistry(sdk *ycsdk.SDK) {
	docker, err := admin.AddCloudRegistry(settings.Folder, check.CloudRegistryName, "DOCKER")
	if err == nil {
		_, err = admin.AddCloudRegistry(settings.Folder, check.CloudRegistryOther, "NPM")
	}
	if err != nil {
		run.Fatal("cloud registry: setup: add registries", err)
	}
	image, err := admin.AddImage(docker.ID, check.CloudRegistryRepository, check.CloudRegistryTags...)
	if err != nil {
		run.Fatal("cloud registry: setup: add an image", err)
	}
	const name = "cloud registry: "
	for _, service := range []string{"RegistryService", "ArtifactService"} {
		method := cloudRegistryMethod(service, "Get")
		endpoint, err := sdk.GetEndpoint(method)
		run.That(name+"discovery: "+string(method)+" is the emulator (cloud-registry)", check.If(err != nil || endpoint.Addr != settings.Endpoint,
			"discovered %v (%v), want %s", endpoint, err, settings.Endpoint))
	}

	registries := CloudRegistryClient{sdk}
	found, err := registries.Iterator(ctx, &cloudregistry.ListRegistriesRequest{
		FolderId: settings.Folder, Kind: []cloudregistry.Registry_Kind{cloudregistry.Registry_DOCKER},
	}).TakeAll()
	if run.NoError(name+"RegistryService.List, kind DOCKER", err) {
		run.That(name+"RegistryService.List: the DOCKER registry alone", check.Same("ids", check.IDs(found), []string{docker.ID}))
	}
	tags := func() ([]*cloudregistry.Artifact, error) {
		return registries.ArtifactsIterator(ctx, &cloudregistry.ListArtifactsRequest{
			RegistryId: docker.ID, Path: check.CloudRegistryRepository, PageSize: 1,
		}).TakeAll()
	}
	listed, err := tags()
	if run.NoError(name+"RegistryService.ListArtifacts of "+check.CloudRegistryRepository+", 1 a page", err) {
		run.That(name+"ListArtifacts: an ARTIFACT for each tag, by name",
			check.Artifacts[cloudregistry.Artifact_Kind](listed, check.CloudRegistryRepository, check.CloudRegistryTags))
	}

	artifacts := ArtifactClient{sdk}
	path := check.CloudRegistryRepository + "/" + check.CloudRegistryDeleted
	byPath := &cloudregistry.GetArtifactByPathRequest{RegistryId: docker.ID, Path: path}
	latest, err := artifacts.GetByPath(ctx, byPath)
	if err != nil {
		run.Fatal(name+"ArtifactService.GetByPath "+path, err)
	}
	run.That(name+"GetByPath: the tag's ARTIFACT, content.docker.manifest_digest the image's digest", check.If(
		latest.Name != check.CloudRegistryDeleted || latest.Kind != cloudregistry.Artifact_ARTIFACT || latest.RegistryId != docker.ID ||
			latest.GetContent().GetDocker().GetManifestDigest() != image.Digest, "%v, want the manifest digest %s", latest, image.Digest))
	got, err := artifacts.Get(ctx, &cloudregistry.GetArtifactRequest{ArtifactId: latest.Id})
	if run.NoError(name+"ArtifactService.Get", err) {
		run.That(name+"Get: the artifact GetByPath gave", check.Equal(got, latest))
	}

	op, err := artifacts.Delete(ctx, &cloudregistry.DeleteArtifactRequest{ArtifactId: latest.Id})
	if err != nil {
		run.Fatal(name+"ArtifactService.Delete", err)
	}
	run.That(name+"Delete: the operation pends", check.If(op.Done(), "done at once"))
	meta, ok := op.Metadata().(*cloudregistry.DeleteArtifactMetadata)
	run.That(name+"Delete: DeleteArtifactMetadata.artifact_id", check.If(!ok || meta.ArtifactId != latest.Id || op.ResourceID() != latest.Id,
		"%v", op.Metadata()))
	response, err := op.Wait(ctx)
	if run.NoError(name+"Delete: Operation.Wait polls OperationService.Get", err) {
		_, empty := response.(*emptypb.Empty)
		run.That(name+"Delete: done with Empty", check.If(!op.Done() || !empty, "done=%v response=%v", op.Done(), response))
	}
	_, err = artifacts.GetByPath(ctx, byPath)
	run.Expect(name+"GetByPath of the deleted tag is NOT_FOUND", err, codes.NotFound)
	left, err := tags()
	if run.NoError(name+"ListArtifacts afterwards", err) {
		kept := []string{}
		for _, tag := range check.CloudRegistryTags {
			if tag != check.CloudRegistryDeleted {
				kept = append(kept, tag)
			}
		}
		why := check.Artifacts[cloudregistry.Artifact_Kind](left, check.CloudRegistryRepository, kept)
		for _, artifact := range left {
			if digest := artifact.GetContent().GetDocker().GetManifestDigest(); why == "" && digest != image.Digest {
				why = fmt.Sprintf("%s: manifest digest %s, want %s", artifact.Name, digest, image.Digest)
			}
		}
		run.That(name+"ListArtifacts afterwards: "+check.CloudRegistryDeleted+" is gone, the image keeps its other tag", why)
	}
}

// ---- migration (the workflow scenario's last step): a Container Registry registry moved to Cloud Registry

func migration(sdk *ycsdk.SDK) {
	const name = "migration: "
	registry, err := admin.AddRegistry(settings.Folder, check.MigratedRegistryName)
	var image check.Record
	if err == nil {
		image, err = admin.AddImage(registry.ID, check.MigratedRepository, check.MigratedTags...)
	}
	if err != nil {
		run.Fatal(name+"setup: add a Container Registry registry and an image", err)
	}
	migrations := MigrationClient{sdk}
	op, err := migrations.StartFolder(ctx, &cloudregistry.StartFolderMigrationRequest{FolderId: settings.Folder})
	if err != nil {
		run.Fatal(name+"MigrationService.StartFolder", err)
	}
	meta, ok := op.Metadata().(*cloudregistry.StartFolderMigrationMetadata)
	run.That(name+"StartFolder: StartFolderMigrationMetadata lists the registry it moves", check.If(!ok || meta.FolderId != settings.Folder ||
		op.ResourceID() != settings.Folder || check.Same("registry_ids", meta.RegistryIds, []string{registry.ID}) != "", "%v", op.Metadata()))
	response, err := op.Wait(ctx)
	if !run.NoError(name+"StartFolder: Operation.Wait polls OperationService.Get", err) {
		run.Exit()
	}
	_, empty := response.(*emptypb.Empty)
	run.That(name+"StartFolder: done with Empty", check.If(!op.Done() || !empty, "done=%v response=%v", op.Done(), response))

	dashboard, err := migrations.GetFolderMigrationStatusDashboard(ctx, &cloudregistry.GetFolderMigrationStatusDashboardRequest{FolderId: settings.Folder})
	if run.NoError(name+"GetFolderMigrationStatusDashboard", err) {
		progress := dashboard.GetProgress()
		run.That(name+"dashboard: COMPLETED, with the registry, its repository and its tags counted", check.If(
			dashboard.Status != cloudregistry.MigrationStatus_COMPLETED || dashboard.FolderId != settings.Folder ||
				progress.GetRegistries().GetTotal() != 1 || progress.GetRegistries().GetCompleted() != 1 ||
				progress.GetRepositories().GetCompleted() != 1 || progress.GetTags().GetCompleted() != int64(len(check.MigratedTags)) ||
				len(dashboard.TopFailedRegistries)+len(dashboard.TopInProgressRegistries) != 0, "%v", dashboard))
	}

	registries := CloudRegistryClient{sdk}
	moved, err := registries.Get(ctx, &cloudregistry.GetRegistryRequest{RegistryId: registry.ID})
	if run.NoError(name+"Cloud Registry's RegistryService.Get of the same id", err) {
		run.That(name+"a Cloud Registry DOCKER registry, LOCAL, with its id, name and folder", check.If(moved.Id != registry.ID ||
			moved.Name != check.MigratedRegistryName || moved.FolderId != settings.Folder || moved.Kind != cloudregistry.Registry_DOCKER ||
			moved.Type != cloudregistry.Registry_LOCAL, "%v", moved))
	}
	tags, err := registries.ArtifactsIterator(ctx, &cloudregistry.ListArtifactsRequest{RegistryId: registry.ID, Path: check.MigratedRepository}).TakeAll()
	if run.NoError(name+"RegistryService.ListArtifacts of "+check.MigratedRepository, err) {
		why := check.Artifacts[cloudregistry.Artifact_Kind](tags, check.MigratedRepository, check.MigratedTags)
		for _, artifact := range tags {
			if digest := artifact.GetContent().GetDocker().GetManifestDigest(); why == "" && digest != image.Digest {
				why = fmt.Sprintf("%s: manifest digest %s, want %s", artifact.Name, digest, image.Digest)
			}
		}
		run.That(name+"ListArtifacts: the image's tags as ARTIFACTs with its digest", why)
	}
	_, err = RegistryClient{sdk}.Get(ctx, &containerregistry.GetRegistryRequest{RegistryId: registry.ID})
	run.Expect(name+"Container Registry's RegistryService.Get of it is NOT_FOUND", err, codes.NotFound)
}

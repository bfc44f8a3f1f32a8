#!/usr/bin/env node
// The official Node.js SDK (@yandex-cloud/nodejs-sdk), unmodified, against the Container Registry
// emulator: one scenario per run, one line per check ("ok <check>" or "FAIL <check>: why"), exit
// code 1 if any check failed (2: bad usage). tests/test_clients_node.py runs it; so can anyone:
//
//   node scenario.js SCENARIO --endpoint localhost:50052 --ca-file ca.pem --token TOKEN --folder FOLDER \
//        --admin-url http://127.0.0.1:8081 [--admin-token T] [--oauth-token OAUTH]
//
// or the same through YCR_ENDPOINT, YCR_CA_FILE, YCR_TOKEN, YCR_FOLDER, YCR_EMULATOR_ADMIN_URL,
// YCR_EMULATOR_ADMIN_TOKEN and YCR_OAUTH_TOKEN. SCENARIO is images, errors, registries or oauth.
// The emulator serves TLS at the endpoint (its CA in the file), accepts TOKEN (and OAUTH, for the
// oauth scenario) for FOLDER, and serves its control plane at the admin URL: each scenario adds what
// it lists there (registries, images), sets operation modes and injects faults. Run each scenario on
// a freshly reset emulator; it leaves the emulator changed.
'use strict';

const http = require('node:http');
const { promisify } = require('node:util');
// The lines the README quotes (tests/test_clients_node.py checks that each is a line of this file):
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { Session, waitForOperation } = require('@yandex-cloud/nodejs-sdk');
const { imageService } = require('@yandex-cloud/nodejs-sdk/containerregistry-v1');
const { iamTokenService } = require('@yandex-cloud/nodejs-sdk/iam-v1');
// The rest of the SDK this program uses:
const { errors } = require('@yandex-cloud/nodejs-sdk');
const {
    lifecyclePolicy: lifecyclePolicyTypes, lifecyclePolicyService, registry: registryTypes, registryService,
    repositoryService, scanner: scannerTypes, scannerService,
} = require('@yandex-cloud/nodejs-sdk/containerregistry-v1');
const { operationService } = require('@yandex-cloud/nodejs-sdk/operation');
const {
    artifact: artifactTypes, artifactService, registry: cloudRegistryTypes, registryService: cloudRegistryService,
} = require('@yandex-cloud/nodejs-sdk/cloudregistry-v1');
const { getServiceClientEndpoint } = require('@yandex-cloud/nodejs-sdk/dist/service-endpoints');

const { GetImageRequest, ListImagesRequest, DeleteImageRequest, DeleteImageMetadata } = imageService;
const {
    GetRegistryRequest, ListRegistriesRequest, CreateRegistryRequest, CreateRegistryMetadata, DeleteRegistryRequest,
    DeleteRegistryMetadata,
} = registryService;
const { GetRepositoryByNameRequest, ListRepositoriesRequest } = repositoryService;
const { GetOperationRequest, CancelOperationRequest } = operationService;
const { Registry, Registry_Status: RegistryStatus } = registryTypes;
const {
    GetLifecyclePolicyRequest, CreateLifecyclePolicyRequest, CreateLifecyclePolicyMetadata,
    DeleteLifecyclePolicyRequest, DeleteLifecyclePolicyMetadata, DryRunLifecyclePolicyRequest,
    DryRunLifecyclePolicyMetadata, DryRunLifecyclePolicyResult, GetDryRunLifecyclePolicyResultRequest,
    ListDryRunLifecyclePolicyResultAffectedImagesRequest,
} = lifecyclePolicyService;
const { LifecyclePolicy, LifecyclePolicy_Status: LifecyclePolicyStatus } = lifecyclePolicyTypes;
const {
    ScanRequest, ScanMetadata, GetScanResultRequest, GetLastScanResultRequest, ListVulnerabilitiesRequest,
} = scannerService;
const { ScanResult, ScanResult_Status: ScanResultStatus } = scannerTypes;
const { GetArtifactRequest, GetArtifactByPathRequest, DeleteArtifactRequest, DeleteArtifactMetadata } = artifactService;
const { Artifact_Kind: ArtifactKind } = artifactTypes;
const { Registry_Kind: CloudRegistryKind } = cloudRegistryTypes;

const OPTIONS = { // option: environment variable
    endpoint: 'YCR_ENDPOINT',
    'ca-file': 'YCR_CA_FILE',
    token: 'YCR_TOKEN',
    folder: 'YCR_FOLDER',
    'admin-url': 'YCR_EMULATOR_ADMIN_URL',
    'admin-token': 'YCR_EMULATOR_ADMIN_TOKEN',
    'oauth-token': 'YCR_OAUTH_TOKEN',
};
const REQUIRED = ['endpoint', 'ca-file', 'token', 'folder', 'admin-url'];
const OTHER_FOLDER = 'b1gnodeother000000000'; // a folder the token may not touch
const UNKNOWN_ID = 'crp00000000000000000';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const DAY_SECONDS = 24 * 3600;
// The lifecycle step's rule: every tagged image a day old or more, but the newest.
const KEEP_NEWEST = { tagRegexp: '.*', expirePeriod: { seconds: DAY_SECONDS, nanos: 0 }, retainedTop: 1 };
// The scan step's vulnerability report for its image's digest (protobuf's JSON mapping of
// Vulnerability): one CRITICAL, two HIGH.
const SCAN_REPORT = [
    {
        severity: 'CRITICAL',
        package: {
            name: 'CVE-2024-6387', package: 'openssh-server', version: '1:8.9p1-3ubuntu0.6',
            fixed_by: '1:8.9p1-3ubuntu0.10',
        },
    },
    { severity: 'HIGH', package: { name: 'CVE-2022-37434', package: 'zlib1g' } },
    { severity: 'HIGH', package: { name: 'CVE-2023-4911', package: 'libc6' } },
];

// ---- the SDK pointed at the emulator (the README quotes these lines) --------------------------------

function connect({ endpoint, caFile, token }) {
    const session = new Session({
        iamToken: token,
        ssl: { rootCerts: fs.readFileSync(caFile) }, // the emulator's CA: ycr-emulator --ca-file ca.pem
        pollInterval: 100, // ms between waitForOperation's polls (default 1000)
    });
    const images = session.client(imageService.ImageServiceClient, endpoint); // endpoint: 'localhost:50052'
    const registries = session.client(registryService.RegistryServiceClient, endpoint);
    const repositories = session.client(repositoryService.RepositoryServiceClient, endpoint);
    const operations = session.client(operationService.OperationServiceClient, endpoint);
    const lifecyclePolicies = session.client(lifecyclePolicyService.LifecyclePolicyServiceClient, endpoint);
    const scanner = session.client(scannerService.ScannerServiceClient, endpoint);
    // Cloud Registry's services, which the SDK maps to registry.api.cloud.yandex.net:443 by itself.
    const cloudRegistries = session.client(cloudRegistryService.RegistryServiceClient, endpoint);
    const artifacts = session.client(artifactService.ArtifactServiceClient, endpoint);
    const wait = (operation) => waitForOperation(operation, session, 60_000, endpoint);
    return {
        session, images, registries, repositories, operations, lifecyclePolicies, scanner, cloudRegistries, artifacts,
        wait,
    };
}

// Session({ oauthToken }) always trades its token at iam.api.cloud.yandex.net:443, trusting only the
// system's CAs; the SDK's own IamTokenService client does it at the emulator, with the emulator's CA.
async function iamTokenFromOAuth({ endpoint, caFile }, oauthToken) {
    const credentials = grpc.credentials.createSsl(fs.readFileSync(caFile)); // TLS, no call credentials
    const iam = new iamTokenService.IamTokenServiceClient(endpoint, credentials);
    const request = iamTokenService.CreateIamTokenRequest.fromPartial({ yandexPassportOauthToken: oauthToken });
    try {
        const create = promisify(iam.create.bind(iam));
        const response = await create(request); // { iamToken, expiresAt }
        return response;
    } finally {
        iam.close();
    }
}

// ---- checks and their output ------------------------------------------------------------------------

let passes = 0;
let failures = 0;

async function check(name, body) {
    try {
        const note = await body();
        passes += 1;
        console.log(`ok ${name}${note ? ` (${note})` : ''}`);
    } catch (error) {
        failures += 1;
        console.log(`FAIL ${name}: ${describe(error)}`);
    }
}

function describe(error) {
    if (error instanceof Error) return `${error.constructor.name}: ${error.message}`.replace(/\s*\n\s*/g, ' | ');
    return `threw ${JSON.stringify(error)}`;
}

function expect(condition, message) {
    if (!condition) throw new Error(message);
}

function same(actual, expected, what) {
    const [got, wanted] = [JSON.stringify(actual), JSON.stringify(expected)];
    expect(got === wanted, `${what}: got ${got}, expected ${wanted}`);
}

const sorted = (values) => [...values].sort();

// What a promise that must fail rejected with.
async function rejection(promise) {
    try {
        await promise;
    } catch (reason) {
        return reason;
    }
    throw new Error('succeeded; expected it to fail');
}

// How the SDK surfaces a failed call: an errors.ApiError when the answer had response headers (it
// keeps them: requestId, serverTraceId; the status is only in its message, "<path> <CODE>:
// <details>"); without headers, nice-grpc's ClientError (code, details); from a generated grpc-js
// client used directly, grpc-js's ServiceError (code, details).
function statusOf(error) {
    if (error instanceof errors.ApiError) {
        const match = /^\S+ ([A-Z_]+): ([\s\S]*)$/.exec(error.message);
        expect(match, `ApiError message is not "<path> <CODE>: <details>": ${error.message}`);
        return { kind: 'ApiError', code: match[1], details: match[2], error };
    }
    if (error && typeof error.code === 'number' && typeof error.details === 'string') {
        const kind = error.constructor.name === 'ClientError' ? 'ClientError' : 'ServiceError';
        return { kind, code: grpc.status[error.code], details: error.details, error };
    }
    throw new Error(`not a gRPC error: ${describe(error)}`);
}

// The call must fail with `code`, as an ApiError carrying the answer's x-request-id and
// x-server-trace-id (every emulated answer has them), its details naming each of `mentions`.
async function failsWith(call, code, mentions = []) {
    const status = statusOf(await rejection(call()));
    expect(status.code === code, `got ${status.code} (${status.details}); expected ${code}`);
    expect(status.kind === 'ApiError', `surfaced as ${status.kind}, not ApiError: the answer had no headers`);
    const { requestId, serverTraceId } = status.error;
    expect(UUID_V4.test(requestId || ''), `ApiError.requestId is not a version 4 UUID: ${requestId}`);
    expect(TRACE_ID.test(serverTraceId || ''), `ApiError.serverTraceId is not 32 hex digits: ${serverTraceId}`);
    for (const word of mentions) {
        expect(status.details.includes(word), `the details do not name ${word}: ${status.details}`);
    }
    return `${code}: ${status.details.slice(0, 80)}`;
}

// ---- the control plane (HTTP JSON) --------------------------------------------------------------------

function control(config, method, path, body) {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = { 'content-type': 'application/json' };
    if (data) headers['content-length'] = data.length;
    if (config.adminToken) headers.authorization = `Bearer ${config.adminToken}`;
    return new Promise((resolve, reject) => {
        const request = http.request(new URL(path, config.adminUrl), { method, headers }, (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => {
                const text = Buffer.concat(chunks).toString();
                if (response.statusCode === 200) resolve(JSON.parse(text));
                else reject(new Error(`control plane ${method} ${path}: HTTP ${response.statusCode} ${text}`));
            });
        });
        request.on('error', reject);
        request.end(data);
    });
}

const addRegistry = (config, folderId, name) => control(config, 'POST', '/registries', { folder_id: folderId, name });
const addCloudRegistry = (config, folderId, name, kind) => control(
    config, 'POST', '/registries', { folder_id: folderId, name, kind },
);
const addImage = (config, registryId, repository, fields = {}) => control(
    config, 'POST', '/images', { registry_id: registryId, repository, ...fields },
);
const setOperationModes = (config, modes) => control(config, 'POST', '/operation-modes', { modes });
const addVulnerabilityReport = (config, digest, vulnerabilities) => control(
    config, 'POST', '/vulnerability-reports', { digest, vulnerabilities },
);
const addFault = (config, rule) => control(config, 'POST', '/faults', rule);
const callsOf = (config, method) => control(config, 'GET', `/calls?method=${encodeURIComponent(method)}`);

// The recorded calls of `method` that pass `test`, once there is one (the emulator records a call
// when it has finished with it); none after 10 s.
async function recorded(config, method, test) {
    for (let tries = 0; tries < 500; tries += 1) {
        // eslint-disable-next-line no-await-in-loop
        const calls = (await callsOf(config, method)).filter(test);
        if (calls.length) return calls;
        // eslint-disable-next-line no-await-in-loop
        await new Promise((resolve) => { setTimeout(resolve, 20); });
    }
    return [];
}

// Every page of a List, checked as it comes: at most pageSize items a page, each item once.
async function walk(list, Request, request, field, pageSize) {
    const items = [];
    let pageToken = '';
    let pages = 0;
    do {
        // eslint-disable-next-line no-await-in-loop
        const page = await list(Request.fromPartial({ ...request, pageSize, pageToken }));
        pages += 1;
        expect(page[field].length <= pageSize, `page ${pages} holds ${page[field].length} > ${pageSize}`);
        expect(pages <= 100, 'more than 100 pages');
        items.push(...page[field]);
        pageToken = page.nextPageToken;
    } while (pageToken);
    const ids = items.map((item) => item.id);
    const keys = items.map((item) => item.id ?? JSON.stringify(item)); // a Vulnerability has no id
    expect(new Set(keys).size === keys.length, `an item came twice: ${keys}`);
    return { items, ids, pages };
}

// ---- scenario: images ---------------------------------------------------------------------------------

async function imagesScenario(config) {
    const sdk = connect(config);
    const { folder } = config;
    const first = await addRegistry(config, folder, 'node-first');
    const second = await addRegistry(config, folder, 'node-second');
    const made = [];
    for (const [registry, repository, tag] of [
        [first, 'app', 'v1'], [first, 'app', 'v2'], [first, 'app', 'v3'], [first, 'team/web', 'v1'],
        [first, 'team/web', 'v2'], [second, 'app', 'v1'], [second, 'app', 'v2'],
    ]) {
        const createdAt = `2026-01-0${made.length + 1}T10:00:00Z`;
        // eslint-disable-next-line no-await-in-loop
        made.push(await addImage(config, registry.id, repository, { tags: [tag], created_at: createdAt }));
    }
    const idsWhere = (test) => sorted(made.filter(test).map((image) => image.id));
    const getImage = (imageId) => sdk.images.get(GetImageRequest.fromPartial({ imageId }));
    const deleteImage = (imageId) => sdk.images.delete(DeleteImageRequest.fromPartial({ imageId }));

    await check('list folder scope, 2 per page', async () => {
        const { ids, pages } = await walk(sdk.images.list, ListImagesRequest, { folderId: folder }, 'images', 2);
        same(sorted(ids), idsWhere(() => true), 'folder images');
        same(pages, 4, 'pages');
        return `${ids.length} images in ${pages} pages`;
    });
    await check('list registry scope, 2 per page', async () => {
        const { ids, pages } = await walk(sdk.images.list, ListImagesRequest, { registryId: first.id }, 'images', 2);
        same(sorted(ids), idsWhere((image) => image.registry_id === first.id), 'registry images');
        return `${ids.length} images in ${pages} pages`;
    });
    await check('list repository scope, 1 per page', async () => {
        const repositoryName = `${first.id}/team/web`;
        const { ids, pages } = await walk(sdk.images.list, ListImagesRequest, { repositoryName }, 'images', 1);
        same(sorted(ids), idsWhere((image) => image.name === repositoryName), 'repository images');
        return `${ids.length} images in ${pages} pages`;
    });
    await check('list with filter and order_by across pages', async () => {
        const request = { registryId: first.id, filter: `name = "${first.id}/app"`, orderBy: 'created_at desc' };
        const { items } = await walk(sdk.images.list, ListImagesRequest, request, 'images', 2);
        same(items.map((image) => image.tags[0]), ['v3', 'v2', 'v1'], 'tags, newest first');
    });
    await check('get', async () => {
        const target = made[3];
        const image = await getImage(target.id);
        const fields = (record) => [record.id, record.name, record.digest, record.tags];
        same(fields(image), fields(target), 'id, name, digest, tags');
        same(image.compressedSize, target.compressed_size, 'compressedSize');
        same(image.createdAt.toISOString(), '2026-01-04T10:00:00.000Z', 'createdAt');
        same(image.layers.map((layer) => layer.digest), target.layers.map((layer) => layer.digest), 'layers');
    });
    await check('delete, done at once; waitForOperation', async () => {
        const { images, session } = sdk;
        const { endpoint } = config;
        const imageId = made[0].id;
        const operation = await images.delete(imageService.DeleteImageRequest.fromPartial({ imageId }));
        expect(operation.done, 'the operation is not done, in the default (immediate) mode');
        const done = await waitForOperation(operation, session, 60_000, endpoint); // polls OperationService at endpoint
        same([done.id, done.done, done.description], [operation.id, true, 'Delete image'], 'operation');
        expect(done.createdAt instanceof Date && done.createdBy, `createdAt ${done.createdAt}, by ${done.createdBy}`);
        same(DeleteImageMetadata.decode(done.metadata.value).imageId, imageId, 'metadata.imageId');
        same(done.response.typeUrl, 'type.googleapis.com/google.protobuf.Empty', 'response type');
        await failsWith(() => getImage(imageId), 'NOT_FOUND');
    });

    await setOperationModes(config, { 'ImageService/Delete': 'polls:3' });
    await check('delete pending (polls:3): still there, then waitForOperation polls it done', async () => {
        const operation = await deleteImage(made[1].id);
        expect(!operation.done, 'the operation is done at once, under polls:3');
        same((await getImage(made[1].id)).id, made[1].id, 'the image while its delete pends');
        const before = (await callsOf(config, 'OperationService/Get')).length;
        const done = await sdk.wait(operation);
        expect(done.done && !done.error, `not done, or failed: ${JSON.stringify(done.error)}`);
        await failsWith(() => getImage(made[1].id), 'NOT_FOUND');
        const polls = (await callsOf(config, 'OperationService/Get')).length - before;
        expect(polls >= 3, `${polls} OperationService.Get calls; polls:3 needs 3`);
        return `${polls} polls`;
    });
    await check('waitForOperation retries an UNAVAILABLE poll (trailers-only)', async () => {
        const fault = await addFault(config, { method: 'OperationService/Get', code: 'UNAVAILABLE', count: 1 });
        const done = await sdk.wait(await deleteImage(made[2].id));
        expect(done.done && !done.error, 'not done');
        const faulted = (await callsOf(config, 'OperationService/Get')).filter((call) => call.fault === fault.id);
        same(faulted.map((call) => call.code), ['UNAVAILABLE'], 'polls the fault answered');
        await failsWith(() => getImage(made[2].id), 'NOT_FOUND');
    });
    await check('waitForOperation rejects with the operation when it finishes with an error', async () => {
        const message = 'image is being pulled';
        const operationError = { code: 'FAILED_PRECONDITION', message };
        await addFault(config, { method: 'ImageService/Delete', operation_error: operationError, count: 1 });
        const operation = await deleteImage(made[5].id);
        const failed = await rejection(sdk.wait(operation));
        expect(!(failed instanceof Error), `rejected with an Error, not the operation: ${describe(failed)}`);
        const { id, done, error } = failed;
        const { FAILED_PRECONDITION } = grpc.status;
        same([id, done, error.code, error.message], [operation.id, true, FAILED_PRECONDITION, message], 'operation');
        same((await getImage(made[5].id)).id, made[5].id, 'the image, not deleted');
    });
    await check('OperationService.Cancel of a pending delete: CANCELLED, the image stays; again: answered as it is', async () => {
        const operation = await deleteImage(made[6].id);
        const cancel = () => sdk.operations.cancel(CancelOperationRequest.fromPartial({ operationId: operation.id }));
        const cancelled = await cancel();
        same([cancelled.done, cancelled.error && cancelled.error.code], [true, grpc.status.CANCELLED], 'operation');
        const failed = await rejection(sdk.wait(operation));
        same(failed.error && failed.error.code, grpc.status.CANCELLED, 'what waitForOperation rejects with');
        same((await getImage(made[6].id)).id, made[6].id, 'the image, not deleted');
        const again = await cancel(); // past cancelling: the operation's current status (the API design guide)
        same([again.id, again.done, again.error && again.error.code], [operation.id, true, grpc.status.CANCELLED], 'again');
    });
    await check('list after the deletes', async () => {
        const { ids } = await walk(sdk.images.list, ListImagesRequest, { folderId: folder }, 'images', 1000);
        same(sorted(ids), sorted(made.slice(3).map((image) => image.id)), 'folder images');
    });
    await lifecycleStep(config, sdk, `${first.id}/team/web`);
    await scanStep(config, sdk, `${first.id}/team/web`);
}

// ---- the images scenario's lifecycle step: a DISABLED lifecycle policy, its dry run, what it would delete ---

// What the documented rule { tagRegexp '.*', expirePeriod, retainedTop } deletes of a repository's
// images at `now`: of the tagged ones, all but the newest retainedTop (by createdAt, ties: the later
// id), those at least expirePeriod old.
function wouldDelete(images, now, { expirePeriod, retainedTop }) {
    const newestFirst = images.filter((image) => image.tags.length).sort(
        (a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1),
    );
    const expired = (image) => image.createdAt.getTime() + expirePeriod.seconds * 1000 <= now.getTime();
    return sorted(newestFirst.slice(retainedTop).filter(expired).map((image) => image.id));
}

async function lifecycleStep(config, sdk, repositoryName) {
    const policies = sdk.lifecyclePolicies;
    const repository = await sdk.repositories.getByName(GetRepositoryByNameRequest.fromPartial({ repositoryName }));
    const { items: before } = await walk(sdk.images.list, ListImagesRequest, { repositoryName }, 'images', 1000);
    await setOperationModes(config, { '*': 'polls:1' }); // every operation pends until waitForOperation polls it
    const getPolicy = (lifecyclePolicyId) => policies.get(GetLifecyclePolicyRequest.fromPartial({ lifecyclePolicyId }));

    let policyId;
    await check('lifecycle: create a DISABLED policy; waitForOperation', async () => {
        const operation = await policies.create(CreateLifecyclePolicyRequest.fromPartial({
            repositoryId: repository.id, name: 'node-keep-newest', status: LifecyclePolicyStatus.DISABLED,
            rules: [KEEP_NEWEST],
        }));
        expect(!operation.done, 'the Create operation is done at once, under polls:1');
        const { lifecyclePolicyId } = CreateLifecyclePolicyMetadata.decode(operation.metadata.value);
        expect(lifecyclePolicyId, 'CreateLifecyclePolicyMetadata.lifecyclePolicyId is empty');
        const created = LifecyclePolicy.decode((await sdk.wait(operation)).response.value);
        same(
            [created.id, created.repositoryId, created.status],
            [lifecyclePolicyId, repository.id, LifecyclePolicyStatus.DISABLED],
            'policy',
        );
        policyId = lifecyclePolicyId;
        return policyId;
    });
    if (!policyId) return;
    await check('lifecycle: get the policy; its rule, expire_period 24h', async () => {
        const { rules } = await getPolicy(policyId);
        same(rules.map((rule) => rule.expirePeriod), [{ seconds: DAY_SECONDS, nanos: 0 }], 'expirePeriod');
        same(rules.map((rule) => [rule.tagRegexp, rule.retainedTop]), [['.*', 1]], 'tagRegexp, retainedTop');
    });
    const byId = { lifecyclePolicyId: policyId };
    let result;
    await check('lifecycle: dry run; waitForOperation; the DryRunLifecyclePolicyResult', async () => {
        const operation = await policies.dryRun(DryRunLifecyclePolicyRequest.fromPartial(byId));
        const metadata = DryRunLifecyclePolicyMetadata.decode(operation.metadata.value);
        const done = DryRunLifecyclePolicyResult.decode((await sdk.wait(operation)).response.value);
        same(
            [done.dryRunLifecyclePolicyResultId, done.lifecyclePolicyId],
            [metadata.dryRunLifecyclePolicyResultId, policyId],
            'result and metadata',
        );
        const { dryRunLifecyclePolicyResultId } = done;
        const fetched = await policies.getDryRunResult(
            GetDryRunLifecyclePolicyResultRequest.fromPartial({ dryRunLifecyclePolicyResultId }),
        );
        same(fetched, done, 'GetDryRunResult');
        result = done;
        return `${result.affectedImagesCount} affected`;
    });
    if (result) {
        await check('lifecycle: the affected images, 1 per page: affectedImagesCount, all but the newest', async () => {
            const { ids } = await walk(
                policies.listDryRunResultAffectedImages, ListDryRunLifecyclePolicyResultAffectedImagesRequest,
                { dryRunLifecyclePolicyResultId: result.dryRunLifecyclePolicyResultId }, 'affectedImages', 1,
            );
            same(ids.length, result.affectedImagesCount, 'images listed vs affectedImagesCount');
            expect(ids.length > 0, 'the dry run affected no image');
            same(sorted(ids), wouldDelete(before, result.runAt, KEEP_NEWEST), 'affected images');
            return `${ids.length} listed`;
        });
    }
    await check('lifecycle: delete the policy; waitForOperation; Get is NOT_FOUND; no image deleted', async () => {
        const operation = await policies.delete(DeleteLifecyclePolicyRequest.fromPartial(byId));
        const done = await sdk.wait(operation);
        same(DeleteLifecyclePolicyMetadata.decode(done.metadata.value).lifecyclePolicyId, policyId, 'metadata');
        await failsWith(() => getPolicy(policyId), 'NOT_FOUND', [policyId]);
        const { ids } = await walk(sdk.images.list, ListImagesRequest, { repositoryName }, 'images', 1000);
        same(sorted(ids), sorted(before.map((image) => image.id)), 'images of the repository (a dry run deletes none)');
    });
}

// ---- the images scenario's scan step: a vulnerability report for an image's digest, and its scan ---------

// A VulnerabilityStats' counts by severity name, its zeros left out (the SDK's field names, lower case).
function severityCounts(stats = {}) {
    const counts = {};
    for (const severity of ['critical', 'high', 'medium', 'low', 'negligible', 'undefined']) {
        if (stats[severity]) counts[severity.toUpperCase()] = stats[severity];
    }
    return counts;
}

async function scanStep(config, sdk, repositoryName) {
    const { scanner } = sdk;
    const { items: [image] } = await walk(sdk.images.list, ListImagesRequest, { repositoryName }, 'images', 1000);
    expect(image, `no image in ${repositoryName} to scan`);
    await addVulnerabilityReport(config, image.digest, SCAN_REPORT);
    const reportCounts = {};
    for (const { severity } of SCAN_REPORT) reportCounts[severity] = (reportCounts[severity] || 0) + 1;
    const reportField = (field) => sorted(SCAN_REPORT.map((vulnerability) => vulnerability.package[field]));

    let result;
    await check('scan: pends, RUNNING; waitForOperation; the READY ScanResult counts the seeded report', async () => {
        const operation = await scanner.scan(ScanRequest.fromPartial({ imageId: image.id }));
        expect(!operation.done, 'the Scan operation is done at once, under polls:1');
        const { scanResultId } = ScanMetadata.decode(operation.metadata.value);
        expect(scanResultId, 'ScanMetadata.scanResultId is empty');
        const running = await scanner.get(GetScanResultRequest.fromPartial({ scanResultId }));
        const { RUNNING, READY } = ScanResultStatus;
        same([running.id, running.imageId, running.status], [scanResultId, image.id, RUNNING], 'pending');
        const done = ScanResult.decode((await sdk.wait(operation)).response.value);
        same([done.id, done.imageId, done.status], [scanResultId, image.id, READY], 'result');
        expect(done.scannedAt instanceof Date, `scannedAt ${done.scannedAt}`);
        same(severityCounts(done.vulnerabilities), reportCounts, 'vulnerabilities by severity');
        result = done;
        return scanResultId;
    });
    if (!result) return;
    await check('scan: GetLast of the image is the scan\'s result', async () => {
        same(await scanner.getLast(GetLastScanResultRequest.fromPartial({ imageId: image.id })), result, 'GetLast');
    });
    await check('scan: ListVulnerabilities, 1 per page: the seeded report\'s', async () => {
        const { items } = await walk(
            scanner.listVulnerabilities, ListVulnerabilitiesRequest, { scanResultId: result.id }, 'vulnerabilities', 1,
        );
        same(items.length, SCAN_REPORT.length, 'vulnerabilities listed');
        same(sorted(items.map((item) => item.package.name)), reportField('name'), 'names');
        same(sorted(items.map((item) => item.package.package)), reportField('package'), 'packages');
        return `${items.length} listed`;
    });
}

// ---- scenario: errors ---------------------------------------------------------------------------------

async function errorsScenario(config) {
    const sdk = connect(config);
    const { folder } = config;
    const registry = await addRegistry(config, folder, 'node-errors');
    const image = await addImage(config, registry.id, 'app', { tags: ['v1'] });
    await addImage(config, registry.id, 'app', { tags: ['v2'] });
    const elsewhere = await addRegistry(config, OTHER_FOLDER, 'node-elsewhere');
    const foreign = await addImage(config, elsewhere.id, 'app');
    const list = (request) => () => sdk.images.list(ListImagesRequest.fromPartial(request));
    const get = (imageId) => () => sdk.images.get(GetImageRequest.fromPartial({ imageId }));
    const firstPage = await list({ folderId: folder, pageSize: 1 })();
    const stranger = connect({ ...config, token: 't1.not-a-token-of-this-emulator' });

    const cases = [ // [what, call, code, words the details must hold]
        ['List without a scope', list({ pageSize: 10 }), 'INVALID_ARGUMENT', ['folder_id']],
        ['page_size 1001', list({ folderId: folder, pageSize: 1001 }), 'INVALID_ARGUMENT', ['page_size']],
        ['a bad filter', list({ folderId: folder, filter: 'name = nope' }), 'INVALID_ARGUMENT', ['filter']],
        ['an unknown order_by field', list({ folderId: folder, orderBy: 'size' }), 'INVALID_ARGUMENT', ['order_by']],
        [
            'a page token not issued', list({ folderId: folder, pageToken: 'bm90LXRva2Vu' }),
            'INVALID_ARGUMENT', ['page_token'],
        ],
        [
            'a page token used in another scope', list({ registryId: registry.id, pageToken: firstPage.nextPageToken }),
            'INVALID_ARGUMENT', ['page_token'],
        ],
        ['an image id over 50 characters', get('c'.repeat(51)), 'INVALID_ARGUMENT', ['image_id']],
        ['Get of an unknown image', get(UNKNOWN_ID), 'NOT_FOUND', [UNKNOWN_ID]],
        [
            'Delete of an unknown image',
            () => sdk.images.delete(DeleteImageRequest.fromPartial({ imageId: UNKNOWN_ID })),
            'NOT_FOUND', [UNKNOWN_ID],
        ],
        ['List of an unknown registry', list({ registryId: UNKNOWN_ID }), 'NOT_FOUND', [UNKNOWN_ID]],
        [
            'an unknown operation',
            () => sdk.operations.get(GetOperationRequest.fromPartial({ operationId: UNKNOWN_ID })),
            'NOT_FOUND', [UNKNOWN_ID],
        ],
        [
            'an unknown registry', () => sdk.registries.get(GetRegistryRequest.fromPartial({ registryId: UNKNOWN_ID })),
            'NOT_FOUND', [UNKNOWN_ID],
        ],
        ['List in another folder', list({ folderId: OTHER_FOLDER }), 'PERMISSION_DENIED', [OTHER_FOLDER]],
        ['Get of an image in another folder', get(foreign.id), 'PERMISSION_DENIED', []],
        [
            'a token the emulator does not know',
            () => stranger.images.list(ListImagesRequest.fromPartial({ folderId: folder })), 'UNAUTHENTICATED', [],
        ],
    ];
    for (const [what, call, code, mentions] of cases) {
        // eslint-disable-next-line no-await-in-loop
        await check(`${code}: ${what}`, () => failsWith(call, code, mentions));
    }

    await check('UNAUTHENTICATED: no token at all (a generated grpc-js client, no call credentials)', async () => {
        const bare = new imageService.ImageServiceClient(
            config.endpoint, grpc.credentials.createSsl(fs.readFileSync(config.caFile)),
        );
        try {
            const error = await new Promise((resolve) => {
                bare.list(ListImagesRequest.fromPartial({ folderId: folder }), (failure) => resolve(failure));
            });
            expect(error, 'succeeded; expected it to fail');
            const status = statusOf(error);
            same(status.code, 'UNAUTHENTICATED', `code (${status.details})`);
            return status.details;
        } finally {
            bare.close();
        }
    });
    await check('UNAVAILABLE (injected, trailers-only): a ClientError, not retried by default', async () => {
        const fault = await addFault(config, { method: 'ImageService/Get', code: 'UNAVAILABLE', count: 1 });
        const status = statusOf(await rejection(get(image.id)()));
        same([status.kind, status.code], ['ClientError', 'UNAVAILABLE'], 'error');
        const answered = (await callsOf(config, 'ImageService/Get')).filter((call) => call.fault === fault.id);
        same(answered.length, 1, 'calls the fault answered');
    });
    await check('UNAVAILABLE (injected): retried with { retry: true }', async () => {
        await addFault(config, { method: 'ImageService/Get', code: 'UNAVAILABLE', count: 1 });
        const request = GetImageRequest.fromPartial({ imageId: image.id });
        same((await sdk.images.get(request, { retry: true, retryMaxAttempts: 2 })).id, image.id, 'image');
    });
    await check('DEADLINE_EXCEEDED: a deadline shorter than an injected delay, recorded as CANCELLED', async () => {
        const fault = await addFault(config, { method: 'ImageService/Get', delay_ms: 3000, count: 1 });
        const request = GetImageRequest.fromPartial({ imageId: image.id });
        const status = statusOf(await rejection(sdk.images.get(request, { deadline: 100 })));
        same([status.kind, status.code], ['ClientError', 'DEADLINE_EXCEEDED'], 'error');
        const answered = await recorded(config, 'ImageService/Get', (call) => call.fault === fault.id);
        same(answered.map((call) => call.code), ['CANCELLED'], 'the call as the emulator recorded it');
        same((await get(image.id)()).id, image.id, 'the next Get');
    });
}

// ---- scenario: registries (the clean-up workflow) -------------------------------------------------------

async function registriesScenario(config) {
    const sdk = connect(config);
    const { folder } = config;
    const getRegistry = (registryId) => sdk.registries.get(GetRegistryRequest.fromPartial({ registryId }));
    const createRegistry = (fields) => sdk.registries.create(
        CreateRegistryRequest.fromPartial({ folderId: folder, ...fields }),
    );
    const deleteRegistry = (registryId) => sdk.registries.delete(DeleteRegistryRequest.fromPartial({ registryId }));
    await setOperationModes(config, { '*': 'polls:2' }); // every operation pends until its second poll

    let created;
    await check('create a registry; CREATING until waitForOperation polls it done', async () => {
        const operation = await createRegistry({ name: 'node-workflow', labels: { team: 'ci' } });
        expect(!operation.done, 'the Create operation is done at once, under polls:2');
        const { registryId } = CreateRegistryMetadata.decode(operation.metadata.value);
        same((await getRegistry(registryId)).status, RegistryStatus.CREATING, 'status while pending');
        const done = await sdk.wait(operation);
        created = Registry.decode(done.response.value);
        same(
            [created.id, created.name, created.folderId, created.labels, created.status],
            [registryId, 'node-workflow', folder, { team: 'ci' }, RegistryStatus.ACTIVE],
            'registry',
        );
        return created.id;
    });
    if (!created) return;
    await check('ALREADY_EXISTS: a second registry of that name in the folder', () => failsWith(
        () => createRegistry({ name: 'node-workflow' }), 'ALREADY_EXISTS', ['node-workflow'],
    ));
    await check('find the registry by name', async () => {
        await addRegistry(config, folder, 'node-bystander');
        const request = ListRegistriesRequest.fromPartial({ folderId: folder, filter: 'name = "node-workflow"' });
        same((await sdk.registries.list(request)).registries.map((registry) => registry.id), [created.id], 'found');
    });

    const paths = ['app', 'team/web', 'team/worker'];
    const added = Object.fromEntries(paths.map((path) => [path, []]));
    for (const path of paths) {
        for (const tag of ['v1', 'v2']) {
            // eslint-disable-next-line no-await-in-loop
            added[path].push((await addImage(config, created.id, path, { tags: [tag] })).id);
        }
    }
    let repositories = [];
    await check('list repositories, 1 per page, by name; GetByName', async () => {
        const request = { registryId: created.id, orderBy: 'name' };
        const listRepositories = sdk.repositories.list;
        ({ items: repositories } = await walk(listRepositories, ListRepositoriesRequest, request, 'repositories', 1));
        same(repositories.map((repository) => repository.name), paths.map((path) => `${created.id}/${path}`), 'names');
        const repositoryName = `${created.id}/app`;
        const byName = await sdk.repositories.getByName(GetRepositoryByNameRequest.fromPartial({ repositoryName }));
        same([byName.id, byName.name], [repositories[0].id, repositories[0].name], 'GetByName');
    });
    await check('FAILED_PRECONDITION: deleting a registry that holds images', async () => {
        const note = await failsWith(() => deleteRegistry(created.id), 'FAILED_PRECONDITION', [created.id]);
        same((await getRegistry(created.id)).status, RegistryStatus.ACTIVE, 'status');
        return note;
    });
    await check('delete every repository\'s images, waiting for each operation', async () => {
        let deleted = 0;
        for (const { name } of repositories) {
            const path = name.slice(created.id.length + 1);
            // eslint-disable-next-line no-await-in-loop
            const { ids } = await walk(sdk.images.list, ListImagesRequest, { repositoryName: name }, 'images', 100);
            same(sorted(ids), sorted(added[path]), `images of ${path}`);
            for (const imageId of ids) {
                // eslint-disable-next-line no-await-in-loop
                const done = await sdk.wait(await sdk.images.delete(DeleteImageRequest.fromPartial({ imageId })));
                same(DeleteImageMetadata.decode(done.metadata.value).imageId, imageId, 'metadata.imageId');
                deleted += 1;
            }
        }
        const left = await sdk.repositories.list(ListRepositoriesRequest.fromPartial({ registryId: created.id }));
        same(left.repositories, [], 'repositories left (they go with their last image)');
        return `${deleted} images`;
    });
    await check('delete the emptied registry; DELETING until waitForOperation polls it done', async () => {
        const operation = await deleteRegistry(created.id);
        expect(!operation.done, 'the Delete operation is done at once, under polls:2');
        same((await getRegistry(created.id)).status, RegistryStatus.DELETING, 'status while pending');
        const done = await sdk.wait(operation);
        same(DeleteRegistryMetadata.decode(done.metadata.value).registryId, created.id, 'metadata.registryId');
        return failsWith(() => getRegistry(created.id), 'NOT_FOUND');
    });
    await check('the other registry is untouched', async () => {
        const left = await sdk.registries.list(ListRegistriesRequest.fromPartial({ folderId: folder }));
        same(left.registries.map((registry) => registry.name), ['node-bystander'], 'registries');
    });
    await cloudRegistryStep(config, sdk);
}

// ---- the registries scenario's Cloud Registry step: a Docker image's tags as Cloud Registry artifacts ------

const CLOUD_REGISTRY_ENDPOINT = 'registry.api.cloud.yandex.net:443'; // the SDK's service-endpoints-map.json
const CLOUD_REPOSITORY = 'library/ubuntu'; // the PACKAGE ubuntu in the FOLDER library
const CLOUD_TAGS = ['24.04', 'latest']; // its image's tags: an ARTIFACT each, listed by name

async function cloudRegistryStep(config, sdk) {
    const { cloudRegistries, artifacts } = sdk;
    const { folder } = config;
    const docker = await addCloudRegistry(config, folder, 'node-cloud-docker', 'DOCKER');
    const npm = await addCloudRegistry(config, folder, 'node-cloud-npm', 'NPM');
    const image = await addImage(config, docker.id, CLOUD_REPOSITORY, { tags: CLOUD_TAGS });
    const listTags = () => walk(
        cloudRegistries.listArtifacts, cloudRegistryService.ListArtifactsRequest,
        { registryId: docker.id, path: CLOUD_REPOSITORY }, 'artifacts', 1,
    );
    const fields = (artifact) => [artifact.name, artifact.path, artifact.kind];
    const tagged = (tag) => [tag, CLOUD_REPOSITORY, ArtifactKind.ARTIFACT];
    const path = `${CLOUD_REPOSITORY}/latest`;
    const getLatest = () => artifacts.getByPath(GetArtifactByPathRequest.fromPartial({ registryId: docker.id, path }));

    await check('cloud registry: the SDK maps its services to registry.api.cloud.yandex.net:443 by itself', () => {
        const clients = [cloudRegistryService.RegistryServiceClient, artifactService.ArtifactServiceClient];
        same(clients.map(getServiceClientEndpoint), [CLOUD_REGISTRY_ENDPOINT, CLOUD_REGISTRY_ENDPOINT], 'endpoints');
    });
    // The SDK's ListRegistriesRequest (3.2.0) has no kind, type, status or name_filter (nor its
    // Artifact a registry_id): it lists the folder's registries, and the DOCKER ones are picked by kind.
    await check('cloud registry: RegistryService.List, 1 per page; the DOCKER registry by its kind', async () => {
        const { items } = await walk(
            cloudRegistries.list, cloudRegistryService.ListRegistriesRequest, { folderId: folder }, 'registries', 1,
        );
        const { DOCKER, NPM } = CloudRegistryKind;
        same(sorted(items.map((registry) => `${registry.id} ${registry.kind}`)), [
            `${docker.id} ${DOCKER}`, `${npm.id} ${NPM}`,
        ].sort(), 'registries and their kinds');
        const dockers = items.filter((registry) => registry.kind === DOCKER);
        same(dockers.map((registry) => registry.id), [docker.id], 'the DOCKER registries');
    });
    await check('cloud registry: ListArtifacts of library/ubuntu, 1 per page: an ARTIFACT a tag', async () => {
        const { items, pages } = await listTags();
        same(items.map(fields), CLOUD_TAGS.map(tagged), '[name, path, kind]');
        return `${items.length} artifacts in ${pages} pages`;
    });
    let latest;
    await check('cloud registry: GetByPath library/ubuntu/latest, Get; the image\'s digest', async () => {
        const found = await getLatest();
        same(fields(found), tagged('latest'), '[name, path, kind]');
        same(found.content?.docker?.manifestDigest, image.digest, 'content.docker.manifestDigest');
        same(await artifacts.get(GetArtifactRequest.fromPartial({ artifactId: found.id })), found, 'Get by its id');
        latest = found;
        return found.id;
    });
    if (!latest) return;
    await check('cloud registry: Delete latest: pends; waitForOperation; latest is gone', async () => {
        const operation = await artifacts.delete(DeleteArtifactRequest.fromPartial({ artifactId: latest.id }));
        expect(!operation.done, 'the Delete operation is done at once, under polls:2');
        same(DeleteArtifactMetadata.decode(operation.metadata.value).artifactId, latest.id, 'metadata.artifactId');
        const done = await sdk.wait(operation);
        expect(done.done && !done.error, `not done, or failed: ${JSON.stringify(done.error)}`);
        same(done.response.typeUrl, 'type.googleapis.com/google.protobuf.Empty', 'response type');
        await failsWith(getLatest, 'NOT_FOUND');
        const { items } = await listTags();
        same(items.map(fields), [tagged('24.04')], 'artifacts left');
        same(items[0].content?.docker?.manifestDigest, image.digest, 'the image, kept by its other tag');
    });
    await check('cloud registry: Container Registry\'s RegistryService.List does not see its registries', async () => {
        const left = await sdk.registries.list(ListRegistriesRequest.fromPartial({ folderId: folder }));
        same(left.registries.map((registry) => registry.name), ['node-bystander'], 'registries');
    });
}

// ---- scenario: oauth ----------------------------------------------------------------------------------

async function oauthScenario(config) {
    expect(config.oauthToken, 'the oauth scenario needs --oauth-token or YCR_OAUTH_TOKEN');
    const registry = await addRegistry(config, config.folder, 'node-oauth');
    const image = await addImage(config, registry.id, 'app', { tags: ['v1'] });
    let iamToken;
    await check('IamTokenService.Create trades the OAuth token for an IAM token', async () => {
        const response = await iamTokenFromOAuth(config, config.oauthToken);
        iamToken = response.iamToken;
        expect(iamToken, 'no iamToken');
        expect(response.expiresAt > new Date(), `expiresAt ${response.expiresAt} is not in the future`);
    });
    if (!iamToken) return;
    await check('a Session with that IAM token lists the folder', async () => {
        const sdk = connect({ ...config, token: iamToken });
        const { ids } = await walk(sdk.images.list, ListImagesRequest, { folderId: config.folder }, 'images', 10);
        same(ids, [image.id], 'images');
    });
    await check('UNAUTHENTICATED: an OAuth token the emulator was not given', async () => {
        const status = statusOf(await rejection(iamTokenFromOAuth(config, 'y0_not-an-oauth-token-of-this-emulator')));
        same(status.code, 'UNAUTHENTICATED', `code (${status.details})`);
    });
}

// ---- main ---------------------------------------------------------------------------------------------

const SCENARIOS = {
    images: imagesScenario, errors: errorsScenario, registries: registriesScenario, oauth: oauthScenario,
};

function parse(argv) {
    const [scenario, ...rest] = argv;
    const usage = `usage: node scenario.js {${Object.keys(SCENARIOS).join(',')}} `
        + `${Object.keys(OPTIONS).map((option) => `--${option} VALUE`).join(' ')}`;
    if (!(scenario in SCENARIOS)) throw new Error(usage);
    const given = {};
    for (let i = 0; i < rest.length; i += 2) {
        const option = rest[i].replace(/^--/, '');
        if (!rest[i].startsWith('--') || !(option in OPTIONS) || i + 1 >= rest.length) {
            throw new Error(`unknown or incomplete option ${rest[i]}; ${usage}`);
        }
        given[option] = rest[i + 1];
    }
    const value = (option) => given[option] ?? process.env[OPTIONS[option]] ?? '';
    for (const option of REQUIRED) {
        if (!value(option)) throw new Error(`missing --${option} (or ${OPTIONS[option]}); ${usage}`);
    }
    const config = {
        endpoint: value('endpoint'),
        caFile: value('ca-file'),
        token: value('token'),
        folder: value('folder'),
        adminUrl: value('admin-url'),
        adminToken: value('admin-token'),
        oauthToken: value('oauth-token'),
    };
    return { scenario, config };
}

async function main() {
    let scenario;
    let config;
    try {
        ({ scenario, config } = parse(process.argv.slice(2)));
    } catch (error) {
        console.error(error.message);
        process.exitCode = 2;
        return;
    }
    try {
        await SCENARIOS[scenario](config);
    } catch (error) { // a setup step failed: the checks after it did not run
        failures += 1;
        console.log(`FAIL ${scenario}: ${describe(error)}`);
    }
    console.log(`scenario ${scenario}: ${passes} ok, ${failures} FAIL`);
    process.exitCode = failures ? 1 : 0;
}

main();

/**
 * Typical mistakes in every input users write (job spec, worker config, API config, CLI flags), each with the
 * message it gets: the field's path, what is missing or wrong, and what it expects (src/shared/zod-messages.ts),
 * never zod's generic "Invalid input".
 */
import { buildCreateJob, describeProblems, type JobFlags } from '../../src/cli/job-flags';
import { parsePriority, positiveInt } from '../../src/cli/parse';
import { loadApiConfig, parseApiConfig } from '../../src/http-api/config';
import { formatProblems, validateJobSpec } from '../../src/schemas/job-spec';
import { loadWorkerConfig, parseWorkerConfig } from '../../src/schemas/worker-config';

const job = {
  AccountId: '123456789012',
  ClientRequestToken: 'first-hour',
  Priority: 10,
  RoleArn: 'arn:aws:iam::123456789012:role/batch',
  Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'project', Value: 'blue' }] } },
  Manifest: {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::photos/manifest.csv', ETag: '60e460c9d1046e73f7dde5043ac3ae85' },
  },
  Report: { Enabled: false },
};

function jobProblems(input: unknown): string {
  const v = validateJobSpec(input);
  if (v.ok) throw new Error('expected the job to be refused');
  return formatProblems(v.problems);
}

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

const worker = (config: unknown) => thrown(() => parseWorkerConfig(config));
const api = (config: unknown) => thrown(() => parseApiConfig(config, {}));
const flags = (f: JobFlags) => {
  const v = validateJobSpec(buildCreateJob(f));
  if (v.ok) throw new Error('expected the flags to be refused');
  return describeProblems(v.problems);
};

const MISTAKES: [string, () => string, string | RegExp][] = [
  ['job: no TagSet', () => jobProblems({ ...job, Operation: { S3PutObjectTagging: {} } }), 'Operation.S3PutObjectTagging.TagSet: required (a list of {Key, Value})'],
  ['job: a tag without Value', () => jobProblems({ ...job, Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'a' }] } } }), 'Operation.S3PutObjectTagging.TagSet[0].Value: required (text)'],
  ['job: Priority as a word', () => jobProblems({ ...job, Priority: 'ten' }), 'Priority: expected a whole number, got text "ten"'],
  ['job: negative Priority', () => jobProblems({ ...job, Priority: -1 }), 'Priority: must be at least 0, got -1'],
  ['job: a misspelt field', () => jobProblems({ ...job, Operaton: {} }), /^unknown field "Operaton" \(expected here: AccountId, .*Operation, .*\)/],
  ['job: a misspelt extension', () => jobProblems({ ...job, Extensions: { PageSise: 5 } }), /^Extensions: unknown field "PageSise" \(expected here: .*PageSize.*\)$/],
  ['job: an unknown manifest format', () => jobProblems({ ...job, Manifest: { ...job.Manifest, Spec: { ...job.Manifest.Spec, Format: 'CSV' } } }), 'Manifest.Spec.Format: expected one of "S3BatchOperations_CSV_20180820", "S3InventoryReport_CSV_20161130", got text "CSV"'],
  ['job: Report.Enabled as text', () => jobProblems({ ...job, Report: { Enabled: 'yes' } }), 'Report.Enabled: expected true or false, got text "yes"'],
  ['job: not an object', () => jobProblems('job.json'), /^expected \{AccountId, .*\}, got text "job\.json"$/],
  ['worker: endpoint not a URL', () => worker({ s3: { default: { endpoint: 'not a url' } } }), 's3.default.endpoint: expected a URL such as http://127.0.0.1:9000, got text "not a url"'],
  ['worker: credentials without a secret', () => worker({ s3: { default: { credentials: { accessKeyId: 'AKID' } } } }), 's3.default.credentials: expected {accessKeyId, secretAccessKey, sessionToken} or {accessKeyIdEnv, secretAccessKeyEnv, sessionTokenEnv}, got an object; as {accessKeyId, secretAccessKey, sessionToken}: secretAccessKey: required (text)'],
  ['worker: address as a number', () => worker({ temporal: { address: 7233 } }), 'temporal.address: expected text, got the number 7233'],
  ['worker: a misspelt section', () => worker({ s3x: {} }), '(root): unknown field "s3x" (expected here: temporal, s3, lambda, operations, webhooks, roles, payloadEncryption, worker)'],
  ['worker env: zero activities', () => thrown(() => loadWorkerConfig({ S3BATCH_MAX_CONCURRENT_ACTIVITIES: '0' })), 'S3BATCH_MAX_CONCURRENT_ACTIVITIES: must be at least 1, got 0'],
  ['worker env: unknown task execution', () => thrown(() => loadWorkerConfig({ S3BATCH_TASK_EXECUTION: 'Fast' })), 'S3BATCH_TASK_EXECUTION: expected one of "LocalActivity", "Activity", "Batch", got text "Fast"'],
  ['api: port as text', () => api({ listen: { port: '80' }, accessKeys: [{ accessKeyId: 'a', secretAccessKey: 'b' }] }), 'listen.port: expected a whole number, got text "80"'],
  ['api: a key without its secret', () => api({ accessKeys: [{ accessKeyId: 'a' }] }), 'accessKeys.0: expected exactly one of secretAccessKey (the secret) or secretAccessKeyEnv (the variable holding it)'],
  ['api env: port as a word', () => thrown(() => loadApiConfig({ S3BATCH_API_PORT: 'eighty' })), 'S3BATCH_API_PORT: expected a whole number, got a value that is not a number'],
  ['cli: create-job without --manifest', () => flags({ operation: 'tagging', tag: [['a', 'b']], report: false }), 'Manifest: required (or ManifestGenerator, or Extensions.RedriveOf) (flag: --manifest)'],
  ['cli: create-job without a report choice', () => flags({ manifest: 's3://photos/m.csv', operation: 'tagging' }), 'Report: required ({Enabled, Bucket, Format, Prefix, ReportScope, ExpectedBucketOwner}) (flag: --report s3://bucket/prefix or --no-report)'],
  ['cli: --priority as a word', () => thrown(() => parsePriority('ten')), 'expected a whole number from 0 to 2147483647 (not a whole number)'],
  ['cli: --limit 0', () => thrown(() => positiveInt(1000)('0')), 'expected a whole number from 1 to 1000 (must be at least 1, got 0)'],
];

test.each(MISTAKES)('%s', (_name, make, expected) => {
  const message = make();
  if (typeof expected === 'string') expect(message).toContain(expected);
  else expect(message).toMatch(expected);
  expect(message).not.toMatch(/Invalid input|Invalid option|Unrecognized key|received undefined/);
});

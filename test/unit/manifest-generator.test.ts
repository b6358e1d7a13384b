import { decodeManifestKey, splitCsvLine } from '../../src/activities/manifest/csv-row';
import {
  nextMaxKeys,
  eligibleForReplication,
  generatedLine,
  inventoryKey,
  matchesHead,
  matchesListing,
  needsHead,
  replicationScopes,
  type ListedObject,
} from '../../src/activities/manifest/generate';
import { GENERATED_FILE_SCHEMA, generatedDataFileKey } from '../../src/shared/generated-manifest';
import { GENERATED_COLUMNS } from '../../src/schemas/job-spec';
import { resolveFilter } from '../../src/schemas/manifest-generator';

const object = (over: Partial<ListedObject> = {}): ListedObject => ({
  key: 'logs/2024/app.log',
  size: 100,
  lastModified: new Date('2024-06-01T00:00:00Z'),
  etag: '"abc"',
  storageClass: 'STANDARD',
  ...over,
});

describe('generated manifest filters', () => {
  test.each([
    ['createdAfter', { createdAfter: '2024-05-31T23:59:59.999Z' }, { createdAfter: '2024-06-01T00:00:00.000Z' }],
    ['createdBefore', { createdBefore: '2024-06-01T00:00:00.001Z' }, { createdBefore: '2024-06-01T00:00:00.000Z' }],
    ['prefix', { prefix: 'logs/' }, { prefix: 'log/' }],
    ['suffix', { suffix: '.log' }, { suffix: '.txt' }],
    ['substring', { substring: '2024' }, { substring: '2023' }],
    ['sizeGreaterThan (strict)', { sizeGreaterThan: 99 }, { sizeGreaterThan: 100 }],
    ['sizeLessThan (strict)', { sizeLessThan: 101 }, { sizeLessThan: 100 }],
    ['storageClasses', { storageClasses: ['GLACIER', 'STANDARD'] }, { storageClasses: ['GLACIER'] }],
  ])('%s: one side matches, the other does not', (_name, yes, no) => {
    expect(matchesListing(object(), yes)).toBe(true);
    expect(matchesListing(object(), no)).toBe(false);
  });

  test('a listing without a storage class is STANDARD; all criteria AND together', () => {
    expect(matchesListing(object({ storageClass: undefined }), { storageClasses: ['STANDARD'] })).toBe(true);
    expect(matchesListing(object(), { prefix: 'logs/', suffix: '.txt' })).toBe(false);
    expect(matchesListing(object(), {})).toBe(true);
  });

  test('encryption and replication status come from a HEAD, only when asked for', () => {
    expect(needsHead({ prefix: 'x' })).toBe(false);
    expect(needsHead({ encryption: { type: 'NOT-SSE' } })).toBe(true);
    expect(matchesHead({}, { encryption: { type: 'NOT-SSE' } })).toBe(true);
    expect(matchesHead({ ServerSideEncryption: 'AES256' }, { encryption: { type: 'SSE-S3' } })).toBe(true);
    expect(matchesHead({ ServerSideEncryption: 'AES256' }, { encryption: { type: 'NOT-SSE' } })).toBe(false);
    expect(matchesHead({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k1' }, { encryption: { type: 'SSE-KMS', kmsKeyArn: 'k1' } })).toBe(true);
    expect(matchesHead({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k2' }, { encryption: { type: 'SSE-KMS', kmsKeyArn: 'k1' } })).toBe(false);
    expect(matchesHead({ ServerSideEncryption: 'aws:kms:dsse' }, { encryption: { type: 'DSSE-KMS' } })).toBe(true);
    // A HEAD S3 refused for want of the customer's key: an SSE-C object.
    expect(matchesHead(undefined, { encryption: { type: 'SSE-C' } })).toBe(true);
    expect(matchesHead({}, { replicationStatuses: ['NONE'] })).toBe(true);
    expect(matchesHead({ ReplicationStatus: 'COMPLETED' }, { replicationStatuses: ['NONE'] })).toBe(false);
    expect(matchesHead({ ReplicationStatus: 'COMPLETED' }, { replicationStatuses: ['FAILED', 'COMPLETED'] })).toBe(true);
  });

  test('EligibleForReplication: enabled rules only; prefix and every tag of a rule; tags read only when needed', async () => {
    const scopes = replicationScopes([
      { Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d' }, Filter: { Prefix: 'rep/' } },
      { Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d' }, Filter: { And: { Prefix: 'tagged/', Tags: [{ Key: 'r', Value: 'yes' }, { Key: 's', Value: '1' }] } } },
      { Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d' }, Filter: { Tag: { Key: 'only', Value: 'tag' } } },
      { Status: 'Disabled', Destination: { Bucket: 'arn:aws:s3:::d' }, Filter: { Prefix: 'off/' } },
      { Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d' }, Prefix: 'legacy/' },
    ]);
    expect(scopes).toEqual([
      { prefix: 'rep/', tags: [] },
      { prefix: 'tagged/', tags: [{ key: 'r', value: 'yes' }, { key: 's', value: '1' }] },
      { prefix: '', tags: [{ key: 'only', value: 'tag' }] },
      { prefix: 'legacy/', tags: [] },
    ]);
    let reads = 0;
    const tagged = (tags: { Key: string; Value: string }[]) => async () => {
      reads++;
      return tags;
    };
    expect(await eligibleForReplication('rep/a', scopes, tagged([]))).toBe(true);
    expect(reads).toBe(0);
    expect(await eligibleForReplication('legacy/x', scopes, tagged([]))).toBe(true);
    expect(await eligibleForReplication('off/a', scopes, tagged([]))).toBe(false);
    expect(await eligibleForReplication('tagged/b', scopes, tagged([{ Key: 'r', Value: 'yes' }, { Key: 's', Value: '1' }]))).toBe(true);
    expect(await eligibleForReplication('tagged/c', scopes, tagged([{ Key: 'r', Value: 'yes' }]))).toBe(false);
    expect(await eligibleForReplication('any/d', scopes, tagged([{ Key: 'only', Value: 'tag' }]))).toBe(true);
    expect(await eligibleForReplication('any/d', [], tagged([]))).toBe(false);
  });

  test('resolveFilter flattens AWS fields and drops the absent ones', () => {
    expect(
      resolveFilter({
        KeyNameConstraint: { MatchAnySuffix: ['.log'] },
        ObjectSizeLessThanBytes: 5,
        MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: 'arn:k', BucketKeyEnabled: true } }],
      })
    ).toEqual({ suffix: '.log', sizeLessThan: 5, encryption: { type: 'SSE-KMS', kmsKeyArn: 'arn:k', bucketKeyEnabled: true } });
    expect(resolveFilter({ EligibleForReplication: true })).toEqual({ eligibleForReplication: true });
    expect(resolveFilter({ EligibleForReplication: false })).toEqual({});
  });
});

describe('generated data files', () => {
  test('keys are URL-encoded as S3 Inventory writes them and decode back exactly', () => {
    for (const key of ['a b+c.txt', 'caf\u00e9/%41,"q".txt', 'dir/sub/plain']) {
      expect(decodeManifestKey(inventoryKey(key))).toBe(key);
    }
    expect(inventoryKey('dir/a b')).toBe('dir/a%20b');
  });

  test('a line quotes every field, in GENERATED_FILE_SCHEMA order, and GENERATED_COLUMNS reads it', () => {
    const line = generatedLine('src', object({ key: 'a,b "c"', versionId: 'v1' }));
    expect(line).toBe('"src","a%2Cb%20%22c%22","v1","100","2024-06-01T00:00:00.000Z","abc","STANDARD"\n');
    const fields = splitCsvLine(line.trimEnd()) as string[];
    expect(fields).toHaveLength(GENERATED_FILE_SCHEMA.split(', ').length);
    expect(GENERATED_COLUMNS.count).toBe(fields.length);
    expect([fields[GENERATED_COLUMNS.bucket], fields[GENERATED_COLUMNS.key], fields[GENERATED_COLUMNS.versionId]]).toEqual(['src', 'a%2Cb%20%22c%22', 'v1']);
  });

  test('data files are numbered under the job folder', () => {
    expect(generatedDataFileKey({ connection: 'c', bucket: 'b', prefix: 'p', kept: true }, 'J', 7)).toBe('p/job-J/data/000007.csv.gz');
    expect(generatedDataFileKey({ connection: 'c', bucket: 'b', kept: false }, 'J', 0)).toBe('job-J/data/000000.csv.gz');
  });
});

describe('list call size', () => {
  test('asks for about the rows still needed, scaled by how many listed objects matched so far', () => {
    // First call, nothing known: the page's worth (a prefix-only listing then lists each object once).
    expect(nextMaxKeys(250, 0, 0)).toBe(250);
    // Everything matched so far: still about what is needed.
    expect(nextMaxKeys(50, 200, 200)).toBe(50);
    // 1 in 100 matched: list more, up to S3's 1,000.
    expect(nextMaxKeys(248, 250, 2)).toBe(1000);
    expect(nextMaxKeys(10, 100, 50)).toBe(20);
    expect(nextMaxKeys(250, 0, 0, 100)).toBe(100);
    expect(nextMaxKeys(0, 10, 10)).toBe(1);
  });
});

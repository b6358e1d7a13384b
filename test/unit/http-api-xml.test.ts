/** The restXml mapping of the HTTP API: XML requests into the CreateJob spec shape, and responses back out. */
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { ApiError } from '../../src/http-api/errors';
import { nestingDepth, parseXmlBody, toXml } from '../../src/http-api/xml';
import { CreateJobRequest, JobManifest, validateJobSpec } from '../../src/schemas/job-spec';
import { JobOperation, S3Tag } from '../../src/schemas/operations';

const NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

/** What @aws-sdk/client-s3-control 3.1112 sends for a copy job with tags (captured from the client). */
const createJobXml = `<?xml version="1.0" encoding="UTF-8"?><CreateJobRequest xmlns="${NS}"><Operation><S3PutObjectCopy><TargetResource>arn:aws:s3:::dst</TargetResource><AccessControlGrants><member><Grantee><TypeIdentifier>id</TypeIdentifier><Identifier>x</Identifier></Grantee><Permission>READ</Permission></member></AccessControlGrants><ModifiedSinceConstraint>2024-01-01T00:00:00Z</ModifiedSinceConstraint><MetadataDirective>REPLACE</MetadataDirective><NewObjectMetadata><UserMetadata><entry><key>k</key><value>v</value></entry></UserMetadata><ContentType>text/plain</ContentType></NewObjectMetadata><NewObjectTagging><member><Key>a</Key><Value>b</Value></member></NewObjectTagging></S3PutObjectCopy></Operation><Report><Enabled>true</Enabled><Bucket>arn:aws:s3:::reports</Bucket><Format>Report_CSV_20180820</Format><Prefix>p</Prefix><ReportScope>AllTasks</ReportScope></Report><Priority>5</Priority><RoleArn>arn:aws:iam::123456789012:role/x</RoleArn><ConfirmationRequired>true</ConfirmationRequired><ClientRequestToken>b319d0db-3365-4cad-911d-3e365b3f62fa</ClientRequestToken><Manifest><Spec><Format>S3BatchOperations_CSV_20180820</Format><Fields><member>Bucket</member><member>Key</member></Fields></Spec><Location><ObjectArn>arn:aws:s3:::data/m.csv</ObjectArn><ETag>e</ETag></Location></Manifest><Description>d</Description><Tags><member><Key>t1</Key><Value>v1</Value></member><member><Key>t2</Key><Value></Value></member></Tags></CreateJobRequest>`;

function malformed(run: () => unknown): ApiError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected MalformedXML');
}

test('a CreateJob body becomes the spec shape: lists, maps, numbers, booleans and timestamps by the schema', () => {
  const request = parseXmlBody(createJobXml, 'CreateJobRequest', CreateJobRequest);
  expect(request).toEqual({
    Operation: {
      S3PutObjectCopy: {
        TargetResource: 'arn:aws:s3:::dst',
        AccessControlGrants: [{ Grantee: { TypeIdentifier: 'id', Identifier: 'x' }, Permission: 'READ' }],
        ModifiedSinceConstraint: '2024-01-01T00:00:00Z',
        MetadataDirective: 'REPLACE',
        NewObjectMetadata: { UserMetadata: { k: 'v' }, ContentType: 'text/plain' },
        NewObjectTagging: [{ Key: 'a', Value: 'b' }],
      },
    },
    Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Format: 'Report_CSV_20180820', Prefix: 'p', ReportScope: 'AllTasks' },
    Priority: 5,
    RoleArn: 'arn:aws:iam::123456789012:role/x',
    ConfirmationRequired: true,
    ClientRequestToken: 'b319d0db-3365-4cad-911d-3e365b3f62fa',
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: 'arn:aws:s3:::data/m.csv', ETag: 'e' },
    },
    Description: 'd',
    Tags: [{ Key: 't1', Value: 'v1' }, { Key: 't2', Value: '' }],
  });
  expect(validateJobSpec(request).ok).toBe(true);
});

test('one list item is still a list, an empty list is empty, and any item element name is read (docs show S3Tag)', () => {
  const one = parseXmlBody(
    `<PutJobTaggingRequest xmlns="${NS}"><Tags><S3Tag><Key>k</Key><Value>v</Value></S3Tag></Tags></PutJobTaggingRequest>`,
    'PutJobTaggingRequest',
    z.object({ Tags: z.array(S3Tag) })
  );
  expect(one).toEqual({ Tags: [{ Key: 'k', Value: 'v' }] });
  expect(parseXmlBody(`<PutJobTaggingRequest><Tags/></PutJobTaggingRequest>`, 'PutJobTaggingRequest', z.object({ Tags: z.array(S3Tag) }))).toEqual({
    Tags: [],
  });
  const fields = parseXmlBody(
    '<M><Spec><Format>S3BatchOperations_CSV_20180820</Format><Fields><member>Key</member></Fields></Spec></M>',
    'M',
    JobManifest
  );
  expect(fields).toEqual({ Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Key'] } });
});

test('an empty operation element is an empty structure', () => {
  const op = parseXmlBody('<Op><S3DeleteObjectTagging></S3DeleteObjectTagging></Op>', 'Op', JobOperation);
  expect(op).toEqual({ S3DeleteObjectTagging: {} });
});

test('our own operations: a literal true is a boolean; a custom operation\'s parameters are a map', () => {
  const del = parseXmlBody('<Op><S3DeleteObject><ConfirmDataDeletion>true</ConfirmDataDeletion></S3DeleteObject></Op>', 'Op', JobOperation);
  expect(del).toEqual({ S3DeleteObject: { ConfirmDataDeletion: true } });
  expect(JobOperation.safeParse(del).success).toBe(true);
  const custom = parseXmlBody(
    '<Op><CustomOperation><Name>SetContentType</Name><Parameters><entry><key>Mode</key><value>fast</value></entry></Parameters></CustomOperation></Op>',
    'Op',
    JobOperation
  );
  expect(custom).toEqual({ CustomOperation: { Name: 'SetContentType', Parameters: { Mode: 'fast' } } });
});

test('wrong values stay text, so validation names the field', () => {
  const body = createJobXml.replace('<Priority>5</Priority>', '<Priority>high</Priority>').replace('<Enabled>true</Enabled>', '<Enabled>yes</Enabled>');
  const validation = validateJobSpec(parseXmlBody(body, 'CreateJobRequest', CreateJobRequest));
  expect(validation.ok).toBe(false);
  const paths = (validation as { problems: { path: string }[] }).problems.map((p) => p.path);
  expect(paths).toEqual(expect.arrayContaining(['Priority', 'Report.Enabled']));
});

test('MalformedXML: not well-formed, wrong root, repeated element, DOCTYPE, empty body', () => {
  for (const body of [
    '<CreateJobRequest><Priority>1</CreateJobRequest>',
    '<Other/>',
    '<CreateJobRequest><Priority>1</Priority><Priority>2</Priority></CreateJobRequest>',
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><CreateJobRequest><Description>&a;</Description></CreateJobRequest>',
    '',
  ]) {
    const error = malformed(() => parseXmlBody(body, 'CreateJobRequest', CreateJobRequest));
    expect(error).toMatchObject({ code: 'MalformedXML', status: 400 });
  }
});

test('responses: namespace, lists as member, maps as entry (by the schema), absent fields left out, text escaped', () => {
  const xml = toXml(
    'DescribeJobResult',
    {
      Job: {
        JobId: 'j1',
        Description: 'a < b & c',
        Priority: 3,
        ConfirmationRequired: false,
        TerminationDate: undefined,
        Operation: { LambdaInvoke: { FunctionArn: 'f', InvocationSchemaVersion: '2.0', UserArguments: { k: 'v' } } },
        FailureReasons: [{ FailureCode: 'X', FailureReason: 'y' }],
      },
    },
    z.object({ Job: z.object({ Operation: JobOperation }) })
  );
  expect(xml).toContain(`<DescribeJobResult xmlns="${NS}">`);
  expect(xml).toContain('<UserArguments><entry><key>k</key><value>v</value></entry></UserArguments>');
  expect(xml).toContain('<FailureReasons><member><FailureCode>X</FailureCode><FailureReason>y</FailureReason></member></FailureReasons>');
  expect(xml).not.toContain('TerminationDate');
  const parsed = new XMLParser().parse(xml);
  expect(parsed.DescribeJobResult.Job.Description).toBe('a < b & c');
  expect(toXml('GetJobTaggingResult', { Tags: [] })).toContain('<Tags></Tags>');
});

test('a ManifestGenerator body (filters, one-item lists, an empty encryption structure) validates as a generated job', () => {
  const body = `<CreateJobRequest xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">
    <Operation><S3PutObjectTagging><TagSet><member><Key>a</Key><Value>b</Value></member></TagSet></S3PutObjectTagging></Operation>
    <Report><Enabled>true</Enabled><Bucket>arn:aws:s3:::rep</Bucket><Format>Report_CSV_20180820</Format><ReportScope>AllTasks</ReportScope></Report>
    <ManifestGenerator><S3JobManifestGenerator>
      <SourceBucket>arn:aws:s3:::src</SourceBucket><EnableManifestOutput>false</EnableManifestOutput>
      <Filter>
        <CreatedAfter>2024-01-01T00:00:00Z</CreatedAfter>
        <KeyNameConstraint><MatchAnyPrefix><member>logs/</member></MatchAnyPrefix></KeyNameConstraint>
        <ObjectSizeGreaterThanBytes>10</ObjectSizeGreaterThanBytes>
        <MatchAnyStorageClass><member>STANDARD</member></MatchAnyStorageClass>
        <MatchAnyObjectEncryption><member><NOTSSE/></member></MatchAnyObjectEncryption>
      </Filter>
    </S3JobManifestGenerator></ManifestGenerator>
    <Priority>10</Priority>
  </CreateJobRequest>`;
  const result = validateJobSpec(parseXmlBody(body, 'CreateJobRequest', CreateJobRequest));
  expect(result.ok && result.job.generator?.filter).toEqual({
    createdAfter: '2024-01-01T00:00:00.000Z',
    prefix: 'logs/',
    sizeGreaterThan: 10,
    storageClasses: ['STANDARD'],
    encryption: { type: 'NOT-SSE' },
  });
});

test('nesting deeper than any request is MalformedXML before parsing (it would exhaust the stack)', () => {
  expect(nestingDepth('<a><b/><c><d>x</d></c></a>')).toBe(3);
  expect(nestingDepth('<?xml version="1.0"?><!-- <x> --><a></a>')).toBe(1);
  const deep = `<CreateJobRequest>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</CreateJobRequest>`;
  expect(malformed(() => parseXmlBody(deep, 'CreateJobRequest', CreateJobRequest)).message).toMatch(/nest more than 64 deep/);
});

/**
 * Errors as S3 Control sends them: an HTTP status and `<ErrorResponse><Error><Code/><Message/></Error>…`, which the
 * AWS SDKs parse (restXml reads Error.Code) into the modeled exception of that name (NotFoundException,
 * JobStatusException, …) or, for codes the model lacks (AccessDenied, SignatureDoesNotMatch, InvalidRequest, …), a
 * generic service exception carrying the code as its name.
 */
import { XMLBuilder } from 'fast-xml-parser';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = code;
  }
}

/** The errors this API sends, by AWS code. */
export const apiErrors = {
  accessDenied: (message = 'Access Denied') => new ApiError('AccessDenied', 403, message),
  signatureDoesNotMatch: () =>
    new ApiError(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.'
    ),
  invalidAccessKeyId: () =>
    new ApiError('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.'),
  requestTimeTooSkewed: () =>
    new ApiError('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.'),
  /** AWS's answer to a request carrying both an Authorization header and query-string authentication. */
  twoAuthMechanisms: () =>
    new ApiError(
      'InvalidArgument',
      400,
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
    ),
  presignedNotSupported: () =>
    new ApiError(
      'AccessDenied',
      403,
      'Presigned URLs (query-string authentication) are not supported by this API; sign the Authorization header as the AWS SDKs do'
    ),
  authorizationHeaderMalformed: (detail: string) =>
    new ApiError('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${detail}`),
  contentSha256Mismatch: () =>
    new ApiError('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed."),
  malformedXml: (detail?: string) =>
    new ApiError(
      'MalformedXML',
      400,
      `The XML you provided was not well-formed or did not validate against our published schema${detail ? `: ${detail}` : ''}`
    ),
  maxMessageLengthExceeded: () => new ApiError('MaxMessageLengthExceeded', 400, 'Your request was too big.'),
  invalidRequest: (message: string) => new ApiError('InvalidRequest', 400, message),
  invalidNextToken: () => new ApiError('InvalidNextTokenException', 400, 'The continuation token provided is invalid'),
  tooManyTags: () => new ApiError('TooManyTagsException', 400, 'A job can have at most 50 tags'),
  notFound: (jobId: string) => new ApiError('NotFoundException', 404, `The specified job does not exist: ${jobId}`),
  idempotency: (message: string) => new ApiError('IdempotencyException', 409, message),
  jobStatus: (message: string) => new ApiError('JobStatusException', 409, message),
  tooManyRequests: (message = 'Too many requests; retry with backoff') => new ApiError('TooManyRequestsException', 429, message),
  notImplemented: (what: string) =>
    new ApiError('NotImplemented', 501, `${what}: this API serves S3 Control's Batch Operations job calls only`),
  internal: () => new ApiError('InternalServiceException', 500, 'We encountered an internal error. Please try again.'),
} as const;

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });

export function errorXml(error: ApiError, requestId: string): string {
  const body = builder.build({
    ErrorResponse: { Error: { Code: error.code, Message: error.message }, RequestId: requestId, HostId: requestId },
  });
  return `<?xml version="1.0" encoding="UTF-8"?>${body}`;
}

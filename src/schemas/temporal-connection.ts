/**
 * How every part of s3-batch reaches Temporal: the worker, the HTTP API, the CLI and the client library all take
 * these fields (the worker config's and the API config's `temporal` section, the CLI's variables). A secured cluster
 * is reached with mTLS (a client certificate and key, the server's CA, optionally a server name) and Temporal Cloud
 * with mTLS or an API key (sent as a bearer token, TLS on). Secrets are named here, never held: a key or API key comes
 * from a file or an environment variable, read when connecting (src/temporal-connection.ts), so a parsed config can
 * be logged or shown without leaking anything.
 *
 * The same environment variables override the files for every process (applyTemporalConnectionEnv):
 *   S3BATCH_TEMPORAL_TLS_CERT, S3BATCH_TEMPORAL_TLS_KEY, S3BATCH_TEMPORAL_TLS_CA: PEM file paths
 *   S3BATCH_TEMPORAL_TLS_SERVER_NAME: the name the server's certificate must carry (default: the address's host)
 *   S3BATCH_TEMPORAL_TLS (true/false): TLS with the system's CAs and no client certificate (or TLS off)
 *   S3BATCH_TEMPORAL_API_KEY (the key itself) or S3BATCH_TEMPORAL_API_KEY_FILE (a file holding it)
 */
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import '../shared/zod-messages';

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const FilePath = z.string().min(1);

/** A PEM given as a file or as an environment variable holding the PEM text; never both. */
const PEM_SOURCES = [
  ['clientCert', 'the client certificate'],
  ['clientKey', "the client certificate's private key"],
  ['serverCa', "the CA that signed the server's certificate"],
] as const;

export const TemporalTls = z
  .object({
    /** PEM client certificate (mTLS): a file, or a variable holding the PEM. */
    clientCertFile: FilePath.optional(),
    clientCertEnv: EnvName.optional(),
    /** Its private key, unencrypted PEM (PKCS#8 or PKCS#1/SEC1). */
    clientKeyFile: FilePath.optional(),
    clientKeyEnv: EnvName.optional(),
    /** The CA (or bundle) that signed the server's certificate; absent: the system's trusted CAs. */
    serverCaFile: FilePath.optional(),
    serverCaEnv: EnvName.optional(),
    /** The name the server's certificate must carry, when it is not the address's host (SNI and verification). */
    serverName: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((tls, ctx) => {
    for (const [field] of PEM_SOURCES) {
      if (tls[`${field}File`] !== undefined && tls[`${field}Env`] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [`${field}File`], message: `give ${field}File or ${field}Env, not both` });
      }
    }
    const hasCert = tls.clientCertFile !== undefined || tls.clientCertEnv !== undefined;
    const hasKey = tls.clientKeyFile !== undefined || tls.clientKeyEnv !== undefined;
    if (hasCert && !hasKey) {
      ctx.addIssue({ code: 'custom', path: ['clientKeyFile'], message: 'a client certificate needs its private key: set clientKeyFile or clientKeyEnv (or S3BATCH_TEMPORAL_TLS_KEY)' });
    }
    if (hasKey && !hasCert) {
      ctx.addIssue({ code: 'custom', path: ['clientCertFile'], message: 'a client key needs its certificate: set clientCertFile or clientCertEnv (or S3BATCH_TEMPORAL_TLS_CERT)' });
    }
  });
export type TemporalTls = z.infer<typeof TemporalTls>;

/** What a PEM field is, for error messages. */
export const PEM_FIELD_DESCRIPTIONS: Readonly<Record<(typeof PEM_SOURCES)[number][0], string>> = Object.fromEntries(PEM_SOURCES) as Record<(typeof PEM_SOURCES)[number][0], string>;

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/**
 * The connection fields, to spread into a `temporal` section (which adds its own, e.g. the task queue). A shape, not a
 * schema: each section is its own strict object, refined with refineTemporalConnection.
 */
export const TEMPORAL_CONNECTION_FIELDS = {
  /** host:port of the frontend (Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233 or the regional API key endpoint). */
  address: z.string().regex(/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected host:port').default(DEFAULT_TEMPORAL_ADDRESS),
  /** true: TLS with the system's CAs; an object: mTLS and/or a private CA; false or absent: plain TCP (unless an API key is set). */
  tls: z.union([z.boolean(), TemporalTls]).optional(),
  /** A file holding the API key (Temporal Cloud); TLS is then on. */
  apiKeyFile: FilePath.optional(),
  /** Name of the environment variable holding the API key. */
  apiKeyEnv: EnvName.optional(),
};

/** The connection fields of a parsed `temporal` section. */
export interface TemporalConnectionSettings {
  address: string;
  tls?: boolean | TemporalTls;
  apiKeyFile?: string;
  apiKeyEnv?: string;
}

/** Cross-field checks of the connection fields; give it to the section's superRefine. */
export function refineTemporalConnection(settings: Partial<TemporalConnectionSettings>, ctx: z.RefinementCtx): void {
  const hasApiKey = settings.apiKeyFile !== undefined || settings.apiKeyEnv !== undefined;
  if (settings.apiKeyFile !== undefined && settings.apiKeyEnv !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['apiKeyFile'], message: 'give apiKeyFile or apiKeyEnv (S3BATCH_TEMPORAL_API_KEY_FILE or S3BATCH_TEMPORAL_API_KEY), not both' });
  }
  if (hasApiKey && settings.tls === false) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'an API key is only sent over TLS: remove "tls": false (or S3BATCH_TEMPORAL_TLS=false)' });
  }
  const tls = typeof settings.tls === 'object' ? settings.tls : undefined;
  if (hasApiKey && tls && (tls.clientCertFile !== undefined || tls.clientCertEnv !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['apiKeyFile'], message: 'give a client certificate (mTLS) or an API key, not both' });
  }
}

/** A `temporal` section with just the connection fields and the namespace (the CLI's and the client library's). */
export const TemporalConnectionConfig = z
  .object({ ...TEMPORAL_CONNECTION_FIELDS, namespace: z.string().min(1).default('s3-batch') })
  .strict()
  .superRefine(refineTemporalConnection);
export type TemporalConnectionConfig = z.infer<typeof TemporalConnectionConfig>;
export type TemporalConnectionConfigInput = z.input<typeof TemporalConnectionConfig>;

const Flag = z.enum(['true', 'false', '1', '0']);

/** The variables every process reads on top of its config file (see the header). */
export const TEMPORAL_CONNECTION_ENV = {
  S3BATCH_TEMPORAL_TLS: Flag.optional(),
  S3BATCH_TEMPORAL_TLS_CERT: FilePath.optional(),
  S3BATCH_TEMPORAL_TLS_KEY: FilePath.optional(),
  S3BATCH_TEMPORAL_TLS_CA: FilePath.optional(),
  S3BATCH_TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  // Checked when connecting, so that its value never appears in an error.
  S3BATCH_TEMPORAL_API_KEY: z.string().optional(),
  S3BATCH_TEMPORAL_API_KEY_FILE: FilePath.optional(),
};
export type TemporalConnectionEnv = { [K in keyof typeof TEMPORAL_CONNECTION_ENV]?: string };

/**
 * `temporal` (a raw section from a file) with the variables applied over it. The API key variable is recorded by name
 * (apiKeyEnv), so the result holds no secret.
 */
export function applyTemporalConnectionEnv(temporal: Record<string, any>, env: TemporalConnectionEnv): Record<string, any> {
  const result = { ...temporal };
  const fileOverrides: Record<string, string | undefined> = {
    clientCert: env.S3BATCH_TEMPORAL_TLS_CERT,
    clientKey: env.S3BATCH_TEMPORAL_TLS_KEY,
    serverCa: env.S3BATCH_TEMPORAL_TLS_CA,
  };
  const tlsFromEnv = Object.values(fileOverrides).some(Boolean) || env.S3BATCH_TEMPORAL_TLS_SERVER_NAME;
  if (env.S3BATCH_TEMPORAL_TLS !== undefined) {
    const on = env.S3BATCH_TEMPORAL_TLS === 'true' || env.S3BATCH_TEMPORAL_TLS === '1';
    // "true" keeps a file's TLS settings; "false" turns TLS off whatever the file says.
    if (!on) result.tls = false;
    else if (typeof result.tls !== 'object') result.tls = true;
  }
  if (tlsFromEnv) {
    const tls = typeof result.tls === 'object' && result.tls !== null ? { ...result.tls } : {};
    for (const [field, path] of Object.entries(fileOverrides)) {
      if (!path) continue;
      tls[`${field}File`] = path;
      delete tls[`${field}Env`];
    }
    if (env.S3BATCH_TEMPORAL_TLS_SERVER_NAME) tls.serverName = env.S3BATCH_TEMPORAL_TLS_SERVER_NAME;
    result.tls = tls;
  }
  if (env.S3BATCH_TEMPORAL_API_KEY !== undefined || env.S3BATCH_TEMPORAL_API_KEY_FILE) {
    // Both variables set is refused by the schema (apiKeyFile and apiKeyEnv), not settled silently here.
    delete result.apiKeyEnv;
    delete result.apiKeyFile;
    if (env.S3BATCH_TEMPORAL_API_KEY !== undefined) result.apiKeyEnv = 'S3BATCH_TEMPORAL_API_KEY';
    if (env.S3BATCH_TEMPORAL_API_KEY_FILE) result.apiKeyFile = env.S3BATCH_TEMPORAL_API_KEY_FILE;
  }
  return result;
}

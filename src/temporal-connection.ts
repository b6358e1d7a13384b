/**
 * Turns the connection fields of a `temporal` section (src/schemas/temporal-connection.ts) into the options the
 * Temporal SDK connects with (`address`, `tls`, `apiKey`: the same for the client's Connection and the worker's
 * NativeConnection), reading the PEM files and secrets it names. Problems say which field and what is wrong (missing
 * file, no PEM in it, a key that does not belong to the certificate...), never what a secret holds. The result is
 * passed straight to the SDK: it is never logged, and nothing of it reaches a workflow.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { Client, Connection, type DataConverter } from '@temporalio/client';
import {
  PEM_FIELD_DESCRIPTIONS,
  TemporalConnectionConfig,
  type TemporalConnectionConfigInput,
  type TemporalConnectionSettings,
  type TemporalTls,
} from './schemas/temporal-connection';

/** What the SDK's Connection.connect and NativeConnection.connect take from us. */
export interface TemporalConnectOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

export class TemporalConnectionError extends Error {
  constructor(problems: string[]) {
    super(`Invalid Temporal connection settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TemporalConnectionError';
  }
}

type PemField = keyof typeof PEM_FIELD_DESCRIPTIONS;

/**
 * The SDK's options for `settings`, secrets read from files and `env`. `where` prefixes field names in errors
 * (`temporal` for a config file's section). Throws TemporalConnectionError listing every problem.
 */
export function temporalConnectOptions(
  settings: TemporalConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
  where = 'temporal'
): TemporalConnectOptions {
  const problems: string[] = [];
  const options: TemporalConnectOptions = { address: settings.address };
  const apiKey = readApiKey(settings, env, where, problems);
  if (apiKey !== undefined) options.apiKey = apiKey;
  if (settings.tls === true || (settings.tls === undefined && apiKey !== undefined)) options.tls = {};
  if (typeof settings.tls === 'object') options.tls = readTls(settings.tls, env, `${where}.tls`, problems);
  if (problems.length) throw new TemporalConnectionError(problems);
  return options;
}

/** A line for start-up logs: how the connection is secured, naming files and variables, never their contents. */
export function describeTemporalSecurity(settings: TemporalConnectionSettings): string {
  const apiKey = settings.apiKeyFile ? `API key from ${settings.apiKeyFile}` : settings.apiKeyEnv ? `API key from $${settings.apiKeyEnv}` : undefined;
  const tls = typeof settings.tls === 'object' ? settings.tls : undefined;
  const source = (field: PemField) => tls?.[`${field}File`] ?? (tls?.[`${field}Env`] ? `$${tls[`${field}Env`]}` : undefined);
  if (tls && source('clientCert')) {
    const ca = source('serverCa') ? `, server CA ${source('serverCa')}` : '';
    return `mTLS (client certificate ${source('clientCert')}${ca}${tls.serverName ? `, server name ${tls.serverName}` : ''})`;
  }
  if (apiKey) return `TLS, ${apiKey}`;
  if (tls) return `TLS (${source('serverCa') ? `server CA ${source('serverCa')}` : "system CAs"}${tls.serverName ? `, server name ${tls.serverName}` : ''})`;
  return settings.tls === true ? 'TLS (system CAs)' : 'no TLS';
}

/**
 * A Temporal Client for a `temporal` section (the library's way in: `new JobClient(await connectTemporalClient({
 * address, namespace, tls: { clientCertFile, clientKeyFile, serverCaFile } }))`). Only the connection fields and the
 * namespace are read (a whole worker or API config section may be passed); they are validated here, problems thrown
 * as TemporalConnectionError. Close it with `client.connection.close()`.
 */
export async function connectTemporalClient(
  settings: TemporalConnectionConfigInput & { taskQueue?: string; priorityLevels?: number },
  options: { env?: NodeJS.ProcessEnv; connectTimeoutMs?: number; dataConverter?: DataConverter } = {}
): Promise<Client> {
  const { address, namespace, tls, apiKeyFile, apiKeyEnv } = settings;
  const parsed = TemporalConnectionConfig.safeParse({ address, namespace, tls, apiKeyFile, apiKeyEnv });
  if (!parsed.success) throw new TemporalConnectionError(parsed.error.issues.map((i) => `temporal.${i.path.join('.')}: ${i.message}`));
  const connectOptions = temporalConnectOptions(parsed.data, options.env);
  const connection = await Connection.connect({
    ...connectOptions,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}),
  });
  return new Client({ connection, namespace: parsed.data.namespace, ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}) });
}

function readApiKey(settings: TemporalConnectionSettings, env: NodeJS.ProcessEnv, where: string, problems: string[]): string | undefined {
  let key: string | undefined;
  if (settings.apiKeyFile !== undefined) {
    key = readText(settings.apiKeyFile, `${where}.apiKeyFile`, problems)?.trim();
    if (key === '') problems.push(`${where}.apiKeyFile: ${settings.apiKeyFile} is empty`);
  } else if (settings.apiKeyEnv !== undefined) {
    key = env[settings.apiKeyEnv]?.trim();
    if (key === undefined) problems.push(`${where}.apiKeyEnv: environment variable ${settings.apiKeyEnv} is not set`);
    else if (key === '') problems.push(`${where}.apiKeyEnv: environment variable ${settings.apiKeyEnv} is empty`);
  }
  // A key with a line break or a control character would be a broken Authorization header: say so here.
  if (key && /[^\x21-\x7e]/.test(key)) {
    problems.push(`${where}.${settings.apiKeyFile !== undefined ? 'apiKeyFile' : 'apiKeyEnv'}: the API key holds spaces or control characters; expected one line of printable text`);
  }
  return key || undefined;
}

function readTls(tls: TemporalTls, env: NodeJS.ProcessEnv, where: string, problems: string[]): NonNullable<TemporalConnectOptions['tls']> {
  const result: NonNullable<TemporalConnectOptions['tls']> = {};
  if (tls.serverName) result.serverNameOverride = tls.serverName;
  const ca = readPem(tls, 'serverCa', env, where, problems);
  if (ca) {
    const cas = certificates(ca.text, ca.field, problems);
    if (cas) result.serverRootCACertificate = Buffer.from(ca.text);
  }
  const cert = readPem(tls, 'clientCert', env, where, problems);
  const key = readPem(tls, 'clientKey', env, where, problems);
  const certificate = cert ? certificates(cert.text, cert.field, problems)?.[0] : undefined;
  const privateKey = key ? parsePrivateKey(key.text, key.field, problems) : undefined;
  if (certificate && privateKey && cert && key) {
    if (!certificate.checkPrivateKey(privateKey)) {
      problems.push(`${key.field}: this key does not belong to the certificate in ${cert.field} (${certificate.subject.replace(/\n/g, ', ')})`);
    } else if (Date.parse(certificate.validTo) < Date.now()) {
      problems.push(`${cert.field}: the client certificate expired on ${certificate.validTo}`);
    } else {
      result.clientCertPair = { crt: Buffer.from(cert.text), key: Buffer.from(key.text) };
    }
  }
  return result;
}

/** The PEM text a field names (file or variable), and the field as the user wrote it; undefined when not set. */
function readPem(tls: TemporalTls, name: PemField, env: NodeJS.ProcessEnv, where: string, problems: string[]): { text: string; field: string } | undefined {
  const file = tls[`${name}File`];
  const variable = tls[`${name}Env`];
  if (file !== undefined) {
    const text = readText(file, `${where}.${name}File`, problems);
    return text === undefined ? undefined : { text, field: `${where}.${name}File (${file})` };
  }
  if (variable !== undefined) {
    const text = env[variable];
    if (!text) {
      problems.push(`${where}.${name}Env: environment variable ${variable} (${PEM_FIELD_DESCRIPTIONS[name]}) is ${text === undefined ? 'not set' : 'empty'}`);
      return undefined;
    }
    return { text, field: `${where}.${name}Env ($${variable})` };
  }
  return undefined;
}

function readText(path: string, field: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    problems.push(`${field}: cannot read ${path}: ${why}`);
    return undefined;
  }
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text (a CA file may be a bundle); undefined, with a problem, when there is none or one is broken. */
function certificates(text: string, field: string, problems: string[]): X509Certificate[] | undefined {
  const blocks = text.match(CERTIFICATE_PEM) ?? [];
  if (blocks.length === 0) {
    const hint = /PRIVATE KEY-----/.test(text) ? ' (it holds a private key: swapped with the key?)' : '';
    problems.push(`${field}: no PEM certificate (-----BEGIN CERTIFICATE-----) found${hint}`);
    return undefined;
  }
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (err) {
    problems.push(`${field}: unreadable PEM certificate: ${(err as Error).message}`);
    return undefined;
  }
}

function parsePrivateKey(text: string, field: string, problems: string[]): KeyObject | undefined {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const hint = /BEGIN CERTIFICATE/.test(text) ? ' (it holds a certificate: swapped with the certificate?)' : '';
    problems.push(`${field}: no PEM private key (-----BEGIN PRIVATE KEY-----) found${hint}`);
    return undefined;
  }
  if (/ENCRYPTED/.test(text)) {
    problems.push(`${field}: the private key is encrypted with a passphrase; give an unencrypted key (openssl pkey -in key.pem -out plain.pem)`);
    return undefined;
  }
  try {
    return createPrivateKey(text);
  } catch (err) {
    // OpenSSL's message names the decoder, not the key's contents.
    problems.push(`${field}: unreadable PEM private key: ${(err as Error).message}`);
    return undefined;
  }
}

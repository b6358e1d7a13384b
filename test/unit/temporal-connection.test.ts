/**
 * The Temporal connection settings (TLS, API key) every process shares: what each source turns into, and every
 * mistake named by its field before anything connects, with no secret in a message.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliContext } from '../../src/cli/context';
import { CliError } from '../../src/cli/errors';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { loadApiConfig } from '../../src/http-api/config';
import { loadWorkerConfig, WorkerConfigError } from '../../src/schemas/worker-config';
import { describeTemporalSecurity, TemporalConnectionError, temporalConnectOptions } from '../../src/temporal-connection';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certs';

let certs: TestCertificates;
const API_KEY = 'tmprl-test-api-key-0123456789abcdef';

beforeAll(() => {
  certs = makeTestCertificates();
});

function configFile(content: unknown): string {
  const path = join(certs.dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function textFile(name: string, content: string): string {
  const path = join(certs.dir, name);
  writeFileSync(path, content);
  return path;
}

/** The worker's connect options for a `temporal` section and environment; throws what loading or reading throws. */
function workerOptions(temporal: unknown, env: NodeJS.ProcessEnv = {}) {
  const config = loadWorkerConfig({ S3BATCH_WORKER_CONFIG: configFile({ temporal }), ...env });
  return temporalConnectOptions(config.temporal, env);
}

/** The message of what `fn` throws. */
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

const mtls = () => ({ address: '127.0.0.1:7233', tls: { clientCertFile: certs.client.cert, clientKeyFile: certs.client.key, serverCaFile: certs.ca.cert } });

describe('what each source turns into', () => {
  test('nothing set: plain TCP, no key', () => {
    const config = loadWorkerConfig({});
    expect(temporalConnectOptions(config.temporal, {})).toEqual({ address: '127.0.0.1:7233' });
    expect(describeTemporalSecurity(config.temporal)).toBe('no TLS');
  });

  test('mTLS from the worker config file: the PEMs read, the server name passed on', () => {
    const options = workerOptions({ ...mtls(), tls: { ...mtls().tls, serverName: 'temporal.internal' } });
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(options.tls?.clientCertPair?.crt.toString()).toBe(readFileSync(certs.client.cert, 'utf8'));
    expect(options.tls?.clientCertPair?.key.toString()).toBe(readFileSync(certs.client.key, 'utf8'));
    expect(options.tls?.serverRootCACertificate?.toString()).toBe(readFileSync(certs.ca.cert, 'utf8'));
    expect(options.apiKey).toBeUndefined();
  });

  test('mTLS from the variables, over the file; the parsed config names files, never contents', () => {
    const env = {
      S3BATCH_TEMPORAL_TLS_CERT: certs.client.cert,
      S3BATCH_TEMPORAL_TLS_KEY: certs.client.key,
      S3BATCH_TEMPORAL_TLS_CA: certs.ca.cert,
      S3BATCH_TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
    const config = loadWorkerConfig({ S3BATCH_WORKER_CONFIG: configFile({ temporal: { tls: { clientCertEnv: 'SOME_PEM', clientKeyEnv: 'SOME_KEY' } } }), ...env });
    expect(config.temporal.tls).toEqual({ clientCertFile: certs.client.cert, clientKeyFile: certs.client.key, serverCaFile: certs.ca.cert, serverName: 'localhost' });
    expect(describeTemporalSecurity(config.temporal)).toBe(`mTLS (client certificate ${certs.client.cert}, server CA ${certs.ca.cert}, server name localhost)`);
    // The HTTP API and the worker read the same variables into the same fields.
    const api = loadApiConfig({ ...env, S3BATCH_API_ACCESS_KEY_ID: 'AK', S3BATCH_API_SECRET_ACCESS_KEY: 'secret' });
    expect(api.temporal.tls).toEqual(config.temporal.tls);
    expect(temporalConnectOptions(api.temporal, {}).tls?.clientCertPair).toBeDefined();
  });

  test('PEMs held by environment variables (a Kubernetes secret as env)', () => {
    const env = { CERT_PEM: readFileSync(certs.client.cert, 'utf8'), KEY_PEM: readFileSync(certs.client.key, 'utf8') };
    const options = workerOptions({ tls: { clientCertEnv: 'CERT_PEM', clientKeyEnv: 'KEY_PEM' } }, env);
    expect(options.tls?.clientCertPair?.key.toString()).toBe(env.KEY_PEM);
    expect(options.tls?.serverRootCACertificate).toBeUndefined();
  });

  test('an API key from S3BATCH_TEMPORAL_API_KEY: recorded by name, sent with TLS on', () => {
    const env = { S3BATCH_TEMPORAL_API_KEY: API_KEY, S3BATCH_TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233' };
    const config = loadWorkerConfig(env);
    expect(config.temporal).toMatchObject({ apiKeyEnv: 'S3BATCH_TEMPORAL_API_KEY' });
    expect(JSON.stringify(config)).not.toContain(API_KEY);
    expect(temporalConnectOptions(config.temporal, env)).toEqual({ address: 'us-east-1.aws.api.temporal.io:7233', apiKey: API_KEY, tls: {} });
    expect(describeTemporalSecurity(config.temporal)).toBe('TLS, API key from $S3BATCH_TEMPORAL_API_KEY');
  });

  test('an API key from a file (trailing newline dropped)', () => {
    const path = textFile('api-key', `${API_KEY}\n`);
    expect(workerOptions({ apiKeyFile: path }).apiKey).toBe(API_KEY);
    expect(workerOptions({}, { S3BATCH_TEMPORAL_API_KEY_FILE: path }).apiKey).toBe(API_KEY);
  });

  test('S3BATCH_TEMPORAL_TLS: TLS with the system CAs, or off', () => {
    expect(workerOptions({}, { S3BATCH_TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(workerOptions(mtls(), { S3BATCH_TEMPORAL_TLS: 'false' }).tls).toBeUndefined();
    expect(workerOptions(mtls(), { S3BATCH_TEMPORAL_TLS: 'true' }).tls?.clientCertPair).toBeDefined();
  });
});

describe('mistakes, each named by its field before connecting', () => {
  const configProblem = (temporal: unknown, env: NodeJS.ProcessEnv = {}) => {
    const message = problem(() => workerOptions(temporal, env));
    return message;
  };

  test('a certificate without its key, and a key without its certificate', () => {
    expect(configProblem({ tls: { clientCertFile: certs.client.cert } })).toMatch(/temporal\.tls\.clientKeyFile: a client certificate needs its private key/);
    expect(configProblem({}, { S3BATCH_TEMPORAL_TLS_CERT: certs.client.cert })).toMatch(/temporal\.tls\.clientKeyFile: a client certificate needs its private key/);
    expect(configProblem({ tls: { clientKeyFile: certs.client.key } })).toMatch(/temporal\.tls\.clientCertFile: a client key needs its certificate/);
  });

  test('a file and a variable for the same thing', () => {
    expect(configProblem({ tls: { ...mtls().tls, clientCertEnv: 'PEM' } })).toMatch(/temporal\.tls\.clientCertFile: give clientCertFile or clientCertEnv, not both/);
    expect(configProblem({ apiKeyFile: '/k', apiKeyEnv: 'K' })).toMatch(/temporal\.apiKeyFile: give apiKeyFile or apiKeyEnv \(.*\), not both/);
    expect(configProblem({}, { S3BATCH_TEMPORAL_API_KEY: API_KEY, S3BATCH_TEMPORAL_API_KEY_FILE: '/k' })).toMatch(/give apiKeyFile or apiKeyEnv \(.*\), not both/);
  });

  test('a client certificate and an API key together; an API key over plain TCP', () => {
    expect(configProblem({ ...mtls(), apiKeyEnv: 'K' })).toMatch(/temporal\.apiKeyFile: give a client certificate \(mTLS\) or an API key, not both/);
    expect(configProblem({ tls: false, apiKeyEnv: 'K' })).toMatch(/temporal\.tls: an API key is only sent over TLS/);
  });

  test('unknown fields, bad types and a bad address', () => {
    expect(configProblem({ tls: { cert: '/c' } })).toMatch(/temporal\.tls/);
    expect(configProblem({ tls: 'yes' })).toMatch(/temporal\.tls/);
    expect(configProblem({ address: 'http://temporal:7233' })).toMatch(/temporal\.address: expected host:port/);
    expect(configProblem({ tls: { clientCertEnv: 'not a name', clientKeyEnv: 'K' } })).toMatch(/temporal\.tls\.clientCertEnv: expected an environment variable name/);
    expect(problem(() => loadWorkerConfig({ S3BATCH_TEMPORAL_TLS: 'yes' }))).toMatch(/S3BATCH_TEMPORAL_TLS/);
  });

  test('a missing file, a directory, a file with no PEM in it', () => {
    expect(configProblem({ tls: { ...mtls().tls, clientCertFile: '/nonexistent/client.pem' } })).toMatch(
      /temporal\.tls\.clientCertFile: cannot read \/nonexistent\/client\.pem: no such file/
    );
    expect(configProblem({ tls: { serverCaFile: certs.dir } })).toMatch(/temporal\.tls\.serverCaFile: cannot read .*: is a directory/);
    const junk = textFile('junk.pem', 'not a certificate\n');
    expect(configProblem({ tls: { serverCaFile: junk } })).toMatch(/temporal\.tls\.serverCaFile \(.*junk\.pem\): no PEM certificate/);
    expect(configProblem({ tls: { ...mtls().tls, clientKeyFile: junk } })).toMatch(/temporal\.tls\.clientKeyFile \(.*junk\.pem\): no PEM private key/);
    const broken = textFile('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(configProblem({ tls: { serverCaFile: broken } })).toMatch(/temporal\.tls\.serverCaFile \(.*broken\.pem\): unreadable PEM certificate/);
    expect(configProblem({ apiKeyFile: '/nonexistent/key' })).toMatch(/temporal\.apiKeyFile: cannot read \/nonexistent\/key: no such file/);
  });

  test('certificate and key swapped, a key of another certificate, an encrypted key', () => {
    const swapped = configProblem({ tls: { clientCertFile: certs.client.key, clientKeyFile: certs.client.cert } });
    expect(swapped).toMatch(/clientCertFile .*: no PEM certificate .* swapped with the key\?/);
    expect(swapped).toMatch(/clientKeyFile .*: no PEM private key .* swapped with the certificate\?/);
    expect(configProblem({ tls: { clientCertFile: certs.client.cert, clientKeyFile: certs.strangerClient.key } })).toMatch(
      /temporal\.tls\.clientKeyFile .*: this key does not belong to the certificate in temporal\.tls\.clientCertFile .*CN=client/
    );
    const encrypted = join(certs.dir, 'encrypted-key.pem');
    execFileSync('openssl', ['pkcs8', '-topk8', '-in', certs.client.key, '-out', encrypted, '-passout', 'pass:secret-passphrase', '-v2', 'aes-256-cbc']);
    expect(configProblem({ tls: { clientCertFile: certs.client.cert, clientKeyFile: encrypted } })).toMatch(/clientKeyFile .*: the private key is encrypted with a passphrase/);
  });

  test('an expired client certificate (the clock moved past its end)', () => {
    const validTo = Date.parse(new X509Certificate(readFileSync(certs.client.cert)).validTo);
    const now = jest.spyOn(Date, 'now').mockReturnValue(validTo + 1000);
    try {
      expect(configProblem(mtls())).toMatch(/temporal\.tls\.clientCertFile .*: the client certificate expired on /);
    } finally {
      now.mockRestore();
    }
    expect(() => workerOptions(mtls())).not.toThrow();
  });

  test('variables named but unset or empty', () => {
    expect(configProblem({ apiKeyEnv: 'NO_SUCH_KEY' })).toMatch(/temporal\.apiKeyEnv: environment variable NO_SUCH_KEY is not set/);
    expect(configProblem({}, { S3BATCH_TEMPORAL_API_KEY: '' })).toMatch(/temporal\.apiKeyEnv: environment variable S3BATCH_TEMPORAL_API_KEY is empty/);
    expect(configProblem({ tls: { clientCertEnv: 'NO_CERT', clientKeyEnv: 'NO_KEY' } })).toMatch(/temporal\.tls\.clientCertEnv: environment variable NO_CERT \(the client certificate\) is not set/);
    expect(configProblem({ apiKeyFile: textFile('empty-key', '\n') })).toMatch(/temporal\.apiKeyFile: .* is empty/);
  });

  test('every problem at once, and no secret in any message', () => {
    const keyPem = readFileSync(certs.strangerClient.key, 'utf8');
    const message = problem(() =>
      workerOptions({ tls: { clientCertFile: certs.client.cert, clientKeyEnv: 'KEY_PEM', serverCaFile: '/nonexistent/ca.pem' } }, { KEY_PEM: keyPem })
    );
    expect(message).toMatch(/serverCaFile: cannot read/);
    expect(message).toMatch(/does not belong to the certificate/);
    expect(message).not.toContain(keyPem.split('\n')[1]);
    const spaced = `${API_KEY} with spaces`;
    const keyMessage = problem(() => workerOptions({}, { S3BATCH_TEMPORAL_API_KEY: spaced }));
    expect(keyMessage).toMatch(/temporal\.apiKeyEnv: the API key holds spaces or control characters/);
    expect(keyMessage).not.toContain(API_KEY);
    expect(() => workerOptions({}, { S3BATCH_TEMPORAL_API_KEY: spaced })).toThrow(TemporalConnectionError);
  });

  test('schema mistakes are worker config errors naming the file', () => {
    const path = configFile({ temporal: { tls: { clientCertFile: '/c.pem' } } });
    expect(() => loadWorkerConfig({ S3BATCH_WORKER_CONFIG: path })).toThrow(WorkerConfigError);
    expect(problem(() => loadWorkerConfig({ S3BATCH_WORKER_CONFIG: path }))).toContain(path);
  });

  test('the CLI: bad settings are bad input (exit 2) before any connection, from its variables or the worker config', async () => {
    const cases: NodeJS.ProcessEnv[] = [
      { S3BATCH_TEMPORAL_TLS_CERT: certs.client.cert },
      { S3BATCH_TEMPORAL_TLS_CERT: certs.client.cert, S3BATCH_TEMPORAL_TLS_KEY: '/nonexistent/key.pem' },
      { S3BATCH_WORKER_CONFIG: configFile({ temporal: { tls: { clientCertFile: certs.client.cert, clientKeyFile: certs.strangerClient.key } } }) },
    ];
    const expected = [/temporal\.tls\.clientKeyFile: a client certificate needs its private key/, /cannot read \/nonexistent\/key\.pem: no such file/, /does not belong to the certificate/];
    for (const [i, env] of cases.entries()) {
      // Port 1: were anything to connect, it would fail as unreachable (exit 4), not as bad input.
      const ctx = new CliContext({ S3BATCH_TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
      const error = await ctx.jobs().then(
        () => undefined,
        (err: unknown) => err
      );
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(EXIT_CODES.badInput);
      expect((error as CliError).message).toMatch(expected[i]!);
    }
  });
});

test('the client library validates its settings before connecting', async () => {
  const { connectTemporalClient } = await import('../../src/client');
  await expect(connectTemporalClient({ address: '127.0.0.1:1', namespace: 's3-batch', tls: { clientCertFile: certs.client.cert } })).rejects.toThrow(
    /temporal\.tls\.clientKeyFile: a client certificate needs its private key/
  );
  await expect(connectTemporalClient({ address: '127.0.0.1:1', namespace: 's3-batch', apiKeyEnv: 'NO_SUCH_VARIABLE' }, { env: {} })).rejects.toThrow(
    TemporalConnectionError
  );
});

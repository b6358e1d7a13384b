/**
 * Certificates for the TLS tests, made with openssl in a fresh temporary folder: a CA, a server certificate for
 * 127.0.0.1 / localhost (and apikey.localhost, see temporal-tls-server.ts) signed by it, a client certificate signed by it, and a second CA with a client certificate of
 * its own (one the server must refuse). EC P-256 keys, so making them takes milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestCertificates {
  dir: string;
  ca: CertPair;
  server: CertPair;
  client: CertPair;
  /** Signed by another CA, which the server does not trust. */
  strangerClient: CertPair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): CertPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', pair.cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return pair;
}

function makeLeaf(dir: string, name: string, ca: CertPair, extensions: string): CertPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', pair.cert, '-days', '2', '-extfile', ext]);
  return pair;
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 's3batch-tls-'));
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:apikey.localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  const client = makeLeaf(dir, 'client', ca, 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const strangerCa = makeCa(dir, 'stranger-ca');
  const strangerClient = makeLeaf(dir, 'stranger-client', strangerCa, 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return { dir, ca, server, client, strangerClient };
}

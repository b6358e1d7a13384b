/**
 * Payload encryption keys: where they come from and how they are checked. Every process that reads or writes job
 * payloads (workers, the CLI, the HTTP API, the codec server) takes them from `S3BATCH_PAYLOAD_KEYS`; a worker can
 * name them in its config instead (`payloadEncryption.keys`, each key given in the file or by an environment
 * variable). The first key encrypts; every listed key decrypts, so keys can be rotated by putting a new one first.
 */
import { z } from 'zod';

/** Environment variable with the keys: `id=base64key[,id=base64key…]`, the first one current. */
export const PAYLOAD_KEYS_ENV = 'S3BATCH_PAYLOAD_KEYS';

const KeyId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a key id of letters, digits, ".", "_" or "-"');

/** A 256-bit key in base64. The message never repeats the value. */
const KeyBytes = z.string().transform((text, ctx) => {
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text.trim()) ? Buffer.from(text.trim(), 'base64') : undefined;
  if (!bytes || bytes.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)' });
    return z.NEVER;
  }
  return bytes;
});

/** The worker config's `payloadEncryption` section. */
export const PayloadEncryptionConfig = z
  .object({
    keys: z
      .array(
        z
          .object({ id: KeyId, key: z.string().optional(), keyEnv: z.string().min(1).optional() })
          .strict()
          .refine((k) => (k.key === undefined) !== (k.keyEnv === undefined), { message: 'give key or keyEnv, one of them' })
      )
      .min(1),
  })
  .strict();
export type PayloadEncryptionConfig = z.infer<typeof PayloadEncryptionConfig>;

export interface PayloadKeys {
  /** The key that encrypts. */
  currentId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export class PayloadKeyError extends Error {
  constructor(where: string, problems: string[]) {
    super(`Invalid payload encryption keys (${where}): ${problems.join('; ')}`);
    this.name = 'PayloadKeyError';
  }
}

function build(where: string, entries: { id: string; key: string }[]): PayloadKeys {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const ids = new Set<string>();
  entries.forEach(({ id, key }, i) => {
    const idOk = KeyId.safeParse(id);
    if (!idOk.success) problems.push(`key ${i + 1}: ${idOk.error.issues[0]!.message}`);
    if (ids.has(id)) problems.push(`key ${i + 1}: id "${id}" is given twice`);
    ids.add(id);
    const bytes = KeyBytes.safeParse(key);
    if (!bytes.success) problems.push(`key ${i + 1} ("${id}"): ${bytes.error.issues[0]!.message}`);
    else keys.set(id, bytes.data);
  });
  if (entries.length === 0) problems.push('no key given');
  if (problems.length > 0) throw new PayloadKeyError(where, problems);
  return { currentId: entries[0]!.id, keys };
}

/** Keys from `S3BATCH_PAYLOAD_KEYS`, or undefined when it is not set. */
export function payloadKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKeys | undefined {
  const text = env[PAYLOAD_KEYS_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  const entries = text.split(',').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? { id: part.trim(), key: '' } : { id: part.slice(0, eq).trim(), key: part.slice(eq + 1).trim() };
  });
  return build(PAYLOAD_KEYS_ENV, entries);
}

/** Keys from a worker config section, reading `keyEnv` variables. */
export function payloadKeysFromConfig(config: PayloadEncryptionConfig, env: NodeJS.ProcessEnv = process.env): PayloadKeys {
  const missing = config.keys.filter((k) => k.keyEnv && !env[k.keyEnv]).map((k) => `key "${k.id}": environment variable ${k.keyEnv} is not set`);
  if (missing.length > 0) throw new PayloadKeyError('worker config payloadEncryption', missing);
  return build(
    'worker config payloadEncryption',
    config.keys.map((k) => ({ id: k.id, key: k.key ?? env[k.keyEnv!]! }))
  );
}

/** A worker's keys: its config's section when it has one, else `S3BATCH_PAYLOAD_KEYS`; undefined: no encryption. */
export function workerPayloadKeys(section: PayloadEncryptionConfig | undefined, env: NodeJS.ProcessEnv = process.env): PayloadKeys | undefined {
  return section ? payloadKeysFromConfig(section, env) : payloadKeysFromEnv(env);
}

/** AES-GCM payload codec and its keys: round trips, tampering, rotation, pass-through, and key errors that say what. */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { payloadKeysFromConfig, payloadKeysFromEnv, PayloadKeyError } from '../../src/codec/payload-keys';

const b64 = () => randomBytes(32).toString('base64');
const payload = (text: string): Payload => ({
  metadata: { encoding: new TextEncoder().encode('json/plain') },
  data: new TextEncoder().encode(text),
});
const textOf = (p: Payload) => Buffer.from(p.data ?? []).toString('utf8');
const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? []).toString('utf8');

test('encode hides data and metadata; decode gives the payload back', async () => {
  const codec = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `k1=${b64()}` })!);
  const [sealed] = await codec.encode([payload('{"Bucket":"secret-bucket"}')]);
  expect(encodingOf(sealed!)).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('secret-bucket');
  expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('json/plain');
  const [opened] = await codec.decode([sealed!]);
  expect(textOf(opened!)).toBe('{"Bucket":"secret-bucket"}');
  expect(encodingOf(opened!)).toBe('json/plain');
  // A fresh IV each time: the same payload never encrypts the same way twice.
  const [again] = await codec.encode([payload('{"Bucket":"secret-bucket"}')]);
  expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);
});

test('a flipped byte, or another key under the same id, fails authentication', async () => {
  const codec = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `k1=${b64()}` })!);
  const [sealed] = await codec.encode([payload('x')]);
  const tampered = Buffer.from(sealed!.data!);
  tampered[20] = tampered[20]! ^ 1;
  await expect(codec.decode([{ ...sealed!, data: new Uint8Array(tampered) }])).rejects.toThrow(/failed authentication with key "k1"/);
  const other = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `k1=${b64()}` })!);
  await expect(other.decode([sealed!])).rejects.toThrow(/failed authentication/);
});

test('rotation: a new first key encrypts, old keys still decrypt; an unknown key id is named', async () => {
  const old = b64();
  const before = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `2025=${old}` })!);
  const after = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `2026=${b64()},2025=${old}` })!);
  const [oldSealed] = await before.encode([payload('old')]);
  const [newSealed] = await after.encode([payload('new')]);
  expect(Buffer.from(newSealed!.metadata!['encryption-key-id']!).toString()).toBe('2026');
  expect((await after.decode([oldSealed!, newSealed!])).map(textOf)).toEqual(['old', 'new']);
  await expect(before.decode([newSealed!])).rejects.toThrow(/key "2026", which is not among this process's keys \(2025\)/);
});

test('payloads that were never encrypted pass through decode', async () => {
  const codec = new AesGcmCodec(payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `k=${b64()}` })!);
  const plain = payload('{"a":1}');
  expect(await codec.decode([plain])).toEqual([plain]);
});

test('bad keys are refused with what is wrong, never with the key itself', () => {
  expect(payloadKeysFromEnv({})).toBeUndefined();
  const short = Buffer.from('too short').toString('base64');
  const attempt = () => payloadKeysFromEnv({ S3BATCH_PAYLOAD_KEYS: `a=${short},a=${b64()},bad id=${b64()}` });
  expect(attempt).toThrow(PayloadKeyError);
  try {
    attempt();
  } catch (err) {
    const message = (err as Error).message;
    expect(message).toMatch(/key 1 \("a"\): expected 32 bytes in base64/);
    expect(message).toMatch(/key 2: id "a" is given twice/);
    expect(message).toMatch(/key 3: expected a key id/);
    expect(message).not.toContain(short);
  }
  expect(() => payloadKeysFromConfig({ keys: [{ id: 'k', keyEnv: 'NOPE_KEY' }] }, {})).toThrow(/key "k": environment variable NOPE_KEY is not set/);
  const key = b64();
  expect(payloadKeysFromConfig({ keys: [{ id: 'k', keyEnv: 'MY_KEY' }] }, { MY_KEY: key }).keys.get('k')!.toString('base64')).toBe(key);
});

/** The data converter for a Temporal client or worker: the encryption codec when keys are given, else the default. */
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm-codec';
import { payloadKeysFromEnv, type PayloadKeys } from './payload-keys';

export function dataConverterFor(keys: PayloadKeys | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new AesGcmCodec(keys)] } : undefined;
}

/** For clients (CLI, HTTP API, services): the codec when `S3BATCH_PAYLOAD_KEYS` is set. */
export function clientDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  return dataConverterFor(payloadKeysFromEnv(env));
}

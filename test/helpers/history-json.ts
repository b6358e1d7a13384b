/**
 * History <-> proto JSON (the form `temporal workflow show --output json` writes), as @temporalio/common's
 * historyToJSON / historyFromJSON do. Those fail here with "type must be a Type": npm installed two copies of
 * protobufjs 8 (under @temporalio/common and under @temporalio/proto, since the root has protobufjs 7), and common's
 * protojson checks `instanceof Type` against its own copy while the types come from proto's. This module takes
 * protojson from the copy @temporalio/proto uses, so the check holds however npm lays the packages out.
 */
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils';

export type { History };

const fromCommon = createRequire(require.resolve('@temporalio/common'));
const fromProto = createRequire(fromCommon.resolve('@temporalio/proto'));
/* eslint-disable @typescript-eslint/no-require-imports */
const proto = fromCommon('@temporalio/proto') as typeof import('@temporalio/proto');
const { patchProtobufRoot } = fromCommon('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot: (root: unknown) => { lookupType(name: string): unknown };
};
const protojson = fromProto('protobufjs/ext/protojson') as {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
  toJson(type: unknown, message: unknown): unknown;
};

const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

/** A history as proto JSON (an object, ready for JSON.stringify). */
export function historyToJSONObject(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

/** A history from proto JSON; fields a newer server or SDK added are ignored, as the SDK does. */
export function historyFromJSONObject(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('expected a history: an object with an array of events');
  }
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

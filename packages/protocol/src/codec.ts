/**
 * msgpackr codecs for the NATS messages. Typed arrays (token ids, logprobs) travel as typed arrays.
 * Decoding validates the whole message; any failure is a DecodeError or ValidationError that
 * names the problem, so a consumer can dead-letter it with the reason.
 */
import { Packr, isNativeAccelerationEnabled } from 'msgpackr';
import { DecodeError, AceReasonError, ErrorCodes } from './errors.js';
import { MessageSchemas, SCHEMA_VERSION, type MessageKind, type MessageOf } from './messages.js';

const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

/** Whether msgpackr decodes with its native addon (msgpackr-extract) rather than its JavaScript path. */
export function msgpackNativeCodec(): boolean {
  return isNativeAccelerationEnabled;
}

export interface Codec<T> {
  readonly kind: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Decodes msgpack bytes into a plain value; throws DecodeError on malformed bytes. */
export function unpackBytes(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(`malformed msgpack: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export function packValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function codecFor<K extends MessageKind>(kind: K): Codec<MessageOf<K>> {
  const schema = MessageSchemas[kind];
  return {
    kind,
    encode(value) {
      // Validate on the way out too: a bad message is a bug at the sender, caught where it happens.
      schema.parse(value, '');
      return packr.pack(value);
    },
    decode(bytes) {
      const raw = unpackBytes(bytes);
      if (typeof raw === 'object' && raw !== null && 'schema' in raw) {
        const v = (raw as { schema: unknown }).schema;
        if (typeof v === 'number' && v !== SCHEMA_VERSION) {
          const who = v < SCHEMA_VERSION ? 'an older build' : 'a newer build';
          throw new AceReasonError(ErrorCodes.SCHEMA_VERSION, `schema: version ${v} is not supported (this build speaks ${SCHEMA_VERSION}); the message was written by ${who} of acereason`, { field: 'schema', retryable: false });
        }
      }
      return schema.parse(raw, '') as MessageOf<K>;
    },
  };
}

export const codecs = {
  RolloutTask: codecFor('RolloutTask'),
  TrajectoryGroup: codecFor('TrajectoryGroup'),
  ScoredGroup: codecFor('ScoredGroup'),
  WeightsAnnounced: codecFor('WeightsAnnounced'),
  Heartbeat: codecFor('Heartbeat'),
  StageChanged: codecFor('StageChanged'),
  RunSpec: codecFor('RunSpec'),
  VersionProbe: codecFor('VersionProbe'),
} as const;

/**
 * The ingest server's limits (named, overridable, each refused with its own typed error) and
 * the decoding of what a probe sends, checked against them. Pure: no I/O.
 */
import { ConfigError, IngestError } from '../errors';
import { type Batch, type Hello, ProbeMessage } from '../gen/lig/v1/ingest';
import { DEFAULT_MAX_BATCH_EVENTS, DEFAULT_MAX_MESSAGE_BYTES } from '../config/mediator';

export { DEFAULT_MAX_BATCH_EVENTS, DEFAULT_MAX_MESSAGE_BYTES };
/** Batches of one probe being accepted (accept() not yet resolved) before its stream is paused. */
export const DEFAULT_MAX_ACCEPTING_BATCHES = 32;
/** Bytes of batches of one probe being accepted before its stream is paused. */
export const DEFAULT_MAX_ACCEPTING_BYTES = 16 * 2 ** 20;
/** Longest Hello.spool_id accepted (a probe's is 32 hex digits). */
export const MAX_SPOOL_ID_LENGTH = 64;
/** Smallest maxMessageBytes accepted (as in the mediator config). */
export const MIN_MESSAGE_BYTES = 1024;
/** Largest maxMessageBytes accepted (gRPC's length prefix is a u32; Node buffers stay sane). */
export const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

export interface IngestLimits {
  /** Largest message a probe may send (enforced by grpc-js from the length prefix). */
  maxMessageBytes: number;
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Backpressure: the stream is paused while this many batches are being accepted ... */
  maxAcceptingBatches: number;
  /** ... or this many bytes of them; it resumes when accepts complete. */
  maxAcceptingBytes: number;
}

const KNOWN: readonly (keyof IngestLimits)[] = ['maxMessageBytes', 'maxBatchEvents', 'maxAcceptingBatches', 'maxAcceptingBytes'];

function integer(path: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ConfigError(path, 'must be an integer');
  if (v < min || v > max) throw new ConfigError(path, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** Fills defaults and checks every field; throws ConfigError naming the first bad one. */
export function resolveIngestLimits(l: Partial<IngestLimits> = {}, prefix = 'limits'): IngestLimits {
  if (l === null || typeof l !== 'object') throw new ConfigError(prefix, 'must be an object');
  for (const key of Object.keys(l)) {
    if (!(KNOWN as readonly string[]).includes(key)) throw new ConfigError(`${prefix}.${key}`, `unknown option; known options are ${KNOWN.join(', ')}`);
  }
  return {
    maxMessageBytes: integer(`${prefix}.maxMessageBytes`, l.maxMessageBytes, MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES),
    maxBatchEvents: integer(`${prefix}.maxBatchEvents`, l.maxBatchEvents, 1, 1_000_000, DEFAULT_MAX_BATCH_EVENTS),
    maxAcceptingBatches: integer(`${prefix}.maxAcceptingBatches`, l.maxAcceptingBatches, 1, 1_000_000, DEFAULT_MAX_ACCEPTING_BATCHES),
    maxAcceptingBytes: integer(`${prefix}.maxAcceptingBytes`, l.maxAcceptingBytes, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_ACCEPTING_BYTES),
  };
}

export type Decoded = { kind: 'hello'; hello: Hello } | { kind: 'batch'; batch: Batch };

/**
 * Decodes one message from `probe`; throws MALFORMED for bytes that are not a ProbeMessage
 * (or hold neither a Hello nor a Batch) and TOO_LARGE for a batch over maxBatchEvents.
 */
export function decodeProbeMessage(bytes: Uint8Array, limits: IngestLimits, probe: string): Decoded {
  let msg: ProbeMessage;
  try {
    msg = ProbeMessage.decode(bytes);
  } catch {
    throw new IngestError('LIG_ERR_INGEST_MALFORMED', `probe ${probe} sent ${bytes.length} bytes that are not a ProbeMessage`, { probe });
  }
  const body = msg.body;
  if (body === undefined) throw new IngestError('LIG_ERR_INGEST_MALFORMED', `probe ${probe} sent a ProbeMessage with neither hello nor batch`, { probe });
  if (body.$case === 'hello') {
    if (body.hello.spoolId.length > MAX_SPOOL_ID_LENGTH) {
      throw new IngestError('LIG_ERR_INGEST_MALFORMED', `probe ${probe} sent a spool id longer than ${MAX_SPOOL_ID_LENGTH} characters`, { probe });
    }
    return { kind: 'hello', hello: body.hello };
  }
  const batch = body.batch;
  if (batch.batchId < 1n) throw new IngestError('LIG_ERR_INGEST_MALFORMED', `probe ${probe} sent a batch without an id (ids start at 1)`, { probe });
  if (batch.events.length > limits.maxBatchEvents) {
    throw new IngestError(
      'LIG_ERR_INGEST_TOO_LARGE',
      `probe ${probe} sent batch ${batch.batchId} with ${batch.events.length} events, more than limits.maxBatchEvents (${limits.maxBatchEvents})`,
      { probe },
    );
  }
  return { kind: 'batch', batch };
}

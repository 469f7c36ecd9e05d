/**
 * Journal options: named defaults and eager validation, one precise message per field.
 */
import { ConfigError } from '../../errors';
import { MAX_RECORD_BYTES, SEGMENT_HEADER_BYTES, frameSize } from './framing';

/** Bound on the journal's on-disk size (all segment files together). */
export const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
/**
 * A segment is rolled when the next frame would take it past this size. Space is freed a
 * whole segment at a time, so when maxBytes is small the default is maxBytes / 8 instead.
 */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Smallest segmentBytes accepted (small segments are for tests). */
export const MIN_SEGMENT_BYTES = 1024;
/** Extra wait before an idle writer starts a group commit; 0 = the next turn of the event loop. */
export const DEFAULT_GROUP_COMMIT_DELAY_MS = 0;
/** Largest groupCommitDelayMs accepted: the delay adds to every acknowledgement. */
export const MAX_GROUP_COMMIT_DELAY_MS = 100;
/** Bytes of recently committed records kept in memory so delivery near the tail skips disk. */
export const DEFAULT_TAIL_CACHE_BYTES = 4 * 1024 * 1024;
/** read() defaults: at most this many records ... */
export const DEFAULT_READ_MAX_RECORDS = 1024;
/** ... and at most this many record bytes (at least one record is always returned). */
export const DEFAULT_READ_MAX_BYTES = 1024 * 1024;
/** Smallest maxBytes accepted: one segment holding one largest record. */
export const MIN_MAX_BYTES = SEGMENT_HEADER_BYTES + frameSize(MAX_RECORD_BYTES);

export interface JournalOptions {
  /** Bound on total on-disk bytes; an append that would pass it fails with JOURNAL_FULL. */
  maxBytes?: number;
  /** Segment file size at which the next segment is started (default: see DEFAULT_SEGMENT_BYTES). */
  segmentBytes?: number;
  /** Extra milliseconds an idle writer waits to gather appends into one fsync. */
  groupCommitDelayMs?: number;
  /** Bytes of recent records cached in memory for readers at the tail; 0 disables. */
  tailCacheBytes?: number;
}

export type ResolvedJournalOptions = Required<JournalOptions>;

const KNOWN = ['maxBytes', 'segmentBytes', 'groupCommitDelayMs', 'tailCacheBytes'] as const;

function integer(path: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ConfigError(path, 'must be an integer');
  if (value < min || value > max) throw new ConfigError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Fills defaults and checks every field; throws ConfigError naming the first bad one. */
export function resolveJournalOptions(opts: JournalOptions = {}, prefix = 'journal'): ResolvedJournalOptions {
  if (opts === null || typeof opts !== 'object') throw new ConfigError(prefix, 'must be an object');
  for (const key of Object.keys(opts)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new ConfigError(`${prefix}.${key}`, `unknown option; known options are ${KNOWN.join(', ')}`);
    }
  }
  const maxBytes = integer(`${prefix}.maxBytes`, opts.maxBytes, MIN_MAX_BYTES, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_BYTES);
  const segmentDefault = Math.max(MIN_SEGMENT_BYTES, Math.min(DEFAULT_SEGMENT_BYTES, Math.floor(maxBytes / 8)));
  const segmentBytes = integer(`${prefix}.segmentBytes`, opts.segmentBytes, MIN_SEGMENT_BYTES, 2 ** 40, segmentDefault);
  const groupCommitDelayMs = integer(
    `${prefix}.groupCommitDelayMs`,
    opts.groupCommitDelayMs,
    0,
    MAX_GROUP_COMMIT_DELAY_MS,
    DEFAULT_GROUP_COMMIT_DELAY_MS,
  );
  const tailCacheBytes = integer(`${prefix}.tailCacheBytes`, opts.tailCacheBytes, 0, 2 ** 32, DEFAULT_TAIL_CACHE_BYTES);
  return { maxBytes, segmentBytes, groupCommitDelayMs, tailCacheBytes };
}

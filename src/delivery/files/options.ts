/**
 * FileSink options: named defaults and eager validation, one precise message per field.
 */
import { DEFAULT_ROTATE_BYTES, DEFAULT_ROTATE_INTERVAL, FilesAgency } from '../../config/mediator';
import { ConfigError } from '../../errors';
import type { Journal } from '../journal';

export { DEFAULT_ROTATE_BYTES, DEFAULT_ROTATE_INTERVAL };
/** Smallest rotate.bytes accepted (small files are for tests; the config asks for 1 MiB). */
export const MIN_ROTATE_BYTES = 256;
/** Files open at once (each holds a descriptor); past it the least recently written is closed early. */
export const DEFAULT_MAX_OPEN_FILES = 128;
/** Records read from a journal per batch; one fsync round and one state write per batch. */
export const DEFAULT_BATCH_RECORDS = 512;
/** Record bytes read from a journal per batch (at least one record): bounds the sink's memory. */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
/** How often, in real milliseconds, idle open files are checked against rotate.interval. */
export const DEFAULT_ROTATION_CHECK_MS = 1000;
/** First wait before retrying after an I/O failure; it doubles up to MAX_RETRY_DELAY_MS. */
export const DEFAULT_RETRY_DELAY_MS = 1000;
export const MAX_RETRY_DELAY_MS = 30_000;

/** Time as the sink reads it (milliseconds since the epoch); injected by tests. */
export interface FilesClock {
  now(): number;
}

export interface FileSinkOptions {
  /** The agency's output directory (created if needed); one sink per directory. */
  dir: string;
  /** The agency's journals; either may be absent (an IRI-only agency has no HI3). */
  hi2?: Journal;
  hi3?: Journal;
  rotate?: {
    /** A file is closed before a record would take it past this size (a lone larger record gets its own file). */
    bytes?: number;
    /** A file is closed once it has been open this long (milliseconds by `clock`). */
    interval?: number;
  };
  maxOpenFiles?: number;
  batchRecords?: number;
  batchBytes?: number;
  /** Real-time period of the interval check; 0 disables it (tests call checkRotation()). */
  rotationCheckMs?: number;
  retryDelayMs?: number;
  clock?: FilesClock;
}

export interface ResolvedFileSinkOptions {
  dir: string;
  hi2: Journal | undefined;
  hi3: Journal | undefined;
  rotateBytes: number;
  rotateInterval: number;
  maxOpenFiles: number;
  batchRecords: number;
  batchBytes: number;
  rotationCheckMs: number;
  retryDelayMs: number;
  clock: FilesClock;
}

const KNOWN = ['dir', 'hi2', 'hi3', 'rotate', 'maxOpenFiles', 'batchRecords', 'batchBytes', 'rotationCheckMs', 'retryDelayMs', 'clock'];

function integer(path: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ConfigError(path, 'must be an integer');
  if (value < min || value > max) throw new ConfigError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Fills defaults and checks every field; throws ConfigError naming the first bad one. */
export function resolveFileSinkOptions(opts: FileSinkOptions, prefix = 'files'): ResolvedFileSinkOptions {
  if (opts === null || typeof opts !== 'object') throw new ConfigError(prefix, 'must be an object');
  for (const key of Object.keys(opts)) {
    if (!KNOWN.includes(key)) throw new ConfigError(`${prefix}.${key}`, `unknown option; known options are ${KNOWN.join(', ')}`);
  }
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new ConfigError(`${prefix}.dir`, 'must be a directory path');
  if (!opts.hi2 && !opts.hi3) throw new ConfigError(prefix, 'needs at least one journal (hi2 or hi3)');
  if (opts.hi2 && opts.hi2 === opts.hi3) throw new ConfigError(`${prefix}.hi3`, 'must be another journal than hi2');
  const rotate = opts.rotate ?? {};
  if (rotate === null || typeof rotate !== 'object') throw new ConfigError(`${prefix}.rotate`, 'must be an object');
  const clock = opts.clock ?? { now: () => Date.now() };
  if (typeof clock.now !== 'function') throw new ConfigError(`${prefix}.clock`, 'must have a now() method');
  return {
    dir: opts.dir,
    hi2: opts.hi2,
    hi3: opts.hi3,
    rotateBytes: integer(`${prefix}.rotate.bytes`, rotate.bytes, MIN_ROTATE_BYTES, Number.MAX_SAFE_INTEGER, DEFAULT_ROTATE_BYTES),
    rotateInterval: integer(`${prefix}.rotate.interval`, rotate.interval, 1, Number.MAX_SAFE_INTEGER, DEFAULT_ROTATE_INTERVAL),
    maxOpenFiles: integer(`${prefix}.maxOpenFiles`, opts.maxOpenFiles, 1, 65_536, DEFAULT_MAX_OPEN_FILES),
    batchRecords: integer(`${prefix}.batchRecords`, opts.batchRecords, 1, 1_000_000, DEFAULT_BATCH_RECORDS),
    batchBytes: integer(`${prefix}.batchBytes`, opts.batchBytes, 1, 2 ** 30, DEFAULT_BATCH_BYTES),
    rotationCheckMs: integer(`${prefix}.rotationCheckMs`, opts.rotationCheckMs, 0, 3_600_000, DEFAULT_ROTATION_CHECK_MS),
    retryDelayMs: integer(`${prefix}.retryDelayMs`, opts.retryDelayMs, 1, MAX_RETRY_DELAY_MS, DEFAULT_RETRY_DELAY_MS),
    clock,
  };
}

/** The sink options of a `delivery: files` agency from the mediator config, with its journals. */
export function fileSinkOptionsFor(agency: FilesAgency, journals: { hi2?: Journal; hi3?: Journal }): FileSinkOptions {
  return { dir: agency.files.dir, rotate: { bytes: agency.files.rotate.bytes, interval: agency.files.rotate.interval }, ...journals };
}

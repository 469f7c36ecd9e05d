/**
 * The probe's spool: every batch it has made and the mediator has not acknowledged, on disk.
 *
 * It is a Journal (src/delivery/journal) whose records are encoded Batch messages, one per
 * record, so a batch's id IS its journal index: ids run 1, 2, 3, … for the life of the spool
 * directory and go on from where they were after a restart. An Ack from the mediator confirms
 * the journal up to that id, which frees whole segments; the journal's maxBytes bounds it.
 *
 * Beside the journal the directory holds SPOOL_ID_FILE, a random id made with the spool and
 * sent in Hello: a new spool numbers from 1 again, and its id tells the mediator so.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ProbeError } from '../errors';
import { DEFAULT_SPOOL_BYTES } from '../config/probe';
import { Journal, MAX_RECORD_BYTES, frameSize, type JournalOptions } from '../delivery/journal';

export { DEFAULT_SPOOL_BYTES };
/** A stored batch is one journal record, so it is at most this many encoded bytes. */
export const MAX_BATCH_BYTES = MAX_RECORD_BYTES;
/** Most bytes the batch_id field takes (tag and a 10-byte varint). */
export const MAX_BATCH_ID_FIELD_BYTES = 11;
/** Largest encoded Event that fits in a batch on its own. */
export const MAX_EVENT_BYTES = MAX_BATCH_BYTES - MAX_BATCH_ID_FIELD_BYTES - 1 - varintSize(MAX_BATCH_BYTES);

/** File in the spool directory holding its id (32 hex digits and a newline). */
export const SPOOL_ID_FILE = 'spool-id';
const SPOOL_ID = /^[0-9a-f]{32}$/;

/** Batch field numbers (proto/lig/v1/ingest.proto), written here without re-encoding events. */
const BATCH_ID_FIELD = 1;
const BATCH_EVENTS_FIELD = 2;
/** ProbeMessage.batch is field 2, length-delimited. */
const PROBE_MESSAGE_BATCH_TAG = (2 << 3) | WireType.LengthDelimited;

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes an encoded event of `length` bytes adds to a batch (tag, length, event). */
export function eventFieldBytes(length: number): number {
  return 1 + varintSize(length) + length;
}

/** The Batch message with `id` and the already encoded `events`, as Batch.encode would write it. */
export function encodeBatch(id: bigint, events: readonly Uint8Array[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(BATCH_ID_FIELD, WireType.Varint).uint64(id);
  for (const e of events) w.tag(BATCH_EVENTS_FIELD, WireType.LengthDelimited).bytes(e);
  return w.finish();
}

/** The batch_id of an encoded Batch written by encodeBatch (its first field); undefined if absent. */
export function batchIdOf(bytes: Uint8Array): bigint | undefined {
  try {
    const r = new BinaryReader(bytes);
    const [field, type] = r.tag();
    if (field !== BATCH_ID_FIELD || type !== WireType.Varint) return undefined;
    return BigInt(r.uint64());
  } catch {
    return undefined;
  }
}

/** The ProbeMessage { batch } holding an encoded Batch, ready for the wire. */
export function probeMessageOfBatch(batch: Uint8Array): Buffer {
  const head = new BinaryWriter().uint32(PROBE_MESSAGE_BATCH_TAG).uint32(batch.length).finish();
  return Buffer.concat([head, batch]);
}

export interface SpoolOptions {
  dir: string;
  /** Bound on the spool's size on disk (default DEFAULT_SPOOL_BYTES). */
  maxBytes?: number;
  /** Journal segment size; small segments free space sooner (default: maxBytes / 8, capped). */
  segmentBytes?: number;
}

export interface StoredBatch {
  id: bigint;
  /** The encoded Batch. */
  bytes: Uint8Array;
}

export interface SpoolStats {
  /** Batches stored and not acknowledged. */
  unackedBatches: bigint;
  /** Their bytes on disk. */
  unackedBytes: number;
  /** Bytes of the spool files (what maxBytes bounds). */
  diskBytes: number;
  maxBytes: number;
}

export class Spool {
  private constructor(
    private readonly journal: Journal,
    /** This spool's id (see SPOOL_ID_FILE). */
    readonly id: string,
  ) {}

  /** Opens (or creates) the spool in `dir`; a second process on the same dir gets JOURNAL_LOCKED. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const j: JournalOptions = { maxBytes: opts.maxBytes ?? DEFAULT_SPOOL_BYTES };
    if (opts.segmentBytes !== undefined) j.segmentBytes = opts.segmentBytes;
    const journal = await Journal.open(opts.dir, j);
    try {
      return new Spool(journal, await spoolId(opts.dir));
    } catch (e) {
      await journal.close().catch(() => undefined);
      throw e;
    }
  }

  get dir(): string {
    return this.journal.dir;
  }

  /** The id the next stored batch gets. */
  get nextId(): bigint {
    return this.journal.next;
  }

  /** The last batch the mediator acknowledged (persisted); 0n when none. */
  get acked(): bigint {
    return this.journal.confirmed;
  }

  /** The last batch that is durable (and can be read and sent); 0n when none. */
  get stored(): bigint {
    return this.journal.durable;
  }

  get stats(): SpoolStats {
    const s = this.journal.stats;
    return { unackedBatches: this.stored - this.acked, unackedBytes: s.pendingBytes, diskBytes: s.diskBytes, maxBytes: s.maxBytes };
  }

  /** True when a batch of `batchBytes` encoded bytes can be stored now. */
  fits(batchBytes: number): boolean {
    return this.journal.hasRoom(frameSize(batchBytes));
  }

  /**
   * Stores a batch of encoded events under the next id, synchronously numbered; `durable`
   * resolves once it is on disk (rejects with the journal's error: FULL, IO, CLOSED).
   */
  store(events: readonly Uint8Array[]): { id: bigint; durable: Promise<void> } {
    const id = this.journal.next;
    const durable = this.journal.append([encodeBatch(id, events)]).then(({ first }) => {
      if (first !== id) throw new ProbeError('LIG_ERR_PROBE_SPOOL', `batch ${id} was stored as record ${first} in ${this.dir}`);
    });
    return { id, durable };
  }

  /** Up to `max` durable batches from id `from` on, in order; checks each holds its own id. */
  async read(from: bigint, max: number): Promise<StoredBatch[]> {
    const records = await this.journal.read(from, { maxRecords: max });
    return records.map((r) => {
      const id = batchIdOf(r.data);
      if (id !== r.index) throw new ProbeError('LIG_ERR_PROBE_SPOOL', `spool record ${r.index} in ${this.dir} does not hold batch ${r.index}`);
      return { id, bytes: r.data };
    });
  }

  /** The mediator holds every batch up to `upTo`: release them (no-op if already released). */
  ack(upTo: bigint): Promise<void> {
    if (upTo <= this.journal.confirmed) return Promise.resolve();
    return this.journal.confirm(upTo);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

/** Reads the spool's id, or makes one (durably) for a new spool. */
async function spoolId(dir: string): Promise<string> {
  const file = path.join(dir, SPOOL_ID_FILE);
  let text: string | undefined;
  try {
    text = await fsp.readFile(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ProbeError('LIG_ERR_PROBE_SPOOL', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (text !== undefined) {
    const id = text.trim();
    if (!SPOOL_ID.test(id)) throw new ProbeError('LIG_ERR_PROBE_SPOOL', `${file} does not hold a spool id (32 hex digits)`);
    return id;
  }
  const id = randomBytes(16).toString('hex');
  const tmp = `${file}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(`${id}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
    const d = await fsp.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (e) {
    throw new ProbeError('LIG_ERR_PROBE_SPOOL', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return id;
}

/**
 * The file sink's durable state, `DIR/.lig/state.json`: per journal the last record whose
 * output is durable in the files, and per open file the byte offset made durable with it.
 * Written atomically (temp file, fsync, rename, directory fsync), so that a crash leaves the
 * old state or the new one. After a crash, each open file is cut back to its offset and the
 * journals are read again from the record after `applied`: nothing lost, nothing twice.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FilesError } from '../../errors';
import { syncDir } from '../journal/cursor';
import { PartKind, isOutputDirName, parseFileName } from './names';
import type { Interface } from './route';

export const STATE_FILE = 'state.json';
const STATE_TEMP = 'state.json.tmp';
export const STATE_VERSION = 1;
/** Largest state file read: it lists only open files (bounded by maxOpenFiles) and two indices. */
export const MAX_STATE_BYTES = 16 * 1024 * 1024;

/** One open file: `DIR/<dir>/<name>.part`, durable up to `offset`. */
export interface PartEntry {
  dir: string;
  /** The closed name (without `.part`). */
  name: string;
  kind: PartKind;
  n: number;
  offset: number;
  /** Records (pcap packets, JSON lines, rejects) in the durable bytes. */
  records: number;
  /** When it was started, by the sink's clock (ms since the epoch). */
  started: number;
  /**
   * Set once the file is being closed: the manifest's size before its line was appended.
   * Recovery renames the file if needed, cuts the manifest back to this size and appends again.
   */
  closing?: { manifestSize: number };
}

export interface SinkState {
  applied: Record<Interface, bigint>;
  parts: PartEntry[];
}

export const emptyState = (): SinkState => ({ applied: { hi2: 0n, hi3: 0n }, parts: [] });

function damaged(file: string, why: string): FilesError {
  return new FilesError('LIG_ERR_FILES_STATE', `file delivery state ${file} is damaged: ${why}`);
}

/** Reads the state in `privateDir`; the empty state when there is none yet. */
export async function readState(privateDir: string): Promise<SinkState> {
  await fsp.rm(path.join(privateDir, STATE_TEMP), { force: true });
  const file = path.join(privateDir, STATE_FILE);
  let text: string;
  try {
    const st = await fsp.stat(file);
    if (st.size > MAX_STATE_BYTES) throw damaged(file, `${st.size} bytes, more than MAX_STATE_BYTES`);
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw damaged(file, 'not JSON');
  }
  return checkState(raw, file);
}

const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function checkState(raw: unknown, file: string): SinkState {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || r.version !== STATE_VERSION) throw damaged(file, `not version ${STATE_VERSION}`);
  const applied = r.applied as Record<string, unknown> | null;
  const index = (k: Interface): bigint => {
    const v = applied?.[k];
    if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw damaged(file, `applied.${k} is not an index`);
    return BigInt(v);
  };
  if (!Array.isArray(r.parts)) throw damaged(file, 'parts is not a list');
  const seen = new Set<string>();
  const parts = r.parts.map((p: Record<string, unknown>, i: number): PartEntry => {
    const at = `parts[${i}]`;
    if (!p || typeof p !== 'object') throw damaged(file, `${at} is not an object`);
    if (typeof p.dir !== 'string' || !isOutputDirName(p.dir)) throw damaged(file, `${at}.dir is not an output directory name`);
    const parsed = typeof p.name === 'string' ? parseFileName(p.name) : undefined;
    if (!parsed || parsed.part || parsed.kind !== p.kind || parsed.n !== p.n) throw damaged(file, `${at}.name, kind and n do not agree`);
    if (!isUint(p.offset) || !isUint(p.records) || !Number.isSafeInteger(p.started)) throw damaged(file, `${at} has a bad offset, records or started`);
    const key = `${p.dir}/${p.name as string}`;
    if (seen.has(key)) throw damaged(file, `${at} is listed twice`);
    seen.add(key);
    const e: PartEntry = { dir: p.dir, name: p.name as string, kind: parsed.kind, n: parsed.n, offset: p.offset, records: p.records, started: p.started as number };
    if (p.closing !== undefined) {
      const c = p.closing as Record<string, unknown> | null;
      if (!c || !isUint(c.manifestSize)) throw damaged(file, `${at}.closing is malformed`);
      e.closing = { manifestSize: c.manifestSize };
    }
    return e;
  });
  return { applied: { hi2: index('hi2'), hi3: index('hi3') }, parts };
}

/** Durably replaces the state in `privateDir` with `s`. */
export async function writeState(privateDir: string, s: SinkState): Promise<void> {
  const json = JSON.stringify({
    version: STATE_VERSION,
    applied: { hi2: s.applied.hi2.toString(), hi3: s.applied.hi3.toString() },
    parts: s.parts,
  });
  const temp = path.join(privateDir, STATE_TEMP);
  const fh = await fsp.open(temp, 'w');
  try {
    await fh.writeFile(json);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(temp, path.join(privateDir, STATE_FILE));
  await syncDir(privateDir);
}

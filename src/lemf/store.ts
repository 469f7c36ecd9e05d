/**
 * The LEMF's output files in DIR: hi2.ber and hi3.ber (the bytes received, as received),
 * records.jsonl (one line per PDU) and cc/<LIID>.pcap (the IP packets of CC records). Appends
 * are buffered in memory while a batch is processed, written by `flush`, and made durable by
 * `sync`. Files are written at explicit positions, so a file cut back at start-up (to what
 * state.json covers) continues exactly there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_SNAPLEN, PCAP_HEADER_BYTES, LINKTYPE } from '../capture/pcap-format';
import { encodePcapHeader, encodePcapRecord } from '../capture/pcap-write';
import { LemfError } from '../errors';
import { CcPacket } from './cc-packets';
import { liidFileName } from './names';

export type Hi = 'hi2' | 'hi3';
export const RAW_FILES: Readonly<Record<Hi, string>> = { hi2: 'hi2.ber', hi3: 'hi3.ber' };
export const RECORDS_FILE = 'records.jsonl';
export const CC_DIR = 'cc';
/** Output files hold intercepted traffic: owner only. */
export const OUTPUT_FILE_MODE = 0o600;
export const OUTPUT_DIR_MODE = 0o700;

interface OutFile {
  /** Path relative to DIR, with `/`. */
  rel: string;
  fh: fs.promises.FileHandle | undefined;
  /** Bytes written to the file so far. */
  written: number;
  /** Bytes written plus bytes pending: where the next append lands. */
  size: number;
  pending: Buffer[];
  unsynced: boolean;
}

function ioError(what: string, file: string, e: unknown): LemfError {
  return new LemfError('LIG_ERR_LEMF_IO', `cannot ${what} it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { path: file, cause: e });
}

export class OutputStore {
  private readonly files = new Map<string, OutFile>();
  /** Sizes of the pcaps in cc/ at start-up, after cutting back. */
  private readonly existing: Map<string, number>;
  private newEntries = false;

  private constructor(readonly dir: string, existing: Map<string, number>) {
    this.existing = existing;
  }

  /**
   * Opens DIR (creating it), cutting records.jsonl and the pcaps back to `committed` (what
   * the last state.json covers). Without a state (`committed` undefined) DIR must hold no
   * records yet: appending to records of unknown standing would mix runs.
   */
  static async open(dir: string, committed: Record<string, number> | undefined): Promise<OutputStore> {
    const ccDir = path.join(dir, CC_DIR);
    try {
      fs.mkdirSync(ccDir, { recursive: true, mode: OUTPUT_DIR_MODE });
    } catch (e) {
      throw new LemfError('LIG_ERR_LEMF_OUTPUT', `cannot create it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { path: ccDir });
    }
    const sizes = new Map<string, number>();
    const recordsSize = statSize(path.join(dir, RECORDS_FILE));
    if (recordsSize !== undefined) sizes.set(RECORDS_FILE, recordsSize);
    for (const name of fs.readdirSync(ccDir)) {
      const size = name.endsWith('.pcap') ? statSize(path.join(ccDir, name)) : undefined;
      if (size !== undefined) sizes.set(`${CC_DIR}/${name}`, size);
    }
    if (committed === undefined) {
      if ([...sizes.values()].some((n) => n > 0)) {
        throw new LemfError('LIG_ERR_LEMF_OUTPUT', 'it holds records but no state.json, so they cannot be continued', { path: dir });
      }
    } else {
      for (const [rel, size] of sizes) {
        let keep = committed[rel] ?? 0;
        if (rel.endsWith('.pcap') && keep < PCAP_HEADER_BYTES) keep = 0;
        if (size > keep) {
          const file = path.join(dir, rel);
          try {
            fs.truncateSync(file, keep);
          } catch (e) {
            throw ioError('cut back', file, e);
          }
          sizes.set(rel, keep);
        }
      }
    }
    const store = new OutputStore(dir, sizes);
    for (const rel of [RAW_FILES.hi2, RAW_FILES.hi3, RECORDS_FILE]) await store.openFile(store.file(rel));
    return store;
  }

  private file(rel: string): OutFile {
    let f = this.files.get(rel);
    if (!f) {
      const size = this.existing.get(rel) ?? 0;
      f = { rel, fh: undefined, written: size, size, pending: [], unsynced: false };
      this.files.set(rel, f);
    }
    return f;
  }

  private async openFile(f: OutFile): Promise<void> {
    const file = path.join(this.dir, f.rel);
    try {
      const existed = fs.existsSync(file);
      f.fh = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, OUTPUT_FILE_MODE);
      if (!existed) this.newEntries = true;
      const { size } = await f.fh.stat();
      if (f.rel === RAW_FILES.hi2 || f.rel === RAW_FILES.hi3) {
        // the raw streams are never cut back: append after whatever they hold (opened before any append)
        f.written = size;
        f.size = size;
      }
    } catch (e) {
      throw ioError('open', file, e);
    }
  }

  private append(f: OutFile, bytes: Uint8Array): number {
    const at = f.size;
    f.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    f.size += bytes.length;
    return at;
  }

  /** Appends received bytes to hi2.ber or hi3.ber; returns their offset in that file. */
  appendRaw(hi: Hi, bytes: Uint8Array): number {
    return this.append(this.file(RAW_FILES[hi]), bytes);
  }

  /** Appends one line (a JSON object) to records.jsonl. */
  appendRecord(record: unknown): void {
    this.append(this.file(RECORDS_FILE), Buffer.from(JSON.stringify(record) + '\n'));
  }

  /** Appends packets to cc/<LIID>.pcap (LINKTYPE_RAW), starting the file with its header. */
  appendPackets(liid: Uint8Array, packets: readonly CcPacket[]): void {
    if (packets.length === 0) return;
    const f = this.file(`${CC_DIR}/${liidFileName(liid)}.pcap`);
    if (f.size === 0) this.append(f, encodePcapHeader(LINKTYPE.RAW, MAX_SNAPLEN));
    for (const p of packets) this.append(f, encodePcapRecord(p.sec, p.usec, p.data, p.origLen));
  }

  /** Writes every pending append to its file. */
  async flush(): Promise<void> {
    for (const f of this.files.values()) {
      if (f.pending.length === 0) continue;
      if (!f.fh) await this.openFile(f);
      const buf = f.pending.length === 1 ? f.pending[0]! : Buffer.concat(f.pending);
      f.pending = [];
      let done = 0;
      try {
        while (done < buf.length) done += (await f.fh!.write(buf, done, buf.length - done, f.written + done)).bytesWritten;
      } catch (e) {
        throw ioError('write', path.join(this.dir, f.rel), e);
      }
      f.written += buf.length;
      f.unsynced = true;
    }
  }

  /** Flushes, then makes every written byte and new file durable (fsync). */
  async sync(): Promise<void> {
    await this.flush();
    const dirty = [...this.files.values()].filter((f) => f.unsynced);
    await Promise.all(dirty.map(async (f) => {
      try {
        await f.fh!.sync();
      } catch (e) {
        throw ioError('sync', path.join(this.dir, f.rel), e);
      }
      f.unsynced = false;
    }));
    if (this.newEntries) {
      this.newEntries = false;
      for (const d of [path.join(this.dir, CC_DIR), this.dir]) await syncDir(d);
    }
  }

  /** Length of each file state.json may cut back (records.jsonl and the pcaps), as written so far. */
  lengths(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.files.values()) if (f.rel === RECORDS_FILE || f.rel.endsWith('.pcap')) out[f.rel] = f.written;
    for (const [rel, size] of this.existing) if (!(rel in out)) out[rel] = size;
    return out;
  }

  /** Syncs and closes every file. */
  async close(): Promise<void> {
    try {
      await this.sync();
    } finally {
      for (const f of this.files.values()) {
        await f.fh?.close().catch(() => undefined);
        f.fh = undefined;
      }
    }
  }
}

function statSize(file: string): number | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await fs.promises.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (e) {
    throw ioError('sync', dir, e);
  }
}

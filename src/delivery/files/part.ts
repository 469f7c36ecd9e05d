/**
 * One output file while it is written (`<name>.part`), and its closing: the atomic rename to
 * `<name>` and its line in the directory's SHA-256 manifest. Bytes are gathered in memory for
 * one batch and written at their offset, then fsynced, by `flush`; the sink records the
 * offset in its state only after that, so the state never points past durable bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { encodePcapHeader } from '../../capture/pcap-write';
import { FilesError } from '../../errors';
import { syncDir } from '../journal/cursor';
import { MANIFEST_FILE, PART_SUFFIX, PartKind, fileName, parseFileName } from './names';
import { CC_LINKTYPE, CC_SNAPLEN } from './route';
import type { PartEntry } from './state';

const isNotFound = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/** Creates `dir` if missing, making its entry durable in `parent`. */
async function ensureDir(parent: string, dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  await syncDir(parent);
}

export class PartFile {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  /** Bytes on disk and synced (what the next state write may record). */
  private written: number;
  private writtenRecords: number;

  private constructor(
    readonly root: string,
    readonly dir: string,
    readonly name: string,
    readonly kind: PartKind,
    readonly n: number,
    readonly started: number,
    private fh: fsp.FileHandle | undefined,
    offset: number,
    records: number,
  ) {
    this.written = offset;
    this.writtenRecords = records;
  }

  /**
   * Starts file `n` of `kind` in `root/dir` (both created if needed): an empty `.part` whose
   * directory entry is durable. A CC file starts with its pcap header, as pending bytes.
   */
  static async create(root: string, dir: string, kind: PartKind, n: number, started: number): Promise<PartFile> {
    const d = path.join(root, dir);
    await ensureDir(root, d);
    const name = fileName(kind, n, started);
    const fh = await fsp.open(path.join(d, name + PART_SUFFIX), 'w');
    const p = new PartFile(root, dir, name, kind, n, started, fh, 0, 0);
    try {
      await syncDir(d);
    } catch (e) {
      await p.release();
      throw e;
    }
    if (kind === 'cc') p.add(Buffer.from(encodePcapHeader(CC_LINKTYPE, CC_SNAPLEN)), 0);
    return p;
  }

  /** Reopens an open file of the state and cuts it back to its durable offset. */
  static async reopen(root: string, e: PartEntry): Promise<PartFile> {
    const file = path.join(root, e.dir, e.name + PART_SUFFIX);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'r+');
    } catch (err) {
      if (isNotFound(err)) throw new FilesError('LIG_ERR_FILES_STATE', `an open file of the state is missing: ${e.name}${PART_SUFFIX}`);
      throw err;
    }
    const p = new PartFile(root, e.dir, e.name, e.kind, e.n, e.started, fh, e.offset, e.records);
    try {
      const size = (await fh.stat()).size;
      if (size < e.offset) {
        throw new FilesError('LIG_ERR_FILES_STATE', `open file ${e.name}${PART_SUFFIX} is shorter (${size} bytes) than its durable offset ${e.offset}`);
      }
      if (size > e.offset) {
        await fh.truncate(e.offset);
        await fh.sync();
      }
    } catch (err) {
      await p.release();
      throw err;
    }
    return p;
  }

  /** All bytes, pending included. */
  get size(): number {
    return this.written + this.pendingBytes;
  }

  /** All records, pending included. */
  get records(): number {
    return this.writtenRecords + this.pendingRecords;
  }

  get hasPending(): boolean {
    return this.pendingBytes > 0 || this.pendingRecords > 0;
  }

  /** Adds bytes holding `records` records; they reach the disk on flush(). */
  add(bytes: Buffer, records: number): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.pendingRecords += records;
  }

  /** Writes the pending bytes at their offset and fsyncs; returns the bytes written. */
  async flush(): Promise<number> {
    if (!this.hasPending) return 0;
    if (!this.fh) throw new FilesError('LIG_ERR_FILES_CLOSED', `${this.kind} file was released`);
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.written + done);
      if (bytesWritten <= 0) throw new FilesError('LIG_ERR_FILES_IO', `writing a ${this.kind} file made no progress`);
      done += bytesWritten;
    }
    await this.fh.sync();
    this.written += buf.length;
    this.writtenRecords += this.pendingRecords;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    return buf.length;
  }

  /** The state entry for what is durable now. */
  entry(): PartEntry {
    return { dir: this.dir, name: this.name, kind: this.kind, n: this.n, offset: this.written, records: this.writtenRecords, started: this.started };
  }

  /** Closes the descriptor (the file stays a `.part`); pending bytes are dropped. */
  async release(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    await fh?.close();
  }
}

/** Size of `root/dir/MANIFEST.sha256`; 0 when it does not exist yet. */
export async function manifestSize(root: string, dir: string): Promise<number> {
  try {
    return (await fsp.stat(path.join(root, dir, MANIFEST_FILE))).size;
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
}

/** The highest file number of `kind` listed in `root/dir`'s manifest (0 if none), read line by line. */
export async function highestListed(root: string, dir: string, kind: PartKind): Promise<number> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path.join(root, dir, MANIFEST_FILE), 'r');
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
  let last = 0;
  try {
    for await (const line of fh.readLines({ encoding: 'utf8', autoClose: false })) {
      const f = parseFileName(line.slice(66)); // "<64 hex>  <name>"
      if (f && f.kind === kind && f.n > last) last = f.n;
    }
  } finally {
    await fh.close();
  }
  return last;
}

/** SHA-256 of a file, hex, read in chunks. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Finishes closing the file of entry `e` (whose `closing` is set): cuts its `.part` to the
 * durable offset and renames it, unless that was done before a crash; then cuts the manifest
 * back to `closing.manifestSize` (dropping a line torn or left by a crash) and appends
 * `<sha256>  <name>`, fsynced. Idempotent: recovery runs it again after a crash anywhere in it.
 */
export async function finishClose(root: string, e: PartEntry): Promise<void> {
  if (!e.closing) throw new FilesError('LIG_ERR_FILES_STATE', `${e.name} is not being closed`);
  const d = path.join(root, e.dir);
  const partPath = path.join(d, e.name + PART_SUFFIX);
  const finalPath = path.join(d, e.name);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(partPath, 'r+');
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (fh) {
    try {
      const size = (await fh.stat()).size;
      if (size < e.offset) throw new FilesError('LIG_ERR_FILES_STATE', `file ${e.name}${PART_SUFFIX} is shorter than its durable offset`);
      if (size > e.offset) {
        await fh.truncate(e.offset);
        await fh.sync();
      }
    } finally {
      await fh.close();
    }
    await fsp.rename(partPath, finalPath);
    await syncDir(d);
  } else {
    let size: number;
    try {
      size = (await fsp.stat(finalPath)).size;
    } catch (err) {
      if (isNotFound(err)) throw new FilesError('LIG_ERR_FILES_STATE', `file ${e.name} being closed is missing, with and without ${PART_SUFFIX}`);
      throw err;
    }
    if (size !== e.offset) throw new FilesError('LIG_ERR_FILES_STATE', `closed file ${e.name} has ${size} bytes, its state says ${e.offset}`);
  }
  const hash = await sha256File(finalPath);
  await appendManifest(d, e.closing.manifestSize, `${hash}  ${e.name}\n`);
}

async function appendManifest(d: string, sizeBefore: number, line: string): Promise<void> {
  const file = path.join(d, MANIFEST_FILE);
  let existed = true;
  await fsp.stat(file).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
    existed = false;
  });
  const fh = await fsp.open(file, 'a');
  try {
    // Only ever shorten: truncate() to a larger size would pad the file with zeros.
    if ((await fh.stat()).size > sizeBefore) await fh.truncate(sizeBefore);
    await fh.write(line);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (!existed) await syncDir(d);
}

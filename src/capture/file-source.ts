/**
 * `pcap:FILE`: replays a pcap or pcapng file, streamed from disk in chunks (never read whole),
 * at the capture's own pace (`rate: 'capture'`) or as fast as the consumer pulls
 * (`rate: 'max'`). A full queue makes the reader wait, so a file loses nothing. A damaged or
 * cut file ends the source with its CaptureFileError, after the frames before the damage.
 */
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaptureFileError, SourceError } from '../errors';
import type { Frame, FrameTime } from './frame';
import { QueueLimits } from './frame-queue';
import { CaptureLimits, CapturedPacket } from './pcap-format';
import { PcapReader } from './pcap-reader';
import { QueuedSource, nowFrameTime } from './source';

/** Bytes read from the file at a time. */
export const DEFAULT_FILE_CHUNK_BYTES = 256 * 1024;
/** Pacing slack: with `rate: 'capture'`, a frame up to this early is released without sleeping. */
export const PACING_SLACK_MS = 1;

export type ReplayRate = 'capture' | 'max';

export interface FileSourceOptions {
  rate?: ReplayRate;
  queue?: Partial<QueueLimits>;
  chunkBytes?: number;
  limits?: Partial<CaptureLimits>;
}

export class PcapFileSource extends QueuedSource {
  readonly kind = 'pcap' as const;
  readonly rate: ReplayRate;
  private readonly chunkBytes: number;
  private readonly limits: Partial<CaptureLimits>;
  private readonly abort = new AbortController();
  private pump: Promise<void> | undefined;
  private lastTs: FrameTime | undefined;
  private read = 0;

  constructor(
    readonly file: string,
    opts: FileSourceOptions = {},
  ) {
    super(opts.queue);
    this.rate = opts.rate ?? 'max';
    if (this.rate !== 'capture' && this.rate !== 'max') throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `rate must be "capture" or "max", got ${String(this.rate)}`);
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_FILE_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 1) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `chunkBytes must be a positive integer, got ${this.chunkBytes}`);
    this.limits = opts.limits ?? {};
  }

  /** Bytes of the file parsed so far: it advances only as the queue drains (plus the stream's one chunk of read-ahead). */
  get bytesRead(): number {
    return this.read;
  }

  async start(): Promise<void> {
    if (this.pump) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', 'the source was already started');
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.file, 'r');
    } catch (e) {
      throw new SourceError('LIG_ERR_SOURCE_OPEN', `cannot open the capture file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    this.pump = this.run(fh).then(
      () => this.queue.end(),
      (e) => this.queue.end(e),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.end();
    await this.pump;
  }

  private async run(fh: fs.promises.FileHandle): Promise<void> {
    const reader = new PcapReader(this.limits);
    const stream = fh.createReadStream({ highWaterMark: this.chunkBytes, signal: this.abort.signal });
    /** Wall clock (ms) and capture time (µs) of the first frame, for pacing. */
    let origin: { wall: number; capture: number } | undefined;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.read += chunk.length;
        for (const p of reader.push(chunk)) {
          const frame = this.toFrame(p);
          if (this.rate === 'capture') {
            const capture = frame.ts.seconds * 1e6 + frame.ts.micros;
            origin ??= { wall: performance.now(), capture };
            const wait = origin.wall + (capture - origin.capture) / 1000 - performance.now();
            if (wait > PACING_SLACK_MS) await sleep(wait, undefined, { signal: this.abort.signal });
          }
          if (!(await this.queue.put(frame))) return;
          this.frames++;
        }
      }
      reader.end();
    } catch (e) {
      if (this.abort.signal.aborted) return;
      if (e instanceof CaptureFileError) throw e;
      throw new SourceError('LIG_ERR_SOURCE_READ', `reading the capture file failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    } finally {
      stream.destroy();
      await fh.close().catch(() => undefined);
    }
  }

  private toFrame(p: CapturedPacket): Frame {
    // A pcapng Simple Packet Block has no time: it takes the time of the packet before it.
    const ts = p.ts ? { seconds: p.ts.sec, micros: Math.floor(p.ts.nsec / 1000) } : (this.lastTs ?? nowFrameTime());
    this.lastTs = ts;
    return { ts, linktype: p.linktype, data: p.data, origLen: p.origLen };
  }
}

/**
 * Packet sources: where a probe's frames come from. Every source puts frames into a bounded
 * FrameQueue and the consumer pulls them (`next`, `poll`, `take`, or `for await`). Live
 * sources (interface, TZSP, CCC) never wait for the consumer: when the queue is full they drop
 * and count (`counters().dropped`). A file source waits instead, so nothing is lost.
 */
import type { Task } from '../gen/lig/v1/ingest';
import type { Frame, FrameTime } from './frame';
import { FrameQueue, QueueLimits } from './frame-queue';

export type SourceKind = 'pcap' | 'if' | 'tzsp' | 'ccc';

/** What a source has done so far. Counts only: no addresses, no identifiers. */
export interface SourceCounters {
  /** Frames put in the queue. */
  frames: number;
  /** Frames lost because the queue was full (live sources). */
  dropped: number;
  /** Input refused as malformed, by error code (e.g. LIG_ERR_TZSP_TRUNCATED). */
  malformed: Record<string, number>;
  /** Well-formed input that carries no frame for lig, by reason (e.g. "tzsp-control", "unknown-cccid"). */
  skipped: Record<string, number>;
}

export interface PacketSource extends AsyncIterable<Frame> {
  readonly kind: SourceKind;
  /** Opens the file, device or socket; resolves when frames can flow, rejects with a SourceError. */
  start(): Promise<void>;
  /** Stops producing and releases the device or socket. Frames already queued can still be pulled. */
  stop(): Promise<void>;
  /** The next frame, waiting for one; undefined once the source has ended and its queue is empty. */
  next(): Promise<Frame | undefined>;
  /** The next frame if one is queued, without waiting. */
  poll(): Frame | undefined;
  /** Up to `max` queued frames, without waiting. */
  take(max: number): Frame[];
  counters(): SourceCounters;
  /**
   * Sources whose capture depends on the task list (the live interface's kernel filter) take
   * each new list here; resolves when it is in force. Others do not have it.
   */
  setTasks?(tasks: readonly Task[]): Promise<void>;
}

/** The time now, with the resolution of the process clock (microseconds). */
export function nowFrameTime(): FrameTime {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return { seconds: Math.floor(us / 1_000_000), micros: us % 1_000_000 };
}

/** The queue, counters and consumer side every source shares. */
export abstract class QueuedSource implements PacketSource {
  abstract readonly kind: SourceKind;
  protected readonly queue: FrameQueue;
  protected frames = 0;
  protected readonly malformed: Record<string, number> = {};
  protected readonly skipped: Record<string, number> = {};

  constructor(queue: Partial<QueueLimits> = {}) {
    this.queue = new FrameQueue(queue);
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  next(): Promise<Frame | undefined> {
    return this.queue.next();
  }

  poll(): Frame | undefined {
    return this.queue.poll();
  }

  take(max: number): Frame[] {
    return this.queue.take(max);
  }

  counters(): SourceCounters {
    return { frames: this.frames, dropped: this.queue.dropped, malformed: { ...this.malformed }, skipped: { ...this.skipped } };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    for (;;) {
      const f = await this.queue.next();
      if (f === undefined) return;
      yield f;
    }
  }

  /** Live producers: queue or drop. */
  protected offer(frame: Frame): void {
    if (this.queue.offer(frame)) this.frames++;
  }

  protected countMalformed(code: string): void {
    this.malformed[code] = (this.malformed[code] ?? 0) + 1;
  }

  protected countSkipped(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }
}

/**
 * The bounded queue between a packet source and its consumer. The consumer pulls (`next`,
 * `poll`, `take`); the producer either offers (live sources: a full queue drops the frame
 * and counts it, so capture never waits for the consumer) or puts (file sources: a full
 * queue makes the producer wait). Memory is bounded by frames and by bytes, whichever is
 * reached first.
 */
import { SourceError } from '../errors';
import type { Frame } from './frame';

/** Most frames a source queue holds (override with `QueueLimits.maxFrames`). */
export const DEFAULT_QUEUE_FRAMES = 16_384;
/** Most captured bytes a source queue holds (override with `QueueLimits.maxBytes`). */
export const DEFAULT_QUEUE_BYTES = 64 * 2 ** 20;

export interface QueueLimits {
  maxFrames: number;
  maxBytes: number;
}

export const DEFAULT_QUEUE_LIMITS: Readonly<QueueLimits> = { maxFrames: DEFAULT_QUEUE_FRAMES, maxBytes: DEFAULT_QUEUE_BYTES };

/** Checks limits given by a caller; throws SourceError LIG_ERR_SOURCE_OPTIONS naming the bad one. */
export function queueLimits(given: Partial<QueueLimits> = {}): QueueLimits {
  const l = { ...DEFAULT_QUEUE_LIMITS, ...given };
  for (const k of ['maxFrames', 'maxBytes'] as const) {
    if (!Number.isSafeInteger(l[k]) || l[k] < 1) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `queue.${k} must be a positive integer, got ${l[k]}`);
  }
  return l;
}

type Waiter = { resolve: (f: Frame | undefined) => void; reject: (e: unknown) => void };

export class FrameQueue {
  readonly limits: QueueLimits;
  /** Frames refused by `offer` because the queue was full. */
  dropped = 0;
  private readonly ring: (Frame | undefined)[];
  private head = 0;
  private count = 0;
  private bytes = 0;
  private ended = false;
  private failure: unknown = undefined;
  private readonly consumers: Waiter[] = [];
  private readonly producers: (() => void)[] = [];

  constructor(limits: Partial<QueueLimits> = {}) {
    this.limits = queueLimits(limits);
    this.ring = new Array(this.limits.maxFrames);
  }

  /** Frames waiting to be pulled. */
  get size(): number {
    return this.count;
  }

  /** Captured bytes waiting to be pulled. */
  get byteSize(): number {
    return this.bytes;
  }

  /** True once `end` was called (frames may still be waiting). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Whether a frame of `length` bytes fits now. A lone frame always fits an empty queue. */
  hasRoom(length: number): boolean {
    if (this.count === 0) return true;
    return this.count < this.limits.maxFrames && this.bytes + length <= this.limits.maxBytes;
  }

  /**
   * Live producers: queues the frame, or drops it (counted in `dropped`) when the queue is
   * full. Returns whether it was queued. After `end`, frames are refused without counting.
   */
  offer(frame: Frame): boolean {
    if (this.ended) return false;
    if (!this.hasRoom(frame.data.length)) {
      this.dropped++;
      return false;
    }
    this.add(frame);
    return true;
  }

  /**
   * File producers: queues the frame, waiting for room first. Resolves true once queued, or
   * false if the queue was ended meanwhile (the producer should then stop).
   */
  async put(frame: Frame): Promise<boolean> {
    while (!this.ended && !this.hasRoom(frame.data.length)) {
      await new Promise<void>((resolve) => this.producers.push(resolve));
    }
    if (this.ended) return false;
    this.add(frame);
    return true;
  }

  /** The next frame if one is waiting, without waiting. */
  poll(): Frame | undefined {
    if (this.count === 0) return undefined;
    const f = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    this.bytes -= f.data.length;
    this.wakeProducers();
    return f;
  }

  /** Up to `max` waiting frames, without waiting. */
  take(max: number): Frame[] {
    const out: Frame[] = [];
    while (out.length < max && this.count > 0) out.push(this.poll()!);
    return out;
  }

  /**
   * The next frame, waiting for one. Resolves undefined when the queue has ended and is empty,
   * or rejects with the error the source ended with (once the frames before it are pulled).
   */
  next(): Promise<Frame | undefined> {
    const f = this.poll();
    if (f) return Promise.resolve(f);
    if (this.ended) return this.failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.consumers.push({ resolve, reject }));
  }

  /** No more frames will come; `error` (if any) is what the source failed with. Idempotent. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const c of this.consumers.splice(0)) {
      if (error === undefined) c.resolve(undefined);
      else c.reject(error);
    }
    this.wakeProducers();
  }

  private add(frame: Frame): void {
    const waiter = this.consumers.shift();
    if (waiter) {
      waiter.resolve(frame);
      return;
    }
    this.ring[(this.head + this.count) % this.ring.length] = frame;
    this.count++;
    this.bytes += frame.data.length;
  }

  private wakeProducers(): void {
    for (const p of this.producers.splice(0)) p();
  }
}

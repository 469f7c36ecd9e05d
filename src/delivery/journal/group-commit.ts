/**
 * Group commit: frames planned by append() wait in a queue; one writer round writes them
 * all and syncs once. Appends that arrive while a round runs form the next round, so under
 * load many appends share each fsync and no append waits for more than two.
 *
 * An idle writer starts on the next turn of the event loop (so appends made in the same
 * turn share a round), or after `delayMs` when set. After a write or sync failure the state
 * on disk is unknown: every pending and later append fails with the same error until the
 * journal is reopened (and recovery cuts what was half written).
 */
import type { LigError } from '../../errors';
import type { Segment } from './segment';
import { PlannedFrame, SegmentWriter } from './writer';

interface Ack {
  last: bigint;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: PlannedFrame[] = [];
  /** The round being written and synced now. */
  private inflight: PlannedFrame[] = [];
  private acks: Ack[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private flushing: Promise<void> | undefined;
  private failed: LigError | undefined;
  private rounds = 0;

  constructor(
    private readonly writer: SegmentWriter,
    /** Segments planned but not yet created on disk (the writer creates them). */
    private readonly unborn: Set<Segment>,
    private readonly delayMs: number,
    /** Turns a raw write failure into the typed error appends reject with. */
    private readonly toError: (e: unknown) => LigError,
    /** Called with each round once it is durable, before its appends resolve. */
    private readonly onDurable: (batch: PlannedFrame[]) => void,
  ) {}

  /** The error that stopped writing, if any. */
  get failure(): LigError | undefined {
    return this.failed;
  }

  /** Completed write + sync rounds. */
  get syncs(): number {
    return this.rounds;
  }

  /** Queues the frames of one append; resolves when they are durable. */
  enqueue(frames: PlannedFrame[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    this.queue.push(...frames);
    const last = frames[frames.length - 1]!.index;
    const done = new Promise<void>((resolve, reject) => this.acks.push({ last, resolve, reject }));
    this.schedule();
    return done;
  }

  /** A record frame not yet durable (queued or being written), by index. */
  find(index: bigint): PlannedFrame | undefined {
    const is = (f: PlannedFrame) => f.index === index && !f.state;
    return this.inflight.find(is) ?? this.queue.find(is);
  }

  /** Writes everything queued now, without waiting for the delay; resolves when done. */
  async drain(): Promise<void> {
    if (this.timer || (this.queue.length > 0 && !this.flushing)) this.start();
    await this.flushing;
  }

  private schedule(): void {
    if (this.flushing || this.timer) return;
    this.timer = this.delayMs > 0 ? setTimeout(() => this.start(), this.delayMs) : setImmediate(() => this.start());
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    if (this.flushing) return;
    this.flushing = this.loop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 && !this.failed) this.schedule();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 && !this.failed) {
      const batch = (this.inflight = this.queue);
      const acks = this.acks;
      this.queue = [];
      this.acks = [];
      try {
        await this.writer.write(batch, this.unborn);
      } catch (e) {
        this.failed = this.toError(e);
        for (const a of [...acks, ...this.acks]) a.reject(this.failed);
        this.acks = [];
        this.queue = [];
        return;
      }
      this.inflight = [];
      this.rounds++;
      this.onDurable(batch);
      for (const a of acks) a.resolve();
    }
  }
}

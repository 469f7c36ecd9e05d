/**
 * What the probe does with one captured frame: decode it down to its IP packet, match the
 * packet against the current task table, and make the Event the mediator gets for it. No
 * I/O, no clock: frames in, events (or nothing) out, with counters a user can read.
 *
 * A packet that matches no task leaves nothing behind but the counters: it is not copied,
 * kept or logged. The event's `data` is a view into the frame (the IP packet from its header,
 * without link-layer padding); it is encoded when submitted, so the view is never kept.
 */
import { DecodeCounters, DECODE_SKIPS, type DecodeSkip } from '../capture/decode';
import { frameTimeUs, type Frame } from '../capture/frame';
import type { Event, Match, Task } from '../gen/lig/v1/ingest';
import { MatchTable, Matcher } from './matcher';

/** Frame counts of the pipeline. Counts only: no addresses, no task ids. */
export interface PipelineCounters {
  /** Frames pulled from the source. */
  frames: number;
  /** Frames holding an IP packet. */
  decoded: number;
  /** Frames without one, all reasons together... */
  undecodable: number;
  /** ...and by reason. */
  undecodableBy: Record<DecodeSkip, number>;
  /** Packets that matched at least one task. */
  matched: number;
  /** Matches made (a packet can match several tasks). */
  matches: number;
  /** Matched packets the capture had cut short (their event carries original_length). */
  truncated: number;
}

export class PacketPipeline {
  private readonly decoder = new DecodeCounters();
  private readonly matcher: Matcher;
  private frames = 0;
  private truncated = 0;

  constructor(tasks: readonly Task[] = []) {
    this.matcher = new Matcher(tasks);
  }

  /** The table packets are matched against now. */
  get table(): MatchTable {
    return this.matcher.table;
  }

  /**
   * Makes `tasks` the table every later frame is matched against, in one step: a frame is
   * matched against the old list or the new one, never a mixture. Returns the new table.
   */
  replaceTasks(tasks: readonly Task[]): MatchTable {
    return this.matcher.replace(tasks);
  }

  /** The event for `frame` when its packet matches a task; undefined (counted) otherwise. */
  process(frame: Frame): Event | undefined {
    this.frames++;
    const p = this.decoder.decode(frame.linktype, frame.data);
    if (p === undefined) return undefined;
    const matches = this.matcher.match(p);
    if (matches.length === 0) return undefined;
    if (p.truncated) this.truncated++;
    return {
      timeUs: frameTimeUs(frame.ts),
      kind: {
        $case: 'packet',
        packet: {
          // match() returns a new list for each matching packet (only the empty one is shared).
          matches: matches as Match[],
          // A Buffer view of the frame's bytes (the generated type is Buffer): no copy.
          data: Buffer.from(p.frame.buffer, p.frame.byteOffset + p.ipOffset, p.ipBytes),
          originalLength: p.truncated ? p.ipLength : 0,
        },
      },
    };
  }

  counters(): PipelineCounters {
    const skipped = this.decoder.skipped;
    let undecodable = 0;
    for (const k of DECODE_SKIPS) undecodable += skipped[k];
    const m = this.matcher.counters;
    return {
      frames: this.frames,
      decoded: this.decoder.decoded,
      undecodable,
      undecodableBy: { ...skipped },
      matched: m.matched,
      matches: m.matches,
      truncated: this.truncated,
    };
  }
}

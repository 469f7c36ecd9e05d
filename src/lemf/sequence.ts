/**
 * Sequence number checking, per stream: one stream per (LIID, CIN, IRI or CC), and one per
 * LIID for its HI1 notifications (they carry no CIN: they concern the warrant, not a
 * communication). Numbers run
 * from 0 without gaps (TS 102 232-1 clause 5.2.4 numbers the PDUs of a CIN); a number seen
 * before is a duplicate (a resend after a reconnect), a jump leaves a gap. Numbers that fill
 * a gap later are "late", not duplicates. Pure: numbers in, verdicts out; the state is plain
 * data so it can be saved and restored.
 */

/** Open gaps remembered per stream; beyond this the oldest is forgotten (its numbers then count as duplicates). */
export const MAX_OPEN_GAPS_PER_STREAM = 1024;

/** Largest sequence number (INTEGER (0..4294967295)). */
export const MAX_SEQUENCE_NUMBER = 4294967295;

export type SequenceKind = 'IRI' | 'CC' | 'HI1';

/** What one stream knows: the next number expected, and the gaps still open (inclusive ranges, oldest first). */
export interface StreamState {
  next: number;
  open: Array<[number, number]>;
}

export type Verdict =
  | { kind: 'next' }
  /** Numbers `from`..`to` (inclusive) were skipped. */
  | { kind: 'gap'; from: number; to: number }
  /** The number fills an open gap. */
  | { kind: 'late' }
  | { kind: 'duplicate' };

/** The key of a stream: LIID bytes as hex, the CIN (or `-` when the PDU has none), the kind. */
export function streamKey(liidHex: string, cin: number | undefined, kind: SequenceKind): string {
  return `${liidHex}/${cin ?? '-'}/${kind}`;
}

export class SequenceTracker {
  private readonly streams = new Map<string, StreamState>();

  constructor(saved: Record<string, StreamState> = {}) {
    for (const [k, s] of Object.entries(saved)) this.streams.set(k, { next: s.next, open: s.open.map(([a, b]) => [a, b]) });
  }

  /** Checks `seq` on stream `key` and records it. */
  check(key: string, seq: number): Verdict {
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = { next: 0, open: [] }));
    if (seq === s.next) {
      s.next++;
      return { kind: 'next' };
    }
    if (seq > s.next) {
      const gap: Verdict = { kind: 'gap', from: s.next, to: seq - 1 };
      s.open.push([s.next, seq - 1]);
      if (s.open.length > MAX_OPEN_GAPS_PER_STREAM) s.open.shift();
      s.next = seq + 1;
      return gap;
    }
    const i = s.open.findIndex(([a, b]) => seq >= a && seq <= b);
    if (i < 0) return { kind: 'duplicate' };
    const [a, b] = s.open[i]!;
    const rest: Array<[number, number]> = [];
    if (a < seq) rest.push([a, seq - 1]);
    if (seq < b) rest.push([seq + 1, b]);
    s.open.splice(i, 1, ...rest);
    if (s.open.length > MAX_OPEN_GAPS_PER_STREAM) s.open.shift();
    return { kind: 'late' };
  }

  /** cINReset: the stream's numbering starts again from 0. */
  reset(key: string): void {
    this.streams.delete(key);
  }

  /** Sequence numbers skipped and not (yet) received, over all streams. */
  missing(): number {
    let n = 0;
    for (const s of this.streams.values()) for (const [a, b] of s.open) n += b - a + 1;
    return n;
  }

  /** The state as plain data (for state.json). */
  toJSON(): Record<string, StreamState> {
    return Object.fromEntries([...this.streams].map(([k, s]) => [k, { next: s.next, open: s.open.map(([a, b]) => [a, b]) }]));
  }
}

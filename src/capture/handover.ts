/**
 * Filter handover without loss or duplicates. A live capture cannot change its filter in
 * place (the `cap` binding compiles it once, at open), so the live source opens a second
 * handle with the new filter, keeps the old one until it has delivered what it had queued,
 * then closes it. While both are open a packet that passes both filters arrives twice, once
 * per handle; this ledger lets exactly one copy through. Pure: no I/O, no clock.
 *
 * It keeps, per side, the frames that side emitted which the other side has not (yet) seen,
 * as a multiset of contents: a frame whose content the other side already emitted is the
 * same packet again and is dropped (one count used up), anything else is emitted and noted.
 * Beyond MAX_HANDOVER_FRAMES noted frames it stops noting (and counts `overflow`): duplicates
 * then become possible, loss does not.
 */

/** Most frames the ledger remembers during one handover. */
export const MAX_HANDOVER_FRAMES = 65_536;

export type HandoverSide = 'old' | 'new';

export class HandoverLedger {
  /** Frames dropped as the other handle's copy. */
  duplicates = 0;
  /** Frames emitted without being noted because the ledger was full. */
  overflow = 0;
  private readonly seen: Record<HandoverSide, Map<string, number>> = { old: new Map(), new: new Map() };
  private noted = 0;

  constructor(private readonly maxFrames = MAX_HANDOVER_FRAMES) {}

  /** Whether the frame with this content, captured by `side`, should be emitted. */
  admit(side: HandoverSide, content: string): boolean {
    const other = this.seen[side === 'old' ? 'new' : 'old'];
    const n = other.get(content);
    if (n !== undefined) {
      if (n === 1) other.delete(content);
      else other.set(content, n - 1);
      this.noted--;
      this.duplicates++;
      return false;
    }
    if (this.noted >= this.maxFrames) {
      this.overflow++;
      return true;
    }
    const mine = this.seen[side];
    mine.set(content, (mine.get(content) ?? 0) + 1);
    this.noted++;
    return true;
  }
}

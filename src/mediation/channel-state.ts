/**
 * The state the mediator keeps in each journal (saved with every append, see
 * journal-channel.ts): the sequence counters of the (LIID, CIN)s numbered in that journal,
 * and per probe spool the highest batch id whose records for that journal are in it (the
 * watermark). After a crash the journal hands back the state that matches the records that
 * survived, so a batch resent by its probe is skipped here if, and only if, its records for
 * this journal are already here, and numbering resumes where those records left off.
 *
 * Encoded as JSON: {"v":1,"seq":[[liid,cin,next],…],"wm":{probe:[[spool,"id"],…]}}.
 */
import { MediationError } from '../errors';
import { Numbering } from './numbering';

/** Spools remembered per probe (most recently used first); an older one is forgotten. */
export const MAX_SPOOLS_PER_PROBE = 4;
const VERSION = 1;

type Spools = [spool: string, id: bigint][];

export class ChannelState {
  readonly numbering: Numbering;
  private readonly wm: Map<string, Spools>;
  private undo: { probe: string; spools: Spools | undefined } | undefined;

  constructor(numbering = new Numbering(), wm = new Map<string, Spools>()) {
    this.numbering = numbering;
    this.wm = wm;
  }

  /** Highest batch id of (probe, spool) journaled here; 0n when none. */
  watermark(probe: string, spool: string): bigint {
    return this.wm.get(probe)?.find(([s]) => s === spool)?.[1] ?? 0n;
  }

  /** Starts a change (counters and one watermark) that commit() keeps and rollback() undoes. */
  begin(): void {
    this.numbering.begin();
    this.undo = undefined;
  }

  /** Records batch `id` of (probe, spool) as journaled here (inside begin … commit). */
  advance(probe: string, spool: string, id: bigint): void {
    const spools = this.wm.get(probe);
    if (!this.undo) this.undo = { probe, spools: spools && spools.map(([s, i]) => [s, i]) };
    const rest = (spools ?? []).filter(([s]) => s !== spool);
    this.wm.set(probe, [[spool, id] as [string, bigint], ...rest].slice(0, MAX_SPOOLS_PER_PROBE));
  }

  commit(): void {
    this.numbering.commit();
    this.undo = undefined;
  }

  rollback(): void {
    this.numbering.rollback();
    if (this.undo) {
      if (this.undo.spools) this.wm.set(this.undo.probe, this.undo.spools);
      else this.wm.delete(this.undo.probe);
    }
    this.undo = undefined;
  }

  encode(): Uint8Array {
    const wm: Record<string, [string, string][]> = {};
    for (const [probe, spools] of this.wm) wm[probe] = spools.map(([s, id]) => [s, id.toString()]);
    return Buffer.from(JSON.stringify({ v: VERSION, seq: this.numbering.toJSON(), wm }));
  }

  /** The state in a journal's state blob; throws MEDIATION_STATE naming `where` when it is not one. */
  static decode(bytes: Uint8Array, where: string): ChannelState {
    const bad = () => new MediationError('LIG_ERR_MEDIATION_STATE', `the mediator state in journal ${where} is damaged or from another version`);
    let v: { v?: unknown; seq?: unknown; wm?: unknown };
    try {
      v = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof v;
    } catch {
      throw bad();
    }
    if (v === null || typeof v !== 'object' || v.v !== VERSION || v.wm === null || typeof v.wm !== 'object') throw bad();
    const numbering = Numbering.fromJSON(v.seq);
    if (!numbering) throw bad();
    const wm = new Map<string, Spools>();
    for (const [probe, spools] of Object.entries(v.wm as Record<string, unknown>)) {
      if (!Array.isArray(spools)) throw bad();
      const list: Spools = [];
      for (const e of spools as unknown[]) {
        if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || !/^\d{1,20}$/.test(e[1])) throw bad();
        list.push([e[0], BigInt(e[1])]);
      }
      wm.set(probe, list);
    }
    return new ChannelState(numbering, wm);
  }
}

/**
 * Certificate refusals on the audit log, without letting a misbehaving client flood it.
 *
 * Every refusal is counted. The first one of a kind (same action, peer, role and call) is
 * written at once; further ones within REFUSAL_AUDIT_WINDOW_MS are only counted and written
 * as one entry when the window closes (or at flush()), with how many there were. A client
 * refused in a loop so costs at most two entries per window, and none goes unrecorded.
 *
 * Entries are by the mediator itself (actor "mediator"); the subject is the peer's
 * certificate name (`peer/NAME`), or `peer/unknown` for a certificate without a lig identity.
 */
import type { Clock, TimerHandle } from '../delivery/clock';
import { systemClock } from '../delivery/clock';
import type { Actor } from './types';
import { MEDIATOR_ACTOR } from './warrant-store';

/** How long further refusals of one kind are coalesced into a single entry. */
export const REFUSAL_AUDIT_WINDOW_MS = 60_000;

/** What this needs of the audit log (AuditLog.append). */
export interface AuditSink {
  append(entry: { actor: Actor; action: string; subject: string; before?: unknown; after?: unknown }): unknown;
}

/** One refusal: who was refused (as far as the certificate says) and for what. */
export interface Refusal {
  /** "admin.denied" (a lig certificate of a role that may not make the call) or "tls.refused" (no lig identity, or the wrong role for the listener). */
  action: 'admin.denied' | 'tls.refused';
  /** Certificate name (CN), if the certificate has a lig identity. */
  peer: string | undefined;
  role: string | undefined;
  /** The listener or call refused: "ingest", "admin", or the RPC name. */
  call: string;
  /** The lig code it was refused with. */
  code: string;
  /** Remote address (not sensitive: an operator's or a probe's host). */
  address?: string;
}

interface Window {
  refusal: Refusal;
  /** Refusals after the first one of the window, not written yet. */
  more: number;
  from: number;
  timer: TimerHandle;
}

export class RefusalAudit {
  private readonly windows = new Map<string, Window>();
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly onError: (e: unknown) => void;
  private closed = false;
  /** Refusals seen in all (written or coalesced), since start. */
  total = 0;

  constructor(
    private readonly audit: AuditSink,
    opts: { clock?: Clock; windowMs?: number; onError?: (e: unknown) => void } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.windowMs = opts.windowMs ?? REFUSAL_AUDIT_WINDOW_MS;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Records a refusal: written now if it is the first of its kind in the window, else counted. */
  refused(r: Refusal): void {
    this.total++;
    if (this.closed) return;
    const key = [r.action, r.peer ?? '', r.role ?? '', r.call, r.code].join('\u0000');
    const w = this.windows.get(key);
    if (w) {
      w.more++;
      return;
    }
    this.write(r, 1);
    const from = this.clock.now();
    const timer = this.clock.setTimeout(() => this.closeWindow(key), this.windowMs);
    (timer as { unref?: () => void }).unref?.();
    this.windows.set(key, { refusal: r, more: 0, from, timer });
  }

  /** Writes what was coalesced so far and stops taking refusals (before the audit log closes). */
  close(): void {
    if (this.closed) return;
    for (const key of [...this.windows.keys()]) this.closeWindow(key);
    this.closed = true;
  }

  private closeWindow(key: string): void {
    const w = this.windows.get(key);
    if (!w) return;
    this.windows.delete(key);
    this.clock.clearTimeout(w.timer);
    if (w.more > 0) this.write(w.refusal, w.more, { from: w.from, to: this.clock.now() });
  }

  private write(r: Refusal, count: number, span?: { from: number; to: number }): void {
    const after: Record<string, unknown> = { role: r.role ?? null, call: r.call, code: r.code, count };
    if (r.address !== undefined) after.address = r.address;
    if (span) {
      after.coalesced = true;
      after.from = new Date(span.from).toISOString();
      after.to = new Date(span.to).toISOString();
    }
    try {
      this.audit.append({ actor: MEDIATOR_ACTOR, action: r.action, subject: `peer/${r.peer ?? 'unknown'}`, after });
    } catch (e) {
      this.onError(e);
    }
  }
}

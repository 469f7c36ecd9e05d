/**
 * Which warrants are in force, now and as time passes: the bridge between the warrant store
 * and the mediator's intercepts.
 *
 * evaluate() expires what is due (store.expireDue), reads the warrants in force at this
 * instant (store.inForce), and hands them to `apply` (the mediator turns them into
 * intercepts and pushes the probes' task lists), then sets one timer at the next instant
 * the answer can change (store.nextChangeAt: a start or an end time), so a warrant goes out
 * of force at its end time and into force at its start time without anyone asking. The
 * admin service calls refresh() after every change; evaluations never overlap, and a
 * refresh asked for while one runs is done after it, once.
 *
 * Transitions (a warrant entering, leaving, or changing while in force) are reported to
 * `onTransition` (HI1 notifications). The first evaluation only sets the baseline: what was
 * in force before a restart was notified then; warrants that expired while the mediator was
 * down (found by the first expireDue) are reported as leaving.
 *
 * No LIIDs or targets in the log.
 */
import type { Intercept } from '../config';
import { type Clock, systemClock, type TimerHandle } from '../delivery/clock';
import type { Warrant } from './types';

/** Longest single timer (setTimeout's limit); a later change is reached in several steps. */
export const MAX_SCHEDULE_TIMER_MS = 2 ** 31 - 1;

export type TransitionKind = 'activated' | 'modified' | 'deactivated';

export interface Transition {
  kind: TransitionKind;
  warrant: Warrant;
}

/** What the schedule needs of the warrant store. */
export interface ScheduleStore {
  expireDue(now?: Date): Warrant[];
  inForce(now?: Date): Warrant[];
  nextChangeAt(now?: Date): Date | undefined;
}

export interface WarrantScheduleOptions {
  store: ScheduleStore;
  /** Called with the warrants in force after every evaluation that changed them (and after the first); awaited. */
  apply: (inForce: readonly Warrant[]) => Promise<void>;
  onTransition?: (t: Transition) => void;
  clock?: Clock;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
}

/**
 * The intercept a warrant in force becomes, with its window: from its activation (or its
 * start time, if later) until its end time, so that the core drops packets captured outside
 * it even before the schedule withdraws the task. An iri-only warrant's reporting mode goes
 * with it (the probe's task: Task.report_mode, summary_interval_seconds).
 */
export function interceptOf(w: Warrant): Intercept {
  const from = Math.max(w.activatedAt?.getTime() ?? 0, w.startTime?.getTime() ?? 0);
  const i: Intercept = { liid: w.liid, agency: w.agency, type: w.type, targets: w.targets.map((t) => ({ ...t })), window: { until: new Date(w.endTime.getTime()) } };
  if (from > 0) i.window!.from = new Date(from);
  if (w.probes && w.probes.length > 0) i.probes = [...w.probes];
  if (w.type === 'iri-only' && w.reports) i.reports = { ...w.reports };
  return i;
}

/**
 * The intercepts to run: the config's static ones, then one per warrant in force. A warrant
 * whose agency and LIID a static intercept also has (the config was edited after it was
 * created) is left out, with an error logged: the static intercept stands.
 */
export function withWarrants(statics: readonly Intercept[], inForce: readonly Warrant[], log: (level: 'error', message: string) => void): Intercept[] {
  const taken = new Set(statics.map((i) => `${i.agency}\u0000${i.liid}`));
  const out = [...statics];
  for (const w of inForce) {
    if (taken.has(`${w.agency}\u0000${w.liid}`)) {
      log('error', `warrant ${w.id} is not intercepted: a static intercept in the config has the same agency and LIID; remove one of them`);
      continue;
    }
    out.push(interceptOf(w));
  }
  return out;
}

export class WarrantSchedule {
  private readonly clock: Clock;
  private readonly log: NonNullable<WarrantScheduleOptions['log']>;
  /** The warrants in force as last applied: id → version. */
  private current = new Map<number, number>();
  private applied: Warrant[] = [];
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private closed = false;
  private started = false;

  private constructor(private readonly o: WarrantScheduleOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? (() => undefined);
  }

  /** Runs the first evaluation (expiring what is overdue, applying what is in force) and arms the timer. */
  static async start(o: WarrantScheduleOptions): Promise<WarrantSchedule> {
    const s = new WarrantSchedule(o);
    await s.refresh();
    return s;
  }

  /** The warrants in force as last applied. */
  get inForce(): readonly Warrant[] {
    return this.applied;
  }

  /**
   * Evaluates now (after the evaluation running, if any) and resolves once what is in force
   * has been applied; rejects with apply()'s or the store's error.
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.running) {
      this.running = this.evaluate().finally(() => (this.running = undefined));
      return this.running;
    }
    // One evaluation after the running one covers every refresh asked for meanwhile.
    this.again ??= this.running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.again = undefined;
      return this.refresh();
    });
    return this.again;
  }

  /** Stops the timer; refresh() does nothing afterwards. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async evaluate(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const now = new Date(this.clock.now());
    const transitions: Transition[] = [];
    try {
      const expired = this.o.store.expireDue(now);
      if (expired.length > 0) this.log('info', `${expired.length} warrant(s) expired: ${expired.map((w) => w.id).join(', ')}`);
      if (!this.started) {
        // Expired while the mediator was down: in force before, so the agency was told it was.
        for (const w of expired) if (wasInForce(w)) transitions.push({ kind: 'deactivated', warrant: w });
      }
      const inForce = this.o.store.inForce(now);
      const next = new Map(inForce.map((w) => [w.id, w.version]));
      if (this.started) {
        for (const w of inForce) {
          const v = this.current.get(w.id);
          if (v === undefined) transitions.push({ kind: 'activated', warrant: w });
          else if (v !== w.version) transitions.push({ kind: 'modified', warrant: w });
        }
        const gone = [...this.current.keys()].filter((id) => !next.has(id));
        for (const id of gone) {
          const w = expired.find((x) => x.id === id) ?? this.applied.find((x) => x.id === id)!;
          transitions.push({ kind: 'deactivated', warrant: w });
        }
      }
      if (!this.started || !sameSet(this.current, next)) {
        await this.o.apply(inForce);
        this.log('debug', `in force: ${inForce.length} warrant(s)`);
      }
      this.current = next;
      this.applied = inForce;
      this.started = true;
    } finally {
      this.arm(now);
    }
    for (const t of transitions) {
      try {
        this.o.onTransition?.(t);
      } catch (e) {
        this.log('error', `warrant ${t.warrant.id}: reporting its ${t.kind} failed: ${e instanceof Error ? e.name : 'error'}`);
      }
    }
  }

  /** Sets the timer at the next change after `now`, if any. */
  private arm(now: Date): void {
    if (this.closed) return;
    let at: Date | undefined;
    try {
      at = this.o.store.nextChangeAt(now);
    } catch (e) {
      this.log('error', `the warrant store cannot say when the next warrant starts or ends: ${e instanceof Error ? e.message : 'error'}`);
      return;
    }
    if (!at) return;
    const delay = Math.min(MAX_SCHEDULE_TIMER_MS, Math.max(0, at.getTime() - this.clock.now()));
    const timer = this.clock.setTimeout(() => {
      if (this.timer !== timer) return;
      this.timer = undefined;
      this.refresh().catch((e: unknown) => this.log('error', `re-evaluating the warrants in force failed: ${e instanceof Error ? e.message : 'error'}`));
    }, delay);
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.timer = timer;
  }
}

function sameSet(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, v] of a) if (b.get(id) !== v) return false;
  return true;
}

/** True when an ended warrant had been in force at some point (activated, and its window had begun before it ended). */
function wasInForce(w: Warrant): boolean {
  if (!w.activatedAt) return false;
  const from = Math.max(w.activatedAt.getTime(), w.startTime?.getTime() ?? 0);
  const to = Math.min(w.endTime.getTime(), w.endedAt?.getTime() ?? Infinity);
  return from < to;
}

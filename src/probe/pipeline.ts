/**
 * What the probe does with one captured frame: decode it down to its IP packet, let identity
 * tracking read it if it is RADIUS accounting or DHCP, match the packet against the current
 * task table (and the addresses of username/MAC tasks' sessions), and make the Event the
 * mediator gets for it. No I/O, no clock: frames in, events (or nothing) out, with counters a
 * user can read.
 *
 * A packet that matches no task leaves nothing behind but the counters: it is not copied,
 * kept or logged. The event's `data` is a view into the frame (the IP packet from its header,
 * without link-layer padding); it is encoded when submitted, so the view is never kept.
 *
 * Identity, in capture order: before a frame is matched, leases that ran out by its capture
 * time are ended, and if it is an identity packet its change is applied, so the change holds
 * from that frame on (a Stop unbinds before the next packet is matched). A change of a session
 * some username/MAC task wants gives an IdentityEvent (all those tasks, the frame's capture
 * time), queued for takeIdentityEvents(): the caller submits them before the frame's own
 * event. Identity packets are not matched through sessions (they are the AAA exchange, not
 * the subscriber's traffic); an IP or MAC target still matches them as any packet.
 *
 * A new task list (applyTaskList): the table is replaced, the sessions the mediator hands back
 * are taken in (never over a session seen on the wire), and each open session that a task of
 * the new list wants and the old list's same task did not (and the mediator did not hand back
 * for it) gives a KIND_SESSION_ACTIVE event: the warrant started while its target was online.
 *
 * Applications and IRI-only reporting (app-stage.ts): a matched packet's flow is read by the
 * application analysers, whose IriEvents follow the frame's own event (takeAppEvents()), as do
 * a second packet event when the packet matched both content and IRI-only tasks (those get its
 * headers only) and a flow's start summary. A packet matching only summary-mode tasks gives no
 * packet event. Events that capture time made due before the frame (flow summaries by interval
 * or idle time, events of flows that timed out) and those a new task list causes (REPORT_END
 * summaries) wait with the identity events, to go before the frame's own. While an e-mail target
 * exists, unmatched packets of mail flows are read too (their IriEvents, for e-mail-target
 * tasks only, wait in takeAppEvents()). endFlows() ends every flow when the capture ends.
 */
import { DecodeCounters, DECODE_SKIPS, type DecodeSkip } from '../capture/decode';
import { frameTimeUs, type Frame } from '../capture/frame';
import { IdentityEvent_Kind, IdentityEvent_Source, type Event, type Task, type TaskList } from '../gen/lig/v1/ingest';
import { AppStage, type AppStageCounters, type AppStageOptions } from './app-stage';
import { DHCP_LEASE_EXPIRED } from './identity/causes';
import { identityEvent } from './identity/events';
import { IdentityStage, type IdentityCounters, type IdentityOptions } from './identity/stage';
import type { SessionChange } from './identity/tracker';
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
  /** RADIUS and DHCP read, sessions tracked; identity events made. */
  identity: IdentityCounters & { events: number };
  /** Application analysers, IRI-only packets and flow summaries. */
  app: AppStageCounters;
}

export interface PipelineOptions {
  identity?: IdentityOptions;
  /** Application analysers, e-mail targets and flow summaries: limits and choices. */
  applications?: Partial<AppStageOptions>;
}

const NO_EVENTS: readonly Event[] = Object.freeze([]);

export class PacketPipeline {
  private readonly decoder = new DecodeCounters();
  private readonly matcher: Matcher;
  private readonly identity: IdentityStage;
  private frames = 0;
  private truncated = 0;
  private identityEvents = 0;
  /** The latest capture time seen (µs), the time of events a task list causes. */
  private lastTimeUs = 0;
  private pending: Event[] = [];
  /** Events that follow the frame's own (takeAppEvents). */
  private after: Event[] = [];
  private readonly app: AppStage;
  private emailRefused = 0;

  constructor(tasks: readonly Task[] = [], opts: PipelineOptions = {}) {
    this.matcher = new Matcher(tasks);
    this.identity = new IdentityStage({ ...opts.identity, wanted: (s) => this.matcher.table.tasksOfSession(s).length > 0 });
    this.app = new AppStage(opts.applications);
    this.emailRefused = this.app.setTasks(tasks, 0, this.pending);
  }

  /** The table packets are matched against now. */
  get table(): MatchTable {
    return this.matcher.table;
  }

  /** The identity tracker (every subscriber's open sessions). */
  get tracker() {
    return this.identity.tracker;
  }

  /**
   * Makes `tasks` the table every later frame is matched against, in one step: a frame is
   * matched against the old list or the new one, never a mixture. Returns the new table. (The
   * task list form, applyTaskList, also takes the mediator's sessions in.)
   */
  replaceTasks(tasks: readonly Task[]): MatchTable {
    return this.applyTaskList({ version: 0n, tasks: [...tasks], sessions: [] });
  }

  /**
   * Makes `list` the task list in force (see the file comment); SESSION_ACTIVE events are
   * queued with the latest capture time, or `fallbackTimeUs` before any frame was seen, but
   * never before `notBeforeUs`: a live source's clock now (the warrant began after the last
   * frame was captured, however long ago that was; its IRI-BEGIN must not predate it).
   */
  applyTaskList(list: TaskList, fallbackTimeUs = 0n, notBeforeUs = 0n): MatchTable {
    const tracker = this.identity.tracker;
    const before = this.matcher.table;
    tracker.takeTouched(); // the new bindings are built from every slot
    const next = this.matcher.replace(list.tasks, tracker.addressSlots());
    this.emailRefused = this.app.setTasks(list.tasks, this.lastTimeUs, this.pending);
    tracker.setWanted((s) => next.tasksOfSession(s).length > 0);
    const seen = this.lastTimeUs > 0 ? BigInt(this.lastTimeUs) : fallbackTimeUs;
    const time = seen > notBeforeUs ? seen : notBeforeUs;
    const changes: SessionChange[] = [];
    const handedBack = new Set<string>();
    const listed = new Set<string>();
    for (const s of list.sessions ?? []) {
      handedBack.add(`${s.taskId}/${s.sessionKey}`);
      listed.add(s.sessionKey);
      const source = s.source === IdentityEvent_Source.SOURCE_RADIUS ? 'radius' : s.source === IdentityEvent_Source.SOURCE_DHCP ? 'dhcp' : undefined;
      if (source) tracker.seed({ ...s, source }, this.lastTimeUs, changes);
    }
    tracker.withdrawSeeded(listed, changes);
    this.changed(changes, time);
    if (!next.hasIdentityTasks) return next;
    for (const s of tracker.all()) {
      const now = next.tasksOfSession(s);
      if (now.length === 0) continue;
      const had = new Set(before.tasksOfSession(s).map((i) => before.taskIdAt(i)));
      const ids = now.map((i) => next.taskIdAt(i)).filter((id) => !had.has(id) && !handedBack.has(`${id}/${s.key}`));
      if (ids.length > 0) this.queue(identityEvent(IdentityEvent_Kind.KIND_SESSION_ACTIVE, s, 0, ids, time));
    }
    return next;
  }

  /**
   * The event for `frame` when its packet matches a task; undefined (counted) otherwise.
   * Identity events it caused (and events capture time made due) wait in takeIdentityEvents(),
   * to be sent first; the events that follow it wait in takeAppEvents().
   */
  process(frame: Frame): Event | undefined {
    this.frames++;
    const p = this.decoder.decode(frame.linktype, frame.data);
    if (p === undefined) return undefined;
    const t = frame.ts.seconds * 1e6 + frame.ts.micros;
    if (t > this.lastTimeUs) this.lastTimeUs = t;
    this.app.tick(t, this.pending);
    const tracker = this.identity.tracker;
    if (t >= tracker.nextExpiryUs) this.changed(tracker.expire(t), frameTimeUs(frame.ts));
    const aaa = this.identity.isIdentityPacket(p);
    if (aaa) this.changed(this.identity.consume(p, t), frameTimeUs(frame.ts));
    const matches = this.matcher.match(p, !aaa);
    if (matches.length === 0) {
      if (this.app.watchingMail) this.app.watch(p, frameTimeUs(frame.ts), this.after);
      return undefined;
    }
    if (p.truncated) this.truncated++;
    // match() returns a new list for each matching packet (only the empty one is shared); the
    // event's data is a Buffer view of the frame's bytes (the generated type is Buffer): no copy.
    return this.app.matched(p, frameTimeUs(frame.ts), t, matches, this.after);
  }

  /**
   * Moves capture time to `nowUs` without a frame (a live source on a quiet link): the flow
   * summaries and lease expiries that time made due are queued for takeIdentityEvents(), as a
   * frame captured then would have made them. Never moves time back.
   */
  advanceTo(nowUs: number): void {
    if (nowUs <= this.lastTimeUs) return;
    this.lastTimeUs = nowUs;
    this.app.tick(nowUs, this.pending);
    const tracker = this.identity.tracker;
    if (nowUs >= tracker.nextExpiryUs) this.changed(tracker.expire(nowUs), BigInt(Math.round(nowUs)));
  }

  /** How many events wait to follow the frame's own event. */
  get appEventsPending(): number {
    return this.after.length;
  }

  /** The events that follow the last frame's own event, in order (IriEvents, header packets, summaries). */
  takeAppEvents(): readonly Event[] {
    if (this.after.length === 0) return NO_EVENTS;
    const out = this.after;
    this.after = [];
    return out;
  }

  /**
   * The capture has ended (or the probe stops): every flow ends, with the events its analyser
   * still held and its final summary (REPORT_END, or FLOW_END for a flow that had ended),
   * queued for takeAppEvents().
   */
  endFlows(): void {
    this.app.endAll(this.lastTimeUs, this.after);
  }

  /** E-mail targets of the task list in force that are not an address (never matched). */
  get emailTargetsRefused(): number {
    return this.emailRefused;
  }

  /** How many identity events (and events due before the next frame's) wait to be taken. */
  get identityEventsPending(): number {
    return this.pending.length;
  }

  /**
   * The identity events made since the last call, and the events capture time or a task list
   * made due (flow summaries, events of ended flows), in order: to be submitted before the
   * frame's own event.
   */
  takeIdentityEvents(): readonly Event[] {
    if (this.pending.length === 0) return NO_EVENTS;
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Brings the matcher's bindings up to date and queues an event for each change a task wants. */
  private changed(changes: SessionChange[], timeUs: bigint): void {
    this.matcher.refresh(this.identity.tracker.takeTouched());
    const table = this.matcher.table;
    if (!table.hasIdentityTasks) return;
    for (const c of changes) {
      const tasks = table.tasksOfSession(c.session);
      if (tasks.length === 0) continue;
      // A lease ended when it ran out, not when a packet showed it had: no frame was matched in between.
      const at = c.terminateCause === DHCP_LEASE_EXPIRED && Number.isFinite(c.session.expiresUs) ? BigInt(Math.round(c.session.expiresUs)) : timeUs;
      this.queue(identityEvent(c.kind, c.session, c.terminateCause, tasks.map((i) => table.taskIdAt(i)), at));
    }
  }

  private queue(e: Event): void {
    this.identityEvents++;
    this.pending.push(e);
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
      identity: { ...this.identity.counters(), events: this.identityEvents },
      app: this.app.counters(),
    };
  }
}

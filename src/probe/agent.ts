/**
 * The probe agent: what `lig probe` runs. It opens the link to the mediator (ProbeClient),
 * captures from the configured source, and for every frame decodes, matches against the
 * task list in force and submits one Event per matching packet (pipeline.ts). Packets that
 * match no task leave nothing behind but counters.
 *
 * The capture loop never waits on the network: submit() is synchronous and a full spool
 * drops (and counts). The one exception is a pcap replay, which loses nothing by waiting:
 * while the spool is nearly full it waits for the mediator's acknowledgements before
 * reading on, so a replay goes as fast as the pipeline does (rate 'max') or at the
 * capture's own pace (rate 'capture'), never faster than the mediator takes it.
 *
 * Task lists: each new list replaces the matcher's table in one step (a packet is matched
 * against one list or the other, never a mixture), then the live interface's kernel filter
 * (setTasks). A pcap replay starts only once the first list has arrived (read without one,
 * it would match nothing); live sources start at once and match nothing until then.
 *
 * Identity (username and MAC targets): the pipeline tracks RADIUS accounting and DHCP seen in
 * the capture (options.identity: ports, limit) and the agent submits the IdentityEvents it
 * makes before the frame's own event, in capture order. A new task list takes in the sessions
 * the mediator hands back and makes SESSION_ACTIVE events for sessions already open, which are
 * submitted at once, between two frames (time: now for a live source; for a pcap replay the
 * latest capture time, or now before any frame).
 * A live interface's filter always lets the identity ports through (identityUdpPorts).
 *
 * Applications (options.applications): the pipeline reads matched flows with the application
 * analysers, and every subscriber's mail while an e-mail target exists; the agent submits the
 * events that follow a frame's own (IriEvents, IRI-only header packets, flow summaries) right
 * after it, and when the capture ends (or stops) the events the flows still held and their
 * final summaries, before it flushes.
 *
 * Ending: when a pcap source ends, the agent flushes and waits until every batch is
 * acknowledged, then closes (`done` resolves). stop() ends capture, processes what is
 * queued, flushes and waits at most `drainMs` for acknowledgements; what is not acknowledged
 * stays in the spool and is sent after the next start. A failing source ends the agent the
 * same way (bounded) and `done` rejects with the source's error.
 *
 * Events: 'tasks' (TaskList, once the matcher uses it), 'filter' (TaskList, once a live
 * interface's filter is built from it), 'capturing' (PacketSource), 'ended' (the source has
 * no more frames).
 */
import { EventEmitter } from 'node:events';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import type { PacketSource, SourceKind } from '../capture/source';
import type { ProbeSource } from '../config/probe';
import { ProbeError, SourceError, isLigError } from '../errors';
import type { Event, TaskList } from '../gen/lig/v1/ingest';
import { MatchedCccSource, makeAgentSource, sourceKindOf, type AgentSourceOptions } from './agent-source';
import type { AppStageOptions } from './app-stage';
import { identityUdpPorts, type IdentityOptions } from './identity/stage';
import { formatAgentStatus, type AgentState, type AgentStats } from './agent-status';
import { ProbeClient, type ProbeClientOptions, type ProbeLog, type ProbeStats } from './client';
import { PacketPipeline } from './pipeline';
import { MAX_BATCH_BYTES } from './spool';

export { formatAgentStatus, type AgentState, type AgentStats };

/** How often the status line is logged (info), unless told. */
export const DEFAULT_STATUS_INTERVAL_MS = 60_000;
/** How long stop() (and a failed source) waits for acknowledgements, unless told. */
export const DEFAULT_STOP_DRAIN_MS = 10_000;
/** Frames processed between two turns of the event loop, so the link and the spool keep going. */
export const FRAMES_PER_TURN = 256;
/** pcap replay: event bytes submitted between two looks at the spool's room. */
export const PACING_CHECK_BYTES = 64 * 1024;
/** pcap replay: reading waits while the spool has less room than this share of its size... */
export const PACING_HEADROOM_SHARE = 0.25;
/** ...or less than this many bytes (whichever is more). */
export const PACING_MIN_HEADROOM_BYTES = 4 * MAX_BATCH_BYTES;
/** pcap replay: while waiting for room, look again this often (space is freed after an ack, asynchronously). */
export const PACING_POLL_MS = 100;
/** A live source's capture clock moves on this often while no frame comes (summaries, lease expiry). */
export const LIVE_CLOCK_TICK_MS = 1000;
/**
 * How far behind the wall clock that tick stays: frames captured earlier but still queued in
 * the source are then almost surely older, so time never passes a frame waiting to be read.
 */
export const LIVE_CLOCK_LAG_US = 500_000;
/** Bytes an event adds besides its packet, for pacing (time, matches, framing). */
const EVENT_OVERHEAD_BYTES = 48;

export interface ProbeAgentOptions {
  source: ProbeSource;
  mediator: ProbeClientOptions['mediator'];
  spool: ProbeClientOptions['spool'];
  batch?: ProbeClientOptions['batch'];
  /** Source tuning; `rate` is the pcap replay pace ('max' by default). */
  sourceOptions?: Omit<AgentSourceOptions, 'tasks' | 'identityUdpPorts'>;
  /** Identity tracking: RADIUS accounting ports, DHCP, session limit (config `identity`). */
  identity?: IdentityOptions;
  /** Application analysers, e-mail targets, flow summaries: protocols and limits (config `applications`). */
  applications?: Partial<AppStageOptions>;
  softwareVersion?: string;
  /** Where the agent and its client report; never targets, task contents or key material. */
  log?: ProbeLog;
  /** Period of the status line at info level; 0 for none. */
  statusIntervalMs?: number;
  /** Bound on the wait for acknowledgements when stopped or when the source fails. */
  stopDrainMs?: number;
  /** Reconnect backoff of the client (tests shorten it). */
  backoff?: ProbeClientOptions['backoff'];
}

/** How the agent ended. */
export interface AgentEnd {
  /** 'ended': the source ended (pcap replay complete); 'stopped': stop() was called. */
  reason: 'ended' | 'stopped';
  /** Every batch was acknowledged before the client closed. */
  drained: boolean;
  /** Batches left in the spool for the next start. */
  unackedBatches: bigint;
}

const quiet: ProbeLog = () => undefined;
const NO_EVENTS: readonly Event[] = Object.freeze([]);

/** Bytes an event brings to the spool, roughly, for pacing. */
function eventBytes(e: Event | undefined): number {
  if (e === undefined) return 0;
  const k = e.kind;
  if (k?.$case === 'packet') return k.packet.data.length + EVENT_OVERHEAD_BYTES;
  if (k?.$case === 'iri') return k.iri.content.length + EVENT_OVERHEAD_BYTES * 4;
  return EVENT_OVERHEAD_BYTES * 2;
}

function describe(e: unknown): string {
  return isLigError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e);
}

export class ProbeAgent extends EventEmitter {
  readonly sourceKind: SourceKind;
  /** Resolves when the agent is over (see AgentEnd); rejects with the source's error if it failed. */
  readonly done: Promise<AgentEnd>;
  private readonly pipeline: PacketPipeline;
  private readonly log: ProbeLog;
  private readonly stopping = new AbortController();
  private readonly ackedAtStart: bigint;
  private readonly statusTimer: NodeJS.Timeout | undefined;
  /** Live sources: moves capture time on while the link is quiet (summaries, lease expiry). */
  private readonly clockTimer: NodeJS.Timeout | undefined;
  private drainMs: number;
  private state: AgentState;
  private src: PacketSource | undefined;
  private taskList: TaskList | undefined;
  private submitted = 0;
  private finalClient: ProbeStats | undefined;
  private pacingNoted = false;

  private constructor(
    private readonly client: ProbeClient,
    private readonly opts: ProbeAgentOptions,
  ) {
    super();
    this.pipeline = new PacketPipeline([], { identity: opts.identity, applications: opts.applications });
    this.log = opts.log ?? quiet;
    this.sourceKind = sourceKindOf(opts.source);
    this.state = this.sourceKind === 'pcap' ? 'waiting-for-tasks' : 'starting';
    this.drainMs = opts.stopDrainMs ?? DEFAULT_STOP_DRAIN_MS;
    this.ackedAtStart = client.stats().lastAcked;
    client.on('tasks', (list: TaskList) => this.applyTasks(list));
    if (client.tasks) this.applyTasks(client.tasks);
    const every = opts.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS;
    if (every > 0) {
      this.statusTimer = setInterval(() => this.log('info', formatAgentStatus(this.stats())), every);
      this.statusTimer.unref();
    }
    if (this.sourceKind !== 'pcap') {
      this.clockTimer = setInterval(() => {
        if (this.state !== 'capturing') return;
        this.pipeline.advanceTo(Date.now() * 1000 - LIVE_CLOCK_LAG_US);
        this.submitIdentityEvents();
      }, LIVE_CLOCK_TICK_MS);
      this.clockTimer.unref();
    }
    this.done = this.run();
    // Callers await `done`; this keeps a rejection nobody awaited from ending the process.
    this.done.catch(() => undefined);
  }

  /** Opens the spool and the link to the mediator, and starts (or, for pcap, prepares) capture. */
  static async start(opts: ProbeAgentOptions): Promise<ProbeAgent> {
    // A replay waits for the mediator before reading: say now, not then, that the file cannot be read.
    if (opts.source.kind === 'pcap') {
      try {
        await fsp.access(opts.source.file, fsConstants.R_OK);
      } catch (e) {
        throw new SourceError('LIG_ERR_SOURCE_OPEN', `cannot open the capture file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
      }
    }
    const client = await ProbeClient.open({
      mediator: opts.mediator,
      spool: opts.spool,
      batch: opts.batch,
      sourceKind: sourceKindOf(opts.source),
      softwareVersion: opts.softwareVersion,
      log: opts.log ?? quiet,
      backoff: opts.backoff,
    });
    return new ProbeAgent(client, opts);
  }

  /** The started source (undefined before it started). */
  get source(): PacketSource | undefined {
    return this.src;
  }

  /** Resolves with the source once it is started (rejects if the agent ended first). */
  capturing(): Promise<PacketSource> {
    if (this.src) return Promise.resolve(this.src);
    return new Promise((resolve, reject) => {
      this.once('capturing', resolve);
      this.done.then(() => reject(new ProbeError('LIG_ERR_PROBE_CLOSED', 'the probe agent ended before capture started')), reject);
    });
  }

  /** The task list in force, if one has arrived. */
  get tasks(): TaskList | undefined {
    return this.taskList;
  }

  stats(): AgentStats {
    const c = this.finalClient ?? this.client.stats();
    return {
      ...this.pipeline.counters(),
      state: this.state,
      sourceKind: this.sourceKind,
      source: this.src?.counters(),
      ccc: this.src instanceof MatchedCccSource ? this.src.cccidCounts() : undefined,
      eventsSubmitted: this.submitted,
      eventsDropped: c.eventsDropped,
      dropped: c.dropped,
      batchesAcked: c.lastAcked - this.ackedAtStart,
      unackedBatches: c.unackedBatches,
      connected: c.connected,
      tasks: this.taskList?.tasks.length ?? 0,
      taskListVersion: this.taskList?.version,
    };
  }

  /**
   * Stops capture, processes the frames already queued, flushes, waits at most `drainMs`
   * (default stopDrainMs) for the mediator's acknowledgements and closes. Resolves as `done`.
   */
  stop(opts: { drainMs?: number } = {}): Promise<AgentEnd> {
    if (opts.drainMs !== undefined) this.drainMs = opts.drainMs;
    if (!this.stopping.signal.aborted) {
      this.stopping.abort();
      // A source being started is stopped by run() once its start resolves.
      this.src?.stop().catch((e: unknown) => this.log('warn', `stopping the source: ${describe(e)}`));
    }
    return this.done;
  }

  // --- the run -------------------------------------------------------------------------------

  private async run(): Promise<AgentEnd> {
    let src: PacketSource | undefined;
    try {
      let first = this.taskList;
      if (this.sourceKind === 'pcap' && !first) {
        this.log('info', 'waiting for the task list from the mediator before reading the capture');
        first = await this.firstTasks();
      }
      if (this.stopping.signal.aborted) return await this.finish('stopped', true);
      src = makeAgentSource(this.opts.source, { ...this.opts.sourceOptions, tasks: first?.tasks ?? [], identityUdpPorts: identityUdpPorts(this.opts.identity) });
      await src.start();
      if (this.stopping.signal.aborted) {
        await src.stop();
        return await this.finish('stopped', true);
      }
      this.src = src;
      this.state = 'capturing';
      // A list that came while the source was starting: its filter is from the one before.
      if (this.taskList && this.taskList !== first) this.updateFilter(this.taskList);
      this.log('info', `capturing from ${this.sourceKind}`);
      this.emit('capturing', src);
    } catch (e) {
      this.log('error', `the ${this.sourceKind} source cannot start: ${describe(e)}`);
      await this.close();
      throw e;
    }
    let failure: unknown;
    try {
      await this.capture(src);
    } catch (e) {
      failure = e;
    }
    this.pipeline.endFlows();
    this.submitAppEvents();
    this.emit('ended');
    const stopped = this.stopping.signal.aborted;
    if (failure !== undefined) {
      this.log('error', `the ${this.sourceKind} source failed: ${describe(failure)}`);
      await this.finish('ended', true);
      throw failure;
    }
    return this.finish(stopped ? 'stopped' : 'ended', stopped);
  }

  /** The first task list, or undefined if stop() came first. */
  private firstTasks(): Promise<TaskList | undefined> {
    return new Promise((resolve) => {
      const signal = this.stopping.signal;
      const onTasks = (list: TaskList) => {
        signal.removeEventListener('abort', onAbort);
        resolve(list);
      };
      const onAbort = () => {
        this.off('tasks', onTasks);
        resolve(undefined);
      };
      this.once('tasks', onTasks);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async capture(src: PacketSource): Promise<void> {
    const pace = src.kind === 'pcap';
    let sinceTurn = 0;
    let sinceCheck = 0;
    for (;;) {
      let frames = src.take(FRAMES_PER_TURN);
      if (frames.length === 0) {
        const f = await src.next();
        if (f === undefined) return;
        frames = [f];
      }
      for (const f of frames) {
        const event = this.pipeline.process(f);
        if (this.pipeline.identityEventsPending > 0) this.submitIdentityEvents();
        const after = this.pipeline.appEventsPending > 0 ? this.pipeline.takeAppEvents() : NO_EVENTS;
        if (event === undefined && after.length === 0) continue;
        if (pace) {
          sinceCheck += eventBytes(event);
          for (const e of after) sinceCheck += eventBytes(e);
          if (sinceCheck >= PACING_CHECK_BYTES) {
            sinceCheck = 0;
            await this.roomInSpool();
          }
        }
        if (event !== undefined && this.client.submit(event)) this.submitted++;
        for (const e of after) if (this.client.submit(e)) this.submitted++;
      }
      sinceTurn += frames.length;
      if (sinceTurn >= FRAMES_PER_TURN) {
        sinceTurn = 0;
        await turn();
      }
    }
  }

  /** pcap replay: waits while the spool is nearly full and acknowledgements can free it. */
  private async roomInSpool(): Promise<void> {
    for (;;) {
      const s = this.client.stats();
      const headroom = Math.max(s.spoolMaxBytes * PACING_HEADROOM_SHARE, PACING_MIN_HEADROOM_BYTES);
      // Batches numbered and not acknowledged, including those still being written: what an ack can free.
      const outstanding = s.nextBatchId - 1n - s.lastAcked;
      if (s.spoolMaxBytes - s.spoolBytes >= headroom || outstanding === 0n || this.stopping.signal.aborted) return;
      if (!this.pacingNoted) {
        this.pacingNoted = true;
        this.log('info', `the spool is nearly full (${s.spoolBytes} of ${s.spoolMaxBytes} bytes): the replay waits for the mediator's acknowledgements`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.client.off('acked', done);
          this.stopping.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, PACING_POLL_MS);
        this.client.on('acked', done);
        this.stopping.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /**
   * Flushes and waits for every batch to be acknowledged: without bound for a completed
   * replay (until stop() is called, which bounds it), at most drainMs when `bounded`.
   */
  private async finish(reason: AgentEnd['reason'], bounded: boolean): Promise<AgentEnd> {
    this.state = 'draining';
    this.client.flush();
    if (reason === 'ended' && !bounded) this.log('info', 'the capture has ended: waiting for the mediator to acknowledge every batch');
    const signal = this.stopping.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const limit = new Promise<boolean>((resolve) => {
      const arm = () => {
        timer = setTimeout(() => resolve(false), this.drainMs);
      };
      if (bounded || signal.aborted) arm();
      else signal.addEventListener('abort', (onAbort = arm), { once: true });
    });
    const drained = await Promise.race([this.client.drained().then(() => true, () => false), limit]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    const unacked = await this.close();
    if (!drained) this.log('warn', `${unacked} batch(es) not acknowledged by the mediator are kept in the spool and sent after the next start`);
    return { reason, drained, unackedBatches: unacked };
  }

  /** Closes the client (what is unacknowledged stays in the spool); returns the unacknowledged count. */
  private async close(): Promise<bigint> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.clockTimer) clearInterval(this.clockTimer);
    await this.client.close();
    this.finalClient = this.client.stats();
    this.state = 'stopped';
    this.log('info', formatAgentStatus(this.stats()));
    return this.finalClient.unackedBatches;
  }

  // --- task lists ----------------------------------------------------------------------------

  /** Submits the identity events the pipeline made (and those capture time made due), in order. */
  private submitIdentityEvents(): void {
    for (const e of this.pipeline.takeIdentityEvents()) if (this.client.submit(e)) this.submitted++;
  }

  /** Submits the events that follow the last frame's own, in order. */
  private submitAppEvents(): void {
    for (const e of this.pipeline.takeAppEvents()) if (this.client.submit(e)) this.submitted++;
  }

  private applyTasks(list: TaskList): void {
    if (this.state === 'stopped') return;
    // A live source's capture times are this clock's: a session found active is so from now on,
    // not from the last frame. A replay's time is the capture's own.
    const now = BigInt(Date.now()) * 1000n;
    const table = this.pipeline.applyTaskList(list, now, this.sourceKind === 'pcap' ? 0n : now);
    this.submitIdentityEvents();
    const st = table.stats;
    this.taskList = list;
    this.log('info', `task list version ${list.version} in force: ${st.tasks} task(s)`);
    if (st.invalid > 0) this.log('warn', `${st.invalid} target(s) of the task list were refused as malformed or unsafe and are not matched`);
    const id = table.identityStats;
    if (id.tasks > 0) this.log('info', `${id.tasks} username or MAC task(s) are matched by the addresses of their RADIUS and DHCP sessions (${this.pipeline.tracker.size} open session(s) known)`);
    const emails = list.tasks.reduce((n, t) => n + (t.targets ?? []).filter((x) => x.kind?.$case === 'email').length, 0);
    if (emails > 0) this.log('info', `${emails} e-mail target(s): every subscriber's SMTP, POP3 and IMAP on the mail ports is read for them`);
    const refused = this.pipeline.emailTargetsRefused;
    if (refused > 0) this.log('warn', `${refused} e-mail target(s) of the task list are not an address and are not matched`);
    if (this.src && this.state === 'capturing') this.updateFilter(list);
    this.emit('tasks', list);
  }

  private updateFilter(list: TaskList): void {
    const src = this.src;
    if (!src?.setTasks) return;
    src.setTasks(list.tasks).then(
      () => this.emit('filter', list),
      (e: unknown) => this.log('error', `cannot update the capture filter (the previous one stays in force): ${describe(e)}`),
    );
  }
}

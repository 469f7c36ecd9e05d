/**
 * The mediator, assembled from its config: per agency an HI2 journal (and an HI3 journal when
 * it receives content) under DATADIR/journals/AGENCY/, their writers (JournalChannel), the
 * core (MediationHandler), delivery (Delivery over TLS for `delivery: tcp` agencies, a
 * FileSink for `delivery: files` ones) and the gRPC ingest server for probes.
 *
 * Start-up order makes every identifier durable before it can be used: task ids and CINs
 * first, then the journals (whose states hold the counters), then delivery, and only then
 * the ingest server. close() goes the other way: no more batches, then journals flushed.
 *
 * Provisioning (src/provisioning/provisioning.ts): the warrant store and audit log open
 * first; once the core exists the warrants in force are applied (intercepts = the config's
 * static ones + warrants in force, handler.setIntercepts on every change, at start and end
 * times too), before ingest listens; the admin server (config `admin`) starts last and
 * closes first. Delivery start/stop per agency and certificate refusals go on the audit log;
 * a warrant entering, changing or leaving force sends its agency an HI1 notification on HI2
 * when the agency has hi1Notifications.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Agency, MediatorConfig } from '../config';
import { Delivery, type LinkOptions, type LinkState } from '../delivery';
import { FileSink, type FileSinkStats } from '../delivery/files';
import { Journal } from '../delivery/journal';
import { MIN_MAX_BYTES, MIN_SEGMENT_BYTES } from '../delivery/journal/options';
import { ConfigError } from '../errors';
import { hi1Enabled, notifyHi1 } from '../provisioning/hi1-notify';
import { Provisioning } from '../provisioning/provisioning';
import { withWarrants } from '../provisioning/warrant-schedule';
import type { Hi } from './encode-batch';
import { MediationHandler, type HandlerCounters, type HandlerLog } from './handler';
import type { AgencyView, ProbeView } from '../provisioning/admin-service';
import { IngestServer, type ProbeState } from './ingest-server';
import { type ChannelCounters, JournalChannel } from './journal-channel';
import { CinRegistry } from './numbering';
import { SessionTable } from './sessions';
import { TaskIds } from './tasks';

export const JOURNALS_DIR = 'journals';
/** dataDir holds LIIDs (journals, tasks.json, cins.json, sessions.json): private to the mediator. */
export const DATA_DIR_MODE = 0o700;

export interface MediatorOptions {
  /** Where the core and the ingest server report; never LIIDs or targets. Default: warnings and errors to stderr. */
  log?: HandlerLog;
  /** Start the gRPC ingest server (default true; tests may call handler.accept() instead). */
  ingest?: boolean;
  /** Delivery link tuning (tests shorten the backoff). */
  deliveryTuning?: LinkOptions['tuning'];
  /** How long an append waits for room in a full journal (default DEFAULT_ROOM_WAIT_MS). */
  roomWaitMs?: number;
  /** Start the admin server when config.admin is set (default true). */
  admin?: boolean;
}

/** One journal of an agency, as status shows it. */
export interface JournalStatus {
  hi: Hi;
  /** Records journaled and not yet confirmed by the agency (or written to its files), and their bytes. */
  backlogRecords: number;
  backlogBytes: number;
  diskBytes: number;
  maxBytes: number;
  counters: ChannelCounters;
  /** The journal stopped taking appends (a write failed): restart the mediator. */
  failed: { code: string; message: string } | undefined;
}

export interface AgencyStatus {
  id: string;
  delivery: 'tcp' | 'files';
  journals: JournalStatus[];
  /** tcp: one link per interface. */
  links?: LinkState[];
  /** files: the sink's state. */
  files?: FileSinkStats;
}

export interface MediatorStatus {
  agencies: AgencyStatus[];
  probes: ProbeState[];
  counters: HandlerCounters;
}

interface AgencyParts {
  agency: Agency;
  journals: Partial<Record<Hi, Journal>>;
  channels: Partial<Record<Hi, JournalChannel>>;
  sink?: FileSink;
}

const stderrLog: HandlerLog = (level, message) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`lig mediator: ${level}: ${message}\n`);
};

/** The interfaces an agency has a journal for: HI2 always, HI3 unless it is a tcp agency without an hi3 address. */
export function interfacesOf(a: Agency): Hi[] {
  return a.delivery === 'tcp' && !a.hi3 ? ['hi2'] : ['hi2', 'hi3'];
}

/** Per-journal limits: limits.journalBytes is for all journals together. */
export function journalLimits(config: MediatorConfig): { maxBytes: number; segmentBytes: number } {
  const count = config.agencies.reduce((n, a) => n + interfacesOf(a).length, 0);
  const maxBytes = Math.floor(config.limits.journalBytes / Math.max(1, count));
  if (maxBytes < MIN_MAX_BYTES) {
    throw new ConfigError('limits.journalBytes', `gives each of the ${count} journals ${maxBytes} bytes, less than the ${MIN_MAX_BYTES} one needs: raise it`);
  }
  // Space is freed a whole segment at a time: keep at least 8 segments per journal.
  const segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(config.limits.segmentBytes, Math.floor(maxBytes / 8)));
  return { maxBytes, segmentBytes };
}

export class Mediator {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: MediatorConfig,
    readonly handler: MediationHandler,
    private readonly parts: Map<string, AgencyParts>,
    private readonly delivery: Delivery,
    readonly ingest: IngestServer | undefined,
    readonly provisioning: Provisioning,
  ) {}

  /** Opens everything from `config` and starts delivering and serving. */
  static async start(config: MediatorConfig, opts: MediatorOptions = {}): Promise<Mediator> {
    const log = opts.log ?? stderrLog;
    await fsp.mkdir(config.dataDir, { recursive: true, mode: DATA_DIR_MODE });
    const limits = journalLimits(config);
    const taskIds = await TaskIds.open(config.dataDir);
    const cins = await CinRegistry.open(config.dataDir);
    const sessions = await SessionTable.open(config.dataDir);
    const parts = new Map<string, AgencyParts>();
    let delivery: Delivery | undefined;
    let ingest: IngestServer | undefined;
    const provisioning = Provisioning.open({ dataDir: config.dataDir, agencies: config.agencies, staticIntercepts: config.intercepts, log });
    try {
      for (const agency of config.agencies) {
        const p: AgencyParts = { agency, journals: {}, channels: {} };
        parts.set(agency.id, p);
        for (const hi of interfacesOf(agency)) {
          const j = await Journal.open(path.join(config.dataDir, JOURNALS_DIR, agency.id, hi), limits);
          p.journals[hi] = j;
          p.channels[hi] = new JournalChannel(j, `${agency.id}/${hi}`, opts.roomWaitMs);
        }
      }
      const handler = await MediationHandler.create({
        agencies: config.agencies,
        intercepts: config.intercepts,
        taskIds,
        cins,
        sessions,
        channel: (agency, hi) => parts.get(agency)?.channels[hi],
        log,
      });
      await provisioning.startSchedule({
        apply: (inForce) => handler.setIntercepts(withWarrants(config.intercepts, inForce, log)),
        onTransition: (t) => void notifyHi1(handler, config.agencies, t, log),
      });
      delivery = new Delivery(config, { journalFor: (agency, hi) => parts.get(agency)!.journals[hi]!, tuning: opts.deliveryTuning });
      provisioning.watchDelivery(delivery.links);
      for (const p of parts.values()) {
        const a = p.agency;
        if (a.delivery !== 'files') continue;
        p.sink = await FileSink.open({ dir: a.files.dir, hi2: p.journals.hi2, hi3: p.journals.hi3, rotate: a.files.rotate });
      }
      delivery.start();
      if (opts.ingest !== false) {
        ingest = await IngestServer.listen({
          listen: config.ingest.listen,
          tls: config.ingest.tls,
          handler,
          limits: { maxMessageBytes: config.limits.maxMessageBytes, maxBatchEvents: config.limits.maxBatchEvents },
          log,
        });
        provisioning.watchIngest(ingest);
      }
      const mediator = new Mediator(config, handler, parts, delivery, ingest, provisioning);
      if (config.admin && opts.admin !== false) {
        await provisioning.listenAdmin({
          admin: config.admin,
          staticIntercepts: config.intercepts,
          agencies: () => mediator.agencyViews(),
          probes: () => mediator.probeViews(),
        });
      }
      return mediator;
    } catch (e) {
      await provisioning.closeAdmin().catch(() => undefined);
      await ingest?.close({ force: true }).catch(() => undefined);
      await delivery?.close().catch(() => undefined);
      provisioning.close();
      await closeParts(parts);
      throw e;
    }
  }

  /** Where the admin server listens (its port when config asked for port 0); undefined without one. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.provisioning.adminAddress;
  }

  /** The agencies as the admin API shows them: per interface its delivery state and backlog. */
  agencyViews(): AgencyView[] {
    return this.status().agencies.map((a) => ({
      id: a.id,
      delivery: a.delivery,
      hi1Notifications: hi1Enabled(this.parts.get(a.id)!.agency),
      interfaces: a.journals.map((j) => {
        const link = a.links?.find((l) => l.hi === j.hi);
        const agency = this.parts.get(a.id)!.agency;
        const dir = agency.delivery === 'files' ? agency.files.dir : '';
        return {
          hi: j.hi,
          status: link ? link.status : (a.files?.status ?? 'closed'),
          connected: link ? link.status === 'connected' : a.files?.status === 'running',
          remote: link ? link.remote : dir,
          backlogRecords: j.backlogRecords,
          backlogBytes: j.backlogBytes,
          lastDelivery: this.provisioning.lastDelivery(a.id, j.hi),
          lastError: j.failed ?? link?.lastError ?? (a.files?.lastError && { code: a.files.lastError.code, message: a.files.lastError.message }),
        };
      }),
    }));
  }

  /** The probes as the admin API shows them. */
  probeViews(): ProbeView[] {
    return (this.ingest?.probes() ?? []).map((p) => ({
      name: p.name,
      connected: p.connected,
      sourceKind: p.sourceKind,
      softwareVersion: p.softwareVersion,
      lastBatch: p.lastBatchAt,
      since: p.since,
      batchesAccepted: p.batchesAccepted,
      accepting: p.accepting,
      queued: p.queued,
      peer: p.peer,
      lastError: p.lastError,
    }));
  }

  /** Where the ingest server listens (its port when config asked for port 0). */
  get ingestAddress(): { host: string; port: number } | undefined {
    return this.ingest && { host: this.ingest.host, port: this.ingest.port };
  }

  /** The journal of an agency's interface (tests, tools). */
  journal(agency: string, hi: Hi): Journal | undefined {
    return this.parts.get(agency)?.journals[hi];
  }

  /** The file sink of a `delivery: files` agency (tests, tools). */
  sink(agency: string): FileSink | undefined {
    return this.parts.get(agency)?.sink;
  }

  status(): MediatorStatus {
    const links = this.delivery.state();
    const agencies: AgencyStatus[] = [];
    for (const p of this.parts.values()) {
      const journals: JournalStatus[] = [];
      for (const hi of interfacesOf(p.agency)) {
        const j = p.journals[hi]!;
        const ch = p.channels[hi]!;
        const st = j.stats;
        const f = ch.failed as { code?: string; message?: string } | undefined;
        journals.push({
          hi,
          backlogRecords: Number(st.pendingRecords),
          backlogBytes: st.pendingBytes,
          diskBytes: st.diskBytes,
          maxBytes: st.maxBytes,
          counters: { ...ch.counters },
          failed: f === undefined ? undefined : { code: f.code ?? 'INTERNAL', message: f.message ?? 'internal error' },
        });
      }
      const s: AgencyStatus = { id: p.agency.id, delivery: p.agency.delivery, journals };
      if (p.agency.delivery === 'tcp') s.links = links.filter((l) => l.agency === p.agency.id);
      if (p.sink) s.files = p.sink.stats;
      agencies.push(s);
    }
    return { agencies, probes: this.ingest?.probes() ?? [], counters: { ...this.handler.counters } };
  }

  /**
   * Stops taking batches (probes keep what is not acknowledged), stops delivery and the file
   * sinks, and closes the journals once what was handed to them is durable.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.provisioning.closeAdmin();
      await this.ingest?.close();
      await this.delivery.close();
      this.provisioning.close();
      await closeParts(this.parts);
    })();
    return this.closing;
  }
}

async function closeParts(parts: Map<string, AgencyParts>): Promise<void> {
  const errors: unknown[] = [];
  for (const p of parts.values()) {
    await p.sink?.close().catch((e: unknown) => errors.push(e));
    for (const j of Object.values(p.journals)) await j.close().catch((e: unknown) => errors.push(e));
  }
  if (errors.length > 0) throw errors[0];
}

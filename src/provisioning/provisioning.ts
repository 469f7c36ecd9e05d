/**
 * Provisioning inside a running mediator: the warrant store and audit log in its data
 * directory, the schedule that keeps the intercepts equal to "static intercepts + warrants in
 * force", the admin server, and what else goes on the audit log (mediator start/stop,
 * delivery start/stop per agency, certificate refusals on ingest and admin).
 *
 * The mediator (mediation/mediator.ts) opens it first (open), starts the schedule once its
 * core exists (startSchedule: the warrants in force are applied before any probe connects),
 * and the admin server last (listenAdmin). close() goes the other way.
 *
 * Audit entries by the mediator itself use MEDIATOR_ACTOR. Nothing here logs a LIID or a
 * target: warrants are named by their id.
 */
import type { Agency, Intercept, Listener } from '../config';
import type { Clock } from '../delivery/clock';
import type { Hi } from '../delivery/tri';
import { isLigError } from '../errors';
import type { Identity } from '../pki';
import { AdminServer } from './admin-server';
import { AdminService, type AgencyView, type ProbeView } from './admin-service';
import { AuditLog } from './audit-log';
import { RefusalAudit } from './refusal-audit';
import type { Warrant } from './types';
import { MEDIATOR_ACTOR, WarrantStore } from './warrant-store';
import { type Transition, WarrantSchedule } from './warrant-schedule';

export type ProvisioningLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

/** What a delivery link looks like to the audit (delivery/link.ts DeliveryLink events). */
export interface WatchedLink {
  agency: string;
  hi: Hi;
  on(event: 'connected', fn: () => void): unknown;
  on(event: 'disconnected', fn: (reason: Error) => void): unknown;
  on(event: 'confirmed', fn: (index: bigint) => void): unknown;
}

export class Provisioning {
  readonly refusals: RefusalAudit;
  private schedule: WarrantSchedule | undefined;
  private admin: AdminServer | undefined;
  private readonly delivered = new Map<string, Date>();
  private closed = false;

  private constructor(
    readonly store: WarrantStore,
    readonly audit: AuditLog,
    private readonly log: ProvisioningLog,
    private readonly clock: Clock | undefined,
  ) {
    this.refusals = new RefusalAudit(audit, { clock, onError: (e) => this.auditFailed('a refusal', e) });
  }

  /** Opens DATADIR/audit.log and DATADIR/warrants.db (reconciling them), and records the start. */
  static open(o: { dataDir: string; agencies: readonly Agency[]; staticIntercepts: readonly Intercept[]; log: ProvisioningLog; clock?: Clock }): Provisioning {
    const now = o.clock ? () => new Date(o.clock!.now()) : undefined;
    const audit = AuditLog.open(o.dataDir, now ? { clock: now } : {});
    let store: WarrantStore;
    try {
      store = WarrantStore.open(o.dataDir, { agencies: o.agencies.map((a) => a.id), audit, ...(now ? { clock: now } : {}) });
    } catch (e) {
      audit.close();
      throw e;
    }
    const p = new Provisioning(store, audit, o.log, o.clock);
    const n = o.staticIntercepts.length;
    o.log('info', n === 0 ? 'no static intercepts in the config' : `${n} static intercept(s) from the config, for agencies ${[...new Set(o.staticIntercepts.map((i) => i.agency))].join(', ')}`);
    p.record('mediator.start', 'mediator', { staticIntercepts: n, agencies: o.agencies.map((a) => a.id) });
    return p;
  }

  /** The warrants in force now, as last applied. */
  get inForce(): readonly Warrant[] {
    return this.schedule?.inForce ?? [];
  }

  /** Where the admin server listens, once listenAdmin() ran. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.admin && { host: this.admin.host, port: this.admin.port };
  }

  /** Applies the warrants in force now, and from then on whenever that changes. */
  async startSchedule(o: { apply: (inForce: readonly Warrant[]) => Promise<void>; onTransition?: (t: Transition) => void }): Promise<void> {
    this.schedule = await WarrantSchedule.start({ store: this.store, apply: o.apply, onTransition: o.onTransition, clock: this.clock, log: this.log });
  }

  /** Starts the admin server (config `admin`). */
  async listenAdmin(o: { admin: Listener; staticIntercepts: readonly Intercept[]; agencies: () => AgencyView[]; probes: () => ProbeView[] }): Promise<void> {
    const schedule = this.schedule;
    const service = new AdminService({
      store: this.store,
      staticIntercepts: o.staticIntercepts,
      changed: () => schedule?.refresh() ?? Promise.resolve(),
      agencies: o.agencies,
      probes: o.probes,
      log: this.log,
    });
    this.admin = await AdminServer.listen({
      listen: o.admin.listen,
      tls: o.admin.tls,
      service,
      audit: this.audit,
      anchor: () => this.store.auditAnchor(),
      refusals: this.refusals,
      log: this.log,
    });
  }

  /** Puts refusals of the ingest server (a certificate without a lig identity, or not a probe's) on the audit log. */
  watchIngest(ingest: { on(event: 'refused', fn: (error: unknown, who: Identity | undefined) => void): unknown }): void {
    ingest.on('refused', (error, who) => {
      this.refusals.refused({ action: 'tls.refused', peer: who?.name, role: who?.role, call: 'ingest', code: isLigError(error) ? error.code : 'INTERNAL' });
    });
  }

  /** Records delivery start and stop per agency and interface, and when the agency last confirmed records. */
  watchDelivery(links: readonly WatchedLink[]): void {
    for (const l of links) {
      l.on('connected', () => this.record('delivery.start', `agency/${l.agency}`, { hi: l.hi }));
      l.on('disconnected', (reason) => this.record('delivery.stop', `agency/${l.agency}`, { hi: l.hi, code: isLigError(reason) ? reason.code : 'INTERNAL' }));
      l.on('confirmed', () => this.delivered.set(`${l.agency}/${l.hi}`, new Date(this.clock?.now() ?? Date.now())));
    }
  }

  /** When `agency` last confirmed records on `hi`, since the mediator started. */
  lastDelivery(agency: string, hi: Hi): Date | undefined {
    return this.delivered.get(`${agency}/${hi}`);
  }

  /** Stops the admin server (first: no new changes). */
  async closeAdmin(): Promise<void> {
    await this.admin?.close();
    this.schedule?.close();
  }

  /** Flushes coalesced refusals, records the stop, and closes the store and the log. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.schedule?.close();
    this.refusals.close();
    this.record('mediator.stop', 'mediator', undefined);
    this.store.close();
    this.audit.close();
  }

  /** Appends an entry by the mediator itself; a failure is logged (with its code), never thrown: the mediator keeps running. */
  private record(action: string, subject: string, after: unknown): void {
    try {
      this.audit.append({ actor: MEDIATOR_ACTOR, action, subject, ...(after === undefined ? {} : { after }) });
    } catch (e) {
      this.auditFailed(action, e);
    }
  }

  private auditFailed(what: string, e: unknown): void {
    this.log('error', `the audit log cannot record ${what}: ${isLigError(e) ? `${e.message} [${e.code}]` : 'internal error'}`);
  }
}

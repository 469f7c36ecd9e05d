/**
 * The admin API's meaning (AdminService, proto/lig/v1/admin.proto): who may call what, and
 * the calls themselves, between proto messages and the warrant store. The gRPC plumbing
 * (listener, TLS, turning errors into statuses) is in admin-server.ts.
 *
 * Roles come from the client certificate only: `admin` may call everything, `auditor` only
 * the READ_CALLS; any other role is refused (authorize) before a handler runs, so it never
 * sees warrant data. A change returns only once it is in force at the probes: the store
 * commits it (with its audit entry), then `changed()` re-evaluates the schedule and pushes
 * the new task lists. Should that fail (the mediator cannot write its task ids), the call
 * fails with that error although the change is committed and on record; the schedule applies
 * it at its next evaluation.
 *
 * LIIDs and targets are warrant data: nothing here logs them above debug, and errors name
 * fields, never values.
 */
import { parseIpTarget, type Target } from '../config';
import { DEFAULT_REPORT_MODE, DEFAULT_SUMMARY_INTERVAL, type InterceptReports, type ReportMode } from '../config/mediator';
import { AdminError, WarrantError } from '../errors';
import * as pb from '../gen/lig/v1/admin';
import { ReportMode as PbReportMode } from '../gen/lig/v1/ingest';
import type { Identity } from '../pki';
import { interceptKey } from '../mediation/tasks';
import type { Actor, ComplianceRecord, InterceptType, Warrant, WarrantChange, WarrantSpec, WarrantState } from './types';
import type { WarrantStore } from './warrant-store';

/** The calls an auditor may make: reading only. */
export const READ_CALLS: ReadonlySet<string> = new Set(['listWarrants', 'getWarrant', 'listAgencies', 'listProbes', 'auditLog']);
/** Every call of the service (the keys of AdminServiceService). */
export const ALL_CALLS: readonly string[] = Object.keys(pb.AdminServiceService);

/**
 * The actor behind a call by `id`, or an AdminError(LIG_ERR_ADMIN_DENIED) when its role may
 * not make `call`: admin everything, auditor READ_CALLS, any other role nothing.
 */
export function authorize(id: Identity, call: string): Actor {
  if (id.role === 'admin') return { name: id.name, role: 'admin' };
  if (id.role === 'auditor') {
    if (READ_CALLS.has(call)) return { name: id.name, role: 'auditor' };
    throw new AdminError('LIG_ERR_ADMIN_DENIED', `an auditor certificate (CN ${id.name}) may only read; ${call} needs an admin certificate`);
  }
  throw new AdminError('LIG_ERR_ADMIN_DENIED', `a ${id.role} certificate (CN ${id.name}) may not use the admin API`);
}

/** One handover interface of an agency as ListAgencies shows it. */
export interface InterfaceView {
  hi: 'hi2' | 'hi3';
  status: string;
  connected: boolean;
  remote: string;
  backlogRecords: number;
  backlogBytes: number;
  lastDelivery: Date | undefined;
  lastError: { code: string; message: string } | undefined;
}

export interface AgencyView {
  id: string;
  delivery: 'tcp' | 'files';
  hi1Notifications: boolean;
  interfaces: InterfaceView[];
}

export interface ProbeView {
  name: string;
  connected: boolean;
  sourceKind: string;
  softwareVersion: string;
  lastBatch: Date | undefined;
  since: Date | undefined;
  batchesAccepted: number;
  accepting: number;
  queued: number;
  peer: string;
  lastError: { code: string; message: string } | undefined;
}

export interface AdminServiceDeps {
  store: WarrantStore;
  /** Static intercepts from the config: a warrant may not take one's (agency, LIID). */
  staticIntercepts: readonly { agency: string; liid: string }[];
  /** Re-evaluates which warrants are in force and pushes the task lists; awaited after every change. */
  changed(): Promise<void>;
  agencies(): AgencyView[];
  probes(): ProbeView[];
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
}

/** The unary calls (the audit log stream is served by admin-server.ts from the audit log itself). */
export class AdminService {
  private readonly staticKeys: ReadonlySet<string>;
  private readonly log: NonNullable<AdminServiceDeps['log']>;

  constructor(private readonly d: AdminServiceDeps) {
    this.staticKeys = new Set(d.staticIntercepts.map((i) => interceptKey(i.agency, i.liid)));
    this.log = d.log ?? (() => undefined);
  }

  async createWarrant(r: pb.CreateWarrantRequest, actor: Actor): Promise<pb.CreateWarrantResponse> {
    if (this.staticKeys.has(interceptKey(r.agency, r.liid))) {
      throw new WarrantError('LIG_ERR_WARRANT_CONFLICT', 'the LIID is already used by a static intercept of this agency (config intercepts): choose another LIID', [
        { field: 'liid', message: 'is used by a static intercept' },
      ]);
    }
    const spec: WarrantSpec = {
      liid: r.liid,
      agency: r.agency,
      country: r.country,
      type: typeOf(r.type),
      targets: r.targets.map(targetOf),
      endTime: dateOf(r.endTimeMs, 'end_time_ms')!,
      compliance: complianceOf(r.compliance),
    };
    if (r.startTimeMs !== undefined) spec.startTime = dateOf(r.startTimeMs, 'start_time_ms');
    if (r.probes.length > 0) spec.probes = r.probes;
    const reports = reportsOf(r);
    // Either given: the whole mode, the other part defaulted (the store refuses it for content).
    if (reports.mode !== undefined || reports.interval !== undefined) {
      spec.reports = { mode: reports.mode ?? DEFAULT_REPORT_MODE, interval: reports.interval ?? DEFAULT_SUMMARY_INTERVAL };
    }
    const w = this.d.store.create(spec, actor);
    this.log('info', `warrant ${w.id} created by ${actor.name} (pending)`);
    return { warrant: warrantToProto(w) };
  }

  async activateWarrant(r: pb.ActivateWarrantRequest, actor: Actor): Promise<pb.ActivateWarrantResponse> {
    const w = this.d.store.activate(idOf(r.id), actor);
    this.log('info', `warrant ${w.id} activated by ${actor.name}`);
    await this.d.changed();
    return { warrant: warrantToProto(this.d.store.get(w.id) ?? w) };
  }

  async modifyWarrant(r: pb.ModifyWarrantRequest, actor: Actor): Promise<pb.ModifyWarrantResponse> {
    const change: WarrantChange = {};
    if (r.targets) change.targets = r.targets.targets.map(targetOf);
    if (r.startTimeMs !== undefined) change.startTime = dateOf(r.startTimeMs, 'start_time_ms');
    if (r.endTimeMs !== undefined) change.endTime = dateOf(r.endTimeMs, 'end_time_ms');
    if (r.compliance) {
      const c: Partial<ComplianceRecord> = {};
      for (const k of ['orderReference', 'issuingAuthority', 'presentingOfficer', 'responsibleEmployee'] as const) {
        if (r.compliance[k] !== undefined) c[k] = r.compliance[k];
      }
      change.compliance = c;
    }
    if (r.probes) change.probes = r.probes.probes.length > 0 ? r.probes.probes : null;
    const reports = reportsOf(r);
    if (reports.mode !== undefined || reports.interval !== undefined) change.reports = reports;
    const expected = r.expectedVersion === undefined ? undefined : numberOf(r.expectedVersion, 'expected_version');
    const w = this.d.store.modify(idOf(r.id), change, actor, expected);
    this.log('info', `warrant ${w.id} modified by ${actor.name} (version ${w.version})`);
    await this.d.changed();
    return { warrant: warrantToProto(this.d.store.get(w.id) ?? w) };
  }

  async stopWarrant(r: pb.StopWarrantRequest, actor: Actor): Promise<pb.StopWarrantResponse> {
    const w = this.d.store.stop(idOf(r.id), actor, r.reason);
    this.log('info', `warrant ${w.id} stopped by ${actor.name}`);
    await this.d.changed();
    return { warrant: warrantToProto(w) };
  }

  async listWarrants(r: pb.ListWarrantsRequest): Promise<pb.ListWarrantsResponse> {
    const state = r.state === pb.WarrantState.WARRANT_STATE_UNSPECIFIED ? undefined : stateOf(r.state);
    const warrants = this.d.store.list({ ...(state ? { state } : {}), ...(r.agency ? { agency: r.agency } : {}) });
    return { warrants: warrants.map(warrantToProto) };
  }

  async getWarrant(r: pb.GetWarrantRequest): Promise<pb.GetWarrantResponse> {
    const id = idOf(r.id);
    const w = this.d.store.get(id);
    if (!w) throw new WarrantError('LIG_ERR_WARRANT_NOT_FOUND', `there is no warrant ${id}`);
    return { warrant: warrantToProto(w) };
  }

  async listAgencies(): Promise<pb.ListAgenciesResponse> {
    return {
      agencies: this.d.agencies().map((a) => ({
        id: a.id,
        delivery: a.delivery,
        hi1Notifications: a.hi1Notifications,
        interfaces: a.interfaces.map((i) => ({
          hi: i.hi,
          status: i.status,
          connected: i.connected,
          remote: i.remote,
          backlogRecords: BigInt(i.backlogRecords),
          backlogBytes: BigInt(i.backlogBytes),
          lastDeliveryMs: msOf(i.lastDelivery),
          lastErrorCode: i.lastError?.code ?? '',
          lastErrorMessage: i.lastError?.message ?? '',
        })),
      })),
    };
  }

  async listProbes(): Promise<pb.ListProbesResponse> {
    return {
      probes: this.d.probes().map((p) => ({
        name: p.name,
        connected: p.connected,
        sourceKind: p.sourceKind,
        softwareVersion: p.softwareVersion,
        lastBatchMs: msOf(p.lastBatch),
        sinceMs: msOf(p.since),
        batchesAccepted: BigInt(p.batchesAccepted),
        accepting: BigInt(p.accepting),
        queued: BigInt(p.queued),
        peer: p.peer,
        lastErrorCode: p.lastError?.code ?? '',
        lastErrorMessage: p.lastError?.message ?? '',
      })),
    };
  }
}

// --- proto ↔ model -------------------------------------------------------------------------

const bad = (field: string, message: string) => new AdminError('LIG_ERR_ADMIN_REQUEST', `${field}: ${message}`);

const TYPES: Readonly<Record<InterceptType, pb.InterceptType>> = {
  content: pb.InterceptType.INTERCEPT_TYPE_CONTENT,
  'iri-only': pb.InterceptType.INTERCEPT_TYPE_IRI_ONLY,
};

const STATES: Readonly<Record<WarrantState, pb.WarrantState>> = {
  pending: pb.WarrantState.WARRANT_STATE_PENDING,
  active: pb.WarrantState.WARRANT_STATE_ACTIVE,
  stopped: pb.WarrantState.WARRANT_STATE_STOPPED,
  expired: pb.WarrantState.WARRANT_STATE_EXPIRED,
};

const REPORT_MODES: Readonly<Record<ReportMode, PbReportMode>> = {
  headers: PbReportMode.REPORT_MODE_HEADERS,
  summary: PbReportMode.REPORT_MODE_SUMMARY,
  both: PbReportMode.REPORT_MODE_BOTH,
};

/**
 * The reporting mode a create or modify request gives, each part absent when not given. The
 * interval goes to the store in milliseconds, which checks its range; UNSPECIFIED is refused.
 */
function reportsOf(r: { reportMode?: PbReportMode | undefined; summaryIntervalSeconds?: number | undefined }): Partial<InterceptReports> {
  const out: Partial<InterceptReports> = {};
  if (r.reportMode !== undefined) {
    const found = (Object.keys(REPORT_MODES) as ReportMode[]).find((k) => REPORT_MODES[k] === r.reportMode);
    if (!found) throw bad('report_mode', 'expected headers, summary or both (leave it out for the default, headers)');
    out.mode = found;
  }
  if (r.summaryIntervalSeconds !== undefined) out.interval = r.summaryIntervalSeconds * 1000;
  return out;
}

function typeOf(t: pb.InterceptType): InterceptType {
  const found = (Object.keys(TYPES) as InterceptType[]).find((k) => TYPES[k] === t);
  if (!found) throw bad('type', 'expected content or iri-only');
  return found;
}

/** The model's state for a proto state (not UNSPECIFIED). */
export function stateOf(s: pb.WarrantState): WarrantState {
  const found = (Object.keys(STATES) as WarrantState[]).find((k) => STATES[k] === s);
  if (!found) throw bad('state', 'expected pending, active, stopped or expired');
  return found;
}

/** A proto id as the store's number. */
function idOf(id: bigint): number {
  if (id < 1n || id > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('id', 'expected a warrant id (a whole number from 1)');
  return Number(id);
}

function numberOf(v: bigint, field: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(field, 'out of range');
  return Number(v);
}

function dateOf(ms: bigint, field: string): Date {
  if (ms <= 0n || ms > 8_640_000_000_000_000n) throw bad(field, 'expected a time in milliseconds since 1970');
  return new Date(Number(ms));
}

function msOf(d: Date | undefined): bigint | undefined {
  return d === undefined ? undefined : BigInt(d.getTime());
}

function complianceOf(c: pb.ComplianceRecord | undefined): ComplianceRecord {
  // Absent fields stay empty: the store's validation names each missing one.
  return {
    orderReference: c?.orderReference ?? '',
    issuingAuthority: c?.issuingAuthority ?? '',
    presentingOfficer: c?.presentingOfficer ?? '',
    responsibleEmployee: c?.responsibleEmployee ?? '',
  };
}

/**
 * A target as text → the model's Target, for the store to validate fully. An IP target is
 * split into address and prefix here (its rules are checked by the store, as the config's).
 */
export function targetOf(t: pb.WarrantTarget): Target {
  const k = t.kind;
  switch (k?.$case) {
    case 'ip': {
      const parsed = parseIpTarget(k.ip);
      if (typeof parsed !== 'string') return parsed;
      const [address = '', prefix] = k.ip.split('/');
      const family = address.includes(':') ? 6 : 4;
      // Invalid: handed on as is, so that the store reports it with the other problems.
      return { kind: 'ip', family, address, prefixLength: prefix === undefined ? (family === 4 ? 32 : 128) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN };
    }
    case 'mac':
      return { kind: 'mac', mac: k.mac };
    case 'username':
      return { kind: 'username', username: k.username };
    case 'email':
      return { kind: 'email', email: k.email };
    default:
      throw bad('targets', 'a target names none of ip, mac, username, email');
  }
}

/** The model's Target as proto text (an IP target as "ADDRESS" for a host, "ADDRESS/LEN" for a prefix). */
export function targetToProto(t: Target): pb.WarrantTarget {
  switch (t.kind) {
    case 'ip':
      return { kind: { $case: 'ip', ip: t.prefixLength === (t.family === 4 ? 32 : 128) ? t.address : `${t.address}/${t.prefixLength}` } };
    case 'mac':
      return { kind: { $case: 'mac', mac: t.mac } };
    case 'username':
      return { kind: { $case: 'username', username: t.username } };
    case 'email':
      return { kind: { $case: 'email', email: t.email } };
  }
}

export function warrantToProto(w: Warrant): pb.Warrant {
  return {
    id: BigInt(w.id),
    liid: w.liid,
    agency: w.agency,
    country: w.country,
    type: TYPES[w.type],
    targets: w.targets.map(targetToProto),
    startTimeMs: msOf(w.startTime),
    endTimeMs: BigInt(w.endTime.getTime()),
    compliance: { ...w.compliance },
    probes: w.probes ? [...w.probes] : [],
    state: STATES[w.state],
    version: BigInt(w.version),
    createdAtMs: BigInt(w.createdAt.getTime()),
    createdBy: w.createdBy,
    activatedAtMs: msOf(w.activatedAt),
    activatedBy: w.activatedBy ?? '',
    endedAtMs: msOf(w.endedAt),
    endedBy: w.endedBy ?? '',
    endReason: w.endReason ?? '',
    reportMode: w.reports && REPORT_MODES[w.reports.mode],
    summaryIntervalSeconds: w.reports && w.reports.interval / 1000,
  };
}

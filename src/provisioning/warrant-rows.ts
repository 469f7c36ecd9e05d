/**
 * A warrant in its two stored forms: a row of the `warrants` table (migrations.ts), and the
 * plain JSON the audit log records as before/after (times as ISO 8601 strings, absent fields
 * left out). The JSON is complete, so the store can roll a row forward from an audit entry
 * (warrant-store.ts, reconcile).
 */
import type { InterceptReports, ReportMode } from '../config/mediator';
import type { Target } from '../config/targets';
import { WARRANT_STATES, Warrant, WarrantState } from './types';
import { REPORT_MODES } from './warrant-validate';

/**
 * The reporting mode of an iri-only warrant recorded before warrants had one (an audit entry
 * without `reports`): what it was then, the config's defaults of the time, as migration 3
 * gives such rows. Fixed: a later change of the defaults does not change old warrants.
 */
export const LEGACY_REPORTS: Readonly<InterceptReports> = { mode: 'headers', interval: 60_000 };

/** A row of `warrants` as better-sqlite3 returns it. */
export interface WarrantRow {
  id: number;
  liid: string;
  agency: string;
  country: string;
  type: string;
  targets: string;
  start_time: number | null;
  end_time: number;
  order_reference: string;
  issuing_authority: string;
  presenting_officer: string;
  responsible_employee: string;
  probes: string | null;
  state: string;
  version: number;
  created_at: number;
  created_by: string;
  activated_at: number | null;
  activated_by: string | null;
  ended_at: number | null;
  ended_by: string | null;
  end_reason: string | null;
  /** iri-only warrants: the mode and summary interval; NULL for content ones. */
  report_mode: string | null;
  summary_interval_ms: number | null;
}

export const WARRANT_COLUMNS: readonly (keyof WarrantRow)[] = [
  'id', 'liid', 'agency', 'country', 'type', 'targets', 'start_time', 'end_time', 'order_reference', 'issuing_authority',
  'presenting_officer', 'responsible_employee', 'probes', 'state', 'version', 'created_at', 'created_by', 'activated_at',
  'activated_by', 'ended_at', 'ended_by', 'end_reason', 'report_mode', 'summary_interval_ms',
];

const time = (d: Date | undefined): number | null => (d ? d.getTime() : null);
const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

export function warrantToRow(w: Warrant): WarrantRow {
  return {
    id: w.id,
    liid: w.liid,
    agency: w.agency,
    country: w.country,
    type: w.type,
    targets: JSON.stringify(w.targets),
    start_time: time(w.startTime),
    end_time: w.endTime.getTime(),
    order_reference: w.compliance.orderReference,
    issuing_authority: w.compliance.issuingAuthority,
    presenting_officer: w.compliance.presentingOfficer,
    responsible_employee: w.compliance.responsibleEmployee,
    probes: w.probes ? JSON.stringify(w.probes) : null,
    state: w.state,
    version: w.version,
    created_at: w.createdAt.getTime(),
    created_by: w.createdBy,
    activated_at: time(w.activatedAt),
    activated_by: w.activatedBy ?? null,
    ended_at: time(w.endedAt),
    ended_by: w.endedBy ?? null,
    end_reason: w.endReason ?? null,
    report_mode: w.reports?.mode ?? null,
    summary_interval_ms: w.reports?.interval ?? null,
  };
}

export function rowToWarrant(r: WarrantRow): Warrant {
  const w: Warrant = {
    id: r.id,
    liid: r.liid,
    agency: r.agency,
    country: r.country,
    type: r.type as Warrant['type'],
    targets: JSON.parse(r.targets) as Target[],
    endTime: new Date(r.end_time),
    compliance: {
      orderReference: r.order_reference,
      issuingAuthority: r.issuing_authority,
      presentingOfficer: r.presenting_officer,
      responsibleEmployee: r.responsible_employee,
    },
    state: r.state as WarrantState,
    version: r.version,
    createdAt: new Date(r.created_at),
    createdBy: r.created_by,
  };
  const optional: Partial<Warrant> = {
    startTime: date(r.start_time),
    probes: r.probes === null ? undefined : (JSON.parse(r.probes) as string[]),
    activatedAt: date(r.activated_at),
    activatedBy: r.activated_by ?? undefined,
    endedAt: date(r.ended_at),
    endedBy: r.ended_by ?? undefined,
    endReason: r.end_reason ?? undefined,
    reports: r.report_mode === null ? undefined : { mode: r.report_mode as ReportMode, interval: r.summary_interval_ms ?? LEGACY_REPORTS.interval },
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (w as unknown as Record<string, unknown>)[k] = v;
  return w;
}

/** The warrant as the audit log records it. */
export function warrantToJson(w: Warrant): Record<string, unknown> {
  const r = warrantToRow(w);
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  const out: Record<string, unknown> = {
    id: w.id,
    liid: w.liid,
    agency: w.agency,
    country: w.country,
    type: w.type,
    targets: w.targets,
    startTime: iso(r.start_time),
    endTime: iso(r.end_time),
    compliance: { ...w.compliance },
    probes: w.probes,
    state: w.state,
    version: w.version,
    createdAt: iso(r.created_at),
    createdBy: w.createdBy,
    activatedAt: iso(r.activated_at),
    activatedBy: w.activatedBy,
    endedAt: iso(r.ended_at),
    endedBy: w.endedBy,
    endReason: w.endReason,
    reports: w.reports && { mode: w.reports.mode, intervalSeconds: w.reports.interval / 1000 },
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** A warrant back from its audit JSON, or undefined when the JSON is not one (checked field by field). */
export function warrantFromJson(v: unknown): Warrant | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  const optStr = (k: string) => o[k] === undefined || str(k);
  const isTime = (x: unknown) => typeof x === 'string' && !Number.isNaN(Date.parse(x));
  const optTime = (k: string) => o[k] === undefined || isTime(o[k]);
  const c = o['compliance'] as Record<string, unknown> | undefined;
  const rep = o['reports'] as Record<string, unknown> | undefined;
  const reportsOk =
    rep === undefined ||
    (o['type'] === 'iri-only' && typeof rep === 'object' && rep !== null &&
      (REPORT_MODES as readonly unknown[]).includes(rep['mode']) && Number.isSafeInteger(rep['intervalSeconds']) && (rep['intervalSeconds'] as number) > 0);
  const ok =
    reportsOk &&
    Number.isSafeInteger(o['id']) &&
    Number.isSafeInteger(o['version']) &&
    ['liid', 'agency', 'country', 'type', 'createdBy'].every(str) &&
    (WARRANT_STATES as readonly unknown[]).includes(o['state']) &&
    Array.isArray(o['targets']) &&
    isTime(o['endTime']) &&
    isTime(o['createdAt']) &&
    ['startTime', 'activatedAt', 'endedAt'].every(optTime) &&
    ['activatedBy', 'endedBy', 'endReason'].every(optStr) &&
    (o['probes'] === undefined || (Array.isArray(o['probes']) && o['probes'].every((p) => typeof p === 'string'))) &&
    typeof c === 'object' && c !== null &&
    ['orderReference', 'issuingAuthority', 'presentingOfficer', 'responsibleEmployee'].every((k) => typeof c[k] === 'string');
  if (!ok) return undefined;
  const d = (k: string) => (o[k] === undefined ? null : Date.parse(o[k] as string));
  const s = (k: string) => (o[k] === undefined ? null : (o[k] as string));
  return rowToWarrant({
    id: o['id'] as number,
    liid: o['liid'] as string,
    agency: o['agency'] as string,
    country: o['country'] as string,
    type: o['type'] as string,
    targets: JSON.stringify(o['targets']),
    start_time: d('startTime'),
    end_time: d('endTime')!,
    order_reference: c['orderReference'] as string,
    issuing_authority: c['issuingAuthority'] as string,
    presenting_officer: c['presentingOfficer'] as string,
    responsible_employee: c['responsibleEmployee'] as string,
    probes: o['probes'] === undefined ? null : JSON.stringify(o['probes']),
    state: o['state'] as string,
    version: o['version'] as number,
    created_at: d('createdAt')!,
    created_by: o['createdBy'] as string,
    activated_at: d('activatedAt'),
    activated_by: s('activatedBy'),
    ended_at: d('endedAt'),
    ended_by: s('endedBy'),
    end_reason: s('endReason'),
    // Recorded before warrants had a reporting mode: an iri-only one had LEGACY_REPORTS.
    report_mode: rep ? (rep['mode'] as string) : o['type'] === 'iri-only' ? LEGACY_REPORTS.mode : null,
    summary_interval_ms: rep ? (rep['intervalSeconds'] as number) * 1000 : o['type'] === 'iri-only' ? LEGACY_REPORTS.interval : null,
  });
}

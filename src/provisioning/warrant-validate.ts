/**
 * Validation of what operators send: a WarrantSpec to create, a WarrantChange to modify, a
 * stop reason. Every problem is collected and reported at once (LIG_ERR_WARRANT_INVALID,
 * `problems` by field); messages name the field and the rule, and never quote a value:
 * LIIDs, targets and compliance fields are warrant data.
 *
 * The LIID alphabet is the config's: 1 to 25 (TS 102 232-1 LawfulInterceptionIdentifier,
 * OCTET STRING (SIZE (1..25))) printable ASCII characters other than space, "!" to "~".
 * Targets follow config/targets.ts: an IP address or prefix no shorter than
 * MIN_IPV4_TARGET_PREFIX/MIN_IPV6_TARGET_PREFIX with no host bits set, a MAC address, a user
 * name without surrounding spaces, an e-mail address; returned normalized (as the config
 * parser would give them), and two targets that are the same (targetKey) are refused.
 * The reporting mode (`reports`) follows the config's intercept `reports`: iri-only only, a
 * mode of REPORT_MODES, an interval of whole seconds from MIN_SUMMARY_INTERVAL to
 * MAX_SUMMARY_INTERVAL; an iri-only warrant without one gets the config's defaults.
 */
import {
  DEFAULT_REPORT_MODE,
  DEFAULT_SUMMARY_INTERVAL,
  type InterceptReports,
  MAX_LIID_LENGTH,
  MAX_SUMMARY_INTERVAL,
  MIN_SUMMARY_INTERVAL,
  REPORT_MODES,
  type ReportMode,
} from '../config/mediator';
import { COUNTRY_ALIASES, ISO_3166_ALPHA2 } from '../config/countries';
import { Checker, formatPath, isMapping, sensitive } from '../config/schema';
import { TARGET_KINDS, Target, target, targetKey } from '../config/targets';
import { formatDuration } from '../config/units';
import { WarrantError } from '../errors';
import type { ComplianceRecord, InterceptType, Warrant, WarrantChange, WarrantSpec } from './types';

export { MAX_LIID_LENGTH };
/** The LIID alphabet: printable ASCII without space. */
export const LIID_PATTERN = /^[\x21-\x7e]+$/;
/** Most targets one warrant may name. */
export const MAX_WARRANT_TARGETS = 256;
/** Longest user name or e-mail target, in characters. */
export const MAX_TARGET_VALUE_LENGTH = 320;
/** Longest compliance field (order reference, authority, officer, employee), in characters. */
export const MAX_COMPLIANCE_FIELD_LENGTH = 256;
/** Most probes a warrant may be limited to, and the longest probe name. */
export const MAX_WARRANT_PROBES = 64;
export const MAX_PROBE_NAME_LENGTH = 64;
/** Longest stop reason, in characters. */
export const MAX_STOP_REASON_LENGTH = 1024;

export const INTERCEPT_TYPES: readonly InterceptType[] = ['content', 'iri-only'];
export const COMPLIANCE_FIELDS: readonly (keyof ComplianceRecord)[] = ['orderReference', 'issuingAuthority', 'presentingOfficer', 'responsibleEmployee'];
/** The reporting modes of an IRI-only warrant: the config's `reports.mode` ones. */
export { REPORT_MODES };
const SPEC_KEYS = ['liid', 'agency', 'country', 'type', 'targets', 'startTime', 'endTime', 'compliance', 'probes', 'reports'];
const CHANGE_KEYS = ['targets', 'startTime', 'endTime', 'compliance', 'probes', 'reports'];
const REPORTS_KEYS = ['mode', 'interval'];
const CONTROL = /[\x00-\x1f\x7f]/;

export interface WarrantProblem {
  field: string;
  message: string;
}

class Problems {
  readonly list: WarrantProblem[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const n = this.list.length;
    const lines = this.list.map((p) => `  ${p.field}: ${p.message}`);
    throw new WarrantError('LIG_ERR_WARRANT_INVALID', [`${what}: ${n} problem${n === 1 ? '' : 's'}`, ...lines].join('\n'), this.list);
  }
}

/** Checks a spec for `create` at `now`; returns it normalized (targets as parsed, fresh Dates). */
export function validateWarrantSpec(spec: unknown, opts: { agencies: readonly string[]; now: Date }): WarrantSpec {
  const p = new Problems();
  if (!isMapping(spec)) {
    p.add('(warrant)', 'expected a warrant: an object with liid, agency, country, type, targets, endTime and compliance');
    p.throwIfAny('invalid warrant');
  }
  const s = spec as Record<string, unknown>;
  unknownKeys(s, SPEC_KEYS, p);
  const liid = s['liid'];
  if (typeof liid !== 'string' || liid.length < 1 || liid.length > MAX_LIID_LENGTH || !LIID_PATTERN.test(liid)) {
    p.add('liid', `expected 1 to ${MAX_LIID_LENGTH} printable ASCII characters without spaces ("!" to "~"), got ${describe(liid)}`);
  }
  const agency = s['agency'];
  if (typeof agency !== 'string' || !opts.agencies.includes(agency)) {
    p.add('agency', `expected the id of a configured agency (${opts.agencies.length === 0 ? 'none is configured' : opts.agencies.join(', ')}), got ${typeof agency === 'string' ? 'another' : describe(agency)}`);
  }
  const country = s['country'];
  if (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country) || !ISO_3166_ALPHA2.has(country)) {
    const alias = typeof country === 'string' ? COUNTRY_ALIASES[country.toUpperCase()] : undefined;
    p.add('country', `expected an ISO 3166-1 alpha-2 code in upper case such as "US"${alias ? ` (did you mean "${alias}"?)` : ''}`);
  }
  const type = s['type'];
  if (!(INTERCEPT_TYPES as readonly unknown[]).includes(type)) p.add('type', `expected one of ${INTERCEPT_TYPES.join(', ')}`);
  const targets = checkTargets(s['targets'], p);
  const startTime = s['startTime'] === undefined ? undefined : checkDate(s['startTime'], 'startTime', p);
  const endTime = s['endTime'] === undefined ? (p.add('endTime', 'is required: orders end'), undefined) : checkDate(s['endTime'], 'endTime', p);
  checkWindow(startTime, endTime, opts.now, p);
  const compliance = checkCompliance(s['compliance'], p, false);
  const probes = s['probes'] === undefined ? undefined : checkProbes(s['probes'], p);
  const reports = checkReports(s['reports'], type, p, false);
  p.throwIfAny('invalid warrant');
  const out: WarrantSpec = {
    liid: liid as string,
    agency: agency as string,
    country: country as string,
    type: type as InterceptType,
    targets: targets!,
    endTime: endTime!,
    compliance: compliance as ComplianceRecord,
  };
  if (startTime) out.startTime = startTime;
  if (probes) out.probes = probes;
  if (out.type === 'iri-only') out.reports = { mode: reports?.mode ?? DEFAULT_REPORT_MODE, interval: reports?.interval ?? DEFAULT_SUMMARY_INTERVAL };
  return out;
}

/**
 * Checks a change to `current` at `now`: at least one field, each valid, and the resulting
 * window valid (a new end time must be in the future). Returns the change normalized
 * (probes: null means all probes again).
 */
export function validateWarrantChange(change: unknown, current: Warrant, opts: { now: Date }): WarrantChange {
  const p = new Problems();
  if (!isMapping(change)) {
    p.add('(change)', `expected a change: an object with one or more of ${CHANGE_KEYS.join(', ')}`);
    p.throwIfAny('invalid change');
  }
  const c = change as Record<string, unknown>;
  unknownKeys(c, CHANGE_KEYS, p);
  if (CHANGE_KEYS.every((k) => c[k] === undefined)) p.add('(change)', `changes nothing: give one or more of ${CHANGE_KEYS.join(', ')}`);
  const out: WarrantChange = {};
  if (c['targets'] !== undefined) out.targets = checkTargets(c['targets'], p);
  if (c['startTime'] !== undefined) out.startTime = checkDate(c['startTime'], 'startTime', p);
  if (c['endTime'] !== undefined) out.endTime = checkDate(c['endTime'], 'endTime', p);
  if (c['compliance'] !== undefined) out.compliance = checkCompliance(c['compliance'], p, true);
  if (c['probes'] === null) out.probes = null;
  else if (c['probes'] !== undefined) out.probes = checkProbes(c['probes'], p);
  if (c['reports'] !== undefined) out.reports = checkReports(c['reports'], current.type, p, true);
  const start = out.startTime ?? current.startTime;
  const end = out.endTime ?? current.endTime;
  if (out.startTime !== undefined || out.endTime !== undefined) {
    if (start && end && end.getTime() <= start.getTime()) p.add('endTime', 'must be after startTime');
    if (out.endTime && out.endTime.getTime() <= opts.now.getTime()) p.add('endTime', 'must be in the future (to end a warrant now, stop it)');
  }
  p.throwIfAny('invalid change');
  return out;
}

/** Checks an optional stop reason: free text, at most MAX_STOP_REASON_LENGTH characters. */
export function validateStopReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  const p = new Problems();
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_STOP_REASON_LENGTH) {
    p.add('reason', `expected text of 1 to ${MAX_STOP_REASON_LENGTH} characters (MAX_STOP_REASON_LENGTH)`);
  }
  p.throwIfAny('invalid stop');
  return reason as string;
}

function checkTargets(v: unknown, p: Problems): Target[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    p.add('targets', 'expected a non-empty list of targets (ip, mac, username or email)');
    return undefined;
  }
  if (v.length > MAX_WARRANT_TARGETS) {
    p.add('targets', `holds ${v.length} targets, more than MAX_WARRANT_TARGETS (${MAX_WARRANT_TARGETS}): split the order over several warrants`);
    return undefined;
  }
  const out: Target[] = [];
  const seen = new Map<string, number>();
  v.forEach((t, i) => {
    const field = `targets[${i}]`;
    const parsed = checkTarget(t, field, p);
    if (!parsed) return;
    const key = targetKey(parsed);
    const first = seen.get(key);
    if (first !== undefined) p.add(field, `is the same target as targets[${first}]: name each target once`);
    else seen.set(key, i);
    out.push(parsed);
  });
  return out;
}

/** One Target object, checked by the config's rules (it is turned back into its config form for that). */
function checkTarget(t: unknown, field: string, p: Problems): Target | undefined {
  if (!isMapping(t) || !(TARGET_KINDS as readonly unknown[]).includes(t['kind'])) {
    p.add(field, `expected a target with kind ${TARGET_KINDS.join(', ')}`);
    return undefined;
  }
  const kind = t['kind'] as Target['kind'];
  let form: unknown;
  switch (kind) {
    case 'ip': {
      const { address, prefixLength, family } = t;
      if (typeof address !== 'string' || !Number.isInteger(prefixLength) || (family !== 4 && family !== 6)) {
        p.add(field, 'expected an ip target with address, family (4 or 6) and prefixLength');
        return undefined;
      }
      form = `${address}/${prefixLength as number}`;
      break;
    }
    default: {
      const value = t[kind];
      if (typeof value === 'string' && value.length > MAX_TARGET_VALUE_LENGTH) {
        p.add(field, `is longer than MAX_TARGET_VALUE_LENGTH (${MAX_TARGET_VALUE_LENGTH} characters)`);
        return undefined;
      }
      if (typeof value === 'string' && CONTROL.test(value)) {
        p.add(field, 'must not hold control characters');
        return undefined;
      }
      form = value;
    }
  }
  const ctx = new Checker();
  const r = sensitive(target()).check({ [kind]: form }, [], ctx);
  for (const issue of ctx.issues) p.add(issue.path.length > 0 ? `${field}.${formatPath(issue.path)}` : field, issue.message);
  if (typeof r === 'symbol') return undefined;
  if (kind === 'ip' && r.kind === 'ip' && r.family !== t['family']) {
    p.add(field, 'has a family that does not match its address');
    return undefined;
  }
  return r;
}

function checkDate(v: unknown, field: string, p: Problems): Date | undefined {
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) {
    p.add(field, 'expected a valid time');
    return undefined;
  }
  return new Date(v.getTime());
}

function checkWindow(start: Date | undefined, end: Date | undefined, now: Date, p: Problems): void {
  if (!end) return;
  if (start && end.getTime() <= start.getTime()) p.add('endTime', 'must be after startTime');
  if (end.getTime() <= now.getTime()) p.add('endTime', 'must be in the future');
}

function checkCompliance(v: unknown, p: Problems, partial: boolean): Partial<ComplianceRecord> | undefined {
  if (!isMapping(v)) {
    p.add('compliance', `expected the compliance record: ${COMPLIANCE_FIELDS.join(', ')}`);
    return undefined;
  }
  unknownKeys(v, COMPLIANCE_FIELDS as readonly string[], p, 'compliance.');
  const out: Partial<ComplianceRecord> = {};
  for (const k of COMPLIANCE_FIELDS) {
    const f = v[k];
    if (f === undefined && partial) continue;
    if (typeof f !== 'string' || f.trim() === '' || f.length > MAX_COMPLIANCE_FIELD_LENGTH || CONTROL.test(f)) {
      p.add(`compliance.${k}`, `expected text of 1 to ${MAX_COMPLIANCE_FIELD_LENGTH} characters without control characters (MAX_COMPLIANCE_FIELD_LENGTH), not blank`);
      continue;
    }
    out[k] = f;
  }
  if (partial && Object.keys(out).length === 0 && COMPLIANCE_FIELDS.every((k) => v[k] === undefined)) {
    p.add('compliance', `changes nothing: give one or more of ${COMPLIANCE_FIELDS.join(', ')}`);
  }
  return out;
}

/**
 * An optional reporting mode for a warrant of `type` (for a change: the part that changes).
 * Refused for a content warrant, as the config refuses `reports` on a content intercept.
 */
function checkReports(v: unknown, type: unknown, p: Problems, partial: boolean): Partial<InterceptReports> | undefined {
  if (v === undefined) return undefined;
  if (type === 'content') {
    p.add('reports', 'applies to iri-only warrants only (a content warrant delivers every packet as CC): leave it out, or make the warrant iri-only');
    return undefined;
  }
  if (!isMapping(v)) {
    p.add('reports', `expected the reporting mode: an object with ${REPORTS_KEYS.join(', ')}`);
    return undefined;
  }
  unknownKeys(v, REPORTS_KEYS, p, 'reports.');
  const out: Partial<InterceptReports> = {};
  const mode = v['mode'];
  if (mode !== undefined) {
    if ((REPORT_MODES as readonly unknown[]).includes(mode)) out.mode = mode as ReportMode;
    else p.add('reports.mode', `expected one of ${REPORT_MODES.join(', ')}`);
  }
  const ms = v['interval'];
  if (ms !== undefined) {
    if (typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= MIN_SUMMARY_INTERVAL && ms <= MAX_SUMMARY_INTERVAL && ms % 1000 === 0) out.interval = ms;
    else {
      p.add('reports.interval', `expected a whole number of seconds from ${formatDuration(MIN_SUMMARY_INTERVAL)} to ${formatDuration(MAX_SUMMARY_INTERVAL)} (MIN_SUMMARY_INTERVAL, MAX_SUMMARY_INTERVAL), in milliseconds`);
    }
  }
  if (partial && mode === undefined && ms === undefined) p.add('reports', `changes nothing: give one or more of ${REPORTS_KEYS.join(', ')}`);
  return out;
}

function checkProbes(v: unknown, p: Problems): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_WARRANT_PROBES) {
    p.add('probes', `expected a list of 1 to ${MAX_WARRANT_PROBES} probe names (MAX_WARRANT_PROBES), or none for all probes`);
    return undefined;
  }
  const seen = new Set<string>();
  v.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_PROBE_NAME_LENGTH || CONTROL.test(name)) {
      p.add(`probes[${i}]`, `expected a probe name of 1 to ${MAX_PROBE_NAME_LENGTH} characters (MAX_PROBE_NAME_LENGTH)`);
    } else if (seen.has(name)) p.add(`probes[${i}]`, 'repeats a probe named before it');
    else seen.add(name);
  });
  return [...seen];
}

/** Unknown keys are named only when they look like a field name (anything else may be data). */
function unknownKeys(o: Record<string, unknown>, known: readonly string[], p: Problems, prefix = ''): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k) || o[k] === undefined) continue;
    if (/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(k)) p.add(`${prefix}${k}`, `is not a field (expected ${known.join(', ')})`);
    else p.add(prefix === '' ? '(warrant)' : prefix.slice(0, -1), `has a field that is not one of ${known.join(', ')} (not shown: it may be data)`);
  }
}

/** What a value is, without its content. */
function describe(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (typeof v === 'string') return `${v.length} characters${v.length > 0 && !LIID_PATTERN.test(v) ? ' including one outside the alphabet' : ''}`;
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

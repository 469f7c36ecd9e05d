/**
 * `lig warrant add|activate|modify|stop|list|show`: warrants, through the mediator's admin
 * API (admin-flags.ts for --admin and the client certificate).
 *
 *   lig warrant add --liid L --agency A --type content|iri-only --target KIND:VALUE… --end TIME
 *                   [--start TIME] --country CC --order REF --authority WHO --officer WHO --employee WHO [--probe NAME…]
 *                   [--reports headers|summary|both] [--summary-interval DURATION]
 *   lig warrant activate ID          lig warrant stop ID [--reason TEXT]
 *   lig warrant modify ID [--target …] [--start TIME] [--end TIME] [--order …] [--authority …]
 *                   [--officer …] [--employee …] [--probe NAME… | --all-probes] [--reports MODE]
 *                   [--summary-interval DURATION] [--expect-version N]
 *   lig warrant list [--state S] [--agency A]        lig warrant show ID
 *
 * KIND is ip (address or prefix), mac, user (or username) or email. TIME is ISO 8601 with a
 * zone ("2025-07-01T00:00:00Z", "2025-07-01T02:00+02:00"), "now", or "+DURATION" from now
 * ("+90d" is not a unit: "+2160h"). --reports and --summary-interval are for iri-only warrants
 * (the mediator refuses them on content ones, and checks the range): per-packet header
 * reports, per-flow summaries at least every DURATION (whole seconds: "90s", "5m"), or both;
 * default headers, 60s, as for config intercepts. Human output by default, --json (one JSON document) for
 * scripts. Exit 0 done, 1 refused or failed (the message ends with its LIG_ERR code), 2 usage.
 *
 * This is the operator's own terminal: `show` and `list` print LIIDs and targets, as they
 * must; nothing is written anywhere else.
 */
import { parseDuration } from '../config';
import { formatDuration } from '../config/units';
import { UsageError } from '../errors';
import * as pb from '../gen/lig/v1/admin';
import { ReportMode } from '../gen/lig/v1/ingest';
import type { AdminClient } from '../provisioning/admin-client';
import { stateOf } from '../provisioning/admin-service';
import { ADMIN_FLAGS, withAdminClient } from './admin-flags';
import { type FlagSpec, type Parsed, flagHelp, need, parseArgs, str } from './args';
import type { Command, Io } from './command';
import { table, timeJson, timeText } from './table';

const COMMON: Record<string, FlagSpec> = {
  ...ADMIN_FLAGS,
  json: { help: 'print JSON (for scripts) instead of text' },
  help: { help: 'show this help' },
};

const FIELDS: Record<string, FlagSpec> = {
  target: { value: true, multiple: true, help: 'a target, repeatable: ip:ADDRESS[/LEN], mac:MAC, user:NAME, email:ADDRESS' },
  start: { value: true, help: 'nothing is intercepted before this TIME (default: from activation)' },
  end: { value: true, help: 'nothing is intercepted after this TIME; the warrant then expires' },
  order: { value: true, help: 'the order\'s reference (docket number)' },
  authority: { value: true, help: 'the issuing authority or judge' },
  officer: { value: true, help: 'the law-enforcement officer who presented the order' },
  employee: { value: true, help: 'your employee responsible for the interception' },
  probe: { value: true, multiple: true, help: 'only this probe watches for it, repeatable (default: all probes)' },
  reports: { value: true, help: 'iri-only: headers (a report per packet), summary (per-flow summaries) or both (default headers)' },
  'summary-interval': { value: true, help: 'iri-only, summary modes: an open flow is summarised at least this often, whole seconds (default 60s)' },
};

const SUB: Record<string, { synopsis: string; flags: Record<string, FlagSpec>; ids: boolean }> = {
  add: {
    synopsis: 'lig warrant add --liid L --agency A --type content|iri-only --target KIND:VALUE... --end TIME [--start TIME] --country CC --order REF --authority WHO --officer WHO --employee WHO [--reports headers|summary|both] [--summary-interval DURATION]',
    flags: {
      liid: { value: true, help: 'the lawful interception identifier (1-25 printable characters)' },
      agency: { value: true, help: 'the agency (an id from the mediator\'s config)' },
      type: { value: true, help: 'content (IRI and content) or iri-only' },
      country: { value: true, help: 'authorization country, ISO 3166-1 alpha-2 (e.g. US)' },
      ...FIELDS,
      ...COMMON,
    },
    ids: false,
  },
  activate: { synopsis: 'lig warrant activate ID', flags: COMMON, ids: true },
  modify: {
    synopsis: 'lig warrant modify ID [--target KIND:VALUE...] [--start TIME] [--end TIME] [--order ..] [--authority ..] [--officer ..] [--employee ..] [--probe NAME... | --all-probes] [--reports MODE] [--summary-interval DURATION]',
    flags: {
      ...FIELDS,
      'all-probes': { help: 'every probe watches for it again' },
      'expect-version': { value: true, help: 'refuse unless the warrant is still at this version' },
      ...COMMON,
    },
    ids: true,
  },
  stop: { synopsis: 'lig warrant stop ID [--reason TEXT]', flags: { reason: { value: true, help: 'why it is stopped (on the audit log)' }, ...COMMON }, ids: true },
  list: {
    synopsis: 'lig warrant list [--state pending|active|stopped|expired] [--agency A]',
    flags: { state: { value: true, help: 'only warrants in this state' }, agency: { value: true, help: 'only this agency\'s warrants' }, ...COMMON },
    ids: false,
  },
  show: { synopsis: 'lig warrant show ID', flags: COMMON, ids: true },
};

const USAGE = ['usage:', ...Object.values(SUB).map((s) => `  ${s.synopsis}`), '', 'Run `lig warrant SUBCOMMAND --help` for its flags.'].join('\n');

export const command: Command = {
  summary: 'warrants through the admin API: add, activate, modify, stop, list, show',
  run: async (argv, io) => {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === 'help') {
      io.out(USAGE);
      return sub === undefined ? 2 : 0;
    }
    const spec = SUB[sub];
    if (!spec) throw new UsageError(`unknown subcommand "${sub}"\n${USAGE}`);
    const p = parseArgs(rest, spec.flags);
    if (p.flags.help) {
      io.out(`usage: ${spec.synopsis}\n${flagHelp(spec.flags)}`);
      return 0;
    }
    const id = spec.ids ? idArg(p, spec.synopsis) : (noPositionals(p, spec.synopsis), 0n);
    const json = p.flags.json === true;
    // Every flag is checked before the mediator is called.
    let call: (client: AdminClient) => Promise<number>;
    switch (sub) {
      case 'add': {
        const request = createRequest(p);
        call = async (c) => done(io, json, await c.createWarrant(request), (w) => `warrant ${w.id} created, pending: nothing is intercepted until \`lig warrant activate ${w.id}\``);
        break;
      }
      case 'activate':
        call = async (c) => done(io, json, await c.activateWarrant(id), (w) => `warrant ${w.id} activated by ${w.activatedBy}: in force ${w.startTimeMs !== undefined && w.startTimeMs > (w.activatedAtMs ?? 0n) ? `from ${timeText(w.startTimeMs)} ` : ''}until ${timeText(w.endTimeMs)}`);
        break;
      case 'modify': {
        const request = modifyRequest(id, p);
        call = async (c) => done(io, json, await c.modifyWarrant(request), (w) => `warrant ${w.id} modified (version ${w.version})`);
        break;
      }
      case 'stop':
        call = async (c) => done(io, json, await c.stopWarrant(id, str(p, 'reason')), (w) => `warrant ${w.id} stopped by ${w.endedBy}`);
        break;
      case 'show':
        call = async (c) => done(io, json, await c.getWarrant(id), (w) => showLines(w).join('\n'));
        break;
      default: {
        const filter = listFilter(p);
        call = (c) => list(io, json, c, filter);
      }
    }
    return withAdminClient(p, call);
  },
};

function listFilter(p: Parsed): pb.ListWarrantsRequest {
  const state = str(p, 'state');
  return { state: state === undefined ? pb.WarrantState.WARRANT_STATE_UNSPECIFIED : stateFlag(state), agency: str(p, 'agency') ?? '' };
}

async function list(io: Io, json: boolean, client: AdminClient, filter: pb.ListWarrantsRequest): Promise<number> {
  const warrants = await client.listWarrants(filter);
  if (json) {
    io.out(JSON.stringify(warrants.map(warrantJson), null, 2));
    return 0;
  }
  if (warrants.length === 0) {
    io.out('no warrants');
    return 0;
  }
  const rows = warrants.map((w) => [String(w.id), stateName(w.state), w.agency, typeName(w.type), w.liid, timeText(w.startTimeMs ?? w.activatedAtMs), timeText(w.endTimeMs), String(w.targets.length)]);
  for (const line of table(['ID', 'STATE', 'AGENCY', 'TYPE', 'LIID', 'FROM', 'UNTIL', 'TARGETS'], rows)) io.out(line);
  return 0;
}

function done(io: Io, json: boolean, w: pb.Warrant, text: (w: pb.Warrant) => string): number {
  io.out(json ? JSON.stringify(warrantJson(w), null, 2) : text(w));
  return 0;
}

// --- requests from flags -------------------------------------------------------------------

function createRequest(p: Parsed): pb.CreateWarrantRequest {
  const targets = targetsOf(p);
  if (targets === undefined) throw new UsageError('--target is required (repeat it for several targets)');
  const start = str(p, 'start');
  return {
    liid: need(p, 'liid'),
    agency: need(p, 'agency'),
    country: need(p, 'country'),
    type: typeFlag(need(p, 'type')),
    targets,
    startTimeMs: start === undefined ? undefined : timeFlag('start', start),
    endTimeMs: timeFlag('end', need(p, 'end')),
    compliance: { orderReference: need(p, 'order'), issuingAuthority: need(p, 'authority'), presentingOfficer: need(p, 'officer'), responsibleEmployee: need(p, 'employee') },
    probes: (p.flags.probe as string[] | undefined) ?? [],
    ...reportsFlags(p),
  };
}

function modifyRequest(id: bigint, p: Parsed): pb.ModifyWarrantRequest {
  const targets = targetsOf(p);
  const start = str(p, 'start');
  const end = str(p, 'end');
  const probes = p.flags.probe as string[] | undefined;
  if (probes && p.flags['all-probes']) throw new UsageError('--probe and --all-probes exclude each other');
  const compliance: pb.ComplianceChange = {
    orderReference: str(p, 'order'),
    issuingAuthority: str(p, 'authority'),
    presentingOfficer: str(p, 'officer'),
    responsibleEmployee: str(p, 'employee'),
  };
  const anyCompliance = Object.values(compliance).some((v) => v !== undefined);
  const version = str(p, 'expect-version');
  if (version !== undefined && !/^[1-9]\d{0,15}$/.test(version)) throw new UsageError('--expect-version must be a version number (from 1)');
  const r: pb.ModifyWarrantRequest = {
    id,
    expectedVersion: version === undefined ? undefined : BigInt(version),
    targets: targets && { targets },
    startTimeMs: start === undefined ? undefined : timeFlag('start', start),
    endTimeMs: end === undefined ? undefined : timeFlag('end', end),
    compliance: anyCompliance ? compliance : undefined,
    probes: probes ? { probes } : p.flags['all-probes'] ? { probes: [] } : undefined,
    ...reportsFlags(p),
  };
  if (!r.targets && r.startTimeMs === undefined && r.endTimeMs === undefined && !r.compliance && !r.probes && r.reportMode === undefined && r.summaryIntervalSeconds === undefined) {
    throw new UsageError('nothing to change: give --target, --start, --end, a compliance flag, --probe, --all-probes, --reports or --summary-interval');
  }
  return r;
}

const REPORT_FLAG: Readonly<Record<string, ReportMode>> = {
  headers: ReportMode.REPORT_MODE_HEADERS,
  summary: ReportMode.REPORT_MODE_SUMMARY,
  both: ReportMode.REPORT_MODE_BOTH,
};

/** --reports and --summary-interval as request fields, each absent when not given (the mediator checks the range and the type). */
export function reportsFlags(p: Parsed): { reportMode?: ReportMode; summaryIntervalSeconds?: number } {
  const out: { reportMode?: ReportMode; summaryIntervalSeconds?: number } = {};
  const mode = str(p, 'reports');
  if (mode !== undefined) {
    const m = Object.hasOwn(REPORT_FLAG, mode) ? REPORT_FLAG[mode] : undefined;
    if (m === undefined) throw new UsageError('--reports must be headers, summary or both');
    out.reportMode = m;
  }
  const interval = str(p, 'summary-interval');
  if (interval !== undefined) {
    const ms = parseDuration(interval);
    if (ms === undefined || ms <= 0 || ms % 1000 !== 0 || ms / 1000 > 0xffff_ffff) {
      throw new UsageError('--summary-interval must be a whole number of seconds with a unit, e.g. 90s, 5m or 1h');
    }
    out.summaryIntervalSeconds = ms / 1000;
  }
  return out;
}

/** KIND:VALUE → a proto target (the mediator checks the value). */
export function targetFlag(text: string): pb.WarrantTarget {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const value = text.slice(colon + 1);
  if (colon < 0 || value === '') throw new UsageError('--target must be KIND:VALUE with KIND ip, mac, user or email (e.g. ip:192.0.2.7)');
  switch (kind) {
    case 'ip':
      return { kind: { $case: 'ip', ip: value } };
    case 'mac':
      return { kind: { $case: 'mac', mac: value } };
    case 'user':
    case 'username':
      return { kind: { $case: 'username', username: value } };
    case 'email':
      return { kind: { $case: 'email', email: value } };
    default:
      throw new UsageError(`--target: unknown kind "${kind.slice(0, 16)}": expected ip, mac, user or email`);
  }
}

function targetsOf(p: Parsed): pb.WarrantTarget[] | undefined {
  const v = p.flags.target as string[] | undefined;
  return v?.map(targetFlag);
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A TIME flag in milliseconds since the epoch (see the file comment); `now` is for tests. */
export function timeFlag(name: string, text: string, now: number = Date.now()): bigint {
  let ms: number | undefined;
  if (text === 'now') ms = now;
  else if (text.startsWith('+')) {
    const d = parseDuration(text.slice(1));
    if (d !== undefined) ms = now + d;
  } else if (ISO_WITH_ZONE.test(text)) ms = Date.parse(text);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new UsageError(`--${name} must be an ISO 8601 time with a zone (2025-07-01T00:00:00Z), "now" or "+DURATION" (+30s, +2h)`);
  }
  return BigInt(Math.round(ms));
}

function typeFlag(v: string): pb.InterceptType {
  if (v === 'content') return pb.InterceptType.INTERCEPT_TYPE_CONTENT;
  if (v === 'iri-only') return pb.InterceptType.INTERCEPT_TYPE_IRI_ONLY;
  throw new UsageError('--type must be content or iri-only');
}

function stateFlag(v: string): pb.WarrantState {
  const s = { pending: pb.WarrantState.WARRANT_STATE_PENDING, active: pb.WarrantState.WARRANT_STATE_ACTIVE, stopped: pb.WarrantState.WARRANT_STATE_STOPPED, expired: pb.WarrantState.WARRANT_STATE_EXPIRED }[v];
  if (s === undefined) throw new UsageError('--state must be pending, active, stopped or expired');
  return s;
}

function idArg(p: Parsed, synopsis: string): bigint {
  const [id, extra] = p.positionals;
  if (id === undefined) throw new UsageError(`the warrant ID is missing; usage: ${synopsis}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"; usage: ${synopsis}`);
  if (!/^[1-9]\d{0,15}$/.test(id)) throw new UsageError(`"${id.slice(0, 20)}" is not a warrant ID (a number from 1; see lig warrant list)`);
  return BigInt(id);
}

function noPositionals(p: Parsed, synopsis: string): void {
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"; usage: ${synopsis}`);
}

// --- output --------------------------------------------------------------------------------

const stateName = (s: pb.WarrantState): string => {
  try {
    return stateOf(s);
  } catch {
    return 'unknown';
  }
};

const reportModeName = (m: ReportMode): string =>
  Object.keys(REPORT_FLAG).find((k) => REPORT_FLAG[k] === m) ?? 'unknown';

/** An iri-only warrant's reporting mode as --json prints it; null for a content warrant. */
function reportsJson(w: pb.Warrant): { mode: string; intervalSeconds: number | null } | null {
  if (w.reportMode === undefined) return null;
  return { mode: reportModeName(w.reportMode), intervalSeconds: w.summaryIntervalSeconds ?? null };
}

const typeName = (t: pb.InterceptType): string => (t === pb.InterceptType.INTERCEPT_TYPE_CONTENT ? 'content' : t === pb.InterceptType.INTERCEPT_TYPE_IRI_ONLY ? 'iri-only' : 'unknown');

/** A target as the --target flag writes it. */
export function targetName(t: pb.WarrantTarget): string {
  const k = t.kind;
  if (!k) return '?';
  return `${k.$case === 'username' ? 'user' : k.$case}:${k.$case === 'ip' ? k.ip : k.$case === 'mac' ? k.mac : k.$case === 'username' ? k.username : k.email}`;
}

/** The warrant as --json prints it: times as ISO 8601, absent ones null. */
export function warrantJson(w: pb.Warrant): Record<string, unknown> {
  return {
    id: Number(w.id),
    liid: w.liid,
    agency: w.agency,
    country: w.country,
    type: typeName(w.type),
    state: stateName(w.state),
    version: Number(w.version),
    targets: w.targets.map(targetName),
    startTime: timeJson(w.startTimeMs),
    endTime: timeJson(w.endTimeMs),
    compliance: w.compliance ?? null,
    probes: w.probes.length > 0 ? w.probes : null,
    createdAt: timeJson(w.createdAtMs),
    createdBy: w.createdBy,
    activatedAt: timeJson(w.activatedAtMs),
    activatedBy: w.activatedBy || null,
    endedAt: timeJson(w.endedAtMs),
    endedBy: w.endedBy || null,
    endReason: w.endReason || null,
    reports: reportsJson(w),
  };
}

function showLines(w: pb.Warrant): string[] {
  const c = w.compliance;
  const rows: [string, string][] = [
    ['warrant', String(w.id)],
    ['state', `${stateName(w.state)} (version ${w.version})`],
    ['liid', w.liid],
    ['agency', w.agency],
    ['country', w.country],
    ['type', typeName(w.type)],
    ['targets', w.targets.map(targetName).join(', ')],
    ['start', w.startTimeMs === undefined ? 'at activation' : timeText(w.startTimeMs)],
    ['end', timeText(w.endTimeMs)],
    ['probes', w.probes.length > 0 ? w.probes.join(', ') : 'all'],
    ...(w.reportMode === undefined
      ? []
      : [['reports', `${reportModeName(w.reportMode)}, summary interval ${w.summaryIntervalSeconds === undefined ? '?' : formatDuration(w.summaryIntervalSeconds * 1000)}`] as [string, string]]),
    ['order', c?.orderReference ?? ''],
    ['authority', c?.issuingAuthority ?? ''],
    ['officer', c?.presentingOfficer ?? ''],
    ['employee', c?.responsibleEmployee ?? ''],
    ['created', `${timeText(w.createdAtMs)} by ${w.createdBy}`],
  ];
  if (w.activatedAtMs !== undefined) rows.push(['activated', `${timeText(w.activatedAtMs)} by ${w.activatedBy}`]);
  if (w.endedAtMs !== undefined) rows.push(['ended', `${timeText(w.endedAtMs)}${w.endedBy ? ` by ${w.endedBy}` : ' (expired)'}${w.endReason ? `: ${w.endReason}` : ''}`]);
  return rows.map(([k, v]) => `${k.padEnd(10)} ${v}`);
}

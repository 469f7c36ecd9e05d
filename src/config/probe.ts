/**
 * The probe's config file (`lig probe --config probe.yaml`): schema, types and defaults, and
 * the packet source syntax shared with `lig probe --source`. See examples/probe.yaml.
 */
import { resolve } from 'node:path';
import { MAX_FLOWS } from '../probe/app/flow-table';
import { APP_PROTOCOLS } from '../probe/app/index';
import { MAX_MAIL_WATCH_FLOWS } from '../probe/app-stage';
import { MAX_SUMMARY_FLOWS } from '../probe/flow-summary';
import { DEFAULT_RADIUS_ACCOUNTING_PORTS } from '../probe/identity/stage';
import { DEFAULT_MAX_SESSIONS, MAX_SESSIONS_LIMIT } from '../probe/identity/tracker';
import { loadConfigFile, parseConfigText } from './load';
import { Schema, boolean, integer, list, mismatch, object, oneOf, optional, problem, scalar, string, withDefault } from './schema';
import { closest } from './suggest';
import { Bytes, Milliseconds } from './units';
import {
  DEFAULT_LOG_LEVEL,
  Endpoint,
  LOG_LEVELS,
  LogLevel,
  duration,
  filePath,
  hostPort,
  name,
  noPlaintext,
  parseHostPort,
  size,
  tlsFiles,
  tlsSection,
} from './values';

export const DEFAULT_BATCH_MAX_EVENTS = 256;
export const DEFAULT_BATCH_MAX_DELAY: Milliseconds = 50;
/** Batches sent and not yet acknowledged by the mediator. */
export const DEFAULT_BATCH_WINDOW = 8;
export const DEFAULT_SPOOL_BYTES: Bytes = 256 * 2 ** 20;
/** identity.radiusPorts unless told: RADIUS accounting, RFC 2866's port and the older one. */
export const DEFAULT_IDENTITY_RADIUS_PORTS: readonly number[] = DEFAULT_RADIUS_ACCOUNTING_PORTS;
/** identity.maxSessions unless told: every subscriber's open sessions are tracked, up to this many. */
export const DEFAULT_IDENTITY_MAX_SESSIONS = DEFAULT_MAX_SESSIONS;
/** The most identity.maxSessions may be. */
export const MAX_IDENTITY_MAX_SESSIONS = MAX_SESSIONS_LIMIT;
/** The most any applications.*Flows may be. */
export const MAX_APPLICATION_FLOWS = 1_048_576;

/** Where a probe's packets come from. */
export type ProbeSource =
  | { kind: 'pcap'; file: string }
  | { kind: 'interface'; name: string }
  | { kind: 'tzsp'; listen: Endpoint }
  | { kind: 'ccc'; listen: Endpoint };

export const SOURCE_SYNTAX = 'pcap:FILE, if:IFACE, tzsp:ADDR:PORT or ccc:ADDR:PORT';
const SOURCE_KINDS = ['pcap', 'if', 'tzsp', 'ccc'] as const;

/**
 * Parses a source string ("pcap:FILE", "if:IFACE", "tzsp:ADDR:PORT", "ccc:ADDR:PORT").
 * Returns the source, or a sentence saying what is wrong. A relative pcap file is resolved
 * against `baseDir` when given.
 */
export function parseProbeSource(text: string, baseDir?: string): ProbeSource | string {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) {
    const near = closest(kind, SOURCE_KINDS);
    return `unknown source kind "${kind}": expected ${SOURCE_SYNTAX}${near ? ` (did you mean "${near}:"?)` : ''}`;
  }
  if (rest === '') return `"${kind}:" needs ${kind === 'pcap' ? 'a file' : kind === 'if' ? 'an interface name' : 'ADDR:PORT'} after the colon`;
  switch (kind as (typeof SOURCE_KINDS)[number]) {
    case 'pcap':
      if (rest.includes('\0')) return 'the file name cannot contain a NUL character';
      return { kind: 'pcap', file: baseDir === undefined ? rest : resolve(baseDir, rest) };
    case 'if':
      return /^[^\s/:]{1,255}$/.test(rest) ? { kind: 'interface', name: rest } : `"${rest}" is not an interface name`;
    case 'tzsp':
    case 'ccc': {
      const ep = parseHostPort(rest, true);
      return typeof ep === 'string' ? `${kind}: expected ADDR:PORT to listen on: ${ep}` : { kind: kind as 'tzsp' | 'ccc', listen: ep };
    }
  }
}

function source(): Schema<ProbeSource> {
  const expected = `a source: ${SOURCE_SYNTAX}`;
  return scalar(expected, (v, c) => {
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    const r = parseProbeSource(v, c.baseDir);
    return typeof r === 'string' ? problem(r) : r;
  });
}

export interface ProbeConfig {
  name: string;
  mediator: { address: Endpoint; tls: { ca: string; cert: string; key: string; servername?: string } };
  source: ProbeSource;
  batch: {
    /** A batch is sent when it holds this many events... */
    maxEvents: number;
    /** ...or when its oldest event has waited this long. */
    maxDelay: Milliseconds;
    /** Batches in flight without an acknowledgement. */
    window: number;
  };
  /**
   * Identity tracking for username and MAC targets (src/probe/identity): the UDP ports RADIUS
   * Accounting-Requests go to ([] reads none), whether DHCP (67/68) is read, and how many open
   * sessions (every subscriber's) are tracked. Absent: the defaults above, DHCP read.
   */
  identity?: { radiusPorts: number[]; dhcp: boolean; maxSessions: number };
  /**
   * Application analysers (src/probe/app-stage.ts): the protocols read in the targets' flows,
   * how many flows are followed at once (the targets' flows; every subscriber's mail flows while
   * an e-mail target exists; flows summarised for IRI-only tasks), and how the local part of an
   * e-mail target compares ("exact", as RFC 5321 says, or "insensitive"). Absent: all
   * protocols, the defaults.
   */
  applications?: { protocols: string[]; maxFlows: number; mailFlows: number; summaryFlows: number; emailLocalPart: 'exact' | 'insensitive' };
  /** Where unacknowledged batches are kept across reconnects and restarts; absent: the default directory `lig probe` chooses (see cli/probe.ts defaultSpoolDir). */
  spool?: { dir: string; maxBytes: Bytes };
  log: { level: LogLevel };
}

export const probeSchema: Schema<ProbeConfig> = object({
  name: name('a probe name'),
  mediator: object(
    {
      address: hostPort(),
      tls: tlsSection({
        ...tlsFiles(),
        servername: optional(string({ expected: 'the DNS name to expect in the mediator certificate' })),
      }),
    },
    { forbidden: noPlaintext },
  ),
  source: source(),
  batch: withDefault(
    object({
      maxEvents: withDefault(integer({ min: 1, max: 1_000_000 }), DEFAULT_BATCH_MAX_EVENTS),
      maxDelay: withDefault(duration({ min: 1, max: 60_000 }), DEFAULT_BATCH_MAX_DELAY),
      window: withDefault(integer({ min: 1, max: 1024 }), DEFAULT_BATCH_WINDOW),
    }),
    { maxEvents: DEFAULT_BATCH_MAX_EVENTS, maxDelay: DEFAULT_BATCH_MAX_DELAY, window: DEFAULT_BATCH_WINDOW },
  ),
  identity: optional(
    object({
      radiusPorts: withDefault(list(integer({ min: 1, max: 65535 }), { max: 16, unique: { key: String, what: 'the port' } }), [...DEFAULT_IDENTITY_RADIUS_PORTS]),
      dhcp: withDefault(boolean(), true),
      maxSessions: withDefault(integer({ min: 1, max: MAX_IDENTITY_MAX_SESSIONS }), DEFAULT_IDENTITY_MAX_SESSIONS),
    }),
  ),
  applications: optional(
    object({
      protocols: withDefault(list(oneOf(APP_PROTOCOLS), { unique: { key: String, what: 'the protocol' } }), [...APP_PROTOCOLS]),
      maxFlows: withDefault(integer({ min: 1, max: MAX_APPLICATION_FLOWS }), MAX_FLOWS),
      mailFlows: withDefault(integer({ min: 1, max: MAX_APPLICATION_FLOWS }), MAX_MAIL_WATCH_FLOWS),
      summaryFlows: withDefault(integer({ min: 1, max: MAX_APPLICATION_FLOWS }), MAX_SUMMARY_FLOWS),
      emailLocalPart: withDefault(oneOf(['exact', 'insensitive'] as const), 'exact'),
    }),
  ),
  spool: optional(
    object({
      dir: filePath('a directory path'),
      maxBytes: withDefault(size({ min: 2 ** 20 }), DEFAULT_SPOOL_BYTES),
    }),
  ),
  log: withDefault(object({ level: withDefault(oneOf(LOG_LEVELS), DEFAULT_LOG_LEVEL) }), { level: DEFAULT_LOG_LEVEL }),
});

/** Parses and validates probe YAML; throws ConfigSyntaxError or ConfigErrors. */
export function parseProbeConfig(text: string, source?: string, options: { baseDir?: string } = {}): ProbeConfig {
  return parseConfigText(probeSchema, text, source, options.baseDir);
}

/** Reads, parses and validates a probe config file; relative paths are from its directory. */
export function loadProbeConfig(path: string): ProbeConfig {
  return loadConfigFile(probeSchema, path);
}

/**
 * The mediator's config file (`lig mediator --config lig.yaml`): schema, types and defaults.
 * See examples/lig.yaml for an annotated file.
 */
import { loadConfigFile, parseConfigText } from './load';
import {
  Checker,
  Path,
  alsoRaw,
  isMapping,
  Schema,
  boolean,
  formatPath,
  integer,
  list,
  object,
  oneOf,
  optional,
  refine,
  sensitive,
  string,
  variant,
  withDefault,
} from './schema';
import { closest } from './suggest';
import { Target, target, targetKey } from './targets';
import { Bytes, Milliseconds } from './units';
import {
  DEFAULT_LOG_LEVEL,
  Endpoint,
  LOG_LEVELS,
  LogLevel,
  NAME_PATTERN,
  country,
  duration,
  filePath,
  hostPort,
  name,
  noPlaintext,
  size,
  tlsFiles,
  tlsSection,
} from './values';

export const DEFAULT_JOURNAL_BYTES: Bytes = 2 ** 30;
export const DEFAULT_SEGMENT_BYTES: Bytes = 64 * 2 ** 20;
export const DEFAULT_MAX_BATCH_EVENTS = 1024;
/** gRPC's own default receive limit. */
export const DEFAULT_MAX_MESSAGE_BYTES: Bytes = 4 * 2 ** 20;
export const DEFAULT_KEEPALIVE_INTERVAL: Milliseconds = 30_000;
export const DEFAULT_KEEPALIVE_WAIT: Milliseconds = 10_000;
export const DEFAULT_TLS_MIN_VERSION = 'TLSv1.3';
export const DEFAULT_TIMESTAMP_FORMAT = 'microsecond';
/** LI-PS-PDU module version used in lawfulInterceptionIdentifier's domain OID. */
export const DEFAULT_DOMAIN_ID_VERSION = 40;
export const MIN_DOMAIN_ID_VERSION = 17;
export const MAX_DOMAIN_ID_VERSION = 40;
export const DEFAULT_PDU_ACK = false;
/** HI1 notifications (TS 101 671 liActivated/liModified/liDeactivated on HI2) are sent only to agencies that ask. */
export const DEFAULT_HI1_NOTIFICATIONS = false;
export const DEFAULT_ROTATE_BYTES: Bytes = 64 * 2 ** 20;
export const DEFAULT_ROTATE_INTERVAL: Milliseconds = 3_600_000;
/** IRI-only intercepts: how the target's packets are reported unless `reports.mode` says otherwise. */
export const DEFAULT_REPORT_MODE = 'headers';
/** IRI-only intercepts in a summary mode: an open flow is summarised at least this often. */
export const DEFAULT_SUMMARY_INTERVAL: Milliseconds = 60_000;
export const MIN_SUMMARY_INTERVAL: Milliseconds = 1000;
export const MAX_SUMMARY_INTERVAL: Milliseconds = 86_400_000;
/** TS 102 232-1 LawfulInterceptionIdentifier is OCTET STRING (SIZE (1..25)). */
export const MAX_LIID_LENGTH = 25;

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface Listener {
  listen: Endpoint;
  tls: TlsFiles;
}

export interface Limits {
  /** Journal size on disk, all agencies together. */
  journalBytes: Bytes;
  segmentBytes: Bytes;
  /** Most events a probe may send in one batch. */
  maxBatchEvents: number;
  /** Largest gRPC message accepted from a probe. */
  maxMessageBytes: Bytes;
}

interface AgencyCommon {
  id: string;
  country: string;
  /** TS 102 232-1 operatorIdentifier, 1..16 bytes. */
  operatorId: string;
  /** TS 102 232-1 networkElementIdentifier, 1..16 bytes. */
  networkElementId?: string;
  timestampFormat: 'microsecond' | 'generalized';
  domainIdVersion: number;
}

export interface TcpAgency extends AgencyCommon {
  delivery: 'tcp';
  hi2: { address: Endpoint };
  /** Absent for an agency that receives IRI only. */
  hi3?: { address: Endpoint };
  tls: TlsFiles & { servername?: string; minVersion: 'TLSv1.3' | 'TLSv1.2' };
  keepalive: { interval: Milliseconds; wait: Milliseconds };
  /** The agency acknowledges PDUs (TS 102 232-1 PDU acknowledgement). */
  pduAck: boolean;
  /**
   * Send the agency an HI1 notification on HI2 when one of its warrants is activated, modified
   * or deactivated. A loaded config always has it (default DEFAULT_HI1_NOTIFICATIONS); absent means false.
   */
  hi1Notifications?: boolean;
}

export interface FilesAgency extends AgencyCommon {
  delivery: 'files';
  files: { dir: string; rotate: { bytes: Bytes; interval: Milliseconds } };
}

export type Agency = TcpAgency | FilesAgency;

/**
 * How an IRI-only intercept's packets are reported (TS 102 232-3 clause 6.2.5): `headers`, one
 * header report per packet; `summary`, per-flow summary reports (packet and byte counts) at
 * least every `interval` and at the flow's end; `both`.
 */
export type ReportMode = 'headers' | 'summary' | 'both';
/** The reporting modes an IRI-only intercept (or warrant) may have. */
export const REPORT_MODES: readonly ReportMode[] = ['headers', 'summary', 'both'];

export interface InterceptReports {
  mode: ReportMode;
  /** Summary modes: the longest an open flow goes without a summary (whole seconds). */
  interval: Milliseconds;
}

export interface Intercept {
  /** Warrant identifier: never log it. */
  liid: string;
  /** The id of the agency that receives it. */
  agency: string;
  type: 'content' | 'iri-only';
  targets: Target[];
  /** Probes that watch for it; absent means all. */
  probes?: string[];
  /** IRI-only intercepts only; absent: DEFAULT_REPORT_MODE, DEFAULT_SUMMARY_INTERVAL. */
  reports?: InterceptReports;
  /**
   * Never from the config file: set by the mediator for a warrant in force. Packets captured
   * outside [from, until) are not intercepted, even in the instant before the warrant's
   * schedule withdraws the task at its end time.
   */
  window?: { from?: Date; until: Date };
}

export interface MediatorConfig {
  dataDir: string;
  ingest: Listener;
  admin?: Listener;
  limits: Limits;
  agencies: Agency[];
  intercepts: Intercept[];
  log: { level: LogLevel };
}

const listener = () =>
  object({ listen: hostPort({ portZero: true }), tls: tlsSection(tlsFiles()) }, { forbidden: noPlaintext });

const limits = object({
  journalBytes: withDefault(size({ min: 2 ** 20 }), DEFAULT_JOURNAL_BYTES),
  segmentBytes: withDefault(size({ min: 64 * 2 ** 10 }), DEFAULT_SEGMENT_BYTES),
  maxBatchEvents: withDefault(integer({ min: 1, max: 1_000_000 }), DEFAULT_MAX_BATCH_EVENTS),
  maxMessageBytes: withDefault(size({ min: 1024, max: 2 ** 31 - 1 }), DEFAULT_MAX_MESSAGE_BYTES),
});

const idOctets = (max: number) => string({ max, bytes: true, expected: `a string of 1 to ${max} bytes` });

const agency = variant(
  'delivery',
  {
    id: name('an agency id'),
    country: country(),
    operatorId: idOctets(16),
    networkElementId: optional(idOctets(16)),
    timestampFormat: withDefault(oneOf(['microsecond', 'generalized']), DEFAULT_TIMESTAMP_FORMAT),
    domainIdVersion: withDefault(integer({ min: MIN_DOMAIN_ID_VERSION, max: MAX_DOMAIN_ID_VERSION }), DEFAULT_DOMAIN_ID_VERSION),
  },
  {
    tcp: {
      hi2: object({ address: hostPort() }),
      hi3: optional(object({ address: hostPort() })),
      tls: tlsSection({
        ...tlsFiles(),
        servername: optional(string({ expected: 'the DNS name to expect in the agency certificate' })),
        minVersion: withDefault(oneOf(['TLSv1.3', 'TLSv1.2']), DEFAULT_TLS_MIN_VERSION),
      }),
      keepalive: withDefault(
        object({
          interval: withDefault(duration({ min: 1000 }), DEFAULT_KEEPALIVE_INTERVAL),
          wait: withDefault(duration({ min: 100 }), DEFAULT_KEEPALIVE_WAIT),
        }),
        { interval: DEFAULT_KEEPALIVE_INTERVAL, wait: DEFAULT_KEEPALIVE_WAIT },
      ),
      pduAck: withDefault(boolean(), DEFAULT_PDU_ACK),
      hi1Notifications: withDefault(boolean(), DEFAULT_HI1_NOTIFICATIONS),
    },
    files: {
      files: object({
        dir: filePath('a directory path'),
        rotate: withDefault(
          object({
            bytes: withDefault(size({ min: 2 ** 20 }), DEFAULT_ROTATE_BYTES),
            interval: withDefault(duration({ min: 1000 }), DEFAULT_ROTATE_INTERVAL),
          }),
          { bytes: DEFAULT_ROTATE_BYTES, interval: DEFAULT_ROTATE_INTERVAL },
        ),
      }),
    },
  },
  { forbidden: noPlaintext },
);

const reports = object({
  mode: withDefault(oneOf(REPORT_MODES), DEFAULT_REPORT_MODE),
  interval: withDefault(
    refine(duration({ min: MIN_SUMMARY_INTERVAL, max: MAX_SUMMARY_INTERVAL }), (ms, path, ctx) => {
      if (ms % 1000 !== 0) ctx.report(path, 'must be a whole number of seconds, e.g. "90s" or "5m"');
    }),
    DEFAULT_SUMMARY_INTERVAL,
  ),
});

const intercept = object({
  liid: sensitive(
    string({ max: MAX_LIID_LENGTH, pattern: /^[\x21-\x7e]+$/, expected: `a LIID of 1 to ${MAX_LIID_LENGTH} printable ASCII characters` }),
  ),
  agency: string({ expected: 'the id of an agency' }),
  type: oneOf(['content', 'iri-only']),
  targets: sensitive(list(target(), { min: 1, unique: { key: targetKey, what: 'this target' } })),
  probes: optional(list(name('a probe name'), { min: 1, unique: { key: (p) => p, what: 'this probe name' } })),
  reports: optional(reports),
});

/** Rules between fields of a valid config: sizes that must nest, endpoints, hi3 for content. */
function crossCheck(c: MediatorConfig, _path: Path, ctx: Checker): void {
  if (c.limits.segmentBytes > c.limits.journalBytes) {
    ctx.report(['limits', 'segmentBytes'], 'must not be larger than limits.journalBytes');
  }
  if (c.limits.maxMessageBytes > c.limits.segmentBytes) {
    ctx.report(['limits', 'maxMessageBytes'], 'must not be larger than limits.segmentBytes');
  }
  const { admin, ingest } = c;
  if (admin && admin.listen.port !== 0 && admin.listen.port === ingest.listen.port && admin.listen.host === ingest.listen.host) {
    ctx.report(['admin', 'listen'], 'is the same address as ingest.listen');
  }
  const byId = new Map(c.agencies.map((a) => [a.id, a]));
  c.intercepts.forEach((icpt, i) => {
    const a = byId.get(icpt.agency);
    if (a && icpt.type === 'content' && a.delivery === 'tcp' && !a.hi3) {
      ctx.report(['intercepts', i, 'type'], `is "content" but agency "${a.id}" has no hi3 address to receive content`);
    }
    if (icpt.reports && icpt.type !== 'iri-only') {
      ctx.report(['intercepts', i, 'reports'], 'applies to "iri-only" intercepts only (a content intercept delivers every packet as CC): remove it or make the intercept iri-only');
    }
  });
}

const str = (v: unknown, k: string): string | undefined =>
  isMapping(v) && typeof v[k] === 'string' ? (v[k] as string) : undefined;

/**
 * References and uniqueness, checked on the raw input so they are reported even when other
 * fields are wrong: agency ids are unique, each intercept names an agency, an agency's
 * LIIDs are unique. (LIIDs are never quoted.)
 */
function checkReferences(raw: unknown, _path: Path, ctx: Checker): void {
  if (!isMapping(raw)) return;
  const agencies = Array.isArray(raw.agencies) ? raw.agencies : [];
  const ids = new Map<string, number>();
  agencies.forEach((a, i) => {
    const id = str(a, 'id');
    if (id === undefined) return;
    const first = ids.get(id);
    if (first !== undefined) ctx.report(['agencies', i, 'id'], `repeats the id of ${formatPath(['agencies', first])}`);
    else ids.set(id, i);
  });
  // With a missing or invalid agency id, "names no agency" could be wrong: say nothing then.
  const allNamed = agencies.length > 0 && agencies.every((a) => NAME_PATTERN.test(str(a, 'id') ?? ''));
  const seen = new Map<string, number>();
  (Array.isArray(raw.intercepts) ? raw.intercepts : []).forEach((icpt, i) => {
    const agency = str(icpt, 'agency');
    if (agency === undefined) return;
    if (allNamed && !ids.has(agency)) {
      const near = closest(agency, ids.keys());
      const hint = near ? `did you mean "${near}"?` : `expected one of: ${[...ids.keys()].join(', ')}`;
      ctx.report(['intercepts', i, 'agency'], `names no agency: ${hint}`);
    }
    const liid = str(icpt, 'liid');
    if (liid === undefined) return;
    const key = `${agency}\0${liid}`;
    const first = seen.get(key);
    if (first !== undefined) ctx.report(['intercepts', i, 'liid'], `repeats the LIID of ${formatPath(['intercepts', first])} for the same agency`);
    else seen.set(key, i);
  });
}

const shape = object({
  dataDir: filePath('a directory path'),
  ingest: listener(),
  admin: optional(listener()),
  limits: withDefault(limits, {
    journalBytes: DEFAULT_JOURNAL_BYTES,
    segmentBytes: DEFAULT_SEGMENT_BYTES,
    maxBatchEvents: DEFAULT_MAX_BATCH_EVENTS,
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  }),
  agencies: list(agency, { min: 1 }),
  intercepts: withDefault(list(intercept, {}), []),
  log: withDefault(object({ level: withDefault(oneOf(LOG_LEVELS), DEFAULT_LOG_LEVEL) }), { level: DEFAULT_LOG_LEVEL }),
});

export const mediatorSchema: Schema<MediatorConfig> = alsoRaw(refine(shape, crossCheck), checkReferences);

export interface ParseOptions {
  /** Resolve relative paths against this directory (loadMediatorConfig uses the file's). */
  baseDir?: string;
}

/**
 * Parses and validates YAML text. Throws ConfigSyntaxError for bad YAML and ConfigErrors
 * (every bad field, each a ConfigError with its path) for a bad config.
 * `source` names the text in messages (usually the file name).
 */
export function parseMediatorConfig(text: string, source?: string, options: ParseOptions = {}): MediatorConfig {
  return parseConfigText(mediatorSchema, text, source, options.baseDir);
}

/** Reads, parses and validates a mediator config file; relative paths are from its directory. */
export function loadMediatorConfig(path: string): MediatorConfig {
  return loadConfigFile(mediatorSchema, path);
}

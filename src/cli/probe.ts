/**
 * `lig probe --config probe.yaml`, or with flags: `lig probe --mediator HOST:PORT --source SRC
 * --ca CA.pem --cert probe.pem --key probe-key.pem [--servername NAME] [--spool DIR]
 * [--rate max|capture] [--log-level LEVEL]`: the capture probe (src/probe/agent.ts).
 *
 * The probe's name is the CN of its certificate: that is who the mediator knows it as (with
 * --config, the file's `name` must be the same). The spool (unacknowledged batches, kept
 * across restarts) is --spool or the config's spool.dir; without either it is
 * $XDG_STATE_HOME/lig/probe-spool/NAME, else ~/.local/state/lig/probe-spool/NAME, else
 * ./lig-probe-spool/NAME (see defaultSpoolDir).
 *
 * Prints one line about the probe, `tzsp listening on ADDR:PORT` (or ccc) for a UDP source,
 * and at the end the status line and how it ended. A pcap source is a complete replay: the
 * command exits 0 once every matching packet is acknowledged by the mediator. SIGINT or
 * SIGTERM stops capture, flushes and waits a bounded time for acknowledgements (what is not
 * acknowledged stays in the spool for the next start), then exits 0.
 *
 * `lig probe list [--json]` is another thing: the probes the mediator knows, through its
 * admin API (see probe-list below and admin-flags.ts).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_LOG_LEVEL, DEFAULT_SPOOL_BYTES, LOG_LEVELS, loadProbeConfig, parseHostPort, type LogLevel } from '../config';
import { SOURCE_SYNTAX, parseProbeSource, type ProbeConfig } from '../config/probe';
import { ConfigError, ProbeError, UsageError } from '../errors';
import { identityOf, loadTlsMaterial } from '../pki';
import { ProbeAgent, formatAgentStatus, type AgentEnd } from '../probe/agent';
import type { ProbeLogLevel } from '../probe/client';
import { FlagSpec, need, parseArgs, parseCommandFlags, str } from './args';
import type { Command, Io } from './command';
import type { Probe } from '../gen/lig/v1/admin';
import { ADMIN_FLAGS, withAdminClient } from './admin-flags';
import { table, timeJson, timeText } from './table';

/** Flags that say what --config says, so they cannot be combined with it. */
const CONNECTION_FLAGS = ['mediator', 'source', 'ca', 'cert', 'key', 'servername', 'spool'] as const;

const FLAGS: Record<string, FlagSpec> = {
  config: { value: true, help: 'the probe config file (YAML; see examples/probe.yaml); or the flags below' },
  mediator: { value: true, help: 'the mediator\'s ingest address, HOST:PORT' },
  source: { value: true, help: `where packets come from: ${SOURCE_SYNTAX}` },
  ca: { value: true, help: 'the CA that issued the mediator\'s certificate (PEM)' },
  cert: { value: true, help: 'this probe\'s certificate (PEM); its CN is the probe\'s name' },
  key: { value: true, help: 'this probe\'s private key (PEM)' },
  servername: { value: true, help: 'the name expected in the mediator\'s certificate (default: the HOST dialled)' },
  spool: { value: true, help: 'directory for unacknowledged batches (default: $XDG_STATE_HOME/lig/probe-spool/NAME or ~/.local/state/lig/probe-spool/NAME)' },
  rate: { value: true, help: 'pcap replay pace: max (as fast as the pipeline goes; default) or capture (the capture\'s own timing)' },
  'log-level': { value: true, help: `${LOG_LEVELS.join(', ')} (default: the config's, else ${DEFAULT_LOG_LEVEL})` },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig probe --config probe.yaml | --mediator HOST:PORT --source SRC --ca CA.pem --cert probe.pem --key probe-key.pem [--spool DIR] [--rate max|capture]';

/** The spool directory used when none is configured (see the file comment). */
export function defaultSpoolDir(name: string, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir(), cwd: string = process.cwd()): string {
  const state = env.XDG_STATE_HOME;
  if (state && path.isAbsolute(state)) return path.join(state, 'lig', 'probe-spool', name);
  if (home) return path.join(home, '.local', 'state', 'lig', 'probe-spool', name);
  return path.join(cwd, 'lig-probe-spool', name);
}

/** The config the flags describe (everything --config would give). */
function configFromFlags(p: ReturnType<typeof parseArgs>): Omit<ProbeConfig, 'name' | 'batch' | 'log'> & { spool?: { dir: string; maxBytes: number } } {
  const mediator = parseHostPort(need(p, 'mediator'));
  if (typeof mediator === 'string') throw new UsageError(`--mediator: ${mediator}`);
  const source = parseProbeSource(need(p, 'source'));
  if (typeof source === 'string') throw new UsageError(`--source: ${source}`);
  const servername = str(p, 'servername');
  const spool = str(p, 'spool');
  return {
    mediator: { address: mediator, tls: { ca: need(p, 'ca'), cert: need(p, 'cert'), key: need(p, 'key'), ...(servername ? { servername } : {}) } },
    source,
    ...(spool ? { spool: { dir: path.resolve(spool), maxBytes: DEFAULT_SPOOL_BYTES } } : {}),
  };
}

function rateOf(v: string | undefined): 'max' | 'capture' {
  if (v === undefined || v === 'max' || v === 'capture') return v ?? 'max';
  throw new UsageError(`--rate must be "max" or "capture", got "${v}"`);
}

function levelOf(v: string | undefined, fallback: LogLevel): LogLevel {
  if (v === undefined) return fallback;
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
}

/** "lig 0.1.0", from the package.json above this file (src/cli or dist/src/cli); "lig" if none is found. */
function softwareVersion(): string {
  for (let dir = __dirname, k = 0; k < 5; k++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lig' && pkg.version) return `lig ${pkg.version}`;
    } catch {
      // not ours: look further up
    }
  }
  return 'lig';
}

const hostPortText = (h: { host: string; port: number }) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;

export const command: Command = {
  summary: 'capture probe: match targets in a capture or live traffic, stream them to the mediator; `list`: the probes the mediator knows',
  run: async (argv, io) => {
    if (argv[0] === 'list') return listProbes(argv.slice(1), io);
    const p = parseCommandFlags(argv, FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const configFile = str(p, 'config');
    let file: ProbeConfig | undefined;
    if (configFile !== undefined) {
      const both = CONNECTION_FLAGS.find((f) => p.flags[f] !== undefined);
      if (both) throw new UsageError(`--${both} cannot be combined with --config: set it in the config file`);
      file = loadProbeConfig(configFile);
    } else if (p.flags.mediator === undefined && p.flags.source === undefined) {
      throw new UsageError(`give --config, or --mediator and --source; usage: ${SYNOPSIS}`);
    }
    const cfg = file ?? configFromFlags(p);
    const rate = rateOf(str(p, 'rate'));
    const level = levelOf(str(p, 'log-level'), file?.log.level ?? DEFAULT_LOG_LEVEL);
    const shown = LOG_LEVELS.indexOf(level);
    const log = (l: ProbeLogLevel, message: string) => {
      if (LOG_LEVELS.indexOf(l) <= shown) io.err(`lig probe: ${l}: ${message}`);
    };

    const { servername, ...paths } = cfg.mediator.tls;
    const tls = loadTlsMaterial(paths);
    const id = identityOf(tls.leaf);
    if (id.role !== 'probe') throw new ProbeError('LIG_ERR_PROBE_IDENTITY', `${paths.cert} is a ${id.role} certificate, not a probe's`);
    if (file && file.name !== id.name) {
      throw new ConfigError('name', `is "${file.name}" but the certificate ${paths.cert} names the probe "${id.name}": the mediator knows a probe by its certificate (LIG_ERR_PROBE_IDENTITY)`);
    }
    const spool = cfg.spool ?? { dir: defaultSpoolDir(id.name), maxBytes: DEFAULT_SPOOL_BYTES };

    const agent = await ProbeAgent.start({
      source: cfg.source,
      mediator: { address: cfg.mediator.address, tls: { ...tls, ...(servername ? { servername } : {}) } },
      spool: { dir: spool.dir, maxBytes: spool.maxBytes },
      batch: file ? { maxEvents: file.batch.maxEvents, maxDelay: file.batch.maxDelay, window: file.batch.window } : undefined,
      sourceOptions: { rate },
      identity: file?.identity,
      applications: file?.applications,
      softwareVersion: softwareVersion(),
      log,
    });
    io.out(`probe ${id.name}: ${agent.sourceKind} source, mediator ${hostPortText(cfg.mediator.address)}, spool ${spool.dir}`);
    agent.capturing().then(
      (src) => {
        if ('address' in src && typeof src.address === 'function') io.out(`${src.kind} listening on ${hostPortText((src.address as () => { host: string; port: number })())}`);
      },
      () => undefined,
    );

    const stop = () => void agent.stop();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let end: AgentEnd;
    try {
      end = await agent.done;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    io.out(formatAgentStatus(agent.stats()));
    if (end.reason === 'ended') io.out(end.drained ? 'replay complete: every batch acknowledged' : `replay stopped: ${end.unackedBatches} batch(es) kept in the spool`);
    else io.out(end.drained ? 'probe stopped: every batch acknowledged' : `probe stopped: ${end.unackedBatches} batch(es) kept in the spool`);
    return 0;
  },
};

// --- lig probe list ------------------------------------------------------------------------

const LIST_FLAGS: Record<string, FlagSpec> = {
  ...ADMIN_FLAGS,
  json: { help: 'print JSON (for scripts) instead of a table' },
  help: { help: 'show this help' },
};

const LIST_SYNOPSIS = 'lig probe list [--json] [--admin HOST:PORT] (--certs DIR [--name NAME] | --ca CA --cert CERT --key KEY)';

/** `lig probe list`: every probe seen since the mediator started, connected or not, with its last batch. */
async function listProbes(argv: string[], io: Io): Promise<number> {
  const p = parseCommandFlags(argv, LIST_FLAGS, LIST_SYNOPSIS, io.out);
  if (!p) return 0;
  const probes = await withAdminClient(p, (c) => c.listProbes());
  if (p.flags.json === true) {
    io.out(JSON.stringify(probes.map(probeJson), null, 2));
    return 0;
  }
  if (probes.length === 0) {
    io.out('no probe has connected since the mediator started');
    return 0;
  }
  const rows = probes.map((x) => [
    x.name,
    x.connected ? 'yes' : 'no',
    x.sourceKind || '-',
    x.softwareVersion || '-',
    timeText(x.lastBatchMs),
    String(x.batchesAccepted),
    String(x.queued),
    x.lastErrorCode || '-',
  ]);
  for (const line of table(['PROBE', 'CONNECTED', 'SOURCE', 'VERSION', 'LAST BATCH', 'BATCHES', 'QUEUED', 'LAST ERROR'], rows)) io.out(line);
  return 0;
}

function probeJson(x: Probe): Record<string, unknown> {
  return {
    name: x.name,
    connected: x.connected,
    sourceKind: x.sourceKind,
    softwareVersion: x.softwareVersion,
    lastBatch: timeJson(x.lastBatchMs),
    since: timeJson(x.sinceMs),
    batchesAccepted: Number(x.batchesAccepted),
    accepting: Number(x.accepting),
    queued: Number(x.queued),
    peer: x.peer,
    lastError: x.lastErrorCode ? { code: x.lastErrorCode, message: x.lastErrorMessage } : null,
  };
}

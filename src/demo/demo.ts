/**
 * `lig demo`: the whole chain on loopback, on the bundled capture. A LEMF and a mediator
 * (chain.ts), then a probe agent replaying examples/demo.pcap as fast as it goes (the agent
 * `lig probe` runs); once the probe has every batch acknowledged and the LEMF has confirmed
 * every journaled record, everything is stopped in order (probe, mediator, LEMF) and what
 * the agency received is read back from its files (report.ts).
 *
 * Certificates, the mediator's journals and the probe's spool live in a private temporary
 * directory, removed at the end; only the LEMF's output stays, in `out`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DemoError, isLigError } from '../errors';
import { CC_DIR, RAW_FILES, RECORDS_FILE, STATE_FILE, SUMMARY_FILE } from '../lemf';
import { ProbeAgent } from '../probe/agent';
import { type ChainLog, DEMO_PROBE, closeBackend, probeTls, startBackend, whenDelivered } from './chain';
import { type DemoResult, readReceived } from './report';

export type { DemoResult };

/** The subscriber under interception in the bundled capture (see scripts/make-demo-capture.py). */
export const DEMO_TARGET = '10.20.0.23';
/** The demo warrant's LIID: made up for the demo, like everything in the capture. */
export const DEMO_LIID = 'LIG-DEMO-0001';
export const DEFAULT_DEMO_OUT = 'demo-out';
/** The bundled capture, relative to the package root. */
export const DEMO_CAPTURE = path.join('examples', 'demo.pcap');
/** Events per probe batch: small, so that even the bundled capture goes in several acknowledged batches. */
export const DEMO_BATCH_EVENTS = 32;
/** Bound on the whole run (the bundled capture takes about a second on a small machine). */
export const DEMO_TIMEOUT_MS = 120_000;

export interface DemoOptions {
  /** Where the LEMF writes (its earlier output there is replaced). */
  out: string;
  /** The capture to replay (default: the bundled one) and its target. */
  capture?: string;
  target?: string;
  log?: ChainLog;
  timeoutMs?: number;
}


/** The bundled capture: examples/demo.pcap under the package root (found from this file, in src/ or dist/src/). */
export function bundledCapture(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, DEMO_CAPTURE);
    if (path.dirname(dir) === dir) return path.resolve(DEMO_CAPTURE);
  }
}

/** Makes `out` ready: created if absent; a previous run's LEMF output removed (nothing else is touched). */
export function prepareOut(out: string): void {
  try {
    if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new DemoError('LIG_ERR_DEMO_OUTPUT', `${out} is not a directory`);
    for (const name of [RAW_FILES.hi2, RAW_FILES.hi3, RECORDS_FILE, STATE_FILE, SUMMARY_FILE, CC_DIR]) {
      fs.rmSync(path.join(out, name), { recursive: true, force: true });
    }
    fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  } catch (e) {
    if (isLigError(e)) throw e;
    throw new DemoError('LIG_ERR_DEMO_OUTPUT', `${out}: cannot use it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEMO_TIMEOUT_MS;
  const capture = opts.capture ?? bundledCapture();
  const target = opts.target ?? DEMO_TARGET;
  const log: ChainLog = opts.log ?? (() => undefined);
  try {
    fs.accessSync(capture, fs.constants.R_OK);
  } catch (e) {
    throw new DemoError('LIG_ERR_DEMO_CAPTURE', `${capture}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  prepareOut(opts.out);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-demo-'));
  try {
    const backend = await startBackend({ work, out: opts.out, liid: DEMO_LIID, targets: [target], log });
    let agent: ProbeAgent | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      agent = await ProbeAgent.start({
        source: { kind: 'pcap', file: capture },
        mediator: { address: backend.ingest, tls: probeTls(backend.pki, DEMO_PROBE) },
        spool: { dir: path.join(work, 'spool'), maxBytes: 64 * 2 ** 20 },
        batch: { maxEvents: DEMO_BATCH_EVENTS },
        sourceOptions: { rate: 'max' },
        statusIntervalMs: 0,
        backoff: { initialMs: 50, maxMs: 1_000 },
        log: (level, message) => log('probe', level, message),
      });
      const a = agent;
      // A replay ends by itself once every batch is acknowledged; past the deadline it is stopped.
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const s = a.stats();
          reject(new DemoError('LIG_ERR_DEMO_INCOMPLETE', `the probe did not finish within ${timeoutMs} ms (${s.state}: ${s.eventsSubmitted} events submitted, ${s.unackedBatches} batches unacknowledged, mediator ${s.connected ? 'connected' : 'not connected'})`));
        }, timeoutMs);
      });
      const probeEnd = await Promise.race([agent.done, late]);
      if (!probeEnd.drained) throw new DemoError('LIG_ERR_DEMO_INCOMPLETE', `the probe ended with ${probeEnd.unackedBatches} batches unacknowledged`);
      const delivery = await whenDelivered(backend.mediator, Math.max(1, timeoutMs - (Date.now() - started)));
      const probe = agent.stats();
      agent = undefined;
      const lemf = await closeBackend(backend);
      return { out: opts.out, capture, target, liid: DEMO_LIID, probe, probeEnd, delivery, lemf, received: readReceived(opts.out), elapsedMs: Date.now() - started };
    } catch (e) {
      await agent?.stop({ drainMs: 0 }).catch(() => undefined);
      await closeBackend(backend).catch(() => undefined);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The back end of `lig demo` (and of the end-to-end benchmark): certificates made on the
 * spot, a reference LEMF on 127.0.0.1 (HI2 and HI3 on ports the system chooses) and a
 * mediator (gRPC ingest on 127.0.0.1, one agency delivering to that LEMF over mutual TLS, one
 * content intercept), in this process, each on its own sockets: the same classes `lig lemf`
 * and `lig mediator` run. The mediator's config goes through the real loader.
 *
 * whenDelivered() is how the demo knows the agency has everything: every journal's last
 * record is confirmed by the LEMF (which confirms only after its files are synced).
 */
import * as path from 'node:path';
import { parseMediatorConfig } from '../config';
import { DemoError, isLigError } from '../errors';
import { Lemf, formatAddress, type Summary } from '../lemf';
import { Mediator } from '../mediation/mediator';
import { makeTestPki, type PemPaths, type TestPki } from '../pki';

/** The agency and probe names the demo uses (in the certificates and the config). */
export const DEMO_AGENCY = 'demo-lea';
export const DEMO_PROBE = 'demo-probe';
/** How often whenDelivered() looks at the mediator's journals and links. */
export const DELIVERY_POLL_MS = 20;
/** Keep-alive period of the demo agency: short, so an idle HI2 link shows answered keep-alives. */
export const DEMO_KEEPALIVE_MS = 1_000;

export type Component = 'lemf' | 'mediator' | 'probe';
/** Where the components report; their messages never carry LIIDs, targets or key material. */
export type ChainLog = (component: Component, level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

export interface BackendOptions {
  /** Private working directory: certs/, mediator/ (journals, task ids, CINs). */
  work: string;
  /** The LEMF's output directory. */
  out: string;
  liid: string;
  /** The intercept's targets: addresses or prefixes. */
  targets: readonly string[];
  log?: ChainLog;
  /** Probe certificate names to make (default [DEMO_PROBE]). */
  probes?: string[];
  /** Mediator limits.journalBytes (default 256MiB). */
  journalBytes?: string;
}

export interface Backend {
  pki: TestPki;
  lemf: Lemf;
  mediator: Mediator;
  /** Where the mediator takes probes. */
  ingest: { host: string; port: number };
}

/** The TLS settings of a probe called `name` (certificate made by startBackend). */
export function probeTls(pki: TestPki, name = DEMO_PROBE): PemPaths & { ca: string; servername: string } {
  const leaf = pki.probes[name];
  if (!leaf) throw new DemoError('LIG_ERR_DEMO_INCOMPLETE', `no certificate was made for probe "${name}"`);
  return { ca: pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' };
}

/** The mediator config: ingest on 127.0.0.1:0, one tcp agency at `lemf`, one content intercept. */
export function mediatorYaml(pki: TestPki, lemf: { hi2: string; hi3: string }, o: { dataDir: string; liid: string; targets: readonly string[]; journalBytes?: string }): string {
  const q = JSON.stringify;
  const tls = `{ ca: ${q(pki.ca)}, cert: ${q(pki.mediator.cert)}, key: ${q(pki.mediator.key)} }`;
  return `
dataDir: ${q(o.dataDir)}
ingest:
  listen: 127.0.0.1:0
  tls: ${tls}
limits: { journalBytes: ${o.journalBytes ?? '256MiB'}, segmentBytes: 4MiB }
agencies:
  - id: ${DEMO_AGENCY}
    country: DE
    delivery: tcp
    operatorId: LIG-DEMO
    networkElementId: demo-mediator
    hi2: { address: ${q(lemf.hi2)} }
    hi3: { address: ${q(lemf.hi3)} }
    tls: { ca: ${q(pki.ca)}, cert: ${q(pki.mediator.cert)}, key: ${q(pki.mediator.key)}, servername: localhost }
    keepalive: { interval: ${DEMO_KEEPALIVE_MS}ms, wait: 10s }
intercepts:
  - liid: ${q(o.liid)}
    agency: ${DEMO_AGENCY}
    type: content
    targets: [${o.targets.map((t) => `{ ip: ${q(t)} }`).join(', ')}]
log: { level: warn }
`;
}

/** Makes the certificates, starts the LEMF, then the mediator pointing at it. */
export async function startBackend(o: BackendOptions): Promise<Backend> {
  const log: ChainLog = o.log ?? (() => undefined);
  const pki = await makeTestPki(path.join(o.work, 'certs'), { probes: o.probes ?? [DEMO_PROBE] });
  const lemf = await Lemf.start({
    hi2: '127.0.0.1:0',
    hi3: '127.0.0.1:0',
    out: o.out,
    ca: pki.ca,
    cert: pki.lemf.cert,
    key: pki.lemf.key,
    log: (line) => log('lemf', 'info', line),
  });
  lemf.on('error', (e: unknown) => log('lemf', 'error', isLigError(e) ? `${e.message} [${e.code}]` : String(e)));
  try {
    const yaml = mediatorYaml(pki, { hi2: formatAddress(lemf.addresses.hi2), hi3: formatAddress(lemf.addresses.hi3) }, {
      dataDir: path.join(o.work, 'mediator'),
      liid: o.liid,
      targets: o.targets,
      journalBytes: o.journalBytes,
    });
    const config = parseMediatorConfig(yaml, 'lig demo (mediator config)');
    const mediator = await Mediator.start(config, {
      log: (level, message) => log('mediator', level, message),
      deliveryTuning: { backoffInitialMs: 50, backoffMaxMs: 1_000 },
    });
    return { pki, lemf, mediator, ingest: mediator.ingestAddress! };
  } catch (e) {
    await lemf.close().catch(() => undefined);
    throw e;
  }
}

/** Closes the mediator (journals flushed), then the LEMF; returns the LEMF's summary. */
export async function closeBackend(b: Backend): Promise<Summary> {
  let failure: unknown;
  await b.mediator.close().catch((e: unknown) => {
    failure = e;
  });
  // the LEMF is closed even when the mediator's close failed, so its files are complete
  const summary = await b.lemf.close();
  if (failure !== undefined) throw failure;
  return summary;
}

/** What the mediator's journals and links say about delivery to the agency. */
export interface DeliveryProgress {
  /** Records journaled for the agency, per interface. */
  journaled: Record<'hi2' | 'hi3', bigint>;
  /** The last of them the LEMF confirmed. */
  confirmed: Record<'hi2' | 'hi3', bigint>;
  complete: boolean;
  /** The links' last errors (codes and messages; no LIIDs). */
  lastErrors: string[];
}

export function deliveryProgress(mediator: Mediator): DeliveryProgress {
  const journaled = { hi2: 0n, hi3: 0n };
  const confirmed = { hi2: 0n, hi3: 0n };
  const lastErrors: string[] = [];
  let complete = true;
  const agency = mediator.status().agencies.find((a) => a.id === DEMO_AGENCY);
  for (const hi of ['hi2', 'hi3'] as const) {
    const j = mediator.journal(DEMO_AGENCY, hi);
    const link = agency?.links?.find((l) => l.hi === hi);
    if (!j || !link) continue;
    journaled[hi] = j.next - 1n;
    confirmed[hi] = link.lastConfirmed;
    if (j.confirmed !== journaled[hi] || link.lastConfirmed !== journaled[hi]) complete = false;
    if (link.lastError) lastErrors.push(`${hi}: ${link.lastError.message} [${link.lastError.code}]`);
  }
  return { journaled, confirmed, complete, lastErrors };
}

/**
 * Resolves once the LEMF has confirmed every record the mediator has journaled for the demo
 * agency (call it after the probe's batches are all acknowledged: then nothing more comes).
 * Rejects with LIG_ERR_DEMO_INCOMPLETE after `timeoutMs`, saying how far delivery got.
 */
export async function whenDelivered(mediator: Mediator, timeoutMs: number): Promise<DeliveryProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = deliveryProgress(mediator);
    if (p.complete) return p;
    if (Date.now() >= deadline) {
      const where = (['hi2', 'hi3'] as const).map((hi) => `${hi} ${p.confirmed[hi]} of ${p.journaled[hi]} confirmed`).join(', ');
      const why = p.lastErrors.length > 0 ? `; last errors: ${p.lastErrors.join('; ')}` : '';
      throw new DemoError('LIG_ERR_DEMO_INCOMPLETE', `delivery to the LEMF did not complete within ${timeoutMs} ms (${where})${why}`);
    }
    await new Promise((r) => setTimeout(r, DELIVERY_POLL_MS));
  }
}

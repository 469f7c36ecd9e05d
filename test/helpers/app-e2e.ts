/**
 * Shared by the application end-to-end test (issue 6's must-show): the scapy-built capture of
 * test/fixtures/app_capture.py (web, HTTPS, DNS, SMTP, XMPP and BitTorrent of a target, of
 * another subscriber, and a non-target mailing a watched address) with what its JSON says of
 * every frame and application event; the whole chain run as a user runs it (`lig lemf` per
 * agency, `lig mediator --config`, `lig probe --source pcap:`), waited on through `lig agency
 * list`, never on time; and a search of every byte a LEMF stored for byte runs it must not
 * hold (or, run on a content order's output, must hold: the same search, so it can fail).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type LemfLine, ipOf, readClassicPcap, readLemfLines } from './identity-e2e';
import { type LigProcess, lig, lineMatching, lines, stop } from './lig-process';
import { SYSTEM_PYTHON } from './scapy';
import { REPO_ROOT } from './shared';

export const APP_CAPTURE_SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'app_capture.py');

export type Owner = 'target' | 'other' | 'sender';

/** One frame as the capture's JSON lists it. */
export interface AppFrame {
  timeUs: number;
  owner: Owner;
  /** The IP packet, hex. */
  ip: string;
  /** IP and transport headers, as scapy built them. */
  headerLength: number;
  /** [IP protocol, source, source port, destination, destination port]. */
  flow: [number, string, number, string, number];
  flags: number;
}

/** One application event the capture's JSON says an analyser should report. */
export interface AppFact {
  timeUs: number;
  owner: Owner;
  protocol: string;
  /** The analyser's fields plus the flow's (client, clientPort, server, serverPort, transport). */
  fields: Record<string, string>;
  /** The names of the fields that are content. */
  contentFields: string[];
  /** Mail: the message as sent (dot-unstuffed), hex. */
  content: string | null;
  /** Sent by or to the watched address. */
  watched: boolean;
}

export interface AppCapture {
  pcap: string;
  subscribers: Record<Owner, string>;
  watched: string;
  frames: AppFrame[];
  events: AppFact[];
}

/** Runs the fixture script into `dir`, reads its JSON and checks it against the pcap written. The caller checks requireScapy first. */
export function buildAppCapture(dir: string): AppCapture {
  fs.mkdirSync(dir, { recursive: true });
  const pcap = path.join(dir, 'app.pcap');
  const json = path.join(dir, 'app.json');
  const r = spawnSync(SYSTEM_PYTHON, [APP_CAPTURE_SCRIPT, pcap, json], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`app_capture.py failed (${r.status}): ${r.stderr}`);
  const cap = { pcap, ...(JSON.parse(fs.readFileSync(json, 'utf8')) as Omit<AppCapture, 'pcap'>) };
  const records = readClassicPcap(pcap);
  assert.equal(records.length, cap.frames.length, 'one JSON entry per pcap record');
  cap.frames.forEach((f, i) => {
    assert.equal(ipOf(records[i]!.data).toString('hex'), f.ip, `frame ${i}: the JSON's packet is the pcap's`);
    assert.equal(records[i]!.timeUs, BigInt(f.timeUs), `frame ${i}: time`);
  });
  return cap;
}

export const ipBytes = (f: AppFrame): Buffer => Buffer.from(f.ip, 'hex');
/** The frame's transport payload (empty for a bare TCP segment). */
export const payloadOf = (f: AppFrame): Buffer => ipBytes(f).subarray(f.headerLength);

// --- the chain, as a user runs it -----------------------------------------------------------------

/** One agency of the run: its own `lig lemf` and output directory. */
export interface AgencyOut {
  id: string;
  out: string;
  lines: LemfLine[];
}

export interface ChainRun {
  agencies: Record<string, AgencyOut>;
  /** Everything every process printed (stdout and stderr). */
  printed: string;
  /** The probe's last status line. */
  probeStatus: string;
}

export interface ChainOptions {
  tmp: string;
  /** `lig certs init` output. */
  certs: string;
  pcap: string;
  /** Agency ids; each gets a LEMF of its own. */
  agencies: string[];
  /** The config's `intercepts:` items, one YAML flow mapping each. */
  intercepts: string[];
  /** Every process started is pushed here (the test kills what is left after each test). */
  procs: LigProcess[];
}

async function ok(p: LigProcess, what: string): Promise<void> {
  assert.equal(await p.exit, 0, `${what}: ${p.stdout.join('\n')}\n${p.stderr}`);
}

/**
 * Starts one LEMF per agency, the mediator with `intercepts`, and the probe replaying `pcap`;
 * once the probe has every batch acknowledged and the mediator reports no backlog towards any
 * LEMF (each has confirmed every record), stops the LEMFs and the mediator and reads what each
 * LEMF stored. Asserts every process ended cleanly and no LEMF saw a gap, duplicate or
 * undecodable PDU.
 */
export async function runAppChain(o: ChainOptions): Promise<ChainRun> {
  const started = (p: LigProcess): LigProcess => (o.procs.push(p), p);
  const c = (f: string) => JSON.stringify(path.join(o.certs, f));
  const lemfs = new Map<string, { proc: LigProcess; out: string; hi2: string; hi3: string }>();
  for (const id of o.agencies) {
    const out = path.join(o.tmp, `lemf-${id}`);
    const proc = started(lig(['lemf', '--hi2', '127.0.0.1:0', '--hi3', '127.0.0.1:0', '--out', out, '--ca', path.join(o.certs, 'ca.pem'), '--cert', path.join(o.certs, 'lemf.pem'), '--key', path.join(o.certs, 'lemf-key.pem')]));
    const [hi2, hi3] = (await lines(proc, 2)).map((l) => /^hi[23] listening on (127\.0\.0\.1:\d+)$/.exec(l)?.[1]);
    assert.ok(hi2 && hi3, `lig lemf: ${proc.stdout.join('\n')}\n${proc.stderr}`);
    lemfs.set(id, { proc, out, hi2, hi3 });
  }

  const tls = `{ ca: ${c('ca.pem')}, cert: ${c('mediator.pem')}, key: ${c('mediator-key.pem')} }`;
  const agencies = [...lemfs].map(([id, l]) => `
  - id: ${id}
    country: US
    delivery: tcp
    operatorId: OPERATOR-1
    networkElementId: mediator-1
    hi2: { address: "${l.hi2}" }
    hi3: { address: "${l.hi3}" }
    tls: { ca: ${c('ca.pem')}, cert: ${c('mediator.pem')}, key: ${c('mediator-key.pem')}, servername: localhost }
    keepalive: { interval: 1s, wait: 10s }`).join('');
  const config = path.join(o.tmp, 'lig.yaml');
  fs.writeFileSync(config, `
dataDir: ${JSON.stringify(path.join(o.tmp, 'data'))}
ingest: { listen: 127.0.0.1:0, tls: ${tls} }
admin: { listen: 127.0.0.1:0, tls: ${tls} }
agencies:${agencies}
intercepts:
${o.intercepts.map((i) => `  - ${i}`).join('\n')}
log: { level: info }
`);
  const mediator = started(lig(['mediator', '--config', config]));
  const ingest = (await lineMatching(mediator, /^ingest listening on (127\.0\.0\.1:\d+)$/))?.[1];
  const admin = (await lineMatching(mediator, /^admin listening on (127\.0\.0\.1:\d+)$/))?.[1];
  assert.ok(ingest && admin, `lig mediator: ${mediator.stdout.join('\n')}\n${mediator.stderr}`);

  const probe = started(lig([
    'probe', '--mediator', ingest, '--source', `pcap:${o.pcap}`, '--ca', path.join(o.certs, 'ca.pem'), '--cert', path.join(o.certs, 'probe-1.pem'),
    '--key', path.join(o.certs, 'probe-1-key.pem'), '--servername', 'localhost', '--spool', path.join(o.tmp, 'spool'), '--log-level', 'info',
  ]));
  await ok(probe, 'lig probe');
  assert.equal(probe.stdout.at(-1), 'replay complete: every batch acknowledged');

  // Every batch is journaled (the replay is acknowledged); each backlog empties once its LEMF
  // has confirmed every record (a keep-alive round trip after the data).
  for (;;) {
    const list = started(lig(['agency', 'list', '--json', '--admin', admin, '--certs', o.certs, '--name', 'auditor', '--servername', 'localhost']));
    await ok(list, 'lig agency list');
    const all = JSON.parse(list.stdout.join('\n')) as { interfaces: { backlogRecords: number }[] }[];
    assert.equal(all.length, o.agencies.length);
    if (all.every((a) => a.interfaces.every((i) => i.backlogRecords === 0))) break;
  }
  const ran: ChainRun = { agencies: {}, printed: '', probeStatus: probe.stdout.at(-2)! };
  for (const [id, l] of lemfs) {
    assert.equal(await stop(l.proc, 'SIGTERM'), 0, l.proc.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(l.out, 'summary.json'), 'utf8')) as { gaps: { count: number }; duplicates: number; decodeErrors: number };
    assert.deepEqual([summary.gaps.count, summary.duplicates, summary.decodeErrors], [0, 0, 0], `${id}: the LEMF saw no gap, duplicate or undecodable PDU`);
    ran.agencies[id] = { id, out: l.out, lines: readLemfLines(l.out) };
  }
  assert.equal(await stop(mediator, 'SIGTERM'), 0, mediator.stderr);
  assert.equal(mediator.stdout.at(-1), 'mediator stopped');
  ran.printed = o.procs.map((p) => `${p.stdout.join('\n')}\n${p.stderr}`).join('\n');
  return ran;
}

// --- every stored byte -----------------------------------------------------------------------------

/** A byte run that must not be stored (or, for the proof that the search works, must be). */
export interface Needle {
  what: string;
  bytes: Buffer;
}

/** Every string value in a JSON value (keys too), depth first. */
function jsonStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) jsonStrings(x, out);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), jsonStrings(x, out));
}

/**
 * What a stored file can be read as: its bytes; and for a JSON file (records.jsonl, one
 * document per line; summary.json, state.json) every string in it as UTF-8 (JSON escapes
 * undone) and, when it is hex, as the octets it spells (lig writes OCTET STRINGs as hex).
 */
function viewsOf(file: string): Buffer[] {
  const raw = fs.readFileSync(file);
  const views = [raw];
  if (/\.jsonl?$/.test(file)) {
    const strings: string[] = [];
    const text = raw.toString('utf8');
    const docs = file.endsWith('.jsonl') ? text.split('\n').filter((l) => l.trim() !== '') : [text];
    for (const doc of docs) jsonStrings(JSON.parse(doc), strings);
    for (const s of strings) {
      views.push(Buffer.from(s, 'utf8'));
      if (s.length >= 2 && /^([0-9a-fA-F]{2})+$/.test(s)) views.push(Buffer.from(s, 'hex'));
    }
  }
  return views;
}

/**
 * The views joined into one buffer to search at once, with where each starts: a hit counts
 * only when it lies within one view (no separator byte could be trusted not to extend a
 * needle: a header followed by a 0x00 separator would "hold" a payload starting with 0x00).
 */
function joined(views: Buffer[]): { hay: Buffer; starts: number[] } {
  const starts: number[] = [];
  let at = 0;
  for (const v of views) (starts.push(at), (at += v.length));
  return { hay: Buffer.concat(views), starts };
}

/** Whether `needle` occurs inside one of the joined views. */
function within({ hay, starts }: { hay: Buffer; starts: number[] }, needle: Buffer): boolean {
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const end = lo + 1 < starts.length ? starts[lo + 1]! : hay.length;
    if (i + needle.length <= end) return true;
  }
  return false;
}

/** Every file under `dir`, relative paths (none when there is no `dir`). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/**
 * Which needles occur in which stored file of `dir`, searched in every file's bytes and views
 * (viewsOf) as they are and as lower- and upper-case hex. Returns "file: what" for each
 * hit.
 */
export function storedNeedles(dir: string, needles: Needle[]): string[] {
  const hits: string[] = [];
  for (const rel of filesUnder(dir)) {
    const hay = joined(viewsOf(path.join(dir, rel)));
    for (const n of needles) {
      const hexLower = Buffer.from(n.bytes.toString('hex'));
      const forms = [n.bytes, hexLower, Buffer.from(hexLower.toString().toUpperCase())];
      if (forms.some((f) => within(hay, f))) hits.push(`${rel}: ${n.what}`);
    }
  }
  return hits;
}

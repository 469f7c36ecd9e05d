/**
 * What `lig demo` prints: what the probe saw and sent, what the mediator journaled and the
 * agency confirmed, and what the LEMF stored, read back from its files (the per-LIID pcaps
 * counted with lig's own pcap reader), with the LEMF's sequence checks and where the files are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCaptureFile } from '../capture/pcap-reader';
import { CC_DIR, RAW_FILES, RECORDS_FILE, SUMMARY_FILE, liidFileName } from '../lemf';
import type { Summary } from '../lemf';
import type { AgentEnd, AgentStats } from '../probe/agent';
import type { DeliveryProgress } from './chain';

/** One CC pcap of the LEMF: its packets and their bytes. */
export interface CcFile {
  file: string;
  packets: number;
  bytes: number;
}

export interface ReceivedFiles {
  /** Sizes of the files in `out` that exist (hi2.ber, hi3.ber, records.jsonl, summary.json). */
  sizes: Record<string, number>;
  /** cc/<LIID>.pcap, by file name. */
  cc: Record<string, CcFile>;
}

/** Reads what the LEMF left in `out`. */
export function readReceived(out: string): ReceivedFiles {
  const sizes: Record<string, number> = {};
  for (const name of [RAW_FILES.hi2, RAW_FILES.hi3, RECORDS_FILE, SUMMARY_FILE]) {
    const p = path.join(out, name);
    if (fs.existsSync(p)) sizes[name] = fs.statSync(p).size;
  }
  const cc: Record<string, CcFile> = {};
  const dir = path.join(out, CC_DIR);
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort() : [];
  for (const name of names) {
    const file = path.join(dir, name);
    const { packets } = parseCaptureFile(fs.readFileSync(file));
    cc[name] = { file, packets: packets.length, bytes: packets.reduce((n, p) => n + p.origLen, 0) };
  }
  return { sizes, cc };
}

const num = (n: number | bigint) => n.toLocaleString('en-US');

/** What a demo run did and what the agency got. */
export interface DemoResult {
  out: string;
  capture: string;
  target: string;
  liid: string;
  /** The probe agent's counters at the end, and how it ended. */
  probe: AgentStats;
  probeEnd: AgentEnd;
  /** Records journaled and confirmed, per interface. */
  delivery: DeliveryProgress;
  /** The LEMF's own account (also in out/summary.json). */
  lemf: Summary;
  /** What is in the LEMF's files. */
  received: ReceivedFiles;
  elapsedMs: number;
}

/** The pcap a LIID's CC goes to, as the LEMF names it (undefined for a LIID shown in hex). */
function ccFileOf(label: string): string | undefined {
  return label.startsWith('hex:') ? undefined : `${liidFileName(Buffer.from(label, 'latin1'))}.pcap`;
}

/** Problems that make the run a failure (empty when every check passed). */
export function demoProblems(r: DemoResult): string[] {
  const out: string[] = [];
  const s = r.lemf;
  if (r.probe.eventsDropped > 0) out.push(`the probe dropped ${r.probe.eventsDropped} event(s)`);
  if (s.gaps.count > 0 || s.missing > 0) out.push(`the LEMF saw ${s.gaps.count} gap(s), ${s.missing} sequence number(s) missing`);
  if (s.duplicates > 0) out.push(`the LEMF saw ${s.duplicates} duplicate(s)`);
  if (s.decodeErrors > 0) out.push(`the LEMF could not decode ${s.decodeErrors} PDU(s)`);
  const cc = Object.values(s.records).reduce((n, x) => n + x.cc, 0);
  if (BigInt(cc) !== r.delivery.journaled.hi3) out.push(`the LEMF holds ${cc} CC record(s), the mediator journaled ${r.delivery.journaled.hi3}`);
  if (r.probe.matched === 0) out.push('the probe matched no packet of the target');
  return out;
}

/** The lines `lig demo` prints. */
export function demoLines(r: DemoResult): string[] {
  const rel = (p: string) => {
    const x = path.relative(process.cwd(), p);
    return x && !x.startsWith('..') && !path.isAbsolute(x) ? x : p;
  };
  const p = r.probe;
  const d = r.delivery;
  const s = r.lemf;
  const lines = [
    'lig demo: probe -> gRPC (mutual TLS) -> mediator -> journal -> TLS (mutual) -> LEMF, all on 127.0.0.1',
    `capture   ${rel(r.capture)}: ${num(p.frames)} frames, ${num(p.decoded)} with an IP packet`,
    `probe     ${num(p.matched)} packets of the target ${r.target} matched; ${num(p.eventsSubmitted)} events sent, ` +
      `${p.eventsDropped === 0 ? 'none dropped' : `${num(p.eventsDropped)} DROPPED`}, all ${num(p.batchesAcked)} batches acknowledged`,
    `mediator  ${num(d.journaled.hi3)} CC and ${num(d.journaled.hi2)} IRI records journaled for the agency; the LEMF confirmed ${num(d.confirmed.hi3)} and ${num(d.confirmed.hi2)}`,
    'the agency (LEMF) received:',
  ];
  const labels = Object.keys(s.records).sort();
  if (labels.length === 0) lines.push('  nothing');
  for (const label of labels) {
    const rec = s.records[label]!;
    const file = ccFileOf(label);
    const pcap = file ? r.received.cc[file] : undefined;
    const bytes = pcap ? `, ${num(pcap.bytes)} bytes of IP packets` : '';
    lines.push(`  LIID ${label}: ${num(rec.iri)} IRI, ${num(rec.cc)} CC records (${num(rec.ccPackets)} packets${bytes})`);
  }
  lines.push(
    `  sequence checks: ${s.gaps.count} gaps (${s.missing} numbers missing), ${s.duplicates} duplicates, ${s.decodeErrors} decode errors; ` +
      `${s.keepAlivesAnswered} keep-alives answered`,
  );
  lines.push(`files in ${rel(r.out)}:`);
  const describe: Record<string, string> = {
    [RAW_FILES.hi2]: 'HI2 (IRI) bytes as received',
    [RAW_FILES.hi3]: 'HI3 (CC) bytes as received',
    [RECORDS_FILE]: 'one decoded PDU per line',
    [SUMMARY_FILE]: "the LEMF's counts",
  };
  const rows: [string, string][] = [];
  for (const [name, what] of Object.entries(describe)) {
    const size = r.received.sizes[name];
    if (size === undefined) continue;
    const note = size === 0 && name === RAW_FILES.hi2 ? ' (a content intercept sends its packets on HI3; HI2 saw no traffic)' : '';
    rows.push([rel(path.join(r.out, name)), `${what}, ${num(size)} bytes${note}`]);
  }
  for (const [name, c] of Object.entries(r.received.cc)) rows.push([rel(path.join(r.out, CC_DIR, name)), `CC packets of one LIID, ${num(c.packets)} packets`]);
  const width = Math.max(...rows.map(([f]) => f.length));
  for (const [f, what] of rows) lines.push(`  ${f.padEnd(width)}  ${what}`);
  lines.push(`next: lig decode ${rel(path.join(r.out, RAW_FILES.hi3))}`);
  const problems = demoProblems(r);
  lines.push(problems.length === 0 ? `every record the probe sent reached the agency, once and in order (${(r.elapsedMs / 1000).toFixed(1)} s)` : `PROBLEMS: ${problems.join('; ')}`);
  return lines;
}

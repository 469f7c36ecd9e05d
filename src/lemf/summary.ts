/**
 * The LEMF's account of what it received (DIR/summary.json, and the lines printed on stop):
 * records per LIID, gaps, duplicates, decode errors, answers, connections and refusals. The
 * counts cover every run on the same --out directory. Pure.
 */
import { Counters, GapRecord } from './state';

export interface Summary {
  /** By LIID as shown (text, or hex: and its bytes); `hi1` by HI1-Operation alternative, only once one arrived. */
  records: Record<string, { iri: number; cc: number; ccPackets: number; hi1?: Record<string, number> }>;
  pdus: number;
  gaps: { count: number; list: GapRecord[] };
  /** Sequence numbers still missing (gaps not filled later). */
  missing: number;
  late: number;
  duplicates: number;
  decodeErrors: number;
  truncated: number;
  keepAlivesAnswered: number;
  pduAcksAnswered: number;
  optionsAnswered: number;
  connections: number;
  refusals: number;
}

export function summarize(c: Counters, missing: number): Summary {
  const records: Summary['records'] = {};
  for (const r of Object.values(c.records)) {
    records[r.label] = { iri: r.iri, cc: r.cc, ccPackets: r.ccPackets, ...(r.hi1 ? { hi1: { ...r.hi1 } } : {}) };
  }
  return {
    records,
    pdus: c.pdus,
    gaps: { count: c.gaps, list: c.gapList.map((g) => ({ ...g })) },
    missing,
    late: c.late,
    duplicates: c.duplicates,
    decodeErrors: c.decodeErrors,
    truncated: c.truncated,
    keepAlivesAnswered: c.keepAlivesAnswered,
    pduAcksAnswered: c.pduAcksAnswered,
    optionsAnswered: c.optionsAnswered,
    connections: c.connections,
    refusals: c.refusals,
  };
}

/**
 * The summary as lines for a terminal. Totals only: LIIDs are warrant identifiers and stay out
 * of what is printed (they are in summary.json, with the records themselves).
 */
export function summaryLines(s: Summary, file: string): string[] {
  let iri = 0;
  let cc = 0;
  let packets = 0;
  const hi1 = new Map<string, number>();
  for (const r of Object.values(s.records)) {
    iri += r.iri;
    cc += r.cc;
    packets += r.ccPackets;
    for (const [op, n] of Object.entries(r.hi1 ?? {})) hi1.set(op, (hi1.get(op) ?? 0) + n);
  }
  const hi1Total = [...hi1.values()].reduce((a, b) => a + b, 0);
  return [
    `records: ${iri} IRI, ${cc} CC (${packets} packets) for ${Object.keys(s.records).length} LIID(s), ${s.pdus} PDUs in all`,
    ...(hi1Total > 0 ? [`HI1 notifications: ${hi1Total} (${[...hi1].map(([op, n]) => `${n} ${op}`).join(', ')})`] : []),
    `gaps: ${s.gaps.count} (${s.missing} sequence numbers still missing, ${s.late} arrived late); duplicates: ${s.duplicates}`,
    `decode errors: ${s.decodeErrors}; connections cut inside a PDU: ${s.truncated}`,
    `answered: ${s.keepAlivesAnswered} keep-alives, ${s.pduAcksAnswered} PDU acknowledgements, ${s.optionsAnswered} option requests`,
    `connections: ${s.connections}; refused: ${s.refusals}`,
    `per-LIID counts: ${file}`,
  ];
}

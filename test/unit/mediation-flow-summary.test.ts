/**
 * FlowSummary → IRI-only packet summary report (src/mediation/flow-summary.ts): the header cut
 * to the IP and transport headers whatever the probe sent, the per-packet fields zeroed and
 * named (exact bytes written out by hand), every trigger, counts and times; what makes no
 * report; the records pass etsi-oracle with the indications lig meant.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecordContext, SummaryReport, packetSummaryReportPdu } from '../../src/etsi/build';
import { toJsonValue } from '../../src/etsi/json';
import { PS_PDU } from '../../src/etsi/ps-pdu';
import { decodePsPdu } from '../../src/etsi/stream';
import { type FlowSummary, FlowSummary_Trigger } from '../../src/gen/lig/v1/ingest';
import { ConfigErrors, DEFAULT_SUMMARY_INTERVAL, type Intercept, parseMediatorConfig } from '../../src/config';
import { ReportMode } from '../../src/gen/lig/v1/ingest';
import { TaskIds, TaskTable } from '../../src/mediation/tasks';
import { RecordEncoder, type ResolvedTask, newEncodeCounters, routeBatch } from '../../src/mediation/encode-batch';
import { summaryReport, zeroed } from '../../src/mediation/flow-summary';
import { Numbering } from '../../src/mediation/numbering';
import { Direction, agencyTcp, batchOf, intercept, ipv4, packetEvent, readRecord } from '../mediation-fixtures';
import { diffWithXer, find, oracleXerOf } from '../helpers/oracle';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const PAYLOAD = Buffer.from('PAYLOAD-never-reported');

// IPv4 + TCP (20 + 20) 10.0.0.2:40000 -> 93.184.216.34:80, ACK|PSH, then PAYLOAD.
const V4_TCP = `
  45 00 00 3e  12 34 40 00  40 06 ab cd  0a 00 00 02  5d b8 d8 22   // IPv4: total length 0x3e, checksum abcd
  9c 40 00 50  11 11 11 11  22 22 22 22  50 18 ff ff  ee ee 00 00   // TCP: seq, ack, flags 18, window ffff, checksum eeee
`;
const V4_TCP_ZEROED = `
  45 00 00 00  12 34 40 00  40 06 00 00  0a 00 00 02  5d b8 d8 22   // total length and checksum zeroed; ident, DF, TTL kept
  9c 40 00 50  00 00 00 00  00 00 00 00  50 18 00 00  00 00 00 00   // seq, ack, window, checksum zeroed; flags kept
`;
// IPv4 + UDP 10.0.0.2:5353 -> 10.0.0.1:53.
const V4_UDP = '45 00 00 2e 00 01 00 00 40 11 12 34 0a 00 00 02 0a 00 00 01  14 e9 00 35 00 1a 56 78';
const V4_UDP_ZEROED = '45 00 00 00 00 01 00 00 40 11 00 00 0a 00 00 02 0a 00 00 01  14 e9 00 35 00 00 00 00';
// IPv6 + TCP (40 + 20).
const V6_TCP = `
  60 00 00 00  00 2a 06 40  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
  c3 50 01 bb  00 00 00 01  00 00 00 02  50 02 fa f0  12 34 00 00
`;
const V6_TCP_ZEROED = `
  60 00 00 00  00 00 06 40  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
  c3 50 01 bb  00 00 00 00  00 00 00 00  50 02 00 00  00 00 00 00
`;
// IPv6 + hop-by-hop options (8) + UDP: the UDP header is behind an extension header.
const V6_HBH_UDP = `
  60 00 00 00  00 18 00 40  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
  11 00 01 04 00 00 00 00
  c3 50 00 35 00 10 ab cd
`;

const summary = (header: Buffer, trigger = FlowSummary_Trigger.TRIGGER_FLOW_END, more: Partial<FlowSummary> = {}): FlowSummary => ({
  matches: [], header, packets: 12n, bytes: 3400n, firstUs: 1_700_000_000_000_000n, lastUs: 1_700_000_001_500_000n, trigger, ...more,
});
const ok = (r: SummaryReport | string): SummaryReport => {
  assert.equal(typeof r, 'object', String(r));
  return r as SummaryReport;
};

describe('mediation flow-summary: FlowSummary → packet summary report', () => {
  it('IPv4/TCP: the payload cut off, total length, checksum, seq, ack, window and TCP checksum zeroed and named', () => {
    const r = ok(summaryReport(summary(Buffer.concat([hex(V4_TCP), PAYLOAD]))));
    assert.equal(Buffer.from(r.header).toString('hex'), hex(V4_TCP_ZEROED).toString('hex'));
    assert.deepEqual(r.indications, ['zeroedIPv4TotalLength', 'zeroedIPv4HeaderChecksum', 'zeroedTCPSequenceNumber', 'zeroedTCPAcknowledgementNumber', 'zeroedTCPWindowSize', 'zeroedTCPChecksum']);
    assert.equal(r.trigger, 'flowEnd');
    assert.equal(r.packetCount, 12);
    assert.equal(r.byteCount, 3400);
    assert.deepEqual(r.first, { seconds: 1_700_000_000, micros: 0 });
    assert.deepEqual(r.last, { seconds: 1_700_000_001, micros: 500_000 });
  });

  it('IPv4/UDP and IPv6/TCP: their own fields', () => {
    const u = ok(summaryReport(summary(hex(V4_UDP))));
    assert.equal(Buffer.from(u.header).toString('hex'), hex(V4_UDP_ZEROED).toString('hex'));
    assert.deepEqual(u.indications, ['zeroedIPv4TotalLength', 'zeroedIPv4HeaderChecksum', 'zeroedUDPLength', 'zeroedUDPChecksum']);
    const t = ok(summaryReport(summary(Buffer.concat([hex(V6_TCP), PAYLOAD]))));
    assert.equal(Buffer.from(t.header).toString('hex'), hex(V6_TCP_ZEROED).toString('hex'));
    assert.deepEqual(t.indications, ['zeroedIPv6PayloadLength', 'zeroedTCPSequenceNumber', 'zeroedTCPAcknowledgementNumber', 'zeroedTCPWindowSize', 'zeroedTCPChecksum']);
  });

  it('behind an IPv6 extension header the transport fields stay and are not named', () => {
    const r = ok(summaryReport(summary(Buffer.concat([hex(V6_HBH_UDP), PAYLOAD]))));
    const want = hex(V6_HBH_UDP);
    want.fill(0, 4, 6);
    assert.equal(Buffer.from(r.header).toString('hex'), want.toString('hex'));
    assert.deepEqual(r.indications, ['zeroedIPv6PayloadLength']);
  });

  it('a later IPv4 fragment: only the IP header, only IP fields', () => {
    const frag = hex(V4_UDP);
    frag[6] = 0x00;
    frag[7] = 0x10; // fragment offset 16 (×8 octets): what follows the IP header is payload
    const r = ok(summaryReport(summary(frag)));
    assert.equal(r.header.length, 20);
    assert.deepEqual(r.indications, ['zeroedIPv4TotalLength', 'zeroedIPv4HeaderChecksum']);
  });

  it('the probe\'s header is never changed in place', () => {
    const h = Buffer.concat([hex(V4_TCP), PAYLOAD]);
    const before = Buffer.from(h);
    zeroed(h.subarray(0, 40));
    summaryReport(summary(h));
    assert.deepEqual(h, before);
  });

  it('every trigger maps; an unspecified or unknown trigger, or a header that is not IP, makes no report', () => {
    const want: Array<[FlowSummary_Trigger, string]> = [
      [FlowSummary_Trigger.TRIGGER_FLOW_START, 'flowStart'], [FlowSummary_Trigger.TRIGGER_FLOW_END, 'flowEnd'],
      [FlowSummary_Trigger.TRIGGER_FLOW_TIMEOUT, 'flowTimeout'], [FlowSummary_Trigger.TRIGGER_TIMER, 'flowTimerExpiration'],
      [FlowSummary_Trigger.TRIGGER_PACKET_COUNT, 'flowPacketCount'], [FlowSummary_Trigger.TRIGGER_BYTE_COUNT, 'flowByteCount'],
      [FlowSummary_Trigger.TRIGGER_REPORT_END, 'reportEnd'],
    ];
    for (const [t, name] of want) assert.equal(ok(summaryReport(summary(hex(V4_UDP), t))).trigger, name);
    assert.equal(summaryReport(summary(hex(V4_UDP), FlowSummary_Trigger.TRIGGER_UNSPECIFIED)), 'trigger');
    assert.equal(summaryReport(summary(hex(V4_UDP), 99 as FlowSummary_Trigger)), 'trigger');
    assert.equal(summaryReport(summary(Buffer.alloc(0))), 'notIp');
    assert.equal(summaryReport(summary(PAYLOAD)), 'notIp');
  });

  it('counts beyond 2^53 stay exact; zero times are left out', () => {
    const r = ok(summaryReport(summary(hex(V4_UDP), FlowSummary_Trigger.TRIGGER_TIMER, { packets: 2n ** 60n, bytes: 2n ** 64n - 1n, firstUs: 0n, lastUs: 0n })));
    assert.equal(r.packetCount, 2n ** 60n);
    assert.equal(r.byteCount, 2n ** 64n - 1n);
    assert.equal(r.first, undefined);
    assert.equal(r.last, undefined);
  });

  it('the reports pass etsi-oracle, with lig\'s indications and no payload', async function () {
    this.timeout(120_000);
    const ctx: RecordContext = { liid: 'LIID-3', operatorId: 'OP', cin: 9 };
    const reports = [V4_TCP, V4_UDP, V6_TCP, V6_HBH_UDP].map((h) => ok(summaryReport(summary(Buffer.concat([hex(h), PAYLOAD])))));
    const pdus = reports.map((r, i) => packetSummaryReportPdu(ctx, i, { seconds: 1_700_000_002, micros: 0 }, r));
    for (const p of pdus) assert.equal(p.indexOf(PAYLOAD.subarray(0, 8)), -1);
    const xer = await oracleXerOf(this, pdus);
    xer.forEach((x, k) => {
      assert.deepEqual(diffWithXer(PS_PDU, toJsonValue(decodePsPdu(pdus[k]!)), x, `pdu ${k}`), []);
      assert.ok(find(x, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRIPacketReport', 'report', 'summary', 'indications'));
    });
  });

  describe('routed with the packets (encode-batch.ts): each reporting mode gets what it asked for', () => {
    const iri = (liid: string, mode?: 'headers' | 'summary' | 'both'): Intercept => ({ ...intercept(liid, 'iri-only'), ...(mode ? { reports: { mode, interval: 60_000 } } : {}) });
    const TASKS = new Map<bigint, ResolvedTask>([
      [1n, { intercept: intercept('LIID-CC', 'content'), cin: 1 }],
      [2n, { intercept: iri('LIID-DEFAULT'), cin: 2 }],
      [3n, { intercept: iri('LIID-HEADERS', 'headers'), cin: 3 }],
      [4n, { intercept: iri('LIID-SUMMARY', 'summary'), cin: 4 }],
      [5n, { intercept: iri('LIID-BOTH', 'both'), cin: 5 }],
    ]);
    const all: Array<[bigint, Direction]> = [1n, 2n, 3n, 4n, 5n].map((t) => [t, Direction.DIRECTION_FROM_TARGET]);
    const summaryAt = (s: FlowSummary) => ({ timeUs: 1_700_000_002_000_000n, kind: { $case: 'flowSummary' as const, flowSummary: { ...s, matches: all.map(([taskId, direction]) => ({ taskId, direction, sessionKey: '' })) } } });

    it('headers (also the default): header reports only; summary: summaries only, no header report; both: both; content: CC', () => {
      const packet = ipv4('tcp', PAYLOAD);
      const c = newEncodeCounters();
      const shares = routeBatch(batchOf(1n, [
        packetEvent(packet.bytes, all),
        summaryAt(summary(packet.bytes)),
        summaryAt(summary(packet.bytes, FlowSummary_Trigger.TRIGGER_UNSPECIFIED)),
      ]), (id) => TASKS.get(id), c);
      const enc = new RecordEncoder([agencyTcp()]);
      const hi2 = enc.encode(shares.get('lea-1/hi2')!, new Numbering(), c);
      const hi3 = enc.encode(shares.get('lea-1/hi3')!, new Numbering(), c);
      const kinds = hi2.map((b) => {
        const r = readRecord(b);
        const report = (decodePsPdu(b).payload as any).iRIPayloadSequence[0].iRIContents.iPIRIPacketReport.report;
        return `${r.liid}:${Object.keys(report)[0]}`;
      });
      assert.deepEqual(kinds, ['LIID-DEFAULT:header', 'LIID-HEADERS:header', 'LIID-BOTH:header', 'LIID-SUMMARY:summary', 'LIID-BOTH:summary']);
      assert.deepEqual(hi3.map((b) => readRecord(b).liid), ['LIID-CC']);
      for (const b of hi2) assert.equal(Buffer.from(b).indexOf(PAYLOAD), -1);
      assert.deepEqual([c.flowSummaries, c.headerReportsSuppressed, c.summariesNotWanted, c.badSummaries], [2, 1, 3 + 3, 1]);
    });
  });

  describe('the reporting mode: config (reports) and the task list', () => {
    const yaml = (icpt: string) => `
dataDir: /tmp/lig
ingest: { listen: 127.0.0.1:0, tls: { ca: ca.pem, cert: m.pem, key: m.key } }
agencies:
  - { id: lea-1, country: US, delivery: tcp, operatorId: OP, hi2: { address: 127.0.0.1:1 }, hi3: { address: 127.0.0.1:2 }, tls: { ca: ca.pem, cert: m.pem, key: m.key } }
intercepts:
  - ${icpt}
`;
    const problems = (icpt: string): string[] => {
      try {
        parseMediatorConfig(yaml(icpt));
      } catch (e) {
        if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
        throw e;
      }
      return [];
    };

    it('an iri-only intercept takes reports {mode, interval}; absent: no reports (defaults apply)', () => {
      const a = parseMediatorConfig(yaml('{ liid: L1, agency: lea-1, type: iri-only, targets: [{ ip: 10.0.0.2 }], reports: { mode: summary, interval: 90s } }'));
      assert.deepEqual(a.intercepts[0]!.reports, { mode: 'summary', interval: 90_000 });
      const b = parseMediatorConfig(yaml('{ liid: L1, agency: lea-1, type: iri-only, targets: [{ ip: 10.0.0.2 }], reports: { mode: both } }'));
      assert.deepEqual(b.intercepts[0]!.reports, { mode: 'both', interval: DEFAULT_SUMMARY_INTERVAL });
      assert.equal(parseMediatorConfig(yaml('{ liid: L1, agency: lea-1, type: iri-only, targets: [{ ip: 10.0.0.2 }] }')).intercepts[0]!.reports, undefined);
    });

    it('refused: reports on a content intercept, an unknown mode, a fraction of a second, out of range, an unknown key', () => {
      const base = '{ liid: L1, agency: lea-1, targets: [{ ip: 10.0.0.2 }], ';
      const cases: Array<[string, RegExp]> = [
        [`${base}type: content, reports: { mode: summary } }`, /intercepts\[0\]\.reports: applies to "iri-only" intercepts only/],
        [`${base}type: iri-only, reports: { mode: flows } }`, /intercepts\[0\]\.reports\.mode/],
        [`${base}type: iri-only, reports: { interval: 1500ms } }`, /intercepts\[0\]\.reports\.interval: must be a whole number of seconds/],
        [`${base}type: iri-only, reports: { interval: 500ms } }`, /intercepts\[0\]\.reports\.interval: must be at least/],
        [`${base}type: iri-only, reports: { interval: 2d } }`, /intercepts\[0\]\.reports\.interval/],
        [`${base}type: iri-only, reports: { mdoe: summary } }`, /intercepts\[0\]\.reports\.mdoe/],
      ];
      for (const [icpt, want] of cases) {
        const p = problems(icpt);
        assert.equal(p.length, 1, `${icpt}: ${p.join('; ')}`);
        assert.match(p[0]!, want);
      }
    });

    it('IRI-only tasks carry the mode and interval (default headers, 60 s); content tasks neither', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-report-mode-'));
      try {
        const icpts: Intercept[] = [
          { ...intercept('L-CC', 'content') },
          { ...intercept('L-DEF', 'iri-only') },
          { ...intercept('L-SUM', 'iri-only'), reports: { mode: 'summary', interval: 300_000 } },
          { ...intercept('L-BOTH', 'iri-only'), reports: { mode: 'both', interval: 5_000 } },
        ];
        const ids = await TaskIds.open(dir);
        await ids.assign(icpts);
        const list = new TaskTable(icpts, ids, 1n).listFor('probe-1');
        const byId = new Map(list.tasks.map((t) => [t.taskId, t]));
        const got = icpts.map((i) => { const t = byId.get(ids.get(i.agency, i.liid)!)!; return [t.reportMode, t.summaryIntervalSeconds]; });
        assert.deepEqual(got, [[undefined, undefined], [ReportMode.REPORT_MODE_HEADERS, 60], [ReportMode.REPORT_MODE_SUMMARY, 300], [ReportMode.REPORT_MODE_BOTH, 5]]);
        const changed = new TaskTable(icpts.map((i) => (i.liid === 'L-DEF' ? { ...i, reports: { mode: 'summary' as const, interval: 60_000 } } : i)), ids, 2n);
        assert.ok(changed.differsFor('probe-1', new TaskTable(icpts, ids, 1n)), 'a changed mode reaches the probe');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

/**
 * Sequence checks across reconnects and restarts: per (LIID, CIN, IRI or CC) numbers run from
 * 0; a number seen before (a resend after a reconnect) is a duplicate, kept in the raw .ber but
 * not in records.jsonl or the pcap; a jump is a gap; cINReset starts a CIN's numbering again.
 * The state lives in state.json, so a LEMF restarted on the same --out keeps checking, and
 * output written after the last commit (a crash) is cut back on restart.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { RecordContext, Stamp, cinResetPdu, ipccPdu, ipiriPdu, keepAlivePdu } from '../../src/etsi';
import { LigError } from '../../src/errors';
import { Lemf, PduOutcome } from '../../src/lemf';
import { ipv4Udp } from '../helpers/identity-packets';
import { Client, Setup, closeLemfSuite, openLemfSuite, pdus, prng, readRecords, startLemf } from './lemf-helpers';

const S: RecordContext = { liid: 'LIID-S', operatorId: 'OP', cin: 5 };
const T: Stamp = { seconds: 1_700_000_000, micros: 42 };
const session = { accessEventType: 'interimUpdate', targetUsername: 'bob', internetAccessType: 'xDSL', iPVersion: 'iPV4' } as const;
const iri = (seq: number) => ipiriPdu(S, seq, T, 'iRI-Continue', session);
const packet = (seq: number) => ipv4Udp('192.0.2.7', '203.0.113.9', 4000 + seq, 80, Buffer.from(`packet ${seq}`));
const cc = (seq: number) => ipccPdu(S, seq, { seconds: T.seconds + seq, micros: 0 }, packet(seq), 'toTarget');
const ka = (seq: number) => keepAlivePdu({ liid: S.liid, operatorId: 'OP' }, seq, T);

describe('lig lemf: sequence numbers, duplicates, gaps, restarts', () => {
  let s: Setup;
  let out: string;
  let lemf: Lemf;
  const rnd = prng(7);
  let kaSeq = 1000;

  before(async () => ({ s, out, lemf } = await openLemfSuite('lig-lemf-seq-')));
  after(() => closeLemfSuite(s, lemf));

  /** One connection: sends the PDUs and a keep-alive, waits for its answer (so all is committed), closes. */
  async function session1(hi: 'hi2' | 'hi3', list: Buffer[]): Promise<PduOutcome[]> {
    const c = await Client.open(s, lemf.addresses[hi].port);
    const done = pdus(lemf, hi, list.length + 1);
    await c.sendSplit(Buffer.concat([...list, ka(kaSeq++)]), rnd);
    await c.answered(1);
    const outcomes = await done;
    await c.end();
    return outcomes.slice(0, list.length);
  }

  const iriSeqs = () => readRecords(out).filter((r) => r.hi === 'hi2' && r.pdu?.payload?.iRIPayloadSequence).map((r) => r.pdu.pSHeader.sequenceNumber);
  const pcapSeqs = () => parseCaptureFile(fs.readFileSync(path.join(out, 'cc', 'LIID-S.pcap'))).packets.map((p) => p.ts!.sec - T.seconds);

  it('0,1,2, a reconnect, 1,2,3, then 5: two duplicates dropped and one gap (4..4)', async () => {
    const kas = ka(kaSeq).length + ka(kaSeq + 1).length;
    await session1('hi2', [iri(0), iri(1), iri(2)]);
    const o = await session1('hi2', [iri(1), iri(2), iri(3), iri(5)]);
    assert.deepEqual(o.map((x) => [x.duplicate ?? false, x.gap]), [[true, undefined], [true, undefined], [false, undefined], [false, { from: 4, to: 4 }]]);
    assert.deepEqual(iriSeqs(), [0, 1, 2, 3, 5]);
    const raw = fs.readFileSync(path.join(out, 'hi2.ber'));
    assert.equal(raw.length, [0, 1, 2, 3, 5, 1, 2].reduce((n, q) => n + iri(q).length, 0) + kas, 'the raw stream keeps the resends');
    const sum = lemf.summary();
    assert.equal(sum.duplicates, 2);
    assert.deepEqual(sum.gaps, { count: 1, list: [{ liid: 'LIID-S', cin: 5, kind: 'IRI', from: 4, to: 4, hi: 'hi2', conn: 2 }] });
    assert.equal(sum.missing, 1);
  });

  it('CC is numbered apart from IRI; a resent packet is not written to the pcap twice', async () => {
    await session1('hi3', [cc(0), cc(1)]);
    const o = await session1('hi3', [cc(1), cc(2)]);
    assert.deepEqual(o.map((x) => x.duplicate ?? false), [true, false]);
    assert.deepEqual(pcapSeqs(), [0, 1, 2]);
    assert.equal(lemf.summary().duplicates, 3);
  });

  it('cINReset on HI2 starts the IRI numbering of the CIN again (CC keeps its own)', async () => {
    const o = await session1('hi2', [cinResetPdu(S, 0, T), iri(0), iri(1)]);
    assert.deepEqual(o.map((x) => [x.duplicate ?? false, x.gap]), [[false, undefined], [false, undefined], [false, undefined]]);
    assert.deepEqual(iriSeqs(), [0, 1, 2, 3, 5, 0, 1]);
    const c = await session1('hi3', [cc(2)]);
    assert.equal(c[0]!.duplicate, true);
  });

  it('a restarted LEMF on the same --out keeps checking and counting', async () => {
    const before = await lemf.close();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')), before);
    lemf = await startLemf(s, out);
    const lines = readRecords(out).length;
    const o = await session1('hi2', [iri(1), iri(2)]);
    assert.deepEqual(o.map((x) => x.duplicate ?? false), [true, false]);
    const c = await session1('hi3', [cc(2), cc(3)]);
    assert.deepEqual(c.map((x) => x.duplicate ?? false), [true, false]);
    assert.deepEqual(pcapSeqs(), [0, 1, 2, 3]);
    const after = lemf.summary();
    assert.equal(after.duplicates, before.duplicates + 2);
    assert.equal(after.connections, before.connections + 2);
    assert.equal(after.gaps.count, 1);
    assert.deepEqual(after.records, { 'LIID-S': { iri: 8, cc: 4, ccPackets: 4 } });
    // connections are numbered on from the last run's
    assert.deepEqual(readRecords(out).slice(lines).map((r) => r.conn), [before.connections + 1, before.connections + 1, before.connections + 2, before.connections + 2]);
  });

  it('output written after the last commit (a crash) is cut back on restart, and the resend is taken as new', async () => {
    await lemf.close();
    const recordsFile = path.join(out, 'records.jsonl');
    const pcapFile = path.join(out, 'cc', 'LIID-S.pcap');
    const committed = [fs.statSync(recordsFile).size, fs.statSync(pcapFile).size];
    fs.appendFileSync(recordsFile, '{"hi":"hi2","conn":99,"offset":0,"pdu":{"half a line');
    fs.appendFileSync(pcapFile, Buffer.alloc(10, 0xee));
    fs.writeFileSync(path.join(out, 'cc', 'OTHER.pcap'), Buffer.alloc(30, 0xee)); // a file begun after the commit
    lemf = await startLemf(s, out);
    assert.deepEqual([fs.statSync(recordsFile).size, fs.statSync(pcapFile).size], committed);
    assert.equal(fs.statSync(path.join(out, 'cc', 'OTHER.pcap')).size, 0);
    await session1('hi3', [cc(4)]);
    assert.deepEqual(pcapSeqs(), [0, 1, 2, 3, 4]);
    assert.ok(readRecords(out).every((r) => r.conn !== 99));
  });

  it('refuses an --out directory with records but no state.json, and a damaged state.json', async () => {
    await lemf.close();
    const stateFile = path.join(out, 'state.json');
    const saved = fs.readFileSync(stateFile);
    fs.writeFileSync(stateFile, '{"version":1,"sequences":{},"counters":');
    await assert.rejects(startLemf(s, out), (e: LigError) => e.code === 'LIG_ERR_LEMF_STATE');
    fs.rmSync(stateFile);
    await assert.rejects(startLemf(s, out), (e: LigError) => e.code === 'LIG_ERR_LEMF_OUTPUT');
    fs.writeFileSync(stateFile, saved);
    lemf = await startLemf(s, out);
  });
});

/**
 * HI1 notifications at the reference LEMF: PS-PDUs with hI1-Operation (liActivated,
 * liModified, liDeactivated) sent on HI2 over real mutual TLS, between IRI, are stored as
 * received, written to records.jsonl decoded, and counted per LIID and operation in
 * summary.json. They are numbered per LIID in a stream of their own (no CIN): a resend is a
 * duplicate, a jump a gap, and neither disturbs the IRI numbering beside them. The counts
 * survive a restart on the same --out directory; logs and the printed summary carry no LIID
 * and no target information.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordContext, Stamp, decodePsPdu, hi1NotificationPdu, ipiriPdu, keepAlivePdu, toJsonValue } from '../../src/etsi';
import { Lemf, PduOutcome, summaryLines } from '../../src/lemf';
import { Client, Setup, closeLemfSuite, openLemfSuite, pdus, prng, readRecords, startLemf } from './lemf-helpers';

const H: RecordContext = { liid: 'LIID-H', operatorId: 'OP', networkElementId: 'NE1', cin: 5 };
const G: RecordContext = { liid: 'LIID-G', operatorId: 'EXAMPLE-NET' };
const T: Stamp = { seconds: 1_700_000_000, micros: 7 };
const TARGET = 'target-h@example.org';
const session = { accessEventType: 'interimUpdate', targetUsername: 'bob', internetAccessType: 'xDSL', iPVersion: 'iPV4' } as const;
const iri = (seq: number) => ipiriPdu(H, seq, T, 'iRI-Continue', session);
const ka = (seq: number) => keepAlivePdu({ liid: 'KA', operatorId: 'OP' }, seq, T);

describe('lig lemf: HI1 notifications on HI2', () => {
  let s: Setup;
  let out: string;
  let lemf: Lemf;
  const rnd = prng(11);
  let kaSeq = 0;

  before(async () => ({ s, out, lemf } = await openLemfSuite('lig-lemf-hi1-')));
  after(() => closeLemfSuite(s, lemf));

  /** One mTLS connection to HI2: the PDUs, then a keep-alive whose answer means all is committed. */
  async function send(list: Buffer[]): Promise<PduOutcome[]> {
    const c = await Client.open(s, lemf.addresses.hi2.port);
    const done = pdus(lemf, 'hi2', list.length + 1);
    await c.sendSplit(Buffer.concat([...list, ka(kaSeq++)]), rnd);
    await c.answered(1);
    const outcomes = await done;
    await c.end();
    return outcomes.slice(0, list.length);
  }

  const hi1Records = () => readRecords(out).filter((r) => r.pdu?.payload?.['hI1-Operation']);

  const first = [
    hi1NotificationPdu(H, 0, T, 'activated', { targetInformation: TARGET }),
    iri(0),
    hi1NotificationPdu(G, 0, T, 'activated'),
    hi1NotificationPdu(H, 1, T, 'modified', { targetInformation: TARGET }),
    iri(1),
    hi1NotificationPdu(H, 2, T, 'deactivated'),
  ];

  it('records each notification in records.jsonl, decoded, as received', async () => {
    const o = await send(first);
    assert.deepEqual(o.map((x) => [x.error?.code, x.duplicate ?? false, x.gap]), first.map(() => [undefined, false, undefined]));
    const recs = hi1Records();
    assert.deepEqual(recs.map((r) => r.pdu), [first[0], first[2], first[3], first[5]].map((b) => toJsonValue(decodePsPdu(b!))));
    assert.deepEqual(recs.map((r) => Object.keys(r.pdu.payload['hI1-Operation'])[0]), ['liActivated', 'liActivated', 'liModified', 'liDeactivated']);
    const activated = recs[0]!.pdu.payload['hI1-Operation'].liActivated;
    assert.equal(Buffer.from(activated.lawfulInterceptionIdentifier, 'hex').toString(), 'LIID-H');
    assert.equal(Buffer.from(activated['target-Information'], 'hex').toString(), TARGET);
    assert.equal(activated.timeStamp.localTime.generalizedTime, '20231114221320.000007Z');
    assert.equal(recs[0]!.pdu.pSHeader.communicationIdentifier.communicationIdentityNumber, undefined, 'no CIN');
    // the bytes are kept exactly as sent, at the offsets records.jsonl gives
    const raw = fs.readFileSync(path.join(out, 'hi2.ber'));
    [first[0]!, first[2]!, first[3]!, first[5]!].forEach((sent, i) => {
      assert.equal(recs[i]!.hi, 'hi2');
      assert.equal(raw.subarray(recs[i]!.offset, recs[i]!.offset + sent.length).toString('hex'), sent.toString('hex'));
    });
  });

  it('counts them per LIID and operation, beside the IRI', () => {
    assert.deepEqual(lemf.summary().records, {
      'LIID-H': { iri: 2, cc: 0, ccPackets: 0, hi1: { liActivated: 1, liModified: 1, liDeactivated: 1 } },
      'LIID-G': { iri: 0, cc: 0, ccPackets: 0, hi1: { liActivated: 1 } },
    });
  });

  it('numbers them per LIID apart from IRI: a resend is a duplicate, a jump a gap, IRI undisturbed', async () => {
    const again = [hi1NotificationPdu(H, 2, T, 'deactivated'), hi1NotificationPdu(H, 4, T, 'activated'), iri(2), hi1NotificationPdu(G, 1, T, 'deactivated')];
    const before = hi1Records().length;
    const o = await send(again);
    assert.deepEqual(o.map((x) => [x.duplicate ?? false, x.gap]), [[true, undefined], [false, { from: 3, to: 3 }], [false, undefined], [false, undefined]]);
    assert.equal(hi1Records().length, before + 2, 'the resend is not recorded twice');
    const sum = lemf.summary();
    assert.equal(sum.duplicates, 1);
    assert.deepEqual(sum.gaps.list, [{ liid: 'LIID-H', cin: null, kind: 'HI1', from: 3, to: 3, hi: 'hi2', conn: 2 }]);
    assert.deepEqual(sum.records['LIID-H'], { iri: 3, cc: 0, ccPackets: 0, hi1: { liActivated: 2, liModified: 1, liDeactivated: 1 } });
    assert.deepEqual(sum.records['LIID-G']!.hi1, { liActivated: 1, liDeactivated: 1 });
  });

  it('keeps counting after a restart on the same --out; summary.json holds the counts; nothing sensitive in logs', async () => {
    await lemf.close();
    lemf = await startLemf(s, out);
    const o = await send([hi1NotificationPdu(H, 4, T, 'activated'), hi1NotificationPdu(H, 5, T, 'modified')]);
    assert.deepEqual(o.map((x) => [x.duplicate ?? false, x.gap]), [[true, undefined], [false, undefined]], 'the sequence state survived');
    const summary = await lemf.close();
    const file = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(file, summary);
    assert.deepEqual(file.records['LIID-H'], { iri: 3, cc: 0, ccPackets: 0, hi1: { liActivated: 2, liModified: 2, liDeactivated: 1 } });
    assert.deepEqual(file.records['LIID-G'], { iri: 0, cc: 0, ccPackets: 0, hi1: { liActivated: 1, liDeactivated: 1 } });
    const printed = summaryLines(summary, path.join(out, 'summary.json'));
    assert.ok(printed.includes('HI1 notifications: 7 (3 liActivated, 2 liModified, 2 liDeactivated)'), printed.join('\n'));
    assert.ok(s.logs.length > 0);
    for (const line of [...s.logs, ...printed]) for (const secret of ['LIID-H', 'LIID-G', TARGET]) assert.ok(!line.includes(secret), line);
  });

  it('refuses a state.json whose HI1 counts are not counts', async () => {
    const file = path.join(out, 'state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    const h = Object.values(state.counters.records as Record<string, { label: string; hi1?: Record<string, unknown> }>).find((r) => r.label === 'LIID-H')!;
    assert.deepEqual(h.hi1, { liActivated: 2, liModified: 2, liDeactivated: 1 }, 'state.json keeps them');
    h.hi1 = { liActivated: -1 };
    fs.writeFileSync(file, JSON.stringify(state));
    await assert.rejects(startLemf(s, out), (e: Error & { code?: string }) => e.code === 'LIG_ERR_LEMF_STATE' && /counters\.records/.test(e.message));
  });
});

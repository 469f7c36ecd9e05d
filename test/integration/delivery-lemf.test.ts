/**
 * Delivery to the reference LEMF, end to end over mutual TLS on loopback: journals → links →
 * LEMF, checked by the LEMF's own account (records per LIID, gaps, duplicates, answers).
 * Real clock; everything waits on events, nothing asserts on time.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TcpAgency } from '../../src/config';
import { Delivery, DeliveryLink } from '../../src/delivery';
import { Journal } from '../../src/delivery/journal';
import { RecordContext, ipccPdu, ipiriPdu, stampOf } from '../../src/etsi';
import { Lemf, LemfOptions } from '../../src/lemf';
import { TestPki, makeTestPki } from '../../src/pki';

const LIID = 'LIID-E2E-1';
const CTX: RecordContext = { liid: LIID, operatorId: 'OPERATOR-1', cin: 7 };
const T = stampOf(new Date(Date.UTC(2024, 0, 1)));

/** The CC record numbered `seq` (TS 102 232-1 numbers from 0), carrying an IPv4 packet. */
function ccRecord(seq: number, size = 60 + (seq % 200)): Buffer {
  const packet = Buffer.alloc(size, seq & 0xff);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet[9] = 17;
  return ipccPdu(CTX, seq, T, packet, 'fromTarget');
}

function iriRecord(seq: number): Buffer {
  return ipiriPdu(CTX, seq, T, 'iRI-Report', { accessEventType: 'interimUpdate', targetUsername: 'user-1', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4' });
}

/** Appends records `from`..`to` - 1 (sequence numbers) to a journal, in batches. */
async function appendRange(j: Journal, make: (seq: number) => Buffer, from: number, to: number, batch = 50): Promise<void> {
  for (let s = from; s < to; s += batch) {
    const recs: Buffer[] = [];
    for (let k = s; k < Math.min(to, s + batch); k++) recs.push(make(k));
    await j.append(recs);
  }
}

async function confirmedAll(link: DeliveryLink, j: Journal, upTo: bigint): Promise<void> {
  while (j.confirmed < upTo) await once(link, 'confirmed');
}

describe('delivery to the reference LEMF (end to end)', function () {
  let tmp: string;
  let pki: TestPki;
  let out: string;
  let journals: Record<'hi2' | 'hi3', Journal>;
  let lemf: Lemf | undefined;
  let delivery: Delivery | undefined;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-delivery-lemf-'));
    pki = await makeTestPki(path.join(tmp, 'pki'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(async () => {
    out = fs.mkdtempSync(path.join(tmp, 'out-'));
    const jdir = fs.mkdtempSync(path.join(tmp, 'journal-'));
    journals = { hi2: await Journal.open(path.join(jdir, 'hi2')), hi3: await Journal.open(path.join(jdir, 'hi3')) };
  });
  afterEach(async () => {
    await delivery?.close();
    await lemf?.close().catch(() => undefined);
    await journals.hi2.close();
    await journals.hi3.close();
    delivery = lemf = undefined;
  });

  const startLemf = (at: Partial<LemfOptions> = {}) =>
    Lemf.start({ hi2: '127.0.0.1:0', hi3: '127.0.0.1:0', out, ca: pki.ca, cert: pki.lemf.cert, key: pki.lemf.key, ...at });

  function startDelivery(l: Lemf, over: Partial<TcpAgency> = {}): Delivery {
    const agency: TcpAgency = {
      id: 'lea-e2e',
      country: 'DE',
      delivery: 'tcp',
      operatorId: 'OPERATOR-1',
      networkElementId: 'mediator-1',
      timestampFormat: 'microsecond',
      domainIdVersion: 40,
      hi2: { address: l.addresses.hi2 },
      hi3: { address: l.addresses.hi3 },
      tls: { ca: pki.ca, cert: pki.mediator.cert, key: pki.mediator.key, servername: 'localhost', minVersion: 'TLSv1.3' },
      keepalive: { interval: 1000, wait: 10_000 },
      pduAck: false,
      ...over,
    };
    // quick retries: the LEMF is restarted within moments
    delivery = new Delivery({ agencies: [agency] }, { journalFor: (_a, hi) => journals[hi], tuning: { backoffInitialMs: 50, backoffMaxMs: 500 } });
    delivery.start();
    return delivery;
  }

  it('delivers HI2 and HI3 records to the LEMF, which sees each once, in order, and answers the keep-alives', async () => {
    lemf = await startLemf();
    await appendRange(journals.hi2, iriRecord, 0, 300);
    await appendRange(journals.hi3, ccRecord, 0, 700);
    const d = startDelivery(lemf);
    await Promise.all([confirmedAll(d.link('lea-e2e', 'hi2')!, journals.hi2, 300n), confirmedAll(d.link('lea-e2e', 'hi3')!, journals.hi3, 700n)]);
    const s = lemf.summary();
    assert.deepEqual(s.records[LIID], { iri: 300, cc: 700, ccPackets: 700 });
    assert.equal(s.gaps.count, 0);
    assert.equal(s.duplicates, 0);
    assert.equal(s.decodeErrors, 0);
    assert.ok(s.keepAlivesAnswered >= 2);
    for (const st of d.state()) {
      assert.equal(st.status, 'connected');
      assert.equal(st.backlogRecords, 0);
      assert.equal(st.lastError, undefined);
      assert.ok(st.keepalivesAnswered >= 1);
    }
  });

  it('with pduAck, records are confirmed by the LEMF\'s PDU acknowledgements', async () => {
    lemf = await startLemf();
    await appendRange(journals.hi3, ccRecord, 0, 100);
    const d = startDelivery(lemf, { pduAck: true, hi3: { address: lemf.addresses.hi3 } });
    await confirmedAll(d.link('lea-e2e', 'hi3')!, journals.hi3, 100n);
    const s = lemf.summary();
    assert.ok(s.pduAcksAnswered >= 1);
    assert.equal(s.records[LIID]!.cc, 100);
  });

  it('LEMF stopped mid-stream and restarted: every record arrives, none twice after de-duplication, keep-alives resume', async () => {
    lemf = await startLemf();
    const ports = lemf.addresses;
    const total = 5000;
    const big = (seq: number) => ccRecord(seq, 1200);
    await appendRange(journals.hi3, big, 0, 3000);
    const d = startDelivery(lemf);
    const link = d.link('lea-e2e', 'hi3')!;
    // stop the LEMF while records are streaming: what it received after its last answer is resent
    while (journals.hi3.confirmed < 200n) await once(link, 'confirmed');
    const disconnected = once(link, 'disconnected');
    await lemf.close();
    const [reason] = await disconnected;
    assert.ok(['LIG_ERR_DELIVERY_CLOSED', 'LIG_ERR_DELIVERY_KEEPALIVE_TIMEOUT'].includes(reason.code), reason.code);
    // records keep coming while the LEMF is away; the link retries meanwhile
    await appendRange(journals.hi3, big, 3000, 4000);
    await once(link, 'connectFailed');
    assert.notEqual(link.state().status, 'connected');
    assert.ok(journals.hi3.confirmed < 4000n);
    lemf = await startLemf({ hi2: { host: '127.0.0.1', port: ports.hi2.port }, hi3: { host: '127.0.0.1', port: ports.hi3.port } });
    const answeredBefore = link.state().keepalivesAnswered;
    await appendRange(journals.hi3, big, 4000, total, 25);
    await confirmedAll(link, journals.hi3, BigInt(total));
    const s = lemf.summary();
    assert.equal(s.records[LIID]!.cc, total, 'every record, once');
    assert.equal(s.missing, 0);
    assert.equal(s.gaps.count, 0);
    // an idle link keeps its connection alive: a keep-alive after the interval, answered
    const before = link.state().keepalivesAnswered;
    assert.ok(before > answeredBefore, 'keep-alives answered after the restart');
    await once(link, 'answered');
    assert.ok(link.state().keepalivesAnswered > before);
    const st = link.state();
    assert.equal(st.status, 'connected');
    assert.ok(st.reconnects >= 1);
    assert.equal(st.lastConfirmed, BigInt(total));
    assert.equal(st.backlogRecords, 0);
  });
});

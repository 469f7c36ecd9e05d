/**
 * The reference LEMF end to end, over real TLS on 127.0.0.1: a client with the mediator's
 * certificate sends IRI on HI2 and CC on HI3, keep-alives and PDU acknowledgement requests
 * among them, written in pieces cut at random points. What the LEMF stores is checked byte
 * for byte (hi2.ber, hi3.ber), line by line (records.jsonl), packet by packet (cc/<LIID>.pcap,
 * read back by lig's pcap reader and by tshark), and its answers are checked as the client
 * receives them, including that each arrives only after the records before it are on disk.
 * The stored streams are then decoded by the independent etsi-oracle.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import {
  RecordContext, Stamp, decodePsPdu, decodeStream, encodePsPdu, ipccPdu, ipiriPdu, keepAlivePdu, pduAckRequestPdu, psHeader, toJsonValue, triPdu,
} from '../../src/etsi';
import { Lemf, liidFileName } from '../../src/lemf';
import { oracleDecode, parseXer } from '../helpers/oracle';
import { requireShared, skipOrFail } from '../helpers/shared';
import { ipv4Udp } from '../helpers/identity-packets';
import { Client, Setup, closeLemfSuite, openLemfSuite, pdus, prng, readRecords } from './lemf-helpers';

const SEED = Number(process.env.LEMF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const A: RecordContext = { liid: 'LIID-A', operatorId: 'OP', cin: 11 };
/** A LIID that must not reach a path as it is. */
const B: RecordContext = { liid: '../b/é', operatorId: 'OP', cin: 3 };
const TRANSPORT: RecordContext = { liid: 'LIID-A', operatorId: 'OP' };
const session = { targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4' } as const;

const at = (i: number): Stamp => ({ seconds: 1_700_000_000 + i, micros: (i * 137_911) % 1_000_000 });

interface Sent {
  bytes: Buffer;
  /** What the LEMF must answer with (the payload alternative), if anything. */
  answer?: string;
}

/** HI2: IRI of two LIIDs, an option request, a PDU acknowledgement request, keep-alives. */
function hi2Stream(): Sent[] {
  return [
    { bytes: triPdu(TRANSPORT, 100, at(0), { optionRequest: { requestedOptions: [{ pDUAcknowledgement: null }] } }), answer: 'optionResponse' },
    { bytes: ipiriPdu(A, 0, at(1), 'iRI-Begin', { accessEventType: 'accessAccept', ...session }) },
    { bytes: ipiriPdu(B, 0, at(2), 'iRI-Begin', { accessEventType: 'sessionStart', ...session }) },
    { bytes: keepAlivePdu(TRANSPORT, 101, at(3)), answer: 'keep-aliveResponse' },
    { bytes: ipiriPdu(A, 1, at(4), 'iRI-Continue', { accessEventType: 'interimUpdate', ...session }) },
    { bytes: pduAckRequestPdu(A, 102, at(5)), answer: 'pDUAcknowledgementResponse' },
    { bytes: ipiriPdu(A, 2, at(6), 'iRI-End', { accessEventType: 'accessEnd', ...session }) },
    { bytes: keepAlivePdu(TRANSPORT, 103, at(7)), answer: 'keep-aliveResponse' },
  ];
}

interface Packet {
  liid: string;
  data: Buffer;
  origLen: number;
  t: Stamp;
}

/** HI3: IPCC of two LIIDs (micro and generalized time stamps, one truncated packet), keep-alives. */
function hi3Stream(rnd: () => number): { sent: Sent[]; packets: Packet[] } {
  const sent: Sent[] = [];
  const packets: Packet[] = [];
  const seq = new Map<string, number>();
  const cc = (ctx: RecordContext, i: number) => {
    const data = ipv4Udp('192.0.2.1', `198.51.100.${i}`, 5000 + i, 53, Buffer.alloc(Math.floor(rnd() * 1400), i));
    const n = seq.get(ctx.liid) ?? 0;
    seq.set(ctx.liid, n + 1);
    sent.push({ bytes: ipccPdu(ctx, n, at(10 + i), data, i % 2 ? 'toTarget' : 'fromTarget') });
    packets.push({ liid: ctx.liid, data, origLen: data.length, t: at(10 + i) });
  };
  for (let i = 0; i < 6; i++) cc(A, i);
  sent.push({ bytes: keepAlivePdu(TRANSPORT, 200, at(20)), answer: 'keep-aliveResponse' });
  cc({ ...B, timestampFormat: 'generalized' }, 6);
  cc(A, 7);
  // a truncated packet: the first 24 bytes of a 1,000-byte one
  const whole = ipv4Udp('192.0.2.1', '198.51.100.99', 6000, 53, Buffer.alloc(972, 7));
  sent.push({
    bytes: encodePsPdu({
      pSHeader: psHeader(A, seq.get(A.liid)!, at(30)),
      payload: { cCPayloadSequence: [{ payloadDirection: 'toTarget', cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPTruncatedPacket: { truncatedPacket: whole.subarray(0, 24), originalLength: 1000 } } } } }] },
    }),
  });
  packets.push({ liid: A.liid, data: whole.subarray(0, 24), origLen: 1000, t: at(30) });
  seq.set(A.liid, seq.get(A.liid)! + 1);
  for (let i = 8; i < 12; i++) cc(A, i);
  sent.push({ bytes: keepAlivePdu(TRANSPORT, 201, at(40)), answer: 'keep-aliveResponse' });
  return { sent, packets };
}

describe(`lig lemf: receive, store, answer (seed ${SEED})`, function () {
  let s: Setup;
  let out: string;
  let lemf: Lemf;
  const rnd = prng(SEED);
  const hi2 = hi2Stream();
  const hi3 = hi3Stream(rnd);
  const requests = (list: Sent[]) => list.filter((x) => x.answer);

  before(async () => ({ s, out, lemf } = await openLemfSuite('lig-lemf-')));
  after(() => closeLemfSuite(s, lemf));

  /** Sends a stream; checks each answer as it arrives, against the records on disk at that moment. */
  async function deliver(hi: 'hi2' | 'hi3', list: Sent[]): Promise<void> {
    const client = await Client.open(s, lemf.addresses[hi].port);
    const processed = pdus(lemf, hi, list.length);
    const onDisk: number[] = [];
    client.on('answer', () => onDisk.push(readRecords(out).filter((r) => r.hi === hi).length));
    await client.sendSplit(Buffer.concat(list.map((x) => x.bytes)), rnd);
    const answers = await client.answered(requests(list).length);
    await processed;
    await client.end();

    const asked = requests(list);
    assert.equal(answers.length, asked.length);
    answers.forEach((ans, i) => {
      const req = decodePsPdu(asked[i]!.bytes);
      assert.deepEqual(Object.keys(ans.payload), ['tRIPayload']);
      assert.deepEqual(Object.keys((ans.payload as { tRIPayload: object }).tRIPayload), [asked[i]!.answer]);
      for (const k of ['li-psDomainId', 'lawfulInterceptionIdentifier', 'communicationIdentifier', 'sequenceNumber'] as const) {
        assert.deepEqual(ans.pSHeader[k], req.pSHeader[k], `answer ${i}: ${k}`);
      }
      assert.ok(Number(ans.pSHeader.microSecondTimeStamp!.seconds) > req.pSHeader.microSecondTimeStamp!.seconds, 'a fresh time stamp');
      if (asked[i]!.answer === 'optionResponse') {
        assert.deepEqual((ans.payload as { tRIPayload: object }).tRIPayload, { optionResponse: { acceptedOptions: [{ pDUAcknowledgement: null }], declinedOptions: [] } });
      }
      // every PDU up to the request was on disk before its answer left the LEMF
      assert.ok(onDisk[i]! >= list.indexOf(asked[i]!) + 1, `answer ${i} came with ${onDisk[i]} records on disk`);
    });
  }

  it('answers keep-alives, the PDU acknowledgement request and the option request on HI2', async () => {
    await deliver('hi2', hi2);
  });

  it('answers the keep-alives on HI3', async () => {
    await deliver('hi3', hi3.sent);
  });

  it('stores hi2.ber and hi3.ber byte-identical to what was sent', () => {
    assert.ok(fs.readFileSync(path.join(out, 'hi2.ber')).equals(Buffer.concat(hi2.map((x) => x.bytes))), 'hi2.ber');
    assert.ok(fs.readFileSync(path.join(out, 'hi3.ber')).equals(Buffer.concat(hi3.sent.map((x) => x.bytes))), 'hi3.ber');
  });

  it('writes one records.jsonl line per PDU: interface, connection, offset in the .ber file, the decoded PDU', () => {
    const recs = readRecords(out);
    const expect = (hi: 'hi2' | 'hi3', list: Sent[], conn: number) => {
      let offset = 0;
      return list.map((x) => {
        const r = { hi, conn, offset, pdu: toJsonValue(decodePsPdu(x.bytes)) };
        offset += x.bytes.length;
        return r;
      });
    };
    assert.deepEqual(recs, [...expect('hi2', hi2, 1), ...expect('hi3', hi3.sent, 2)]);
  });

  it('writes each LIID\'s IP packets to cc/<LIID>.pcap (LINKTYPE_RAW, times from the records)', () => {
    const files = fs.readdirSync(path.join(out, 'cc')).sort();
    assert.deepEqual(files, [`${liidFileName(Buffer.from(B.liid))}.pcap`, 'LIID-A.pcap'].sort());
    assert.equal(liidFileName(Buffer.from(B.liid)), '%2E.%2Fb%2F%C3%A9');
    for (const ctx of [A, B]) {
      const f = parseCaptureFile(fs.readFileSync(path.join(out, 'cc', `${liidFileName(Buffer.from(ctx.liid))}.pcap`)));
      const want = hi3.packets.filter((p) => p.liid === ctx.liid);
      assert.equal(f.format, 'pcap');
      assert.deepEqual(
        f.packets.map((p) => ({ linktype: p.linktype, data: Buffer.from(p.data).toString('hex'), origLen: p.origLen, ts: p.ts })),
        want.map((p) => ({ linktype: 101, data: p.data.toString('hex'), origLen: p.origLen, ts: { sec: p.t.seconds, nsec: p.t.micros * 1000 } })),
      );
    }
  });

  it('tshark reads the pcaps as the same IP packets', function () {
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipOrFail(this, 'tshark is not installed (apt-get install -y tshark)');
    for (const ctx of [A, B]) {
      const file = path.join(out, 'cc', `${liidFileName(Buffer.from(ctx.liid))}.pcap`);
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/s', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'ip.src', '-e', 'ip.dst'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const want = hi3.packets.filter((p) => p.liid === ctx.liid).map((p) =>
        [`${p.t.seconds}.${String(p.t.micros * 1000).padStart(9, '0')}`, p.origLen, p.data.length, '192.0.2.1', `198.51.100.${p.data[19]}`].join(' '));
      assert.deepEqual(r.stdout.trimEnd().split('\n'), want);
    }
  });

  it('the stored hi2.ber and hi3.ber decode with the etsi-oracle, PDU for PDU', async function () {
    for (const [hi, list] of [['hi2', hi2], ['hi3', hi3.sent]] as const) {
      const r = await oracleDecode(this, path.join(out, `${hi}.ber`));
      assert.ok(r.ok, `${hi}: ${r.stderr}`);
      assert.equal(parseXer(r.xer).length, list.length, hi);
    }
  });

  it('counts it all in the summary, written to summary.json on close; logs carry no LIID', async () => {
    const summary = await lemf.close();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')), summary);
    // a LIID that is not printable ASCII is shown as hex
    assert.deepEqual(summary.records, { 'LIID-A': { iri: 3, cc: 12, ccPackets: 12 }, 'hex:2e2e2f622fc3a9': { iri: 1, cc: 1, ccPackets: 1 } });
    assert.equal(summary.pdus, hi2.length + hi3.sent.length);
    assert.deepEqual([summary.keepAlivesAnswered, summary.pduAcksAnswered, summary.optionsAnswered], [4, 1, 1]);
    assert.deepEqual([summary.gaps.count, summary.duplicates, summary.decodeErrors, summary.truncated], [0, 0, 0, 0]);
    assert.deepEqual([summary.connections, summary.refusals], [2, 0]);
    assert.ok(s.logs.length > 0);
    for (const line of s.logs) for (const liid of [A.liid, B.liid, 'LIID']) assert.ok(!line.includes(liid), line);
  });
});

describe("lig lemf: OpenLI's recorded HI3 stream (version 17 headers, non-minimal lengths)", function () {
  let s: Setup;
  let lemf: Lemf;
  let out: string;

  before(async () => ({ s, out, lemf } = await openLemfSuite('lig-lemf-openli-')));
  after(() => closeLemfSuite(s, lemf));

  it('stores it byte for byte, answers its keep-alives with their own headers, writes its packets', async function () {
    const sample = fs.readFileSync(requireShared(this, 'reference', 'samples', 'libtrace-etsi_10_pings_HI3.raw_tcp'));
    const entries = [...decodeStream(sample)];
    assert.ok(entries.every((e) => e.pdu), 'lig decodes the sample');
    const keepAlives = entries.filter((e) => 'keep-alive' in ((e.pdu!.payload as { tRIPayload?: object }).tRIPayload ?? {}));
    const ipcc = entries.filter((e) => 'cCPayloadSequence' in e.pdu!.payload);
    assert.ok(keepAlives.length > 0 && ipcc.length > 0);

    const client = await Client.open(s, lemf.addresses.hi3.port);
    const processed = pdus(lemf, 'hi3', entries.length);
    await client.sendSplit(sample, prng(SEED));
    const answers = await client.answered(keepAlives.length);
    await processed;
    await client.end();

    answers.forEach((a, i) => {
      const req = keepAlives[i]!.pdu!.pSHeader;
      assert.deepEqual(a.payload, { tRIPayload: { 'keep-aliveResponse': null } });
      assert.equal(a.pSHeader['li-psDomainId'], '0.4.0.2.2.5.1.17.0');
      for (const k of ['lawfulInterceptionIdentifier', 'authorizationCountryCode', 'communicationIdentifier', 'sequenceNumber'] as const) {
        assert.deepEqual(a.pSHeader[k], req[k], `answer ${i}: ${k}`);
      }
    });
    assert.ok(fs.readFileSync(path.join(out, 'hi3.ber')).equals(sample));
    const summary = await lemf.close();
    assert.equal(summary.duplicates + summary.decodeErrors, 0);
    const liid = Buffer.from(ipcc[0]!.pdu!.pSHeader.lawfulInterceptionIdentifier as Uint8Array);
    const pcap = parseCaptureFile(fs.readFileSync(path.join(out, 'cc', `${liidFileName(liid)}.pcap`)));
    assert.deepEqual(pcap.packets.map((p) => Buffer.from(p.data).toString('hex')), ipcc.map((e) => {
      const cc = (e.pdu!.payload as { cCPayloadSequence: Array<{ cCContents: { iPCC: { iPCCContents: { iPPackets: Uint8Array } } } }> }).cCPayloadSequence;
      return Buffer.from(cc[0]!.cCContents.iPCC.iPCCContents.iPPackets).toString('hex');
    }));
  });
});

/**
 * Batch → records (encode-batch.ts, packet-headers.ts): content tasks give IPCC records with
 * the packet byte for byte and the match's direction; IRI-only tasks give packet header
 * reports holding the IP and transport headers and never a payload byte (a property test
 * over random batches, with packets whose header length is known by construction); unknown
 * tasks are dropped; numbering has no gap even when records are dropped, and wraps behind a
 * cINReset.
 */
import { strict as assert } from 'node:assert';
import { MAX_RECORD_BYTES } from '../../src/delivery/journal';
import { ipccPdu } from '../../src/etsi';
import type { Intercept } from '../../src/config';
import { type JournalShare, RecordEncoder, type ResolvedTask, newEncodeCounters, routeBatch } from '../../src/mediation/encode-batch';
import { stampOfMicros } from '../../src/mediation/stamp';
import { MAX_SEQUENCE_NUMBER, Numbering } from '../../src/mediation/numbering';
import { headerLength } from '../../src/mediation/packet-headers';
import { Direction, agencyTcp, batchOf, intercept, ipv4, ipv6, packetEvent, readRecord, rng } from '../mediation-fixtures';

const CONTENT = intercept('LIID-CONTENT', 'content');
const IRI = intercept('LIID-IRI', 'iri-only');
const TASKS = new Map<bigint, ResolvedTask>([
  [11n, { intercept: CONTENT, cin: 3 }],
  [22n, { intercept: IRI, cin: 4 }],
]);
const resolve = (id: bigint) => TASKS.get(id);

/** Routes and encodes a batch as the handler does, one journal share at a time. */
function encodeAll(events: Parameters<typeof batchOf>[1], numbering = new Map<string, Numbering>(), counters = newEncodeCounters(), agency = agencyTcp()) {
  const enc = new RecordEncoder([agency]);
  const shares = routeBatch(batchOf(1n, events), resolve, counters);
  const out = new Map<string, Uint8Array[]>();
  for (const [k, share] of shares) {
    if (!numbering.has(k)) numbering.set(k, new Numbering());
    out.set(k, enc.encode(share, numbering.get(k)!, counters));
  }
  return { out, counters, shares };
}

describe('mediation: packet headers', () => {
  it('ends after the IP and transport headers of IPv4 and IPv6 packets', () => {
    const pay = Buffer.from('PAYLOAD-PAYLOAD');
    for (const p of [
      ipv4('tcp', pay),
      ipv4('tcp', pay, { optionWords: 3, tcpOptionWords: 5 }),
      ipv4('udp', pay),
      ipv4('icmp', pay),
      ipv4('udp', pay, { fragOffset: 185 }),
      ipv6('tcp', pay),
      ipv6('udp', pay, { hbh: true }),
      ipv4('tcp', Buffer.alloc(0)),
    ]) {
      assert.equal(headerLength(p.bytes), p.headerBytes);
    }
  });

  it('never passes the end of a header that was captured, and gives 0 for what is not IP', () => {
    const p = ipv4('tcp', Buffer.from('x'.repeat(100)), { tcpOptionWords: 2 });
    for (let cut = 0; cut <= p.bytes.length; cut++) {
      const n = headerLength(p.bytes.subarray(0, cut));
      assert.ok(n <= Math.min(cut, p.headerBytes), `cut ${cut}: ${n}`);
    }
    assert.equal(headerLength(Buffer.from([0x45])), 0);
    assert.equal(headerLength(Buffer.from('GET / HTTP/1.1')), 0);
    const badIhl = Buffer.from(p.bytes);
    badIhl[0] = 0x44;
    assert.equal(headerLength(badIhl), 0);
    const esp = ipv6('udp', Buffer.from('secret')).bytes;
    esp[6] = 50; // ESP: the rest is payload, encrypted or not
    assert.equal(headerLength(esp), 40);
  });
});

describe('mediation: encoding batches', () => {
  it('content: one IPCC record per match, the packet byte for byte, in the match direction, numbered from 0', () => {
    const a = ipv4('udp', Buffer.from('first')).bytes;
    const b = ipv6('tcp', Buffer.from('second')).bytes;
    const { out, counters } = encodeAll([
      packetEvent(a, [[11n, Direction.DIRECTION_FROM_TARGET]], 1_700_000_000_000_001n),
      packetEvent(b, [[11n, Direction.DIRECTION_TO_TARGET]], 1_700_000_000_999_999n),
      packetEvent(a, [[11n, Direction.DIRECTION_BOTH]]),
      packetEvent(b, [[11n, Direction.DIRECTION_UNSPECIFIED]]),
    ]);
    assert.deepEqual([...out.keys()], ['lea-1/hi3']);
    const recs = out.get('lea-1/hi3')!.map(readRecord);
    assert.deepEqual(
      recs.map((r) => [r.kind, r.liid, r.cin, r.seq, r.direction]),
      [
        ['cc', 'LIID-CONTENT', 3, 0, 'fromTarget'],
        ['cc', 'LIID-CONTENT', 3, 1, 'toTarget'],
        ['cc', 'LIID-CONTENT', 3, 2, 'fromTarget'],
        ['cc', 'LIID-CONTENT', 3, 3, 'indeterminate'],
      ],
    );
    assert.deepEqual([recs[0]!.data, recs[1]!.data], [a, b]);
    assert.deepEqual([recs[0]!.seconds, recs[0]!.micros, recs[1]!.micros], [1_700_000_000, 1, 999_999]);
    assert.equal(counters.ccRecords, 4);
    // the hot path is byte-identical to the general encoder
    const ctx = { liid: 'LIID-CONTENT', cin: 3, operatorId: 'OPERATOR-1', networkElementId: 'mediator-1', authorizationCountryCode: 'DE', timestampFormat: 'microsecond' as const, domainIdVersion: 40 };
    assert.deepEqual(Buffer.from(out.get('lea-1/hi3')![0]!), ipccPdu(ctx, 0, stampOfMicros(1_700_000_000_000_001n), a, 'fromTarget'));
  });

  it('drops matches of tasks the probe was not given, counts them, and repeats nothing', () => {
    const a = ipv4('udp', Buffer.from('x')).bytes;
    const { out, counters } = encodeAll([
      packetEvent(a, [
        [99n, Direction.DIRECTION_FROM_TARGET],
        [11n, Direction.DIRECTION_FROM_TARGET],
        [11n, Direction.DIRECTION_TO_TARGET],
      ]),
      packetEvent(a, [[7n, Direction.DIRECTION_TO_TARGET]]),
      { timeUs: 1n, kind: { $case: 'iri', iri: { matches: [{ taskId: 11n, direction: 1, sessionKey: '' }], protocol: 'dns', fields: {}, content: Buffer.alloc(0) } } },
    ]);
    assert.equal(out.get('lea-1/hi3')!.length, 1);
    assert.equal(counters.unknownTasks, 2);
    assert.equal(counters.unsupportedEvents, 1);
  });

  it('a record too large for the journal is dropped before it takes a number: no gap', () => {
    const big = ipv4('udp', Buffer.alloc(MAX_RECORD_BYTES)).bytes;
    const small = ipv4('udp', Buffer.from('ok')).bytes;
    const { out, counters } = encodeAll([
      packetEvent(small, [[11n, Direction.DIRECTION_FROM_TARGET]]),
      packetEvent(big, [[11n, Direction.DIRECTION_FROM_TARGET]]),
      packetEvent(small, [[11n, Direction.DIRECTION_FROM_TARGET]]),
      packetEvent(small, [[11n, Direction.DIRECTION_FROM_TARGET]]),
    ]);
    assert.deepEqual(out.get('lea-1/hi3')!.map((r) => readRecord(r).seq), [0, 1, 2]);
    assert.equal(counters.tooLarge, 1);
    // a capture time GeneralizedTime cannot carry (year 292277) is refused by the encoder
    const gt = encodeAll(
      [packetEvent(small, [[11n, 1]]), packetEvent(small, [[11n, 1]], 2n ** 63n), packetEvent(small, [[11n, 1]])],
      undefined,
      undefined,
      agencyTcp({ timestampFormat: 'generalized' }),
    );
    assert.deepEqual(gt.out.get('lea-1/hi3')!.map((r) => readRecord(r).seq), [0, 1]);
    assert.equal(gt.counters.invalid, 1);
  });

  it('numbering wraps after the largest sequence number, behind a cINReset', () => {
    const n = new Numbering();
    n.set('LIID-CONTENT', 3, MAX_SEQUENCE_NUMBER);
    const numbering = new Map([['lea-1/hi3', n]]);
    const a = ipv4('udp', Buffer.from('x')).bytes;
    const { out, counters } = encodeAll([packetEvent(a, [[11n, 1]]), packetEvent(a, [[11n, 1]]), packetEvent(a, [[11n, 1]])], numbering);
    assert.deepEqual(
      out.get('lea-1/hi3')!.map((r) => readRecord(r)).map((r) => [r.kind, r.seq]),
      [
        ['cc', MAX_SEQUENCE_NUMBER],
        ['cinReset', 0],
        ['cc', 0],
        ['cc', 1],
      ],
    );
    assert.equal(counters.cinResets, 1);
  });

  it('property: IRI-only never yields a CC record nor a payload byte, whatever the probe sends', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const built: { bytes: Buffer; headerBytes: number | undefined }[] = [];
      const events = [];
      for (let k = 0; k < 1 + r(40); k++) {
        const payload = Buffer.alloc(r(300), 0xee);
        const kind = r(9);
        const p =
          kind === 0
            ? ipv4('tcp', payload, { optionWords: r(4), tcpOptionWords: r(6) })
            : kind === 1
              ? ipv4('udp', payload)
              : kind === 2
                ? ipv4('icmp', payload)
                : kind === 3
                  ? ipv6('tcp', payload, { hbh: r(2) === 1 })
                  : kind === 4
                    ? ipv6('udp', payload)
                    : kind === 5
                      ? ipv4('udp', payload, { fragOffset: 1 + r(1000) })
                      : kind === 6
                        ? { bytes: Buffer.from(Array.from({ length: r(80) }, () => r(256))), headerBytes: undefined } // anything at all
                        : kind === 7
                          ? { bytes: ipv4('tcp', payload).bytes.subarray(0, r(60)), headerBytes: undefined } // cut short
                          : { bytes: Buffer.concat([ipv6('udp', Buffer.alloc(0)).bytes, payload]), headerBytes: 48 };
        built.push(p);
        const matches: [bigint, Direction][] = [[22n, r(4) as Direction]];
        if (r(3) === 0) matches.push([r(2) === 0 ? 22n : 99n, r(4) as Direction]);
        events.push(packetEvent(p.bytes, matches, BigInt(1_600_000_000_000_000 + r(1_000_000_000))));
      }
      const { out } = encodeAll(events);
      assert.equal(out.has('lea-1/hi3'), false, `seed ${seed}: no CC journal share`);
      const recs = (out.get('lea-1/hi2') ?? []).map(readRecord);
      assert.ok(recs.every((x) => x.kind === 'iri'), `seed ${seed}: only IRI records`);
      // Records come in event order, one per packet that has headers to report.
      let i = 0;
      for (const p of built) {
        const n = headerLength(p.bytes);
        if (n === 0) continue;
        const rec = recs[i++]!;
        assert.deepEqual(rec.data, p.bytes.subarray(0, n), `seed ${seed}: a prefix of the packet`);
        // built packets: exactly their headers, so not one byte of the payload after them
        if (p.headerBytes !== undefined) assert.equal(rec.data!.length, p.headerBytes, `seed ${seed}: exactly the built headers`);
        assert.ok(rec.data!.length <= p.bytes.length);
      }
      assert.equal(i, recs.length, `seed ${seed}: nothing else`);
      assert.deepEqual(recs.map((x) => x.seq), recs.map((_, k) => k), `seed ${seed}: numbered without gaps`);
    }
  });

  it('routes each intercept to its own agency journal and interface', () => {
    const other: Intercept = { ...intercept('LIID-B', 'content'), agency: 'lea-2' };
    const tasks = new Map<bigint, ResolvedTask>([
      [11n, { intercept: CONTENT, cin: 1 }],
      [22n, { intercept: IRI, cin: 1 }],
      [33n, { intercept: other, cin: 9 }],
    ]);
    const a = ipv4('udp', Buffer.from('x')).bytes;
    const shares = routeBatch(
      batchOf(5n, [packetEvent(a, [[11n, 1], [22n, 2], [33n, 3]])]),
      (id) => tasks.get(id),
      newEncodeCounters(),
    );
    const summary = (s: JournalShare) => [s.agency, s.hi, s.records.map((x) => [x.kind, x.liid, x.direction])];
    assert.deepEqual([...shares.values()].map(summary), [
      ['lea-1', 'hi3', [['ipcc', 'LIID-CONTENT', 'fromTarget']]],
      ['lea-1', 'hi2', [['report', 'LIID-IRI', 'toTarget']]],
      ['lea-2', 'hi3', [['ipcc', 'LIID-B', 'fromTarget']]],
    ]);
  });
});

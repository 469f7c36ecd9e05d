/**
 * File delivery, the pure parts: LIID directory names and file names, and where each kind of
 * record goes with exactly which bytes (pcap records checked against headers assembled by
 * hand, JSON lines field by field), and that no input makes routing throw.
 */
import { strict as assert } from 'node:assert';
import { isOutputDirName, liidDirName, fileName, parseFileName, utcStamp, REJECTS_DIR, PRIVATE_DIR } from '../../src/delivery/files/names';
import { routeRecord } from '../../src/delivery/files/route';
import {
  RecordContext,
  Stamp,
  cinResetPdu,
  decodePsPdu,
  emailCcPdu,
  emailIriPdu,
  encodePsPdu,
  ipAddress,
  ipccPdu,
  ipiriPdu,
  keepAlivePdu,
  packetHeaderReportPdu,
  psHeader,
} from '../../src/etsi';

const CTX: RecordContext = { liid: 'LIID-42', operatorId: 'OPERATOR', cin: 4711 };
const T: Stamp = { seconds: 1_700_000_000, micros: 123_456 }; // 2023-11-14T22:13:20.123456Z
const PACKET = Buffer.from('450000200000400040110000c0000201c6336407d43100350008abcd', 'hex');

/** A pcap record header written out by hand: ts_sec, ts_usec, incl_len, orig_len, little-endian. */
function recordHeader(sec: number, usec: number, incl: number, orig: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(sec, 0);
  h.writeUInt32LE(usec, 4);
  h.writeUInt32LE(incl, 8);
  h.writeUInt32LE(orig, 12);
  return h;
}

/** Inverse of liidDirName, written independently, to prove it is one-to-one. */
function undoDirName(name: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '%') {
      out.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(name.charCodeAt(i));
  }
  return Buffer.from(out);
}

function lineOf(bytes: Buffer, hi: 'hi2' | 'hi3' = 'hi2'): Record<string, any> {
  const r = routeRecord(bytes, hi);
  assert.equal(r.kind, 'iri');
  if (r.kind !== 'iri') throw new Error('unreachable');
  const text = r.bytes.toString('utf8');
  assert.ok(text.endsWith('\n') && !text.slice(0, -1).includes('\n'), 'exactly one line');
  return JSON.parse(text);
}

describe('files: names', () => {
  it('LIID directory names keep plain LIIDs and escape everything else', () => {
    assert.equal(liidDirName('LIID-42'), 'LIID-42');
    assert.equal(liidDirName('a.b_c-D9'), 'a.b_c-D9');
    assert.equal(liidDirName('liid b/2'), 'liid%20b%2F2');
    assert.equal(liidDirName('100%'), '100%25');
    assert.equal(liidDirName('..'), '%2E.');
    assert.equal(liidDirName('.lig'), '%2Elig');
    assert.equal(liidDirName('_rejects'), '%5Frejects');
    assert.equal(liidDirName(Uint8Array.from([0x00, 0xff, 0x41])), '%00%FFA');
  });

  it('no two LIIDs share a directory, and no LIID names a reserved one', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = Buffer.from('aZ09._-%/ \\:\x00\xff', 'latin1');
    const names = new Map<string, string>();
    for (let k = 0; k < 5000; k++) {
      const liid = Buffer.from(Array.from({ length: 1 + rnd(25) }, () => alphabet[rnd(alphabet.length)]!));
      const name = liidDirName(liid);
      assert.ok(isOutputDirName(name), name);
      assert.ok(!name.includes('/') && name !== '.' && name !== '..' && !name.startsWith('.') && !name.startsWith('_'), name);
      assert.ok(undoDirName(name).equals(liid), `${name} decodes back`);
      const before = names.get(name);
      assert.ok(before === undefined || before === liid.toString('hex'), `${name} for two LIIDs`);
      names.set(name, liid.toString('hex'));
    }
    assert.ok(isOutputDirName(REJECTS_DIR));
    for (const bad of [PRIVATE_DIR, '.', '..', '', 'a/b', '_x', '%zz', 'a%2']) assert.ok(!isOutputDirName(bad), bad);
  });

  it('file names carry the UTC start and a counter, and parse back', () => {
    assert.equal(utcStamp(0), '19700101T000000Z');
    const t = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    assert.equal(fileName('cc', 1, t), 'cc-20250102T030405Z-000001.pcap');
    assert.equal(fileName('iri', 42, t), 'iri-20250102T030405Z-000042.jsonl');
    assert.equal(fileName('reject', 7, t), 'rejects-000007.ber');
    assert.deepEqual(parseFileName('cc-20250102T030405Z-000001.pcap.part'), { kind: 'cc', n: 1, part: true });
    assert.deepEqual(parseFileName(fileName('iri', 1_234_567, t)), { kind: 'iri', n: 1_234_567, part: false });
    assert.deepEqual(parseFileName('rejects-000007.ber'), { kind: 'reject', n: 7, part: false });
    for (const bad of ['cc-2025-000001.pcap', 'iri-20250102T030405Z-1.jsonl', 'MANIFEST.sha256', 'x.part', 'cc-20250102T030405Z-000001.pcapx']) {
      assert.equal(parseFileName(bad), undefined, bad);
    }
  });
});

describe('files: routing records', () => {
  it('an IPCC record becomes one pcap record timed by the PS header microSecondTimeStamp', () => {
    const r = routeRecord(ipccPdu(CTX, 9, T, PACKET, 'fromTarget'), 'hi3');
    assert.equal(r.kind, 'cc');
    if (r.kind !== 'cc') return;
    assert.equal(r.dir, 'LIID-42');
    assert.equal(r.packets, 1);
    assert.ok(r.bytes.equals(Buffer.concat([recordHeader(1_700_000_000, 123_456, PACKET.length, PACKET.length), PACKET])));
  });

  it('GeneralizedTime headers give the time to the microsecond', () => {
    const r = routeRecord(ipccPdu({ ...CTX, timestampFormat: 'generalized' }, 9, { seconds: 1_700_000_001, micros: 5 }, PACKET, 'toTarget'), 'hi3');
    assert.equal(r.kind, 'cc');
    if (r.kind === 'cc') assert.ok(r.bytes.subarray(0, 16).equals(recordHeader(1_700_000_001, 5, PACKET.length, PACKET.length)));
  });

  it('a truncated packet keeps its original length; several CC payloads give several records', () => {
    const bytes = encodePsPdu({
      pSHeader: psHeader(CTX, 3, T),
      payload: {
        cCPayloadSequence: [
          { cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPTruncatedPacket: { truncatedPacket: PACKET.subarray(0, 20), originalLength: 1500 } } } } },
          { cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: PACKET } } } },
        ],
      },
    });
    const r = routeRecord(bytes, 'hi3');
    assert.equal(r.kind, 'cc');
    if (r.kind !== 'cc') return;
    assert.equal(r.packets, 2);
    assert.ok(
      r.bytes.equals(
        Buffer.concat([recordHeader(T.seconds, T.micros, 20, 1500), PACKET.subarray(0, 20), recordHeader(T.seconds, T.micros, PACKET.length, PACKET.length), PACKET]),
      ),
    );
  });

  it('a CC record pcap cannot time exactly goes to the JSON lines instead', () => {
    const h = psHeader(CTX, 3, T);
    delete h.microSecondTimeStamp;
    const noTime = encodePsPdu({ pSHeader: h, payload: { cCPayloadSequence: [{ cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: PACKET } } } }] } });
    const line = lineOf(noTime, 'hi3');
    assert.equal(line.time, null);
    assert.equal(line.payload.cCPayloadSequence[0].cCContents.iPCC.iPCCContents.iPPackets, PACKET.toString('hex'));
    // ...but the CCPayload's own time does when the header has none
    const own = encodePsPdu({
      pSHeader: h,
      payload: { cCPayloadSequence: [{ cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: PACKET } } }, microSecondTimeStamp: { seconds: 42, microSeconds: 7 } }] },
    });
    const r = routeRecord(own, 'hi3');
    assert.ok(r.kind === 'cc' && r.bytes.subarray(0, 16).equals(recordHeader(42, 7, PACKET.length, PACKET.length)));
    // a time past 2106 does not fit pcap's 32-bit seconds
    const late = routeRecord(ipccPdu(CTX, 1, { seconds: 2 ** 32, micros: 0 }, PACKET, 'toTarget'), 'hi3');
    assert.equal(late.kind, 'iri');
  });

  it('IPIRI becomes a JSON line: LIID, CIN, sequence number, time, interface and payload', () => {
    const line = lineOf(
      ipiriPdu(CTX, 77, T, 'iRI-Begin', { accessEventType: 'sessionStart', targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4', targetIPAddress: ipAddress('100.64.0.9') }),
    );
    assert.deepEqual(Object.keys(line), ['liid', 'cin', 'sequenceNumber', 'time', 'interface', 'payload']);
    assert.equal(line.liid, 'LIID-42');
    assert.equal(line.cin, 4711);
    assert.equal(line.sequenceNumber, 77);
    assert.equal(line.time, '2023-11-14T22:13:20.123456Z');
    assert.equal(line.interface, 'hi2');
    const iri = line.payload.iRIPayloadSequence[0];
    assert.equal(iri.iRIType, 'iRI-Begin');
    assert.equal(iri.iRIContents.iPIRI.iPIRIContents.targetUsername, Buffer.from('alice').toString('hex'));
    assert.equal(iri.iRIContents.iPIRI.iPIRIContents.targetIPAddress['iP-value'].iPBinaryAddress, '64400009');
  });

  it('packet reports, EmailIRI and EmailCC become JSON lines too', () => {
    const report = lineOf(packetHeaderReportPdu(CTX, 1, T, PACKET.subarray(0, 28)));
    assert.equal(report.payload.iRIPayloadSequence[0].iRIContents.iPIRIPacketReport.report.header.header, PACKET.subarray(0, 28).toString('hex'));
    const mail = lineOf(
      emailIriPdu(CTX, 2, T, 'iRI-Report', {
        eventType: 'e-mail-send', 'server-Octets-Sent': 1, 'client-Octets-Sent': 2, 'protocol-ID': 'smtp', status: 'operation-succeeded', 'e-mail-Sender': 'a@example.org',
      }),
    );
    assert.equal(mail.payload.iRIPayloadSequence[0].iRIContents.emailIRI['e-mail-Sender'], 'a@example.org');
    const cc = lineOf(emailCcPdu(CTX, 3, { seconds: 1, micros: 0 }, 'toTarget', 'application', Buffer.from('hello')), 'hi3');
    assert.equal(cc.interface, 'hi3');
    assert.equal(cc.time, '1970-01-01T00:00:01.000000Z');
    assert.equal(cc.payload.cCPayloadSequence[0].cCContents.emailCC.content, Buffer.from('hello').toString('hex'));
  });

  it('a LIID that is not printable is hex in the line and escaped in the directory', () => {
    const bytes = ipiriPdu({ ...CTX, liid: 'A\u0001B' }, 1, T, 'iRI-Report', { accessEventType: 'unknown', targetUsername: 'x', internetAccessType: 'lAN', iPVersion: 'iPV4' });
    const r = routeRecord(bytes, 'hi2');
    assert.ok(r.kind === 'iri' && r.dir === 'A%01B');
    assert.equal(lineOf(bytes).liid, '410142');
  });

  it('keep-alives and other TRI are skipped', () => {
    assert.deepEqual(routeRecord(keepAlivePdu({ ...CTX, cin: undefined }, 1, T), 'hi2'), { kind: 'skip' });
    assert.deepEqual(routeRecord(cinResetPdu(CTX, 1, T), 'hi3'), { kind: 'skip' });
  });

  it('what does not decode is rejected with the decoder code, and nothing makes routing throw', () => {
    assert.deepEqual(routeRecord(Buffer.from('300a0408000000000000002a', 'hex'), 'hi2'), { kind: 'reject', code: 'LIG_ERR_BER_UNEXPECTED' });
    assert.equal(routeRecord(Buffer.from([0x31, 0x00]), 'hi2').kind, 'reject');
    const good = ipccPdu(CTX, 9, T, PACKET, 'fromTarget');
    for (let cut = 0; cut < good.length; cut++) assert.equal(routeRecord(good.subarray(0, cut), 'hi3').kind, 'reject', `cut at ${cut}`);
    for (let bit = 0; bit < good.length * 8; bit++) {
      const b = Buffer.from(good);
      b[bit >> 3]! ^= 1 << (bit & 7);
      let decodes = true;
      try {
        decodePsPdu(b);
      } catch {
        decodes = false;
      }
      // Whatever decodes is written as a record (a reject here would hide a rendering bug).
      assert.equal(routeRecord(b, 'hi3').kind === 'reject', !decodes, `bit ${bit}`);
    }
  });
});

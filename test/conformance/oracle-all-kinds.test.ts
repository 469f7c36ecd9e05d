/**
 * Every record kind lig emits, in one stream, through the independent decoder
 * (`../shared/tools/etsi-oracle`: asn1c's BER→XER converter built from ETSI's ASN.1, every
 * constraint checked). The stream holds IPIRI once for each AccessEventType value, and
 * headers with li-psDomainId versions 40 and 17. Two checks per PDU:
 *  - the oracle's XER holds the values given to the builders: LIID, CIN, sequence number,
 *    timestamp, payload bytes (expected values are computed here, not by lig's decoder);
 *  - lig's decoding of the PDU and the oracle's agree on every component, field by field.
 * ETSI's own version 35 text (no IPIRIPacketReport) decodes every PDU it knows, too. Last,
 * OpenLI's recorded streams (li-psDomainId with a stray trailing arc, 0.4.0.2.2.5.1.17.0)
 * decode in lig exactly as in the oracle.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ACCESS_EVENT_TYPE,
  AccessEventType,
  IRIType,
  RecordContext,
  Stamp,
  cinResetPdu,
  decodePsPdu,
  decodeStream,
  emailCcPdu,
  emailIriPdu,
  ipAddress,
  ipccPdu,
  ipiriPdu,
  keepAliveResponsePdu,
  keepAlivePdu,
  packetHeaderReportPdu,
  packetSummaryReportPdu,
  pduAckRequestPdu,
  pduAckResponsePdu,
} from '../../src/etsi';
import { OracleVersion, XerNode, enumValue, find, oracleDecode, parseXer, xerHex } from '../helpers/oracle';
import { requireShared } from '../helpers/shared';

// --- the stream -------------------------------------------------------------------------------

/** What the builder was given, to find again in the oracle's XER. */
interface Expected {
  kind: string;
  domainId: string;
  liid: string;
  cin?: number;
  seq: number;
  stamp: Stamp;
  generalized: boolean;
  /** The payload's octets (packet, e-mail, report header), for kinds that carry some. */
  payload?: Buffer;
  /** XER path below <payload> to those octets. */
  payloadPath?: string[];
  accessEventType?: AccessEventType;
  /** Known to ETSI's version 35 text (false for IPIRIPacketReport, new in version 40). */
  v35: boolean;
}

interface Rec {
  bytes: Buffer;
  expect: Expected;
}

const V40: RecordContext = { liid: 'LIID-A', operatorId: 'OPERATOR', networkElementId: 'NAS-1', cin: 7, authorizationCountryCode: 'DE', deliveryCountryCode: 'DE' };
/** An older peer's header: genHeader version 17, GeneralizedTime stamps, a 25-octet LIID and the largest CIN. */
const V17: RecordContext = {
  liid: 'DE-1234567890123456789012', operatorId: 'OP', cin: 4294967295, domainIdVersion: 17, timestampFormat: 'generalized',
  interceptionPointId: 'IPOINT', timeStampQualifier: 'timeOfMediation',
};
const noCin = (c: RecordContext): RecordContext => ({ ...c, cin: undefined });

// IPv4 + UDP, 32 octets (checksums zero): a DNS-sized datagram, and a TCP header for reports.
const PACKET = Buffer.from('4500002000004000401100000a0000010a000002d431003500000000deadbeef', 'hex');
const HEADERS = Buffer.from('450000280001400040060000c0000201c633640704d20050000000010000000050020fff00000000', 'hex');
const MAIL = Buffer.from('From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nbody\r\n', 'latin1');

const IRI_TYPE_OF: Record<AccessEventType, IRIType> = {
  accessAttempt: 'iRI-Report', accessAccept: 'iRI-Begin', accessReject: 'iRI-Report', accessFailed: 'iRI-Report',
  sessionStart: 'iRI-Begin', sessionEnd: 'iRI-End', interimUpdate: 'iRI-Continue', startOfInterceptionWithSessionActive: 'iRI-Begin',
  accessEnd: 'iRI-End', endOfInterceptionWithSessionActive: 'iRI-End', unknown: 'iRI-Report',
  startOfInterceptionWithoutNetworkSession: 'iRI-Begin', endOfInterceptionWithoutNetworkSession: 'iRI-End', sessionExpired: 'iRI-End',
};

function allKinds(): Rec[] {
  const out: Rec[] = [];
  let seq = 0;
  let sec = 1_700_000_000;
  const add = (
    kind: string, ctx: RecordContext, build: (c: RecordContext, s: number, t: Stamp) => Buffer,
    more: Partial<Expected> = {}, seqOverride?: number,
  ): void => {
    const s = seqOverride ?? seq++;
    const t: Stamp = { seconds: sec++, micros: (s * 7919) % 1_000_000 };
    out.push({
      bytes: build(ctx, s, t),
      expect: {
        kind, domainId: `0.4.0.2.2.5.1.${ctx.domainIdVersion ?? 40}`, liid: ctx.liid, cin: ctx.cin, seq: s, stamp: t,
        generalized: ctx.timestampFormat === 'generalized', v35: true, ...more,
      },
    });
  };
  for (const ctx of [V40, V17]) {
    add('keep-alive', noCin(ctx), keepAlivePdu);
    add('keep-aliveResponse', noCin(ctx), keepAliveResponsePdu);
    add('pDUAcknowledgementRequest', noCin(ctx), pduAckRequestPdu);
    add('pDUAcknowledgementResponse', noCin(ctx), pduAckResponsePdu, {}, 4294967295);
    add('cINReset', ctx, cinResetPdu, {}, 0);
    add('IPCC', ctx, (c, s, t) => ipccPdu(c, s, t, PACKET, 'fromTarget'), { payload: PACKET, payloadPath: ['cCPayloadSequence', 'CCPayload', 'cCContents', 'iPCC', 'iPCCContents', 'iPPackets'] });
    add('IPIRIPacketReport header', ctx, (c, s, t) => packetHeaderReportPdu(c, s, t, HEADERS, 'toTarget'), {
      v35: false, payload: HEADERS, payloadPath: ['iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRIPacketReport', 'report', 'header', 'header'],
    });
    add('IPIRIPacketReport summary', ctx, (c, s, t) => packetSummaryReportPdu(c, s, t, {
      header: HEADERS, indications: ['zeroedIPv4TotalLength', 'zeroedTCPSequenceNumber', 'zeroedUDPChecksum'], trigger: 'flowTimeout',
      packetCount: 3, byteCount: 9223372036854775807n, first: t, last: { seconds: t.seconds + 5, micros: 0 },
    }), { v35: false, payload: HEADERS, payloadPath: ['iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRIPacketReport', 'report', 'summary', 'header'] });
    add('EmailIRI', ctx, (c, s, t) => emailIriPdu(c, s, t, 'iRI-Report', {
      eventType: 'e-mail-logon', 'client-Address': ipAddress('2001:db8::25', 'dynamic', 64), 'server-Address': ipAddress('192.0.2.25'),
      'client-Port': 40000, 'server-Port': 143, 'server-Octets-Sent': 0, 'client-Octets-Sent': 2 ** 40, 'protocol-ID': 'imap4',
      'e-mail-Sender': 'ä@example.org', 'e-mail-Recipients': [], status: 'operation-failed', 'message-ID': '<1@example.org>',
      aAAInformation: { iMAPAAAInformation: { username: 'alice', aAAResult: 'aAAFailed' } }, 'e-mail-Sender-Validity': 'nonvalidated',
    }));
    add('EmailCC', ctx, (c, s, t) => emailCcPdu(c, s, t, 'toTarget', 'application', MAIL), {
      payload: MAIL, payloadPath: ['cCPayloadSequence', 'CCPayload', 'cCContents', 'emailCC', 'content'],
    });
  }
  // IPIRI once for each AccessEventType value, alternating the two headers.
  (Object.keys(ACCESS_EVENT_TYPE) as AccessEventType[]).forEach((ev, i) => {
    const ctx = i % 2 === 0 ? V40 : V17;
    const iriType = IRI_TYPE_OF[ev];
    add(`IPIRI ${ev}`, ctx, (c, s, t) => ipiriPdu(c, s, t, iriType, {
      accessEventType: ev, targetUsername: `user${i}@isp.example`, internetAccessType: i % 2 ? 'xDSL' : 'wirelessLAN',
      iPVersion: i % 3 === 0 ? 'iPV4andV6' : 'iPV4',
      ...(ev === 'accessAttempt' || ev === 'accessReject' ? {} : { targetIPAddress: ipAddress(`100.64.0.${i + 1}`, 'dynamic', 32) }),
      ...(i % 3 === 0 ? { additionalIPAddress: ipAddress('2001:db8:1::', 'dynamic', 56) } : {}),
      ...(iriType === 'iRI-Begin' ? { startTime: '20231114221320Z', authenticationType: 'radiusAAA' as const, pOPIPAddress: ipAddress('192.0.2.254') } : {}),
      ...(iriType === 'iRI-Continue' || iriType === 'iRI-End' ? { octetsReceived: 123456789012, octetsTransmitted: 9223372036854775807n } : {}),
      ...(iriType === 'iRI-End' ? { endTime: '20231114231320.5Z', endReason: 'connectionTimeout' as const } : {}),
      location: { wlanLocationAttributes: { wlanAPMACAddress: Buffer.from([2, 0, 0x5e, 0, 0x53, i]) } },
    }), { accessEventType: ev });
  });
  // An IPCC with a GeneralizedTime header is in the V17 group; one more with a microsecond stamp and the other direction.
  add('IPCC', V40, (c, s, t) => ipccPdu(c, s, t, PACKET, 'toTarget'), { payload: PACKET, payloadPath: ['cCPayloadSequence', 'CCPayload', 'cCContents', 'iPCC', 'iPCCContents', 'iPPackets'] });
  return out;
}

// --- checks -----------------------------------------------------------------------------------

/** GeneralizedTime text for a stamp, computed here (not by lig): YYYYMMDDhhmmss[.f]Z. */
function gtText(t: Stamp): string {
  const iso = new Date(t.seconds * 1000).toISOString(); // 2023-11-14T22:13:20.000Z
  const frac = String(t.micros).padStart(6, '0').replace(/0+$/, '');
  return iso.slice(0, 19).replace(/[-T:]/g, '') + (frac ? `.${frac}` : '') + 'Z';
}

function text(n: XerNode | undefined, what: string): string {
  assert.ok(n, `${what} is absent`);
  return n.text.trim();
}

/** The oracle's XER of one PDU holds the values the builder was given. */
function checkAgainstInputs(x: XerNode, e: Expected): void {
  const h = find(x, 'pSHeader')!;
  const what = `${e.kind} (seq ${e.seq})`;
  assert.equal(text(find(h, 'li-psDomainId'), 'li-psDomainId'), e.domainId, what);
  assert.equal(xerHex(find(h, 'lawfulInterceptionIdentifier')!), Buffer.from(e.liid).toString('hex'), what);
  const cin = find(h, 'communicationIdentifier', 'communicationIdentityNumber');
  if (e.cin === undefined) assert.equal(cin, undefined, what);
  else assert.equal(text(cin, 'CIN'), String(e.cin), what);
  assert.equal(text(find(h, 'sequenceNumber'), 'sequenceNumber'), String(e.seq), what);
  if (e.generalized) {
    assert.equal(text(find(h, 'timeStamp'), 'timeStamp'), gtText(e.stamp), what);
    assert.equal(find(h, 'microSecondTimeStamp'), undefined, what);
  } else {
    assert.equal(text(find(h, 'microSecondTimeStamp', 'seconds'), 'seconds'), String(e.stamp.seconds), what);
    assert.equal(text(find(h, 'microSecondTimeStamp', 'microSeconds'), 'microSeconds'), String(e.stamp.micros), what);
    assert.equal(find(h, 'timeStamp'), undefined, what);
  }
  const payload = find(x, 'payload')!;
  if (e.payload) {
    const n = find(payload, ...e.payloadPath!);
    assert.ok(n, `${what}: no ${e.payloadPath!.join('/')}`);
    assert.equal(xerHex(n), e.payload.toString('hex'), what);
  }
  if (e.accessEventType) {
    const ev = find(payload, 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents', 'accessEventType');
    assert.ok(ev, `${what}: no accessEventType`);
    assert.equal(enumValue(ev), e.accessEventType, what);
  }
  if (e.kind.startsWith('keep-alive') || e.kind.startsWith('pDU') || e.kind === 'cINReset') {
    assert.deepEqual(find(payload, 'tRIPayload')?.children.map((c) => c.name), [e.kind], what);
  }
}

/**
 * lig's decoded value and the oracle's XER agree on every component: same names, same
 * values, nothing present in one and absent in the other (except what lig keeps as
 * `$unknown`, an extension addition it does not name).
 */
function agree(v: unknown, x: XerNode, at: string): void {
  if (v instanceof Uint8Array) {
    assert.equal(xerHex(x), Buffer.from(v).toString('hex'), at);
  } else if (Array.isArray(v)) {
    assert.equal(x.children.length, v.length, `${at}: number of elements`);
    v.forEach((item, i) => agree(item, x.children[i]!, `${at}[${i}]`));
  } else if (v === null) {
    assert.equal(x.children.length + x.text.length, 0, `${at}: NULL`);
  } else if (typeof v === 'boolean') {
    assert.equal(enumValue(x), String(v), at);
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    assert.equal(x.text.trim(), v.toString(), at);
  } else if (typeof v === 'string') {
    if (x.children.length > 0) assert.equal(enumValue(x), v, at);
    else assert.equal(x.text, v, at);
  } else if (typeof v === 'object' && v !== undefined) {
    const o = v as Record<string, unknown>;
    if ('unusedBits' in o && o.bytes instanceof Uint8Array) {
      const bits = [...o.bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
      assert.equal(x.text.replace(/\s+/g, ''), bits.slice(0, bits.length - (o.unusedBits as number)), `${at}: BIT STRING`);
      return;
    }
    const keys = Object.keys(o).filter((k) => k !== '$unknown');
    const names = x.children.map((c) => c.name);
    if (!('$unknown' in o)) assert.deepEqual([...names].sort(), [...keys].sort(), `${at}: components`);
    for (const k of keys) {
      const c = x.children.find((n) => n.name === k);
      assert.ok(c, `${at}.${k}: absent in the oracle's XER`);
      agree(o[k], c, `${at}.${k}`);
    }
  } else {
    assert.fail(`${at}: unexpected ${typeof v}`);
  }
}

async function decodeWithOracle(ctx: Mocha.Context, dir: string, name: string, recs: Rec[], version: OracleVersion): Promise<XerNode[]> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat(recs.map((r) => r.bytes)));
  const r = await oracleDecode(ctx, file, version);
  assert.ok(r.ok, `the version ${version} oracle rejected a PDU: ${r.stderr}`);
  const docs = parseXer(r.xer);
  assert.equal(docs.length, recs.length, 'one XER document per PDU');
  return docs;
}

describe('etsi-oracle decodes every record kind lig emits', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-oracle-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const recs = allKinds();

  it('the stream holds every kind, IPIRI for each AccessEventType, domain ids 40 and 17', () => {
    const kinds = new Set(recs.map((r) => r.expect.kind.replace(/^IPIRI .*/, 'IPIRI')));
    for (const k of ['keep-alive', 'keep-aliveResponse', 'cINReset', 'pDUAcknowledgementRequest', 'pDUAcknowledgementResponse', 'IPCC',
      'IPIRI', 'IPIRIPacketReport header', 'IPIRIPacketReport summary', 'EmailIRI', 'EmailCC']) assert.ok(kinds.has(k), k);
    assert.deepEqual(recs.filter((r) => r.expect.accessEventType).map((r) => r.expect.accessEventType), Object.keys(ACCESS_EVENT_TYPE));
    assert.deepEqual([...new Set(recs.map((r) => r.expect.domainId))].sort(), ['0.4.0.2.2.5.1.17', '0.4.0.2.2.5.1.40']);
    assert.ok(recs.some((r) => r.expect.generalized) && recs.some((r) => !r.expect.generalized));
  });

  for (const version of [40, 35] as const) {
    it(`version ${version}: every PDU decodes with constraints checked, holds the inputs and agrees with lig`, async function () {
      const mine = version === 40 ? recs : recs.filter((r) => r.expect.v35);
      const docs = await decodeWithOracle(this, dir, `all-kinds-v${version}.ber`, mine, version);
      mine.forEach((r, i) => {
        const x = docs[i]!;
        assert.equal(x.name, 'PS-PDU');
        checkAgainstInputs(x, r.expect);
        const pdu = decodePsPdu(r.bytes);
        agree(pdu, x, `${r.expect.kind}#${r.expect.seq}`);
      });
    });
  }

  it('the oracle rejects what breaks a constraint (it is not a rubber stamp)', async function () {
    // microSeconds 1000000 is one past INTEGER (0..999999); lig refuses to encode it, so patch the bytes.
    const ok = keepAlivePdu(noCin(V40), 1, { seconds: 1, micros: 999_999 });
    const at = ok.indexOf(Buffer.from('81030f423f', 'hex')); // [1] microSeconds 999999
    assert.ok(at > 0);
    const bad = Buffer.from(ok);
    bad.set([0x42, 0x40], at + 3); // 0x0f4240 = 1000000
    const file = path.join(dir, 'bad.ber');
    fs.writeFileSync(file, bad);
    assert.equal((await oracleDecode(this, file, 40)).ok, false, 'microSeconds 1000000 must not pass');
    fs.writeFileSync(file, ok);
    assert.equal((await oracleDecode(this, file, 40)).ok, true, 'the unpatched PDU passes');
  });
});

describe("lig decodes OpenLI's version 17 headers (stray trailing arc 0.4.0.2.2.5.1.17.0)", () => {
  it('from hand-made bytes', () => {
    const pdu = decodePsPdu(Buffer.from(
      '3021' + // PS-PDU
      'a119' + //   [1] pSHeader
      '800804000202050111' + '00' + // [0] li-psDomainId {0 4 0 2 2 5 1 17 0}: OpenLI's trailing 0
      '81024c31' + //     [1] lawfulInterceptionIdentifier "L1"
      'a306a00480024f50' + // [3] communicationIdentifier { networkIdentifier { operatorIdentifier "OP" } }
      '840105' + //       [4] sequenceNumber 5
      'a204a2028300', //  [2] payload [2] tRIPayload [3] keep-alive
      'hex',
    ));
    assert.equal(pdu.pSHeader['li-psDomainId'], '0.4.0.2.2.5.1.17.0');
    assert.equal(pdu.pSHeader.sequenceNumber, 5);
    assert.deepEqual(pdu.payload, { tRIPayload: { 'keep-alive': null } });
  });

  for (const name of ['libtrace-etsi_10_pings_HI2.raw_tcp', 'libtrace-etsi_10_pings_HI3.raw_tcp']) {
    it(`from OpenLI's recorded ${name}, exactly as the oracle decodes it`, async function () {
      const file = requireShared(this, 'reference', 'samples', name);
      const entries = [...decodeStream(fs.readFileSync(file))];
      for (const e of entries) assert.equal(e.error, undefined, e.error?.message);
      assert.ok(entries.every((e) => e.pdu!.pSHeader['li-psDomainId'] === '0.4.0.2.2.5.1.17.0'));
      const r = await oracleDecode(this, file, 40);
      assert.ok(r.ok, r.stderr);
      const docs = parseXer(r.xer);
      assert.equal(docs.length, entries.length);
      entries.forEach((e, i) => agree(e.pdu, docs[i]!, `${name}#${i}`));
    });
  }
});

/**
 * The RADIUS accounting parser: a packet laid out octet by octet from RFC 2865/2866, packets
 * made by scapy (with the values they were made from) and read back by tshark too, every MAC
 * spelling, every error code, the limits, and robustness: every cut and every bit flip of
 * every golden packet gives a result or a typed error, never another exception.
 */
import { strict as assert } from 'node:assert';
import { MAX_RADIUS_ATTRIBUTES, MIN_FRAMED_IPV6_PREFIX_LENGTH, parseRadiusAccounting, type RadiusAccounting } from '../../src/probe/identity/radius';
import { parseMacText, safeText } from '../../src/probe/identity/text';
import { hex } from '../fixtures/capture-golden';
import { requireTshark, tsharkFields } from '../helpers/app-reports';
import { assertEveryBitFlip, goldenPackets, identityErrorCode } from '../helpers/identity-scapy';
import { A, acct, attr, ip4, radiusPacket, u32 } from '../helpers/identity-packets';

const h = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const dotted = (b: Uint8Array | undefined) => (b === undefined ? undefined : Array.from(b).join('.'));

/** The parse in the JSON form the scapy script writes its expectations in (absent fields left out). */
function plain(r: RadiusAccounting): Record<string, unknown> {
  const o: Record<string, unknown> = {
    identifier: r.identifier,
    statusType: r.statusType,
    userName: r.userName,
    mac: h(r.mac),
    framedIp: dotted(r.framedIp),
    framedIpv6Prefix: h(r.framedIpv6Prefix),
    framedIpv6PrefixLength: r.framedIpv6Prefix ? r.framedIpv6PrefixLength : undefined,
    sessionId: r.sessionId,
    nasIp: dotted(r.nasIp),
    nasIpv6: h(r.nasIpv6),
    nasIdentifier: r.nasIdentifier,
    inputOctets: r.inputOctets?.toString(),
    outputOctets: r.outputOctets?.toString(),
    terminateCause: r.terminateCause,
    sessionTime: r.sessionTime,
    delayTime: r.delayTime,
    eventTimestamp: r.eventTimestamp,
    callingStationId: r.callingStationId && !r.mac ? true : undefined,
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * An Interim-Update written out octet by octet (RFC 2866 §4.1: Code 4; RFC 2865 §5 attribute
 * formats), with what it must read as.
 */
const HAND_MADE = hex(`
  04 2a 007a  00000000000000000000000000000000
  28 06 00000003
  01 07 616c696365
  04 06 0a050001
  20 0a 686f7473706f7431
  2c 06 61626364
  08 06 0a05320a
  1f 13 30322d30302d30302d30302d30302d4141
  61 0c 00 40 20010db800500000
  2a 06 00001388   34 06 00000001
  2b 06 00000010
  2e 06 0000012c
  31 06 00000001
`);

describe('probe identity: RADIUS accounting parser', () => {
  const scapyGolden = goldenPackets('lig-radius-');

  it('reads a packet laid out by hand from the RFCs', () => {
    assert.equal(HAND_MADE.length, 0x7a);
    assert.deepEqual(plain(parseRadiusAccounting(HAND_MADE)), {
      identifier: 0x2a,
      statusType: 3,
      userName: 'alice',
      mac: '0200000000aa',
      framedIp: '10.5.50.10',
      framedIpv6Prefix: '20010db8005000000000000000000000',
      framedIpv6PrefixLength: 64,
      sessionId: 'abcd',
      nasIp: '10.5.0.1',
      nasIdentifier: 'hotspot1',
      inputOctets: String(2 ** 32 + 5000),
      outputOctets: '16',
      sessionTime: 300,
      terminateCause: 1,
    });
  });

  it('reads what scapy wrote, exactly as it was given', function () {
    const g = scapyGolden(this);
    assert.ok(g.radius.length >= 6);
    for (const c of g.radius) assert.deepEqual(plain(parseRadiusAccounting(hex(c.hex))), c.expect, c.name);
  });

  it('agrees with tshark on every scapy packet', function () {
    const g = scapyGolden(this);
    const fields = ['radius.Acct_Status_Type', 'radius.User_Name', 'radius.Framed-IP-Address', 'radius.Acct_Session_Id', 'radius.NAS_IP_Address', 'radius.Acct_Input_Octets', 'radius.Acct_Input_Gigawords', 'radius.Acct_Terminate_Cause'];
    requireTshark(this);
    const rows = tsharkFields(g.radiusPcap, fields);
    assert.equal(rows.length, g.radius.length);
    rows.forEach(([status, user, framed, session, nas, inOctets, inGiga, cause], i) => {
      const p = parseRadiusAccounting(hex(g.radius[i]!.hex));
      const name = g.radius[i]!.name;
      assert.equal(String(p.statusType), status, name);
      assert.equal(p.userName ?? '', user, name);
      assert.equal(dotted(p.framedIp) ?? '', framed, name);
      assert.equal(p.sessionId ?? '', (session ?? '').replace(/\//g, '%2F'), name);
      assert.equal(dotted(p.nasIp) ?? '', nas, name);
      const expectIn = inOctets === '' && inGiga === '' ? undefined : (BigInt(inGiga || 0) << 32n) + BigInt(inOctets || 0);
      assert.equal(p.inputOctets, expectIn, name);
      assert.equal(p.terminateCause === undefined ? '' : String(p.terminateCause), cause, name);
    });
  });

  it('reads a MAC in every usual spelling, and nothing else as one', () => {
    for (const t of ['AA-BB-CC-DD-EE-F0', 'aa:bb:cc:dd:ee:f0', 'AABB.CCDD.EEF0', 'aabbccddeef0', 'aabb-ccdd-eef0', ' AA-BB-CC-DD-EE-F0 ']) {
      assert.equal(h(parseMacText(t)), 'aabbccddeef0', t);
    }
    for (const t of ['+15551234567', 'AA-BB-CC-DD-EE', 'AA:BB-CC:DD-EE:F0', 'AA-BB-CC-DD-EE-FG', 'aabbccddeef0aa', '01-00-5E-00-00-01', '00-00-00-00-00-00', 'FF-FF-FF-FF-FF-FF', '']) {
      assert.equal(parseMacText(t), undefined, t);
    }
  });

  it('keeps identifiers as unambiguous text', () => {
    assert.equal(safeText(Buffer.from('81a0000b')), '81a0000b');
    assert.equal(safeText(Buffer.from('a/b%c d')), 'a%2Fb%25c%20d');
    assert.equal(safeText(Buffer.from([0xc3, 0xa9, 0x00])), '%C3%A9%00');
    assert.notEqual(safeText(Buffer.from('%41')), safeText(Buffer.from('A')));
  });

  it('User-Name that is not UTF-8 reads as no username', () => {
    const r = parseRadiusAccounting(radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1)), attr(A.ACCT_SESSION_ID, 's'), attr(A.NAS_IP_ADDRESS, ip4('10.5.0.1')), attr(A.USER_NAME, Buffer.from([0x61, 0xff]))]));
    assert.equal(r.userName, undefined);
    assert.equal(r.userNameInvalid, true);
  });

  it('a Framed-IPv6-Prefix shorter than the minimum is left out, and host bits are cleared', () => {
    const short = parseRadiusAccounting(acct({ status: 1, session: 's', user: 'u', v6: [Buffer.from('20010db8', 'hex'), MIN_FRAMED_IPV6_PREFIX_LENGTH - 1] }));
    assert.equal(short.framedIpv6Prefix, undefined);
    assert.equal(short.unsafePrefix, true);
    const zero = parseRadiusAccounting(acct({ status: 1, session: 's', user: 'u', v6: [Buffer.alloc(0), 0] }));
    assert.equal(zero.framedIpv6Prefix, undefined);
    const messy = parseRadiusAccounting(acct({ status: 1, session: 's', user: 'u', v6: [Buffer.from('20010db8005000ff', 'hex'), 56] }));
    assert.equal(h(messy.framedIpv6Prefix), '20010db8005000000000000000000000');
  });

  it('every error has its code', () => {
    const ok = acct({ status: 1, session: 's', user: 'u' });
    const cases: [string, Uint8Array][] = [
      ['LIG_ERR_RADIUS_TRUNCATED', ok.subarray(0, 19)],
      ['LIG_ERR_RADIUS_TRUNCATED', ok.subarray(0, ok.length - 1)],
      ['LIG_ERR_RADIUS_NOT_ACCOUNTING', radiusPacket([], { code: 5 })],
      ['LIG_ERR_RADIUS_NOT_ACCOUNTING', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1))], { code: 1 })],
      ['LIG_ERR_RADIUS_MALFORMED', Object.assign(Buffer.from(ok), { 2: 0, 3: 19 })],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([Buffer.from([1, 1, 0x61])])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([Buffer.from([1, 9, 0x61])])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([attr(A.ACCT_STATUS_TYPE, Buffer.from([0, 1]))])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1)), attr(A.USER_NAME, '')])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1)), attr(A.USER_NAME, 'a'), attr(A.USER_NAME, 'b')])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1)), attr(A.FRAMED_IPV6_PREFIX, Buffer.from([0, 64, 0x20, 0x01]))])],
      ['LIG_ERR_RADIUS_MALFORMED', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(1)), attr(A.FRAMED_IPV6_PREFIX, Buffer.from([0, 129, ...Buffer.alloc(16)]))])],
      ['LIG_ERR_RADIUS_MISSING', radiusPacket([attr(A.USER_NAME, 'a')])],
      ['LIG_ERR_RADIUS_MISSING', acct({ status: 2, user: 'u' })],
      ['LIG_ERR_RADIUS_MISSING', radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(3)), attr(A.ACCT_SESSION_ID, 's')])],
    ];
    for (const [want, b] of cases) assert.equal(identityErrorCode(() => parseRadiusAccounting(b)), want, Buffer.from(b).toString('hex'));
    // Accounting-On needs no session; octets after Length are padding.
    assert.equal(parseRadiusAccounting(radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(7))])).statusType, 7);
    assert.equal(parseRadiusAccounting(Buffer.concat([ok, Buffer.from('ffff', 'hex')])).userName, 'u');
  });

  it('limits: attributes and packet length', () => {
    const many = (n: number) => radiusPacket([attr(A.ACCT_STATUS_TYPE, u32(7)), ...Array.from({ length: n - 1 }, () => Buffer.from([26, 2]))]);
    assert.equal(identityErrorCode(() => parseRadiusAccounting(many(MAX_RADIUS_ATTRIBUTES))), 'ok');
    assert.equal(identityErrorCode(() => parseRadiusAccounting(many(MAX_RADIUS_ATTRIBUTES + 1))), 'LIG_ERR_RADIUS_TOO_MANY_ATTRIBUTES');
    const big = Buffer.alloc(4097);
    big[0] = 4;
    big.writeUInt16BE(4097, 2);
    assert.equal(identityErrorCode(() => parseRadiusAccounting(big)), 'LIG_ERR_RADIUS_MALFORMED');
  });

  it('every cut of every golden packet: a typed error (TRUNCATED while inside Length), never another exception', function () {
    const seeds = [HAND_MADE, ...scapyGolden(this).radius.map((c) => hex(c.hex))];
    for (const s of seeds) {
      for (let n = 0; n < s.length; n++) assert.equal(identityErrorCode(() => parseRadiusAccounting(s.subarray(0, n))), 'LIG_ERR_RADIUS_TRUNCATED', `cut at ${n}`);
    }
  });

  it('every bit flip of every golden packet: a result within the packet or a typed error', function () {
    assertEveryBitFlip([HAND_MADE, ...scapyGolden(this).radius.map((c) => hex(c.hex))], (b) => {
      const r = parseRadiusAccounting(b);
      if (r.mac) assert.equal(r.mac.length, 6);
      if (r.framedIp) assert.equal(r.framedIp.length, 4);
      if (r.framedIpv6Prefix) assert.ok(r.framedIpv6Prefix.length === 16 && r.framedIpv6PrefixLength >= MIN_FRAMED_IPV6_PREFIX_LENGTH);
    });
  });
});

/**
 * PacketCable CCC datagram parser: the three header forms with golden bytes, NTP time
 * conversion, auto-detection (and its refusal when a datagram fits two forms), every
 * truncation. Cross-checked with tshark's pcli dissectors in
 * test/integration/capture-udp-sources.test.ts.
 */
import { strict as assert } from 'node:assert';
import { CccHeaderForm, encodeCcc, isExactIpPacket, ntpToFrameTime, parseCcc } from '../../src/capture/ccc';
import { DatagramError } from '../../src/errors';
import { hex } from '../fixtures/capture-golden';

/** IPv4/UDP 10.1.2.3:5000 → 10.1.2.4:5001, 28 octets, valid header checksum. */
const V4 = hex('4500001c 00010000 4011 62c8 0a010203 0a010204 13881389 0008 0000');
/** IPv6/UDP, no payload: 48 octets. */
const V6 = hex(`6000000000081140 20010db8000000000000000000000001 20010db8000000000000000000000002 13881389 0008 0000`);

function fails(d: Uint8Array, form: CccHeaderForm | 'auto', code: string, offset: number): void {
  assert.throws(
    () => parseCcc(d, form),
    (e: unknown) => e instanceof DatagramError && e.code === code && e.offset === offset,
    `expected ${code} at ${offset} for ${form} ${Buffer.from(d).toString('hex')}`,
  );
}

describe('capture: PacketCable CCC parser', () => {
  it('golden: the 4-octet form is CCCID then the IP packet', () => {
    const d = hex(`01020304 ${Buffer.from(V4).toString('hex')}`);
    const c = parseCcc(d, 4);
    assert.equal(c.cccid, 0x01020304);
    assert.equal(c.form, 4);
    assert.equal(c.time, undefined);
    assert.equal(c.caseId, undefined);
    assert.deepEqual(Buffer.from(c.packet), Buffer.from(V4));
    assert.equal(c.packet.buffer, d.buffer, 'the packet is a view');
  });

  it('golden: the 12-octet form adds an NTP timestamp', () => {
    // 0xe9000000 s since 1900 = 1,700,593,664 Unix (2023-11-21...), 0x40000000 / 2^32 = 0.25 s.
    const d = hex(`ffffffff e9000000 40000000 ${Buffer.from(V6).toString('hex')}`);
    const c = parseCcc(d, 12);
    assert.equal(c.cccid, 0xffffffff);
    assert.deepEqual(c.time, { seconds: 0xe9000000 - 2_208_988_800, micros: 250_000 });
    assert.deepEqual(Buffer.from(c.packet), Buffer.from(V6));
  });

  it('golden: the 20-octet form adds a case ID', () => {
    const d = hex(`00000007 e9000000 00000000 0102030405060708 ${Buffer.from(V4).toString('hex')}`);
    const c = parseCcc(d, 20);
    assert.equal(c.cccid, 7);
    assert.deepEqual(c.time, { seconds: 0xe9000000 - 2_208_988_800, micros: 0 });
    assert.equal(Buffer.from(c.caseId!).toString('hex'), '0102030405060708');
    assert.deepEqual(Buffer.from(c.packet), Buffer.from(V4));
  });

  it('a zero NTP timestamp means no time', () => {
    assert.equal(parseCcc(encodeCcc(1, V4, { form: 12 }), 12).time, undefined);
  });

  it('NTP time: era 0, era 1 after 2036-02-07, fractions to microseconds', () => {
    assert.deepEqual(ntpToFrameTime(2_208_988_800, 0), { seconds: 0, micros: 0 });
    assert.deepEqual(ntpToFrameTime(0xffffffff, 0xffffffff), { seconds: 0xffffffff - 2_208_988_800, micros: 999_999 });
    // Era 1 starts at 2036-02-07T06:28:16Z = 2,085,978,496 Unix.
    assert.deepEqual(ntpToFrameTime(0, 0x80000000), { seconds: 2_085_978_496, micros: 500_000 });
  });

  it('encodeCcc writes what parseCcc reads, in every form', () => {
    for (const form of [4, 12, 20] as const) {
      const d = encodeCcc(0xdeadbeef, V4, { form, ntpSeconds: 0xea000000, ntpFraction: 1 << 31, caseId: hex('1112131415161718') });
      assert.equal(d.length, form + V4.length);
      const c = parseCcc(d, form);
      assert.equal(c.cccid, 0xdeadbeef);
      assert.deepEqual(Buffer.from(c.packet), Buffer.from(V4));
      assert.equal(parseCcc(d, 'auto').form, form, `auto-detects the ${form}-octet form`);
    }
  });

  it('refuses a datagram shorter than its header, or with no IP packet after it', () => {
    for (const form of [4, 12, 20] as const) {
      const d = encodeCcc(1, V4, { form, ntpSeconds: 0xe9000000 });
      for (let cut = 0; cut < form; cut++) fails(d.subarray(0, cut), form, 'LIG_ERR_CCC_TRUNCATED', cut);
      fails(d.subarray(0, form), form, 'LIG_ERR_CCC_NOT_IP', form);
      const bad = Uint8Array.from(d);
      bad[form] = 0x55;
      fails(bad, form, 'LIG_ERR_CCC_NOT_IP', form);
      // Cut inside the IP packet: still an IP packet for an explicit form (the decoder sees it truncated).
      assert.equal(parseCcc(d.subarray(0, form + 1), form).packet.length, 1);
    }
  });

  it('auto-detection refuses datagrams that fit no form, or several', () => {
    for (let cut = 0; cut < 4; cut++) fails(encodeCcc(1, V4).subarray(0, cut), 'auto', 'LIG_ERR_CCC_TRUNCATED', cut);
    // Cut short: the IPv4 total length no longer fits, in any form.
    const short = encodeCcc(1, V4, { form: 20, ntpSeconds: 0xe9000000 });
    for (let cut = 4; cut < short.length; cut++) fails(short.subarray(0, cut), 'auto', 'LIG_ERR_CCC_NOT_IP', 4);
    // A case ID that starts like an IPv6 header whose payload length covers the rest: the 12- and 20-octet forms both fit.
    const caseId = hex('60000000 0000 1140');
    const payload12 = 8 + V6.length - 40;
    caseId[4] = payload12 >> 8;
    caseId[5] = payload12 & 0xff;
    const twoWays = encodeCcc(9, V6, { form: 20, ntpSeconds: 0xe9000000, caseId });
    fails(twoWays, 'auto', 'LIG_ERR_CCC_AMBIGUOUS', 4);
    assert.deepEqual(Buffer.from(parseCcc(twoWays, 20).packet), Buffer.from(V6), 'the configured form decides');
    assert.equal(parseCcc(twoWays, 12).packet.length, 8 + V6.length);
  });

  it('isExactIpPacket: version, header length, total length and checksum must all agree', () => {
    assert.ok(isExactIpPacket(V4));
    assert.ok(isExactIpPacket(V6));
    const badSum = Uint8Array.from(V4);
    badSum[11] ^= 1;
    assert.ok(!isExactIpPacket(badSum));
    assert.ok(!isExactIpPacket(Uint8Array.from([...V4, 0])), 'one octet too many');
    assert.ok(!isExactIpPacket(V4.subarray(0, 27)));
    assert.ok(!isExactIpPacket(Uint8Array.from([...V6, 0])));
    const ihl4 = Uint8Array.from(V4);
    ihl4[0] = 0x44;
    assert.ok(!isExactIpPacket(ihl4));
    assert.ok(!isExactIpPacket(new Uint8Array(0)));
  });
});

/**
 * The DHCPv4 parser: a message laid out by hand from RFC 2131/2132, messages made by scapy
 * (with the values they were made from) and read back by tshark too, every error code, the
 * option limit, and robustness: every cut and every bit flip of every golden message gives a
 * result or a typed error, never another exception.
 */
import { strict as assert } from 'node:assert';
import { DHCP_FIXED_BYTES, MAX_DHCP_OPTIONS, parseDhcp, type DhcpMessage } from '../../src/probe/identity/dhcp';
import { hex } from '../fixtures/capture-golden';
import { requireTshark, tsharkFields } from '../helpers/app-reports';
import { assertEveryBitFlip, goldenPackets, identityErrorCode } from '../helpers/identity-scapy';
import { MAGIC_COOKIE, dhcpMessage, ip4, opt, u32 } from '../helpers/identity-packets';

const h = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const dotted = (b: Uint8Array | undefined) => (b === undefined ? undefined : Array.from(b).join('.'));

/** The parse in the JSON form of the scapy script's expectations (unset addresses and absent options left out). */
function plain(m: DhcpMessage): Record<string, unknown> {
  const addr = (b: Uint8Array) => (b.every((x) => x === 0) ? undefined : dotted(b));
  const o: Record<string, unknown> = {
    op: m.op,
    xid: m.xid === 0x1234 ? undefined : m.xid,
    ciaddr: addr(m.ciaddr),
    yiaddr: addr(m.yiaddr),
    chaddr: h(m.chaddr),
    messageType: m.messageType,
    serverId: dotted(m.serverId),
    leaseSeconds: m.leaseSeconds,
    requestedAddress: dotted(m.requestedAddress),
    hostName: m.hostName,
    overloaded: m.overloaded,
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** A DHCPACK written out by hand (RFC 2131 §2 fixed fields, §3.1; RFC 2132 options 53, 54, 51, 12). */
const HAND_MADE = hex(`
  02 01 06 00  0a0b0c0d  0000 0000
  00000000  0a053c05  0a053c01  00000000
  0200000000cc 00000000000000000000
  ${'00'.repeat(64)} ${'00'.repeat(128)}
  63825363
  35 01 05   36 04 0a053c01   33 04 00000258   00 00   0c 05 70686f6e65   ff
`);

describe('probe identity: DHCP parser', () => {
  const scapyGolden = goldenPackets('lig-dhcp-');

  it('reads a message laid out by hand from the RFCs', () => {
    assert.equal(HAND_MADE.length, DHCP_FIXED_BYTES + 4 + 3 + 6 + 6 + 2 + 7 + 1);
    assert.deepEqual(plain(parseDhcp(HAND_MADE)), {
      op: 2,
      xid: 0x0a0b0c0d,
      yiaddr: '10.5.60.5',
      chaddr: '0200000000cc',
      messageType: 5,
      serverId: '10.5.60.1',
      leaseSeconds: 600,
      hostName: 'phone',
      overloaded: false,
    });
  });

  it('reads what scapy wrote, exactly as it was given', function () {
    const g = scapyGolden(this);
    assert.ok(g.dhcp.length >= 5);
    for (const c of g.dhcp) assert.deepEqual(plain(parseDhcp(hex(c.hex))), c.expect, c.name);
  });

  it('agrees with tshark on every scapy message', function () {
    const g = scapyGolden(this);
    const fields = ['dhcp.option.dhcp', 'dhcp.hw.mac_addr', 'dhcp.ip.your', 'dhcp.ip.client', 'dhcp.option.ip_address_lease_time', 'dhcp.option.dhcp_server_id', 'dhcp.option.requested_ip_address'];
    requireTshark(this);
    const rows = tsharkFields(g.dhcpPcap, fields);
    assert.equal(rows.length, g.dhcp.length);
    rows.forEach(([type, mac, your, client, lease, server, requested], i) => {
      const m = parseDhcp(hex(g.dhcp[i]!.hex));
      const name = g.dhcp[i]!.name;
      assert.equal(String(m.messageType), type, name);
      assert.equal(h(m.chaddr), mac!.replace(/:/g, ''), name);
      assert.equal(dotted(m.yiaddr), your, name);
      assert.equal(dotted(m.ciaddr), client, name);
      assert.equal(m.leaseSeconds === undefined ? '' : String(m.leaseSeconds), lease, name);
      assert.equal(dotted(m.serverId) ?? '', server, name);
      assert.equal(dotted(m.requestedAddress) ?? '', requested, name);
    });
  });

  it('every error has its code', () => {
    const mac = '02:00:00:00:00:cc';
    const ok = dhcpMessage({ op: 2, mac, yiaddr: '10.5.60.5', options: [opt(53, [5])] });
    const badCookie = Buffer.from(ok);
    badCookie[DHCP_FIXED_BYTES + 3] = 0x64;
    const cases: [string, Uint8Array][] = [
      ['LIG_ERR_DHCP_TRUNCATED', ok.subarray(0, DHCP_FIXED_BYTES + 3)],
      ['LIG_ERR_DHCP_TRUNCATED', dhcpMessage({ op: 2, mac, options: [Buffer.from([53])], end: false })],
      ['LIG_ERR_DHCP_TRUNCATED', dhcpMessage({ op: 2, mac, options: [Buffer.from([12, 9, 0x61])], end: false })],
      ['LIG_ERR_DHCP_MALFORMED', badCookie],
      ['LIG_ERR_DHCP_MALFORMED', dhcpMessage({ op: 2, mac, options: [opt(53, [5, 5])] })],
      ['LIG_ERR_DHCP_MALFORMED', dhcpMessage({ op: 2, mac, options: [opt(51, [0, 0, 1])] })],
      ['LIG_ERR_DHCP_MALFORMED', dhcpMessage({ op: 2, mac, options: [opt(53, [5]), opt(53, [7])] })],
      ['LIG_ERR_DHCP_MALFORMED', dhcpMessage({ op: 2, mac, options: [opt(12, [])] })],
      ['LIG_ERR_DHCP_NOT_ETHERNET', dhcpMessage({ op: 2, mac, htype: 6, options: [] })],
      ['LIG_ERR_DHCP_NOT_ETHERNET', dhcpMessage({ op: 2, mac, hlen: 16, options: [] })],
    ];
    for (const [want, b] of cases) assert.equal(identityErrorCode(() => parseDhcp(b)), want, Buffer.from(b).toString('hex').slice(470));
    // Without End, a message whose last option ends the payload is read; after End nothing is.
    assert.equal(parseDhcp(dhcpMessage({ op: 2, mac, options: [opt(53, [5])], end: false })).messageType, 5);
    assert.equal(parseDhcp(Buffer.concat([ok, Buffer.from([53, 9])])).messageType, 5);
    // Options not read are only bounds-checked, and may repeat.
    assert.equal(parseDhcp(dhcpMessage({ op: 2, mac, options: [opt(3, ip4('10.5.60.1')), opt(3, ip4('10.5.60.2')), opt(53, [5]), opt(51, u32(60))] })).leaseSeconds, 60);
  });

  it('limit: options per message', () => {
    const many = (n: number) => dhcpMessage({ op: 2, mac: '02:00:00:00:00:cc', options: [opt(53, [5]), ...Array.from({ length: n - 1 }, () => opt(224, []))] });
    assert.equal(identityErrorCode(() => parseDhcp(many(MAX_DHCP_OPTIONS))), 'ok');
    assert.equal(identityErrorCode(() => parseDhcp(many(MAX_DHCP_OPTIONS + 1))), 'LIG_ERR_DHCP_TOO_MANY_OPTIONS');
  });

  it('every cut of every golden message: a result or a typed error; before the cookie, TRUNCATED', function () {
    const seeds = [HAND_MADE, ...scapyGolden(this).dhcp.map((c) => hex(c.hex))];
    for (const s of seeds) {
      for (let n = 0; n < s.length; n++) {
        const c = identityErrorCode(() => parseDhcp(s.subarray(0, n)));
        if (n < DHCP_FIXED_BYTES + MAGIC_COOKIE.length) assert.equal(c, 'LIG_ERR_DHCP_TRUNCATED', `cut at ${n}`);
        else assert.ok(c === 'ok' || c === 'LIG_ERR_DHCP_TRUNCATED', `cut at ${n}: ${c}`);
      }
    }
  });

  it('every bit flip of every golden message: a result or a typed error', function () {
    assertEveryBitFlip([HAND_MADE, ...scapyGolden(this).dhcp.map((c) => hex(c.hex))], (b) => {
      const m = parseDhcp(b);
      assert.ok(m.chaddr.length === 6 && m.yiaddr.length === 4 && m.ciaddr.length === 4);
    });
  });
});

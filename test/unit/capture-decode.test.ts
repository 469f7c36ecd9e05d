/**
 * L2/L3 decoding: hand-written golden frames for every link layer, every truncation of each,
 * malformed headers, and scapy-built captures (test/fixtures/capture_fixtures.py) whose
 * expected fields come from scapy's own dissection.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DecodeCounters, DecodedPacket, MAX_IPV6_EXTENSION_HEADERS, MAX_VLAN_TAGS, decodeFrame } from '../../src/capture/decode';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { formatAddress, formatMac } from '../../src/capture/targets';
import { hex } from '../fixtures/capture-golden';
import { requireScapy, scapy } from '../helpers/scapy';

/** IPv4/UDP 10.1.2.3:5000 → 10.1.2.4:5001, 28 octets, valid checksum. */
const V4 = '4500001c 00010000 4011 62c8 0a010203 0a010204 13881389 0008 0000';
/** IPv6/TCP 2001:db8::1:1234 → 2001:db8::2:80, header only (60 octets). */
const V6 = `6000000000140640 20010db8000000000000000000000001 20010db8000000000000000000000002
  04d20050 00000000 00000000 5002ffff 00000000`;
const MACS = '020000000002 020000000001';

interface Golden {
  name: string;
  linktype: number;
  frame: Uint8Array;
  /** Offset of the IP header. */
  l3: number;
  version: 4 | 6;
  srcMac?: string;
  dstMac?: string;
}

const GOLDEN: Golden[] = [
  { name: 'Ethernet, IPv4, padded to 60 octets', linktype: 1, frame: hex(`${MACS} 0800 ${V4} ${'00'.repeat(18)}`), l3: 14, version: 4, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'Ethernet, IPv6', linktype: 1, frame: hex(`${MACS} 86dd ${V6}`), l3: 14, version: 6, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: '802.1Q', linktype: 1, frame: hex(`${MACS} 8100 000a 0800 ${V4}`), l3: 18, version: 4, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'QinQ 802.1ad + 802.1Q', linktype: 1, frame: hex(`${MACS} 88a8 0064 8100 000a 86dd ${V6}`), l3: 22, version: 6, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'QinQ 0x9100 + 0x9100 + 802.1Q', linktype: 1, frame: hex(`${MACS} 9100 0001 9100 0002 8100 0003 0800 ${V4}`), l3: 26, version: 4, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'PPPoE session, IPv4', linktype: 1, frame: hex(`${MACS} 8864 1100 1234 001e 0021 ${V4}`), l3: 22, version: 4, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: '802.1Q + PPPoE session, IPv6', linktype: 1, frame: hex(`${MACS} 8100 0014 8864 1100 0001 003e 0057 ${V6}`), l3: 26, version: 6, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'PPPoE with a compressed protocol field', linktype: 1, frame: hex(`${MACS} 8864 1100 0001 001d 21 ${V4}`), l3: 21, version: 4, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
  { name: 'LINKTYPE_RAW, IPv4', linktype: 101, frame: hex(V4), l3: 0, version: 4 },
  { name: 'LINKTYPE_RAW, IPv6', linktype: 101, frame: hex(V6), l3: 0, version: 6 },
  { name: 'LINKTYPE_IPV4', linktype: 228, frame: hex(V4), l3: 0, version: 4 },
  { name: 'LINKTYPE_IPV6', linktype: 229, frame: hex(V6), l3: 0, version: 6 },
  { name: 'BSD loopback (NULL), little-endian AF_INET', linktype: 0, frame: hex(`02000000 ${V4}`), l3: 4, version: 4 },
  { name: 'BSD loopback (NULL), big-endian AF_INET6 (24)', linktype: 0, frame: hex(`00000018 ${V6}`), l3: 4, version: 6 },
  { name: 'Linux SLL, Ethernet source address', linktype: 113, frame: hex(`0004 0001 0006 020000000005 0000 0800 ${V4}`), l3: 16, version: 4, srcMac: '02:00:00:00:00:05' },
  { name: 'Linux SLL, VLAN tag left in the data', linktype: 113, frame: hex(`0000 0001 0006 020000000005 0000 8100 0007 86dd ${V6}`), l3: 20, version: 6, srcMac: '02:00:00:00:00:05' },
  { name: 'Linux SLL2', linktype: 276, frame: hex(`0800 0000 00000003 0001 04 06 020000000005 0000 ${V4}`), l3: 20, version: 4, srcMac: '02:00:00:00:00:05' },
  { name: 'Linux SLL2, no link-layer address', linktype: 276, frame: hex(`86dd 0000 00000001 0304 00 00 0000000000000000 ${V6}`), l3: 20, version: 6 },
];

function decoded(linktype: number, frame: Uint8Array): DecodedPacket {
  const r = decodeFrame(linktype, frame);
  if (typeof r === 'string') assert.fail(`expected a packet, got "${r}"`);
  return r;
}

describe('capture: L2/L3 decoding', () => {
  describe('golden frames', () => {
    for (const g of GOLDEN) {
      it(g.name, () => {
        const p = decoded(g.linktype, g.frame);
        const ipHex = (g.version === 4 ? V4 : V6).replace(/\s+/g, '');
        assert.equal(Buffer.from(p.ip).toString('hex'), ipHex, 'the IP packet, without padding');
        assert.equal(p.ip.buffer, g.frame.buffer, 'a view into the frame');
        assert.equal(p.ip.byteOffset - g.frame.byteOffset, g.l3);
        assert.equal(p.version, g.version);
        assert.equal(p.truncated, false);
        assert.equal(p.fragment, false);
        assert.equal(p.srcMac && formatMac(p.srcMac), g.srcMac);
        assert.equal(p.dstMac && formatMac(p.dstMac), g.dstMac);
        if (g.version === 4) {
          assert.deepEqual([formatAddress(p.src), formatAddress(p.dst), p.protocol, p.srcPort, p.dstPort, p.ipLength, p.transportOffset], ['10.1.2.3', '10.1.2.4', 17, 5000, 5001, 28, 20]);
        } else {
          assert.deepEqual([formatAddress(p.src), formatAddress(p.dst), p.protocol, p.srcPort, p.dstPort, p.ipLength, p.transportOffset], ['2001:db8::1', '2001:db8::2', 6, 1234, 80, 60, 40]);
        }
      });
    }
  });

  it('every truncation of every golden frame: link, IP header, transport header', () => {
    for (const g of GOLDEN) {
      const header = g.version === 4 ? 20 : 40;
      const ipLen = g.version === 4 ? 28 : 60;
      for (let cut = 0; cut < g.l3 + ipLen; cut++) {
        const r = decodeFrame(g.linktype, g.frame.subarray(0, cut));
        const where = `${g.name}, cut at ${cut}`;
        if (cut < g.l3) assert.equal(r, 'link-truncated', where);
        else if (cut < g.l3 + header) assert.equal(r, 'ip-truncated', where);
        else {
          assert.ok(typeof r !== 'string', where);
          assert.equal(r.truncated, true, where);
          assert.equal(r.ip.length, cut - g.l3, where);
          assert.equal(r.ipLength, ipLen, where);
          assert.equal(r.srcPort !== undefined, cut >= g.l3 + header + 4, where);
        }
      }
    }
  });

  it('frames that carry no IP packet', () => {
    const cases: [string, number, string, string][] = [
      ['ARP', 1, `ffffffffffff 020000000001 0806 0001080006040001 020000000001 0a010203 000000000000 0a010201`, 'not-ip'],
      ['802.3 length field (LLC)', 1, `${MACS} 002e aaaa03 000000 0800 ${V4}`, 'not-ip'],
      ['PPPoE discovery', 1, `${MACS} 8863 1109 0000 0000`, 'not-ip'],
      ['PPPoE session, LCP', 1, `${MACS} 8864 1100 0001 0006 c021 01010004`, 'not-ip'],
      ['PPPoE session, bad version/type', 1, `${MACS} 8864 2100 0001 001e 0021 ${V4}`, 'not-ip'],
      ['VLAN-tagged ARP', 1, `${MACS} 8100 0001 0806 00010800`, 'not-ip'],
      ['raw, version 5', 101, `5500001c`, 'not-ip'],
      ['NULL, AF 7', 0, `07000000 ${V4}`, 'not-ip'],
      ['SLL, 802.2 LLC protocol', 113, `0000 0001 0006 020000000005 0000 0004 aaaa03`, 'not-ip'],
      ['802.11', 105, `0800 0000 ${V4}`, 'unsupported-linktype'],
      ['EtherType IPv4, version 6', 1, `${MACS} 0800 ${V6}`, 'ip-malformed'],
      ['EtherType IPv6, version 4', 1, `${MACS} 86dd ${V4} ${'00'.repeat(20)}`, 'ip-malformed'],
      ['IPv4 header length 16', 1, `${MACS} 0800 44${V4.replace(/\s+/g, '').slice(2)}`, 'ip-malformed'],
      ['IPv4 total length below header length', 1, `${MACS} 0800 4500 0013 ${V4.replace(/\s+/g, '').slice(8)}`, 'ip-malformed'],
    ];
    for (const [name, lt, frame, reason] of cases) assert.equal(decodeFrame(lt, hex(frame)), reason, name);
  });

  it(`refuses more than MAX_VLAN_TAGS (${MAX_VLAN_TAGS}) stacked tags`, () => {
    const tags = (n: number) => '8100 0001 '.repeat(n);
    assert.ok(typeof decodeFrame(1, hex(`${MACS} ${tags(MAX_VLAN_TAGS)} 0800 ${V4}`)) !== 'string');
    assert.equal(decodeFrame(1, hex(`${MACS} ${tags(MAX_VLAN_TAGS + 1)} 0800 ${V4}`)), 'too-many-tags');
  });

  it('IPv4: options, first and later fragments', () => {
    // Header length 24 (one 4-octet option), UDP 68 → 67.
    const opt = hex(`${MACS} 0800 4600 0020 0001 0000 4011 0000 0a010203 0a010204 94040000 00440043 000c 0000`);
    const p = decoded(1, opt);
    assert.deepEqual([p.transportOffset, p.srcPort, p.dstPort, p.fragment], [24, 68, 67, false]);
    const first = decoded(1, hex(`${MACS} 0800 4500 001c 0001 2000 4011 0000 0a010203 0a010204 13881389 0008 0000`));
    assert.deepEqual([first.fragment, first.srcPort, first.transportOffset], [true, 5000, 20]);
    const later = decoded(1, hex(`${MACS} 0800 4500 001c 0001 0001 4011 0000 0a010203 0a010204 13881389 0008 0000`));
    assert.deepEqual([later.fragment, later.srcPort, later.transportOffset, later.protocol], [true, undefined, undefined, 17]);
  });

  it('IPv6: extension headers, fragments, ESP, and the walk limit', () => {
    const addrs = '20010db8000000000000000000000001 20010db8000000000000000000000002';
    const hbh = (next: string) => `${next}00 0000 00000000`; // 8 octets
    const udp = '13881389 0008 0000';
    const p = decoded(101, hex(`6000000000180040 ${addrs} ${hbh('2b')} 1100 0000 00000000 ${udp}`)); // hop-by-hop → routing(43, 8 octets) → UDP
    assert.deepEqual([p.protocol, p.transportOffset, p.srcPort, p.dstPort], [17, 56, 5000, 5001]);
    const firstFrag = decoded(101, hex(`6000000000100000 ${addrs} ${hbh('2c')} 11000001 00000007 ${udp}`.replace('6000000000100000', '6000000000180000')));
    assert.deepEqual([firstFrag.fragment, firstFrag.protocol, firstFrag.srcPort], [true, 17, 5000]);
    const laterFrag = decoded(101, hex(`6000000000100000 ${addrs} 11000008 00000007 ${udp}`.replace('6000000000100000', '6000000000102c40')));
    assert.deepEqual([laterFrag.fragment, laterFrag.protocol, laterFrag.srcPort, laterFrag.transportOffset], [true, 17, undefined, undefined]);
    // AH counts its length in 4-octet units, plus 2: 12 octets here (payload length 1 → (1+2)*4).
    const ah = decoded(101, hex(`6000000000143340 ${addrs} 1101 0000 00000001 00000001 ${udp}`));
    assert.deepEqual([ah.protocol, ah.transportOffset, ah.dstPort], [17, 52, 5001]);
    const esp = decoded(101, hex(`6000000000083240 ${addrs} 00000001 00000001`));
    assert.deepEqual([esp.protocol, esp.srcPort], [50, undefined]);
    // An extension header running past the capture: the packet is still decoded, without ports.
    const cut = decoded(101, hex(`6000000000100000 ${addrs} 1101 0000`));
    assert.deepEqual([cut.truncated, cut.transportOffset, cut.srcPort], [true, undefined, undefined]);
    const chain = (n: number) => `60000000${(n * 8 + 8).toString(16).padStart(4, '0')}3c40 ${addrs} ${'3c00000000000000 '.repeat(n - 1)}1100000000000000 ${udp}`;
    assert.equal(decoded(101, hex(chain(MAX_IPV6_EXTENSION_HEADERS))).dstPort, 5001);
    const long = decoded(101, hex(chain(MAX_IPV6_EXTENSION_HEADERS + 1)));
    assert.deepEqual([long.dstPort, long.transportOffset], [undefined, undefined]);
  });

  it('a jumbogram (payload length 0 behind hop-by-hop) takes the captured length', () => {
    const p = decoded(101, hex(`6000000000000040 20010db8000000000000000000000001 20010db8000000000000000000000002 1100c204 00000050 13881389 0008 0000`));
    assert.equal(p.ipLength, 56);
    assert.equal(p.dstPort, 5001);
  });

  it('DecodeCounters counts decoded frames and skips by reason', () => {
    const c = new DecodeCounters();
    assert.ok(c.decode(101, hex(V4)));
    assert.equal(c.decode(1, hex(`${MACS} 0806 0001`)), undefined);
    assert.equal(c.decode(1, hex('0102')), undefined);
    assert.equal(c.decode(1, hex('0102')), undefined);
    assert.equal(c.decoded, 1);
    assert.equal(c.skipped['not-ip'], 1);
    assert.equal(c.skipped['link-truncated'], 2);
  });

  describe('scapy-built captures (an independent implementation)', function () {
    let dir: string;
    let expected: Record<string, Record<string, unknown>[]>;
    before(function () {
      requireScapy(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-decode-'));
      scapy('frames', dir);
      expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    for (const file of ['eth.pcap', 'eth.pcapng', 'raw.pcap', 'sll.pcap', 'sll2.pcap']) {
      it(`${file}: every frame decodes as scapy dissects it`, () => {
        const packets = parseCaptureFile(fs.readFileSync(path.join(dir, file))).packets;
        const want = expected[file]!;
        assert.equal(packets.length, want.length);
        assert.ok(want.length >= 12);
        packets.forEach((pkt, i) => {
          const w = want[i]!;
          const r = decodeFrame(pkt.linktype, pkt.data);
          if (w.skip) {
            assert.equal(typeof r, 'string', String(w.name));
            return;
          }
          assert.ok(typeof r !== 'string', `${w.name}: ${String(r)}`);
          const got = {
            version: r.version,
            src: formatAddress(r.src),
            dst: formatAddress(r.dst),
            srcMac: r.srcMac ? formatMac(r.srcMac) : null,
            dstMac: r.dstMac ? formatMac(r.dstMac) : null,
            protocol: r.protocol,
            srcPort: r.srcPort ?? null,
            dstPort: r.dstPort ?? null,
            fragment: r.fragment,
            ipLength: r.ipLength,
            ip: Buffer.from(r.ip).toString('hex'),
            name: w.name,
          };
          assert.deepEqual(got, w, String(w.name));
        });
      });
    }
  });
});

/**
 * Time-boxed mutation fuzzer for the capture parsers that read untrusted bytes off the
 * network (not part of `npm test`):
 *
 *   npx tsx scripts/fuzz-datagrams.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE] [--only tzsp|ccc|decode]
 *
 * Mutates valid TZSP datagrams, PacketCable CCC datagrams (4-, 12- and 20-octet forms) and
 * link-layer frames of every type the decoder reads (bit flips, interesting octets and
 * 16-bit values, cuts, repeated and deleted slices, splices), and checks that
 * 1. parseTzsp / parseCcc either succeed or throw a DatagramError with a LIG_ERR_TZSP_* or
 *    LIG_ERR_CCC_* code and an offset inside the datagram: never another exception;
 * 2. what they return stays inside the datagram, and obeys the format (CCC: the packet
 *    follows the header; auto-detection returns an exact IP packet and agrees with the
 *    explicit form it names);
 * 3. decodeFrame never throws, skips only with a known reason, and returns views inside the
 *    frame with consistent lengths, offsets and ports.
 * The three share --seconds; the command line is scripts/fuzz-driver.ts's.
 */
import { CCC_HEADER_FORMS, encodeCcc, isExactIpPacket, parseCcc } from '../src/capture/ccc';
import { DECODE_SKIPS, decodeFrame } from '../src/capture/decode';
import { encodeTzsp, parseTzsp } from '../src/capture/tzsp';
import { DatagramError } from '../src/errors';
import { hex } from '../test/fixtures/capture-golden';
import { type FuzzScript, type Fuzzer, deleteOctets, flipBits, fuzzMain, mutate, repeatSlice, setOctet, setWord, spliceTail, truncate } from './fuzz-driver';

const V4 = '4500001c 00010000 4011 62c8 0a010203 0a010204 13881389 0008 0000';
const V6 = '6000000000180040 20010db8000000000000000000000001 20010db8000000000000000000000002 2b00 0000 00000000 1100 0000 00000000 13881389 0008 0000';
const MACS = '020000000002 020000000001';
/** [linktype, frame] seeds for every link layer the decoder reads. */
const FRAMES: [number, Uint8Array][] = [
  [1, hex(`${MACS} 0800 ${V4} ${'00'.repeat(18)}`)],
  [1, hex(`${MACS} 88a8 0064 8100 000a 86dd ${V6}`)],
  [1, hex(`${MACS} 9100 0001 8100 0002 8864 1100 1234 0040 0057 ${V6}`)],
  [1, hex(`${MACS} 8864 1100 0001 001d 21 ${V4}`)],
  [1, hex(`${MACS} 0800 4600 0020 0001 2000 4011 0000 0a010203 0a010204 94040000 00440043 000c 0000`)],
  [101, hex(V4)],
  [101, hex(`6000000000102c40 20010db8000000000000000000000001 20010db8000000000000000000000002 11000001 00000007 13881389 0008 0000`)],
  [0, hex(`02000000 ${V4}`)],
  [113, hex(`0004 0001 0006 020000000005 0000 8100 0007 0800 ${V4}`)],
  [276, hex(`86dd 0000 00000003 0001 04 06 020000000005 0000 ${V6}`)],
];

const BYTES = [0x00, 0x01, 0x04, 0x06, 0x11, 0x21, 0x29, 0x2c, 0x3c, 0x45, 0x57, 0x60, 0x7f, 0x80, 0xff];
const SHORTS = [0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x8864, 0x8863, 0x0021, 0x0057, 0x0000, 0x0001, 0xffff, 0x2000, 0x0014];

const MUTATIONS = [flipBits(), setOctet(BYTES), setWord(SHORTS, 2), truncate, repeatSlice(48), deleteOctets(16), spliceTail];

/** Whether `view` lies inside `outer` (same memory). */
function inside(view: Uint8Array, outer: Uint8Array): boolean {
  return view.buffer === outer.buffer && view.byteOffset >= outer.byteOffset && view.byteOffset + view.length <= outer.byteOffset + outer.length;
}

function checkDecode(linktype: number, frame: Uint8Array): string | undefined {
  let r;
  try {
    r = decodeFrame(linktype, frame);
  } catch (e) {
    return `decodeFrame threw: ${e instanceof Error ? e.stack : String(e)}`;
  }
  if (typeof r === 'string') return DECODE_SKIPS.includes(r) ? undefined : `unknown skip reason ${r}`;
  if (!inside(r.ip, frame)) return 'ip is not a view inside the frame';
  const alen = r.version === 4 ? 4 : 16;
  if (r.src.length !== alen || r.dst.length !== alen || !inside(r.src, r.ip) || !inside(r.dst, r.ip)) return 'addresses not inside the IP header';
  if (r.ip.length > r.ipLength || r.truncated !== r.ip.length < r.ipLength) return `lengths disagree: ${r.ip.length} of ${r.ipLength}, truncated ${r.truncated}`;
  if (r.transportOffset !== undefined && (r.transportOffset < 20 || r.transportOffset > r.ip.length)) return `transport offset ${r.transportOffset} outside ${r.ip.length}`;
  if ((r.srcPort !== undefined) !== (r.dstPort !== undefined)) return 'one port without the other';
  if (r.srcPort !== undefined && (r.transportOffset === undefined || r.transportOffset + 4 > r.ip.length)) return 'ports without a captured transport header';
  if (r.srcMac && (r.srcMac.length !== 6 || !inside(r.srcMac, frame))) return 'bad source MAC view';
  return undefined;
}

function checkTzsp(d: Uint8Array): string | undefined {
  let p;
  try {
    p = parseTzsp(d);
  } catch (e) {
    if (!(e instanceof DatagramError)) return `parseTzsp threw a non-DatagramError: ${e instanceof Error ? e.stack : String(e)}`;
    if (!e.code.startsWith('LIG_ERR_TZSP_')) return `unexpected code ${e.code}`;
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > d.length) return `bad offset ${e.offset} for ${d.length} octets`;
    return undefined;
  }
  if (p.kind === 'control') return p.type >= 2 && p.type <= 5 ? undefined : `control datagram of type ${p.type}`;
  if (p.type > 1) return `packet datagram of type ${p.type}`;
  if (!inside(p.data, d) || p.data.byteOffset + p.data.length !== d.byteOffset + d.length) return 'frame is not the tail of the datagram';
  return p.linktype === undefined ? undefined : checkDecode(p.linktype, p.data);
}

function checkCcc(d: Uint8Array): string | undefined {
  for (const form of [...CCC_HEADER_FORMS, 'auto'] as const) {
    let c;
    try {
      c = parseCcc(d, form);
    } catch (e) {
      if (!(e instanceof DatagramError)) return `parseCcc(${form}) threw a non-DatagramError: ${e instanceof Error ? e.stack : String(e)}`;
      if (!e.code.startsWith('LIG_ERR_CCC_')) return `unexpected code ${e.code}`;
      if (e.offset < 0 || e.offset > d.length) return `bad offset ${e.offset}`;
      continue;
    }
    if (!inside(c.packet, d) || c.packet.length !== d.length - c.form) return `${form}: the packet is not what follows the header`;
    if (form !== 'auto' && c.form !== form) return `asked for ${form}, got ${c.form}`;
    if (form === 'auto') {
      if (!isExactIpPacket(c.packet)) return 'auto-detection returned an inexact packet';
      if (parseCcc(d, c.form).cccid !== c.cccid) return 'auto-detection disagrees with the explicit form';
    }
    if (c.time && !(Number.isSafeInteger(c.time.seconds) && c.time.micros >= 0 && c.time.micros < 1e6)) return `bad time ${JSON.stringify(c.time)}`;
    const problem = checkDecode(101, c.packet);
    if (problem) return problem;
  }
  return undefined;
}

const ip4 = hex(V4);
const ip6 = hex(`6000000000081140 20010db8000000000000000000000001 20010db8000000000000000000000002 13881389 0008 0000`);
/** Frames are fuzzed with their link type in the first octet, so mutations reach other link types too. */
const LINKTYPES = [0, 1, 101, 113, 228, 229, 276];
/** The three fuzzers, but for their next input (made from the run's generator). */
const TARGETS: Omit<Fuzzer, 'next'>[] = [
  {
    name: 'tzsp',
    seeds: [...FRAMES.filter(([lt]) => lt === 1).map(([, f]) => encodeTzsp(f)), encodeTzsp(FRAMES[0]![1], { tags: hex('00 2902 05ea 3c06 aabbccddeeff') }), Uint8Array.of(1, 4, 0, 0)],
    check: checkTzsp,
  },
  {
    name: 'ccc',
    seeds: [encodeCcc(1, ip4), encodeCcc(2, ip6, { form: 12, ntpSeconds: 0xe9000000 }), encodeCcc(3, ip4, { form: 20, ntpSeconds: 0xe9000000, caseId: hex('0102030405060708') })],
    check: checkCcc,
  },
  {
    name: 'decode',
    seeds: FRAMES.map(([lt, f]) => Uint8Array.from([LINKTYPES.indexOf(lt), ...f])),
    check: (d) => (d.length === 0 ? undefined : checkDecode(LINKTYPES[d[0]! % LINKTYPES.length]!, d.subarray(1))),
  },
];

export const datagramsFuzz: FuzzScript = {
  script: __filename,
  make: (rng) => TARGETS.map((t) => ({ ...t, next: () => mutate(rng.pick(t.seeds), rng, t.seeds, MUTATIONS) })),
};

if (require.main === module) fuzzMain(datagramsFuzz);

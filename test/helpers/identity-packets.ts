/**
 * RADIUS Accounting-Requests and DHCP messages written by hand from the RFCs (RFC 2865 §3 and
 * §5, RFC 2866 §4.1 and §5, RFC 2131 §2, RFC 2132), for tests and the identity fuzzer: every
 * octet is laid out here, not by the code under test. Also frames carrying them (Ethernet,
 * IPv4, UDP) and plain traffic frames, for the pipeline, and the IPv4/UDP packets the other
 * tests send (ipv4Udp).
 */
import type { Frame } from '../../src/capture/frame';
import { LINKTYPE } from '../../src/capture/pcap-format';

export const A = {
  USER_NAME: 1,
  NAS_IP_ADDRESS: 4,
  FRAMED_IP_ADDRESS: 8,
  CALLING_STATION_ID: 31,
  NAS_IDENTIFIER: 32,
  ACCT_STATUS_TYPE: 40,
  ACCT_DELAY_TIME: 41,
  ACCT_INPUT_OCTETS: 42,
  ACCT_OUTPUT_OCTETS: 43,
  ACCT_SESSION_ID: 44,
  ACCT_SESSION_TIME: 46,
  ACCT_TERMINATE_CAUSE: 49,
  ACCT_INPUT_GIGAWORDS: 52,
  FRAMED_IPV6_PREFIX: 97,
} as const;

export const u32 = (n: number) => Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
export const ip4 = (t: string) => Buffer.from(t.split('.').map(Number));

/** One attribute: type, length (2 + value), value. */
export const attr = (type: number, value: Uint8Array | string) => {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  return Buffer.concat([Buffer.from([type, v.length + 2]), v]);
};

/** Code 4, identifier, Length, an all-zero Request Authenticator, the attributes. */
export function radiusPacket(attrs: Uint8Array[], opts: { code?: number; id?: number } = {}): Buffer {
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head[0] = opts.code ?? 4;
  head[1] = opts.id ?? 1;
  head.writeUInt16BE(20 + body.length, 2);
  return Buffer.concat([head, body]);
}

export interface Acct {
  status: number;
  session?: string;
  user?: string;
  framedIp?: string;
  mac?: string;
  nasIp?: string;
  nasId?: string;
  /** [prefix octets, length] */
  v6?: [Uint8Array, number];
  inOctets?: number;
  inGiga?: number;
  outOctets?: number;
  sessionTime?: number;
  delay?: number;
  cause?: number;
}

/** An Accounting-Request from these fields (NAS-IP-Address 10.5.0.1 unless another NAS is named). */
export function acct(a: Acct, id = 1): Buffer {
  const out: Buffer[] = [attr(A.ACCT_STATUS_TYPE, u32(a.status))];
  if (a.session !== undefined) out.push(attr(A.ACCT_SESSION_ID, a.session));
  if (a.user !== undefined) out.push(attr(A.USER_NAME, a.user));
  if (a.framedIp !== undefined) out.push(attr(A.FRAMED_IP_ADDRESS, ip4(a.framedIp)));
  if (a.mac !== undefined) out.push(attr(A.CALLING_STATION_ID, a.mac));
  if (a.nasIp !== undefined || a.nasId === undefined) out.push(attr(A.NAS_IP_ADDRESS, ip4(a.nasIp ?? '10.5.0.1')));
  if (a.nasId !== undefined) out.push(attr(A.NAS_IDENTIFIER, a.nasId));
  if (a.v6) out.push(attr(A.FRAMED_IPV6_PREFIX, Buffer.concat([Buffer.from([0, a.v6[1]]), a.v6[0]])));
  if (a.inOctets !== undefined) out.push(attr(A.ACCT_INPUT_OCTETS, u32(a.inOctets)));
  if (a.inGiga !== undefined) out.push(attr(A.ACCT_INPUT_GIGAWORDS, u32(a.inGiga)));
  if (a.outOctets !== undefined) out.push(attr(A.ACCT_OUTPUT_OCTETS, u32(a.outOctets)));
  if (a.sessionTime !== undefined) out.push(attr(A.ACCT_SESSION_TIME, u32(a.sessionTime)));
  if (a.delay !== undefined) out.push(attr(A.ACCT_DELAY_TIME, u32(a.delay)));
  if (a.cause !== undefined) out.push(attr(A.ACCT_TERMINATE_CAUSE, u32(a.cause)));
  return radiusPacket(out, { id });
}

export const MAGIC_COOKIE = Buffer.from([99, 130, 83, 99]);

/** A DHCP message: the 236-octet fixed header, the magic cookie, the options (raw), End. */
export function dhcpMessage(m: { op: number; mac: string; ciaddr?: string; yiaddr?: string; options: Uint8Array[]; end?: boolean; htype?: number; hlen?: number }): Buffer {
  const h = Buffer.alloc(236);
  h[0] = m.op;
  h[1] = m.htype ?? 1;
  h[2] = m.hlen ?? 6;
  h.writeUInt32BE(0x12345678, 4);
  ip4(m.ciaddr ?? '0.0.0.0').copy(h, 12);
  ip4(m.yiaddr ?? '0.0.0.0').copy(h, 16);
  Buffer.from(m.mac.replace(/:/g, ''), 'hex').copy(h, 28);
  return Buffer.concat([h, MAGIC_COOKIE, ...m.options, m.end === false ? Buffer.alloc(0) : Buffer.from([255])]);
}

/** One option: code, length, value. */
export const opt = (code: number, value: Uint8Array | number[]) => Buffer.concat([Buffer.from([code, value.length]), Buffer.from(value)]);

export function dhcpAck(mac: string, address: string, lease?: number, server = '10.5.60.1'): Buffer {
  const options = [opt(53, [5]), opt(54, ip4(server))];
  if (lease !== undefined) options.push(opt(51, u32(lease)));
  return dhcpMessage({ op: 2, mac, yiaddr: address, options });
}

export function dhcpRelease(mac: string, address: string): Buffer {
  return dhcpMessage({ op: 1, mac, ciaddr: address, options: [opt(53, [7]), opt(54, ip4('10.5.60.1'))] });
}

/** The one's-complement sum IPv4 header checksum. */
function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4/UDP packet with correct lengths and header checksum (TTL 64, no UDP checksum), so tshark dissects it cleanly. */
export function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip4(src).copy(ip, 12);
  ip4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

/** An Ethernet/IPv4/UDP frame (router MACs, no UDP checksum). */
export function udpFrame(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('020000000002020000000001' + '0800', 'hex'), ipv4Udp(src, dst, sport, dport, payload)]);
}

/** A frame at `timeUs` (Ethernet). */
export function frameAt(data: Uint8Array, timeUs: number): Frame {
  return { ts: { seconds: Math.floor(timeUs / 1e6), micros: timeUs % 1e6 }, linktype: LINKTYPE.ETHERNET, data, origLen: data.length };
}

/** RADIUS accounting from the NAS to the server, port 1813. */
export const radiusFrame = (payload: Uint8Array) => udpFrame('10.5.0.1', '10.5.0.2', 40000, 1813, payload);
/** DHCP from the server (port 67 to 68). */
export const dhcpFrame = (payload: Uint8Array, toServer = false) => (toServer ? udpFrame('10.5.60.9', '10.5.60.1', 68, 67, payload) : udpFrame('10.5.60.1', '10.5.60.255', 67, 68, payload));
/** Subscriber traffic. */
export const trafficFrame = (src: string, dst: string) => udpFrame(src, dst, 50000, 443, Buffer.from('payload'));

/**
 * BitTorrent over UDP: the UDP tracker protocol (BEP 15) and the Mainline DHT (BEP 5). Each
 * datagram stands alone; a flow remembers only the last few DHT queries, to name the
 * info-hash a response answers. Pure.
 *
 * UDP tracker (all integers big-endian):
 *   connect   request  <protocol_id 0x41727101980:8><action 0:4><transaction_id:4>
 *   announce  request  <connection_id:8><action 1:4><transaction_id:4><info_hash:20><peer_id:20>
 *                      <downloaded:8><left:8><uploaded:8><event:4><ip:4><key:4><num_want:4><port:2>
 *             response <action 1:4><transaction_id:4><interval:4><leechers:4><seeders:4><peers: 6 or 18 octets each>
 *   scrape    request  <connection_id:8><action 2:4><transaction_id:4><info_hash:20>...
 * DHT: a bencoded dictionary; queries {t, y:"q", q, a:{id, info_hash, port, ...}}, responses
 * {t, y:"r", r:{id, values:[compact peers], ...}}.
 *
 * Events (protocol "bittorrent"), fields:
 * - kind "announce" (tracker, client): `infoHash`, `peerId`, `port`, `event` (none, completed,
 *   started, stopped); kind "scrape": `infoHash` (comma-separated).
 * - kind "announce-response" (tracker, server): `seeders`, `leechers`, `peerCount`, `peers`
 *   (addr:port, comma-separated, at most MAX_REPORTED_PEERS).
 * - kind "dht-get_peers" / "dht-announce_peer" (query): `infoHash`, `nodeId`, and `port` for
 *   announce_peer. kind "dht-peers" (a response with values): `infoHash` (of the query it
 *   answers, when seen), `peerCount`, `peers`.
 * None of these fields is content (see bittorrent.ts for the info-hash).
 */
import { type BDict, bdict, bstr, decodeBencode } from './bencode';
import { hex, peerClient } from './bittorrent';
import { formatAddress } from '../../capture/targets';
import { NO_EVENTS } from './outbox';
import { newCounters } from './text';
import type { AppCounters, AppEvent, DatagramAnalyser, FlowSide } from './types';

/** Most peers listed in a `peers` field (`peerCount` still counts them all). */
export const MAX_REPORTED_PEERS = 50;
/** DHT queries remembered per flow to name the info-hash of their response. */
export const MAX_DHT_PENDING = 16;

const PROTOCOL_ID_HI = 0x417;
const PROTOCOL_ID_LO = 0x27101980;
const EVENTS = ['none', 'completed', 'started', 'stopped'];

const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Whether `d` is a UDP tracker connect request. */
function isConnect(d: Uint8Array): boolean {
  return d.length >= 16 && u32(d, 0) === PROTOCOL_ID_HI && u32(d, 4) === PROTOCOL_ID_LO && u32(d, 8) === 0;
}

/** Whether `d` looks like a DHT message: a bencoded dictionary with a transaction id and a type. */
function dhtMessage(d: Uint8Array): BDict | undefined {
  if (d.length < 8 || d[0] !== 0x64 || d[d.length - 1] !== 0x65) return undefined;
  const v = decodeBencode(d);
  if (!(v instanceof Map)) return undefined;
  const y = bstr(v, 'y');
  if (!bstr(v, 't') || !y || y.length !== 1 || (y[0] !== 0x71 && y[0] !== 0x72 && y[0] !== 0x65)) return undefined;
  return v;
}

/** Sniffer (one datagram): a UDP tracker connect request, or a DHT message. */
export function sniffBittorrentUdp(d: Uint8Array): 'yes' | 'no' {
  return isConnect(d) || dhtMessage(d) ? 'yes' : 'no';
}

/** Compact peer addresses (4 or 16 octets, then a port) as "addr:port" text, at most MAX_REPORTED_PEERS. */
function compactPeers(list: Uint8Array[], addrLen: 4 | 16): string[] {
  const out: string[] = [];
  for (const p of list) {
    for (let o = 0; o + addrLen + 2 <= p.length && out.length < MAX_REPORTED_PEERS; o += addrLen + 2) {
      const port = (p[o + addrLen]! << 8) | p[o + addrLen + 1]!;
      out.push(addrLen === 4 ? `${p[o]}.${p[o + 1]}.${p[o + 2]}.${p[o + 3]}:${port}` : `[${formatAddress(p.subarray(o, o + 16))}]:${port}`);
    }
  }
  return out;
}

export class BittorrentUdpAnalyser implements DatagramAnalyser {
  readonly protocol = 'bittorrent';
  /** Transaction id (Latin-1) → info-hash of recent DHT queries. */
  private readonly dhtPending = new Map<string, string>();

  constructor(readonly counters: AppCounters = newCounters()) {}

  onDatagram(side: FlowSide, d: Uint8Array, timeUs: bigint): AppEvent[] {
    const m = dhtMessage(d);
    const fields = m ? this.dht(m) : this.tracker(side, d);
    if (fields === null) return NO_EVENTS;
    if (fields === undefined) {
      this.counters.malformed++;
      return NO_EVENTS;
    }
    this.counters.events++;
    return [{ protocol: 'bittorrent', timeUs, side, fields }];
  }

  /** A tracker datagram's fields; null for one that reports nothing; undefined when it is not one. */
  private tracker(side: FlowSide, d: Uint8Array): Record<string, string> | null | undefined {
    if (isConnect(d)) return null;
    if (side === 'client' && d.length >= 98 && u32(d, 8) === 1) {
      const id = d.subarray(36, 56);
      const ev = u32(d, 80);
      const f: Record<string, string> = { kind: 'announce', infoHash: hex(d.subarray(16, 36)), peerId: hex(id), port: String((d[96]! << 8) | d[97]!), event: EVENTS[ev] ?? String(ev) };
      const client = peerClient(id);
      if (client) f.peerClient = client;
      return f;
    }
    if (side === 'client' && d.length >= 36 && u32(d, 8) === 2 && (d.length - 16) % 20 === 0) {
      const hashes: string[] = [];
      for (let o = 16; o + 20 <= d.length && hashes.length < MAX_REPORTED_PEERS; o += 20) hashes.push(hex(d.subarray(o, o + 20)));
      return { kind: 'scrape', infoHash: hashes.join(',') };
    }
    if (side === 'server' && d.length >= 20 && u32(d, 0) === 1) {
      const body = d.subarray(20);
      const six = body.length % 6 === 0;
      const size = six ? 6 : body.length % 18 === 0 ? 18 : 0;
      if (size === 0) return undefined;
      const peers = compactPeers([body], size === 6 ? 4 : 16);
      return { kind: 'announce-response', leechers: String(u32(d, 12)), seeders: String(u32(d, 16)), peerCount: String(body.length / size), peers: peers.join(',') };
    }
    if (d.length >= 8 && u32(d, 0) <= 3) return null; // connect response, scrape response, error
    return undefined;
  }

  /** A DHT message's fields; null for one that reports nothing. */
  private dht(m: BDict): Record<string, string> | null {
    const t = Buffer.from(bstr(m, 't')!).toString('latin1');
    const y = bstr(m, 'y')![0];
    if (y === 0x71) {
      const q = bstr(m, 'q');
      const a = bdict(m, 'a');
      const ih = bstr(a, 'info_hash');
      const qn = q ? Buffer.from(q).toString('latin1') : '';
      if ((qn !== 'get_peers' && qn !== 'announce_peer') || !ih || ih.length !== 20) return null;
      const infoHash = hex(ih);
      if (this.dhtPending.size >= MAX_DHT_PENDING) this.dhtPending.delete(this.dhtPending.keys().next().value!);
      this.dhtPending.set(t, infoHash);
      const f: Record<string, string> = { kind: `dht-${qn}`, infoHash };
      const id = bstr(a, 'id');
      if (id && id.length === 20) f.nodeId = hex(id);
      const port = a?.get('port');
      if (qn === 'announce_peer' && typeof port === 'number') f.port = String(port);
      return f;
    }
    if (y !== 0x72) return null;
    const values = bdict(m, 'r')?.get('values');
    if (!Array.isArray(values)) return null;
    const list = values.filter((v): v is Uint8Array => v instanceof Uint8Array);
    const v6 = list.length > 0 && list.every((v) => v.length === 18);
    const peers = compactPeers(list, v6 ? 16 : 4);
    const f: Record<string, string> = { kind: 'dht-peers', peerCount: String(list.length), peers: peers.join(',') };
    const infoHash = this.dhtPending.get(t);
    if (infoHash) {
      f.infoHash = infoHash;
      this.dhtPending.delete(t);
    }
    return f;
  }
}

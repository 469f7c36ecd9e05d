/**
 * BitTorrent over TCP (BEP 3): the peer wire handshake, and the HTTP tracker announce and
 * scrape (read by the HTTP analyser through `trackerRequest`). The UDP tracker and the DHT
 * are in bittorrent-udp.ts. Pure.
 *
 * Handshake (BEP 3): <pstrlen=19><"BitTorrent protocol"><8 reserved><20 info_hash><20 peer_id>.
 * Each side sends one; after it come length-prefixed peer messages, which are not read.
 * Encrypted BitTorrent (MSE) and uTP are not recognised.
 *
 * Events (protocol "bittorrent"), fields:
 * - kind "handshake" (either side): `infoHash` (40 hex digits), `peerId` (40 hex digits),
 *   `peerClient` (the client tag of an Azureus-style peer id, e.g. "qB4250", when present).
 * - kind "announce" / "scrape" (HTTP tracker, side "client"): `infoHash` (hex; a scrape may
 *   name several, comma-separated), `peerId`, `port`, `event` (started, stopped, completed)
 *   when present, and `tracker` (the Host the request went to).
 *
 * Classification for pen-register orders: the info-hash names a swarm, not a file's bytes;
 * BitTorrent routes by it (trackers and the DHT key their peer lists on it, a peer selects the
 * torrent of a connection by it), so it is addressing here, like a host name, and no field of
 * these events is content. The tracker request's path and query stay content in the HTTP
 * event. An agency that rules otherwise changes BITTORRENT_CONTENT_FIELDS.
 */
import { Gather } from './gather';
import { NO_EVENTS } from './outbox';
import { newCounters } from './text';
import type { AppCounters, AppEvent, FlowSide, StreamAnalyser } from './types';

/** Fields of BitTorrent events that are content (none: see the classification above). */
export const BITTORRENT_CONTENT_FIELDS: readonly string[] = Object.freeze([]);

const PSTR = Buffer.from('\x13BitTorrent protocol', 'latin1');
/** Length of a peer wire handshake. */
export const HANDSHAKE_BYTES = 68;

/** Sniffer: either side starts with the handshake's protocol string. */
export function sniffBittorrent(client: Uint8Array, server: Uint8Array): 'yes' | 'no' | 'more' {
  const a = prefixOf(client);
  const b = prefixOf(server);
  if (a === 'yes' || b === 'yes') return 'yes';
  // The initiator speaks first: other bytes from it, or from the other side alone, rule it out.
  if ((client.length > 0 && a === 'no') || (client.length === 0 && b === 'no')) return 'no';
  return 'more';
}

function prefixOf(b: Uint8Array): 'yes' | 'no' | 'more' {
  const n = Math.min(b.length, PSTR.length);
  for (let i = 0; i < n; i++) if (b[i] !== PSTR[i]) return 'no';
  return b.length >= PSTR.length ? 'yes' : 'more';
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** The client tag of an Azureus-style peer id ("-qB4250-..."), if it is one. */
export function peerClient(id: Uint8Array): string | undefined {
  const s = Buffer.from(id.buffer, id.byteOffset, Math.min(8, id.length)).toString('latin1');
  const m = /^-([A-Za-z~]{2}[0-9A-Za-z.]{4})-$/.exec(s);
  return m ? m[1] : undefined;
}

class HandshakeSide {
  readonly hs = new Gather(HANDSHAKE_BYTES);
  done = false;
}

export class BittorrentAnalyser implements StreamAnalyser {
  readonly protocol = 'bittorrent';
  private readonly sides: Record<FlowSide, HandshakeSide> = { client: new HandshakeSide(), server: new HandshakeSide() };

  constructor(readonly counters: AppCounters = newCounters()) {}

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    const s = this.sides[side];
    if (s.done) return NO_EVENTS;
    const before = s.hs.have;
    s.hs.fill(data, 0);
    for (let i = before; i < Math.min(s.hs.have, PSTR.length); i++) {
      if (s.hs.buf[i] !== PSTR[i]) {
        s.done = true;
        this.counters.malformed++;
        return NO_EVENTS;
      }
    }
    if (!s.hs.full) return NO_EVENTS;
    s.done = true;
    const id = s.hs.buf.subarray(48, 68);
    const fields: Record<string, string> = { kind: 'handshake', infoHash: hex(s.hs.buf.subarray(28, 48)), peerId: hex(id) };
    const client = peerClient(id);
    if (client) fields.peerClient = client;
    this.counters.events++;
    return [{ protocol: 'bittorrent', timeUs, side, fields }];
  }

  onGap(side: FlowSide): void {
    const s = this.sides[side];
    if (!s.done) {
      s.done = true;
      this.counters.truncated++;
    }
  }

  onEnd(): AppEvent[] {
    for (const s of [this.sides.client, this.sides.server]) if (s.hs.have > 0 && !s.done) this.counters.truncated++;
    return NO_EVENTS;
  }
}

/** Percent-decoding to octets (a query's info_hash is binary, so decodeURIComponent will not do). */
export function percentDecode(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = parseInt(s.slice(i + 1, i + 3), 16);
      if (!/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3)) || Number.isNaN(h)) return undefined;
      out[n++] = h;
      i += 2;
    } else if (c === 0x2b) out[n++] = 0x20;
    else if (c < 0x80) out[n++] = c;
    else return undefined;
  }
  return out.subarray(0, n);
}

/**
 * The tracker request in an HTTP request target (BEP 3 announce, BEP 48 scrape): the fields
 * of a "bittorrent" event, or undefined when the target is not one (no `/announce` or
 * `/scrape` path with a 20-octet info_hash).
 */
export function trackerRequest(target: string): Record<string, string> | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  const path = target.slice(0, q);
  const kind = /\/announce(\.php)?$/.test(path) ? 'announce' : /\/scrape(\.php)?$/.test(path) ? 'scrape' : undefined;
  if (!kind) return undefined;
  const hashes: string[] = [];
  const fields: Record<string, string> = { kind };
  for (const part of target.slice(q + 1).split('&', 64)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq);
    const raw = part.slice(eq + 1);
    if (key === 'info_hash') {
      const h = percentDecode(raw);
      if (h && h.length === 20) hashes.push(hex(h));
    } else if (kind === 'announce' && key === 'peer_id') {
      const id = percentDecode(raw);
      if (id && id.length === 20) {
        fields.peerId = hex(id);
        const client = peerClient(id);
        if (client) fields.peerClient = client;
      }
    } else if (kind === 'announce' && key === 'port' && /^\d{1,5}$/.test(raw)) fields.port = raw;
    else if (kind === 'announce' && key === 'event' && /^(started|stopped|completed|empty)$/.test(raw)) fields.event = raw;
  }
  if (hashes.length === 0) return undefined;
  fields.infoHash = hashes.join(',');
  return fields;
}

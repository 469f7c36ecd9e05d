/**
 * DNS analysers: over UDP (one message per datagram) and over TCP (each message after a
 * two-octet length, RFC 1035 §4.2.2; RFC 7766). Messages are decoded by dns-message.ts. Pure.
 *
 * Events (protocol "dns"), one per message, fields:
 * - `kind` "query" or "response" (the QR bit); `id` (the transaction id, decimal);
 * - `qname` (the first question's name, lower case, "." for the root), `qtype` ("A", "AAAA",
 *   "TYPE65534"...), and `qcount` when a message asks more than one question;
 * - responses: `rcode` ("NOERROR", "NXDOMAIN", "RCODE9"...), `answerCount`, and `answers`:
 *   "name TYPE data" per answer, "; "-separated (A, AAAA, CNAME, NS, PTR, DNAME, MX, SRV, SOA
 *   data decoded; other types as "name TYPE").
 *
 * Classification for pen-register orders: a query name is the host name the target is about
 * to connect to, and the answers are the addresses (and aliases) the network routes it to.
 * That is the same addressing information as the HTTP Host or the TLS server name, which a
 * pen register may record; and the exchange's only purpose is addressing, not a message
 * between people. So no DNS field is content. Record data that is free text (TXT) is never
 * decoded at all, so it cannot leak into an IRI-only report.
 */
import { type DnsMessage, MAX_DNS_RECORDS, RCODES, parseDnsMessage, typeName } from './dns-message';
import { Gather } from './gather';
import { NO_EVENTS } from './outbox';
import { clip, newCounters } from './text';
import type { AppCounters, AppEvent, DatagramAnalyser, FlowSide, StreamAnalyser } from './types';

export const DNS_PORT = 53;
/** Largest DNS message over TCP (the two-octet length's range). */
export const MAX_DNS_TCP_MESSAGE = 65535;

/** Sniffer for UDP: port 53 at either end and a datagram that decodes as DNS. */
export function sniffDnsUdp(d: Uint8Array, clientPort: number, serverPort: number): 'yes' | 'no' {
  return (clientPort === DNS_PORT || serverPort === DNS_PORT) && parseDnsMessage(d) !== undefined ? 'yes' : 'no';
}

/** Sniffer for TCP: the server port is 53 and the client's first message length is plausible. */
export function sniffDnsTcp(client: Uint8Array, _server: Uint8Array, serverPort: number): 'yes' | 'no' | 'more' {
  if (serverPort !== DNS_PORT) return 'no';
  if (client.length < 2) return 'more';
  return ((client[0]! << 8) | client[1]!) >= 12 ? 'yes' : 'no';
}

/** The event fields of a decoded message. */
export function dnsFields(m: DnsMessage): Record<string, string> {
  const f: Record<string, string> = { kind: m.response ? 'response' : 'query', id: String(m.id) };
  const q = m.questions[0];
  if (q) {
    f.qname = clip(q.name);
    f.qtype = typeName(q.type);
  }
  if (m.questions.length > 1) f.qcount = String(m.questions.length);
  if (m.opcode !== 0) f.opcode = String(m.opcode);
  if (m.response) {
    f.rcode = RCODES[m.rcode] ?? `RCODE${m.rcode}`;
    f.answerCount = String(m.answerCount);
    if (m.answers.length > 0) f.answers = clip(m.answers.map((a) => `${a.name} ${typeName(a.type)}${a.data === undefined ? '' : ` ${a.data}`}`).join('; '), 8 * 1024);
  }
  return f;
}

/** Decodes one message and makes its event, or counts it malformed. */
function messageEvent(counters: AppCounters, msg: Uint8Array, side: FlowSide, timeUs: bigint): AppEvent | undefined {
  const m = parseDnsMessage(msg);
  if (!m) {
    counters.malformed++;
    return undefined;
  }
  if (m.answerCount > MAX_DNS_RECORDS) counters.truncated++;
  counters.events++;
  return { protocol: 'dns', timeUs, side, fields: dnsFields(m) };
}

export class DnsUdpAnalyser implements DatagramAnalyser {
  readonly protocol = 'dns';
  constructor(readonly counters: AppCounters = newCounters()) {}

  onDatagram(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    const ev = messageEvent(this.counters, data, side, timeUs);
    return ev ? [ev] : NO_EVENTS;
  }
}

/** One direction of DNS over TCP: the length prefix, then the message. */
class TcpSide {
  readonly len = new Gather(2);
  msg: Gather | undefined = undefined;
  lost = false;
}

export class DnsTcpAnalyser implements StreamAnalyser {
  readonly protocol = 'dns';
  private readonly sides: Record<FlowSide, TcpSide> = { client: new TcpSide(), server: new TcpSide() };

  constructor(readonly counters: AppCounters = newCounters()) {}

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    const s = this.sides[side];
    let out: AppEvent[] = NO_EVENTS;
    let off = 0;
    while (off < data.length && !s.lost) {
      if (!s.msg) {
        off = s.len.fill(data, off);
        if (!s.len.full) break;
        s.len.reset();
        const len = (s.len.buf[0]! << 8) | s.len.buf[1]!;
        if (len < 12) {
          this.counters.malformed++;
          s.lost = true; // no way to find the next message boundary
          break;
        }
        // A whole message inside this piece is read in place.
        if (data.length - off >= len) {
          const ev = messageEvent(this.counters, data.subarray(off, off + len), side, timeUs);
          if (ev) out = out === NO_EVENTS ? [ev] : (out.push(ev), out);
          off += len;
          continue;
        }
        s.msg = new Gather(len);
      }
      off = s.msg.fill(data, off);
      if (s.msg.full) {
        const ev = messageEvent(this.counters, s.msg.buf, side, timeUs);
        if (ev) out = out === NO_EVENTS ? [ev] : (out.push(ev), out);
        s.msg = undefined;
      }
    }
    return out;
  }

  onGap(side: FlowSide): void {
    const s = this.sides[side];
    if (!s.lost) this.counters.truncated++;
    s.lost = true;
    s.msg = undefined;
  }

  onEnd(): AppEvent[] {
    for (const s of [this.sides.client, this.sides.server]) if (!s.lost && (s.msg || s.len.have > 0)) this.counters.truncated++;
    return NO_EVENTS;
  }
}

/**
 * The flow table (src/probe/app/flow-table.ts, flow.ts) and the packet view (packet.ts):
 * analysers chosen by port and by sniffing (HTTP on 8080, BitTorrent and the DHT on random
 * ports), client and server told apart with and without a SYN, both directions in one flow,
 * reordering through the table, port reuse, idle expiry by capture time, eviction reporting
 * what was pending, the shared reassembly budget released, disabled protocols, tags.
 */
import { strict as assert } from 'node:assert';
import { decodeFrame } from '../../src/capture/decode';
import { DecodedPacket } from '../../src/capture/decode-ip';
import { APP_CONTENT_FIELDS, APP_FIELDS, APP_PROTOCOLS, STREAM_ANALYSERS, candidates } from '../../src/probe/app/index';
import { FlowTable, type FlowInfo, TCP_IDLE_TIMEOUT_US, UDP_IDLE_TIMEOUT_US } from '../../src/probe/app/flow-table';
import { type FlowPacket, flowPacket } from '../../src/probe/app/packet';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/probe/app/tcp-reassembly';
import type { AppEvent } from '../../src/probe/app/types';
import { hex } from '../fixtures/capture-golden';
import { bytes, crlf } from '../helpers/app-feed';

const A = Uint8Array.of(10, 0, 0, 1);
const B = Uint8Array.of(192, 0, 2, 80);
const T0 = 1_700_000_000_000_000n;

interface Got {
  flow: FlowInfo<string>;
  event: AppEvent;
}

function table(options = {}) {
  const got: Got[] = [];
  const t = new FlowTable<string>((flow, event) => got.push({ flow: { ...flow, client: { ...flow.client }, server: { ...flow.server } }, event }), options);
  return { t, got };
}

/** A TCP connection's packets, sequence numbers kept per side. */
class Conn {
  private seq = { c: 1000, s: 50000 };
  constructor(
    readonly cport: number,
    readonly sport: number,
    private time = T0,
  ) {}
  private pkt(fromClient: boolean, flags: number, data: Uint8Array, seq?: number): FlowPacket {
    const k = fromClient ? 'c' : 's';
    const p: FlowPacket = {
      timeUs: (this.time += 1n),
      transport: 'tcp',
      src: fromClient ? A : B,
      dst: fromClient ? B : A,
      srcPort: fromClient ? this.cport : this.sport,
      dstPort: fromClient ? this.sport : this.cport,
      seq: seq ?? this.seq[k],
      flags,
      payload: data,
      lost: 0,
    };
    if (seq === undefined) this.seq[k] = (this.seq[k] + data.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
    return p;
  }
  open(): FlowPacket[] {
    return [this.pkt(true, TCP_SYN, new Uint8Array(0)), this.pkt(false, TCP_SYN | TCP_ACK, new Uint8Array(0)), this.pkt(true, TCP_ACK, new Uint8Array(0))];
  }
  c(s: string | Uint8Array, flags = TCP_ACK): FlowPacket {
    return this.pkt(true, flags, bytes(s));
  }
  s(s: string | Uint8Array, flags = TCP_ACK): FlowPacket {
    return this.pkt(false, flags, bytes(s));
  }
  at(time: bigint): this {
    this.time = time;
    return this;
  }
}

const udp = (src: Uint8Array, sport: number, dst: Uint8Array, dport: number, data: Uint8Array, timeUs = T0): FlowPacket => ({ timeUs, transport: 'udp', src, dst, srcPort: sport, dstPort: dport, seq: 0, flags: 0, payload: data, lost: 0 });

const kinds = (got: Got[]) => got.map((g) => `${g.event.protocol}:${g.event.fields.kind ?? ''}`);

describe('app: flow table', () => {
  it('finds HTTP on port 8080 by its first bytes; both directions in one flow; client and server from the SYN', () => {
    const { t, got } = table();
    const c = new Conn(40000, 8080);
    for (const p of [...c.open(), c.c(crlf('GET /x HTTP/1.1', 'Host: a.example', '')), c.s(crlf('HTTP/1.1 200 OK', 'Content-Length: 0', ''))]) t.packet(p, 'task-1');
    assert.deepEqual(kinds(got), ['http:request', 'http:response']);
    assert.deepEqual(got[0]!.flow.client, { address: A, port: 40000 });
    assert.deepEqual(got[0]!.flow.server, { address: B, port: 8080 });
    assert.equal(got[0]!.flow.protocol, 'http');
    assert.equal(got[0]!.flow.tag, 'task-1');
    assert.equal(t.size, 1);
    assert.equal(t.counters().protocols.http!.events, 2);
  });

  it('finds BitTorrent on a random port, and SMTP on 25 whose server speaks first', () => {
    const { t, got } = table();
    const bt = new Conn(50123, 34567);
    const hs = bytes('\x13BitTorrent protocol' + '\0'.repeat(8) + 'H'.repeat(20) + '-TR3000-abcdefghijkl');
    for (const p of [...bt.open(), bt.c(hs.subarray(0, 10)), bt.c(hs.subarray(10))]) t.packet(p, '');
    const smtp = new Conn(40001, 25);
    for (const p of [...smtp.open(), smtp.s('220 mx ESMTP\r\n'), smtp.c('EHLO me\r\n'), smtp.s('250 ok\r\n'), smtp.c('STARTTLS\r\n'), smtp.s('220 go\r\n')]) t.packet(p, '');
    assert.deepEqual(kinds(got), ['bittorrent:handshake', 'smtp:starttls']);
  });

  it('a flow nothing recognises is left alone (counted), whatever its port', () => {
    const { t, got } = table();
    const c = new Conn(40002, 80);
    for (const p of [...c.open(), c.c('SSH-2.0-OpenSSH_9.6\r\n'), c.s('SSH-2.0-x\r\n'), c.c('GET / HTTP/1.1\r\n\r\n')]) t.packet(p, '');
    assert.deepEqual(got, []);
    assert.equal(t.counters().unrecognised, 1);
  });

  it('tells the client from the server mid-stream by the known port, and reassembles reordered segments', () => {
    const { t, got } = table();
    const c = new Conn(40003, 80);
    const req = crlf('GET /one HTTP/1.1', 'Host: h', '');
    const p1 = c.c(req.slice(0, 10));
    const p2 = c.c(req.slice(10, 20));
    const p3 = c.c(req.slice(20));
    // No SYN seen; the segments arrive 1, 3, 2, 2 (again).
    for (const p of [p1, p3, p2, p2]) t.packet(p, '');
    assert.deepEqual(
      got.map((g) => [g.event.fields.path, g.flow.server.port]),
      [['/one', 80]],
    );
    assert.equal(t.counters().reassembly.outOfOrder, 1);
    assert.equal(t.counters().bufferedBytes, 0);
  });

  it('DNS and the DHT over UDP; the DHT found on a random port', () => {
    const { t, got } = table();
    const q = hex('1234 0100 0001 0000 0000 0000 03777777 076578616d706c65 03636f6d 00 0001 0001');
    t.packet(udp(A, 53000, B, 53, q), '');
    const dht = bytes('d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe');
    t.packet(udp(A, 6881, B, 41234, dht), '');
    t.packet(udp(A, 50000, B, 9999, bytes('not anything')), '');
    assert.deepEqual(kinds(got), ['dns:query', 'bittorrent:dht-get_peers']);
    assert.equal(got[0]!.flow.server.port, 53);
    assert.equal(got[1]!.flow.client.port, 41234, 'a DHT node on 6881 (a known port) answers the one that asked');
  });

  it('a new SYN on a closed 5-tuple starts a new flow; late segments of the old one do not', () => {
    const { t, got } = table();
    const c = new Conn(40004, 80);
    for (const p of [...c.open(), c.c(crlf('GET /a HTTP/1.1', '')), c.c('', TCP_ACK | TCP_FIN), c.s('', TCP_ACK | TCP_FIN)]) t.packet(p, '');
    assert.equal(t.counters().ended, 1);
    t.packet(c.c('', TCP_ACK), ''); // the last ACK: ignored
    const again = new Conn(40004, 80);
    for (const p of [...again.open(), again.c(crlf('GET /b HTTP/1.1', ''))]) t.packet(p, '');
    assert.deepEqual(
      got.map((g) => g.event.fields.path),
      ['/a', '/b'],
    );
    assert.equal(t.counters().created, 2);
  });

  it('ends idle flows by capture time, and reports what they had pending', () => {
    const { t, got } = table();
    const c = new Conn(40005, 25);
    for (const p of [...c.open(), c.s('220 x\r\n'), c.c('HELO me\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n'), c.s('250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n'), c.c('Subject: hi\r\n\r\nunfinished')]) t.packet(p, 'smtp-task');
    t.packet(udp(A, 53001, B, 53, hex('0001 0100 0001 0000 0000 0000 01 61 00 0001 0001'), T0 + 10n), '');
    assert.deepEqual(kinds(got), ['dns:query']);
    t.expire(T0 + UDP_IDLE_TIMEOUT_US + 20n);
    assert.equal(t.size, 1, 'the UDP flow went first');
    // Any later packet moves capture time on; the table sweeps as it goes.
    t.packet(udp(A, 53002, B, 53, hex('0002 0100 0001 0000 0000 0000 01 62 00 0001 0001'), T0 + TCP_IDLE_TIMEOUT_US + 100n), '');
    assert.deepEqual(kinds(got), ['dns:query', 'smtp:message', 'dns:query']);
    assert.equal(got[1]!.event.fields.status, 'incomplete');
    assert.equal(got[1]!.flow.tag, 'smtp-task');
    assert.equal(t.counters().expired, 2);
  });

  it('ends the least recently active flow to make room (evicted), and on endAll', () => {
    const { t, got } = table({ maxFlows: 2 });
    const conns = [40010, 40011, 40012].map((p) => new Conn(p, 80));
    for (const c of conns) for (const p of [...c.open(), c.c('GET /')]) t.packet(p, '');
    assert.equal(t.size, 2);
    assert.equal(t.counters().evicted, 1);
    t.endAll(T0 + 1000n);
    assert.equal(t.size, 0);
    assert.deepEqual(got, []);
    assert.equal(t.counters().ended, 3);
  });

  it('holds out-of-order bytes within the table budget, and releases it when a flow ends', () => {
    const { t } = table({ maxBufferedBytes: 1000 });
    const c = new Conn(40020, 80);
    for (const p of c.open()) t.packet(p, '');
    const first = c.c('GET / HTTP/1.1\r\n');
    t.packet(c.c('x'.repeat(600)), '');
    assert.equal(t.counters().bufferedBytes, 600);
    t.packet(c.c('y'.repeat(600)), '');
    assert.equal(t.counters().reassembly.forcedGaps, 1);
    assert.equal(t.counters().bufferedBytes, 0);
    void first;
    const d = new Conn(40021, 80);
    for (const p of d.open()) t.packet(p, '');
    d.c('lost');
    t.packet(d.c('z'.repeat(100)), '');
    assert.equal(t.counters().bufferedBytes, 100);
    t.packet(d.c('', TCP_RST), '');
    assert.equal(t.counters().bufferedBytes, 0);
  });

  it('bounds the mail content all flows hold together, and gives it back once reported', () => {
    const { t, got } = table({ maxContentBytes: 100 });
    const smtp = (cport: number, body: string) => {
      const c = new Conn(cport, 25);
      for (const p of [...c.open(), c.s('220 x\r\n'), c.c('HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n'), c.s('250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n'), c.c(body)]) t.packet(p, '');
      return c;
    };
    const a = smtp(40040, 'a'.repeat(80));
    const b = smtp(40041, 'b'.repeat(80));
    assert.equal(t.counters().contentBytes, 100);
    for (const p of [a.c('\r\n.\r\n'), a.s('250 ok\r\n'), b.c('\r\n.\r\n'), b.s('250 ok\r\n')]) t.packet(p, '');
    assert.deepEqual(
      got.map((g) => [Buffer.from(g.event.content!).toString().length, g.event.fields.contentTruncated, g.event.fields.size]),
      // a kept 80 and b 20 before the budget was spent; b's last 2 came after a's were reported.
      [
        [80, 'true', '82'],
        [22, 'true', '82'],
      ],
    );
    assert.equal(t.counters().contentBytes, 0);
  });

  it('analyses only the protocols enabled', () => {
    const { t, got } = table({ protocols: ['dns'] });
    const c = new Conn(40030, 80);
    for (const p of [...c.open(), c.c(crlf('GET / HTTP/1.1', ''))]) t.packet(p, '');
    assert.deepEqual(got, []);
  });

  it('the registry: every protocol documents its keys and content keys; port owners are tried first', () => {
    assert.deepEqual([...APP_PROTOCOLS].sort(), Object.keys(APP_FIELDS).sort());
    for (const p of APP_PROTOCOLS) for (const k of APP_CONTENT_FIELDS[p]!) assert.ok(APP_FIELDS[p]!.includes(k), `${p}.${k}`);
    assert.deepEqual(
      candidates(STREAM_ANALYSERS, 5222).map((s) => s.protocol).slice(0, 2),
      ['xmpp', 'http'],
    );
    assert.deepEqual(
      candidates(STREAM_ANALYSERS, 80, new Set(['tls', 'http'])).map((s) => s.protocol),
      ['http', 'tls'],
    );
  });

  it('flowPacket: TCP and UDP from decoded IPv4 packets; what it skips', () => {
    const tcp = decodeFrame(101, hex('4500 002d 0001 0000 4006 0000 0a000001 c0000250 9c40 0050 00000064 00000000 5018 ffff 0000 0000 47455420 2f')) as DecodedPacket;
    const p = flowPacket(tcp, 5n);
    assert.ok(typeof p === 'object');
    assert.deepEqual({ ...p, src: [...p.src], dst: [...p.dst], payload: Buffer.from(p.payload).toString() }, { timeUs: 5n, transport: 'tcp', src: [10, 0, 0, 1], dst: [192, 0, 2, 80], srcPort: 40000, dstPort: 80, seq: 100, flags: 0x18, payload: 'GET /', lost: 0 });
    const u = decodeFrame(101, hex('4500 0021 0001 0000 4011 0000 0a000001 c0000250 cf08 0035 000d 0000 6162636465 ffff')) as DecodedPacket;
    const q = flowPacket(u, 6n);
    assert.ok(typeof q === 'object');
    assert.equal(Buffer.from(q.payload).toString(), 'abcde');
    const icmp = decodeFrame(101, hex('4500 001c 0001 0000 4001 0000 0a000001 c0000250 0800 0000 0000 0000')) as DecodedPacket;
    assert.equal(flowPacket(icmp, 1n), 'not-tcp-udp');
    const badOffset = decodeFrame(101, hex('4500 0028 0001 0000 4006 0000 0a000001 c0000250 9c40 0050 00000064 00000000 4018 ffff 0000 0000')) as DecodedPacket;
    assert.equal(flowPacket(badOffset, 1n), 'transport-malformed');
    const badLen = decodeFrame(101, hex('4500 0021 0001 0000 4011 0000 0a000001 c0000250 cf08 0035 00ff 0000 6162636465')) as DecodedPacket;
    assert.equal(flowPacket(badLen, 1n), 'transport-malformed');
  });
});

/**
 * Flow summaries for IRI-only tasks (src/probe/flow-summary.ts), driven as the application
 * stage drives them (tick at each packet's capture time, then the packet): a start summary
 * with the first packet, timer summaries at the task's interval with what came since, the end
 * after RST or FIN both ways (late packets still counted), idle timeouts, a SYN reopening a
 * closed 5-tuple, eviction when full, REPORT_END when the task goes; every summary's header is
 * the first packet's IP and transport headers only; a flow's summaries add up to its packets.
 */
import { strict as assert } from 'node:assert';
import { decodeFrame } from '../../src/capture/decode';
import { DecodedPacket } from '../../src/capture/decode-ip';
import { LINKTYPE } from '../../src/capture/pcap-format';
import { Direction, type Event, type FlowSummary, FlowSummary_Trigger, type Match } from '../../src/gen/lig/v1/ingest';
import { FlowSummaries, SUMMARY_CLOSED_LINGER_US, SUMMARY_IDLE_US, SUMMARY_TCP_IDLE_US } from '../../src/probe/flow-summary';

const T0 = 1_767_225_600_000_000;
const S = 1_000_000;
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const { TRIGGER_FLOW_START: START, TRIGGER_TIMER: TIMER, TRIGGER_FLOW_END: END, TRIGGER_FLOW_TIMEOUT: TIMEOUT, TRIGGER_REPORT_END: REPORT_END } = FlowSummary_Trigger;

/** A raw IPv4 packet (20-octet header) carrying a TCP (20-octet header) or UDP segment with `payload`. */
function packet(src: string, dst: string, sport: number, dport: number, opts: { udp?: boolean; flags?: number; payload?: number; v6?: boolean } = {}): DecodedPacket {
  const payload = Buffer.alloc(opts.payload ?? 0, 0x41);
  let l4: Buffer;
  if (opts.udp) {
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(8 + payload.length, 4);
  } else {
    l4 = Buffer.alloc(20);
    l4[12] = 0x50;
    l4[13] = opts.flags ?? ACK;
  }
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  const proto = opts.udp ? 17 : 6;
  let ip: Buffer;
  if (opts.v6) {
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(l4.length + payload.length, 4);
    ip[6] = proto;
    ip[7] = 64;
    ip[23] = Number(src.split('.').pop());
    ip[39] = Number(dst.split('.').pop());
    ip[8] = ip[24] = 0x20;
    ip[9] = ip[25] = 0x01;
  } else {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + l4.length + payload.length, 2);
    ip[8] = 64;
    ip[9] = proto;
    Buffer.from(src.split('.').map(Number)).copy(ip, 12);
    Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  }
  const p = decodeFrame(LINKTYPE.RAW, Buffer.concat([ip, l4, payload]));
  assert.ok(p instanceof DecodedPacket);
  return p;
}

const A = '10.0.0.5';
const B = '198.51.100.80';
const match = (task: number, direction = Direction.DIRECTION_FROM_TARGET, sessionKey = ''): Match => ({ taskId: BigInt(task), direction, sessionKey });

interface Seen extends Omit<FlowSummary, 'header'> {
  time: number;
  header: Buffer;
}

/** Drives a FlowSummaries as the stage does; collects what it emits. */
class Driver {
  readonly out: Event[] = [];
  constructor(readonly s = new FlowSummaries()) {}
  at(t: number, p: DecodedPacket, m: Match = match(1), intervalUs = 10 * S): void {
    this.s.tick(t, this.out);
    this.s.packet(p, t, m, intervalUs, this.out);
  }
  tick(t: number): void {
    this.s.tick(t, this.out);
  }
  seen(): Seen[] {
    return this.out.map((e) => {
      assert.equal(e.kind?.$case, 'flowSummary');
      const f = (e.kind as { flowSummary: FlowSummary }).flowSummary;
      return { ...f, time: Number(e.timeUs), header: Buffer.from(f.header) };
    });
  }
  brief(): [FlowSummary_Trigger, number, number, number][] {
    return this.seen().map((s) => [s.trigger, Number(s.packets), Number(s.firstUs) - T0, Number(s.lastUs) - T0]);
  }
}

describe('probe flow summaries', () => {
  it('start, timer at the interval with what came since, end after FIN both ways with the late ACK counted', () => {
    const d = new Driver();
    // One packet a second from 0 s to 25 s, 100 octets of payload each (140 on the wire).
    for (let i = 0; i <= 25; i++) d.at(T0 + i * S, i % 2 ? packet(B, A, 80, 40000, { payload: 100 }) : packet(A, B, 40000, 80, { payload: 100 }));
    d.at(T0 + 26 * S, packet(A, B, 40000, 80, { flags: FIN | ACK }));
    d.at(T0 + 26 * S + 10, packet(B, A, 80, 40000, { flags: FIN | ACK }));
    d.at(T0 + 26 * S + 20, packet(A, B, 40000, 80, { flags: ACK }));
    d.tick(T0 + 26 * S + 20 + SUMMARY_CLOSED_LINGER_US);
    // The sweep at 10 s (before the 10 s packet) reports 1..9 s; at 20 s, 10..19 s; the end 20..26 s and the three closing packets.
    assert.deepEqual(d.brief(), [
      [START, 1, 0, 0],
      [TIMER, 9, 1 * S, 9 * S],
      [TIMER, 10, 10 * S, 19 * S],
      [END, 9, 20 * S, 26 * S + 20],
    ]);
    const seen = d.seen();
    assert.equal(seen.reduce((n, s) => n + Number(s.bytes), 0), 26 * 140 + 3 * 40);
    for (const s of seen) {
      assert.deepEqual(s.header, Buffer.from(packet(A, B, 40000, 80, { payload: 100 }).ip.subarray(0, 40)), 'the first packet, headers only');
      assert.deepEqual(s.matches, [match(1)]);
      assert.equal(s.time, Number(s.lastUs), 'timed at the last packet counted');
    }
    assert.deepEqual(d.s.counters(), { flows: 0, packets: 29, start: 1, timer: 2, end: 1, timeout: 0, reportEnd: 0, evicted: 0 });
  });

  it('a flow with nothing new gets no timer summary; idle flows time out (UDP sooner than TCP)', () => {
    const d = new Driver();
    d.at(T0, packet(A, B, 5000, 53, { udp: true, payload: 30 }));
    d.at(T0 + 1, packet(A, B, 40000, 443));
    d.tick(T0 + 30 * S);
    d.tick(T0 + SUMMARY_IDLE_US);
    assert.deepEqual(d.brief(), [
      [START, 1, 0, 0],
      [START, 1, 1, 1],
      [TIMEOUT, 0, 0, 0],
    ]);
    d.tick(T0 + 1 + SUMMARY_TCP_IDLE_US);
    assert.deepEqual(d.brief().slice(3), [[TIMEOUT, 0, 1, 1]]);
    assert.equal(d.s.size, 0);
  });

  it('RST ends a flow; a SYN on a closed 5-tuple ends it at once and starts another', () => {
    const d = new Driver();
    d.at(T0, packet(A, B, 40000, 80, { flags: SYN }));
    d.at(T0 + 10, packet(B, A, 80, 40000, { flags: RST | ACK }));
    d.at(T0 + 20, packet(A, B, 40000, 80, { flags: SYN }));
    d.at(T0 + 30, packet(B, A, 80, 40000, { flags: SYN | ACK }));
    d.at(T0 + 40, packet(A, B, 40000, 80, { flags: RST }));
    d.at(T0 + 50, packet(A, B, 40000, 80, { flags: ACK }), match(1), 10 * S);
    d.tick(T0 + 40 + SUMMARY_CLOSED_LINGER_US);
    assert.deepEqual(d.brief(), [
      [START, 1, 0, 0],
      [END, 1, 10, 10],
      [START, 1, 20, 20],
      [END, 3, 30, 50],
    ]);
  });

  it('one flow both ways; other tasks, sessions and 5-tuples are other flows; IPv6', () => {
    const d = new Driver();
    d.at(T0, packet(A, B, 40000, 80));
    d.at(T0 + 1, packet(B, A, 80, 40000));
    d.at(T0 + 2, packet(A, B, 40000, 80), match(2, Direction.DIRECTION_FROM_TARGET));
    d.at(T0 + 3, packet(A, B, 40000, 80), match(1, Direction.DIRECTION_FROM_TARGET, 'radius:nas/1'));
    d.at(T0 + 4, packet(A, B, 40001, 80));
    d.at(T0 + 5, packet(B, A, 80, 40000, { udp: true }));
    d.at(T0 + 6, packet(A, B, 40000, 80, { v6: true }));
    d.at(T0 + 7, packet(B, A, 80, 40000, { v6: true }), match(1, Direction.DIRECTION_TO_TARGET));
    assert.equal(d.s.size, 6);
    d.s.endAll(d.out);
    const ends = d.seen().filter((s) => s.trigger === REPORT_END);
    assert.deepEqual(
      ends.map((s) => [Number(s.matches[0]!.taskId), s.matches[0]!.sessionKey, Number(s.packets) + 1, s.header.length]),
      [
        [1, '', 2, 40],
        [2, '', 1, 40],
        [1, 'radius:nas/1', 1, 40],
        [1, '', 1, 40],
        [1, '', 1, 28],
        [1, '', 2, 60],
      ],
    );
    assert.equal(ends[5]!.matches[0]!.direction, Direction.DIRECTION_FROM_TARGET, 'the direction of the first packet');
  });

  it('full: the least recently active flow is ended (TIMEOUT, counted) to make room', () => {
    const d = new Driver(new FlowSummaries({ maxFlows: 2 }));
    d.at(T0, packet(A, B, 40000, 80));
    d.at(T0 + 1, packet(A, B, 40001, 80));
    d.at(T0 + 2, packet(A, B, 40000, 80));
    d.at(T0 + 3, packet(A, B, 40002, 80));
    assert.deepEqual(d.brief(), [
      [START, 1, 0, 0],
      [START, 1, 1, 1],
      [TIMEOUT, 0, 1, 1],
      [START, 1, 3, 3],
    ]);
    assert.equal(d.seen()[2]!.header.readUInt16BE(20), 40001);
    assert.equal(d.s.counters().evicted, 1);
    assert.equal(d.s.size, 2);
  });

  it('a new task list: the tasks still summarising keep their flows (at the new interval), the others end', () => {
    const d = new Driver();
    d.at(T0, packet(A, B, 40000, 80), match(1));
    d.at(T0 + 1, packet(A, B, 40001, 80), match(2));
    d.at(T0 + 2, packet(A, B, 40002, 80, { flags: RST }), match(2));
    d.at(T0 + 3, packet(A, B, 40003, 80), match(3));
    d.at(T0 + 4, packet(A, B, 40000, 80), match(1));
    d.s.retain(new Map([[1n, 2 * S]]), d.out);
    assert.deepEqual(d.brief().slice(4), [
      [REPORT_END, 0, 1, 1],
      [END, 0, 2, 2],
      [REPORT_END, 0, 3, 3],
    ]);
    d.tick(T0 + 2 * S);
    assert.deepEqual(d.brief().slice(7), [[TIMER, 1, 4, 4]]);
  });
});

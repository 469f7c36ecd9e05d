/**
 * TCP reassembly (src/probe/app/tcp-reassembly.ts): in-order delivery whatever the arrival
 * order, first copy wins on overlaps (checked against a byte-by-byte model), wrap-around,
 * gaps after the bounded wait, the shared budget, FIN, RST, connections picked up mid-way,
 * and segments the capture cut short.
 */
import { strict as assert } from 'node:assert';
import {
  GAP_WAIT_BYTES,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TcpReassembler,
  type ReassemblyBudget,
  type ReassemblyLimits,
  newReassemblyCounters,
} from '../../src/probe/app/tcp-reassembly';
import type { FlowSide } from '../../src/probe/app/types';
import { prng } from '../fixtures/capture-golden';

interface Out {
  data: Record<FlowSide, number[]>;
  gaps: [FlowSide, number][];
  log: string[];
}

function harness(budget: ReassemblyBudget = { used: 0, limit: 1 << 30 }, limits?: ReassemblyLimits) {
  const out: Out = { data: { client: [], server: [] }, gaps: [], log: [] };
  const counters = newReassemblyCounters();
  const tcp = new TcpReassembler(
    {
      data: (side, b) => {
        out.data[side].push(...b);
        out.log.push(`${side} ${b.length}`);
      },
      gap: (side, n) => {
        out.gaps.push([side, n]);
        out.log.push(`${side} gap ${n}`);
      },
    },
    budget,
    counters,
    limits,
  );
  return { tcp, out, counters, budget };
}

const T = 1n;
const seg = (seq: number, payload: number[] | Uint8Array, flags = TCP_ACK) => ({ seq: seq >>> 0, flags, payload: Uint8Array.from(payload) });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('app: TCP reassembly', () => {
  it('hands on segments in order from ISN + 1 and ends with both FINs', () => {
    const { tcp, out, counters } = harness();
    tcp.segment('client', seg(1000, [], TCP_SYN), T);
    tcp.segment('server', seg(5000, [], TCP_SYN | TCP_ACK), T);
    tcp.segment('client', seg(1001, [1, 2, 3]), T);
    tcp.segment('server', seg(5001, [9]), T);
    tcp.segment('client', seg(1004, [4], TCP_ACK | TCP_FIN), T);
    assert.equal(tcp.closed, false);
    assert.ok(tcp.ended('client'));
    tcp.segment('server', seg(5002, [], TCP_ACK | TCP_FIN), T);
    assert.ok(tcp.closed);
    assert.deepEqual(out.data, { client: [1, 2, 3, 4], server: [9] });
    assert.equal(counters.bytes, 5);
    tcp.segment('client', seg(1005, [7]), T);
    assert.deepEqual(out.data.client, [1, 2, 3, 4], 'nothing after FIN');
  });

  it('first copy wins: random arrival orders, duplicates and conflicting overlaps give what a byte-by-byte model keeps', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const len = 50 + Math.floor(rnd() * 400);
      // ISNs near 2^32 in half the runs: the stream crosses the wrap.
      const isn = rnd() < 0.5 ? 0xffffffff - Math.floor(rnd() * len) : Math.floor(rnd() * 2 ** 32);
      const { tcp, out, counters } = harness();
      tcp.segment('client', seg(isn, [], TCP_SYN), T);
      // Segments cover the stream; some are copies with different bytes (marked by +100).
      const segs: { rel: number; data: number[] }[] = [];
      for (let off = 0; off < len; ) {
        const n = Math.min(len - off, 1 + Math.floor(rnd() * 30));
        segs.push({ rel: off, data: range(off, n) });
        off += n;
      }
      for (let k = 0; k < 20; k++) {
        const from = Math.floor(rnd() * len);
        const n = Math.min(len - from, 1 + Math.floor(rnd() * 40));
        segs.push({ rel: from, data: range(from, n).map((b) => (b + 100) & 0xff) });
      }
      for (let k = segs.length - 1; k > 0; k--) {
        const j = Math.floor(rnd() * (k + 1));
        [segs[k], segs[j]] = [segs[j]!, segs[k]!];
      }
      const model: (number | undefined)[] = new Array(len).fill(undefined);
      for (const s of segs) {
        s.data.forEach((b, i) => (model[s.rel + i] ??= b));
        tcp.segment('client', seg(isn + 1 + s.rel, s.data), T);
      }
      assert.deepEqual(out.data.client, model, `seed ${seed}`);
      assert.equal(out.gaps.length, 0);
      assert.equal(counters.bytes, len);
      assert.equal(tcp.heldBytes, 0);
    }
  });

  it('reads a stream across the 2^32 wrap', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0xfffffff0, [], TCP_SYN), T);
    tcp.segment('client', seg(0x00000006, range(21, 10)), T); // ahead, past the wrap
    tcp.segment('client', seg(0xfffffff1, range(0, 21)), T);
    assert.deepEqual(out.data.client, range(0, 31));
  });

  it('declares a hole lost once more than the wait limit is held after it, and goes on', () => {
    const limits = { gapWaitBytes: 100, gapWaitSegments: 64 };
    const { tcp, out, counters } = harness(undefined, limits);
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', seg(1, range(0, 10)), T);
    // 10..19 never comes; 60 octets after it are held, then 50 more pass the limit.
    tcp.segment('client', seg(21, range(20, 60)), T);
    assert.deepEqual(out.gaps, []);
    tcp.segment('client', seg(81, range(80, 50)), T);
    assert.deepEqual(out.gaps, [['client', 10]]);
    assert.deepEqual(out.data.client, [...range(0, 10), ...range(20, 110)]);
    assert.deepEqual(out.log, ['client 10', 'client gap 10', 'client 60', 'client 50']);
    assert.equal(counters.gaps, 1);
    assert.equal(counters.gapBytes, 10);
    // The late segment is old news now.
    tcp.segment('client', seg(11, range(10, 10)), T);
    assert.equal(counters.duplicateBytes, 10);
  });

  it('holds at most GAP_WAIT_BYTES per direction by default', () => {
    const { tcp, out } = harness();
    tcp.segment('server', seg(0, [], TCP_SYN | TCP_ACK), T);
    for (let i = 0; i < 50; i++) tcp.segment('server', seg(1001 + i * 8000, new Uint8Array(8000)), T);
    assert.ok(tcp.heldBytes <= GAP_WAIT_BYTES);
    assert.equal(out.gaps[0]![1], 1000);
  });

  it('gives up holes at once when the shared budget is spent (forced gaps), and releases the budget', () => {
    const budget = { used: 0, limit: 100 };
    const a = harness(budget);
    const b = harness(budget);
    for (const h of [a, b]) h.tcp.segment('client', seg(0, [], TCP_SYN), T);
    a.tcp.segment('client', seg(11, range(10, 80)), T);
    assert.equal(budget.used, 80);
    b.tcp.segment('client', seg(11, range(10, 30)), T); // 110 > 100: b gives up its hole
    assert.deepEqual(b.out.gaps, [['client', 10]]);
    assert.equal(b.counters.forcedGaps, 1);
    assert.equal(budget.used, 80);
    a.tcp.segment('client', seg(1, range(0, 10)), T);
    assert.equal(budget.used, 0);
    assert.deepEqual(a.out.data.client, range(0, 90));
  });

  it('waits for a FIN that arrived ahead of the data before it', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', seg(4, [4, 5], TCP_ACK | TCP_FIN), T);
    assert.equal(tcp.ended('client'), false);
    tcp.segment('client', seg(1, [1, 2, 3]), T);
    assert.ok(tcp.ended('client'));
    assert.deepEqual(out.data.client, [1, 2, 3, 4, 5]);
  });

  it('flush declares lost what never came before a FIN, and ends the direction', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', seg(1, [1]), T);
    tcp.segment('client', seg(5, [], TCP_ACK | TCP_FIN), T);
    assert.equal(tcp.ended('client'), false);
    tcp.flush(T);
    assert.deepEqual(out.log, ['client 1', 'client gap 3']);
    assert.ok(tcp.ended('client'));
  });

  it('RST hands on what was held, after a gap, and ends both directions', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', seg(6, [6, 7]), T);
    tcp.segment('server', seg(50, [], TCP_RST), T);
    assert.ok(tcp.closed);
    assert.deepEqual(out.log, ['client gap 5', 'client 2']);
    tcp.segment('client', seg(1, [1]), T);
    assert.deepEqual(out.data.client, [6, 7]);
  });

  it('picks up a connection under way at its first segment with data, not at a bare ACK', () => {
    const { tcp, out, counters } = harness();
    tcp.segment('server', seg(777, []), T);
    assert.equal(counters.ignored, 1);
    tcp.segment('server', seg(800, [1, 2]), T);
    tcp.segment('server', seg(802, [3]), T);
    assert.deepEqual(out.data.server, [1, 2, 3]);
  });

  it('ignores a SYN with another ISN and a retransmitted SYN', () => {
    const { tcp, out, counters } = harness();
    tcp.segment('client', seg(100, [], TCP_SYN), T);
    tcp.segment('client', seg(101, [1]), T);
    tcp.segment('client', seg(100, [], TCP_SYN), T);
    tcp.segment('client', seg(9999, [5], TCP_SYN), T);
    tcp.segment('client', seg(102, [2]), T);
    assert.deepEqual(out.data.client, [1, 2]);
    assert.equal(counters.ignored, 1);
    assert.equal(tcp.isn('client'), 100);
  });

  it('declares the cut-off part of a snapped segment lost at once', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', { ...seg(1, [1, 2]), lost: 1000 }, T);
    tcp.segment('client', seg(1003, [3]), T);
    assert.deepEqual(out.log, ['client 2', 'client gap 1000', 'client 1']);
  });

  it('flush gives up every hole in order', () => {
    const { tcp, out } = harness();
    tcp.segment('client', seg(0, [], TCP_SYN), T);
    tcp.segment('client', seg(10, [10]), T);
    tcp.segment('client', seg(20, [20]), T);
    tcp.flush(T);
    assert.deepEqual(out.log, ['client gap 9', 'client 1', 'client gap 9', 'client 1']);
    assert.equal(tcp.heldBytes, 0);
  });
});

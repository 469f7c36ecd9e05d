/**
 * Target matching: directions, hairpin, several tasks on one packet, prefixes, IPv6, MACs,
 * neighbours that must never match, unsafe targets refused, atomic replacement, and a
 * randomised comparison with a brute-force reference.
 */
import { strict as assert } from 'node:assert';
import { isIPv4 } from 'node:net';
import { decodeFrame } from '../../src/capture/decode';
import { collectTargets } from '../../src/capture/targets';
import { Direction, Task, Target } from '../../src/gen/lig/v1/ingest';
import { MatchInput, MatchTable, Matcher } from '../../src/probe/matcher';
import { hex, prng } from '../fixtures/capture-golden';

const { DIRECTION_FROM_TARGET: FROM, DIRECTION_TO_TARGET: TO, DIRECTION_BOTH: BOTH, DIRECTION_UNSPECIFIED } = Direction;

function addr(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  const [head, tail = ''] = text.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head!);
  const t = text.includes('::') ? words(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return Buffer.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}

const ip = (text: string, prefixLength?: number): Target => {
  const [a, len] = text.split('/');
  const address = addr(a!);
  return { kind: { $case: 'ip', ip: { address, prefixLength: prefixLength ?? (len ? Number(len) : address.length * 8) } } };
};
const mac = (text: string): Target => ({ kind: { $case: 'mac', mac: Buffer.from(text.replace(/:/g, ''), 'hex') } });
const task = (id: number, ...targets: Target[]): Task => ({ taskId: BigInt(id), type: 1, targets });

/** A packet as matching sees it: a frame holding the addresses, and where they are. */
function pkt(src: string, dst: string, macs: { src?: string; dst?: string } = {}): MatchInput {
  const s = addr(src);
  const d = addr(dst);
  const m = (x?: string) => (x ? Buffer.from(x.replace(/:/g, ''), 'hex') : Buffer.alloc(0));
  const sm = m(macs.src);
  const dm = m(macs.dst);
  // Some filler first, so that no offset is 0 by accident.
  const frame = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), s, d, sm, dm]);
  return {
    frame,
    version: s.length === 4 ? 4 : 6,
    srcOffset: 3,
    dstOffset: 3 + s.length,
    srcMacOffset: macs.src ? 3 + s.length + d.length : -1,
    dstMacOffset: macs.dst ? 3 + s.length + d.length + sm.length : -1,
  };
}

const plain = (ms: readonly { taskId: bigint; direction: Direction }[]) => ms.map((m) => [Number(m.taskId), m.direction]);

describe('probe: target matching', () => {
  it('exact IPv4: FROM_TARGET, TO_TARGET, and a neighbour never', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3'))]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '198.51.100.7'))), [[1, FROM]]);
    assert.deepEqual(plain(t.match(pkt('198.51.100.7', '10.1.2.3'))), [[1, TO]]);
    for (const n of ['10.1.2.2', '10.1.2.4', '10.1.3.3', '11.1.2.3', '0.0.0.0', '255.255.255.255']) {
      assert.deepEqual(plain(t.match(pkt(n, '198.51.100.7'))), [], n);
      assert.deepEqual(plain(t.match(pkt('198.51.100.7', n))), [], n);
    }
  });

  it('a packet matching nothing gets the same frozen empty list (nothing allocated, nothing kept)', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3'))]);
    const a = t.match(pkt('10.0.0.1', '10.0.0.2'));
    const b = t.match(pkt('10.0.0.3', '10.0.0.4'));
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
  });

  it('hairpin between two subscribers of one task is BOTH, one match', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3'), ip('10.1.2.9'))]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '10.1.2.9'))), [[1, BOTH]]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.9', '10.1.2.3'))), [[1, BOTH]]);
    // A target talking to itself (loopback through the router) is both ends too.
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '10.1.2.3'))), [[1, BOTH]]);
  });

  it('two tasks on the two ends give two matches', () => {
    const t = MatchTable.fromTasks([task(7, ip('10.1.2.3')), task(5, ip('10.1.2.9'))]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '10.1.2.9'))), [[5, TO], [7, FROM]]);
  });

  it('an address that is a target in one task only', () => {
    // Task 1 has both subscribers, task 2 only the first: hairpin for 1, FROM for 2.
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3'), ip('10.1.2.9')), task(2, ip('10.1.2.3'))]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '10.1.2.9'))), [[1, BOTH], [2, FROM]]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.9', '198.51.100.1'))), [[1, FROM]]);
  });

  it('prefixes: every containing prefix of every task, deduplicated per task, host bits ignored', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.0.0.0/8'), ip('10.9.0.5')), task(2, ip('10.9.1.1/16')), task(3, ip('10.9.128.0/17'))]);
    assert.deepEqual(plain(t.match(pkt('10.9.200.1', '198.51.100.1'))), [[1, FROM], [2, FROM], [3, FROM]]);
    assert.deepEqual(plain(t.match(pkt('10.9.0.5', '198.51.100.1'))), [[1, FROM], [2, FROM]]);
    assert.deepEqual(plain(t.match(pkt('198.51.100.1', '10.200.0.1'))), [[1, TO]]);
    assert.deepEqual(plain(t.match(pkt('11.9.0.5', '9.255.255.255'))), []);
    assert.deepEqual(plain(t.match(pkt('10.9.0.1', '10.9.200.1'))), [[1, BOTH], [2, BOTH], [3, TO]]);
  });

  it('IPv6: exact and prefix, the neighbouring /64 never', () => {
    const t = MatchTable.fromTasks([task(1, ip('2001:db8:0:5::/64')), task(2, ip('2001:db8::1'))]);
    assert.deepEqual(plain(t.match(pkt('2001:db8:0:5::abcd', '2001:db8::1'))), [[1, FROM], [2, TO]]);
    assert.deepEqual(plain(t.match(pkt('2001:db8:0:4:ffff:ffff:ffff:ffff', '2001:db8:0:6::'))), []);
    assert.deepEqual(plain(t.match(pkt('2001:db8::2', '2001:db8::1:0:0:1'))), []);
    // An IPv4 target never matches an IPv6 packet and the reverse.
    const v4 = MatchTable.fromTasks([task(3, ip('10.1.2.3'))]);
    assert.deepEqual(plain(v4.match(pkt('::a01:203', '::1'))), []);
  });

  it('IPv4-mapped IPv6 targets match IPv4 packets', () => {
    const t = MatchTable.fromTasks([task(1, ip('::ffff:10.1.2.3'.replace('10.1.2.3', 'a01:203'))), task(2, ip('::ffff:a09:0', 112))]);
    assert.deepEqual(plain(t.match(pkt('10.1.2.3', '10.9.0.77'))), [[1, FROM], [2, TO]]);
  });

  it('MAC targets match the link-layer source and destination', () => {
    const t = MatchTable.fromTasks([task(1, mac('02:00:00:00:00:aa')), task(2, mac('02:00:00:00:00:bb'), ip('10.1.2.9'))]);
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.0.0.2', { src: '02:00:00:00:00:aa', dst: '02:00:00:00:00:01' }))), [[1, FROM]]);
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.0.0.2', { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:aa' }))), [[1, TO]]);
    // Task 2's MAC as source and its address as destination: both ends are task 2's.
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.1.2.9', { src: '02:00:00:00:00:bb', dst: '02:00:00:00:00:01' }))), [[2, BOTH]]);
    // No MACs known (raw IP): only addresses count.
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.0.0.2'))), []);
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.0.0.2', { src: '02:00:00:00:00:ab', dst: 'ff:ff:ff:ff:ff:ff' }))), []);
  });

  it('from real frames: decodeFrame then match', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.4')), task(2, mac('02:00:00:00:00:01'))]);
    const frame = hex('020000000002 020000000001 8100 000a 0800 4500001c 00010000 4011 62c8 0a010203 0a010204 13881389 0008 0000');
    const d = decodeFrame(1, frame);
    assert.ok(typeof d !== 'string');
    assert.deepEqual(plain(t.match(d)), [[1, TO], [2, FROM]]);
  });

  it('refuses unsafe and malformed targets, defers username and e-mail, and never matches everything', () => {
    const bad: Target[] = [
      ip('0.0.0.0', 0), // proto3's unset prefix length would be "every address"
      ip('::', 0),
      ip('10.1.2.3', 33),
      ip('2001:db8::1', 129),
      { kind: { $case: 'ip', ip: { address: Buffer.from([10, 1, 2]), prefixLength: 24 } } },
      mac('ff:ff:ff:ff:ff:ff'),
      mac('01:00:5e:00:00:01'),
      mac('00:00:00:00:00:00'),
      { kind: { $case: 'mac', mac: Buffer.from('0200000000aabb', 'hex') } },
      { kind: undefined },
    ];
    const deferred: Target[] = [{ kind: { $case: 'username', username: 'alice' } }, { kind: { $case: 'email', email: 'a@example.org' } }];
    const t = MatchTable.fromTasks([task(1, ...bad, ...deferred)]);
    assert.equal(t.stats.invalid, bad.length);
    assert.equal(t.stats.deferred, 2);
    for (const [s, d] of [['0.0.0.0', '10.1.2.3'], ['10.1.2.3', '255.255.255.255'], ['::', '2001:db8::1']]) assert.deepEqual(plain(t.match(pkt(s!, d!))), []);
    assert.deepEqual(plain(t.match(pkt('10.0.0.1', '10.0.0.2', { src: '00:00:00:00:00:00', dst: 'ff:ff:ff:ff:ff:ff' }))), []);
    // A task with a missing target list (as a hand-built object might have) does not crash either.
    assert.deepEqual(MatchTable.fromTasks([{ taskId: 9n, type: 1 } as unknown as Task]).stats.tasks, 1);
  });

  it('stats count targets without naming them', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3'), ip('10.0.0.0/8'), ip('2001:db8::1'), mac('02:00:00:00:00:aa'), ip('10.1.2.3'))]);
    assert.deepEqual(t.stats, { tasks: 1, exactIpv4: 2, exactIpv6: 1, prefixes: 1, macs: 1, invalid: 0, deferred: 0 });
  });

  it('directionFor: the direction relative to one task, UNSPECIFIED when neither end is its target', () => {
    const t = MatchTable.fromTasks([task(1, ip('10.1.2.3')), task(2)]);
    assert.equal(t.directionFor(1n, pkt('198.51.100.1', '10.1.2.3')), TO);
    assert.equal(t.directionFor(2n, pkt('198.51.100.1', '10.1.2.3')), DIRECTION_UNSPECIFIED);
  });

  it('Matcher: replace swaps the whole table at once; counters survive', () => {
    const m = new Matcher([task(1, ip('10.1.2.3'))]);
    const p = pkt('10.1.2.3', '10.1.2.9');
    const before = m.table;
    assert.deepEqual(plain(m.match(p)), [[1, FROM]]);
    const next = m.replace([task(2, ip('10.1.2.9'))]);
    assert.equal(m.table, next);
    assert.deepEqual(plain(m.match(p)), [[2, TO]]);
    assert.deepEqual(plain(before.match(p)), [[1, FROM]], 'the old table is unchanged');
    m.match(pkt('1.1.1.1', '2.2.2.2'));
    assert.deepEqual(m.counters, { packets: 3, matched: 2, matches: 2 });
    m.replace([]);
    assert.deepEqual(plain(m.match(p)), []);
  });

  it('agrees with a brute-force reference on random tasks and packets', () => {
    const rnd = prng(42);
    const int = (n: number) => Math.floor(rnd() * n);
    // A small address space so that hits, hairpins and overlaps are frequent.
    const v4 = () => [10, 0, int(4), int(8)];
    for (let round = 0; round < 30; round++) {
      const tasks: Task[] = [];
      for (let id = 1; id <= 1 + int(6); id++) {
        const targets: Target[] = [];
        for (let k = 0; k < 1 + int(4); k++) {
          const r = rnd();
          if (r < 0.5) targets.push(ip(v4().join('.')));
          else if (r < 0.8) targets.push(ip(v4().join('.'), 20 + int(13)));
          else targets.push(mac(`02:00:00:00:00:0${int(4)}`));
        }
        tasks.push(task(id, ...targets));
      }
      const table = MatchTable.fromTasks(tasks);
      const norm = collectTargets(tasks);
      const inPrefix = (a: Uint8Array, t: { address: Uint8Array; prefixLength: number }) => {
        for (let i = 0; i < t.prefixLength; i++) if (((a[i >> 3]! ^ t.address[i >> 3]!) >> (7 - (i & 7))) & 1) return false;
        return true;
      };
      for (let n = 0; n < 300; n++) {
        const p = pkt(v4().join('.'), v4().join('.'), { src: `02:00:00:00:00:0${int(6)}`, dst: `02:00:00:00:00:0${int(6)}` });
        const at = (o: number, n: number) => p.frame.subarray(o, o + n);
        const want: [number, Direction][] = [];
        for (const t of norm.tasks) {
          const hits = (a: Uint8Array, m: Uint8Array | undefined) => t.ips.some((x) => inPrefix(a, x)) || (m !== undefined && t.macs.some((x) => Buffer.compare(x, m) === 0));
          const s = hits(at(p.srcOffset, 4), at(p.srcMacOffset, 6));
          const d = hits(at(p.dstOffset, 4), at(p.dstMacOffset, 6));
          if (s || d) want.push([Number(t.taskId), s && d ? BOTH : s ? FROM : TO]);
        }
        assert.deepEqual(plain(table.match(p)), want);
      }
    }
  });
});

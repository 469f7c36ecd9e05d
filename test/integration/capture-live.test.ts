/**
 * `if:` live capture through libpcap (`cap`) on the loopback interface: UDP sent to 127.0.0.1
 * arrives as frames; the kernel filter built from the targets lets through exactly what it
 * must for every encapsulation (frames injected with scapy); a filter change loses and
 * repeats nothing. Needs root (or CAP_NET_RAW): skipped otherwise, except under CI.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeFrame } from '../../src/capture/decode';
import { InterfaceSource } from '../../src/capture/live-source';
import { createPacketSource } from '../../src/capture/open-source';
import { SourceError } from '../../src/errors';
import type { Target, Task } from '../../src/gen/lig/v1/ingest';
import { requireScapy, scapy } from '../helpers/scapy';
import { skipOrFail } from '../helpers/shared';

const ip = (bytes: number[], prefixLength: number): Target => ({ kind: { $case: 'ip', ip: { address: Buffer.from(bytes), prefixLength } } });
const task = (id: number, ...targets: Target[]): Task => ({ taskId: BigInt(id), type: 1, targets });
const LOCALHOST = ip([127, 0, 0, 1], 32);

async function udpPair(): Promise<{ rx: dgram.Socket; tx: dgram.Socket; port: number }> {
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const tx = dgram.createSocket('udp4');
  return { rx, tx, port: rx.address().port };
}

describe('capture: live interface source (lo)', function () {
  const cleanup: (() => unknown)[] = [];
  before(function () {
    if (process.getuid?.() !== 0) skipOrFail(this, 'live capture needs root (or CAP_NET_RAW)');
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function live(tasks: Task[], opts: { identityUdpPorts?: number[] } = {}): Promise<InterfaceSource> {
    const s = createPacketSource({ kind: 'interface', name: 'lo' }, { tasks, identityUdpPorts: opts.identityUdpPorts }) as InterfaceSource;
    await s.start();
    cleanup.push(() => s.stop());
    return s;
  }

  it('UDP sent to 127.0.0.1 arrives as Ethernet frames carrying it', async () => {
    const s = await live([task(1, LOCALHOST)], { identityUdpPorts: [] });
    assert.equal(s.linktype, 1);
    const { rx, tx, port } = await udpPair();
    cleanup.push(() => rx.close(), () => tx.close());
    for (let i = 0; i < 5; i++) tx.send(Buffer.from(`lig-live-${i}`), port, '127.0.0.1');
    const seen: string[] = [];
    while (seen.length < 5) {
      const f = await s.next();
      const d = decodeFrame(f!.linktype, f!.data);
      if (typeof d === 'string' || d.dstPort !== port) continue;
      assert.equal(f!.origLen, f!.data.length);
      seen.push(Buffer.from(d.ip.subarray(d.transportOffset! + 8)).toString());
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4].map((i) => `lig-live-${i}`));
    await s.stop();
    assert.equal(await s.next(), undefined, 'stopped: the source ends once drained');
  });

  it('the filter passes the targets and identity ports in every encapsulation, and nothing else', async function () {
    requireScapy(this);
    // Targets: 10.1.2.3/32, 2001:db8:5::/64 (see capture_fixtures.py filter-cases).
    const tasks = [task(1, ip([10, 1, 2, 3], 32), ip([0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 64))];
    const cases = JSON.parse(scapy('filter-cases')) as { id: string; pass: boolean; hex: string }[];
    assert.ok(cases.filter((c) => c.pass).length >= 10 && cases.filter((c) => !c.pass).length >= 5);
    const s = await live(tasks);
    // The last frame is a passing one: once it arrives, every frame sent before it has been seen or filtered.
    const last = cases.find((c) => c.id === 'v4-src')!;
    const marker = last.hex.replace(Buffer.from('case:v4-src;').toString('hex'), Buffer.from('case:the-end').toString('hex'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-live-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'frames.hex');
    fs.writeFileSync(file, [...cases.map((c) => c.hex), marker].join('\n'));
    scapy('send', 'lo', file);
    const got: string[] = [];
    for (;;) {
      const f = await s.next();
      const id = /case:([a-z0-9-]+)/.exec(Buffer.from(f!.data).toString('latin1'))?.[1];
      if (id === 'the-end') break;
      if (id) got.push(id);
    }
    const want = cases.filter((c) => c.pass).map((c) => c.id);
    assert.deepEqual(got.sort(), want.sort());
  });

  it('changing the tasks changes the filter without losing or repeating a packet', async () => {
    const a = [task(1, LOCALHOST)];
    const b = [task(1, LOCALHOST, ip([10, 9, 9, 9], 32))];
    const s = await live(a, { identityUdpPorts: [] });
    const { rx, tx, port } = await udpPair();
    cleanup.push(() => rx.close(), () => tx.close());
    const total = 6000;
    const MARKER = 0xffffffff;
    const seen = new Uint16Array(total);
    // Counts every copy of every packet until the marker, sent after the last change has completed.
    const consumer = (async () => {
      for (;;) {
        const f = await s.next();
        const d = decodeFrame(f!.linktype, f!.data);
        if (typeof d === 'string' || d.dstPort !== port) continue;
        const seq = Buffer.from(d.ip).readUInt32BE(d.transportOffset! + 8);
        if (seq === MARKER) return;
        seen[seq]++;
      }
    })();
    const packet = (seq: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(seq);
      tx.send(b, port, '127.0.0.1');
    };
    let switches = 0;
    let sent = 0;
    const filters = new Set<string>();
    while (sent < total) {
      for (let i = 0; i < 100 && sent < total; i++) packet(sent++);
      // Change the filter while packets are in flight.
      const change = s.setTasks(switches++ % 2 === 0 ? b : a);
      await new Promise((r) => setImmediate(r));
      await change;
      filters.add(s.filter!);
    }
    packet(MARKER);
    await consumer;
    assert.equal(filters.size, 2, 'the filter did change');
    assert.ok(switches >= 30);
    const repeated = [...seen.keys()].filter((i) => seen[i]! > 1);
    const lost = [...seen.keys()].filter((i) => seen[i] === 0);
    assert.deepEqual(repeated, [], 'no packet twice');
    assert.deepEqual(lost, [], 'no packet lost');
    assert.equal(s.counters().dropped, 0);
    assert.ok((s.counters().skipped['handover-duplicate'] ?? 0) > 0, 'the handovers did see both copies of some packets');
  });

  it('an interface that does not exist is a typed error; bad options too', async () => {
    const s = new InterfaceSource('lig-no-such0');
    await assert.rejects(s.start(), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPEN');
    assert.throws(() => new InterfaceSource('lo', { bufferBytes: 10 }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
    assert.throws(() => new InterfaceSource('lo', { identityUdpPorts: [70000] }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
  });
});

/**
 * The probe agent on a live interface (`if:lo`, libpcap) over real gRPC and mTLS: a new
 * task list replaces the matcher's table and the kernel filter; traffic of a target sent on
 * loopback arrives at the mediator, traffic of others does not, before and after the change.
 * Needs root (or CAP_NET_RAW): skipped otherwise, except under CI.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InterfaceSource } from '../../src/capture/live-source';
import { Direction, Task_Type, type TaskList } from '../../src/gen/lig/v1/ingest';
import { IngestServer } from '../../src/mediation/ingest-server';
import { makeTestPki, type TestPki } from '../../src/pki';
import { ProbeAgent } from '../../src/probe/agent';
import { skipOrFail } from '../helpers/shared';
import { RecordingHandler } from './probe-helpers';

const list = (version: bigint, task: number, last: number): TaskList => ({
  version,
  tasks: [{ taskId: BigInt(task), type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'ip', ip: { address: Buffer.from([127, 0, 0, last]), prefixLength: 32 } } }] }],
  sessions: [],
});

/** How the Ethernet capture filter writes 127.0.0.`last` (bpf-filter.ts compares 32-bit words). */
const word = (last: number) => `0x7f0000${last.toString(16).padStart(2, '0')}`;

async function socket(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, r));
  return s;
}

function send(from: dgram.Socket, to: dgram.Socket, text: string): Promise<void> {
  const a = to.address();
  return new Promise((resolve, reject) => from.send(Buffer.from(text), a.port, a.address, (e) => (e ? reject(e) : resolve())));
}

describe('probe agent on a live interface (lo)', function () {
  let tmp: string;
  let pki: TestPki;
  const cleanup: (() => unknown)[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) skipOrFail(this, 'live capture needs root (or CAP_NET_RAW)');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-probe-live-'));
    pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1'] });
  });
  after(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a new task list changes the table and the kernel filter: the target\'s traffic arrives, others\' does not', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', list(1n, 1, 2));
    const server = await IngestServer.listen({ listen: { host: '127.0.0.1', port: 0 }, tls: { ca: pki.ca, cert: pki.mediator.cert, key: pki.mediator.key }, handler, log: () => undefined });
    cleanup.push(() => server.close({ force: true }));
    const leaf = pki.probes['probe-1']!;
    const agent = await ProbeAgent.start({
      source: { kind: 'interface', name: 'lo' },
      mediator: { address: { host: '127.0.0.1', port: server.port }, tls: { ca: pki.ca, cert: leaf.cert, key: leaf.key } },
      spool: { dir: path.join(tmp, 'spool') },
      batch: { maxEvents: 1, maxDelay: 5 },
      statusIntervalMs: 0,
    });
    cleanup.push(() => agent.stop({ drainMs: 0 }).catch(() => undefined));
    const src = (await agent.capturing()) as InterfaceSource;
    // The list came after capture started: wait until the filter is built from it.
    if (!src.filter?.includes(word(2))) await new Promise((r) => agent.once('filter', r));
    assert.equal(agent.tasks?.version, 1n);

    // Flow A: 127.0.0.3 → 127.0.0.2; flow B: 127.0.0.5 → 127.0.0.4 (receivers bound, so no ICMP comes back).
    const [a1, a2, b1, b2] = await Promise.all(['127.0.0.3', '127.0.0.2', '127.0.0.5', '127.0.0.4'].map(socket));
    cleanup.push(() => [a1, a2, b1, b2].forEach((s) => s!.close()));
    for (let k = 0; k < 5; k++) {
      await send(a1!, a2!, `A1-${k}`);
      await send(b1!, b2!, `B1-${k}`);
    }
    await handler.waitForPackets(5);
    assert.ok(!src.filter!.includes(word(4)));

    const filtered = new Promise((r) => agent.once('filter', r));
    handler.setTasks('probe-1', list(2n, 2, 4));
    await filtered;
    assert.ok(src.filter!.includes(word(4)) && !src.filter!.includes(word(2)));
    for (let k = 0; k < 5; k++) {
      await send(a1!, a2!, `A2-${k}`);
      await send(b1!, b2!, `B2-${k}`);
    }
    await handler.waitForPackets(10);
    const end = await agent.stop();
    assert.equal(end.drained, true);

    const got = handler.packets().map((p) => [Buffer.from(p.data, 'hex').subarray(28).toString(), p.matches]);
    const want = [
      ...[0, 1, 2, 3, 4].map((k) => [`A1-${k}`, [[1, Direction.DIRECTION_TO_TARGET]]]),
      ...[0, 1, 2, 3, 4].map((k) => [`B2-${k}`, [[2, Direction.DIRECTION_TO_TARGET]]]),
    ];
    assert.deepEqual(got, want);
    assert.equal(agent.stats().source?.dropped, 0);
  });
});

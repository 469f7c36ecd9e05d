/**
 * "Nothing lost", with SIGKILL: a child process runs the mediator (journals, TLS delivery to
 * the reference LEMF running here) and accepts batches, printing each acknowledged batch id.
 * It is killed mid-stream, twice, each time restarted with every batch not acknowledged sent
 * again, and some that were. The LEMF must end with every packet of every batch exactly once
 * per sequence number: no gap, no packet under two numbers, in IRI and in CC.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lemf } from '../../src/lemf';
import { type ChildRun, startChild } from '../helpers/crash-child';
import { crashPackets } from './mediator-crash-batches';
import { LIID_CC, LIID_IRI, type Setup, checkStream, lemfConfigYaml, setup, startLemf, stored, taggedPacket } from './mediator-helpers';

const CHILD = path.join(__dirname, 'mediator-crash-child.ts');
const PAYLOAD_DIRECTION: Record<number, string> = { 1: 'fromTarget', 2: 'toTarget', 3: 'fromTarget' };

interface Run extends ChildRun {
  acked: number;
  done: boolean;
}

/** Starts the child on batches from..to; `killAt`: SIGKILL once this batch is acknowledged. */
function run(config: string, from: number, to: number, killAt?: number): Run {
  return startChild<Pick<Run, 'acked' | 'done'>>(CHILD, [config, String(from), String(to)], { acked: from - 1, done: false }, (line, r) => {
    const m = /^acked (\d+)$/.exec(line);
    if (m) {
      const id = Number(m[1]);
      if (id !== r.acked + 1) throw new Error(`acknowledged ${id} after ${r.acked}`);
      r.acked = id;
      if (killAt !== undefined && id >= killAt) r.child.kill('SIGKILL');
    } else if (line === 'done') r.done = true;
    else if (line !== 'ready') throw new Error(`unexpected line from the child: ${line}`);
  }, { stderr: 'pipe' });
}

describe('mediator crash (SIGKILL mid-stream, resend after restart)', () => {
  let s: Setup;
  let lemf: Lemf | undefined;
  before(async () => {
    s = await setup('lig-mediator-crash-');
  });
  after(async () => {
    await lemf?.close().catch(() => undefined);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  it('every acknowledged packet reaches the LEMF exactly once per sequence number, without gaps, in CC and IRI', async () => {
    const out = path.join(s.tmp, 'lemf');
    lemf = await startLemf(s, out);
    const config = path.join(s.tmp, 'lig.yaml');
    fs.writeFileSync(config, lemfConfigYaml(s, lemf, { dataDir: path.join(s.tmp, 'data') }));
    const LAST = 700;

    const first = run(config, 1, LAST, 150);
    assert.equal((await first.exit).signal, 'SIGKILL', first.stderr);
    assert.ok(first.acked >= 150 && first.acked < LAST, `killed at ${first.acked}`);

    // Restart: everything not acknowledged again, and the 40 last acknowledged ones too.
    const secondFrom = first.acked - 39;
    const second = run(config, secondFrom, LAST, first.acked + 200);
    assert.equal((await second.exit).signal, 'SIGKILL', second.stderr);
    assert.ok(second.acked >= first.acked + 200 && second.acked < LAST, `killed at ${second.acked}`);

    const third = run(config, second.acked - 9, LAST);
    const end = await third.exit;
    assert.equal(end.code, 0, third.stderr);
    assert.ok(third.done && third.acked === LAST);
    await lemf.close();
    lemf = undefined;

    const expected = Array.from({ length: LAST }, (_, k) => crashPackets(k + 1)).flat();
    const cc = checkStream(stored(out, 'hi3').filter((r) => r.liid === LIID_CC));
    assert.equal(cc.length, expected.length, 'every packet once in CC, numbered 0..n-1');
    cc.forEach((r, k) => {
      const p = expected[k]!;
      assert.deepEqual(Buffer.from(r.data!), taggedPacket(p.tag), `CC ${k}`);
      assert.equal(r.direction, PAYLOAD_DIRECTION[p.direction]);
      assert.equal(BigInt(r.seconds!) * 1_000_000n + BigInt(r.micros!), p.timeUs);
    });
    const iri = checkStream(stored(out, 'hi2').filter((r) => r.liid === LIID_IRI));
    assert.equal(iri.length, expected.length, 'every packet once in IRI, numbered 0..n-1');
    iri.forEach((r, k) => {
      assert.deepEqual(Buffer.from(r.data!), taggedPacket(expected[k]!.tag).subarray(0, 28), `IRI ${k}`);
      assert.equal(BigInt(r.seconds!) * 1_000_000n + BigInt(r.micros!), expected[k]!.timeUs);
    });
    assert.equal(new Set(cc.map((r) => r.cin)).size, 1, 'one CIN across restarts');
  });
});

/**
 * `lig mediator --config` as a real process (main() from src/ through tsx): it prints where
 * ingest listens and a line per agency, serves a real probe over gRPC, delivers to the
 * reference LEMF, and exits 0 on SIGTERM; usage and config errors exit 2 and 1. Then the same
 * with SIGKILL mid-stream: a new mediator process on the same data directory, and the probe
 * (a new client on the same spool) resends what was not acknowledged; the LEMF ends with
 * every packet exactly once per sequence number, without gaps.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Direction, Task_Type } from '../../src/gen/lig/v1/ingest';
import type { Lemf } from '../../src/lemf';
import type { ProbeClient } from '../../src/probe/client';
import { type LigProcess, lig, lines, stop } from '../helpers/lig-process';
import { packetEvent } from '../mediation-fixtures';
import { LIID_CC, LIID_IRI, type Setup, checkStream, lemfConfigYaml, lemfHolds, openProbeClient, setup, startLemf, stored, taggedPacket, tasksWhen } from './mediator-helpers';

/** The ingest port a started `lig mediator` printed. */
async function ingestPort(p: LigProcess): Promise<number> {
  const [first] = await lines(p, 1);
  const m = /^ingest listening on 127\.0\.0\.1:(\d+)$/.exec(first ?? '');
  assert.ok(m, `stdout: ${p.stdout.join('\n')}\nstderr: ${p.stderr}`);
  return Number(m[1]);
}

const openProbe = (s: Setup, port: number, spoolDir: string): Promise<ProbeClient> => openProbeClient(s, port, { spoolDir, maxEvents: 5 });

/** Resolves once the LEMF holds at least `n` distinct CC and IRI records of the test LIIDs. */
const lemfHas = (lemf: Lemf, n: number): Promise<void> => lemfHolds(lemf, { [LIID_CC]: { cc: n }, [LIID_IRI]: { iri: n } });

describe('lig mediator as a process', () => {
  let s: Setup;
  let lemf: Lemf | undefined;
  let probe: ProbeClient | undefined;
  const procs: LigProcess[] = [];

  before(async () => {
    s = await setup('lig-mediator-cli-');
  });
  afterEach(async () => {
    await probe?.close();
    probe = undefined;
    await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
    await lemf?.close().catch(() => undefined);
    lemf = undefined;
  });
  after(() => fs.rmSync(s.tmp, { recursive: true, force: true }));

  function writeConfig(name: string, l: Lemf): string {
    const file = path.join(s.tmp, `${name}.yaml`);
    fs.writeFileSync(file, lemfConfigYaml(s, l, { dataDir: path.join(s.tmp, `${name}-data`) }));
    return file;
  }

  it('prints the ingest address and one line per agency, serves a probe, and stops cleanly on SIGTERM', async () => {
    const out = path.join(s.tmp, 'out-1');
    lemf = await startLemf(s, out);
    const config = writeConfig('one', lemf);
    const m = lig(['mediator', '--config', config]);
    procs.push(m);
    const port = await ingestPort(m);
    const [, agencyLine] = await lines(m, 2);
    assert.match(agencyLine!, /^agency lea-1 \(tcp\): hi2 \w+, backlog 0 record\(s\); hi3 \w+, backlog 0 record\(s\)$/);
    probe = await openProbe(s, port, path.join(s.tmp, 'spool-1'));
    const tasks = await tasksWhen(probe);
    const cc = tasks.tasks.find((t) => t.type === Task_Type.TYPE_CONTENT)!.taskId;
    const iri = tasks.tasks.find((t) => t.type === Task_Type.TYPE_IRI_ONLY)!.taskId;
    for (let k = 0; k < 20; k++) {
      probe.submit(packetEvent(taggedPacket(`cli ${k}`), [[cc, Direction.DIRECTION_TO_TARGET], [iri, Direction.DIRECTION_TO_TARGET]], 1_700_000_000_000_000n + BigInt(k)));
    }
    await probe.drained();
    await lemfHas(lemf, 20);
    await probe.close();
    probe = undefined;
    assert.equal(await stop(m, 'SIGTERM'), 0, m.stderr);
    assert.equal(m.stdout.at(-1), 'mediator stopped');
    assert.ok(!m.stdout.join('\n').includes('LIID-IT') && !m.stderr.includes('LIID-IT'), 'no LIID printed or logged');
    const recs = checkStream(stored(out, 'hi3').filter((r) => r.liid === LIID_CC));
    assert.deepEqual(recs.map((r) => [Buffer.from(r.data!).subarray(28).toString(), r.direction]), Array.from({ length: 20 }, (_, k) => [`cli ${k}`, 'toTarget']));
  });

  it('exits 2 without --config, 1 for a config that is wrong', async () => {
    const usage = lig(['mediator']);
    assert.equal(await usage.exit, 2);
    assert.match(usage.stderr, /--config is required/);
    const bad = path.join(s.tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'dataDir: x\nagencies: []\n');
    const wrong = lig(['mediator', '--config', bad]);
    assert.equal(await wrong.exit, 1);
    assert.match(wrong.stderr, /LIG_ERR_CONFIG/);
  });

  it('SIGKILL mid-stream: a new process on the same data, the probe resends, every packet arrives once per number', async () => {
    const out = path.join(s.tmp, 'out-kill');
    lemf = await startLemf(s, out);
    const config = writeConfig('kill', lemf);
    const spool = path.join(s.tmp, 'spool-kill');
    const first = lig(['mediator', '--config', config]);
    procs.push(first);
    probe = await openProbe(s, await ingestPort(first), spool);
    const tasks = await tasksWhen(probe);
    const cc = tasks.tasks.find((t) => t.type === Task_Type.TYPE_CONTENT)!.taskId;
    const iri = tasks.tasks.find((t) => t.type === Task_Type.TYPE_IRI_ONLY)!.taskId;
    const N = 1500;
    const directions = [Direction.DIRECTION_FROM_TARGET, Direction.DIRECTION_TO_TARGET, Direction.DIRECTION_BOTH];
    const killed = new Promise<void>((resolve) => {
      probe!.on('acked', (id: bigint) => {
        if (id < 60n || first.child.killed) return;
        first.child.kill('SIGKILL');
        resolve();
      });
    });
    for (let k = 0; k < N; k++) {
      const d = directions[k % 3]!;
      assert.ok(probe.submit(packetEvent(taggedPacket(`kill ${k}`), [[cc, d], [iri, d]], 1_700_000_000_000_000n + BigInt(k))));
    }
    probe.flush();
    await killed;
    await first.exit;
    const ackedBefore = probe.stats().lastAcked;
    assert.ok(ackedBefore < BigInt(Math.ceil(N / 5)), 'killed before everything was acknowledged');
    await probe.close();
    probe = undefined;

    const second = lig(['mediator', '--config', config]);
    procs.push(second);
    probe = await openProbe(s, await ingestPort(second), spool);
    await probe.drained();
    await lemfHas(lemf, N);
    await probe.close();
    probe = undefined;
    assert.equal(await stop(second, 'SIGTERM'), 0, second.stderr);
    await lemf.close();
    lemf = undefined;

    const ccRecs = checkStream(stored(out, 'hi3').filter((r) => r.liid === LIID_CC));
    assert.deepEqual(ccRecs.map((r) => Buffer.from(r.data!).subarray(28).toString()), Array.from({ length: N }, (_, k) => `kill ${k}`));
    const iriRecs = checkStream(stored(out, 'hi2').filter((r) => r.liid === LIID_IRI));
    assert.equal(iriRecs.length, N);
    assert.deepEqual(iriRecs.map((r) => r.micros), Array.from({ length: N }, (_, k) => k));
  });
});

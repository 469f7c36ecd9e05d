/**
 * File delivery across real crashes: a child process appends records to both journals while
 * a FileSink writes them out (small files, so that rotations, closes and manifest lines are
 * always in progress), and is SIGKILLed mid-stream, several times at different points; each
 * new child resumes from what the last one left. At the end a sink in this process resumes
 * once more and closes. Then every acknowledged record is in the files exactly once (pcap
 * packets by the index they carry, JSON lines and rejects by sequence number), no `.part` is
 * left, and every manifest lists each closed file once and verifies with `sha256sum -c`.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSink } from '../../src/delivery/files';
import { readState } from '../../src/delivery/files/state';
import { Journal } from '../../src/delivery/journal';
import { assertExactlyOnce, manifestOf, readOutput, sha256Check } from '../files-fixtures';
import { type ChildRun, childUntil, killChild, maxIndex } from '../helpers/crash-child';
import { journalTempDir } from '../helpers/journal';

const CHILD = path.join(__dirname, 'files-crash-child.ts');

interface Run extends ChildRun {
  acked: Record<'hi2' | 'hi3', bigint>;
  written: Record<'hi2' | 'hi3', bigint>;
  lines: number;
}

/** Starts the child and resolves once it has printed `lines` lines and written something of both journals. */
function runUntil(root: string, lines: number): Promise<Run> {
  return childUntil(CHILD, [root], { acked: { hi2: 0n, hi3: 0n }, written: { hi2: 0n, hi3: 0n }, lines: 0 }, (line, run) => {
    if (line === 'ready') return false;
    const [kind, hi, value] = line.split(' ') as [string, 'hi2' | 'hi3', string];
    const v = BigInt(value);
    if (kind === 'a') run.acked[hi] = maxIndex(run.acked[hi], v);
    else if (kind === 'w') run.written[hi] = maxIndex(run.written[hi], v);
    else throw new Error(`unexpected line from child: ${line}`);
    run.lines++;
    return run.lines >= lines && run.written.hi2 > 0n && run.written.hi3 > 0n;
  });
}

describe('files crash (SIGKILL mid-stream)', () => {
  let root: string;
  const acked = { hi2: 0n, hi3: 0n };
  journalTempDir((d) => (root = d), { prefix: 'lig-files-crash-', scope: 'suite' });

  for (const [round, lines] of [
    [1, 300],
    [2, 777],
    [3, 150],
    [4, 1200],
  ] as const) {
    it(`round ${round}: killed after ${lines} lines; the state never claims more than the files hold`, async () => {
      const run = await runUntil(root, lines);
      await killChild(run);
      for (const hi of ['hi2', 'hi3'] as const) if (run.acked[hi] > acked[hi]) acked[hi] = run.acked[hi];
      const state = await readState(path.join(root, 'out', '.lig'));
      for (const e of state.parts) {
        const part = path.join(root, 'out', e.dir, `${e.name}.part`);
        // only a file being closed may already have lost its .part
        const file = fs.existsSync(part) || !e.closing ? part : path.join(root, 'out', e.dir, e.name);
        const size = fs.statSync(file).size;
        assert.ok(size >= e.offset, `${e.name}: ${size} bytes on disk, the state says ${e.offset} are durable`);
      }
      for (const hi of ['hi2', 'hi3'] as const) {
        assert.ok(state.applied[hi] >= run.written[hi], `${hi}: the child saw ${run.written[hi]} written, the state says ${state.applied[hi]}`);
      }
    });
  }

  it('a new sink resumes: every record exactly once across the files, manifests verify', async () => {
    const hi2 = await Journal.open(path.join(root, 'hi2'), { segmentBytes: 64 * 1024 });
    const hi3 = await Journal.open(path.join(root, 'hi3'), { segmentBytes: 64 * 1024 });
    try {
      assert.ok(hi2.durable >= acked.hi2 && hi3.durable >= acked.hi3, 'acknowledged records are in the journals');
      const sink = await FileSink.open({ dir: path.join(root, 'out'), hi2, hi3, rotate: { bytes: 4096 }, rotationCheckMs: 0 });
      await sink.whenWritten('hi2', hi2.durable);
      await sink.whenWritten('hi3', hi3.durable);
      assert.equal(sink.stats.lastError, undefined);
      await sink.close();
      assert.equal(hi2.confirmed, hi2.durable);
      assert.equal(hi3.confirmed, hi3.durable);

      const out = readOutput(path.join(root, 'out'));
      assert.deepEqual(out.parts, []);
      const counts = assertExactlyOnce(out, [{ hi: 'hi2', last: hi2.durable }, { hi: 'hi3', last: hi3.durable }]);
      assert.ok(counts.cc > 200 && counts.iri > 200 && counts.reject > 5, JSON.stringify(counts));
      for (const d of out.dirs) {
        const dir = path.join(root, 'out', d);
        const m = manifestOf(dir);
        const check = sha256Check(dir);
        assert.equal(check.status, 0, check.out);
        assert.equal((check.out.match(/: OK$/gm) ?? []).length, m.size);
        // numbered without gaps per kind, whatever the crashes interrupted
        for (const kind of ['cc', 'iri', 'rejects']) {
          const ns = [...m.keys()].filter((f) => f.startsWith(`${kind}-`)).map((f) => Number(/-(\d+)\.[a-z]+$/.exec(f)![1])).sort((a, b) => a - b);
          assert.deepEqual(ns, ns.map((_, k) => k + 1), `${d}: ${kind} files numbered 1..${ns.length}`);
        }
      }
    } finally {
      await hi2.close();
      await hi3.close();
    }
  });
});

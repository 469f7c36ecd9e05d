/**
 * Runs test/fixtures/capture_fixtures.py with Debian's python3 and scapy (package
 * python3-scapy), an independent implementation that builds the test captures and frames at
 * test time. Without scapy a test skips, except under CI, where it fails.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT, skipOrFail } from './shared';

/** Debian's interpreter: the python3 first on PATH may be another one without scapy. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const FIXTURE_SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'capture_fixtures.py');

let available: boolean | undefined;

/** Skips (or fails under CI) unless scapy can be imported. */
export function requireScapy(ctx: Mocha.Context): void {
  if (available === undefined) {
    const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import scapy.all'], { encoding: 'utf8' });
    available = !r.error && r.status === 0;
  }
  if (!available) skipOrFail(ctx, 'scapy is not installed (apt-get install -y python3-scapy)');
}

/** Runs the fixture script with `args`; returns its standard output, throws with its stderr on failure. */
export function scapy(...args: string[]): string {
  const r = spawnSync(SYSTEM_PYTHON, [FIXTURE_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`capture_fixtures.py ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

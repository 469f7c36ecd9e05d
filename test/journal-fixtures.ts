/**
 * Shared by the journal tests (unit and crash): temp dirs, error-code assertions and
 * records whose bytes are a function of their index, so any record read back can be checked
 * on its own (right index, right length, every byte) without keeping what was written.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLigError } from '../src/errors';

export function tempDir(prefix = 'lig-journal-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The record stored at `index` in the tests: 30..1500 bytes, its index first. */
export function recordFor(index: bigint, spread = 1471): Uint8Array {
  const length = 30 + Number((index * 7919n) % BigInt(spread));
  const out = new Uint8Array(length);
  new DataView(out.buffer).setBigUint64(0, index);
  const seed = Number(index % 251n);
  for (let k = 8; k < length; k++) out[k] = (seed + k * 31) & 0xff;
  return out;
}

/** Records for indices first..last inclusive. */
export function recordsFor(first: bigint, last: bigint, spread?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = first; i <= last; i++) out.push(recordFor(i, spread));
  return out;
}

/** Asserts that `data` is exactly recordFor(index). */
export function assertRecord(index: bigint, data: Uint8Array, spread?: number): void {
  const want = recordFor(index, spread);
  assert.equal(data.length, want.length, `record ${index}: length`);
  assert.ok(Buffer.from(data).equals(Buffer.from(want)), `record ${index}: bytes differ`);
}

/** Awaits `p` and asserts it fails with a LigError of `code`; returns the error. */
export async function rejectsWith(p: Promise<unknown> | (() => Promise<unknown>), code: string): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(isLigError(e), `expected a LigError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

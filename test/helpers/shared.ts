/**
 * The shared reference tree (`../shared` beside the repository: standards text, other
 * implementations' streams, the etsi-oracle). It is not part of the repository, so a
 * developer without it gets skips with a reason; CI clones the repository next to it and
 * must run everything, so there its absence is a failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (this file is test/helpers/shared.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where the shared tree is expected: `../shared` relative to the repository root. */
export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');

/** True under CI (`CI=true` or `CI=1`, as test/reporter.js reads it). */
export function underCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** A path inside the shared tree, e.g. `sharedPath('reference', 'samples')`. */
export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/**
 * Makes a test (or a `before` hook) depend on the shared tree, or on one path in it: skips
 * with the reason when it is absent, or throws under CI. Returns the path asked for.
 */
export function requireShared(ctx: Mocha.Context, ...parts: string[]): string {
  const p = sharedPath(...parts);
  if (fs.existsSync(p)) return p;
  const reason = `${path.relative(REPO_ROOT, p)} is absent: clone the shared reference tree beside the repository`;
  return skipOrFail(ctx, reason);
}

/**
 * Skips the running test (or, from a hook, its suite) with `reason` shown in the report, or
 * throws under CI, where nothing may be skipped. Mocha's skip() takes no reason, so the
 * reason is appended to the title the reporter prints.
 */
export function skipOrFail(ctx: Mocha.Context, reason: string): never {
  if (underCi()) throw new Error(`${reason} (under CI nothing may be skipped)`);
  const runnable = (ctx.currentTest ?? ctx.test) as Mocha.Test | Mocha.Hook | undefined;
  const target = runnable instanceof Object && runnable.type === 'hook' ? runnable.parent : runnable;
  if (target && !target.title.includes('[skipped:')) target.title += ` [skipped: ${reason}]`;
  return ctx.skip();
}

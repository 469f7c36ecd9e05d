/**
 * What the provisioning tests share: actors, a clock the test moves, a valid warrant spec
 * whose LIID, targets and compliance fields are distinctive strings (so a test can prove none
 * of them leaks into a message), and a fresh data directory per test with the store and
 * audit log closed after it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, WarrantStore } from '../../src/provisioning';
import type { Actor, WarrantSpec } from '../../src/provisioning';

export const ADMIN: Actor = { name: 'alice', role: 'admin' };
export const AUDITOR: Actor = { name: 'audrey', role: 'auditor' };
export const AGENCIES = ['fbi', 'bka'];

export const HOUR = 3_600_000;
/** The tests' "now" at the start: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1);

/** Time that moves only when the test moves it. */
export class TestClock {
  t = T0;
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}

/** Sensitive values: none may appear in an error message. */
export const SECRET = {
  liid: 'SECRETLIID4711',
  ip: '198.51.100.77',
  user: 'secretuser',
  email: 'secret.person@example.org',
  order: 'SECRET-ORDER-99',
  judge: 'Judge Secretname',
  officer: 'Officer Secretname',
  employee: 'Employee Secretname',
};

/** Every sensitive string the spec holds, to look for in messages. */
export const SECRET_STRINGS = Object.values(SECRET);

export function spec(over: Partial<WarrantSpec> = {}): WarrantSpec {
  return {
    liid: SECRET.liid,
    agency: 'fbi',
    country: 'US',
    type: 'content',
    targets: [
      { kind: 'ip', family: 4, address: SECRET.ip, prefixLength: 32 },
      { kind: 'username', username: SECRET.user },
      { kind: 'email', email: SECRET.email },
    ],
    endTime: new Date(T0 + 24 * HOUR),
    compliance: { orderReference: SECRET.order, issuingAuthority: SECRET.judge, presentingOfficer: SECRET.officer, responsibleEmployee: SECRET.employee },
    ...over,
  };
}

/** A fresh temp dir per test (`dir()`), removed after it with everything `track`ed closed first. */
export function dataDirHooks(): { dir: () => string; track: <T extends { close(): void }>(x: T) => T } {
  let dir = '';
  let open: { close(): void }[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-provisioning-'));
  });
  afterEach(() => {
    for (const x of open.reverse()) x.close();
    open = [];
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    track: (x) => {
      open.push(x);
      return x;
    },
  };
}

/** Opens the audit log and the store in `dir` with `clock`, both tracked. */
export function openBoth(
  h: ReturnType<typeof dataDirHooks>, clock: TestClock, o: { busyTimeoutMs?: number } = {},
): { audit: AuditLog; store: WarrantStore } {
  const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
  const store = h.track(WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: clock.now, ...o }));
  return { audit, store };
}

/** Messages of an error and its problems, for leak checks. */
export function messagesOf(err: unknown): string {
  const e = err as { message?: string; problems?: { field: string; message: string }[] };
  return [e.message ?? '', ...(e.problems ?? []).map((p) => `${p.field} ${p.message}`)].join('\n');
}

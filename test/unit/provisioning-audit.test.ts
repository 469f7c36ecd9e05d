import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditError } from '../../src/errors';
import {
  AUDIT_READ_CHUNK_BYTES,
  AuditLog,
  AuditVerifier,
  GENESIS_PREV,
  MAX_AUDIT_ENTRY_BYTES,
  MAX_AUDIT_VALUE_DEPTH,
  canonicalJson,
  verifyAudit,
  verifyAuditFile,
} from '../../src/provisioning';
import type { AuditAnchor, AuditEntry, AuditVerifyResult } from '../../src/provisioning';
import { sealEntry, sha256Hex } from '../../src/provisioning/audit-chain';
import { ADMIN, SECRET_STRINGS, TestClock, dataDirHooks, spec } from './provisioning-fixtures';

const MEDIATOR = { name: 'mediator', role: 'mediator' } as const;

/** Appends a small, varied log: warrant changes with before/after holding sensitive values, and plain events. */
function fill(log: AuditLog, clock: TestClock, n = 4): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    clock.advance(1000);
    if (i % 2 === 0) {
      const e = { actor: ADMIN, action: 'warrant.modify', subject: `warrant/${i}`, before: { ...spec(), version: i }, after: { ...spec(), version: i + 1, note: 'é€😀' } };
      out.push(log.appendThen(e, undefined));
    } else out.push(log.append({ actor: MEDIATOR, action: 'delivery.start', subject: 'agency/fbi' }));
  }
  return out;
}

const lines = (b: Uint8Array): Buffer[] => {
  const parts = Buffer.from(b).toString('latin1').split('\n');
  parts.pop();
  return parts.map((p) => Buffer.from(p, 'latin1'));
};
const join = (ls: Uint8Array[]): Buffer => Buffer.concat(ls.flatMap((l) => [l, Buffer.from('\n')]));

function assertFails(r: AuditVerifyResult, entry: number, reason: string, what: string): void {
  assert.equal(r.ok, false, `${what}: verified`);
  if (r.ok) return;
  assert.deepEqual({ entry: r.entry, reason: r.reason }, { entry, reason }, `${what}: ${r.message}`);
  assert.match(r.message, new RegExp(`^audit entry ${entry}: `));
  for (const s of SECRET_STRINGS) assert.ok(!r.message.includes(s), `message quotes a sensitive value: ${r.message}`);
}

describe('provisioning: audit log', () => {
  const h = dataDirHooks();
  let clock: TestClock;
  beforeEach(() => {
    clock = new TestClock();
  });
  const open = () => h.track(AuditLog.open(h.dir(), { clock: clock.now }));
  const file = () => path.join(h.dir(), 'audit.log');

  it('appends chained entries, durable across reopen, and reads them back', () => {
    const log = open();
    const written = fill(log, clock);
    assert.deepEqual(written.map((e) => e.seq), [1, 2, 3, 4]);
    assert.equal(written[0]!.prev, GENESIS_PREV);
    assert.equal(written[0]!.time, new Date(clock.t - 3000).toISOString());
    const bytes = fs.readFileSync(file());
    const ls = lines(bytes);
    for (let i = 1; i < ls.length; i++) assert.equal(written[i]!.prev, sha256Hex(ls[i - 1]!), 'prev is the hash of the previous line');
    for (const [i, e] of written.entries()) {
      const { hash, ...rest } = e;
      assert.equal(hash, sha256Hex(ls[i]!.toString('utf8').replace(/,"hash":"[0-9a-f]{64}"\}$/, '}')), 'hash covers the line without its hash');
      assert.deepEqual(JSON.parse(ls[i]!.toString('utf8')), JSON.parse(JSON.stringify({ ...rest, hash })));
    }
    log.close();
    const again = open();
    assert.deepEqual(again.entries(), JSON.parse(JSON.stringify(written)));
    assert.deepEqual(again.head, { seq: 4, hash: written[3]!.hash, lineHash: sha256Hex(ls[3]!), offset: bytes.length });
    const next = again.append({ actor: MEDIATOR, action: 'delivery.stop', subject: 'agency/fbi' });
    assert.equal(next.seq, 5);
    assert.equal(next.prev, sha256Hex(ls[3]!));
    assert.deepEqual(again.verify(), { ok: true, entries: 5, head: { seq: 5, hash: next.hash } });
  });

  it('creates the file with mode 0600 and an empty log verifies', () => {
    const log = open();
    assert.equal(fs.statSync(file()).mode & 0o777, 0o600);
    assert.equal(log.head, undefined);
    assert.deepEqual(log.entries(), []);
    assert.deepEqual(verifyAudit(''), { ok: true, entries: 0 });
  });

  it('an untouched log verifies, whole, from the file, and fed in pieces of any size', () => {
    const entries = fill(open(), clock, 6);
    const bytes = fs.readFileSync(file());
    const expected = { ok: true, entries: 6, head: { seq: 6, hash: entries[5]!.hash } };
    assert.deepEqual(verifyAudit(bytes), expected);
    assert.deepEqual(verifyAudit(bytes.toString('utf8')), expected);
    assert.deepEqual(verifyAuditFile(file()), expected);
    const v = new AuditVerifier();
    for (const b of bytes) v.push(Uint8Array.of(b));
    assert.deepEqual(v.end(), expected, 'byte by byte');
    for (const size of [2, 7, 100, 999]) {
      const w = new AuditVerifier();
      for (let i = 0; i < bytes.length; i += size) w.push(bytes.subarray(i, i + size));
      assert.deepEqual(w.end(), expected, `pieces of ${size}`);
    }
  });

  it('changing any byte fails verification and names the entry holding it', () => {
    fill(open(), clock, 4);
    const bytes = fs.readFileSync(file());
    for (const mask of [0x01, 0x20, 0x80, 0xff]) {
      let line = 1;
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes);
        copy[i]! ^= mask;
        const r = verifyAudit(copy);
        const last = i === bytes.length - 1;
        assertFails(r, line, last ? 'truncated' : (r as { reason: string }).reason, `byte ${i} ^ ${mask}`);
        if (!last) assert.ok(['altered', 'malformed'].includes((r as { reason: string }).reason), `byte ${i}: ${JSON.stringify(r)}`);
        if (bytes[i] === 0x0a) line++;
      }
    }
  });

  it('names a removed entry: first, middle, and the last one by the anchor', () => {
    const entries = fill(open(), clock, 5);
    const ls = lines(fs.readFileSync(file()));
    assertFails(verifyAudit(join(ls.slice(1))), 1, 'removed', 'first');
    assertFails(verifyAudit(join([...ls.slice(0, 2), ...ls.slice(3)])), 3, 'removed', 'third');
    assertFails(verifyAudit(join([...ls.slice(0, 1), ...ls.slice(3)])), 2, 'removed', 'second and third');
    const anchor: AuditAnchor = { seq: 5, hash: entries[4]!.hash };
    assert.equal(verifyAudit(join(ls.slice(0, 4))).ok, true, 'without the anchor a cut tail looks whole');
    assertFails(verifyAudit(join(ls.slice(0, 4)), anchor), 5, 'truncated', 'last, with the anchor');
    assertFails(verifyAudit(join(ls.slice(0, 2)), anchor), 3, 'truncated', 'three cut');
    assertFails(verifyAudit('', anchor), 1, 'truncated', 'all of it');
  });

  it('names reordered and repeated entries', () => {
    fill(open(), clock, 5);
    const ls = lines(fs.readFileSync(file()));
    const swap = (a: number, b: number) => {
      const c = [...ls];
      [c[a], c[b]] = [c[b]!, c[a]!];
      return join(c);
    };
    assertFails(verifyAudit(swap(1, 2)), 2, 'reordered', 'adjacent');
    assertFails(verifyAudit(swap(0, 4)), 1, 'reordered', 'first and last');
    assertFails(verifyAudit(join([...ls.slice(0, 3), ls[1]!, ...ls.slice(3)])), 4, 'reordered', 'repeated');
    const v = new AuditVerifier();
    for (const b of swap(1, 3)) v.push(Uint8Array.of(b));
    const r = v.end();
    assert.equal(r.ok === false && `${r.entry} ${r.reason}`, '2 reordered', 'byte by byte');
  });

  it('names an entry rewritten with its hash recomputed, by the chain after it or by the anchor', () => {
    const entries = fill(open(), clock, 4);
    const ls = lines(fs.readFileSync(file()));
    const forge = (e: AuditEntry) => {
      const { hash: _h, ...rest } = e;
      return Buffer.from(sealEntry({ ...rest, subject: 'warrant/99' }).line);
    };
    assertFails(verifyAudit(join([ls[0]!, forge(entries[1]!), ...ls.slice(2)])), 2, 'altered', 'middle');
    const lastForged = join([...ls.slice(0, 3), forge(entries[3]!)]);
    assert.equal(verifyAudit(lastForged).ok, true, 'the last entry is vouched for by nothing but the anchor');
    assertFails(verifyAudit(lastForged, { seq: 4, hash: entries[3]!.hash }), 4, 'altered', 'last, with the anchor');
  });

  it('the anchor: at the head or one behind it verifies; ahead of the log is a cut', () => {
    const entries = fill(open(), clock, 4);
    const bytes = fs.readFileSync(file());
    assert.deepEqual(verifyAudit(bytes, { seq: 4, hash: entries[3]!.hash }), { ok: true, entries: 4, head: { seq: 4, hash: entries[3]!.hash }, beyondAnchor: 0 });
    const ahead = verifyAudit(bytes, { seq: 3, hash: entries[2]!.hash });
    assert.equal(ahead.ok && ahead.beyondAnchor, 1, 'a crash between the append and the commit leaves the log one ahead');
    assertFails(verifyAudit(bytes, { seq: 5, hash: entries[3]!.hash }), 5, 'truncated', 'log behind the anchor');
    assertFails(verifyAudit(bytes, { seq: 3, hash: entries[3]!.hash }), 3, 'altered', 'anchor hash differs');
    assert.deepEqual(verifyAuditFile(file(), { seq: 4, hash: entries[3]!.hash }).ok, true);
  });

  it('cuts a torn last line on open, records the repair, and goes on', () => {
    const log = open();
    const entries = fill(log, clock, 3);
    log.close();
    const whole = fs.readFileSync(file());
    const torn = sealEntry({ seq: 4, time: clock.now().toISOString(), actor: 'alice', role: 'admin', action: 'warrant.stop', subject: 'warrant/1', prev: entries[2]!.hash }).line;
    fs.appendFileSync(file(), torn.slice(0, 40));
    assertFails(verifyAuditFile(file()), 4, 'truncated', 'torn tail before open');
    const again = open();
    assert.equal(again.repairedBytes, 40);
    const all = again.entries();
    assert.equal(all.length, 4);
    assert.deepEqual(all.slice(0, 3), JSON.parse(JSON.stringify(entries)));
    assert.deepEqual({ ...all[3]!, time: '', hash: '' }, { seq: 4, time: '', actor: 'mediator', role: 'mediator', action: 'audit.repair', subject: 'audit', after: { cutBytes: 40 }, prev: sha256Hex(lines(whole)[2]!), hash: '' });
    assert.ok(fs.readFileSync(file()).subarray(0, whole.length).equals(whole), 'the entries before it are untouched');
    assert.equal(verifyAuditFile(file()).ok, true);
  });

  it('refuses to open on a damaged last entry, and on a torn line that is the whole file it cuts only that', () => {
    fill(open(), clock, 2);
    const bytes = fs.readFileSync(file());
    const copy = Buffer.from(bytes);
    copy[copy.length - 10]! ^= 0x01;
    fs.writeFileSync(file(), copy);
    assert.throws(() => AuditLog.open(h.dir(), { clock: clock.now }), (e: AuditError) => e.code === 'LIG_ERR_AUDIT_BROKEN' && !SECRET_STRINGS.some((s) => e.message.includes(s)));
    fs.writeFileSync(file(), '{"seq":1,"ti');
    const log = open();
    assert.equal(log.repairedBytes, 12);
    assert.deepEqual(log.entries().map((e) => [e.seq, e.action]), [[1, 'audit.repair']]);
  });

  it('refuses a second writer instead of forking the chain', () => {
    const a = open();
    fill(a, clock, 1);
    const b = open();
    b.append({ actor: MEDIATOR, action: 'delivery.start', subject: 'agency/bka' });
    assert.throws(() => a.append({ actor: MEDIATOR, action: 'delivery.stop', subject: 'agency/bka' }), { code: 'LIG_ERR_AUDIT_BROKEN' });
    assert.throws(() => a.append({ actor: MEDIATOR, action: 'delivery.stop', subject: 'agency/bka' }), { code: 'LIG_ERR_AUDIT_CLOSED' });
    assert.equal(verifyAuditFile(file()).ok, true);
    a.close();
    assert.throws(() => a.entries(), { code: 'LIG_ERR_AUDIT_CLOSED' });
  });

  it('refuses bad entries before writing anything', () => {
    const log = open();
    fill(log, clock, 1);
    const size = fs.statSync(file()).size;
    const cases: [Record<string, unknown>, string][] = [
      [{ actor: { name: '', role: 'admin' } }, 'LIG_ERR_AUDIT_INVALID'],
      [{ actor: { name: 'x', role: 'root' } }, 'LIG_ERR_AUDIT_INVALID'],
      [{ actor: { name: 'a\nb', role: 'admin' } }, 'LIG_ERR_AUDIT_INVALID'],
      [{ action: '' }, 'LIG_ERR_AUDIT_INVALID'],
      [{ action: 'Warrant Create' }, 'LIG_ERR_AUDIT_INVALID'],
      [{ subject: '' }, 'LIG_ERR_AUDIT_INVALID'],
      [{ after: { n: NaN } }, 'LIG_ERR_AUDIT_INVALID'],
      [{ after: { n: 1n } }, 'LIG_ERR_AUDIT_INVALID'],
      [{ after: new Map() }, 'LIG_ERR_AUDIT_INVALID'],
      [{ after: [undefined] }, 'LIG_ERR_AUDIT_INVALID'],
      [{ after: 'x'.repeat(MAX_AUDIT_ENTRY_BYTES) }, 'LIG_ERR_AUDIT_TOO_LARGE'],
    ];
    for (const [over, code] of cases) {
      assert.throws(() => log.append({ actor: ADMIN, action: 'delivery.start', subject: 'agency/fbi', ...over } as never), { code }, JSON.stringify(Object.keys(over)));
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => log.append({ actor: ADMIN, action: 'x', subject: 'y', after: cyclic }), { code: 'LIG_ERR_AUDIT_INVALID' });
    for (const action of ['warrant.create', 'warrant.activate', 'warrant.modify', 'warrant.stop', 'warrant.expire']) {
      assert.throws(() => log.append({ actor: ADMIN, action, subject: 'warrant/1' }), { code: 'LIG_ERR_AUDIT_INVALID' }, `${action} is the store's`);
    }
    assert.equal(fs.statSync(file()).size, size);
    assert.equal(log.append({ actor: ADMIN, action: 'warrant.show', subject: 'warrant/1' }).seq, 2, 'still usable');
  });

  it('a line longer than MAX_AUDIT_ENTRY_BYTES is malformed, also when streamed', () => {
    const long = Buffer.alloc(MAX_AUDIT_ENTRY_BYTES + 10, 0x20);
    assertFails(verifyAudit(join([long])), 1, 'malformed', 'whole');
    const v = new AuditVerifier();
    for (let i = 0; i < long.length; i += AUDIT_READ_CHUNK_BYTES) v.push(long.subarray(i, i + AUDIT_READ_CHUNK_BYTES));
    v.push(Buffer.from('\n'));
    const r = v.end();
    assert.equal(r.ok === false && r.reason, 'malformed');
  });

  it('canonical JSON: sorted keys, no whitespace, Dates as ISO, bounded depth', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: new Date(0) }), '{"a":[true,null,"x"],"b":1,"d":"1970-01-01T00:00:00.000Z"}');
    let deep: unknown = 1;
    for (let i = 0; i < MAX_AUDIT_VALUE_DEPTH + 1; i++) deep = [deep];
    assert.throws(() => canonicalJson(deep), { code: 'LIG_ERR_AUDIT_INVALID' });
    assert.equal(canonicalJson((deep as unknown[])[0]), `${'['.repeat(MAX_AUDIT_VALUE_DEPTH)}1${']'.repeat(MAX_AUDIT_VALUE_DEPTH)}`);
    const w = spec();
    assert.equal(canonicalJson(w), canonicalJson(JSON.parse(JSON.stringify(w))), 'the same after a JSON round trip');
    assert.equal(canonicalJson({ s: 'é\u0000"\\' }), JSON.stringify({ s: 'é\u0000"\\' }));
  });
});

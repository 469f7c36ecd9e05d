/**
 * The validator's parts on their own: durations and sizes, edit distance and hints, host and
 * port parsing, IP target prefixes, and the combinators (paths, variants, redaction).
 */
import { strict as assert } from 'node:assert';
import { parseHostPort } from '../../src/config/values';
import { Checker, INVALID, formatPath, integer, list, object, optional, sensitive, string, variant } from '../../src/config/schema';
import { closest, editDistance } from '../../src/config/suggest';
import { ipBytes, parseIpTarget } from '../../src/config/targets';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/config/units';

describe('config: validator parts', () => {
  it('parses durations to milliseconds', () => {
    const ok: [string, number][] = [
      ['250ms', 250],
      ['30s', 30_000],
      ['5m', 300_000],
      ['2h', 7_200_000],
      ['1h30m', 5_400_000],
      ['1.5s', 1500],
      ['0.1s', 100],
      ['0s', 0],
    ];
    for (const [text, ms] of ok) assert.equal(parseDuration(text), ms, text);
    for (const text of ['', '30', 's', '30 s', '30sec', '-1s', '1.5ms', '1d', '1h30', 'ms30']) assert.equal(parseDuration(text), undefined, text);
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(1500), '1500ms');
  });

  it('parses sizes to bytes', () => {
    const ok: [string, number][] = [
      ['64MiB', 64 * 1024 * 1024],
      ['1GiB', 1024 ** 3],
      ['1TiB', 1024 ** 4],
      ['4KiB', 4096],
      ['500MB', 500_000_000],
      ['1.5GiB', 1.5 * 1024 ** 3],
      ['4096B', 4096],
      ['4096', 4096],
      ['2 GB', 2e9],
    ];
    for (const [text, n] of ok) assert.equal(parseSize(text), n, text);
    for (const text of ['', 'MiB', '64mib', '1Gb', '0.5B', '-1MiB', '1 PiB', '99999999TiB']) assert.equal(parseSize(text), undefined, text);
    assert.equal(formatSize(64 * 1024 * 1024), '64MiB');
    assert.equal(formatSize(1000), '1000B');
  });

  it('measures edit distance with transpositions and suggests near keys', () => {
    assert.equal(editDistance('tls', 'tsl'), 1);
    assert.equal(editDistance('adress', 'address'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(closest('tsl', ['ca', 'tls', 'hi2']), 'tls');
    assert.equal(closest('DATADIR', ['dataDir', 'ingest']), 'dataDir');
    assert.equal(closest('zzz', ['ca', 'tls']), undefined);
    assert.equal(closest('servrname', ['ca', 'cert', 'key', 'servername']), 'servername');
  });

  it('parses HOST:PORT', () => {
    assert.deepEqual(parseHostPort('example.org:443'), { host: 'example.org', port: 443 });
    assert.deepEqual(parseHostPort('[fe80::1]:80'), { host: 'fe80::1', port: 80 });
    assert.deepEqual(parseHostPort('0.0.0.0:0', true), { host: '0.0.0.0', port: 0 });
    for (const bad of ['example.org', ':80', 'a_b:80', '[::1]80', '[nope]:80', 'h:0', 'h:080x', 'h:99999', '-a:1', '1.2.3:4']) {
      assert.equal(typeof parseHostPort(bad), 'string', bad);
    }
  });

  it('parses IP targets and checks prefixes', () => {
    assert.deepEqual(Array.from(ipBytes('::ffff:192.0.2.1')!), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    assert.deepEqual(Array.from(ipBytes('2001:db8::1')!), [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIpTarget('2001:db8:ff00::/40'), { kind: 'ip', family: 6, address: '2001:db8:ff00::', prefixLength: 40 });
    assert.match(String(parseIpTarget('2001:db8:ff80::/40')), /bits set beyond its \/40/);
    assert.deepEqual(parseIpTarget('198.51.100.8/29'), { kind: 'ip', family: 4, address: '198.51.100.8', prefixLength: 29 });
    assert.match(String(parseIpTarget('198.51.100.9/29')), /bits set/);
    assert.match(String(parseIpTarget('fe80::1%eth0')), /not an IPv4 or IPv6/);
  });

  it('reports paths the way users write them', () => {
    assert.equal(formatPath([]), '(top level)');
    assert.equal(formatPath(['agencies', 1, 'hi2', 'address']), 'agencies[1].hi2.address');
    assert.equal(formatPath(['a', 'odd key']), 'a["odd key"]');
  });

  it('keeps checking after the first problem and omits absent optional keys', () => {
    const s = object({ a: integer(), b: list(string()), c: optional(string()) });
    const ctx = new Checker();
    assert.equal(s.check({ a: 'x', b: [1, 'ok', 2] }, ['root'], ctx), INVALID);
    assert.deepEqual(
      ctx.issues.map((i) => formatPath(i.path)),
      ['root.a', 'root.b[0]', 'root.b[2]'],
    );
    const ok = s.check({ a: 1, b: [], c: null }, [], new Checker());
    assert.deepEqual(ok, { a: 1, b: [] });
    assert.ok(!Object.prototype.hasOwnProperty.call(ok, 'c'));
  });

  it('checks the common keys of a variant even when its tag is wrong', () => {
    const s = variant('kind', { id: string() }, { x: { xs: integer() }, y: { ys: integer() } });
    const ctx = new Checker();
    s.check({ kind: 'z', id: 5, xs: 1, zz: 1 }, [], ctx);
    assert.deepEqual(
      ctx.issues.map((i) => [formatPath(i.path), i.message.slice(0, 22)]),
      [
        ['kind', 'expected "x" or "y", g'],
        ['zz', 'unknown key "zz": expe'],
        ['id', 'expected a non-empty s'],
      ],
    );
    assert.deepEqual(s.check({ kind: 'y', id: 'i', ys: 2 }, [], new Checker()), { kind: 'y', id: 'i', ys: 2 });
  });

  it('never quotes a sensitive value', () => {
    const ctx = new Checker();
    sensitive(object({ n: integer(), s: string({ max: 3 }) })).check({ n: 'secret-n', s: 'secret-s' }, [], ctx);
    assert.equal(ctx.issues.length, 2);
    for (const i of ctx.issues) assert.ok(!i.message.includes('secret'), i.message);
    // ...and a value outside `sensitive` is quoted, so the user sees it.
    const open = new Checker();
    integer().check('visible', [], open);
    assert.match(open.issues[0]!.message, /"visible"/);
  });
});

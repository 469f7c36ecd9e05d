/**
 * The live capture pre-filter: exact expressions for small target sets, the keyword form for
 * other link types, the fall-backs, and libpcap's compiler (dumpcap -d) accepting every form
 * within the kernel's 4,096-instruction limit. What the filter lets through on a real
 * interface is tested in test/integration/capture-live.test.ts.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { DEFAULT_IDENTITY_UDP_PORTS, MATCH_EVERYTHING, MATCH_NOTHING, MAX_FILTER_WORDS, buildCaptureFilter } from '../../src/capture/bpf-filter';
import { collectTargets } from '../../src/capture/targets';
import { SourceError } from '../../src/errors';
import type { Target, Task } from '../../src/gen/lig/v1/ingest';
import { skipOrFail } from '../helpers/shared';

const ip = (bytes: number[], prefixLength: number): Target => ({ kind: { $case: 'ip', ip: { address: Buffer.from(bytes), prefixLength } } });
const mac = (hex: string): Target => ({ kind: { $case: 'mac', mac: Buffer.from(hex, 'hex') } });
const targets = (...t: Target[]) => collectTargets([{ taskId: 1n, type: 1, targets: t } as Task]);
const v6 = (i: number) => [0x20, 0x01, 0x0d, 0xb8, i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/** libpcap's compiled program for `filter` on `lo` (dumpcap -d), as instruction count; null when it is refused. */
function compiled(filter: string): number | null {
  const r = spawnSync('dumpcap', ['-i', 'lo', '-d', '-f', filter], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return null;
  return r.stdout.split('\n').filter((l) => /^\(\d+\)/.test(l)).length;
}

describe('capture: capture filter', () => {
  it('Ethernet, one IPv4 target, no identity ports: the exact expression', () => {
    const f = buildCaptureFilter(targets(ip([10, 1, 2, 3], 32)), { identityUdpPorts: [] });
    const tags1 = '(ether[12:2] = 0x8100 or ether[12:2] = 0x88a8 or ether[12:2] = 0x9100)';
    const tags2 = `${tags1} and (ether[16:2] = 0x8100 or ether[16:2] = 0x88a8 or ether[16:2] = 0x9100)`;
    const at = (et: number) => {
      const l3 = et + 2;
      return (
        `((ether[${et}:2] = 0x800 and (ether[${l3 + 12}:4] = 0xa010203 or ether[${l3 + 16}:4] = 0xa010203))` +
        ` or (ether[${et}:2] = 0x8864 and ether[${et + 8}:2] = 0x21 and (ether[${l3 + 20}:4] = 0xa010203 or ether[${l3 + 24}:4] = 0xa010203))` +
        ` or (ether[${et}:2] = 0x8864 and (ether[${et + 8}] = 0x21 or ether[${et + 8}] = 0x57)))`
      );
    };
    const want = [
      at(12),
      `(${tags1} and ${at(16)})`,
      `(${tags2} and ${at(20)})`,
    ].join(' or ');
    assert.equal(f, want);
  });

  it('prefixes compare whole words and mask the last one', () => {
    const f = buildCaptureFilter(targets(ip([10, 9, 0, 0], 16), ip(v6(5), 56)), { identityUdpPorts: [] });
    assert.match(f, /ether\[26:4\] & 0xffff0000 = 0xa090000/);
    assert.match(f, /\(ether\[22:4\] = 0x20010db8 and ether\[26:4\] & 0xffffff00 = 0x50000\)/);
  });

  it('identity ports: IPv4 by header length and first fragment only, IPv6 directly after the header', () => {
    const f = buildCaptureFilter(targets(), { identityUdpPorts: [1813] });
    assert.ok(f.includes('(ether[23] = 17 and ether[20:2] & 0x1fff = 0 and (ether[14 + ((ether[14] & 15) << 2):2] = 1813 or ether[16 + ((ether[14] & 15) << 2):2] = 1813))'));
    assert.ok(f.includes('(ether[20] = 17 and (ether[54:2] = 1813 or ether[56:2] = 1813))'));
  });

  it('a MAC target captures everything, on every link type: behind a router only its bound address shows it', () => {
    for (const linktype of [1, 101, 113]) {
      assert.equal(buildCaptureFilter(targets(ip([10, 1, 2, 3], 32), mac('0200000000aa')), { linktype }), MATCH_EVERYTHING);
    }
  });

  it('other link types get the keyword form', () => {
    const t = targets(ip([10, 1, 2, 3], 32), ip(v6(5), 64), ip([10, 1, 2, 3], 32));
    assert.equal(buildCaptureFilter(t, { linktype: 113, identityUdpPorts: [67] }), 'host 10.1.2.3 or net 2001:db8:5::/64 or udp port 67');
    assert.equal(buildCaptureFilter(targets(ip(v6(0), 128)), { linktype: 101, identityUdpPorts: [] }), 'host 2001:db8::1');
    assert.equal(buildCaptureFilter(targets(mac('0200000000aa')), { linktype: 101 }), MATCH_EVERYTHING);
  });

  it('nothing to capture: a filter that passes nothing; over budget: everything', () => {
    assert.equal(buildCaptureFilter(targets(), { identityUdpPorts: [] }), MATCH_NOTHING);
    assert.equal(buildCaptureFilter(collectTargets([]), { identityUdpPorts: [] }), MATCH_NOTHING);
    const many = (n: number) => targets(...Array.from({ length: n }, (_, i) => ip([10, 0, i >> 8, i & 0xff], 32)));
    const budget = MAX_FILTER_WORDS - DEFAULT_IDENTITY_UDP_PORTS.length / 2;
    assert.notEqual(buildCaptureFilter(many(budget)), MATCH_EVERYTHING);
    assert.equal(buildCaptureFilter(many(budget + 1)), MATCH_EVERYTHING);
    // The same target in several tasks counts once.
    const dup = collectTargets(Array.from({ length: 500 }, (_, i) => ({ taskId: BigInt(i), type: 1, targets: [ip([10, 1, 2, 3], 32)] }) as Task));
    assert.notEqual(buildCaptureFilter(dup), MATCH_EVERYTHING);
  });

  it('refuses a port that is not one', () => {
    for (const p of [0, 65536, 1.5]) {
      assert.throws(() => buildCaptureFilter(targets(), { identityUdpPorts: [p] }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
    }
  });

  it('libpcap compiles every form, within 4,096 instructions at the budget', function () {
    if (compiled(MATCH_NOTHING) === null) skipOrFail(this, 'dumpcap cannot compile filters on lo here (install tshark; run as root)');
    const ports = [1812, 1813, 67, 68, 546, 547, 1645, 1646];
    const words = MAX_FILTER_WORDS - ports.length / 2;
    const worst = [
      targets(...Array.from({ length: words }, (_, i) => ip([10, 0, i >> 8, i & 0xff], 32))),
      targets(...Array.from({ length: Math.floor(words / 4) }, (_, i) => ip(v6(i), 128))),
      targets(...Array.from({ length: Math.floor(words / 2) }, (_, i) => ip(v6(i), 64))),
      targets(...Array.from({ length: Math.floor(words / 3) }, (_, i) => ip(v6(i), 96))),
    ];
    for (const t of worst) {
      const f = buildCaptureFilter(t, { identityUdpPorts: ports });
      assert.notEqual(f, MATCH_EVERYTHING);
      const n = compiled(f);
      assert.ok(n !== null && n > 0 && n <= 4096, `compiled to ${n} instructions`);
    }
    assert.ok(compiled(buildCaptureFilter(targets(ip([10, 1, 2, 3], 32), ip(v6(1), 64)), { linktype: 113 }))! > 0);
    assert.ok(compiled(MATCH_NOTHING)! > 0);
  });
});

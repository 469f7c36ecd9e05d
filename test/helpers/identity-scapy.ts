/**
 * Runs test/helpers/identity_fixtures.py with Debian's python3 and scapy: RADIUS accounting
 * and DHCP packets made by an independent implementation, with the values they were made
 * from, and the identity scenario capture (a hotspot's day) with what must be intercepted of
 * it. The caller checks requireScapy first (goldenPackets does). Also what the parsers' tests
 * share: the typed error code of a parse, and every bit flip of the golden packets.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IdentityPacketError } from '../../src/errors';
import { SYSTEM_PYTHON, requireScapy } from './scapy';
import { REPO_ROOT } from './shared';

export const IDENTITY_SCRIPT = path.join(REPO_ROOT, 'test', 'helpers', 'identity_fixtures.py');

/** A golden packet: the UDP payload, and the fields the parser must read from it (JSON forms: hex octets, dotted IPv4, bigint as text). */
export interface GoldenCase {
  name: string;
  hex: string;
  expect: Record<string, unknown>;
}

export interface Golden {
  dir: string;
  radius: GoldenCase[];
  dhcp: GoldenCase[];
  radiusPcap: string;
  dhcpPcap: string;
}

/** [task id, direction, session key] */
export type ScenarioMatch = [number, number, string];

export interface ScenarioFrame {
  name: string;
  timeUs: number;
  /** The frame's IP packet, hex. */
  ip: string;
  matches: ScenarioMatch[];
}

/** An expected IdentityEvent in JSON form (addresses dotted or hex, octets as decimal text, kind as its name without KIND_). */
export interface ScenarioEvent {
  timeUs: number;
  kind: string;
  taskIds: number[];
  sessionKey: string;
  [field: string]: unknown;
}

export interface ScenarioTask {
  taskId: number;
  username?: string;
  mac?: string;
  ip?: string;
}

export interface Scenario {
  pcap: string;
  tasks: ScenarioTask[];
  frames: ScenarioFrame[];
  events: ScenarioEvent[];
}

function run(...args: string[]): void {
  const r = spawnSync(SYSTEM_PYTHON, [IDENTITY_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`identity_fixtures.py ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

export function buildGolden(dir: string): Golden {
  run('golden', dir);
  const g = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { radius: GoldenCase[]; dhcp: GoldenCase[] };
  return { dir, ...g, radiusPcap: path.join(dir, 'radius.pcap'), dhcpPcap: path.join(dir, 'dhcp.pcap') };
}

/**
 * The golden packets for a parser's suite: call inside its describe. Made once, on first use,
 * in a temporary directory removed after the suite; a test that asks skips (or, under CI,
 * fails) when scapy is missing.
 */
export function goldenPackets(tmpPrefix: string): (ctx: Mocha.Context) => Golden {
  let tmp: string | undefined;
  let golden: Golden | undefined;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));
  return (ctx) => {
    requireScapy(ctx);
    return (golden ??= buildGolden(tmp!));
  };
}

/** The code of the IdentityPacketError `f` throws, or 'ok' when it returns; any other exception fails the test. */
export function identityErrorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof IdentityPacketError, `not an IdentityPacketError: ${String(e)}`);
    return e.code;
  }
  return 'ok';
}

/**
 * Parses every single-bit flip of every seed with `parse` (which checks what it read): each
 * gives a result or a typed error, never another exception, and there are some of both.
 */
export function assertEveryBitFlip(seeds: readonly Uint8Array[], parse: (b: Buffer) => void): void {
  let results = 0;
  let errors = 0;
  for (const s of seeds) {
    for (let bit = 0; bit < s.length * 8; bit++) {
      const b = Buffer.from(s);
      b[bit >> 3]! ^= 0x80 >> (bit & 7);
      if (identityErrorCode(() => parse(b)) === 'ok') results++;
      else errors++;
    }
  }
  assert.ok(results > 0 && errors > 0, `${results} results, ${errors} errors`);
}

export function buildScenario(dir: string): Scenario {
  run('capture', dir);
  const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Omit<Scenario, 'pcap'>;
  return { pcap: path.join(dir, 'identity.pcap'), ...e };
}

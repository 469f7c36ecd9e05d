/**
 * A warrant's time window in the mediator core, on real journals: a packet matched to a
 * warrant's task but captured before its activation (or start) or at or after its end time is
 * not intercepted, even while the task is still on the probe's list (between the end time and
 * the schedule withdrawing it); one inside is. Static intercepts have no window.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Direction } from '../../src/gen/lig/v1/ingest';
import type { Warrant } from '../../src/provisioning';
import { interceptOf } from '../../src/provisioning/warrant-schedule';
import { TestCore, batchOf, ipv4, packetEvent } from '../mediation-fixtures';
import { HOUR, T0, spec } from './provisioning-fixtures';

const us = (ms: number) => BigInt(ms) * 1000n;

describe('admin: a warrant\'s window in the core', () => {
  let dir: string;
  let core: TestCore | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-admin-window-'));
  });
  afterEach(async () => {
    await core?.close();
    core = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drops matches captured before its activation or start and at or after its end; keeps those inside', async () => {
    const w: Warrant = {
      ...spec({ liid: 'LIID-WIN', agency: 'lea-1', startTime: new Date(T0 + HOUR), endTime: new Date(T0 + 2 * HOUR) }),
      id: 1,
      state: 'active',
      version: 2,
      createdAt: new Date(T0),
      createdBy: 'alice',
      activatedAt: new Date(T0 + 1000),
      activatedBy: 'alice',
    };
    const i = interceptOf(w);
    assert.deepEqual(i.window, { from: new Date(T0 + HOUR), until: new Date(T0 + 2 * HOUR) });
    core = await TestCore.open(dir, [i, { ...interceptOf(w), liid: 'LIID-STATIC', window: undefined }]);
    const task = core.task('LIID-WIN');
    const fixed = core.task('LIID-STATIC');
    const times = [T0 + HOUR - 1, T0 + HOUR, T0 + 2 * HOUR - 1, T0 + 2 * HOUR, T0 + 3 * HOUR];
    const events = times.map((t, k) => packetEvent(ipv4('udp', Buffer.from(`p${k}`)).bytes, [[task, Direction.DIRECTION_FROM_TARGET], [fixed, Direction.DIRECTION_FROM_TARGET]], us(t) + 500n));
    await core.handler.accept('probe-1', batchOf(1n, events), 's');
    const recs = await core.records('hi3');
    const stampOf = (r: { seconds?: number; micros?: number }) => r.seconds! * 1000 + Math.floor(r.micros! / 1000);
    assert.deepEqual(recs.filter((r) => r.liid === 'LIID-WIN').map(stampOf), [T0 + HOUR, T0 + 2 * HOUR - 1], 'inside [start, end) only');
    assert.equal(recs.filter((r) => r.liid === 'LIID-STATIC').length, times.length, 'a static intercept has no window');
    assert.equal(core.handler.counters.outsideWindow, 3);
  });

  it('starts the window at activation when that is later than the start time', () => {
    const w: Warrant = { ...spec({ startTime: new Date(T0) }), id: 2, state: 'active', version: 2, createdAt: new Date(T0), createdBy: 'a', activatedAt: new Date(T0 + 5000), activatedBy: 'a' };
    assert.deepEqual(interceptOf(w).window, { from: new Date(T0 + 5000), until: w.endTime });
  });
});

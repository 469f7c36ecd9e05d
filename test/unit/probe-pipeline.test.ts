/**
 * The probe's per-frame pipeline (decode, match, event), on the scapy-built capture whose
 * expected matches are computed independently (test/fixtures/probe_capture.py): one event
 * per matching frame with the IP packet as captured, its capture time and the matches;
 * nothing for the rest; counters; a replaced task list applies from the next frame.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from '../../src/capture/frame';
import { LINKTYPE } from '../../src/capture/pcap-format';
import { formatAgentStatus, type AgentStats } from '../../src/probe/agent-status';
import { PacketPipeline } from '../../src/probe/pipeline';
import { requireScapy } from '../helpers/scapy';
import { type Capture, type CaptureFrame, type SeenPacket, buildCapture, expectedPackets, taskListOf } from '../integration/probe-helpers';

function frameOf(f: CaptureFrame): Frame {
  return { ts: { seconds: Math.floor(f.timeUs / 1e6), micros: f.timeUs % 1e6 }, linktype: LINKTYPE.ETHERNET, data: Buffer.from(f.frame, 'hex'), origLen: f.origLen };
}

function run(p: PacketPipeline, frames: CaptureFrame[]): SeenPacket[] {
  const out: SeenPacket[] = [];
  for (const f of frames) {
    const e = p.process(frameOf(f));
    if (!e) continue;
    assert.equal(e.kind?.$case, 'packet');
    if (e.kind?.$case !== 'packet') continue;
    const k = e.kind.packet;
    out.push({ timeUs: e.timeUs, data: Buffer.from(k.data).toString('hex'), originalLength: k.originalLength, matches: k.matches.map((m) => [Number(m.taskId), m.direction]) });
  }
  return out;
}

describe('probe pipeline (decode → match → event)', function () {
  let tmp: string;
  let cap: Capture;

  before(function () {
    requireScapy(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-probe-pipeline-'));
    cap = buildCapture(tmp);
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('makes one event per matching frame, exactly as the independent reference says, and nothing for the rest', () => {
    const p = new PacketPipeline(taskListOf(cap.tasks, 1n).tasks);
    const events = run(p, cap.mixed);
    assert.deepEqual(events, expectedPackets(cap.mixed, [1, 2, 3, 4]));
    const c = p.counters();
    assert.equal(c.frames, cap.mixed.length);
    assert.equal(c.undecodable, 1);
    assert.equal(c.undecodableBy['not-ip'], 1);
    assert.equal(c.decoded, cap.mixed.length - 1);
    assert.equal(c.matched, events.length);
    assert.equal(c.matches, events.reduce((n, e) => n + e.matches.length, 0));
    assert.equal(c.truncated, 1);
    const cut = events.find((e) => e.originalLength > 0)!;
    assert.equal(cut.originalLength, 1028);
    assert.equal(cut.data.length / 2, 186, 'the captured part of the packet only');
  });

  it('matches nothing without tasks, and other subscribers\' traffic never', () => {
    assert.deepEqual(run(new PacketPipeline(), cap.mixed), []);
    assert.deepEqual(run(new PacketPipeline(taskListOf(cap.tasks, 1n).tasks), cap.others), []);
  });

  it('a replaced task list applies from the next frame on', () => {
    const p = new PacketPipeline(taskListOf(cap.tasks.filter((t) => t.taskId === 1), 1n).tasks);
    const half = Math.floor(cap.mixed.length / 2);
    const before = run(p, cap.mixed.slice(0, half));
    p.replaceTasks(taskListOf(cap.tasks.filter((t) => t.taskId === 2), 2n).tasks);
    const after = run(p, cap.mixed.slice(half));
    assert.deepEqual(before, expectedPackets(cap.mixed.slice(0, half), [1]));
    assert.deepEqual(after, expectedPackets(cap.mixed.slice(half), [2]));
    assert.ok(before.length > 0 && after.length > 0);
    assert.equal(p.table.stats.tasks, 1);
  });

  it('the status line holds counts and states only', () => {
    const p = new PacketPipeline(taskListOf(cap.tasks, 1n).tasks);
    run(p, cap.mixed);
    const st: AgentStats = {
      ...p.counters(),
      state: 'capturing',
      sourceKind: 'tzsp',
      source: { frames: cap.mixed.length, dropped: 3, malformed: {}, skipped: {} },
      ccc: undefined,
      eventsSubmitted: p.counters().matched,
      eventsDropped: 0,
      dropped: { spoolFull: 0, oversize: 0, invalid: 0, spoolFailed: 0, closed: 0 },
      batchesAcked: 5n,
      unackedBatches: 1n,
      connected: true,
      tasks: 4,
      taskListVersion: 7n,
    };
    const line = formatAgentStatus(st);
    const c = p.counters();
    assert.equal(
      line,
      `capturing (tzsp): ${c.frames} frames (${c.decoded} decoded, 1 undecodable), 3 lost by the source, ${c.matched} matched, ${c.matched} events submitted, 0 dropped, 5 batches acked (1 unacked), 4 tasks, mediator connected`,
    );
  });
});

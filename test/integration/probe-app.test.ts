/**
 * Application IRI through the real probe: ProbeAgent replaying a scapy-built capture
 * (test/fixtures/app_capture.py: web, HTTPS, DNS, SMTP, XMPP, BitTorrent of a target, of
 * another subscriber, and a non-target sending mail to a watched address), gRPC over mutual
 * TLS with certificates made at test time, and an IngestHandler recording what it accepts.
 *
 * Tasks: 1 content (the target's address), 2 IRI-only reporting headers and summaries every
 * 5 s (the same address), 3 content (the e-mail address watched@example.org), 4 IRI-only
 * reporting summaries only (the same address). What arrives is exactly:
 * - each target packet twice, in capture order: whole for task 1, its IP and transport
 *   headers only for task 2; nothing for task 4; nothing of anyone else;
 * - each application event the capture's independent description lists for the target, as
 *   one IriEvent for task 1 (every field, the message) and one for tasks 2 and 4 (no content
 *   field, no content), with the flow's fields; the target's message naming the watched
 *   address goes to task 3 too; the non-target's message to the watched address goes to task
 *   3 alone, and nothing else of that subscriber;
 * - per flow of the target and summary task: a start, timer summaries (task 2's long XMPP
 *   flow), and an end (FIN) or REPORT_END (UDP flows open when the capture ends), adding up to
 *   the flow's packets and bytes, each with the first packet's headers.
 * Not one byte of content reaches tasks 2 and 4: every byte sent for them is checked.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Direction, Event, FlowSummary_Trigger, ReportMode, type Task, Task_Type } from '../../src/gen/lig/v1/ingest';
import { SYSTEM_PYTHON, requireScapy } from '../helpers/scapy';
import { REPO_ROOT } from '../helpers/shared';
import { RecordingHandler, agentHarness } from './probe-helpers';

const SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'app_capture.py');
const FROM = Direction.DIRECTION_FROM_TARGET;
const TO = Direction.DIRECTION_TO_TARGET;

interface Frame {
  timeUs: number;
  owner: 'target' | 'other' | 'sender';
  ip: string;
  headerLength: number;
  flow: [number, string, number, string, number];
  flags: number;
}

interface AppFact {
  timeUs: number;
  owner: 'target' | 'other' | 'sender';
  protocol: string;
  fields: Record<string, string>;
  contentFields: string[];
  content: string | null;
  watched: boolean;
}

interface Fixture {
  subscribers: Record<'target' | 'other' | 'sender', string>;
  watched: string;
  frames: Frame[];
  events: AppFact[];
}

const ip4 = (t: string) => Buffer.from(t.split('.').map(Number));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
type M = [number, Direction, string];
const matches = (ms: { taskId: bigint; direction: Direction; sessionKey: string }[]): M[] => ms.map((m) => [Number(m.taskId), m.direction, m.sessionKey]);

/** The canonical 5-tuple of a frame's flow. */
function flowKey(f: Frame['flow']): string {
  const [p, a, ap, b, bp] = f;
  return a < b || (a === b && ap <= bp) ? `${p} ${a}:${ap} ${b}:${bp}` : `${p} ${b}:${bp} ${a}:${ap}`;
}

/** The 5-tuple in an IPv4 header (+ TCP/UDP ports), as flowKey writes it. */
function headerKey(h: Buffer): string {
  const proto = h[9]!;
  const ihl = (h[0]! & 15) * 4;
  const a = Array.from(h.subarray(12, 16)).join('.');
  const b = Array.from(h.subarray(16, 20)).join('.');
  return flowKey([proto, a, h.readUInt16BE(ihl), b, h.readUInt16BE(ihl + 2)]);
}

describe('probe: application IRI, IRI-only reports and e-mail targets through the agent (gRPC/mTLS)', function () {
  let fx: Fixture;
  let pcap: string;
  before(function () {
    requireScapy(this);
  });
  const h = agentHarness('lig-probe-app-', () => (fx ? [fx.subscribers.target, fx.watched, fx.subscribers.sender, 'SECRET'] : []));
  const { logs } = h;

  before(() => {
    pcap = path.join(h.tmp, 'app.pcap');
    const json = path.join(h.tmp, 'app.json');
    const r = spawnSync(SYSTEM_PYTHON, [SCRIPT, pcap, json], { encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`app_capture.py failed (${r.status}): ${r.stderr}`);
    fx = JSON.parse(fs.readFileSync(json, 'utf8')) as Fixture;
  });

  it('sends exactly the expected packets, IriEvents and summaries, and no content byte for IRI-only tasks', async () => {
    const target = fx.subscribers.target;
    const ipTask = (id: number, type: Task_Type, more: Partial<Task> = {}): Task => ({
      taskId: BigInt(id),
      type,
      targets: [{ kind: { $case: 'ip', ip: { address: ip4(target), prefixLength: 32 } } }],
      ...more,
    });
    const tasks: Task[] = [
      ipTask(1, Task_Type.TYPE_CONTENT),
      ipTask(2, Task_Type.TYPE_IRI_ONLY, { reportMode: ReportMode.REPORT_MODE_BOTH, summaryIntervalSeconds: 5 }),
      { taskId: 3n, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'email', email: fx.watched } }] },
      ipTask(4, Task_Type.TYPE_IRI_ONLY, { reportMode: ReportMode.REPORT_MODE_SUMMARY }),
    ];
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', { version: 1n, tasks, sessions: [] });
    const s = await h.server(handler);
    const agent = await h.agent(s.port, { kind: 'pcap', file: pcap }, { spoolDir: path.join(h.tmp, 'spool'), servername: 'localhost', batch: { maxEvents: 16, maxDelay: 5 } });
    const end = await agent.done;
    assert.deepEqual(end, { reason: 'ended', drained: true, unackedBatches: 0n });
    const events: Event[] = handler.batches.flatMap((b) => b.batch.events);
    const st = agent.stats();
    assert.equal(st.eventsDropped, 0);
    assert.equal(st.eventsSubmitted, events.length);

    // Packets: each of the target's twice (whole for 1, headers for 2); none of anyone else; none for 4.
    const wantPackets = fx.frames
      .filter((f) => f.owner === 'target')
      .flatMap((f) => {
        const d = f.flow[1] === target ? FROM : TO;
        const ip = Buffer.from(f.ip, 'hex');
        const cut = f.headerLength < ip.length;
        return [
          { timeUs: f.timeUs, data: f.ip, originalLength: 0, matches: [[1, d, '']] },
          { timeUs: f.timeUs, data: hex(ip.subarray(0, f.headerLength)), originalLength: cut ? ip.length : 0, matches: [[2, d, '']] },
        ];
      });
    const gotPackets = events.flatMap((e) => (e.kind?.$case === 'packet' ? [{ timeUs: Number(e.timeUs), data: hex(e.kind.packet.data), originalLength: e.kind.packet.originalLength, matches: matches(e.kind.packet.matches) }] : []));
    assert.deepEqual(gotPackets, wantPackets);
    assert.ok(wantPackets.length > 100);

    // IriEvents: the description's, per kind of task.
    const wantIri: unknown[] = [];
    for (const e of fx.events) {
      if (e.owner === 'target') {
        wantIri.push({ timeUs: e.timeUs, protocol: e.protocol, matches: [[1, FROM, ''], ...(e.watched ? [[3, TO, '']] : [])], fields: e.fields, content: e.content ?? '' });
        const addressing = Object.fromEntries(Object.entries(e.fields).filter(([k]) => !e.contentFields.includes(k)));
        wantIri.push({ timeUs: e.timeUs, protocol: e.protocol, matches: [[2, FROM, ''], [4, FROM, '']], fields: addressing, content: '' });
      } else if (e.watched) {
        wantIri.push({ timeUs: e.timeUs, protocol: e.protocol, matches: [[3, TO, '']], fields: e.fields, content: e.content ?? '' });
      }
    }
    const gotIri = events.flatMap((e) => (e.kind?.$case === 'iri' ? [{ timeUs: Number(e.timeUs), protocol: e.kind.iri.protocol, matches: matches(e.kind.iri.matches), fields: e.kind.iri.fields, content: hex(e.kind.iri.content) }] : []));
    assert.deepEqual(gotIri, wantIri);
    assert.equal(new Set(fx.events.filter((e) => e.owner === 'target').map((e) => e.protocol)).size, 6, 'dns, http, tls, smtp, xmpp and bittorrent');
    assert.ok(fx.events.some((e) => e.owner === 'sender' && !e.watched), 'the sender\'s other message is in the capture');
    assert.equal(st.app.emailMatches, 2);

    // Summaries, per task and flow of the target.
    const flows = new Map<string, Frame[]>();
    for (const f of fx.frames.filter((x) => x.owner === 'target')) flows.set(flowKey(f.flow), [...(flows.get(flowKey(f.flow)) ?? []), f]);
    const summaries = events.flatMap((e) => (e.kind?.$case === 'flowSummary' ? [{ time: Number(e.timeUs), ...e.kind.flowSummary }] : []));
    let timers = 0;
    for (const task of [2, 4]) {
      const mine = summaries.filter((x) => Number(x.matches[0]!.taskId) === task);
      const byFlow = new Map<string, typeof mine>();
      for (const x of mine) byFlow.set(headerKey(Buffer.from(x.header)), [...(byFlow.get(headerKey(Buffer.from(x.header))) ?? []), x]);
      assert.deepEqual([...byFlow.keys()].sort(), [...flows.keys()].sort(), `task ${task}: one series of summaries per flow of the target`);
      for (const [key, frames] of flows) {
        const got = byFlow.get(key)!;
        const first = frames[0]!;
        const triggers = got.map((x) => x.trigger);
        const last = first.flow[0] === 6 ? FlowSummary_Trigger.TRIGGER_FLOW_END : FlowSummary_Trigger.TRIGGER_REPORT_END;
        assert.equal(triggers[0], FlowSummary_Trigger.TRIGGER_FLOW_START, key);
        assert.equal(triggers[triggers.length - 1], last, key);
        assert.ok(triggers.slice(1, -1).every((t) => t === FlowSummary_Trigger.TRIGGER_TIMER), key);
        timers += triggers.length - 2;
        if (task === 4) assert.equal(triggers.length, 2, `${key}: no timer at 60 s`);
        assert.equal(got.reduce((n, x) => n + Number(x.packets), 0), frames.length, key);
        assert.equal(got.reduce((n, x) => n + Number(x.bytes), 0), frames.reduce((n, f) => n + f.ip.length / 2, 0), key);
        assert.equal(Number(got[0]!.firstUs), first.timeUs);
        assert.equal(Number(got[got.length - 1]!.lastUs), frames[frames.length - 1]!.timeUs);
        for (const x of got) {
          assert.equal(hex(x.header), first.ip.slice(0, first.headerLength * 2), `${key}: the first packet's headers`);
          assert.deepEqual(matches(x.matches), [[task, FROM, '']]);
          if (Number(x.packets) > 0) assert.equal(x.time, Number(x.lastUs));
        }
      }
    }
    assert.ok(timers >= 2, 'task 2\'s 12-second XMPP flow has timer summaries');

    // Not one content byte for the IRI-only tasks; the content task does get content.
    let contentSeen = 0;
    for (const e of events) {
      const k = e.kind!;
      const ms = k.$case === 'packet' ? k.packet.matches : k.$case === 'iri' ? k.iri.matches : k.$case === 'flowSummary' ? k.flowSummary.matches : [];
      const bytes = Buffer.from(Event.encode(e).finish());
      if (ms.some((m) => m.taskId === 2n || m.taskId === 4n)) {
        assert.ok(!bytes.includes('SECRET'), `no content in ${k.$case} for an IRI-only task`);
        if (k.$case === 'iri') assert.equal(k.iri.content.length, 0);
      } else if (bytes.includes('SECRET')) contentSeen++;
    }
    assert.ok(contentSeen > 10, 'the content task got content');

    // Nothing of the other subscribers but the watched message; no target in the logs.
    for (const e of events) {
      if (e.kind?.$case === 'iri' && e.kind.iri.fields.client !== target) assert.deepEqual(matches(e.kind.iri.matches), [[3, TO, '']]);
    }
    const secrets = [target, fx.watched, fx.subscribers.sender, 'SECRET'];
    assert.deepEqual(logs.filter((l) => secrets.some((x) => l.includes(x))), []);
  });
});

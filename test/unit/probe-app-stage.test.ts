/**
 * The probe's application stage (src/probe/app-stage.ts) through the pipeline: frames laid out
 * here octet by octet (Ethernet, IPv4, TCP/UDP, and the protocols' own bytes as their RFCs
 * write them) go through PacketPipeline, and every event it would have the agent submit is
 * compared. A matched HTTP flow gives its IriEvents with the flow's fields and the right
 * directions; an unmatched flow gives nothing; IRI-only tasks get no content field, no content
 * and packet headers only, in events apart from the content tasks'; e-mail targets are found
 * in every subscriber's mail and get nothing else; summary-only tasks get no packets; a task
 * removed ends its summaries; events are cut to fit a batch.
 */
import { strict as assert } from 'node:assert';
import { stringify } from 'yaml';
import type { Frame } from '../../src/capture/frame';
import { ConfigErrors, parseProbeConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { LINKTYPE } from '../../src/capture/pcap-format';
import { Direction, type Event, FlowSummary_Trigger, type IriEvent, ReportMode, type Task, Task_Type } from '../../src/gen/lig/v1/ingest';
import { MAIL_CONTENT_FIELDS } from '../../src/probe/app/mail';
import { MAX_IRI_CONTENT_BYTES, MAX_IRI_EVENT_BYTES, emailKey } from '../../src/probe/app-stage';
import { formatAgentStatus } from '../../src/probe/agent-status';
import { PacketPipeline, type PipelineOptions } from '../../src/probe/pipeline';
import { MAX_EVENT_BYTES } from '../../src/probe/spool';
import { Event as EventCodec } from '../../src/gen/lig/v1/ingest';

const T0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z, µs
const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

const ip4 = (t: string) => Buffer.from(t.split('.').map(Number));
const crlf = (...lines: string[]) => lines.map((l) => `${l}\r\n`).join('');

/** IPv4 header (20 octets, no options, checksum left 0: lig does not check it) + transport. */
function ipv4(src: string, dst: string, protocol: number, l4: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h[8] = 64;
  h[9] = protocol;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  return Buffer.concat([h, l4]);
}

function ethernet(ip: Buffer): Buffer {
  return Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), Buffer.from([0x08, 0x00]), ip]);
}

let clock = T0;
function frame(ip: Buffer, at?: number): Frame {
  const t = at ?? (clock += 1000);
  return { ts: { seconds: Math.floor(t / 1e6), micros: t % 1e6 }, linktype: LINKTYPE.ETHERNET, data: ethernet(ip), origLen: ip.length + 14 };
}

function udp(src: string, dst: string, sport: number, dport: number, payload: Buffer | string): Buffer {
  const p = Buffer.from(payload as string, 'latin1');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + p.length, 4);
  return ipv4(src, dst, 17, Buffer.concat([h, p]));
}

/** A TCP connection between a client and a server, sequence numbers kept per side. */
class Conn {
  private seq = { c: 1000, s: 70000 };
  constructor(
    readonly client: string,
    readonly cport: number,
    readonly server: string,
    readonly sport: number,
  ) {}

  segment(fromClient: boolean, flags: number, payload: Buffer | string = ''): Buffer {
    const p = Buffer.from(payload as string, 'latin1');
    const k = fromClient ? 'c' : 's';
    const h = Buffer.alloc(20);
    h.writeUInt16BE(fromClient ? this.cport : this.sport, 0);
    h.writeUInt16BE(fromClient ? this.sport : this.cport, 2);
    h.writeUInt32BE(this.seq[k] >>> 0, 4);
    h[12] = 0x50;
    h[13] = flags;
    h.writeUInt16BE(65535, 14);
    this.seq[k] = (this.seq[k] + p.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    return fromClient ? ipv4(this.client, this.server, 6, Buffer.concat([h, p])) : ipv4(this.server, this.client, 6, Buffer.concat([h, p]));
  }

  open(): Buffer[] {
    return [this.segment(true, SYN), this.segment(false, SYN | ACK), this.segment(true, ACK)];
  }

  close(): Buffer[] {
    return [this.segment(true, FIN | ACK), this.segment(false, FIN | ACK), this.segment(true, ACK)];
  }

  /** A conversation: each turn one segment from its side. */
  talk(turns: [boolean, string][]): Buffer[] {
    return turns.map(([fromClient, data]) => this.segment(fromClient, PSH | ACK, data));
  }
}

/** Everything the agent would submit for `ips`, in order. */
function run(p: PacketPipeline, ips: Buffer[], end = false): Event[] {
  const out: Event[] = [];
  for (const ip of ips) {
    const e = p.process(frame(ip));
    out.push(...p.takeIdentityEvents());
    if (e) out.push(e);
    out.push(...p.takeAppEvents());
  }
  if (end) {
    p.endFlows();
    out.push(...p.takeAppEvents());
  }
  return out;
}

const TARGET = '10.0.0.5';
const OTHER = '10.0.0.9';
const WEB = '198.51.100.80';
const MAIL = '198.51.100.25';

function task(id: number, type: Task_Type, targets: Task['targets'], more: Partial<Task> = {}): Task {
  return { taskId: BigInt(id), type, targets, ...more };
}
const ipTarget = (a: string) => ({ kind: { $case: 'ip' as const, ip: { address: ip4(a), prefixLength: 32 } } });
const emailTarget = (a: string) => ({ kind: { $case: 'email' as const, email: a } });

const iris = (events: Event[]): IriEvent[] => events.flatMap((e) => (e.kind?.$case === 'iri' ? [e.kind.iri] : []));
const packets = (events: Event[]) => events.flatMap((e) => (e.kind?.$case === 'packet' ? [e.kind.packet] : []));
const summaries = (events: Event[]) => events.flatMap((e) => (e.kind?.$case === 'flowSummary' ? [{ time: e.timeUs, ...e.kind.flowSummary }] : []));
const matchesOf = (i: { matches: { taskId: bigint; direction: Direction; sessionKey: string }[] }) => i.matches.map((m) => [Number(m.taskId), m.direction, m.sessionKey]);

const HTTP_REQUEST = crlf('GET /search?q=secret HTTP/1.1', 'Host: www.example.com', 'User-Agent: test/1.0', '');
const HTTP_RESPONSE = crlf('HTTP/1.1 200 OK', 'Content-Length: 5', '') + 'hello';

function web(client = TARGET, cport = 40000): Buffer[] {
  const c = new Conn(client, cport, WEB, 80);
  return [...c.open(), ...c.talk([[true, HTTP_REQUEST], [false, HTTP_RESPONSE]]), ...c.close()];
}

const MESSAGE = crlf('Message-ID: <m1@example.net>', 'Subject: Secret plans', 'From: someone@example.net', 'To: watched@example.org', '', 'The body.', '.');

/** An SMTP submission of one message per envelope, each answered 250. */
function smtp(client: string, envelopes: { from: string; to: string[] }[], cport = 41000): Buffer[] {
  const c = new Conn(client, cport, MAIL, 587);
  const turns: [boolean, string][] = [
    [false, crlf('220 mail.example.org ESMTP')],
    [true, crlf('EHLO pc.example.net')],
    [false, crlf('250 mail.example.org')],
  ];
  for (const e of envelopes) {
    turns.push([true, crlf(`MAIL FROM:<${e.from}>`)], [false, crlf('250 OK')]);
    for (const r of e.to) turns.push([true, crlf(`RCPT TO:<${r}>`)], [false, crlf('250 OK')]);
    turns.push([true, crlf('DATA')], [false, crlf('354 go ahead')], [true, MESSAGE], [false, crlf('250 queued')]);
  }
  turns.push([true, crlf('QUIT')], [false, crlf('221 bye')]);
  return [...c.open(), ...c.talk(turns), ...c.close()];
}

function pipeline(tasks: Task[], opts: PipelineOptions = {}): PacketPipeline {
  return new PacketPipeline(tasks, opts);
}

describe('probe application stage', () => {
  it('a matched HTTP flow gives its request and response IriEvents, with the flow fields and the flow-relative direction', () => {
    const p = pipeline([task(1, Task_Type.TYPE_CONTENT, [ipTarget(TARGET)])]);
    const events = run(p, web());
    const flow = { client: TARGET, clientPort: '40000', server: WEB, serverPort: '80', transport: 'tcp' };
    assert.deepEqual(
      iris(events).map((i) => ({ protocol: i.protocol, matches: matchesOf(i), fields: i.fields, content: i.content.length })),
      [
        {
          protocol: 'http',
          matches: [[1, Direction.DIRECTION_FROM_TARGET, '']],
          fields: { kind: 'request', method: 'GET', host: 'www.example.com', path: '/search?q=secret', userAgent: 'test/1.0', ...flow },
          content: 0,
        },
        { protocol: 'http', matches: [[1, Direction.DIRECTION_FROM_TARGET, '']], fields: { kind: 'response', status: '200', method: 'GET', host: 'www.example.com', ...flow }, content: 0 },
      ],
    );
    // Each IriEvent follows the packet event of the packet that completed it.
    const kinds = events.map((e) => e.kind?.$case);
    assert.deepEqual(kinds, ['packet', 'packet', 'packet', 'packet', 'iri', 'packet', 'iri', 'packet', 'packet', 'packet']);
    assert.equal(events[4]!.timeUs, events[3]!.timeUs);
    assert.equal(p.counters().app.flows.protocols.http!.events, 2);
  });

  it('the server as the target: TO_TARGET', () => {
    const p = pipeline([task(4, Task_Type.TYPE_CONTENT, [ipTarget(WEB)])]);
    assert.deepEqual(iris(run(p, web())).map(matchesOf), [[[4, Direction.DIRECTION_TO_TARGET, '']], [[4, Direction.DIRECTION_TO_TARGET, '']]]);
  });

  it('an unmatched flow gives nothing and is not read', () => {
    const p = pipeline([task(1, Task_Type.TYPE_CONTENT, [ipTarget(TARGET)])]);
    assert.deepEqual(run(p, [...web(OTHER), ...smtp(OTHER, [{ from: 'a@example.net', to: ['b@example.org'] }])], true), []);
    const c = p.counters().app;
    assert.equal(c.flows.packets, 0);
    assert.equal(c.mail.packets, 0);
    assert.equal(c.iriEvents, 0);
  });

  it('IRI-only: headers only in a packet event of their own, no content fields and no content in their IriEvents', () => {
    const p = pipeline([task(1, Task_Type.TYPE_CONTENT, [ipTarget(TARGET)]), task(2, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_HEADERS })]);
    const ips = [...web(), ...smtp(TARGET, [{ from: 'me@example.net', to: ['you@example.org'] }])];
    const events = run(p, ips, true);
    const pk = packets(events);
    assert.equal(pk.length, ips.length * 2);
    for (let i = 0; i < ips.length; i++) {
      const [full, head] = [pk[2 * i]!, pk[2 * i + 1]!];
      assert.deepEqual(matchesOf(full).map((m) => m[0]), [1]);
      assert.deepEqual(matchesOf(head).map((m) => m[0]), [2]);
      assert.deepEqual(Buffer.from(full.data), ips[i]);
      assert.deepEqual(Buffer.from(head.data), ips[i]!.subarray(0, 40), 'the IPv4 and TCP headers, not one payload octet');
      assert.equal(head.originalLength, ips[i]!.length > 40 ? ips[i]!.length : 0);
    }
    const all = iris(events);
    const byTask = (id: number) => all.filter((i) => i.matches.every((m) => Number(m.taskId) === id));
    assert.equal(byTask(1).length + byTask(2).length, all.length, 'one IriEvent per kind of task');
    const http2 = byTask(2).filter((i) => i.protocol === 'http');
    assert.deepEqual(http2.map((i) => Object.keys(i.fields).sort()), [
      ['client', 'clientPort', 'host', 'kind', 'method', 'server', 'serverPort', 'transport'],
      ['client', 'clientPort', 'host', 'kind', 'method', 'server', 'serverPort', 'status', 'transport'],
    ]);
    const mail1 = byTask(1).find((i) => i.protocol === 'smtp')!;
    const mail2 = byTask(2).find((i) => i.protocol === 'smtp')!;
    assert.equal(mail1.fields.subject, 'Secret plans');
    assert.ok(mail1.content.length > 0);
    assert.deepEqual(matchesOf(mail1), [[1, Direction.DIRECTION_FROM_TARGET, '']], 'a submission by the target');
    for (const k of [...MAIL_CONTENT_FIELDS, 'contentTruncated']) assert.ok(!(k in mail2.fields), k);
    assert.equal(mail2.content.length, 0);
    assert.equal(mail2.fields.sender, 'me@example.net');
    assert.equal(p.counters().app.headerPackets, ips.length);
  });

  it('summary-only tasks get no packet event; headers mode and both do', () => {
    const p = pipeline([
      task(5, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_SUMMARY }),
      task(6, Task_Type.TYPE_IRI_ONLY, [ipTarget(OTHER)], { reportMode: ReportMode.REPORT_MODE_BOTH }),
    ]);
    const mine = web();
    const events = run(p, [...mine, ...web(OTHER, 40001)], true);
    assert.ok(packets(events).every((k) => k.matches.length === 1 && k.matches[0]!.taskId === 6n));
    assert.equal(packets(events).length, mine.length);
    assert.equal(p.counters().app.withheldPackets, mine.length);
    const s5 = summaries(events).filter((s) => s.matches[0]!.taskId === 5n);
    assert.deepEqual(s5.map((s) => s.trigger), [FlowSummary_Trigger.TRIGGER_FLOW_START, FlowSummary_Trigger.TRIGGER_FLOW_END]);
    assert.equal(s5.reduce((n, s) => n + Number(s.packets), 0), mine.length);
    assert.equal(s5.reduce((n, s) => n + Number(s.bytes), 0), mine.reduce((n, b) => n + b.length, 0));
    assert.deepEqual(Buffer.from(s5[0]!.header), mine[0]!.subarray(0, 40));
    assert.equal(iris(events).filter((i) => i.matches[0]!.taskId === 5n).length, 2, 'application IRI all the same');
  });

  it('a task that no longer reports summaries ends its flows with REPORT_END, before the next frame', () => {
    const t = task(5, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_SUMMARY, summaryIntervalSeconds: 30 });
    const p = pipeline([t]);
    const c = new Conn(TARGET, 40500, WEB, 443);
    const first = run(p, c.open());
    assert.deepEqual(summaries(first).map((s) => [s.trigger, Number(s.packets)]), [[FlowSummary_Trigger.TRIGGER_FLOW_START, 1]]);
    p.applyTaskList({ version: 2n, tasks: [task(7, Task_Type.TYPE_CONTENT, [ipTarget(OTHER)])], sessions: [] });
    const ended = summaries([...p.takeIdentityEvents()]);
    assert.deepEqual(ended.map((s) => [s.trigger, Number(s.packets), Number(s.matches[0]!.taskId)]), [[FlowSummary_Trigger.TRIGGER_REPORT_END, 2, 5]]);
    assert.equal(ended[0]!.time, ended[0]!.lastUs, 'at the last packet it counts');
    assert.deepEqual(run(p, c.close()), []);
  });

  it('a quiet link: advancing the clock without a frame makes the timer summary due, dated at its last packet', () => {
    const t = task(5, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_SUMMARY, summaryIntervalSeconds: 30 });
    const p = pipeline([t]);
    const c = new Conn(TARGET, 40600, WEB, 443);
    const first = run(p, c.open());
    assert.deepEqual(summaries(first).map((s) => [s.trigger, Number(s.packets)]), [[FlowSummary_Trigger.TRIGGER_FLOW_START, 1]]);
    const last = clock;
    p.advanceTo(last + 29_000_000);
    assert.deepEqual(summaries([...p.takeIdentityEvents()]), [], 'not yet due');
    p.advanceTo(last + 31_000_000);
    const due = summaries([...p.takeIdentityEvents()]);
    assert.deepEqual(due.map((s) => [s.trigger, Number(s.packets)]), [[FlowSummary_Trigger.TRIGGER_TIMER, 2]]);
    assert.equal(Number(due[0]!.time), last, 'dated at the last packet it counts');
    p.advanceTo(last);
    assert.equal(p.identityEventsPending, 0, 'time never moves back');
  });

  it('an e-mail target: the messages to or from the address, whoever sends them, and nothing else of that subscriber', () => {
    const p = pipeline([task(1, Task_Type.TYPE_CONTENT, [ipTarget(TARGET)]), task(3, Task_Type.TYPE_CONTENT, [emailTarget('watched@EXAMPLE.org')])]);
    const mail = smtp(OTHER, [
      { from: 'other@example.net', to: ['friend@example.com', 'watched@example.ORG'] },
      { from: 'other@example.net', to: ['friend@example.com'] },
      { from: 'WATCHED@example.org', to: ['friend@example.com'] },
      { from: 'watched@example.org', to: ['friend@example.com'] },
    ]);
    const events = run(p, [...web(OTHER), ...mail], true);
    assert.equal(packets(events).length, 0, 'no packet of the sender');
    const got = iris(events);
    assert.deepEqual(
      got.map((i) => [i.protocol, matchesOf(i), i.fields.sender, i.fields.recipients]),
      [
        ['smtp', [[3, Direction.DIRECTION_TO_TARGET, '']], 'other@example.net', 'friend@example.com,watched@example.ORG'],
        ['smtp', [[3, Direction.DIRECTION_FROM_TARGET, '']], 'watched@example.org', 'friend@example.com'],
      ],
      'the local part compares exactly: WATCHED@ is another mailbox',
    );
    assert.equal(Buffer.from(got[0]!.content).toString('latin1'), MESSAGE.slice(0, -3));
    assert.equal(got[0]!.fields.client, OTHER);
    assert.equal(p.counters().app.emailMatches, 2);
    // Case-insensitive local parts when told.
    const q = pipeline([task(3, Task_Type.TYPE_IRI_ONLY, [emailTarget('watched@example.org')])], { applications: { emailLocalPart: 'insensitive' } });
    const got2 = iris(run(q, mail, true));
    assert.deepEqual(got2.map((i) => i.fields.sender), ['other@example.net', 'WATCHED@example.org', 'watched@example.org']);
    assert.ok(got2.every((i) => i.content.length === 0 && !('subject' in i.fields)), 'an IRI-only e-mail task');
  });

  it('the status line counts what the stage did, with no address, no task and no content', () => {
    const p = pipeline([
      task(1, Task_Type.TYPE_CONTENT, [emailTarget('watched@example.org')]),
      task(2, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_BOTH }),
    ]);
    run(p, [...web(), ...smtp(OTHER, [{ from: 'other@example.net', to: ['watched@example.org'] }])], true);
    const line = formatAgentStatus({
      ...p.counters(),
      state: 'capturing',
      sourceKind: 'pcap',
      source: undefined,
      ccc: undefined,
      eventsSubmitted: 0,
      eventsDropped: 0,
      dropped: { spoolFull: 0, oversize: 0, invalid: 0, spoolFailed: 0, closed: 0 },
      batchesAcked: 0n,
      unackedBatches: 0n,
      connected: true,
      tasks: 2,
      taskListVersion: 1n,
    });
    const app = line.slice(line.indexOf('applications: '));
    const mailPackets = smtp(OTHER, [{ from: 'x@y.z', to: ['watched@example.org'] }]).length;
    assert.equal(
      app,
      `applications: 3 IRI events (1 by e-mail target, 2 IRI-only), 0 flows open, ${mailPackets} mail packets read for e-mail targets, ${web().length} header-only packets, 2 flow summaries (0 flows summarised)`,
    );
    for (const secret of ['10.0.0', '198.51', 'watched', 'example', 'search', 'Secret']) assert.ok(!line.includes(secret), secret);
  });

  it('when the last e-mail target goes, mail of others is no longer read and what it held goes to no one', () => {
    const p = pipeline([task(3, Task_Type.TYPE_CONTENT, [emailTarget('watched@example.org')])]);
    const mail = smtp(OTHER, [{ from: 'other@example.net', to: ['watched@example.org'] }]);
    const cut = mail.length - 6; // before the server's 250 for the message
    assert.deepEqual(run(p, mail.slice(0, cut)), []);
    assert.equal(p.counters().app.mail.flows, 1);
    p.applyTaskList({ version: 2n, tasks: [task(3, Task_Type.TYPE_CONTENT, [ipTarget('192.0.2.99')])], sessions: [] });
    assert.deepEqual(p.takeIdentityEvents(), []);
    assert.deepEqual(run(p, mail.slice(cut), true), []);
    assert.equal(p.counters().app.mail.flows, 0);
    assert.equal(p.counters().app.mail.packets, cut);
  });

  it('a task both by address and by e-mail gets one IriEvent per message', () => {
    const p = pipeline([task(8, Task_Type.TYPE_CONTENT, [ipTarget(TARGET), emailTarget('friend@example.com')])]);
    const got = iris(run(p, smtp(TARGET, [{ from: 'me@example.net', to: ['friend@example.com'] }]), true));
    assert.deepEqual(got.map(matchesOf), [[[8, Direction.DIRECTION_FROM_TARGET, '']]]);
  });

  it('e-mail addresses: the domain case-insensitive, angle brackets and a final dot dropped; not an address refused', () => {
    assert.equal(emailKey(' <Alice.B@Mail.Example.ORG.> ', 'exact'), 'Alice.B@mail.example.org');
    assert.equal(emailKey('Alice@x.org', 'insensitive'), 'alice@x.org');
    assert.equal(emailKey('a"@"b@x.org', 'exact'), 'a"@"b@x.org');
    for (const bad of ['', 'alice', '@x.org', 'alice@']) assert.equal(emailKey(bad, 'exact'), undefined, bad);
    const p = pipeline([task(3, Task_Type.TYPE_CONTENT, [emailTarget('nobody'), emailTarget('a@b.c')])]);
    assert.equal(p.emailTargetsRefused, 1);
  });

  it('a long message, a long envelope: the IriEvent is cut to fit a batch, and says so', () => {
    const p = pipeline([task(1, Task_Type.TYPE_CONTENT, [ipTarget(TARGET)])]);
    const c = new Conn(TARGET, 42000, MAIL, 25);
    const line = `${'x'.repeat(998)}\r\n`;
    const turns: [boolean, string][] = [
      [false, crlf('220 mail')],
      [true, crlf('HELO pc', 'MAIL FROM:<me@example.net>', 'RCPT TO:<you@example.org>', 'DATA')],
      [false, crlf('250 hi', '250 OK', '250 OK', '354 go')],
    ];
    for (let i = 0; i < 100; i++) turns.push([true, line]);
    turns.push([true, crlf('.')], [false, crlf('250 queued')]);
    // The next message has 200 recipients of 80 characters: its fields leave the content less room.
    const many = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(70, 'r')}@example.org`);
    turns.push([true, crlf('MAIL FROM:<me@example.net>', ...many.map((r) => `RCPT TO:<${r}>`), 'DATA')], [false, crlf('250 OK', ...many.map(() => '250 OK'), '354 go')]);
    for (let i = 0; i < 100; i++) turns.push([true, line]);
    turns.push([true, crlf('.')], [false, crlf('250 queued')]);
    const got = iris(run(p, [...c.open(), ...c.talk(turns)], true));
    assert.equal(got.length, 2);
    assert.equal(got[0]!.content.length, MAX_IRI_CONTENT_BYTES, 'what the analyser kept');
    assert.equal(got[0]!.fields.contentTruncated, 'true');
    assert.equal(got[0]!.fields.size, String(100 * line.length));
    assert.ok(got[1]!.content.length < MAX_IRI_CONTENT_BYTES && got[1]!.content.length > 30_000);
    assert.equal(got[1]!.fields.contentTruncated, 'true');
    assert.equal(got[1]!.fields.recipientCount, '200');
    assert.ok(got[1]!.fields.recipients!.length < many.join(',').length);
    assert.ok(MAX_IRI_EVENT_BYTES <= MAX_EVENT_BYTES);
    for (const i of got) assert.ok(EventCodec.encode({ timeUs: BigInt(T0), kind: { $case: 'iri', iri: i } }).finish().length <= MAX_IRI_EVENT_BYTES);
    assert.equal(p.counters().app.fieldsCut, 1);
    assert.equal(p.counters().app.contentCut, 1);
  });

  it('UDP: a DNS exchange of the target; a removed task gets nothing more of a flow', () => {
    const p = pipeline([task(2, Task_Type.TYPE_IRI_ONLY, [ipTarget(TARGET)], { reportMode: ReportMode.REPORT_MODE_HEADERS })]);
    const query = Buffer.concat([Buffer.from('abcd01000001000000000000', 'hex'), Buffer.from('\x03www\x07example\x03com\x00', 'latin1'), Buffer.from('00010001', 'hex')]);
    const answer = Buffer.concat([
      Buffer.from('abcd81800001000100000000', 'hex'),
      Buffer.from('\x03www\x07example\x03com\x00', 'latin1'),
      Buffer.from('00010001', 'hex'),
      Buffer.from('c00c000100010000012c0004c0000201', 'hex'),
    ]);
    const got = iris(run(p, [udp(TARGET, '192.0.2.53', 53000, 53, query), udp('192.0.2.53', TARGET, 53, 53000, answer)]));
    assert.deepEqual(
      got.map((i) => [matchesOf(i), i.fields.kind, i.fields.qname, i.fields.answers, i.fields.transport, i.fields.server]),
      [
        [[[2, Direction.DIRECTION_FROM_TARGET, '']], 'query', 'www.example.com', undefined, 'udp', '192.0.2.53'],
        [[[2, Direction.DIRECTION_FROM_TARGET, '']], 'response', 'www.example.com', 'www.example.com A 192.0.2.1', 'udp', '192.0.2.53'],
      ],
    );
    // The flow's tasks are those of its latest packet, still in the list: none once task 2 is gone.
    p.applyTaskList({ version: 2n, tasks: [task(9, Task_Type.TYPE_CONTENT, [ipTarget(OTHER)])], sessions: [] });
    assert.deepEqual(run(p, [udp(TARGET, '192.0.2.53', 53000, 53, query)], true), []);
  });

  it('options out of range are refused with a typed error', () => {
    for (const bad of [{ maxFlows: 0 }, { mailFlows: 1.5 }, { summaryFlows: -1 }, { emailLocalPart: 'lower' as never }, { protocols: ['gopher'] }]) {
      assert.throws(() => pipeline([], { applications: bad }), (e: unknown) => e instanceof ConfigError && e.code === 'LIG_ERR_CONFIG' && e.path.startsWith('applications.'), JSON.stringify(bad));
    }
  });

  it('the config\'s applications section: defaults, values, and one precise message per wrong field', () => {
    const base = { name: 'probe-1', mediator: { address: 'm.example:50051', tls: { ca: 'ca.pem', cert: 'p.pem', key: 'p.key' } }, source: 'pcap:t.pcap' };
    assert.equal(parseProbeConfig(stringify(base)).applications, undefined);
    assert.deepEqual(parseProbeConfig(stringify({ ...base, applications: {} })).applications, {
      protocols: ['http', 'tls', 'smtp', 'pop3', 'imap', 'xmpp', 'bittorrent', 'dns'],
      maxFlows: 16384,
      mailFlows: 1024,
      summaryFlows: 16384,
      emailLocalPart: 'exact',
    });
    const c = parseProbeConfig(stringify({ ...base, applications: { protocols: ['dns', 'smtp'], mailFlows: 10, emailLocalPart: 'insensitive' } }));
    assert.deepEqual([c.applications?.protocols, c.applications?.mailFlows, c.applications?.emailLocalPart], [['dns', 'smtp'], 10, 'insensitive']);
    assert.throws(
      () => parseProbeConfig(stringify({ ...base, applications: { protocols: ['htp', 'dns', 'dns'], maxFlow: 5, summaryFlows: 0, emailLocalPart: 'lower' } })),
      (e: unknown) => {
        assert.ok(e instanceof ConfigErrors);
        const text = e.errors.map((x) => `${x.path}: ${x.message}`).join('\n');
        for (const want of [/protocols\[0\].*did you mean "http"/, /protocols\[2\].*repeats/, /maxFlow\b.*maxFlows/, /summaryFlows.*at least 1|summaryFlows.*from 1/, /emailLocalPart.*"exact" or "insensitive"/]) assert.match(text, want);
        return true;
      },
    );
  });
});

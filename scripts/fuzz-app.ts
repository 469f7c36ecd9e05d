/**
 * Time-boxed mutation fuzzer for the probe's application analysers (src/probe/app), which
 * read untrusted bytes off the network (not part of `npm test`):
 *
 *   npx tsx scripts/fuzz-app.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE] [--only NAME]
 *
 * NAME is one analyser (http, tls, smtp, pop3, imap, xmpp, bittorrent, dns-tcp), or
 * datagrams, reassembly, flows. Inputs are valid sessions, mutated (bit flips, protocol
 * octets, cuts, repeated and deleted slices, splices). The checks:
 * 1. a stream analyser never throws; fed whole turns or the same bytes split at points drawn
 *    from the input, it reports exactly the same events; events are flat strings, their
 *    contentFields name their own keys, only mail events carry content, counters stay sane;
 * 2. the datagram analysers (DNS, BitTorrent UDP) and the DNS decoder never throw;
 * 3. reassembly of segments drawn from the input hands on, at every position it delivers,
 *    the first copy that arrived of that position; never holds more than its wait limits; and
 *    keeps the budget equal to what it holds;
 * 4. the flow table never throws, never holds more flows than allowed or more out-of-order
 *    bytes than its budget (plus one segment), and releases everything on endAll;
 * 5. pipeline: IPv4 frames drawn from the input go through the probe's PacketPipeline (a
 *    content task and an IRI-only task on one address, an e-mail target): it never throws;
 *    every event fits a batch; IRI-only tasks get packet headers only (headerLength of the
 *    packet), no content and no content field; summaries carry headers only; nothing of the
 *    other subscribers but mail events for the e-mail task; the flows stay within bounds.
 * An input is a session: records of <side: 1 octet, low bit><length: 1 octet><bytes>.
 */
import { headerLength } from '../src/capture/packet-headers';
import { LINKTYPE } from '../src/capture/pcap-format';
import { Event, ReportMode, type Task, Task_Type } from '../src/gen/lig/v1/ingest';
import { MAX_IRI_EVENT_BYTES } from '../src/probe/app-stage';
import { parseDnsMessage } from '../src/probe/app/dns-message';
import { PacketPipeline } from '../src/probe/pipeline';
import { FlowTable } from '../src/probe/app/flow-table';
import { APP_CONTENT_FIELDS, APP_FIELDS, DATAGRAM_ANALYSERS, STREAM_ANALYSERS, type StreamSpec } from '../src/probe/app/index';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpReassembler, newReassemblyCounters } from '../src/probe/app/tcp-reassembly';
import { newCounters } from '../src/probe/app/text';
import type { AppCounters, AppEvent, FlowSide } from '../src/probe/app/types';
import { clientHello, crlf, records } from '../test/helpers/app-feed';
import { type FuzzScript, type Fuzzer, Tally, appendInput, deleteOctets, flipBits, fuzzMain, insertOctets, mutate, repeatSlice, setOctet, spliceTail, truncate } from './fuzz-driver';

type Turn = [FlowSide, Uint8Array];

/** Encodes turns as an input (long turns become several records). */
function encode(turns: [FlowSide, string | Uint8Array][]): Uint8Array {
  const out: number[] = [];
  for (const [side, d] of turns) {
    const b = typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
    for (let o = 0; o < b.length; o += 255) {
      const part = b.subarray(o, o + 255);
      out.push(side === 'client' ? 0 : 1, part.length, ...part);
    }
  }
  return Uint8Array.from(out);
}

/** Decodes an input leniently: whatever its bytes, a list of turns. */
function decode(input: Uint8Array): Turn[] {
  const turns: Turn[] = [];
  for (let o = 0; o < input.length; ) {
    const side: FlowSide = (input[o]! & 1) === 0 ? 'client' : 'server';
    const n = input[o + 1] ?? 0;
    turns.push([side, input.subarray(o + 2, o + 2 + n)]);
    o += 2 + n;
  }
  return turns;
}

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const XNS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const HS = (id: string) => `\x13BitTorrent protocol${'\0'.repeat(8)}${'H'.repeat(20)}${id}`;

/** Valid sessions per stream analyser. */
const SESSIONS: Record<string, [FlowSide, string | Uint8Array][][]> = {
  http: [
    [
      ['client', crlf('GET /a?b=1 HTTP/1.1', 'Host: x.example', 'User-Agent: u', '') + crlf('POST /p HTTP/1.1', 'Content-Length: 3', '') + 'abc'],
      ['server', crlf('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', '3', 'abc', '0', '', 'HTTP/1.1 100 Continue', '', 'HTTP/1.1 204 No Content', '')],
      ['client', crlf('GET /announce?info_hash=%12%34%56%78%9a%bc%de%f1%23%45%67%89%ab%cd%ef%12%34%56%78%9a&port=1 HTTP/1.1', '')],
      ['client', crlf('CONNECT h:443 HTTP/1.1', '')],
      ['server', crlf('HTTP/1.1 200 ok', '')],
    ],
  ],
  tls: [[['client', records(clientHello({ sni: 'a.example', alpn: ['h2'], versions: [0x0304], ech: true }), 90)], ['server', '\x16\x03\x03\x00\x01\x02']]],
  smtp: [
    [
      ['server', crlf('220 mx')],
      ['client', crlf('EHLO c', `AUTH PLAIN ${b64('\0u\0p')}`)],
      ['server', crlf('250-mx', '250 PIPELINING', '235 ok')],
      ['client', crlf('MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA')],
      ['server', crlf('250 ok', '250 ok', '354 go')],
      ['client', crlf('Message-ID: <1@b>', 'Subject: s', '', '..x', '.', 'MAIL FROM:<>', 'RCPT TO:<e@f>', 'BDAT 4 LAST') + 'abcd'],
      ['server', crlf('250 ok', '250 ok', '250 ok', '250 ok')],
      ['client', crlf('STARTTLS')],
      ['server', crlf('220 go')],
    ],
  ],
  pop3: [
    [
      ['server', crlf('+OK hi')],
      ['client', crlf('USER u', 'PASS p', 'RETR 1', 'TOP 1 0', 'LIST', 'STLS')],
      ['server', crlf('+OK', '+OK', '+OK 20 octets', 'Subject: x', '', '..y', '.', '+OK', 'From: a@b', '.', '+OK', '1 20', '.', '+OK')],
    ],
  ],
  imap: [
    [
      ['server', crlf('* OK hi')],
      ['client', crlf('a LOGIN {1}') + 'u' + crlf(' {1+}', 'p', 'b FETCH 1 BODY[]', 'c AUTHENTICATE PLAIN', b64('\0v\0w'), 'd STARTTLS')],
      ['server', crlf('+ go', 'a OK', '* 1 FETCH (UID 5 BODY[] {12}') + 'Subject: x\r\n' + crlf(' BODY[HEADER] {0}', ')', 'b OK', '+ ', 'c NO', 'd OK')],
    ],
  ],
  xmpp: [
    [
      ['client', `<?xml version='1.0'?><stream:stream to='e.example' ${XNS}><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${b64('\0j\0p')}</auth>`],
      ['server', `<stream:stream from='e.example' ${XNS}><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><iq type='result'><bind><jid>j@e.example/r</jid></bind></iq>`],
      ['client', "<message to='r@e.example' type='chat'><body>hi &amp; bye</body></message><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
      ['server', "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
    ],
  ],
  bittorrent: [[['client', HS('-qB4250-abcdefghijkl')], ['server', HS('-TR3000-abcdefghijkl') + '\0\0\0\x01\x02']]],
  'dns-tcp': [[['client', Uint8Array.from([0, 17, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1])], ['server', Uint8Array.from([0, 12, 0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0])]]],
};

const TEXT_OCTETS = [0x0d, 0x0a, 0x20, 0x2e, 0x3a, 0x7b, 0x7d, 0x3c, 0x3e, 0x2f, 0x27, 0x22, 0x26, 0x3b, 0x30, 0x39, 0x2b, 0x2d, 0x2a, 0x00, 0xff, 0x16, 0x03, 0x13];
const MUTATIONS = [flipBits(2), setOctet(TEXT_OCTETS, 0.3), insertOctets(8, TEXT_OCTETS, 0.2), truncate, repeatSlice(64), deleteOctets(16), spliceTail, appendInput];

const plain = (es: AppEvent[]) => JSON.stringify(es.map((e) => ({ ...e, timeUs: String(e.timeUs), content: e.content ? Buffer.from(e.content).toString('hex') : undefined })));

function sane(c: AppCounters): boolean {
  return [c.events, c.malformed, c.truncated].every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** Feeds turns to a fresh analyser, each turn in pieces whose lengths `cut` chooses. */
function run(spec: StreamSpec, turns: Turn[], cut: (n: number, k: number) => number): { events: AppEvent[]; counters: AppCounters } {
  const counters = newCounters();
  const a = spec.create(counters, { maxContentBytes: 4096 });
  const events: AppEvent[] = [];
  turns.forEach(([side, b], i) => {
    for (let o = 0, k = 0; o < b.length; k++) {
      const n = Math.max(1, Math.min(b.length - o, cut(b.length - o, k)));
      events.push(...a.onData(side, Uint8Array.from(b.subarray(o, o + n)), BigInt(i)));
      o += n;
    }
  });
  events.push(...a.onEnd(BigInt(turns.length)));
  return { events, counters };
}

/** What the inputs led to, per fuzzer: shown after a clean run, so a run that reached nothing shows. */
const tallies = new Map<string, Tally>();
const tally = (name: string): Tally => tallies.get(name) ?? (tallies.set(name, new Tally()), tallies.get(name)!);

function checkStream(spec: StreamSpec, input: Uint8Array): string | undefined {
  const turns = decode(input);
  const whole = run(spec, turns, (n) => n);
  const t = tally(spec.protocol);
  for (const e of whole.events) t.add(`${e.protocol}:${e.fields.kind ?? 'event'}`);
  if (whole.counters.malformed > 0) t.add('malformed');
  if (whole.counters.truncated > 0) t.add('truncated');
  // Split points drawn from the input itself, so a replay splits the same way.
  const split = run(spec, turns, (_n, k) => 1 + (input[k % Math.max(1, input.length)]! % 23));
  if (plain(whole.events) !== plain(split.events)) return `events differ when split:\n${plain(whole.events)}\n${plain(split.events)}`;
  if (!sane(whole.counters) || whole.counters.events !== whole.events.length) return `counters ${JSON.stringify(whole.counters)} for ${whole.events.length} events`;
  const mail = ['smtp', 'pop3', 'imap'].includes(spec.protocol);
  for (const e of whole.events) {
    if (Object.values(e.fields).some((v) => typeof v !== 'string')) return `a field is not a string: ${JSON.stringify(e.fields)}`;
    for (const k of Object.keys(e.fields)) {
      if (!APP_FIELDS[e.protocol]?.includes(k)) return `${e.protocol} event with undocumented key ${k}`;
      if (APP_CONTENT_FIELDS[e.protocol]!.includes(k) && !e.contentFields?.includes(k)) return `${e.protocol} content key ${k} not in contentFields`;
    }
    if (e.content && !mail) return `${e.protocol} event with content`;
    if (e.content && e.content.length > 4096) return 'content over the limit';
  }
  return undefined;
}

/** Reassembly: segments drawn from the input; every delivered position holds its first copy. */
function checkReassembly(input: Uint8Array): string | undefined {
  const limits = { gapWaitBytes: 300, gapWaitSegments: 8 };
  const budget = { used: 0, limit: 2000 };
  const first = new Map<number, number>();
  const got: number[] = [];
  let pos = 0;
  let bad: string | undefined;
  const isn = input.length > 0 ? (0xffffff00 + input[0]!) >>> 0 : 0;
  const tcp = new TcpReassembler(
    {
      data: (_s, b) => {
        for (const x of b) {
          if (bad === undefined && first.get(pos) !== x) bad = `position ${pos}: delivered ${x}, first copy ${first.get(pos)}`;
          got.push(x);
          pos++;
        }
      },
      gap: (_s, n) => {
        if (n <= 0) bad ??= `gap of ${n}`;
        pos += n;
      },
    },
    budget,
    newReassemblyCounters(),
    limits,
  );
  tcp.segment('client', { seq: isn, flags: TCP_SYN, payload: new Uint8Array(0) }, 0n);
  for (let o = 1; o + 3 <= input.length && bad === undefined; o += 3) {
    const rel = input[o]! * 4 + (input[o + 1]! & 3);
    const len = input[o + 2]! % 48;
    const flags = input[o + 1]! >= 0xf8 ? (input[o + 1]! & 1 ? TCP_FIN : TCP_RST) : 0;
    const payload = Uint8Array.from({ length: len }, (_, i) => (rel + i + o) & 0xff);
    for (let i = 0; i < len; i++) if (!first.has(rel + i)) first.set(rel + i, payload[i]!);
    tcp.segment('client', { seq: (isn + 1 + rel) >>> 0, flags, payload }, 0n);
    if (tcp.heldBytes > limits.gapWaitBytes + 48) bad = `holds ${tcp.heldBytes}`;
    if (budget.used !== tcp.heldBytes) bad = `budget ${budget.used} but holds ${tcp.heldBytes}`;
  }
  const c = tcp.counters;
  const t = tally('reassembly');
  for (const [k, n] of [['out of order', c.outOfOrder], ['gaps', c.gaps], ['duplicates', c.duplicateBytes], ['delivered', c.bytes]] as const) if (n > 0) t.add(k);
  tcp.flush(1n);
  if (bad === undefined && (tcp.heldBytes !== 0 || budget.used !== 0)) bad = 'flush left bytes held';
  return bad;
}

/** The flow table: packets drawn from the input, over a few endpoints. */
function checkFlows(input: Uint8Array): string | undefined {
  const maxFlows = 4;
  const t = new FlowTable<undefined>(() => undefined, { maxFlows, maxBufferedBytes: 500 });
  const payloads = Object.values(SESSIONS).flatMap((s) => s.flatMap((c) => c.map(([, d]) => (typeof d === 'string' ? Buffer.from(d, 'latin1') : Buffer.from(d)))));
  /** Next sequence number per flow and direction: most segments come in order, some anywhere. */
  const next = new Map<string, number>();
  for (let o = 0; o + 6 <= input.length; o += 6) {
    const v = input.subarray(o, o + 6);
    const fromA = (v[0]! & 1) === 0;
    const ports = [80, 25, 40000 + (v[0]! >> 5), 6881, 53];
    const pa = ports[v[1]! % ports.length]!;
    const pb = 40000 + (v[1]! >> 4);
    const p = payloads[v[2]! % payloads.length]!;
    const data = v[3]! < 128 ? p : p.subarray(0, v[3]! % (p.length + 1));
    const a = Uint8Array.of(10, 0, 0, 1);
    const b = Uint8Array.of(10, 0, 0, 2 + (v[0]! & 6));
    const key = `${v[0]! & 7},${v[1]},${fromA}`;
    const seq = v[5]! < 200 ? (next.get(key) ?? 0) : v[5]! * 16;
    const flags = v[4]! < 64 ? v[4]! >> 1 : TCP_ACK;
    next.set(key, (seq + data.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0);
    t.packet({ timeUs: BigInt(o) * 1_000_000n, transport: v[4]! % 5 === 0 ? 'udp' : 'tcp', src: fromA ? b : a, dst: fromA ? a : b, srcPort: fromA ? pb : pa, dstPort: fromA ? pa : pb, seq, flags, payload: data, lost: v[4]! > 250 ? 10 : 0 }, undefined);
    const c = t.counters();
    if (t.size > maxFlows) return `${t.size} flows`;
    if (c.bufferedBytes > 500 + 512) return `${c.bufferedBytes} octets held`;
  }
  const c = t.counters();
  const ft = tally('flows');
  for (const [k, n] of [['evicted', c.evicted], ['forced gaps', c.reassembly.forcedGaps], ['unrecognised', c.unrecognised], ...Object.entries(c.protocols).map(([p, pc]) => [`${p} events`, pc.events] as const)] as const) if (n > 0) ft.add(k);
  t.endAll(1n << 50n);
  const left = t.counters();
  return t.size === 0 && left.bufferedBytes === 0 && left.contentBytes === 0 ? undefined : `endAll left ${t.size} flows, ${left.bufferedBytes} + ${left.contentBytes} octets`;
}

const PIPELINE_TASKS: Task[] = [
  { taskId: 1n, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'ip', ip: { address: Buffer.from([10, 0, 0, 1]), prefixLength: 32 } } }] },
  { taskId: 2n, type: Task_Type.TYPE_IRI_ONLY, reportMode: ReportMode.REPORT_MODE_BOTH, summaryIntervalSeconds: 2, targets: [{ kind: { $case: 'ip', ip: { address: Buffer.from([10, 0, 0, 1]), prefixLength: 32 } } }] },
  { taskId: 3n, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'email', email: 'x@example.org' } }] },
];

/** An Ethernet frame with an IPv4 packet (20-octet header) carrying a TCP or UDP segment. */
function ipv4Frame(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, udp: boolean, seq: number, flags: number, payload: Uint8Array): Buffer {
  const l4 = Buffer.alloc(udp ? 8 : 20);
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  if (udp) l4.writeUInt16BE(8 + payload.length, 4);
  else {
    l4.writeUInt32BE(seq >>> 0, 4);
    l4[12] = 0x50;
    l4[13] = flags;
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length + payload.length, 2);
  ip[8] = 64;
  ip[9] = udp ? 17 : 6;
  ip.set(src, 12);
  ip.set(dst, 16);
  return Buffer.concat([Buffer.alloc(12, 2), Buffer.from([8, 0]), ip, l4, payload]);
}

/** A submission by another subscriber to the e-mail target, turn by turn (true: from the client). */
const MAIL_TURNS: [boolean, string][] = [
  [false, '220 mail\r\n'],
  [true, 'EHLO pc\r\n'],
  [false, '250 mail\r\n'],
  [true, 'MAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n'],
  [false, '250 OK\r\n250 OK\r\n354 go\r\n'],
  [true, 'Subject: s\r\n\r\nbody\r\n.\r\n'],
  [false, '250 queued\r\n'],
];
/** What the pipeline's packets carry: the mail session first, then every analyser's sessions. */
const PIPELINE_PAYLOADS: Buffer[] = [
  ...MAIL_TURNS.map(([, d]) => Buffer.from(d, 'latin1')),
  ...Object.values(SESSIONS).flatMap((s) => s.flatMap((c) => c.map(([, d]) => (typeof d === 'string' ? Buffer.from(d, 'latin1') : Buffer.from(d))))),
];
/** A pipeline input: that mail session of 10.0.0.2 to port 587, in order (see checkPipeline for the record layout). */
const PIPELINE_SEED = Uint8Array.from(MAIL_TURNS.flatMap(([fromClient], i) => [fromClient ? 0x02 : 0x03, 0x01, i, 0x80, 66, 0]));

/** The probe's pipeline on frames drawn from the input: content never reaches the IRI-only task. */
function checkPipeline(input: Uint8Array): string | undefined {
  const p = new PacketPipeline(PIPELINE_TASKS, { applications: { maxFlows: 4, mailFlows: 2, summaryFlows: 3 } });
  const payloads = PIPELINE_PAYLOADS;
  const next = new Map<string, number>();
  const events: Event[] = [];
  const ips = new Map<Event, Uint8Array>();
  for (let o = 0; o + 6 <= input.length; o += 6) {
    const v = input.subarray(o, o + 6);
    const fromA = (v[0]! & 1) === 0;
    const pa = [80, 587, 6881, 53, 5222, 443][v[1]! % 6]!;
    const pb = 40000 + (v[1]! >> 4);
    const pl = payloads[v[2]! % payloads.length]!;
    const data = v[3]! < 128 ? pl : pl.subarray(0, v[3]! % (pl.length + 1));
    const server = Uint8Array.of(192, 0, 2, 1 + (v[0]! >> 6));
    const client = Uint8Array.of(10, 0, 0, 1 + ((v[0]! >> 1) & 1));
    const key = `${v[0]! & 0xc3},${v[1]},${fromA}`;
    const seq = v[5]! < 200 ? (next.get(key) ?? 0) : v[5]! * 16;
    const flags = v[4]! < 64 ? v[4]! >> 1 : TCP_ACK;
    next.set(key, (seq + data.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0);
    const udp = v[4]! % 5 === 0;
    const frame = fromA ? ipv4Frame(client, server, pb, pa, udp, seq, flags, data) : ipv4Frame(server, client, pa, pb, udp, seq, flags, data);
    const t = 1_700_000_000_000_000 + o * 250_000;
    const e = p.process({ ts: { seconds: Math.floor(t / 1e6), micros: t % 1e6 }, linktype: LINKTYPE.ETHERNET, data: frame, origLen: frame.length });
    events.push(...p.takeIdentityEvents());
    if (e) events.push(e);
    const after = p.takeAppEvents();
    events.push(...after);
    for (const x of [e, ...after]) if (x?.kind?.$case === 'packet') ips.set(x, Buffer.from(frame.subarray(14)));
    const c = p.counters().app;
    if (c.flows.flows > 4 || c.mail.flows > 2 || c.summaries.flows > 3) return `flows beyond their bounds: ${c.flows.flows}, ${c.mail.flows}, ${c.summaries.flows}`;
  }
  p.endFlows();
  events.push(...p.takeAppEvents());
  const t = tally('pipeline');
  for (const e of events) {
    const k = e.kind!;
    if (Event.encode(e).finish().length > MAX_IRI_EVENT_BYTES) return `a ${k.$case} event over the batch's room`;
    const ms = k.$case === 'packet' ? k.packet.matches : k.$case === 'iri' ? k.iri.matches : k.$case === 'flowSummary' ? k.flowSummary.matches : [];
    if (ms.length === 0) return `a ${k.$case} event without a match`;
    const iriOnly = ms.some((m) => m.taskId === 2n);
    t.add(`${k.$case}${iriOnly ? ' (IRI-only)' : ''}${ms.some((m) => m.taskId === 3n) ? ' (e-mail)' : ''}`);
    if (iriOnly && ms.some((m) => m.taskId !== 2n)) return 'an IRI-only match shares an event with a content task';
    if (k.$case === 'packet') {
      const ip = ips.get(e)!;
      if (iriOnly && !Buffer.from(k.packet.data).equals(ip.subarray(0, headerLength(ip)))) return 'an IRI-only packet event with more than the headers';
      if (ms.some((m) => m.taskId === 3n)) return 'a packet for the e-mail task';
    } else if (k.$case === 'flowSummary') {
      if (headerLength(k.flowSummary.header) !== k.flowSummary.header.length) return 'a summary with more than headers';
    } else if (k.$case === 'iri') {
      const i = k.iri;
      if (iriOnly && (i.content.length > 0 || Object.keys(i.fields).some((f) => f === 'contentTruncated' || APP_CONTENT_FIELDS[i.protocol]?.includes(f)))) return `IRI-only ${i.protocol} event with content: ${JSON.stringify(i.fields)}`;
      if (i.fields.client !== '10.0.0.1' && i.fields.server !== '10.0.0.1' && ms.some((m) => m.taskId !== 3n)) return 'another subscriber\'s event for an address task';
      if (ms.some((m) => m.taskId === 3n) && !['smtp', 'pop3', 'imap'].includes(i.protocol)) return `a ${i.protocol} event for the e-mail task`;
    }
  }
  return undefined;
}

/** The datagram analysers and the DNS decoder; a datagram per record. */
function checkDatagrams(input: Uint8Array): string | undefined {
  for (const [side, d] of decode(input)) {
    parseDnsMessage(d);
    for (const spec of DATAGRAM_ANALYSERS) {
      spec.sniff(d, 40000, 53);
      spec.create(newCounters(), { maxContentBytes: 0 }).onDatagram(side, d, 0n);
    }
  }
  return undefined;
}

const DATAGRAM_SEEDS = [
  encode([
    ['client', Uint8Array.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1])],
    ['server', Uint8Array.from([0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4])],
    ['client', 'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe'],
    ['server', 'd1:rd2:id20:abcdefghij01234567896:valuesl6:abcdefee1:t2:aa1:y1:re'],
    ['client', Uint8Array.from([0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4])],
  ]),
];

export const appFuzz: FuzzScript = {
  script: __filename,
  make: (rng) => {
    const fuzzers: Fuzzer[] = STREAM_ANALYSERS.map((spec) => {
      const name = spec.protocol === 'dns' ? 'dns-tcp' : spec.protocol;
      const seeds = SESSIONS[name]!.map(encode);
      return { name, seeds, next: () => mutate(rng.pick(seeds), rng, seeds, MUTATIONS), check: (i: Uint8Array) => checkStream(spec, i), report: () => [`events and outcomes: ${tally(spec.protocol).toString()}`] };
    });
    const bytesSeeds = [Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff), Uint8Array.from({ length: 90 }, (_, i) => i)];
    const anyOctets = [flipBits(4), setOctet([], 1), insertOctets(12, [], 1), truncate, repeatSlice(30), deleteOctets(9), spliceTail, appendInput];
    fuzzers.push(
      { name: 'datagrams', seeds: DATAGRAM_SEEDS, next: () => mutate(rng.pick(DATAGRAM_SEEDS), rng, DATAGRAM_SEEDS, MUTATIONS), check: checkDatagrams },
      { name: 'reassembly', seeds: bytesSeeds, next: () => mutate(rng.pick(bytesSeeds), rng, bytesSeeds, anyOctets), check: checkReassembly, report: () => [`inputs with: ${tally('reassembly').toString()}`] },
      { name: 'flows', seeds: bytesSeeds, next: () => mutate(rng.pick(bytesSeeds), rng, bytesSeeds, anyOctets), check: checkFlows, report: () => [`inputs with: ${tally('flows').toString()}`] },
      { name: 'pipeline', seeds: [PIPELINE_SEED, ...bytesSeeds], next: () => mutate(rng.pick([PIPELINE_SEED, ...bytesSeeds]), rng, [PIPELINE_SEED, ...bytesSeeds], anyOctets), check: checkPipeline, report: () => [`events: ${tally('pipeline').toString()}`] },
    );
    return fuzzers;
  },
};

if (require.main === module) fuzzMain(appFuzz);

/**
 * Issue 6's must-show, run as a user runs lig: `lig certs init`, one `lig lemf` per agency,
 * `lig mediator --config` and `lig probe --source pcap:CAPTURE`, each a real process on
 * 127.0.0.1 with certificates made at test time. The capture (test/fixtures/app_capture.py,
 * built with scapy): web, HTTPS, DNS, SMTP, XMPP and BitTorrent of a target and of another
 * subscriber, and a non-target ("sender") mailing a watched address once and someone else
 * once, and browsing.
 *
 * One mediator run carries every order, as intercepts of two agencies, each with its own LEMF
 * (so each LEMF's output holds exactly what that agency may receive, and "not one byte" can be
 * checked over whole files):
 * - lea-content: LIID-E6-CC, a content order on the target's address; LIID-E6-MAIL, a content
 *   order on the e-mail address watched@example.org;
 * - lea-pen: LIID-E6-HDR, an iri-only order on the target's address reporting packet headers
 *   (the default mode); LIID-E6-SUM, the same reporting flow summaries every 5 s (config
 *   `reports: { mode: summary, interval: 5s }`).
 *
 * What each must get is read from the capture's own description (its JSON, checked against
 * the pcap's bytes) and, for the target's packets and DNS/HTTP/TLS, from tshark's reading of
 * the capture. Everything is read from the LEMFs' output directories once the mediator says
 * (`lig agency list`) every record is confirmed. Nothing waits on time.
 *
 * "Not one payload byte" is a search of every file lea-pen stored (its bytes, and every string
 * of its JSON as text and as the octets its hex spells) for every payload, every packet's
 * headers plus its first payload byte, every whole packet, content field and message of
 * anyone in the capture, raw and as hex. The same search run on lea-content's output must
 * find every one of the target's: the check can fail, and does when content leaks.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type AppCapture, type AppFact, type AppFrame, type ChainRun, type Needle, buildAppCapture, filesUnder, ipBytes, payloadOf, runAppChain, storedNeedles } from '../helpers/app-e2e';
import { expectedAppReports, requireTshark, storedAppReports } from '../helpers/app-reports';
import { type LemfLine, type PduJson, ccPcap, generalizedUs, ipHex, oracleAgrees } from '../helpers/identity-e2e';
import { type LigProcess, lig, stop } from '../helpers/lig-process';
import { requireScapy } from '../helpers/scapy';

const CC = 'LIID-E6-CC';
const MAIL = 'LIID-E6-MAIL';
const HDR = 'LIID-E6-HDR';
const SUM = 'LIID-E6-SUM';
const SUMMARY_INTERVAL_US = 5_000_000;
/** The flow fields of a fixture event: reported in the record's own components, not as fields. */
const FLOW_FIELDS = ['client', 'clientPort', 'server', 'serverPort', 'transport'];
/** Fields holding lists, reported one field per item (app-report.ts: "list-valued fields ... one LigField per item"). */
const LISTS: Record<string, Record<string, string>> = { dns: { answers: '; ' }, tls: { alpn: ',' }, bittorrent: { infoHash: ',', peers: ',' } };
/** What a pen register must still be told, per protocol (issue 6: host name, SNI; DNS names; JIDs; the info-hash). */
const ADDRESSING: Record<string, string[]> = { http: ['host'], tls: ['sni'], dns: ['qname'], xmpp: ['from', 'to'], bittorrent: ['infoHash'] };
/** Byte runs shorter than this are searched for only as part of a longer run (a few bytes can occur anywhere by chance). */
const MIN_NEEDLE = 8;
const MAIL_PROTOCOLS = ['smtp', 'pop3', 'imap'];

const hex = (s: string) => Buffer.from(s).toString('hex');

/** One intercept record of a LEMF's records.jsonl. */
interface Rec {
  liid: string;
  hi: 'hi2' | 'hi3';
  cin: number;
  seq: number;
  timeUs: bigint;
  /** ipcc, emailCC, header, summary, emailIRI, app, or the IRI contents' own name. */
  kind: string;
  direction: string;
  /** The part the kind names (the IP packet as hex for ipcc). */
  body: PduJson;
}

function recordsOf(lines: LemfLine[]): Rec[] {
  const out: Rec[] = [];
  for (const { hi, pdu } of lines) {
    const h = pdu.pSHeader;
    const p = pdu.payload.iRIPayloadSequence ?? pdu.payload.cCPayloadSequence;
    if (!p) continue; // keep-alives
    assert.equal(p.length, 1, 'one IRI or CC per PDU');
    const head = {
      liid: Buffer.from(h.lawfulInterceptionIdentifier, 'hex').toString(),
      hi,
      cin: h.communicationIdentifier.communicationIdentityNumber,
      seq: h.sequenceNumber,
      timeUs: BigInt(h.microSecondTimeStamp.seconds) * 1_000_000n + BigInt(h.microSecondTimeStamp.microSeconds),
      direction: p[0].payloadDirection,
    };
    if (pdu.payload.cCPayloadSequence) {
      const c = p[0].cCContents;
      if (c.iPCC) out.push({ ...head, kind: 'ipcc', body: c.iPCC.iPCCContents.iPPackets });
      else out.push({ ...head, kind: Object.keys(c)[0]!, body: Object.values(c)[0] });
      continue;
    }
    const c = p[0].iRIContents;
    const app = c.iPIRI?.iPIRIContents.nationalIPIRIParameters?.ligApplicationReport;
    if (c.iPIRIPacketReport) {
      const [kind, body] = Object.entries(c.iPIRIPacketReport.report)[0]!;
      out.push({ ...head, kind, body });
    } else if (app) out.push({ ...head, kind: 'app', body: { ...c.iPIRI.iPIRIContents, app } });
    else out.push({ ...head, kind: Object.keys(c)[0]!, body: Object.values(c)[0] });
  }
  return out;
}

/** lig's JSON without its own extension (which the oracle skips), for the comparison with the oracle. */
function withoutLigExtension(pdu: PduJson): PduJson {
  const copy = structuredClone(pdu);
  const np = copy.payload.iRIPayloadSequence?.[0]?.iRIContents.iPIRI?.iPIRIContents.nationalIPIRIParameters;
  if (np) delete np.ligApplicationReport;
  return copy;
}

/** Asserts each interface numbers each communication of each LIID 0, 1, 2, … in arrival order. */
function numbered(recs: Rec[]): void {
  const next = new Map<string, number>();
  for (const r of recs) {
    const k = `${r.liid} ${r.hi} CIN ${r.cin}`;
    assert.equal(r.seq, next.get(k) ?? 0, k);
    next.set(k, r.seq + 1);
  }
}

/** An address as the records give it (IPAddress, IPv4). */
const ipv4 = (dotted: string) => ({ 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: ipHex(dotted) } });

/** The canonical 5-tuple of a flow ([proto, a, aPort, b, bPort], either way round). */
function flowKey([p, a, ap, b, bp]: AppFrame['flow']): string {
  return `${a}:${ap}` < `${b}:${bp}` ? `${p} ${a}:${ap} ${b}:${bp}` : `${p} ${b}:${bp} ${a}:${ap}`;
}

/** The 5-tuple of an IPv4 header with TCP or UDP ports, as flowKey writes it. */
function headerFlowKey(h: Buffer): string {
  const ihl = (h[0]! & 15) * 4;
  const at = (o: number) => [...h.subarray(o, o + 4)].join('.');
  return flowKey([h[9]!, at(12), h.readUInt16BE(ihl), at(16), h.readUInt16BE(ihl + 2)]);
}

/** The fields a report should carry for `e` given to a task of `kind`: flow fields out, list fields split, content fields out for IRI-only. */
function expectedFields(e: AppFact, kind: 'content' | 'iri-only'): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(e.fields)) {
    if (FLOW_FIELDS.includes(name) || (kind === 'iri-only' && e.contentFields.includes(name))) continue;
    const sep = LISTS[e.protocol]?.[name];
    for (const v of sep ? value.split(sep) : [value]) out.push({ name, value: v });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

describe('application IRI end to end as a user runs it (lig certs, lemf ×2, mediator, probe on the scapy capture)', function () {
  let tmp: string;
  let cap: AppCapture;
  let run: ChainRun;
  let content: { out: string; lines: LemfLine[]; recs: Rec[] };
  let pen: { out: string; lines: LemfLine[]; recs: Rec[] };
  const procs: LigProcess[] = [];

  const framesOf = (owner: string) => cap.frames.filter((f) => f.owner === owner);
  const eventsOf = (owner: string) => cap.events.filter((e) => e.owner === owner);
  const of = (recs: Rec[], liid: string, ...kinds: string[]) => recs.filter((r) => r.liid === liid && (kinds.length === 0 || kinds.includes(r.kind)));
  const direction = (f: AppFrame) => (f.flow[1] === cap.subscribers.target ? 'fromTarget' : 'toTarget');

  before(async function () {
    requireScapy(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-app-e2e-'));
    cap = buildAppCapture(path.join(tmp, 'capture'));
    const certs = path.join(tmp, 'certs');
    const init = lig(['certs', 'init', '--dir', certs, '--bits', '2048']);
    procs.push(init);
    assert.equal(await init.exit, 0, init.stderr);
    const t = cap.subscribers.target;
    run = await runAppChain({
      tmp, certs, pcap: cap.pcap, procs, agencies: ['lea-content', 'lea-pen'],
      intercepts: [
        `{ liid: ${CC}, agency: lea-content, type: content, targets: [{ ip: ${t} }] }`,
        `{ liid: ${MAIL}, agency: lea-content, type: content, targets: [{ email: "${cap.watched}" }] }`,
        `{ liid: ${HDR}, agency: lea-pen, type: iri-only, targets: [{ ip: ${t} }] }`,
        `{ liid: ${SUM}, agency: lea-pen, type: iri-only, targets: [{ ip: ${t} }], reports: { mode: summary, interval: ${SUMMARY_INTERVAL_US / 1_000_000}s } }`,
      ],
    });
    const read = (id: string) => ({ ...run.agencies[id]!, recs: recordsOf(run.agencies[id]!.lines) });
    content = read('lea-content');
    pen = read('lea-pen');
  });
  after(async () => {
    await Promise.all(procs.splice(0).filter((p) => !p.ended).map((p) => stop(p, 'SIGKILL')));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the probe read the whole capture and dropped nothing; each LEMF got its agency\'s LIIDs only, numbered per communication', () => {
    assert.match(run.probeStatus, new RegExp(`^stopped \\(pcap\\): ${cap.frames.length} frames .*, 0 dropped`));
    assert.deepEqual([...new Set(content.recs.map((r) => r.liid))].sort(), [CC, MAIL]);
    assert.deepEqual([...new Set(pen.recs.map((r) => r.liid))].sort(), [HDR, SUM]);
    numbered(content.recs);
    numbered(pen.recs);
  });

  it('content order: the CC is exactly the target\'s packets, whole, in capture order (as tshark picks them out of the capture)', function () {
    const mine = framesOf('target');
    // tshark, independently of the fixture's own labels: the frames to or from the target's address.
    requireTshark(this);
    const t = spawnSync('tshark', ['-r', cap.pcap, '-Y', `ip.addr==${cap.subscribers.target}`, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(t.stdout.trim().split('\n').map(Number), cap.frames.flatMap((f, i) => (f.owner === 'target' ? [i + 1] : [])));

    const cc = of(content.recs, CC, 'ipcc');
    assert.deepEqual(cc.map((r) => [r.body, r.timeUs, r.direction]), mine.map((f) => [f.ip, BigInt(f.timeUs), direction(f)]), 'records.jsonl: IPCC');
    assert.equal(new Set(cc.map((r) => r.cin)).size, 1, 'an IP target: the intercept\'s one communication');
    assert.deepEqual(ccPcap(content.out, CC).map((p) => [p.data.toString('hex'), p.timeUs]), mine.map((f) => [f.ip, BigInt(f.timeUs)]), `cc/${CC}.pcap`);
    assert.deepEqual(filesUnder(path.join(content.out, 'cc')), [`${CC}.pcap`], 'no packet file for the e-mail warrant');
    assert.equal(of(content.recs, CC).length, cc.length + eventsOf('target').length + 1, 'and nothing else: one IRI per application event, one EmailCC');
  });

  it('content order: HTTP (method, Host, path), TLS SNI, DNS, XMPP JIDs and BitTorrent info-hash reports of the target only, as the capture says and tshark reads', function () {
    const want = eventsOf('target').filter((e) => !MAIL_PROTOCOLS.includes(e.protocol));
    const got = of(content.recs, CC, 'app');
    assert.deepEqual(
      got.map((r) => ({ time: r.timeUs, protocol: r.body.app.protocol, client: r.body.app.client, server: r.body.app.server, transport: r.body.app.transport, fields: r.body.app.fields, target: r.body.targetIPAddress })),
      want.map((e) => ({
        time: BigInt(e.timeUs),
        protocol: e.protocol,
        client: { address: ipv4(e.fields.client!), port: Number(e.fields.clientPort) },
        server: { address: ipv4(e.fields.server!), port: Number(e.fields.serverPort) },
        transport: e.fields.transport === 'tcp' ? 6 : 17,
        fields: expectedFields(e, 'content'),
        target: ipv4(cap.subscribers.target),
      })),
    );
    assert.deepEqual([...new Set(want.map((e) => e.protocol))].sort(), ['bittorrent', 'dns', 'http', 'tls', 'xmpp']);
    const value = (protocol: string, name: string) => got.filter((r) => r.body.app.protocol === protocol).flatMap((r) => r.body.app.fields.filter((f: any) => f.name === name).map((f: any) => f.value));
    assert.ok(value('http', 'path').includes('/search?q=SECRET-path-target'), 'the content order gets the path');
    assert.ok(value('tls', 'sni').includes('secure.example.com'));
    assert.ok(value('xmpp', 'from').includes('target@jabber.example'));
    assert.ok(value('bittorrent', 'infoHash').includes('0123456789abcdef0123456789abcdef01234567'));
    // tshark's own reading of the target's DNS, HTTP and TLS ClientHellos (lea-content's only application reports are LIID-E6-CC's).
    requireTshark(this);
    assert.deepEqual(storedAppReports(content.out).filter((l) => /^(dns|http|tls) /.test(l)), expectedAppReports(cap.pcap, cap.subscribers.target));
  });

  /** The message of event `e` as the SMTP client wrote it after DATA, dot-unstuffed (RFC 5321 4.5.2), read from the capture's packets. */
  function messageOnTheWire(e: AppFact): Buffer {
    const key = flowKey([6, e.fields.client!, Number(e.fields.clientPort), e.fields.server!, Number(e.fields.serverPort)]);
    const sent = Buffer.concat(cap.frames.filter((f) => flowKey(f.flow) === key && f.flow[1] === e.fields.client && f.timeUs <= e.timeUs).map(payloadOf)).toString('latin1');
    const id = sent.indexOf(`Message-ID: ${e.fields.messageId}\r\n`);
    const end = sent.indexOf('\r\n.\r\n', id);
    assert.ok(id > 0 && end > id && sent.lastIndexOf('DATA\r\n', id) > 0, 'the message is on the wire after DATA');
    const data = sent.slice(id, end + 2);
    const unstuffed = data.replace(/(^|\r\n)\./g, '$1');
    assert.notEqual(unstuffed, data, 'the message has a line starting with a dot, so it went dot-stuffed');
    return Buffer.from(unstuffed, 'latin1');
  }

  /** The EmailIRI of one fixture message event. */
  function emailIri(e: AppFact): PduJson {
    const f = e.fields;
    return {
      emailIRIObjId: '5.2.20.1', eventType: 'e-mail-send', 'client-Address': ipv4(f.client!), 'server-Address': ipv4(f.server!),
      'client-Port': Number(f.clientPort), 'server-Port': Number(f.serverPort), 'server-Octets-Sent': 0, 'client-Octets-Sent': Number(f.size),
      'protocol-ID': 'smtp', 'e-mail-Sender': f.sender, 'e-mail-Recipients': f.recipients!.split(','), status: 'operation-succeeded',
      'total-Recipient-Count': Number(f.recipientCount), 'message-ID': hex(f.messageId!),
    };
  }

  it('content order: EmailIRI for the target\'s submission (sender, recipients, count, message-ID) and an EmailCC holding exactly the message as sent', () => {
    const [m, ...more] = eventsOf('target').filter((e) => e.protocol === 'smtp');
    assert.ok(m && more.length === 0);
    const iri = of(content.recs, CC, 'emailIRI');
    assert.deepEqual(iri.map((r) => [r.timeUs, r.body]), [[BigInt(m.timeUs), emailIri(m)]]);
    assert.deepEqual(emailIri(m)['e-mail-Recipients'], ['friend@example.com', cap.watched]);
    const cc = of(content.recs, CC, 'emailCC');
    assert.equal(cc.length, 1);
    const message = Buffer.from(cc[0]!.body.content, 'hex');
    assert.equal(message.toString('latin1'), messageOnTheWire(m).toString('latin1'), 'the message as the target sent it, dot-unstuffed');
    assert.equal(message.toString('hex'), m.content, 'the fixture\'s message');
    assert.deepEqual([cc[0]!.direction, cc[0]!.body['email-Format'], cc[0]!.cin, cc[0]!.timeUs], ['fromTarget', 'application', iri[0]!.cin, iri[0]!.timeUs], 'in the EmailIRI\'s communication');
  });

  /**
   * Every byte run an IRI-only order may not receive, of everyone in the capture: each
   * transport payload (MIN_NEEDLE bytes or more), each packet's headers with the first byte
   * of its payload (a header report cut one byte late), each whole packet with a payload,
   * each content field and message of the description, and the word SECRET, which every
   * piece of content carries.
   */
  function needlesOf(owners: string[]): Needle[] {
    const n: Needle[] = [{ what: 'the word SECRET', bytes: Buffer.from('SECRET') }];
    cap.frames.forEach((f, i) => {
      if (!owners.includes(f.owner) || payloadOf(f).length === 0) return;
      if (payloadOf(f).length >= MIN_NEEDLE) n.push({ what: `frame ${i + 1}'s payload`, bytes: payloadOf(f) });
      n.push({ what: `frame ${i + 1}'s headers and first payload byte`, bytes: ipBytes(f).subarray(0, f.headerLength + 1) });
      n.push({ what: `frame ${i + 1} whole`, bytes: ipBytes(f) });
    });
    cap.events.forEach((e, i) => {
      if (!owners.includes(e.owner)) return;
      for (const name of e.contentFields) n.push({ what: `event ${i} (${e.protocol}) ${name}`, bytes: Buffer.from(e.fields[name]!) });
      if (e.content) n.push({ what: `event ${i} (${e.protocol}) message`, bytes: Buffer.from(e.content, 'hex') });
    });
    return n;
  }

  it('iri-only orders: zero CC records and not one payload byte in any stored file; the same search finds every one of them in the content order\'s output', () => {
    assert.deepEqual(pen.recs.filter((r) => r.hi === 'hi3' || ['ipcc', 'emailCC'].includes(r.kind)), [], 'no CC record');
    assert.deepEqual(filesUnder(path.join(pen.out, 'cc')), [], 'no packet file');
    const everyone = needlesOf(['target', 'other', 'sender']);
    assert.ok(everyone.length > 300);
    assert.deepEqual(storedNeedles(pen.out, everyone), [], 'lea-pen stored none of it (hi2.ber, hi3.ber, records.jsonl, cc/, state)');

    // The proof the search can fail: in lea-content's output it finds every needle of the target.
    const target = needlesOf(['target']);
    const found = new Set(storedNeedles(content.out, target).map((h) => h.slice(h.indexOf(': ') + 2)));
    assert.deepEqual(target.map((n) => n.what).filter((w) => !found.has(w)), [], 'lea-content holds every content byte run of the target');
  });

  it('iri-only orders: header reports (mode headers), one per packet, headers only; flow summaries (mode summary) per flow adding up', () => {
    const mine = framesOf('target');
    // LIID-E6-HDR: the target's packets, each as its IP and transport headers, and no summary.
    const headers = of(pen.recs, HDR, 'header');
    assert.deepEqual(headers.map((r) => [r.body.header, r.timeUs, r.direction]), mine.map((f) => [f.ip.slice(0, f.headerLength * 2), BigInt(f.timeUs), direction(f)]));
    assert.ok(mine.some((f) => payloadOf(f).length > 0), 'packets with payload were cut');
    assert.deepEqual(of(pen.recs, HDR, 'summary'), [], 'mode headers: no summary');

    // LIID-E6-SUM: per flow of the target, a start, timer reports, an end (FIN, or the end of the capture for UDP); no header report.
    assert.deepEqual(of(pen.recs, SUM, 'header'), [], 'mode summary: no header report');
    const summaries = of(pen.recs, SUM, 'summary');
    const flows = new Map<string, AppFrame[]>();
    for (const f of mine) flows.set(flowKey(f.flow), [...(flows.get(flowKey(f.flow)) ?? []), f]);
    const byFlow = new Map<string, Rec[]>();
    for (const r of summaries) {
      const k = headerFlowKey(Buffer.from(r.body.header, 'hex'));
      byFlow.set(k, [...(byFlow.get(k) ?? []), r]);
    }
    assert.deepEqual([...byFlow.keys()].sort(), [...flows.keys()].sort(), 'one series of summaries per flow of the target');
    let timers = 0;
    for (const [k, frames] of flows) {
      const got = byFlow.get(k)!;
      const s = got.map((r) => r.body);
      const triggers = s.map((x) => x.trigger);
      assert.equal(triggers[0], 'flowStart', k);
      assert.equal(triggers.at(-1), frames[0]!.flow[0] === 6 ? 'flowEnd' : 'reportEnd', k);
      assert.ok(triggers.slice(1, -1).every((t) => t === 'flowTimerExpiration'), k);
      timers += triggers.length - 2;
      assert.equal(s.reduce((n, x) => n + x.packetCount, 0), frames.length, `${k}: packets`);
      assert.equal(s.reduce((n, x) => n + x.byteCount, 0), frames.reduce((n, f) => n + f.ip.length / 2, 0), `${k}: bytes`);
      assert.equal(generalizedUs(s[0]!.firstTimestamp), BigInt(frames[0]!.timeUs), `${k}: first packet`);
      assert.equal(generalizedUs(s.at(-1)!.lastTimestamp), BigInt(frames.at(-1)!.timeUs), `${k}: last packet`);
      // one summary never covers an interval or more of capture time, nor a packet another covers
      let last = -1n;
      s.forEach((x, i) => {
        if (x.packetCount === 0) return; // a last report with nothing new (e.g. at the end of the capture)
        const [first, end] = [generalizedUs(x.firstTimestamp), generalizedUs(x.lastTimestamp)];
        assert.ok(end - first < BigInt(SUMMARY_INTERVAL_US), `${k}: summary ${i} covers less than ${SUMMARY_INTERVAL_US / 1e6} s`);
        assert.ok(first > last, `${k}: summary ${i} starts after the one before`);
        last = end;
      });
      for (const x of s) assert.equal(Buffer.from(x.header, 'hex').length, frames[0]!.headerLength, `${k}: the first packet's headers, no payload`);
    }
    assert.ok(timers >= 2, 'the 12-second XMPP flow is summarised on the timer');
  });

  it('iri-only orders: addressing-only application reports (host but no path; SNI; DNS names; JIDs; info-hash), EmailIRI and no EmailCC', () => {
    const want = eventsOf('target').filter((e) => !MAIL_PROTOCOLS.includes(e.protocol));
    const [m] = eventsOf('target').filter((e) => e.protocol === 'smtp');
    for (const liid of [HDR, SUM]) {
      const got = of(pen.recs, liid, 'app');
      assert.deepEqual(got.map((r) => [r.timeUs, r.body.app.protocol, r.body.app.client, r.body.app.server]), want.map((e) => [BigInt(e.timeUs), e.protocol, { address: ipv4(e.fields.client!), port: Number(e.fields.clientPort) }, { address: ipv4(e.fields.server!), port: Number(e.fields.serverPort) }]), liid);
      got.forEach((r, i) => {
        const e = want[i]!;
        const fields: { name: string; value: string }[] = r.body.app.fields;
        const allowed = expectedFields(e, 'iri-only').map((f) => `${f.name}=${f.value}`);
        const what = `${liid} ${e.protocol} ${e.fields.kind ?? ''}`;
        // Only what the capture says of the event and is not content (a list may come split per item, e.g. ALPN).
        for (const f of fields) {
          assert.ok(allowed.includes(`${f.name}=${f.value}`) || (Object.hasOwn(e.fields, f.name) && !e.contentFields.includes(f.name) && e.fields[f.name]!.split(',').includes(f.value)), `${what}: ${f.name} is not content`);
        }
        for (const name of ADDRESSING[e.protocol]!.filter((n) => Object.hasOwn(e.fields, n))) {
          assert.deepEqual(fields.filter((f) => f.name === name).map((f) => f.value).join(LISTS[e.protocol]?.[name] ?? ','), e.fields[name], `${what}: ${name} is reported`);
        }
        if (e.protocol === 'http' && e.fields.kind === 'request') assert.deepEqual(fields.map((f) => f.name), ['host', 'kind'], `${what}: the host and nothing of the request`);
      });
      assert.deepEqual(of(pen.recs, liid, 'emailIRI').map((r) => [r.timeUs, r.body]), [[BigInt(m!.timeUs), emailIri(m!)]], `${liid}: EmailIRI`);
      assert.deepEqual(of(pen.recs, liid).map((r) => r.kind).filter((k) => !['app', 'emailIRI', 'header', 'summary'].includes(k)), [], `${liid}: nothing else`);
    }
  });

  it('e-mail-address warrant: the non-target\'s message to the watched address (EmailIRI + EmailCC) and the target\'s, nothing else of that subscriber', () => {
    const watched = cap.events.filter((e) => e.watched);
    assert.deepEqual(watched.map((e) => e.owner), ['target', 'sender'], 'the capture as this test reads it');
    assert.ok(cap.events.some((e) => e.owner === 'sender' && e.protocol === 'smtp' && !e.watched), 'the sender also mails someone else in the same session');
    const recs = of(content.recs, MAIL);
    for (const [hi, kind] of [['hi2', 'emailIRI'], ['hi3', 'emailCC']]) {
      assert.deepEqual(recs.filter((r) => r.hi === hi).map((r) => [r.kind, r.timeUs]), watched.map((e) => [kind, BigInt(e.timeUs)]), `${hi}: an ${kind} per message, nothing else`);
    }
    watched.forEach((e, k) => {
      const iri = of(recs, MAIL, 'emailIRI')[k]!;
      const cc = of(recs, MAIL, 'emailCC')[k]!;
      assert.deepEqual(iri.body, emailIri(e));
      assert.equal(Buffer.from(cc.body.content, 'hex').toString('latin1'), messageOnTheWire(e).toString('latin1'), `${e.owner}'s message as sent`);
      assert.deepEqual([cc.direction, cc.cin], ['toTarget', iri.cin], 'a message to the watched address; in its EmailIRI\'s communication');
    });
    // Nothing else of the sender is stored anywhere by lea-content: of its byte runs, only the watched message's.
    const targets = needlesOf(['target']);
    const senderOnly = needlesOf(['sender']).filter((n) => !targets.some((t) => t.bytes.equals(n.bytes)));
    const watchedMessage = cap.events.find((e) => e.watched && e.owner === 'sender')!;
    const allowed = [Buffer.from(watchedMessage.content!, 'hex'), ...watchedMessage.contentFields.map((name) => Buffer.from(watchedMessage.fields[name]!))];
    const hits = storedNeedles(content.out, senderOnly).map((h) => h.slice(h.indexOf(': ') + 2));
    assert.deepEqual([...new Set(hits)].sort(), senderOnly.filter((n) => allowed.some((a) => a.equals(n.bytes))).map((n) => n.what).sort(), 'only the watched message of the sender');
    // ... and of the other subscriber nothing at all (lea-pen holds no one's: see above).
    const otherOnly = needlesOf(['other']).filter((n) => !targets.some((t) => t.bytes.equals(n.bytes)));
    assert.deepEqual(storedNeedles(content.out, otherOnly), []);
    // No record but the watched message's EmailIRI names the sender's or the other subscriber's address.
    for (const [who, addr] of [['sender', cap.subscribers.sender], ['other', cap.subscribers.other]] as const) {
      const naming = [...content.lines, ...pen.lines].filter((l) => JSON.stringify(l.pdu).includes(ipHex(addr)));
      assert.equal(naming.length, who === 'sender' ? 1 : 0, `records naming ${who}'s address`);
    }
  });

  it('every record of hi2.ber and hi3.ber of both LEMFs decodes with the etsi-oracle, which reads what records.jsonl says', async function () {
    for (const a of [content, pen]) await oracleAgrees(this, a.out, a.lines, withoutLigExtension);
  });

  it('no process printed a LIID, a target, a subscriber\'s address or any content', () => {
    for (const secret of [CC, MAIL, HDR, SUM, cap.watched, ...Object.values(cap.subscribers), 'SECRET', 'example.com']) {
      assert.ok(!run.printed.includes(secret), `no process printed or logged ${secret}`);
    }
  });
});

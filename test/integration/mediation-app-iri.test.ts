/**
 * Application IRI and flow summaries end to end on loopback, real components only: a probe
 * client over gRPC (mTLS) sends IriEvents (web, e-mail, DNS, XMPP, BitTorrent, TLS),
 * FlowSummaries and packets for a content intercept, an IRI-only intercept reporting headers
 * and summaries, an IRI-only intercept reporting summaries only, and an IRI-only username
 * intercept with an access session; the mediator makes them durable and delivers them over
 * TLS to the reference LEMF. What the LEMF stored (exactly as received) is read back: each
 * intercept gets exactly its records, in its CIN (the session's for the session's match);
 * the IRI-only intercepts get no CC record and not one byte of any payload, content field
 * or message, whatever the probe sent; lig decodes the application reports whole and the
 * etsi-oracle accepts both streams. Certificates are made at test time; nothing waits on
 * time, only on events.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MediatorConfig } from '../../src/config';
import { decodeStream } from '../../src/etsi/stream';
import { toJsonValue } from '../../src/etsi/json';
import { Direction, type Event, FlowSummary_Trigger, IdentityEvent_Kind as Kind } from '../../src/gen/lig/v1/ingest';
import { type Lemf, RAW_FILES } from '../../src/lemf';
import { ipv4Udp } from '../helpers/identity-packets';
import { identityAt, identityEvent } from '../mediation-fixtures';
import { type Setup, chainHarness, config, lemfHolds, oracleAccepts, tasksWhen } from './mediator-helpers';

const CC = 'LIID-APP-CC';
const IRI = 'LIID-APP-IRI';
const SUM = 'LIID-APP-SUM';
const USER = 'LIID-APP-USER';
const T0 = 1_700_000_000_000_000n;
const SESSION = 'radius:192.0.2.1/app-1';
/** Marks everything an IRI-only intercept must never receive. */
const SECRET = 'IRI-ONLY-SECRET';

function appConfig(s: Setup, lemf: Lemf, dataDir: string): MediatorConfig {
  return config(s, lemf, { dataDir, intercepts: `
  - { liid: ${CC}, agency: lea-1, type: content, targets: [{ ip: 10.0.0.2 }] }
  - { liid: ${IRI}, agency: lea-1, type: iri-only, targets: [{ ip: 10.0.0.3 }], reports: { mode: both, interval: 60s } }
  - { liid: ${SUM}, agency: lea-1, type: iri-only, targets: [{ ip: 10.0.0.4 }], reports: { mode: summary } }
  - { liid: ${USER}, agency: lea-1, type: iri-only, targets: [{ username: alice }] }` });
}

/** An IPv4/UDP packet src → dst whose payload is `payload`. */
const udp = (src: string, dst: string, payload: string): Buffer => ipv4Udp(src, dst, 40000, 53, Buffer.from(payload));

type M = [bigint, Direction, string?];
const matches = (ms: M[]) => ms.map(([taskId, direction, sessionKey]) => ({ taskId, direction, sessionKey: sessionKey ?? '' }));
const packet = (t: bigint, data: Buffer, ms: M[]): Event => ({ timeUs: t, kind: { $case: 'packet', packet: { matches: matches(ms), data, originalLength: 0 } } });
const iri = (t: bigint, protocol: string, fields: Record<string, string>, ms: M[], content = ''): Event =>
  ({ timeUs: t, kind: { $case: 'iri', iri: { matches: matches(ms), protocol, fields, content: Buffer.from(content) } } });
const summary = (t: bigint, header: Buffer, trigger: FlowSummary_Trigger, ms: M[]): Event =>
  ({ timeUs: t, kind: { $case: 'flowSummary', flowSummary: { matches: matches(ms), header, packets: 7n, bytes: 900n, firstUs: T0, lastUs: t, trigger } } });
const flow = (client: string, server: string, serverPort: number, transport = 'tcp') => ({ client, clientPort: '40000', server, serverPort: String(serverPort), transport });

/** Every intercept record the LEMF stored on `hi`, decoded to JSON, in arrival order (keep-alives left out). */
function storedJson(out: string, hi: 'hi2' | 'hi3'): any[] {
  const file = path.join(out, RAW_FILES[hi]);
  if (!fs.existsSync(file)) return [];
  const recs: any[] = [];
  for (const e of decodeStream(fs.readFileSync(file))) {
    if (e.error) throw e.error;
    const j = toJsonValue(e.pdu) as any;
    if (j.payload.iRIPayloadSequence || j.payload.cCPayloadSequence) recs.push(j);
  }
  return recs;
}
const liidOf = (j: any) => Buffer.from(j.pSHeader.lawfulInterceptionIdentifier, 'hex').toString();
const cinOf = (j: any): number => j.pSHeader.communicationIdentifier.communicationIdentityNumber;
/** What a record is: "ipcc", "emailCC", "header", "summary", "emailIRI send", "app http", "iRI-Begin". */
function what(j: any): string {
  const cc = j.payload.cCPayloadSequence?.[0]?.cCContents;
  if (cc) return Object.keys(cc)[0] === 'iPCC' ? 'ipcc' : Object.keys(cc)[0]!;
  const p = j.payload.iRIPayloadSequence[0];
  const c = p.iRIContents;
  if (c.iPIRIPacketReport) return Object.keys(c.iPIRIPacketReport.report)[0]!;
  if (c.emailIRI) return `emailIRI ${c.emailIRI.eventType}`;
  const app = c.iPIRI?.iPIRIContents.nationalIPIRIParameters?.ligApplicationReport;
  return app ? `app ${app.protocol}` : p.iRIType;
}
const appOf = (j: any) => j.payload.iRIPayloadSequence[0].iRIContents.iPIRI.iPIRIContents;

describe('mediation: application IRI and flow summaries end to end (probe over gRPC, mediator, TLS, reference LEMF)', function () {
  const chain = chainHarness('lig-mediation-app-');
  const { logs } = chain;

  it('each intercept gets exactly its records; the IRI-only ones no CC and not one byte of content', async function () {
    this.timeout(60_000);
    const { s } = chain;
    const out = path.join(s.tmp, 'out');
    const lemf = await chain.lemf(out);
    const m = await chain.mediator(appConfig(s, lemf, path.join(s.tmp, 'data')));
    const p = await chain.probe(m.ingestAddress!.port, { spoolDir: path.join(s.tmp, 'spool') });
    const tasks = await tasksWhen(p);
    const byIp = (ip: string) => tasks.tasks.find((t) => t.targets[0]?.kind?.$case === 'ip' && [...(t.targets[0].kind as any).ip.address].join('.') === ip)!.taskId;
    const cc = byIp('10.0.0.2');
    const ir = byIp('10.0.0.3');
    const sm = byIp('10.0.0.4');
    const user = tasks.tasks.find((t) => t.targets[0]?.kind?.$case === 'username')!.taskId;
    const F = Direction.DIRECTION_FROM_TARGET;
    const ccMail = 'From: a@x.org\r\nTo: b@y.org\r\nSubject: CC-SUBJECT\r\n\r\nCC-BODY\r\n';

    const events: Event[] = [
      identityAt(T0, identityEvent({ taskIds: [user], kind: Kind.KIND_SESSION_START, sessionKey: SESSION, username: 'alice', ipv4: Buffer.from([10, 0, 0, 5]), nasIp: Buffer.from([192, 0, 2, 1]) })),
      packet(T0 + 1n, udp('10.0.0.2', '10.0.0.1', 'CC-PAYLOAD'), [[cc, F]]),
      packet(T0 + 2n, udp('10.0.0.3', '10.0.0.1', `${SECRET}-payload`), [[ir, F]]),
      packet(T0 + 3n, udp('10.0.0.4', '10.0.0.1', `${SECRET}-summary-only`), [[sm, F]]),
      iri(T0 + 4n, 'http', { kind: 'request', method: 'GET', host: 'cc.example.org', path: '/cc-path', userAgent: 'cc-agent', ...flow('10.0.0.2', '93.184.216.34', 80) }, [[cc, F]]),
      iri(T0 + 5n, 'http', { kind: 'request', method: 'POST', host: 'iri.example.org', path: `/${SECRET}?q=1`, userAgent: SECRET, ...flow('10.0.0.3', '93.184.216.34', 80) }, [[ir, F]]),
      iri(T0 + 6n, 'smtp', { kind: 'message', sender: 'a@x.org', recipients: 'b@y.org', recipientCount: '1', messageId: '<cc@x.org>', subject: 'CC-SUBJECT', size: String(ccMail.length), status: 'ok', ...flow('10.0.0.2', '192.0.2.25', 587) }, [[cc, F]], ccMail),
      iri(T0 + 7n, 'smtp', { kind: 'message', sender: 'c@x.org', recipients: 'd@y.org', recipientCount: '1', messageId: '<iri@x.org>', subject: SECRET, size: '99', status: 'ok', ...flow('10.0.0.3', '192.0.2.25', 587) }, [[ir, F]], `Subject: ${SECRET}\r\n\r\n${SECRET} body`),
      iri(T0 + 8n, 'dns', { kind: 'response', id: '77', qname: 'shared.example.org', qtype: 'A', rcode: 'NOERROR', answerCount: '1', answers: 'shared.example.org A 192.0.2.80', ...flow('10.0.0.3', '10.0.0.1', 53, 'udp') }, [[cc, F], [ir, F]]),
      iri(T0 + 9n, 'xmpp', { kind: 'message', from: 'alice@example.org/pc', to: 'bob@example.net', type: 'chat', body: `${SECRET} meet at noon`, ...flow('10.0.0.3', '192.0.2.52', 5222) }, [[ir, F]]),
      iri(T0 + 10n, 'bittorrent', { kind: 'announce', infoHash: 'ab'.repeat(20), peerId: 'cd'.repeat(20), port: '6881', event: 'completed', tracker: 'tracker.example.org', ...flow('10.0.0.3', '192.0.2.69', 6969) }, [[ir, F]]),
      iri(T0 + 11n, 'tls', { sni: 'alice.example.org', version: 'TLS 1.3', ...flow('10.0.0.5', '192.0.2.44', 443) }, [[user, F, SESSION]]),
      summary(T0 + 12n, udp('10.0.0.3', '10.0.0.1', `${SECRET}-in-a-summary`), FlowSummary_Trigger.TRIGGER_TIMER, [[cc, F], [ir, F], [sm, F]]),
      summary(T0 + 13n, udp('10.0.0.4', '10.0.0.1', `${SECRET}-at-the-end`), FlowSummary_Trigger.TRIGGER_REPORT_END, [[sm, F]]),
    ];
    for (const e of events) assert.ok(p.submit(e));
    await p.drained();
    await lemfHolds(lemf, { [CC]: { cc: 2, iri: 3 }, [IRI]: { iri: 7 }, [SUM]: { iri: 2 }, [USER]: { iri: 2 } });
    const counters = m.status().counters;
    await chain.stop();

    // --- exactly the expected records, per intercept and interface ---------------------------
    const hi2 = storedJson(out, 'hi2');
    const hi3 = storedJson(out, 'hi3');
    const per = (recs: any[], liid: string) => recs.filter((j) => liidOf(j) === liid);
    assert.deepEqual(hi3.map((j) => [liidOf(j), what(j)]), [[CC, 'ipcc'], [CC, 'emailCC']]);
    assert.deepEqual(per(hi2, CC).map(what), ['app http', 'emailIRI e-mail-send', 'app dns']);
    assert.deepEqual(per(hi2, IRI).map(what), ['header', 'app http', 'emailIRI e-mail-send', 'app dns', 'app xmpp', 'app bittorrent', 'summary']);
    assert.deepEqual(per(hi2, SUM).map(what), ['summary', 'summary']);
    assert.deepEqual(per(hi2, USER).map(what), ['iRI-Begin', 'app tls']);
    for (const liid of [CC, IRI, SUM, USER]) {
      const recs = [...per(hi2, liid), ...per(hi3, liid)];
      assert.equal(new Set(recs.map(cinOf)).size, 1, `${liid}: one communication`);
    }
    // each interface numbers a communication 0, 1, 2, ...
    for (const recs of [hi2, hi3]) {
      const next = new Map<string, number>();
      for (const j of recs) {
        const k = `${liidOf(j)}/${cinOf(j)}`;
        assert.equal(j.pSHeader.sequenceNumber, next.get(k) ?? 0, k);
        next.set(k, (next.get(k) ?? 0) + 1);
      }
    }

    // --- the content intercept: everything the probe sent --------------------------------------
    const ccMailCc = hi3[1].payload.cCPayloadSequence[0];
    assert.deepEqual([ccMailCc.payloadDirection, ccMailCc.cCContents.emailCC['email-Format'], Buffer.from(ccMailCc.cCContents.emailCC.content, 'hex').toString()], ['fromTarget', 'application', ccMail]);
    assert.equal(cinOf(hi3[1]), cinOf(per(hi2, CC)[1]), 'EmailCC in the EmailIRI\'s CIN');
    const ccHttp = appOf(per(hi2, CC)[0]).nationalIPIRIParameters.ligApplicationReport;
    assert.deepEqual(ccHttp.fields.map((f: any) => f.name), ['host', 'kind', 'method', 'path', 'userAgent']);

    // --- the IRI-only intercepts: addressing only ------------------------------------------------
    const [header, http, mail, dns, xmpp, bt, sum] = per(hi2, IRI);
    assert.equal(Buffer.from(header.payload.iRIPayloadSequence[0].iRIContents.iPIRIPacketReport.report.header.header, 'hex').length, 28);
    assert.deepEqual(appOf(http).nationalIPIRIParameters.ligApplicationReport.fields, [{ name: 'host', value: 'iri.example.org' }, { name: 'kind', value: 'request' }]);
    const e = mail.payload.iRIPayloadSequence[0].iRIContents.emailIRI;
    assert.deepEqual([e['e-mail-Sender'], e['e-mail-Recipients'], Buffer.from(e['message-ID'], 'hex').toString(), e['client-Port'], e['server-Port']], ['c@x.org', ['d@y.org'], '<iri@x.org>', 40000, 587]);
    assert.ok(!appOf(dns).nationalIPIRIParameters.ligApplicationReport.fields.some((f: any) => f.name === 'id'));
    assert.deepEqual(appOf(xmpp).nationalIPIRIParameters.ligApplicationReport.fields.map((f: any) => f.name), ['from', 'kind', 'to', 'type']);
    assert.ok(!appOf(bt).nationalIPIRIParameters.ligApplicationReport.fields.some((f: any) => f.name === 'event'));
    const s1 = sum.payload.iRIPayloadSequence[0].iRIContents.iPIRIPacketReport.report.summary;
    assert.deepEqual([s1.trigger, s1.packetCount, s1.byteCount, Buffer.from(s1.header, 'hex').length], ['flowTimerExpiration', 7, 900, 28]);
    assert.equal(per(hi2, SUM)[1].payload.iRIPayloadSequence[0].iRIContents.iPIRIPacketReport.report.summary.trigger, 'reportEnd');
    // the session's match: its CIN (the session's, not the intercept's own) and its user
    const [begin, tls] = per(hi2, USER);
    assert.equal(cinOf(tls), cinOf(begin));
    assert.deepEqual([Buffer.from(appOf(tls).targetUsername, 'hex').toString(), appOf(tls).internetAccessType], ['alice', 'wirelessLAN']);

    // not one stored byte of what the IRI-only intercepts may not receive, in any form
    const secretHex = Buffer.from(SECRET).toString('hex');
    for (const f of [RAW_FILES.hi2, RAW_FILES.hi3, 'records.jsonl']) {
      const text = fs.readFileSync(path.join(out, f)).toString('latin1');
      assert.ok(!text.includes(SECRET) && !text.toLowerCase().includes(secretHex), `${f} holds none of it`);
    }
    // ... while the content intercept's content is all there (the check can fail)
    const jsonl = fs.readFileSync(path.join(out, 'records.jsonl'), 'utf8');
    assert.ok(jsonl.includes('/cc-path') && jsonl.includes('ligApplicationReport'), 'records.jsonl holds the decoded application report');
    assert.ok(fs.readFileSync(path.join(out, RAW_FILES.hi3)).includes('CC-BODY'));

    // dropped for the IRI-only intercept: method, path, User-Agent; subject; DNS id; XMPP body; the announce event
    assert.deepEqual(
      [counters.iriEvents, counters.flowSummaries, counters.summariesNotWanted, counters.headerReportsSuppressed, counters.appContentRefused, counters.appFieldsDropped],
      [8, 2, 1, 1, 1, 7],
    );

    await oracleAccepts(this, out);
    const text = logs.join('\n');
    assert.ok(!text.includes('LIID-APP') && !text.includes('alice') && !text.includes('10.0.0.'), 'no LIID or target in the logs');
  });
});

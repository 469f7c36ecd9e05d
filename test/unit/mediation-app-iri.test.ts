/**
 * Application IRI (src/mediation/app-iri.ts): each protocol's events → EmailIRI, EmailCC or an
 * application report, for content and IRI-only tasks; the IRI-only allowlist holds against a
 * hostile probe (content fields, content under addressing names, odd keys, content bytes: not
 * one byte of it in any record); limits cut and count; every record kind passes etsi-oracle.
 */
import { strict as assert } from 'node:assert';
import { MAX_APP_FIELD_VALUE_CHARS, MAX_APP_REPORT_FIELDS } from '../../src/etsi/app-report';
import { RecordContext, Stamp, appReportPdu, emailCcPdu, emailIriPdu } from '../../src/etsi/build';
import { ipAddress } from '../../src/etsi/common';
import { toJsonValue } from '../../src/etsi/json';
import { PS_PDU } from '../../src/etsi/ps-pdu';
import { decodePsPdu } from '../../src/etsi/stream';
import { Direction, type IriEvent } from '../../src/gen/lig/v1/ingest';
import {
  AppIriCounters, AppMatch, AppRecord, IRI_ONLY_FIELDS, MAX_EMAIL_RECIPIENTS, TaskKind, appRecords, newAppIriCounters, prepareAppEvent,
} from '../../src/mediation/app-iri';
import { RecordEncoder, type ResolvedTask, newEncodeCounters, routeBatch } from '../../src/mediation/encode-batch';
import { Numbering } from '../../src/mediation/numbering';
import { APP_CONTENT_FIELDS, APP_FIELDS } from '../../src/probe/app';
import { agencyTcp, batchOf, intercept } from '../mediation-fixtures';
import { diffWithXer, oracleXerOf } from '../helpers/oracle';

const FLOW = { client: '10.0.0.2', clientPort: '40000', server: '93.184.216.34', serverPort: '80', transport: 'tcp' };
const ev = (protocol: string, fields: Record<string, string>, content?: string, flow: Record<string, string> = FLOW): IriEvent => ({
  matches: [], protocol, fields: { ...flow, ...fields }, content: Buffer.from(content ?? '', 'latin1'),
});
const FROM: AppMatch = { direction: Direction.DIRECTION_FROM_TARGET, sessionKey: '' };
const TO: AppMatch = { direction: Direction.DIRECTION_TO_TARGET, sessionKey: '' };

function records(e: IriEvent, kind: TaskKind, m: AppMatch = FROM, c: AppIriCounters = newAppIriCounters()): AppRecord[] {
  const p = prepareAppEvent(e, kind, c);
  return p ? appRecords(p, m, c) : [];
}
const report = (r: AppRecord[]) => {
  assert.equal(r.length, 1);
  assert.equal(r[0]!.kind, 'appReport');
  return (r[0] as Extract<AppRecord, { kind: 'appReport' }>).report;
};
const fieldsOf = (r: AppRecord[]) => report(r).report.fields.map((f) => `${f.name}=${f.value}`);
const emailOf = (r: AppRecord) => {
  assert.equal(r.kind, 'emailIri');
  return (r as Extract<AppRecord, { kind: 'emailIri' }>).contents;
};

const CTX: RecordContext = { liid: 'LIID-9', operatorId: 'OP', cin: 5 };
const T: Stamp = { seconds: 1_700_000_000, micros: 1 };
/** The PS-PDU of a record, as the mediator encodes it. */
function pduOf(r: AppRecord, seq: number): Buffer {
  if (r.kind === 'emailIri') return emailIriPdu(CTX, seq, T, 'iRI-Report', r.contents);
  if (r.kind === 'emailCc') return emailCcPdu(CTX, seq, T, r.direction, 'application', r.content);
  return appReportPdu(CTX, seq, T, r.report);
}

describe('mediation app-iri: application events → records', () => {
  describe('web, TLS, DNS, XMPP, BitTorrent → application reports', () => {
    const request = ev('http', { kind: 'request', method: 'GET', host: 'example.org', path: '/a/b?q=1', userAgent: 'curl/8' });

    it('http, content task: every field, the flow ends and transport, the target the client (FROM_TARGET)', () => {
      const r = report(records(request, 'content'));
      assert.deepEqual(r.report.fields.map((f) => `${f.name}=${f.value}`), ['host=example.org', 'kind=request', 'method=GET', 'path=/a/b?q=1', 'userAgent=curl/8']);
      assert.deepEqual(r.report.client, { address: '10.0.0.2', port: 40000 });
      assert.deepEqual(r.report.server, { address: '93.184.216.34', port: 80 });
      assert.equal(r.report.transport, 6);
      assert.deepEqual(r.targetIPAddress, ipAddress('10.0.0.2'));
      assert.equal(r.iPVersion, 'iPV4');
      assert.equal(r.targetUsername, '');
      assert.equal(r.internetAccessType, 'undefined');
    });

    it('http, IRI-only task: kind and host only; method, path, User-Agent dropped and counted', () => {
      const c = newAppIriCounters();
      assert.deepEqual(fieldsOf(records(request, 'iri-only', FROM, c)), ['host=example.org', 'kind=request']);
      assert.equal(c.appFieldsDropped, 3);
      const resp = ev('http', { kind: 'response', status: '404', method: 'GET', host: 'example.org' });
      assert.deepEqual(fieldsOf(records(resp, 'iri-only')), ['host=example.org', 'kind=response']);
    });

    it('the target end follows the direction: TO_TARGET the server, BOTH the client, UNSPECIFIED none', () => {
      assert.deepEqual(report(records(request, 'content', TO)).targetIPAddress, ipAddress('93.184.216.34'));
      assert.deepEqual(report(records(request, 'content', { ...FROM, direction: Direction.DIRECTION_BOTH })).targetIPAddress, ipAddress('10.0.0.2'));
      assert.equal(report(records(request, 'content', { ...FROM, direction: Direction.DIRECTION_UNSPECIFIED })).targetIPAddress, undefined);
    });

    it('a match naming an access session: its user name and wirelessLAN; a session not known: empty name', () => {
      const r = report(records(request, 'iri-only', { ...FROM, sessionKey: 'radius:nas/1', sessionUser: 'alice' }));
      assert.equal(r.targetUsername, 'alice');
      assert.equal(r.internetAccessType, 'wirelessLAN');
      const u = report(records(request, 'iri-only', { ...FROM, sessionKey: 'radius:nas/2' }));
      assert.equal(u.targetUsername, '');
      assert.equal(u.internetAccessType, 'wirelessLAN');
    });

    it('tls over IPv6: sni, alpn items, version, ech all pass for IRI-only', () => {
      const e = ev('tls', { sni: 'mail.example.org', alpn: 'h2,http/1.1', version: 'TLS 1.3', ech: 'true' }, undefined,
        { client: '2001:db8::2', clientPort: '50000', server: '2001:db8::443', serverPort: '443', transport: 'tcp' });
      const r = report(records(e, 'iri-only'));
      assert.deepEqual(r.report.fields.map((f) => `${f.name}=${f.value}`), ['alpn=h2', 'alpn=http/1.1', 'ech=true', 'sni=mail.example.org', 'version=TLS 1.3']);
      assert.equal(r.iPVersion, 'iPV6');
      assert.deepEqual(r.targetIPAddress, ipAddress('2001:db8::2'));
    });

    it('dns: one field per answer; the transaction id only for content tasks', () => {
      const e = ev('dns', {
        kind: 'response', id: '4660', qname: 'example.org', qtype: 'A', rcode: 'NOERROR', answerCount: '2',
        answers: 'example.org CNAME web.example.org; web.example.org A 93.184.216.34',
      }, undefined, { client: '10.0.0.2', clientPort: '5353', server: '10.0.0.1', serverPort: '53', transport: 'udp' });
      const want = ['answerCount=2', 'answers=example.org CNAME web.example.org', 'answers=web.example.org A 93.184.216.34', 'kind=response', 'qname=example.org', 'qtype=A', 'rcode=NOERROR'];
      assert.deepEqual(fieldsOf(records(e, 'iri-only')), want);
      assert.deepEqual(fieldsOf(records(e, 'content')), [...want.slice(0, 3), 'id=4660', ...want.slice(3)]);
      assert.equal(report(records(e, 'content')).report.transport, 17);
    });

    it('xmpp: JIDs pass, the body and stanza id only for content tasks; STARTTLS makes no record', () => {
      const e = ev('xmpp', { kind: 'message', from: 'alice@example.org/phone', to: 'bob@example.net', type: 'chat', id: 'm1', body: 'meet at noon' });
      assert.deepEqual(fieldsOf(records(e, 'iri-only')), ['from=alice@example.org/phone', 'kind=message', 'to=bob@example.net', 'type=chat']);
      assert.ok(fieldsOf(records(e, 'content')).includes('body=meet at noon'));
      const c = newAppIriCounters();
      assert.deepEqual(records(ev('xmpp', { kind: 'starttls' }), 'content', FROM, c), []);
      assert.equal(c.appUnmapped, 1);
    });

    it('bittorrent: info-hashes and peers one per field; the announce event and swarm statistics only for content tasks', () => {
      const h1 = 'aa'.repeat(20);
      const h2 = 'bb'.repeat(20);
      const announce = ev('bittorrent', { kind: 'announce', infoHash: `${h1},${h2}`, peerId: 'cc'.repeat(20), port: '6881', event: 'started', tracker: 'tracker.example.org:6969' });
      assert.deepEqual(fieldsOf(records(announce, 'iri-only')), [`infoHash=${h1}`, `infoHash=${h2}`, 'kind=announce', `peerId=${'cc'.repeat(20)}`, 'port=6881', 'tracker=tracker.example.org:6969']);
      assert.ok(fieldsOf(records(announce, 'content')).includes('event=started'));
      const resp = ev('bittorrent', { kind: 'announce-response', seeders: '3', leechers: '4', peerCount: '2', peers: '192.0.2.7:6881,[2001:db8::7]:51413' });
      assert.deepEqual(fieldsOf(records(resp, 'iri-only')), ['kind=announce-response', 'peerCount=2', 'peers=192.0.2.7:6881', 'peers=[2001:db8::7]:51413']);
    });
  });

  describe('e-mail → EmailIRI (and EmailCC for content tasks)', () => {
    const MSG = 'From: a@x.org\r\nTo: b@y.org\r\nSubject: plans\r\n\r\nthe body\r\n';
    const send = ev('smtp', {
      kind: 'message', sender: 'a@x.org', recipients: 'b@y.org,c@z.org', recipientCount: '2', messageId: '<1@x.org>', subject: 'plans',
      size: String(MSG.length), status: 'ok', reply: '250', helo: 'pc.x.org', username: 'alice',
    }, MSG, { client: '10.0.0.2', clientPort: '40001', server: '192.0.2.25', serverPort: '587', transport: 'tcp' });

    const SENT = {
      eventType: 'e-mail-send', 'client-Address': ipAddress('10.0.0.2'), 'server-Address': ipAddress('192.0.2.25'), 'client-Port': 40001,
      'server-Port': 587, 'server-Octets-Sent': 0, 'client-Octets-Sent': MSG.length, 'protocol-ID': 'smtp', 'e-mail-Sender': 'a@x.org',
      'e-mail-Recipients': ['b@y.org', 'c@z.org'], status: 'operation-succeeded', 'total-Recipient-Count': 2,
      'message-ID': Buffer.from('<1@x.org>'), aAAInformation: { aSMTPAAAInformation: { username: 'alice' } },
    };

    it('an SMTP message, content task: EmailIRI e-mail-send, and EmailCC (the message) from the target', () => {
      const r = records(send, 'content');
      assert.equal(r.length, 2);
      assert.deepEqual(emailOf(r[0]!), SENT);
      assert.deepEqual(r[1], { kind: 'emailCc', direction: 'fromTarget', content: Buffer.from(MSG, 'latin1') });
      const to = records(send, 'content', TO);
      assert.equal((to[1] as Extract<AppRecord, { kind: 'emailCc' }>).direction, 'toTarget');
    });

    it('the same message, IRI-only task: the same EmailIRI, no EmailCC, the content refused and counted', () => {
      const c = newAppIriCounters();
      const r = records(send, 'iri-only', FROM, c);
      assert.equal(r.length, 1);
      assert.deepEqual(emailOf(r[0]!), SENT);
      assert.equal(c.appContentRefused, 1);
      assert.equal(c.appFieldsDropped, 2, 'subject and reply');
    });

    it('logons: e-mail-logon or -logon-failure with the AAA result; CRAM-MD5 named; POP3 and IMAP their own AAA', () => {
      const fail = emailOf(records(ev('smtp', { kind: 'logon', username: 'alice', mechanism: 'CRAM-MD5', status: 'failed' }), 'iri-only')[0]!);
      assert.equal(fail.eventType, 'e-mail-logon-failure');
      assert.equal(fail.status, 'operation-failed');
      assert.deepEqual(fail.aAAInformation, { aSMTPAAAInformation: { username: 'alice', authMethod: 'cramMD5', aAAResult: 'aAAFailed' } });
      const pop = emailOf(records(ev('pop3', { kind: 'logon', username: 'bob', mechanism: 'USER', status: 'ok' }), 'content')[0]!);
      assert.equal(pop.eventType, 'e-mail-logon');
      assert.equal(pop['protocol-ID'], 'pop3');
      assert.deepEqual(pop.aAAInformation, { pOP3AAAInformation: { username: 'bob', aAAResult: 'aAASucceeded' } });
      const imap = emailOf(records(ev('imap', { kind: 'logon', username: 'carol', mechanism: 'LOGIN', status: 'ok' }), 'content')[0]!);
      assert.equal(imap['protocol-ID'], 'imap4');
      assert.deepEqual(imap.aAAInformation, { iMAPAAAInformation: { username: 'carol', aAAResult: 'aAASucceeded' } });
    });

    it('a POP3 download to the target: e-mail-download, the octets the server sent, EmailCC toward the target', () => {
      const d = ev('pop3', { kind: 'download', command: 'RETR', messageNumber: '1', size: '42', status: 'ok', username: 'bob', sender: 'a@x.org', recipients: 'bob@y.org', recipientCount: '1', messageId: '<2@x.org>', subject: 'hi' }, 'M'.repeat(42));
      const r = records(d, 'content', TO);
      const e = emailOf(r[0]!);
      assert.equal(e.eventType, 'e-mail-download');
      assert.equal(e['server-Octets-Sent'], 42);
      assert.equal(e['client-Octets-Sent'], 0);
      assert.equal(e.status, 'operation-succeeded');
      assert.deepEqual(r[1], { kind: 'emailCc', direction: 'toTarget', content: Buffer.from('M'.repeat(42)) });
      const incomplete = emailOf(records(ev('imap', { kind: 'download', size: '9', status: 'incomplete' }), 'content')[0]!);
      assert.equal(incomplete.status, 'status-unknown');
    });

    it('STARTTLS and unknown kinds make no record; unknown protocols neither (counted)', () => {
      const c = newAppIriCounters();
      assert.deepEqual(records(ev('smtp', { kind: 'starttls', helo: 'pc' }), 'content', FROM, c), []);
      assert.deepEqual(records(ev('imap', { kind: 'search' }), 'content', FROM, c), []);
      assert.deepEqual(records(ev('email', { kind: 'message' }), 'content', FROM, c), []);
      assert.deepEqual(records(ev('HTTP', { host: 'a' }), 'content', FROM, c), []);
      assert.deepEqual(records(ev('__proto__', { host: 'a' }), 'content', FROM, c), []);
      assert.equal(c.appUnmapped, 2);
      assert.equal(c.appUnknownProtocol, 3);
    });
  });

  it("the IRI-only allowlist names only the analysers' fields, and none they call content", () => {
    assert.deepEqual(Object.keys(IRI_ONLY_FIELDS).sort(), Object.keys(APP_FIELDS).sort());
    for (const [protocol, allowed] of Object.entries(IRI_ONLY_FIELDS)) {
      for (const name of Object.keys(allowed)) {
        assert.ok(APP_FIELDS[protocol]!.includes(name), `${protocol}.${name} is an analyser field`);
        assert.ok(!APP_CONTENT_FIELDS[protocol]!.includes(name), `${protocol}.${name} is not content`);
      }
    }
  });

  describe('IRI-only enforcement against a hostile probe', () => {
    const S = 'SeCrEt';
    const hostile: IriEvent[] = [
      ev('http', { kind: 'request', host: `example.org/${S}?q=1`, path: `/${S}`, Host: `${S}.example.org`, 'host ': 'x', userAgent: S, sni: `${S}.org`, method: S, Path: S }),
      ev('http', { kind: `request ${S}`, host: 'ok.example.org' }),
      ev('tls', { sni: `a ${S}`, alpn: `h2,${S} words`, version: S, ech: S }),
      ev('dns', { kind: 'response', qname: `${S} with spaces`, answers: `x A 1.2.3.4; this is ${S} text in many words` }),
      ev('xmpp', { kind: 'message', from: 'a@x.org', to: `b@y.org ${S}`, jid: `${S} body text`, body: S, type: `${S} x`, id: S }),
      ev('bittorrent', { kind: 'announce', infoHash: S, peerId: `${S}aa`, peers: `1.2.3.4:1,${S}`, event: S, seeders: S, port: '99999' }),
      ev('smtp', { kind: 'message', sender: `a@x.org ${S}`, recipients: `b@y.org,${S} body`, messageId: `<${S} in the id>`, subject: S, username: `u ${S}`, status: 'ok', size: '10' }, `${S}-content`),
      ev('pop3', { kind: 'download', subject: S, status: 'ok' }, `${S}-download`),
      ev('imap', { kind: 'download', sender: 'a@x.org', contentTruncated: S }, `${S}-imap`),
      { matches: [], protocol: 'http', fields: JSON.parse(`{"__proto__": "${S}", "constructor": "${S}", "kind": "request", "client": "10.0.0.2", "clientPort": "1", "server": "10.0.0.3", "serverPort": "80", "transport": "tcp"}`) as Record<string, string>, content: Buffer.from(S) },
    ];

    it('not one byte of what an IRI-only task may not receive reaches any record', () => {
      const c = newAppIriCounters();
      let seq = 0;
      for (const e of hostile) {
        for (const m of [FROM, TO, { ...FROM, sessionKey: 'radius:n/1', sessionUser: 'alice' }]) {
          for (const r of records(e, 'iri-only', m, c)) {
            assert.notEqual(r.kind, 'emailCc');
            if (r.kind === 'appReport') for (const f of r.report.report.fields) assert.ok(Object.hasOwn(IRI_ONLY_FIELDS[e.protocol]!, f.name), f.name);
            const bytes = pduOf(r, seq++);
            assert.equal(bytes.toString('latin1').toLowerCase().indexOf(S.toLowerCase()), -1, `${e.protocol}: ${decodePsPdu(bytes) ? JSON.stringify(toJsonValue(decodePsPdu(bytes))) : ''}`);
          }
        }
      }
      assert.ok(seq >= hostile.length * 3 - 3, `${seq} records made`);
      assert.ok(c.appFieldsDropped > 10 && c.appFieldsInvalid > 10, JSON.stringify(c));
      assert.equal(c.appContentRefused, 4 * 3);
    });

    it('the same events for a content task do carry what the probe sent (the test can fail)', () => {
      const found = hostile.flatMap((e) => records(e, 'content')).map((r, i) => pduOf(r, i).toString('latin1'));
      assert.ok(found.some((b) => b.includes(S)));
      assert.ok(found.some((b) => b.includes(`${S}-content`)));
    });
  });

  describe('limits and bad flow fields: cut or left out, counted', () => {
    it('a value over MAX_APP_FIELD_VALUE_CHARS is cut; fields over MAX_APP_REPORT_FIELDS are left out', () => {
      const c = newAppIriCounters();
      const peers = Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}:6881`).join(',');
      const r = report(records(ev('bittorrent', { kind: 'dht-peers', peers, nodeId: 'x'.repeat(3000) }), 'content', FROM, c));
      assert.equal(r.report.fields.length, MAX_APP_REPORT_FIELDS);
      assert.equal(r.report.fields.find((f) => f.name === 'nodeId')?.value.length, MAX_APP_FIELD_VALUE_CHARS);
      assert.equal(c.appFieldsCut, 2);
      assert.doesNotThrow(() => pduOf({ kind: 'appReport', report: r }, 1));
    });

    it('recipients past MAX_EMAIL_RECIPIENTS, over-long sender, user name and message-ID: left out, counted', () => {
      const c = newAppIriCounters();
      const rcpts = Array.from({ length: MAX_EMAIL_RECIPIENTS + 10 }, (_, i) => `r${i}@example.org`).join(',');
      const e = emailOf(records(ev('smtp', { kind: 'message', sender: `${'s'.repeat(300)}@x.org`, recipients: rcpts, recipientCount: String(MAX_EMAIL_RECIPIENTS + 10), username: 'u'.repeat(65), messageId: `<${'m'.repeat(1000)}>`, status: 'ok' }), 'content', FROM, c)[0]!);
      assert.equal(e['e-mail-Recipients']!.length, MAX_EMAIL_RECIPIENTS);
      assert.equal(e['total-Recipient-Count'], MAX_EMAIL_RECIPIENTS + 10);
      assert.equal(e['e-mail-Sender'], undefined);
      assert.equal(e.aAAInformation, undefined);
      assert.equal(e['message-ID'], undefined);
      assert.ok(c.appFieldsCut >= 13, JSON.stringify(c));
      assert.doesNotThrow(() => pduOf({ kind: 'emailIri', contents: e }, 1));
    });

    it('a flow address that is not one, a port out of range, an unknown transport: left out, counted', () => {
      const c = newAppIriCounters();
      const r = report(records(ev('http', { kind: 'request', host: 'a.org' }, undefined, { client: 'not-an-ip', server: '10.0.0.1', serverPort: '70000', transport: 'sctp' }), 'content', FROM, c));
      assert.equal(r.report.client, undefined);
      assert.deepEqual(r.report.server, { address: '10.0.0.1' });
      assert.equal(r.report.transport, undefined);
      assert.equal(r.targetIPAddress, undefined);
      assert.equal(c.appFieldsInvalid, 3);
    });
  });

  it('every record kind passes etsi-oracle and agrees with lig (the extension aside)', async function () {
    this.timeout(120_000);
    const all: AppRecord[] = [
      ...records(ev('http', { kind: 'request', host: 'example.org', path: '/x' }), 'content'),
      ...records(ev('tls', { sni: 'example.org', version: 'TLS 1.3' }, undefined, { client: '2001:db8::2', server: '2001:db8::1', transport: 'tcp' }), 'iri-only', { ...FROM, sessionKey: 'k', sessionUser: 'alice' }),
      ...records(ev('dns', { kind: 'query', qname: 'example.org', qtype: 'AAAA' }), 'iri-only'),
      ...records(ev('xmpp', { kind: 'bind', jid: 'alice@example.org/phone' }), 'iri-only', TO),
      ...records(ev('bittorrent', { kind: 'handshake', infoHash: 'ab'.repeat(20), peerId: 'cd'.repeat(20) }), 'iri-only'),
      ...records(ev('smtp', { kind: 'message', sender: '', recipients: 'b@y.org', recipientCount: '1', messageId: '<1@x>', size: '5', status: 'ok', username: 'alice' }, 'hello'), 'content'),
      ...records(ev('smtp', { kind: 'logon', username: 'alice', mechanism: 'CRAM-MD5', status: 'failed' }), 'iri-only'),
      ...records(ev('pop3', { kind: 'download', size: '5', status: 'ok', username: 'bob', sender: 'a@x.org' }, 'world'), 'content', TO),
      ...records(ev('imap', { kind: 'logon', username: 'carol', status: 'ok' }), 'iri-only'),
    ];
    assert.deepEqual([...new Set(all.map((r) => r.kind))].sort(), ['appReport', 'emailCc', 'emailIri']);
    const pdus = all.map((r, i) => pduOf(r, i));
    const xer = await oracleXerOf(this, pdus);
    xer.forEach((x, k) => {
      const json = toJsonValue(decodePsPdu(pdus[k]!)) as { payload: { iRIPayloadSequence?: Array<{ iRIContents: { iPIRI?: { iPIRIContents: { nationalIPIRIParameters?: Record<string, unknown> } } } }> } };
      const np = json.payload.iRIPayloadSequence?.[0]?.iRIContents.iPIRI?.iPIRIContents.nationalIPIRIParameters;
      if (np) delete np.ligApplicationReport;
      assert.deepEqual(diffWithXer(PS_PDU, json, x, `pdu ${k}`), []);
    });
  });

  describe('routed with the packets (encode-batch.ts)', () => {
    const CONTENT = intercept('LIID-CONTENT', 'content');
    const IRI = intercept('LIID-IRI', 'iri-only');
    const TASKS = new Map<bigint, ResolvedTask>([[11n, { intercept: CONTENT, cin: 3 }], [22n, { intercept: IRI, cin: 4 }]]);
    const MSG = 'Subject: x\r\n\r\nthe message\r\n';
    const smtp = ev('smtp', { kind: 'message', sender: 'a@x.org', recipients: 'b@y.org', recipientCount: '1', size: String(MSG.length), status: 'ok', subject: 'x' }, MSG);
    const iriAt = (e: IriEvent, tasks: Array<[bigint, Direction, string?]>) => ({
      timeUs: 1_700_000_000_000_000n,
      kind: { $case: 'iri' as const, iri: { ...e, matches: tasks.map(([taskId, direction, sessionKey]) => ({ taskId, direction, sessionKey: sessionKey ?? '' })) } },
    });

    function route(events: ReturnType<typeof iriAt>[], sessionUser?: (i: unknown, key: string) => string | undefined) {
      const c = newEncodeCounters();
      const shares = routeBatch(batchOf(1n, events), (id) => TASKS.get(id), c, undefined, sessionUser);
      const enc = new RecordEncoder([agencyTcp()]);
      const out = new Map<string, ReturnType<typeof decodePsPdu>[]>();
      for (const [k, share] of shares) out.set(k, enc.encode(share, new Numbering(), c).map((b) => decodePsPdu(b)));
      return { out, c };
    }

    it('one e-mail event for a content and an IRI-only task: an EmailIRI each in its own CIN, the EmailCC for the content task only', () => {
      const { out, c } = route([iriAt(smtp, [[11n, Direction.DIRECTION_FROM_TARGET], [22n, Direction.DIRECTION_FROM_TARGET], [99n, Direction.DIRECTION_FROM_TARGET], [11n, Direction.DIRECTION_TO_TARGET]])]);
      const hi2 = out.get('lea-1/hi2')!.map((p) => toJsonValue(p) as any);
      const hi3 = out.get('lea-1/hi3')!.map((p) => toJsonValue(p) as any);
      assert.deepEqual(hi2.map((p) => [Buffer.from(p.pSHeader.lawfulInterceptionIdentifier, 'hex').toString(), p.pSHeader.communicationIdentifier.communicationIdentityNumber, Object.keys(p.payload.iRIPayloadSequence[0].iRIContents)[0]]),
        [['LIID-CONTENT', 3, 'emailIRI'], ['LIID-IRI', 4, 'emailIRI']]);
      assert.equal(hi3.length, 1);
      const cc = hi3[0].payload.cCPayloadSequence[0];
      assert.equal(Buffer.from(hi3[0].pSHeader.lawfulInterceptionIdentifier, 'hex').toString(), 'LIID-CONTENT');
      assert.equal(hi3[0].pSHeader.communicationIdentifier.communicationIdentityNumber, 3);
      assert.deepEqual([cc.payloadDirection, cc.cCContents.emailCC['email-Format'], Buffer.from(cc.cCContents.emailCC.content, 'hex').toString()], ['fromTarget', 'application', MSG]);
      assert.deepEqual([c.iriEvents, c.unknownTasks, c.matches, c.ccRecords, c.iriRecords, c.appContentRefused], [1, 1, 2, 1, 2, 1]);
    });

    it("an application report names the match's session by its user; an empty event makes nothing", () => {
      const { out, c } = route([
        iriAt(ev('dns', { kind: 'query', qname: 'example.org' }), [[22n, Direction.DIRECTION_FROM_TARGET, 'radius:nas/7']]),
        iriAt({ matches: [], protocol: 'dns', fields: {}, content: Buffer.alloc(0) }, [[22n, Direction.DIRECTION_FROM_TARGET]]),
      ], (_i, key) => (key === 'radius:nas/7' ? 'alice' : undefined));
      const recs = out.get('lea-1/hi2')!.map((p) => toJsonValue(p) as any);
      assert.equal(recs.length, 1);
      const contents = recs[0].payload.iRIPayloadSequence[0].iRIContents.iPIRI.iPIRIContents;
      assert.deepEqual([Buffer.from(contents.targetUsername, 'hex').toString(), contents.internetAccessType, contents.nationalIPIRIParameters.ligApplicationReport.protocol], ['alice', 'wirelessLAN', 'dns']);
      assert.equal(c.unsupportedEvents, 1);
    });
  });
});

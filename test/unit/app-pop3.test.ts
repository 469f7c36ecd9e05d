/**
 * The POP3 analyser (src/probe/app/pop3.ts) on a session written per RFC 1939 (CAPA and
 * PIPELINING RFC 2449, STLS RFC 2595, AUTH RFC 5034): logons and their outcome, RETR and TOP
 * downloads with the dot-unstuffed message, multi-line responses skipped, STLS stops reading.
 * Every way of feeding; truncation and garbage.
 */
import { strict as assert } from 'node:assert';
import { MAIL_CONTENT_FIELDS } from '../../src/probe/app/mail';
import { Pop3Analyser, sniffPop3 } from '../../src/probe/app/pop3';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, crlf, ev, feedWhole, plain } from '../helpers/app-feed';

const make = (): StreamAnalyser => new Pop3Analyser(newCounters());

const MSG = crlf('Message-ID: <abc@example.org>', 'From: Bob <bob@example.org>', 'To: mrose@example.net, Carol <carol@example.com>', 'Subject: lunch', '', 'see you', '.at noon');
const STUFFED = MSG.replace('\r\n.at noon', '\r\n..at noon');
const HEAD = crlf('Message-ID: <def@example.org>', 'From: dave@example.org', '');

const SESSION: Turn[] = [
  ['server', crlf('+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>')],
  ['client', crlf('CAPA')],
  ['server', crlf('+OK Capability list follows', 'USER', 'PIPELINING', 'STLS', '.')],
  ['client', crlf('USER mrose', 'PASS tanstaaf')],
  ['server', crlf("+OK mrose's maildrop has 2 messages (320 octets)") + crlf("+OK maildrop locked and ready")],
  ['client', crlf('LIST', 'RETR 1')],
  ['server', crlf('+OK 2 messages', '1 120', '2 200', '.', `+OK ${MSG.length} octets`) + STUFFED + crlf('.')],
  ['client', crlf('TOP 2 0', 'DELE 1', 'STLS')],
  ['server', crlf('+OK top of message follows') + HEAD + crlf('.', '+OK message 1 deleted', '+OK Begin TLS negotiation')],
  ['client', '\x16\x03\x01\x00\x05RETR 2\r\n'],
];

describe('app: POP3 analyser', () => {
  it('logons, RETR and TOP downloads with the message, STLS; every way of feeding', () => {
    assertEveryFeed(make, SESSION, [
      ev('pop3', 4, 'server', { kind: 'logon', mechanism: 'USER', status: 'ok', username: 'mrose' }),
      ev(
        'pop3',
        6,
        'server',
        {
          kind: 'download',
          command: 'RETR',
          messageNumber: '1',
          size: String(MSG.length),
          status: 'ok',
          username: 'mrose',
          messageId: '<abc@example.org>',
          sender: 'bob@example.org',
          recipients: 'mrose@example.net,carol@example.com',
          recipientCount: '2',
          subject: 'lunch',
        },
        { contentFields: MAIL_CONTENT_FIELDS, content: MSG },
      ),
      ev(
        'pop3',
        8,
        'server',
        { kind: 'download', command: 'TOP', messageNumber: '2', size: String(HEAD.length), status: 'ok', username: 'mrose', messageId: '<def@example.org>', sender: 'dave@example.org' },
        { contentFields: MAIL_CONTENT_FIELDS, content: HEAD },
      ),
      ev('pop3', 8, 'server', { kind: 'starttls' }),
    ]);
  });

  it('a failed PASS, APOP and AUTH PLAIN logons; the password never appears', () => {
    const got = feedWhole(make(), [
      ['server', crlf('+OK ready')],
      ['client', crlf('USER eve', 'PASS wrong-password')],
      ['server', crlf('+OK', '-ERR invalid password')],
      ['client', crlf('APOP mrose c4c9334bac560ecc979e58001b3e22fb')],
      ['server', crlf('+OK maildrop has 1 message')],
      ['client', crlf('AUTH PLAIN')],
      ['server', crlf('+ ')],
      ['client', crlf(Buffer.from('\0zoe\0pw-of-zoe').toString('base64'))],
      ['server', crlf('+OK welcome')],
    ]);
    assert.deepEqual(
      got.map((e) => e.fields),
      [
        { kind: 'logon', mechanism: 'USER', status: 'failed', username: 'eve' },
        { kind: 'logon', mechanism: 'APOP', status: 'ok', username: 'mrose' },
        { kind: 'logon', mechanism: 'PLAIN', status: 'ok', username: 'zoe' },
      ],
    );
    assert.ok(!/wrong-password|pw-of-zoe/.test(JSON.stringify(plain(got))));
  });

  it('a download cut by the end of the connection is reported "incomplete"', () => {
    const a = make();
    const got = feedWhole(a, [...SESSION.slice(0, 5), ['client', crlf('RETR 1')], ['server', crlf('+OK') + 'From: x@example.org\r\n\r\npart']]);
    assert.deepEqual(
      got.slice(1).map((e) => [e.fields.status, e.fields.size, Buffer.from(e.content!).toString()]),
      [['incomplete', String('From: x@example.org\r\n\r\npart'.length), 'From: x@example.org\r\n\r\npart']],
    );
    assert.equal(a.counters.truncated, 1);
  });

  it('survives truncation at any point, and garbage', () => {
    assertTruncationSafe(make, SESSION);
    assertGarbageSafe(make, [SESSION]);
  });

  it('sniffs the +OK greeting', () => {
    assert.equal(sniffPop3(new Uint8Array(0), bytes('+OK ready\r\n')), 'yes');
    assert.equal(sniffPop3(new Uint8Array(0), bytes('+')), 'more');
    assert.equal(sniffPop3(new Uint8Array(0), bytes('* OK IMAP')), 'no');
  });
});

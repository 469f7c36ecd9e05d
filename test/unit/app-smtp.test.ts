/**
 * The SMTP analyser (src/probe/app/smtp.ts) on sessions written per RFC 5321 (with
 * PIPELINING RFC 2920, CHUNKING RFC 3030, AUTH RFC 4954, STARTTLS RFC 3207): one event per
 * message with envelope, header fields, status and the dot-unstuffed message; logons;
 * STARTTLS stops reading. Every way of feeding; refused DATA, unfinished messages, gaps,
 * truncation and garbage.
 */
import { strict as assert } from 'node:assert';
import { MAIL_CONTENT_FIELDS } from '../../src/probe/app/mail';
import { MAX_SMTP_UNANSWERED, SmtpAnalyser, sniffSmtp } from '../../src/probe/app/smtp';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, crlf, ev, feedWhole, plain } from '../helpers/app-feed';

const make = (): StreamAnalyser => new SmtpAnalyser(newCounters());
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

const MESSAGE_WIRE = crlf('Message-ID: <m1.123@example.net>', 'Subject: Hello Bob', 'From: Alice <alice@example.net>', 'To: bob@example.org', '', 'Body line', '..leading dot', '.');
const MESSAGE = crlf('Message-ID: <m1.123@example.net>', 'Subject: Hello Bob', 'From: Alice <alice@example.net>', 'To: bob@example.org', '', 'Body line', '.leading dot');
const CHUNK = crlf('Subject: x', '', '.');

const SMTP_SESSION: Turn[] = [
  ['server', crlf('220 mail.example.org ESMTP')],
  ['client', crlf('EHLO client.example.net')],
  ['server', crlf('250-mail.example.org', '250-PIPELINING', '250-AUTH PLAIN LOGIN', '250 CHUNKING')],
  ['client', crlf(`AUTH PLAIN ${b64('\0alice\0secret')}`)],
  ['server', crlf('235 2.7.0 Authentication successful')],
  ['client', crlf('MAIL FROM:<alice@example.net> SIZE=300', 'RCPT TO:<bob@example.org>', 'RCPT TO:<Carol@Example.com> NOTIFY=NEVER', 'DATA')],
  ['server', crlf('250 OK', '250 OK', '550 5.1.1 no such user', '354 go ahead')],
  ['client', MESSAGE_WIRE],
  ['server', crlf('250 2.0.0 queued as 1234')],
  ['client', crlf('MAIL FROM:<>', 'RCPT TO:<x@example.com>', `BDAT ${CHUNK.length} LAST`) + CHUNK],
  ['server', crlf('250 OK', '250 OK', '250 message accepted')],
  ['client', crlf('STARTTLS')],
  ['server', crlf('220 2.0.0 ready')],
  ['client', '\x16\x03\x01\x00\x10MAIL FROM:<no@example.com>\r\n'],
  ['server', 'encrypted junk\r\n'],
];

const COMMON = { helo: 'client.example.net', username: 'alice' };

describe('app: SMTP analyser', () => {
  it('one event per message with envelope, header, status and the message; logon; STARTTLS', () => {
    assertEveryFeed(make, SMTP_SESSION, [
      ev('smtp', 4, 'server', { kind: 'logon', mechanism: 'PLAIN', status: 'ok', username: 'alice' }),
      ev(
        'smtp',
        8,
        'server',
        {
          kind: 'message',
          sender: 'alice@example.net',
          recipients: 'bob@example.org,Carol@Example.com',
          recipientCount: '2',
          size: String(MESSAGE.length),
          status: 'ok',
          reply: '250',
          messageId: '<m1.123@example.net>',
          subject: 'Hello Bob',
          ...COMMON,
        },
        { contentFields: MAIL_CONTENT_FIELDS, content: MESSAGE },
      ),
      ev(
        'smtp',
        10,
        'server',
        { kind: 'message', sender: '', recipients: 'x@example.com', recipientCount: '1', size: String(CHUNK.length), status: 'ok', reply: '250', subject: 'x', ...COMMON },
        { contentFields: MAIL_CONTENT_FIELDS, content: CHUNK },
      ),
      ev('smtp', 12, 'server', { kind: 'starttls', helo: 'client.example.net' }),
    ]);
  });

  it('AUTH LOGIN: the user name from the first response; the password never appears', () => {
    const a = make();
    const got = feedWhole(a, [
      ['server', crlf('220 x')],
      ['client', crlf('EHLO c', 'AUTH LOGIN')],
      ['server', crlf('250 ok', `334 ${b64('Username:')}`)],
      ['client', crlf(b64('bob@example.org'))],
      ['server', crlf(`334 ${b64('Password:')}`)],
      ['client', crlf(b64('hunter2'))],
      ['server', crlf('535 5.7.8 bad credentials')],
    ]);
    assert.deepEqual(
      got.map((e) => e.fields),
      [{ kind: 'logon', mechanism: 'LOGIN', status: 'failed', username: 'bob@example.org' }],
    );
    assert.ok(!JSON.stringify(plain(got)).includes('hunter2'));
  });

  it('a refused DATA: what follows are commands; a rejected message is "failed"', () => {
    const got = feedWhole(make(), [
      ['server', crlf('220 x')],
      ['client', crlf('HELO c', 'MAIL FROM:<a@example.net>', 'RCPT TO:<b@example.org>', 'DATA')],
      ['server', crlf('250 ok', '250 ok', '250 ok', '554 no valid recipients')],
      ['client', crlf('MAIL FROM:<a@example.net>', 'RCPT TO:<c@example.org>', 'DATA')],
      ['server', crlf('250 ok', '250 ok', '354 go')],
      ['client', crlf('Subject: s', '', 'x', '.')],
      ['server', crlf('550 5.7.1 rejected as spam')],
    ]);
    assert.deepEqual(
      got.map((e) => [e.fields.recipients, e.fields.status, e.fields.reply]),
      [['c@example.org', 'failed', '550']],
    );
  });

  it('the end of the connection reports a message without reply ("unknown") and an unfinished one ("incomplete")', () => {
    const a = make();
    const pre: Turn[] = [
      ['server', crlf('220 x')],
      ['client', crlf('HELO c', 'MAIL FROM:<a@example.net>', 'RCPT TO:<b@example.org>', 'DATA')],
      ['server', crlf('250 ok', '250 ok', '250 ok', '354 go')],
      // The client pipelines the next transaction after the terminator, without waiting.
      ['client', crlf('one', '.', 'MAIL FROM:<a@example.net>', 'RCPT TO:<d@example.org>', 'DATA') + 'cut short'],
    ];
    const got = feedWhole(a, pre);
    assert.deepEqual(
      got.map((e) => [e.fields.recipients, e.fields.status, Buffer.from(e.content!).toString()]),
      [
        ['b@example.org', 'unknown', 'one\r\n'],
        ['d@example.org', 'incomplete', 'cut short'],
      ],
    );
    assert.equal(a.counters.truncated, 1);
  });

  it('a gap inside DATA marks the content truncated', () => {
    const a = make();
    feedWhole(a, SMTP_SESSION.slice(0, 7), false);
    a.onData('client', bytes('Subject: s\r\n\r\nfirst'), 1n);
    a.onGap('client', 100);
    a.onData('client', bytes('last\r\n.\r\n'), 2n);
    const got = a.onData('server', bytes('250 ok\r\n'), 3n);
    assert.equal(got[0]!.fields.contentTruncated, 'true');
    assert.equal(Buffer.from(got[0]!.content!).toString(), 'Subject: s\r\n\r\nfirstlast\r\n');
  });

  it(`keeps at most MAX_SMTP_UNANSWERED messages awaiting a reply; replies still pair in order`, () => {
    const a = make();
    const one = (i: number) => crlf(`MAIL FROM:<s${i}@example.net>`, 'RCPT TO:<r@example.org>', 'DATA', `Subject: ${i}`, '', 'x', '.');
    a.onData('server', bytes(crlf('220 x')), 1n);
    const early = a.onData('client', bytes(crlf('HELO c') + [0, 1, 2, 3, 4, 5].map(one).join('')), 2n);
    assert.deepEqual(
      early.map((e) => [e.fields.subject, e.fields.status]),
      [
        ['0', 'unknown'],
        ['1', 'unknown'],
      ],
    );
    // The replies to messages 0 and 1 pair with their places in the queue, not with message 2.
    const replies = crlf('250 helo', ...Array.from({ length: 6 }, () => ['250 ok', '250 ok', '354 go', '250 queued']).flat());
    const late = a.onData('server', bytes(replies), 3n);
    assert.deepEqual(
      late.map((e) => [e.fields.subject, e.fields.status]),
      [
        ['2', 'ok'],
        ['3', 'ok'],
        ['4', 'ok'],
        ['5', 'ok'],
      ],
    );
    assert.ok(MAX_SMTP_UNANSWERED === 4);
  });

  it('survives truncation at any point, and garbage', () => {
    assertTruncationSafe(make, SMTP_SESSION);
    assertGarbageSafe(make, [SMTP_SESSION]);
  });

  it('sniffs a 220 greeting and EHLO/HELO', () => {
    const none = new Uint8Array(0);
    assert.equal(sniffSmtp(bytes('EHLO x\r\n'), bytes('220 mail ESMTP\r\n')), 'yes');
    assert.equal(sniffSmtp(none, bytes('220 mail ESMTP\r\n')), 'more');
    assert.equal(sniffSmtp(bytes('USER bob\r\n'), bytes('220 ftp\r\n')), 'no');
    assert.equal(sniffSmtp(none, bytes('+OK POP3\r\n')), 'no');
  });
});

/**
 * The IMAP analyser (src/probe/app/imap.ts) on a session written per RFC 9051 (literals
 * {n} and LITERAL+ {n+}, RFC 7888): LOGIN with literals, AUTHENTICATE PLAIN, FETCH responses
 * with message literals (BODY[], BODY[TEXT] with the header from a BODY[HEADER.FIELDS] item),
 * other literals skipped, STARTTLS stops reading. Every way of feeding; a refused literal;
 * truncation and garbage.
 */
import { strict as assert } from 'node:assert';
import { ImapAnalyser, sniffImap } from '../../src/probe/app/imap';
import { MAIL_CONTENT_FIELDS } from '../../src/probe/app/mail';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, crlf, ev, feedWhole, plain } from '../helpers/app-feed';

const make = (): StreamAnalyser => new ImapAnalyser(newCounters());

const MSG = crlf('Message-ID: <1@example.org>', 'From: Bob <bob@example.org>', 'To: alice@example.net', 'Subject: {7}', '', 'a line with {3}', ')');
const HDR = crlf('From: carol@example.com', 'To: alice@example.net', 'Subject: second', '');
const TEXT = crlf('just the text');

const SESSION: Turn[] = [
  ['server', crlf('* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=PLAIN LITERAL+] ready')],
  ['client', crlf('a001 LOGIN {5}')],
  ['server', crlf('+ Ready for additional command text')],
  ['client', 'alice {6}\r\n'],
  ['server', crlf('+ go on')],
  ['client', crlf('secret')],
  ['server', crlf('a001 OK LOGIN completed')],
  ['client', crlf('a002 SELECT INBOX', 'a003 FETCH 1 (UID RFC822.SIZE BODY.PEEK[])')],
  ['server', crlf('* 2 EXISTS', 'a002 OK [READ-WRITE] SELECT completed', `* 1 FETCH (UID 101 RFC822.SIZE ${MSG.length} BODY[] {${MSG.length}}`) + MSG + crlf(')', 'a003 OK FETCH completed')],
  ['client', crlf('a004 UID FETCH 102 (BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT)] BODY.PEEK[TEXT])')],
  ['server', `* 2 FETCH (BODY[HEADER.FIELDS (FROM TO SUBJECT)] {${HDR.length}}\r\n${HDR} BODY[TEXT] {${TEXT.length}}\r\n${TEXT} UID 102)\r\n` + crlf('a004 OK done')],
  ['client', crlf('a005 LIST "" {1+}', '*')],
  ['server', crlf('* LIST () "/" {5}') + 'INBOX' + crlf('', 'a005 OK LIST completed')],
  ['client', crlf('a006 AUTHENTICATE PLAIN')],
  ['server', crlf('+ ')],
  ['client', crlf(Buffer.from('\0bob\0bobs-password').toString('base64'))],
  ['server', crlf('a006 NO [AUTHENTICATIONFAILED] invalid')],
  ['client', crlf('a007 STARTTLS')],
  ['server', crlf('a007 OK Begin TLS negotiation now')],
  ['client', '\x16\x03\x01\x00\x05a008 LOGIN x y\r\n'],
];

describe('app: IMAP analyser', () => {
  it('logons, FETCH downloads with their literal, STARTTLS; every way of feeding', () => {
    assertEveryFeed(make, SESSION, [
      ev('imap', 6, 'server', { kind: 'logon', mechanism: 'LOGIN', status: 'ok', username: 'alice' }),
      ev(
        'imap',
        8,
        'server',
        {
          kind: 'download',
          messageNumber: '1',
          uid: '101',
          item: 'BODY[]',
          size: String(MSG.length),
          status: 'ok',
          username: 'alice',
          messageId: '<1@example.org>',
          sender: 'bob@example.org',
          recipients: 'alice@example.net',
          recipientCount: '1',
          subject: '{7}',
        },
        { contentFields: MAIL_CONTENT_FIELDS, content: MSG },
      ),
      ev(
        'imap',
        10,
        'server',
        { kind: 'download', messageNumber: '2', uid: '102', item: 'BODY[TEXT]', size: String(TEXT.length), status: 'ok', username: 'alice', sender: 'carol@example.com', recipients: 'alice@example.net', recipientCount: '1', subject: 'second' },
        { contentFields: MAIL_CONTENT_FIELDS, content: TEXT },
      ),
      ev('imap', 16, 'server', { kind: 'logon', mechanism: 'PLAIN', status: 'failed', username: 'bob' }),
      ev('imap', 18, 'server', { kind: 'starttls' }),
    ]);
  });

  it('never keeps a password: quoted, atom or literal', () => {
    const got = feedWhole(make(), [
      ['server', crlf('* OK ready')],
      ['client', crlf('t1 LOGIN "user one" "pass\\"word1"', 't2 LOGIN user2 {9+}', 'password2', 't3 LOGIN user3 password3')],
      ['server', crlf('t1 NO bad', 't2 NO bad', 't3 OK welcome')],
    ]);
    assert.deepEqual(
      got.map((e) => [e.fields.username, e.fields.status]),
      [
        ['user one', 'failed'],
        ['user2', 'failed'],
        ['user3', 'ok'],
      ],
    );
    assert.ok(!/password|word1/.test(JSON.stringify(plain(got))));
  });

  it('a synchronizing literal the server refuses is not read from what the client sends next', () => {
    const got = feedWhole(make(), [
      ['server', crlf('* OK ready')],
      ['client', crlf('a1 APPEND INBOX {99999}')],
      ['server', crlf('a1 NO [TOOBIG] too large')],
      ['client', crlf('a2 LOGIN bob pw')],
      ['server', crlf('a2 OK')],
    ]);
    assert.deepEqual(
      got.map((e) => e.fields.username),
      ['bob'],
    );
  });

  it('a FETCH cut by the end of the connection is reported "incomplete"', () => {
    const a = make();
    const got = feedWhole(a, [...SESSION.slice(0, 7), ['server', `* 1 FETCH (BODY[] {500}\r\nFrom: x@example.org\r\n\r\npart`]]);
    assert.deepEqual(
      got.slice(1).map((e) => [e.fields.status, e.fields.size]),
      [['incomplete', String('From: x@example.org\r\n\r\npart'.length)]],
    );
  });

  it('survives truncation at any point, and garbage', () => {
    assertTruncationSafe(make, SESSION);
    assertGarbageSafe(make, [SESSION]);
  });

  it('sniffs the * OK or * PREAUTH greeting', () => {
    assert.equal(sniffImap(new Uint8Array(0), bytes('* OK ready\r\n')), 'yes');
    assert.equal(sniffImap(new Uint8Array(0), bytes('* PREAUTH x\r\n')), 'yes');
    assert.equal(sniffImap(new Uint8Array(0), bytes('+OK')), 'no');
  });
});

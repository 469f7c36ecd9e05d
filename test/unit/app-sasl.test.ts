/**
 * The SASL user name and the logon event fields the mail and chat analysers share
 * (src/probe/app/text.ts saslUser, logonFields): PLAIN (RFC 4616) and LOGIN read alike by
 * SMTP, POP3 and IMAP, other mechanisms give no name, and the password is never returned.
 */
import { strict as assert } from 'node:assert';
import { ImapAnalyser } from '../../src/probe/app/imap';
import { Pop3Analyser } from '../../src/probe/app/pop3';
import { SmtpAnalyser } from '../../src/probe/app/smtp';
import { logonFields, newCounters, saslUser } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, crlf, feedWhole, plain } from '../helpers/app-feed';

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

describe('app: SASL user names and logon fields', () => {
  it('PLAIN gives the authentication identity, LOGIN the user name, other mechanisms nothing', () => {
    assert.equal(saslUser('PLAIN', b64('admin\0alice\0secret-pw')), 'alice');
    assert.equal(saslUser('PLAIN', b64('\0bob\0pw')), 'bob');
    assert.equal(saslUser('LOGIN', b64('carol@example.org')), 'carol@example.org');
    assert.equal(saslUser('CRAM-MD5', b64('dave 0123456789abcdef')), undefined);
    assert.equal(saslUser('XOAUTH2', b64('user=erin\x01auth=Bearer t\x01\x01')), undefined);
  });

  it('no name from an empty, unterminated or non-base64 response', () => {
    assert.equal(saslUser('LOGIN', ''), undefined);
    assert.equal(saslUser('PLAIN', ''), undefined);
    assert.equal(saslUser('PLAIN', b64('\0only-one-nul')), undefined);
    assert.equal(saslUser('PLAIN', b64('\0\0pw')), undefined);
    assert.equal(saslUser('PLAIN', '*'), undefined);
    assert.equal(saslUser('LOGIN', '!!not base64!!'), undefined);
  });

  it('logon fields: mechanism and outcome, the user name only when known', () => {
    assert.deepEqual(logonFields('PLAIN', true, 'alice'), { kind: 'logon', mechanism: 'PLAIN', status: 'ok', username: 'alice' });
    assert.deepEqual(logonFields('LOGIN', false, undefined), { kind: 'logon', mechanism: 'LOGIN', status: 'failed' });
  });

  const LOGIN_EXCHANGES: [string, () => StreamAnalyser, Turn[]][] = [
    [
      'SMTP AUTH LOGIN',
      () => new SmtpAnalyser(newCounters()),
      [
        ['server', crlf('220 mx ESMTP')],
        ['client', crlf('EHLO c')],
        ['server', crlf('250-mx', '250 AUTH LOGIN')],
        ['client', crlf('AUTH LOGIN')],
        ['server', crlf(`334 ${b64('Username:')}`)],
        ['client', crlf(b64('frank'))],
        ['server', crlf(`334 ${b64('Password:')}`)],
        ['client', crlf(b64('pw-of-frank'))],
        ['server', crlf('235 2.7.0 accepted')],
      ],
    ],
    [
      'POP3 AUTH LOGIN',
      () => new Pop3Analyser(newCounters()),
      [
        ['server', crlf('+OK ready')],
        ['client', crlf('AUTH LOGIN')],
        ['server', crlf(`+ ${b64('Username:')}`)],
        ['client', crlf(b64('frank'))],
        ['server', crlf(`+ ${b64('Password:')}`)],
        ['client', crlf(b64('pw-of-frank'))],
        ['server', crlf('+OK welcome')],
      ],
    ],
    [
      'IMAP AUTHENTICATE LOGIN',
      () => new ImapAnalyser(newCounters()),
      [
        ['server', crlf('* OK ready')],
        ['client', crlf('a1 AUTHENTICATE LOGIN')],
        ['server', crlf(`+ ${b64('Username:')}`)],
        ['client', crlf(b64('frank'))],
        ['server', crlf(`+ ${b64('Password:')}`)],
        ['client', crlf(b64('pw-of-frank'))],
        ['server', crlf('a1 OK logged in')],
      ],
    ],
  ];

  for (const [name, make, conv] of LOGIN_EXCHANGES) {
    it(`${name}: the user name from the first response, the password never`, () => {
      const got = feedWhole(make(), conv);
      assert.deepEqual(
        got.map((e) => e.fields),
        [{ kind: 'logon', mechanism: 'LOGIN', status: 'ok', username: 'frank' }],
      );
      assert.ok(!/pw-of-frank/.test(JSON.stringify(plain(got))));
    });
  }
});

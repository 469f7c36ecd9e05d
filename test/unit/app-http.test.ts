/**
 * The HTTP analyser (src/probe/app/http.ts) on RFC 9112 exchanges written out by hand:
 * pipelined requests, Content-Length and chunked bodies skipped (a request line inside a body
 * is not a request), HEAD and 1xx/204/304 without bodies, absolute-form and CONNECT targets,
 * tunnels, tracker announces; fed whole, byte by byte, split and reordered; gaps, truncation
 * and garbage counted, never thrown.
 */
import { strict as assert } from 'node:assert';
import { HTTP_CONTENT_FIELDS, HttpAnalyser, MAX_HTTP_PENDING, sniffHttp } from '../../src/probe/app/http';
import { newCounters } from '../../src/probe/app/text';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, crlf, ev, feedWhole } from '../helpers/app-feed';

const make = () => new HttpAnalyser(newCounters());
const CF = { contentFields: HTTP_CONTENT_FIELDS };

const postBody = 'GET /fake HTTP/1.1\r\n\r\nhello=wo';
const firstBody = 'HTTP/1.1 999 not a reply';
const chunk = 'HTTP/1.1 500 inside chunk';
const CONV: Turn[] = [
  // Three pipelined requests in one turn; the POST body holds what looks like a request line.
  [
    'client',
    crlf('GET /index.html?q=1 HTTP/1.1', 'Host: WWW.Example.COM', 'User-Agent: curl/8.5.0', 'Accept: */*', '') +
      crlf('HEAD /a HTTP/1.1', 'Host: www.example.com', '') +
      crlf('POST /form HTTP/1.1', 'Host: www.example.com', `Content-Length: ${postBody.length}`, '') +
      postBody,
  ],
  [
    'server',
    crlf('HTTP/1.1 200 OK', `Content-Length: ${firstBody.length}`, '') +
      firstBody +
      crlf('HTTP/1.1 200 OK', 'Content-Length: 1000', '') + // HEAD: no body despite the length
      crlf('HTTP/1.1 100 Continue', '') +
      crlf('HTTP/1.1 302 Found', 'Transfer-Encoding: gzip, chunked', 'Location: /x', '') +
      crlf('5;ext=1', 'abcde', chunk.length.toString(16), chunk, '0', 'X-Trailer: 1', ''),
  ],
  ['client', crlf('GET http://user@Proxy.Example:8080 HTTP/1.1', '')],
  ['server', crlf('HTTP/1.1 304 Not Modified', 'Content-Length: 99', '') + crlf('HTTP/1.1 204 No Content', '')],
  [
    'client',
    crlf('GET /tracker/announce?info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&peer_id=-qB4250-abcdefghijkl&port=6881&uploaded=0&event=started HTTP/1.1', 'Host: tracker.example:6969', ''),
  ],
  ['server', crlf('HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 5', '') + 'd1:xe'],
  ['client', crlf('CONNECT secure.example:443 HTTP/1.1', 'Host: secure.example:443', '')],
  ['server', crlf('HTTP/1.1 200 Connection established', '')],
  ['client', '\x16\x03\x01\x00\x05GET / HTTP/1.1\r\n\r\n'],
  ['server', 'HTTP/1.1 200 OK\r\n\r\n'],
];

const EXPECTED = [
  ev('http', 0, 'client', { kind: 'request', method: 'GET', host: 'www.example.com', path: '/index.html?q=1', userAgent: 'curl/8.5.0' }, CF),
  ev('http', 0, 'client', { kind: 'request', method: 'HEAD', host: 'www.example.com', path: '/a' }, CF),
  ev('http', 0, 'client', { kind: 'request', method: 'POST', host: 'www.example.com', path: '/form' }, CF),
  ev('http', 1, 'server', { kind: 'response', status: '200', method: 'GET', host: 'www.example.com' }),
  ev('http', 1, 'server', { kind: 'response', status: '200', method: 'HEAD', host: 'www.example.com' }),
  ev('http', 1, 'server', { kind: 'response', status: '100', method: 'POST', host: 'www.example.com' }),
  ev('http', 1, 'server', { kind: 'response', status: '302', method: 'POST', host: 'www.example.com' }),
  ev('http', 2, 'client', { kind: 'request', method: 'GET', host: 'proxy.example:8080', path: '/' }, CF),
  ev('http', 3, 'server', { kind: 'response', status: '304', method: 'GET', host: 'proxy.example:8080' }),
  ev('http', 3, 'server', { kind: 'response', status: '204' }),
  ev(
    'http',
    4,
    'client',
    { kind: 'request', method: 'GET', host: 'tracker.example:6969', path: '/tracker/announce?info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&peer_id=-qB4250-abcdefghijkl&port=6881&uploaded=0&event=started' },
    CF,
  ),
  ev('bittorrent', 4, 'client', { kind: 'announce', infoHash: '123456789abcdef123456789abcdef123456789a', peerId: '2d7142343235302d6162636465666768696a6b6c', peerClient: 'qB4250', port: '6881', event: 'started', tracker: 'tracker.example:6969' }),
  ev('http', 5, 'server', { kind: 'response', status: '200', method: 'GET', host: 'tracker.example:6969' }),
  ev('http', 6, 'client', { kind: 'request', method: 'CONNECT', host: 'secure.example:443' }, CF),
  ev('http', 7, 'server', { kind: 'response', status: '200', method: 'CONNECT', host: 'secure.example:443' }),
];

describe('app: HTTP analyser', () => {
  it('reports requests and responses the same fed whole, byte by byte, split or as reordered segments', () => {
    assertEveryFeed(make, CONV, EXPECTED);
  });

  it('counts events, and a start line that is not HTTP as malformed (once, then it seeks)', () => {
    const a = make();
    feedWhole(a, CONV);
    assert.deepEqual(a.counters, { events: EXPECTED.length, malformed: 0, truncated: 0 });
    const b = make();
    const got = b.onData('server', bytes(crlf('SSH-2.0-OpenSSH_9.6', 'more junk', 'HTTP/1.1 404 Not Found', 'Content-Length: 0', '')), 1n);
    assert.deepEqual(
      got.map((e) => e.fields.status),
      ['404'],
    );
    assert.deepEqual(b.counters, { events: 1, malformed: 1, truncated: 0 });
  });

  it('a hole inside a body of known length keeps it in step; one elsewhere resynchronises on the next request line', () => {
    const a = make();
    const t = 1n;
    a.onData('client', bytes(crlf('POST /up HTTP/1.1', 'Content-Length: 100', '') + 'x'.repeat(10)), t);
    a.onGap('client', 50);
    const ev1 = a.onData('client', bytes('y'.repeat(40) + crlf('GET /next HTTP/1.1', '')), t);
    assert.deepEqual(
      ev1.map((e) => e.fields.path),
      ['/next'],
    );
    a.onData('client', bytes('GET /cut HT'), t);
    a.onGap('client', 7);
    const ev2 = a.onData('client', bytes(crlf('ader: junk', '', 'GET /after HTTP/1.1', 'Host: h', '')), t);
    assert.deepEqual(
      ev2.map((e) => e.fields.path),
      ['/after'],
    );
    assert.equal(a.counters.truncated, 1);
  });

  it('survives truncation at any point, and garbage', () => {
    assertTruncationSafe(make, CONV);
    const a = assertGarbageSafe(make, [CONV]);
    assert.ok(a.counters.events + a.counters.malformed > 0);
  });

  it('forgets the oldest of more than MAX_HTTP_PENDING unanswered requests (counted)', () => {
    const a = make();
    a.onData('client', bytes(crlf('GET / HTTP/1.1', '').repeat(MAX_HTTP_PENDING + 1)), 1n);
    assert.equal(a.counters.truncated, 1);
  });

  it('sniffs a request line or, with no client bytes yet, a status line', () => {
    assert.equal(sniffHttp(bytes('GET / HTTP/1.1\r\n'), new Uint8Array(0)), 'yes');
    assert.equal(sniffHttp(bytes('OPTI'), new Uint8Array(0)), 'more');
    assert.equal(sniffHttp(bytes('\x16\x03\x01'), new Uint8Array(0)), 'no');
    assert.equal(sniffHttp(new Uint8Array(0), bytes('HTTP/1.1 200')), 'yes');
    assert.equal(sniffHttp(new Uint8Array(0), new Uint8Array(0)), 'more');
  });
});

/**
 * The TLS analyser (src/probe/app/tls.ts) on ClientHellos built field by field per RFC 8446
 * §4.1.2 (TLS 1.3, with GREASE per RFC 8701), RFC 5246 (TLS 1.2, no supported_versions),
 * RFC 6066 SNI and RFC 7301 ALPN: one record, a hello fragmented over several records,
 * every way of feeding; malformed, truncated and oversized hellos counted.
 */
import { strict as assert } from 'node:assert';
import { MAX_CLIENT_HELLO_BYTES, TlsAnalyser, parseClientHello, sniffTls } from '../../src/probe/app/tls';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, clientHello, ev, feedWhole, records } from '../helpers/app-feed';

const u8 = (n: number) => Buffer.from([n]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const make = (): StreamAnalyser => new TlsAnalyser(newCounters());
/** A ServerHello-looking reply and application data: never read. */
const SERVER: Turn = ['server', Buffer.concat([Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]), Buffer.from([23, 3, 3, 0, 2, 0xab, 0xcd])])];

describe('app: TLS analyser', () => {
  it('reads SNI, ALPN and the highest version of a TLS 1.3 ClientHello, GREASE skipped, every way of feeding', () => {
    const hello = records(clientHello({ sni: 'WWW.Example.ORG.', alpn: ['h2', 'http/1.1'], versions: [0x3a3a, 0x0304, 0x0303] }));
    const conv: Turn[] = [['client', hello], SERVER, ['client', Buffer.from([20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3, 1, 2, 3])]];
    assertEveryFeed(make, conv, [ev('tls', 0, 'client', { sni: 'www.example.org', alpn: 'h2,http/1.1', version: 'TLS 1.3' })]);
  });

  it('reads a hello fragmented over many records, and says when ECH hides the name', () => {
    const hello = records(clientHello({ sni: 'public.example', versions: [0x0304], ech: true, padding: 3000 }), 200);
    const conv: Turn[] = [['client', hello], SERVER];
    assertEveryFeed(make, conv, [ev('tls', 0, 'client', { sni: 'public.example', version: 'TLS 1.3', ech: 'true' })], 10);
  });

  it('a TLS 1.2 hello without SNI or supported_versions', () => {
    const a = make();
    const got = feedWhole(a, [['client', records(clientHello({}), 16384, 0x0303)]]);
    assert.deepEqual(
      got.map((e) => e.fields),
      [{ version: 'TLS 1.2' }],
    );
    assert.deepEqual(a.counters, { events: 1, malformed: 0, truncated: 0 });
  });

  it('counts what is not a ClientHello as malformed, and stops', () => {
    for (const bad of [
      Buffer.from([23, 3, 3, 0, 2, 1, 2]), // application data first
      records(Buffer.concat([u8(2), u24(2), Buffer.from([3, 3])])), // a ServerHello from the client
      records(Buffer.from(clientHello({ sni: 'a.example' }).subarray(0, 60))).fill(0xff, 5 + 4 + 34, 5 + 4 + 35), // session id length past the end
      Buffer.from([22, 3, 1, 0x48, 0x01]), // a record longer than TLS allows
    ]) {
      const a = make();
      assert.deepEqual(feedWhole(a, [['client', bad], ['client', records(clientHello({ sni: 'late.example' }))]]), []);
      assert.equal(a.counters.malformed, 1, bad.toString('hex'));
    }
  });

  it('a hello names SNI with a control character: malformed', () => {
    assert.equal(parseClientHello(clientHello({ sni: 'bad\nname' }).subarray(4)), undefined);
  });

  it('gives up a hello larger than MAX_CLIENT_HELLO_BYTES, and one cut by a gap or the end (truncated)', () => {
    const big = make();
    big.onData('client', records(Buffer.concat([u8(1), u24(MAX_CLIENT_HELLO_BYTES + 1)])), 1n);
    assert.equal(big.counters.truncated, 1);
    const gap = make();
    gap.onData('client', records(clientHello({ sni: 'x.example' })).subarray(0, 50), 1n);
    gap.onGap('client', 10);
    assert.equal(gap.counters.truncated, 1);
    const end = make();
    end.onData('client', records(clientHello({ sni: 'x.example' })).subarray(0, 50), 1n);
    end.onEnd(2n);
    assert.equal(end.counters.truncated, 1);
  });

  it('survives truncation at any point, and garbage', () => {
    const conv: Turn[] = [['client', records(clientHello({ sni: 'a.example', alpn: ['h2'] }), 100)], SERVER];
    assertTruncationSafe(make, conv);
    assertGarbageSafe(make, [conv]);
  });

  it('sniffs a handshake record holding a ClientHello', () => {
    const hello = records(clientHello({ sni: 'a.example' }));
    assert.equal(sniffTls(hello), 'yes');
    assert.equal(sniffTls(hello.subarray(0, 3)), 'more');
    assert.equal(sniffTls(Buffer.from('GET / HTTP/1.1')), 'no');
    assert.equal(sniffTls(Buffer.from([22, 3, 3, 0, 4, 2])), 'no');
  });
});

/**
 * The DNS analysers and message decoder (src/probe/app/dns.ts, dns-message.ts) on messages
 * written per RFC 1035 §4.1 (AAAA RFC 3596, SRV RFC 2782): queries, answers through
 * compression pointers, every record type decoded; pointer loops, forward pointers, chains,
 * over-long names and cut messages refused; DNS over TCP framing fed every way.
 */
import { strict as assert } from 'node:assert';
import { DnsTcpAnalyser, DnsUdpAnalyser, sniffDnsTcp, sniffDnsUdp } from '../../src/probe/app/dns';
import { MAX_DNS_POINTERS, parseDnsMessage, readName } from '../../src/probe/app/dns-message';
import { newCounters } from '../../src/probe/app/text';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, ev } from '../helpers/app-feed';

const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
/** A name in labels, ending with the root or, when `ptr` is given, a pointer to it. */
const name = (n: string, ptr?: number): number[] => [...n.split('.').filter((l) => l !== '').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]), ...(ptr === undefined ? [0] : [0xc0 | (ptr >> 8), ptr & 0xff])];
const rr = (owner: number[], type: number, ttl: number, rdata: number[]) => [...owner, ...u16(type), ...u16(1), ...u32(ttl), ...u16(rdata.length), ...rdata];

const QUERY = Uint8Array.from([...u16(0x1234), 0x01, 0x00, ...u16(1), 0, 0, 0, 0, 0, 0, ...name('WWW.Example.com'), ...u16(1), ...u16(1)]);

/** The response: the question at offset 12 ("www" at 12, "example" at 16), answers pointing into it. */
const RESPONSE = Uint8Array.from([
  ...u16(0x1234),
  0x81,
  0x80,
  ...u16(1),
  ...u16(8),
  0,
  0,
  0,
  0,
  ...name('www.example.com'),
  ...u16(1),
  ...u16(1),
  ...rr([0xc0, 12], 5, 300, name('cdn', 16)), // www.example.com CNAME cdn.example.com
  ...rr([0xc0, 16], 1, 60, [93, 184, 216, 34]), // example.com A
  ...rr([0xc0, 16], 28, 60, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  ...rr([0xc0, 16], 15, 60, [...u16(10), ...name('mx', 16)]),
  ...rr([0xc0, 16], 33, 60, [...u16(1), ...u16(5), ...u16(5222), ...name('xmpp', 16)]),
  ...rr(name('4.3.2.1.in-addr.arpa'), 12, 60, name('host', 16)),
  ...rr([0xc0, 16], 16, 60, [5, ...Buffer.from('hello')]), // TXT: never decoded
  ...rr([0xc0, 16], 6, 60, [...name('ns1', 16), ...name('hostmaster', 16), ...u32(1), ...u32(2), ...u32(3), ...u32(4), ...u32(5)]),
]);

const ANSWERS =
  'www.example.com CNAME cdn.example.com; example.com A 93.184.216.34; example.com AAAA 2001:db8::1; example.com MX 10 mx.example.com; ' +
  'example.com SRV 1 5 5222 xmpp.example.com; 4.3.2.1.in-addr.arpa PTR host.example.com; example.com TXT; example.com SOA ns1.example.com';

describe('app: DNS', () => {
  it('decodes a query and a response with compression pointers', () => {
    const q = parseDnsMessage(QUERY)!;
    assert.deepEqual(q.questions, [{ name: 'www.example.com', type: 1, class: 1 }]);
    assert.equal(q.response, false);
    const r = parseDnsMessage(RESPONSE)!;
    assert.equal(r.answers.length, 8);
    assert.equal(r.answers[0]!.ttl, 300);
  });

  it('UDP: one event per message, answers as text; TXT data never decoded', () => {
    const a = new DnsUdpAnalyser(newCounters());
    const got = [...a.onDatagram('client', QUERY, 1n), ...a.onDatagram('server', RESPONSE, 2n)].map((e) => e.fields);
    assert.deepEqual(got, [
      { kind: 'query', id: '4660', qname: 'www.example.com', qtype: 'A' },
      { kind: 'response', id: '4660', qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', answerCount: '8', answers: ANSWERS },
    ]);
    assert.ok(!JSON.stringify(got).includes('hello'));
    assert.deepEqual(a.counters, { events: 2, malformed: 0, truncated: 0 });
  });

  it('TCP: length-prefixed messages, every way of feeding', () => {
    const frame = (m: Uint8Array) => Uint8Array.from([...u16(m.length), ...m]);
    const conv: Turn[] = [
      ['client', Uint8Array.from([...frame(QUERY), ...frame(QUERY)])],
      ['server', Uint8Array.from([...frame(RESPONSE), ...frame(RESPONSE)])],
    ];
    const q = ev('dns', 0, 'client', { kind: 'query', id: '4660', qname: 'www.example.com', qtype: 'A' });
    const r = ev('dns', 1, 'server', { kind: 'response', id: '4660', qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', answerCount: '8', answers: ANSWERS });
    assertEveryFeed(() => new DnsTcpAnalyser(newCounters()), conv, [q, q, r, r]);
    assertTruncationSafe(() => new DnsTcpAnalyser(newCounters()), conv);
    assertGarbageSafe(() => new DnsTcpAnalyser(newCounters()), [conv]);
  });

  it('refuses pointer loops, forward pointers, long chains and over-long names', () => {
    const hdr = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    // A pointer to itself, and two pointing at each other.
    assert.equal(readName(Uint8Array.from([...hdr, 0xc0, 12]), 12), undefined);
    assert.equal(readName(Uint8Array.from([...hdr, 1, 0x61, 0xc0, 16, 0xc0, 12]), 12), undefined);
    // A forward pointer, even to a good name.
    assert.equal(readName(Uint8Array.from([...hdr, 0xc0, 14, 1, 0x61, 0]), 12), undefined);
    // A backward chain of pointers longer than MAX_DNS_POINTERS.
    const chain = [...hdr, 1, 0x61, 0];
    for (let i = 0; i <= MAX_DNS_POINTERS; i++) chain.push(0xc0, chain.length - (i === 0 ? 3 : 2));
    assert.equal(readName(Uint8Array.from(chain), chain.length - 2), undefined);
    assert.ok(readName(Uint8Array.from(chain.slice(0, chain.length - 2)), chain.length - 4));
    // 256 octets of wire form.
    const long = [...hdr, ...Array.from({ length: 4 }, () => [63, ...Array(63).fill(0x61)]).flat(), 0];
    assert.equal(readName(Uint8Array.from(long), 12), undefined);
    // A label running past the end; reserved label types.
    assert.equal(readName(Uint8Array.from([...hdr, 5, 0x61]), 12), undefined);
    assert.equal(readName(Uint8Array.from([...hdr, 0x41, 0]), 12), undefined);
  });

  it('escapes dots and odd octets in labels; counts malformed messages', () => {
    assert.equal(readName(Uint8Array.from([3, 0x61, 0x2e, 0x00, 1, 0x5c, 0]), 0)!.name, 'a\\046\\000.\\092');
    const a = new DnsUdpAnalyser(newCounters());
    assert.deepEqual(a.onDatagram('client', QUERY.subarray(0, 20), 1n), []);
    assert.deepEqual(a.onDatagram('server', RESPONSE.subarray(0, RESPONSE.length - 3), 1n), []);
    assert.equal(a.counters.malformed, 2);
  });

  it('sniffs DNS by port 53 and a message that decodes', () => {
    assert.equal(sniffDnsUdp(QUERY, 40000, 53), 'yes');
    assert.equal(sniffDnsUdp(QUERY, 40000, 5353), 'no');
    assert.equal(sniffDnsUdp(Uint8Array.of(1, 2, 3), 40000, 53), 'no');
    assert.equal(sniffDnsTcp(Uint8Array.of(0), new Uint8Array(0), 53), 'more');
    assert.equal(sniffDnsTcp(Uint8Array.of(0, 40), new Uint8Array(0), 53), 'yes');
    assert.equal(sniffDnsTcp(Uint8Array.of(0, 40), new Uint8Array(0), 80), 'no');
  });
});

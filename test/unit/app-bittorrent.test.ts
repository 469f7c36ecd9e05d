/**
 * BitTorrent (src/probe/app/bittorrent.ts, bittorrent-udp.ts, bencode.ts): the peer wire
 * handshake (BEP 3) from both sides, every way of feeding; HTTP tracker requests; the UDP
 * tracker (BEP 15) connect, announce, its response and scrape; the DHT (BEP 5) get_peers,
 * announce_peer and a response with peers tied to its query; bencoding bounds.
 */
import { strict as assert } from 'node:assert';
import { MAX_BENCODE_DEPTH, decodeBencode } from '../../src/probe/app/bencode';
import { BittorrentAnalyser, percentDecode, sniffBittorrent, trackerRequest } from '../../src/probe/app/bittorrent';
import { BittorrentUdpAnalyser, MAX_REPORTED_PEERS, sniffBittorrentUdp } from '../../src/probe/app/bittorrent-udp';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, ev, feedWhole } from '../helpers/app-feed';

const HASH = Buffer.from('c12fe1c06bba254a9dc9f519b335aa7c1367a88a', 'hex');
const ID_A = Buffer.from('-qB4250-', 'latin1');
const PEER_A = Buffer.concat([ID_A, Buffer.from('0123456789ab', 'latin1')]);
const PEER_B = Buffer.from('M7-2-0--abcdefghijkl', 'latin1');
const handshake = (peer: Buffer) => Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0x10, 0, 5]), HASH, peer]);
const make = (): StreamAnalyser => new BittorrentAnalyser(newCounters());
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const u64 = (hi: number, lo: number) => Buffer.concat([u32(hi), u32(lo)]);

describe('app: BitTorrent', () => {
  it('the peer handshake of each side; later messages are not read; every way of feeding', () => {
    const conv: Turn[] = [
      ['client', handshake(PEER_A)],
      ['server', Buffer.concat([handshake(PEER_B), Buffer.from([0, 0, 0, 1, 2])])], // and an "interested"
      ['client', Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 1])],
    ];
    assertEveryFeed(make, conv, [
      ev('bittorrent', 0, 'client', { kind: 'handshake', infoHash: HASH.toString('hex'), peerId: PEER_A.toString('hex'), peerClient: 'qB4250' }),
      ev('bittorrent', 1, 'server', { kind: 'handshake', infoHash: HASH.toString('hex'), peerId: PEER_B.toString('hex') }),
    ]);
    assertTruncationSafe(make, conv);
    assertGarbageSafe(make, [conv]);
  });

  it('counts a side that is not a handshake as malformed', () => {
    const a = make();
    assert.deepEqual(feedWhole(a, [['client', '\x13BitTorrent Protocol' + 'x'.repeat(48)]]), []);
    assert.equal(a.counters.malformed, 1);
  });

  it('reads HTTP tracker announce and scrape targets (percent-encoded binary hashes)', () => {
    const enc = (b: Buffer) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
    assert.deepEqual(trackerRequest(`/announce?info_hash=${enc(HASH)}&peer_id=${enc(PEER_A)}&port=51413&compact=1&event=completed`), {
      kind: 'announce',
      infoHash: HASH.toString('hex'),
      peerId: PEER_A.toString('hex'),
      peerClient: 'qB4250',
      port: '51413',
      event: 'completed',
    });
    assert.deepEqual(trackerRequest(`/scrape.php?info_hash=${enc(HASH)}&info_hash=${'A'.repeat(20)}`), { kind: 'scrape', infoHash: `${HASH.toString('hex')},${'41'.repeat(20)}` });
    assert.equal(trackerRequest('/announce?info_hash=short'), undefined);
    assert.equal(trackerRequest('/index.html?info_hash=' + enc(HASH)), undefined);
    assert.equal(percentDecode('%zz'), undefined);
    assert.deepEqual([...percentDecode('a+%20b')!], [0x61, 0x20, 0x20, 0x62]);
  });

  it('UDP tracker: connect, announce, its response with peers, scrape', () => {
    const a = new BittorrentUdpAnalyser(newCounters());
    const connect = Buffer.concat([u64(0x417, 0x27101980), u32(0), u32(0xdeadbeef)]);
    const connected = Buffer.concat([u32(0), u32(0xdeadbeef), u64(0x01020304, 0x05060708)]);
    const announce = Buffer.concat([u64(0x01020304, 0x05060708), u32(1), u32(7), HASH, PEER_A, u64(0, 0), u64(0, 1000), u64(0, 0), u32(2), u32(0), u32(42), u32(0xffffffff), u16(6881)]);
    const reply = Buffer.concat([u32(1), u32(7), u32(1800), u32(3), u32(9), Buffer.from([10, 0, 0, 1, 0x1a, 0xe1, 192, 0, 2, 7, 0xc8, 0xd5])]);
    const scrape = Buffer.concat([u64(0x01020304, 0x05060708), u32(2), u32(8), HASH]);
    assert.equal(sniffBittorrentUdp(connect), 'yes');
    const got = [a.onDatagram('client', connect, 1n), a.onDatagram('server', connected, 2n), a.onDatagram('client', announce, 3n), a.onDatagram('server', reply, 4n), a.onDatagram('client', scrape, 5n)].flat();
    assert.deepEqual(
      got.map((e) => e.fields),
      [
        { kind: 'announce', infoHash: HASH.toString('hex'), peerId: PEER_A.toString('hex'), peerClient: 'qB4250', port: '6881', event: 'started' },
        { kind: 'announce-response', leechers: '3', seeders: '9', peerCount: '2', peers: '10.0.0.1:6881,192.0.2.7:51413' },
        { kind: 'scrape', infoHash: HASH.toString('hex') },
      ],
    );
    assert.deepEqual(a.counters, { events: 3, malformed: 0, truncated: 0 });
  });

  it('DHT: get_peers and announce_peer queries, a response with peers named by its query', () => {
    const a = new BittorrentUdpAnalyser(newCounters());
    const node = Buffer.alloc(20, 0xab);
    const b = (s: string | Buffer) => Buffer.concat([Buffer.from(`${s.length}:`), typeof s === 'string' ? Buffer.from(s, 'latin1') : s]);
    const getPeers = Buffer.concat([Buffer.from('d1:ad2:id'), b(node), Buffer.from('9:info_hash'), b(HASH), Buffer.from('e1:q9:get_peers1:t2:aa1:y1:qe')]);
    const peers = Buffer.concat([Buffer.from('d1:rd2:id'), b(node), Buffer.from('5:token'), b('tok'), Buffer.from('6:valuesl'), b(Buffer.from([10, 1, 2, 3, 0x1a, 0xe1])), Buffer.from('ee1:t2:aa1:y1:re')]);
    const announce = Buffer.concat([Buffer.from('d1:ad2:id'), b(node), Buffer.from('12:implied_porti1e9:info_hash'), b(HASH), Buffer.from('4:porti6881e5:token'), b('tok'), Buffer.from('e1:q13:announce_peer1:t2:bb1:y1:qe')]);
    const ping = Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:cc1:y1:qe');
    assert.equal(sniffBittorrentUdp(getPeers), 'yes');
    const got = [a.onDatagram('client', getPeers, 1n), a.onDatagram('server', peers, 2n), a.onDatagram('client', announce, 3n), a.onDatagram('client', ping, 4n)].flat();
    assert.deepEqual(
      got.map((e) => e.fields),
      [
        { kind: 'dht-get_peers', infoHash: HASH.toString('hex'), nodeId: node.toString('hex') },
        { kind: 'dht-peers', peerCount: '1', peers: '10.1.2.3:6881', infoHash: HASH.toString('hex') },
        { kind: 'dht-announce_peer', infoHash: HASH.toString('hex'), nodeId: node.toString('hex'), port: '6881' },
      ],
    );
  });

  it('lists at most MAX_REPORTED_PEERS peers but counts them all', () => {
    const a = new BittorrentUdpAnalyser(newCounters());
    const reply = Buffer.concat([u32(1), u32(7), u32(1800), u32(0), u32(0), Buffer.alloc(6 * (MAX_REPORTED_PEERS + 5), 1)]);
    const f = a.onDatagram('server', reply, 1n)[0]!.fields;
    assert.equal(f.peerCount, String(MAX_REPORTED_PEERS + 5));
    assert.equal(f.peers!.split(',').length, MAX_REPORTED_PEERS);
  });

  it('bencoding: values, and bounds on depth and form', () => {
    const v = decodeBencode(bytes('d3:cow3:moo4:spaml1:a1:bee')) as Map<string, unknown>;
    assert.equal(Buffer.from(v.get('cow') as Uint8Array).toString(), 'moo');
    assert.equal(((v.get('spam') as unknown[]).length), 2);
    assert.equal(v.get(''), undefined);
    assert.equal(decodeBencode(bytes('i-42e')), -42);
    for (const bad of ['i-0e', 'i03e', '03:abc', '4:abc', 'l', 'd1:ae', 'i1ei2e', 'x', '', 'd3:cow3:mooi-42ee']) assert.equal(decodeBencode(bytes(bad)), undefined, bad);
    assert.ok(decodeBencode(bytes('l'.repeat(MAX_BENCODE_DEPTH) + 'e'.repeat(MAX_BENCODE_DEPTH))));
    assert.equal(decodeBencode(bytes('l'.repeat(MAX_BENCODE_DEPTH + 1) + 'e'.repeat(MAX_BENCODE_DEPTH + 1))), undefined);
    assert.equal(decodeBencode(bytes('l'.repeat(100_000))), undefined);
  });

  it('counts garbage datagrams as malformed, never throws', () => {
    const a = new BittorrentUdpAnalyser(newCounters());
    for (let i = 0; i < 200; i++) a.onDatagram(i % 2 ? 'client' : 'server', Buffer.from(Array.from({ length: i }, (_, k) => (k * 37 + i) & 0xff)), 1n);
    assert.ok(a.counters.malformed > 0);
  });

  it('sniffs the handshake string from either side', () => {
    const none = new Uint8Array(0);
    assert.equal(sniffBittorrent(handshake(PEER_A), none), 'yes');
    assert.equal(sniffBittorrent(none, handshake(PEER_A).subarray(0, 20)), 'yes');
    assert.equal(sniffBittorrent(bytes('\x13Bit'), none), 'more');
    assert.equal(sniffBittorrent(bytes('GET /'), none), 'no');
  });
});

/**
 * The analysers against an independent implementation: scapy (Debian's python3-scapy) builds
 * a capture of web, TLS, DNS, SMTP, POP3, IMAP, XMPP and BitTorrent sessions (TCP with real
 * handshakes, small segments, some out of order and retransmitted; IPv4 and IPv6), Wireshark's
 * tshark dissects it, and lig reads the same file through its pcap reader, frame decoder and
 * flow table. What both find must agree. Without scapy or tshark this skips, except under
 * CI, where it fails.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeFrame } from '../../src/capture/decode';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { FlowTable } from '../../src/probe/app/flow-table';
import { flowPacket } from '../../src/probe/app/packet';
import type { AppEvent } from '../../src/probe/app/types';
import { clientHello, crlf, records } from '../helpers/app-feed';
import { SYSTEM_PYTHON, requireScapy } from '../helpers/scapy';
import { skipOrFail } from '../helpers/shared';

/** Builds the capture from a JSON list of flows (each turn's bytes in hex). */
const GENERATOR = String.raw`
import json, sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw, wrpcap, conf
conf.verb = 0
spec = json.load(open(sys.argv[1]))
pkts = []
clock = [1700000000.0]
def emit(p):
    clock[0] += 0.001
    p.time = clock[0]
    pkts.append(p)
for f in spec:
    (cip, cport), (sip, sport) = f['client'], f['server']
    L3 = IPv6 if ':' in cip else IP
    # Both MACs given: scapy would otherwise resolve them on the network.
    def ip(c):
        macs = ('02:00:00:00:00:01', '02:00:00:00:00:02')
        return Ether(src=macs[0 if c else 1], dst=macs[1 if c else 0]) / (L3(src=cip, dst=sip) if c else L3(src=sip, dst=cip))
    if f['transport'] == 'udp':
        for side, data in f['turns']:
            c = side == 'client'
            emit(ip(c) / UDP(sport=cport if c else sport, dport=sport if c else cport) / Raw(bytes.fromhex(data)))
        continue
    seq = {'client': f['isn'][0], 'server': f['isn'][1]}
    def tcp(side, flags, payload=b'', at=None):
        c = side == 'client'
        other = 'server' if c else 'client'
        p = ip(c) / TCP(sport=cport if c else sport, dport=sport if c else cport, flags=flags,
                        seq=(seq[side] if at is None else at) % 2**32, ack=seq[other] % 2**32, window=65535)
        return p / Raw(payload) if payload else p
    emit(tcp('client', 'S')); seq['client'] += 1
    emit(tcp('server', 'SA')); seq['server'] += 1
    emit(tcp('client', 'A'))
    for side, data in f['turns']:
        b = bytes.fromhex(data)
        segs = [tcp(side, 'PA', b[o:o + f['mss']], seq[side] + o) for o in range(0, len(b), f['mss'])]
        if f['disorder'] and len(segs) >= 3:
            segs[0], segs[1] = segs[1], segs[0]
            segs.insert(3, segs[1].copy())
        for s in segs:
            emit(s)
        seq[side] += len(b)
    emit(tcp('client', 'FA')); seq['client'] += 1
    emit(tcp('server', 'FA')); seq['server'] += 1
    emit(tcp('client', 'A'))
wrpcap(sys.argv[2], pkts)
`;

type Side = 'client' | 'server';
interface FlowSpec {
  transport: 'tcp' | 'udp';
  client: [string, number];
  server: [string, number];
  turns: [Side, string][];
  mss: number;
  disorder: boolean;
  isn: [number, number];
}

const hexOf = (b: Uint8Array | string) => Buffer.from(typeof b === 'string' ? Buffer.from(b, 'latin1') : b).toString('hex');
let port = 40000;
function flow(transport: 'tcp' | 'udp', server: [string, number], turns: [Side, Uint8Array | string][], o: Partial<FlowSpec> = {}): FlowSpec {
  const v6 = server[0].includes(':');
  return { transport, client: [v6 ? '2001:db8::10' : '10.0.0.10', port++], server, turns: turns.map(([s, d]) => [s, hexOf(d)]), mss: 40, disorder: true, isn: [1000, 0xfffffe00], ...o };
}

const u16 = (n: number) => [n >> 8, n & 0xff];
const dnsName = (n: string) => [...n.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
const dnsQuery = (id: number, name: string) => Uint8Array.from([...u16(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName(name), 0, 1, 0, 1]);
const dnsAnswer = (id: number, name: string, a: number[]) => Uint8Array.from([...u16(id), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...dnsName(name), 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...a]);

const HASH = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
const handshake = (peer: string) => Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(HASH, 'hex'), Buffer.from(peer, 'latin1')]);
const XNS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";

const FLOWS: FlowSpec[] = [
  flow('tcp', ['192.0.2.1', 8080], [
    ['client', crlf('GET /index.html?q=1 HTTP/1.1', 'Host: www.example.com', 'User-Agent: lig-test/1', '') + crlf('POST /form HTTP/1.1', 'Host: www.example.com', 'Content-Length: 5', '') + 'a=b&c'],
    ['server', crlf('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', '4', 'abcd', '0', '') + crlf('HTTP/1.1 302 Found', 'Content-Length: 0', '')],
  ]),
  flow('tcp', ['2001:db8::80', 80], [['client', crlf('GET /v6 HTTP/1.1', 'Host: six.example', '')], ['server', crlf('HTTP/1.1 404 Not Found', 'Content-Length: 0', '')]]),
  flow('tcp', ['192.0.2.2', 443], [['client', records(clientHello({ sni: 'secure.example.org', alpn: ['h2', 'http/1.1'], versions: [0x0304, 0x0303], padding: 500 }))], ['server', Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0])]], { mss: 100 }),
  flow('udp', ['192.0.2.53', 53], [['client', dnsQuery(7, 'mail.example.net')], ['server', dnsAnswer(7, 'mail.example.net', [198, 51, 100, 25])]]),
  flow('tcp', ['192.0.2.25', 25], [
    ['server', crlf('220 mx.example.org ESMTP')],
    ['client', crlf('EHLO client.example.net')],
    ['server', crlf('250-mx.example.org', '250 PIPELINING')],
    ['client', crlf('MAIL FROM:<alice@example.net>', 'RCPT TO:<bob@example.org>', 'RCPT TO:<carol@example.org>', 'DATA')],
    ['server', crlf('250 ok', '250 ok', '250 ok', '354 go ahead')],
    ['client', crlf('Message-ID: <tshark.1@example.net>', 'Subject: cross-check', 'From: alice@example.net', '', 'Hello Bob,', '..a dot', '.')],
    ['server', crlf('250 queued')],
    ['client', crlf('QUIT')],
    ['server', crlf('221 bye')],
  ], { mss: 1400, disorder: false }), // tshark reads SMTP command lines within one segment
  flow('tcp', ['192.0.2.110', 110], [
    ['server', crlf('+OK ready')],
    ['client', crlf('USER mrose')],
    ['server', crlf('+OK')],
    ['client', crlf('PASS secret')],
    ['server', crlf('+OK 1 message')],
    ['client', crlf('RETR 1')],
    ['server', crlf('+OK 56 octets', 'Message-ID: <pop.1@example.org>', 'Subject: hi', '', 'text', '.')],
  ]),
  flow('tcp', ['192.0.2.143', 143], [
    ['server', crlf('* OK IMAP4rev1 ready')],
    ['client', crlf('a1 LOGIN juliet capulet')],
    ['server', crlf('a1 OK LOGIN completed')],
  ]),
  flow('tcp', ['192.0.2.52', 5222], [
    ['client', `<?xml version='1.0'?><stream:stream to='im.example.com' version='1.0' ${XNS}>`],
    ['server', `<?xml version='1.0'?><stream:stream from='im.example.com' id='s1' version='1.0' ${XNS}>`],
    ['server', "<iq id='b1' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>"],
    ['client', "<message to='romeo@example.net' type='chat' id='m1'><body>wherefore art thou</body></message>"],
  ]),
  flow('tcp', ['192.0.2.68', 6881], [['client', handshake('-qB4250-abcdefghijkl')], ['server', handshake('-TR3000-mnopqrstuvwx')]], { mss: 30 }),
];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('app: analysers against tshark on a capture built by scapy', function () {
  let dir: string;
  let pcap: string;
  const events: AppEvent[] = [];

  /** tshark's rows for `filter`: the fields, tab-separated, one line per packet that has them. */
  const tshark = (filter: string, ...fields: string[]): string[] =>
    run('tshark', ['-r', pcap, '-o', 'tcp.reassemble_out_of_order:TRUE', '-o', 'tcp.analyze_sequence_numbers:TRUE', '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])])
      .split('\n')
      .filter((l) => l.trim() !== '');
  const ours = (protocol: string, kind: string | undefined, ...keys: string[]): string[] =>
    events.filter((e) => e.protocol === protocol && (kind === undefined || e.fields.kind === kind)).map((e) => keys.map((k) => e.fields[k] ?? '').join('\t'));

  before(function () {
    requireScapy(this);
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipOrFail(this, 'tshark is not installed (apt-get install -y tshark)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-app-'));
    pcap = path.join(dir, 'app.pcap');
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(FLOWS));
    fs.writeFileSync(path.join(dir, 'gen.py'), GENERATOR);
    run(SYSTEM_PYTHON, [path.join(dir, 'gen.py'), path.join(dir, 'spec.json'), pcap]);
    const table = new FlowTable<undefined>((_flow, e) => events.push(e));
    for (const p of parseCaptureFile(fs.readFileSync(pcap)).packets) {
      const d = decodeFrame(p.linktype, p.data);
      if (typeof d === 'string') continue;
      const f = flowPacket(d, BigInt(p.ts!.sec) * 1_000_000n + BigInt(Math.floor(p.ts!.nsec / 1000)));
      if (typeof f === 'object') table.packet(f, undefined);
    }
    table.endAll(2_000_000_000_000_000n);
    assert.equal(table.counters().reassembly.gaps, 0);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('HTTP requests (method, host, target) and response codes', () => {
    assert.deepEqual(ours('http', 'request', 'method', 'host', 'path'), tshark('http.request', 'http.request.method', 'http.host', 'http.request.uri'));
    assert.deepEqual(ours('http', 'response', 'status'), tshark('http.response', 'http.response.code'));
    assert.equal(ours('http', 'request').length, 3);
  });

  it('TLS server name and ALPN', () => {
    assert.deepEqual(ours('tls', undefined, 'sni', 'alpn'), tshark('tls.handshake.type == 1', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str'));
  });

  it('DNS query names and answers', () => {
    assert.deepEqual(ours('dns', 'query', 'qname'), tshark('dns.flags.response == 0', 'dns.qry.name'));
    assert.deepEqual(
      events.filter((e) => e.protocol === 'dns' && e.fields.kind === 'response').map((e) => `${e.fields.qname}\t${e.fields.answers!.split(' ').pop()}`),
      tshark('dns.flags.response == 1', 'dns.qry.name', 'dns.a'),
    );
  });

  it('SMTP envelope and Message-ID', () => {
    const mail = tshark('smtp.req.command == "MAIL" || smtp.req.command == "RCPT"', 'smtp.req.parameter')
      .flatMap((l) => l.split(','))
      .map((p) => p.replace(/^(FROM|TO):<(.*)>$/i, '$2'));
    const [m] = events.filter((e) => e.protocol === 'smtp' && e.fields.kind === 'message');
    assert.deepEqual([m!.fields.sender, ...m!.fields.recipients!.split(',')], mail);
    assert.deepEqual([m!.fields.messageId], tshark('imf', 'imf.message_id'));
    assert.equal(m!.fields.status, 'ok');
  });

  it('POP3 and IMAP user names', () => {
    assert.deepEqual(ours('pop3', 'logon', 'username'), tshark('pop.request.command == "USER"', 'pop.request.parameter'));
    assert.deepEqual(ours('imap', 'logon', 'username'), tshark('imap.request.username', 'imap.request.username'));
  });

  it('XMPP bound JID and message addressing', () => {
    assert.deepEqual(ours('xmpp', 'bind', 'jid'), tshark('xmpp.iq.bind.jid', 'xmpp.iq.bind.jid'));
    assert.deepEqual(ours('xmpp', 'message', 'to'), tshark('xmpp.message', 'xmpp.to'));
  });

  it('BitTorrent info-hash and peer ids', () => {
    assert.deepEqual(
      ours('bittorrent', 'handshake', 'infoHash', 'peerId'),
      tshark('bittorrent.info_hash', 'bittorrent.info_hash', 'bittorrent.peer_id').map((l) => l.replace(/:/g, '')),
    );
  });
});

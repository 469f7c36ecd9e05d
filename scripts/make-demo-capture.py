#!/usr/bin/python3
"""Makes examples/demo.pcap, the capture `lig demo` replays: a few seconds of a hotspot LAN.

    /usr/bin/python3 scripts/make-demo-capture.py [OUT.pcap]     (default examples/demo.pcap)

Frames are built with scapy (Debian: apt-get install python3-scapy) and written as classic
pcap (Ethernet, microsecond timestamps) by the small writer below, so that nothing depends on
the clock, the machine or scapy's own pcap writer. Every value that could vary (IP ids, TCP
sequence numbers, DNS ids, TLS randoms, payload bytes) comes from random.Random with a fixed
seed, and every timestamp from a fixed start: running the script again gives the same bytes.

The network (all addresses are private or documentation ranges; MACs are locally administered):

    10.20.0.1    hotspot router: gateway, DNS resolver           02:00:0a:14:00:01
    10.20.0.23   THE TARGET: the subscriber under interception   02:00:0a:14:00:17
    10.20.0.31   subscriber B (exchanges traffic with the target) 02:00:0a:14:00:1f
    10.20.0.42   subscriber C                                    02:00:0a:14:00:2a
    10.20.0.57   subscriber D                                    02:00:0a:14:00:39
    10.20.0.64   subscriber E                                    02:00:0a:14:00:40

    203.0.113.80   web server, HTTP (news.example.com)
    198.51.100.25  TLS server (SNI mail.example.org, and video.example.net for D)
    192.0.2.123    NTP server
    198.51.100.77  UDP media relay, port 3478 (a voice call: 20 ms packets)

The capture is taken on a mirror port of the hotspot's LAN bridge, so every frame appears
once; traffic to the internet goes to or from the router's MAC. What happens:

  - the target: ARP for the router, DNS (A news.example.com, A mail.example.org), an HTTP GET
    with a response in several segments, a TLS 1.3 session with SNI mail.example.org
    (ClientHello, ServerHello, application data both ways), ICMP echo to the web server,
    NTP, a voice call through the media relay, and a hairpin exchange with subscriber B on
    the LAN (B fetches a file from the target over HTTP; the target pings B);
  - the others: B, C, D and E use the same DNS resolver, web, TLS, NTP and relay servers,
    and C sends a datagram whose payload carries the target's address (10.20.0.23) and asks
    for its reverse name: matching is by header, never by content.

Only packets whose IPv4 source or destination is 10.20.0.23 are the target's. The script
prints how many frames it wrote and how many of them are the target's.
"""
import random
import struct
import sys

from scapy.all import ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether, Raw, conf

conf.verb = 0

SEED = 20240601
# 2024-06-01T12:00:00Z
START_SECONDS = 1717243200

ROUTER = ('02:00:0a:14:00:01', '10.20.0.1')
TARGET = ('02:00:0a:14:00:17', '10.20.0.23')
SUB_B = ('02:00:0a:14:00:1f', '10.20.0.31')
SUB_C = ('02:00:0a:14:00:2a', '10.20.0.42')
SUB_D = ('02:00:0a:14:00:39', '10.20.0.57')
SUB_E = ('02:00:0a:14:00:40', '10.20.0.64')

WEB = '203.0.113.80'
TLS_SERVER = '198.51.100.25'
NTP_SERVER = '192.0.2.123'
RELAY = '198.51.100.77'

# Hops between the servers and the LAN: what their packets' TTL says when they arrive.
SERVER_TTL = 53
MSS = 1448


class Capture:
    """Frames with their times (microseconds from the start); written sorted by time."""

    def __init__(self):
        self.frames = []

    def add(self, t_us, frame):
        self.frames.append((t_us, len(self.frames), bytes(frame)))

    def write(self, path):
        self.frames.sort(key=lambda f: (f[0], f[1]))
        with open(path, 'wb') as out:
            # classic pcap, little-endian, microseconds, version 2.4, snaplen 65535, Ethernet
            out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t_us, _, data in self.frames:
                sec, usec = divmod(START_SECONDS * 1_000_000 + t_us, 1_000_000)
                out.write(struct.pack('<IIII', sec, usec, len(data), len(data)))
                out.write(data)


class Host:
    """A LAN host (MAC, address) or a server behind the router; keeps its own IP id counter."""

    def __init__(self, rng, ip, mac=None):
        self.ip = ip
        self.mac = mac
        self.lan = mac is not None
        self.ttl = 64 if self.lan else SERVER_TTL
        self.next_id = rng.getrandbits(16)

    def ip_id(self):
        v = self.next_id
        self.next_id = (self.next_id + 1) & 0xffff
        return v


def frame(src, dst, l4):
    """Ethernet + IPv4 from src to dst; a server's frames come from (or go to) the router's MAC."""
    smac = src.mac if src.lan else ROUTER[0]
    dmac = dst.mac if dst.lan else ROUTER[0]
    return Ether(src=smac, dst=dmac) / IP(src=src.ip, dst=dst.ip, id=src.ip_id(), ttl=src.ttl, flags='DF') / l4


class TcpFlow:
    """One TCP connection: handshake, data in MSS-sized segments acknowledged by the peer, close."""

    RTT_US = 900

    def __init__(self, cap, rng, client, cport, server, sport):
        self.cap, self.rng = cap, rng
        self.ends = {'c': (client, cport), 's': (server, sport)}
        self.seq = {'c': rng.getrandbits(32), 's': rng.getrandbits(32)}

    def _send(self, t, side, flags, payload=b'', options=None):
        other = 's' if side == 'c' else 'c'
        (src, sp), (dst, dp) = self.ends[side], self.ends[other]
        ack = self.seq[other] if 'A' in flags else 0
        # Windows are scaled by 2**7 after the handshake (WScale in both SYNs): ~64 KB either way.
        window = (64240 if side == 'c' else 65160) if 'S' in flags else (502 if side == 'c' else 509)
        tcp = TCP(sport=sp, dport=dp, seq=self.seq[side], ack=ack, flags=flags, window=window, options=options or [])
        self.cap.add(t, frame(src, dst, tcp / Raw(payload) if payload else tcp))
        self.seq[side] = (self.seq[side] + len(payload) + (1 if ('S' in flags or 'F' in flags) else 0)) & 0xffffffff

    def open(self, t):
        syn_opts = [('MSS', 1460), ('SAckOK', b''), ('WScale', 7)]
        self._send(t, 'c', 'S', options=syn_opts)
        self._send(t + self.RTT_US, 's', 'SA', options=syn_opts)
        self._send(t + self.RTT_US + 40, 'c', 'A')
        return t + self.RTT_US + 40

    def data(self, t, side, payload, gap_us=120):
        """Sends payload from side in segments; the peer acknowledges every second one and the last."""
        other = 's' if side == 'c' else 'c'
        chunks = [payload[i:i + MSS] for i in range(0, len(payload), MSS)]
        for k, chunk in enumerate(chunks):
            t += gap_us
            last = k == len(chunks) - 1
            self._send(t, side, 'PA' if last else 'A', chunk)
            if k % 2 == 1 or last:
                self._send(t + self.RTT_US // 2, other, 'A')
        return t + self.RTT_US // 2

    def close(self, t):
        self._send(t, 'c', 'FA')
        self._send(t + self.RTT_US, 's', 'FA')
        self._send(t + self.RTT_US + 30, 'c', 'A')
        return t + self.RTT_US + 30


def dns(cap, rng, t, client, resolver, name, answer, sport):
    """A DNS A (or PTR) query and its answer: UDP to the router's resolver."""
    qid = rng.getrandbits(16)
    qtype = 'PTR' if name.endswith('.in-addr.arpa') else 'A'
    q = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))
    cap.add(t, frame(client, resolver, UDP(sport=sport, dport=53) / q))
    rr = DNSRR(rrname=name, type=qtype, ttl=300, rdata=answer)
    a = DNS(id=qid, qr=1, aa=0, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=rr)
    cap.add(t + 2_500, frame(resolver, client, UDP(sport=53, dport=sport) / a))
    return t + 2_500


def pings(cap, rng, t, src, dst, count, interval_us=200_000, size=56):
    ident = rng.getrandbits(16)
    for seq in range(1, count + 1):
        payload = bytes(rng.getrandbits(8) for _ in range(size))
        cap.add(t, frame(src, dst, ICMP(type=8, id=ident, seq=seq) / payload))
        cap.add(t + 14_000, frame(dst, src, ICMP(type=0, id=ident, seq=seq) / payload))
        t += interval_us
    return t


def ntp(cap, rng, t, client, server, sport):
    """An NTPv4 client request (mode 3) and the server's answer (mode 4)."""
    tx = struct.pack('>II', 3926232000 + 100, rng.getrandbits(32))
    req = bytes([0x23, 0, 6, 0xec]) + bytes(36) + tx
    cap.add(t, frame(client, server, UDP(sport=sport, dport=123) / req))
    ref = struct.pack('>II', 3926232000 + 64, rng.getrandbits(32))
    rx = struct.pack('>II', 3926232000 + 100, rng.getrandbits(32))
    resp = bytes([0x24, 2, 6, 0xe9]) + struct.pack('>II', 0x200, 0x300) + b'GPS\x00' + ref + tx + rx + rx
    cap.add(t + 11_000, frame(server, client, UDP(sport=123, dport=sport) / resp))
    return t + 11_000


def voice(cap, rng, t, client, cport, relay, count, size=172):
    """A call through the relay: a datagram each way every 20 ms, RTP-like (12-byte header, then audio)."""
    ssrc_c, ssrc_r = rng.getrandbits(32), rng.getrandbits(32)
    seq_c, seq_r = rng.getrandbits(16), rng.getrandbits(16)
    for k in range(count):
        for (src, sp, dst, dp, ssrc, seq, skew) in ((client, cport, relay, 3478, ssrc_c, seq_c, 0),
                                                    (relay, 3478, client, cport, ssrc_r, seq_r, 7_300)):
            header = struct.pack('>BBHII', 0x80, 0, (seq + k) & 0xffff, (k * 160) & 0xffffffff, ssrc)
            audio = bytes(rng.getrandbits(8) for _ in range(size - 12))
            cap.add(t + skew, frame(src, dst, UDP(sport=sp, dport=dp) / (header + audio)))
        t += 20_000
    return t


def http_get(cap, rng, t, client, cport, server, host, path, body):
    flow = TcpFlow(cap, rng, client, cport, server, 80)
    t = flow.open(t)
    req = ('GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: demo-browser/1.0\r\nAccept: */*\r\n\r\n' % (path, host)).encode()
    t = flow.data(t + 200, 'c', req)
    head = ('HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n' % len(body)).encode()
    t = flow.data(t + 18_000, 's', head + body)
    return flow.close(t + 5_000)


def page(rng, title, paragraphs):
    words = ['hotspot', 'network', 'weather', 'market', 'river', 'council', 'festival', 'bridge', 'library', 'train']
    parts = ['<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1>' % (title, title)]
    for _ in range(paragraphs):
        parts.append('<p>%s.</p>' % ' '.join(words[rng.getrandbits(8) % len(words)] for _ in range(40)))
    parts.append('</body></html>\n')
    return ''.join(parts).encode()


def client_hello(rng, sni):
    """A TLS 1.3 ClientHello record with server_name `sni` (RFC 8446, RFC 6066)."""
    def ext(kind, body):
        return struct.pack('>HH', kind, len(body)) + body
    name = sni.encode()
    exts = b''.join([
        ext(0x0000, struct.pack('>HBH', len(name) + 3, 0, len(name)) + name),          # server_name
        ext(0x000a, struct.pack('>H', 4) + struct.pack('>HH', 0x001d, 0x0017)),        # supported_groups
        ext(0x000d, struct.pack('>H', 6) + struct.pack('>HHH', 0x0403, 0x0804, 0x0401)),  # signature_algorithms
        ext(0x0010, struct.pack('>H', 9) + b'\x08http/1.1'),                           # ALPN
        ext(0x002b, b'\x04\x03\x04\x03\x03'),                                          # supported_versions
        ext(0x0033, struct.pack('>HHH', 36, 0x001d, 32) + rand(rng, 32)),              # key_share (x25519)
    ])
    suites = struct.pack('>HHHHH', 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f)
    body = (b'\x03\x03' + rand(rng, 32) + b'\x20' + rand(rng, 32) + struct.pack('>H', len(suites)) + suites
            + b'\x01\x00' + struct.pack('>H', len(exts)) + exts)
    hs = b'\x01' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('>H', len(hs)) + hs


def server_hello(rng):
    exts = struct.pack('>HHH', 0x002b, 2, 0x0304) + struct.pack('>HHHH', 0x0033, 36, 0x001d, 32) + rand(rng, 32)
    body = b'\x03\x03' + rand(rng, 32) + b'\x20' + rand(rng, 32) + b'\x13\x01\x00' + struct.pack('>H', len(exts)) + exts
    hs = b'\x02' + struct.pack('>I', len(body))[1:] + body
    hello = b'\x16\x03\x03' + struct.pack('>H', len(hs)) + hs
    return hello + b'\x14\x03\x03\x00\x01\x01' + app_data(rng, 2_400)


def app_data(rng, n):
    """TLS application_data records holding n bytes of (pretend) ciphertext."""
    out = b''
    while n > 0:
        k = min(n, 1_400)
        out += b'\x17\x03\x03' + struct.pack('>H', k) + rand(rng, k)
        n -= k
    return out


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def tls_session(cap, rng, t, client, cport, server, sni, up, down):
    flow = TcpFlow(cap, rng, client, cport, server, 443)
    t = flow.open(t)
    t = flow.data(t + 150, 'c', client_hello(rng, sni))
    t = flow.data(t + 9_000, 's', server_hello(rng))
    t = flow.data(t + 600, 'c', app_data(rng, up))
    t = flow.data(t + 25_000, 's', app_data(rng, down))
    return flow.close(t + 40_000)


def arp(cap, t, asker, wanted):
    cap.add(t, Ether(src=asker[0], dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=asker[0], psrc=asker[1], pdst=wanted[1]))
    cap.add(t + 300, Ether(src=wanted[0], dst=asker[0]) / ARP(op=2, hwsrc=wanted[0], psrc=wanted[1], hwdst=asker[0], pdst=asker[1]))


def build():
    rng = random.Random(SEED)
    cap = Capture()
    lan = {name: Host(rng, ip, mac) for name, (mac, ip) in
           (('router', ROUTER), ('target', TARGET), ('b', SUB_B), ('c', SUB_C), ('d', SUB_D), ('e', SUB_E))}
    web, tls, ntps, relay = (Host(rng, ip) for ip in (WEB, TLS_SERVER, NTP_SERVER, RELAY))
    router, target, b, c, d, e = (lan[k] for k in ('router', 'target', 'b', 'c', 'd', 'e'))

    # The target (times are microseconds from the start of the capture).
    arp(cap, 10_000, TARGET, ROUTER)
    dns(cap, rng, 40_000, target, router, 'news.example.com', WEB, 53001)
    http_get(cap, rng, 60_000, target, 50412, web, 'news.example.com', '/', page(rng, 'Local news', 14))
    dns(cap, rng, 700_000, target, router, 'mail.example.org', TLS_SERVER, 53002)
    tls_session(cap, rng, 720_000, target, 50418, tls, 'mail.example.org', up=1_800, down=9_000)
    pings(cap, rng, 1_500_000, target, web, 3)
    ntp(cap, rng, 2_100_000, target, ntps, 40123)
    voice(cap, rng, 2_300_000, target, 40500, relay, 40)
    # The hairpin: B fetches a file from the target on the LAN; the target pings B.
    arp(cap, 3_350_000, SUB_B, TARGET)
    http_get(cap, rng, 3_400_000, b, 51877, target, '10.20.0.23', '/photo.html', page(rng, 'Shared', 6))
    pings(cap, rng, 4_000_000, target, b, 2)

    # Everyone else, to the same servers.
    dns(cap, rng, 120_000, b, router, 'news.example.com', WEB, 53101)
    http_get(cap, rng, 150_000, b, 49152, web, 'news.example.com', '/sport', page(rng, 'Sport', 9))
    pings(cap, rng, 1_550_000, b, web, 2)
    dns(cap, rng, 300_000, c, router, 'mail.example.org', TLS_SERVER, 53201)
    tls_session(cap, rng, 330_000, c, 50999, tls, 'mail.example.org', up=1_200, down=5_000)
    ntp(cap, rng, 2_150_000, c, ntps, 40124)
    # The target's address in a payload (a reverse lookup, and a LAN chat message naming it).
    dns(cap, rng, 2_600_000, c, router, '23.0.20.10.in-addr.arpa', 'phone-23.hotspot.lan', 53202)
    cap.add(2_650_000, frame(c, d, UDP(sport=5999, dport=5999) / b'who is 10.20.0.23? \x0a\x14\x00\x17'))
    dns(cap, rng, 900_000, d, router, 'video.example.net', TLS_SERVER, 53301)
    tls_session(cap, rng, 950_000, d, 52011, tls, 'video.example.net', up=900, down=14_000)
    voice(cap, rng, 2_310_000, d, 40777, relay, 30)
    http_get(cap, rng, 4_300_000, d, 52013, web, 'news.example.com', '/', page(rng, 'Local news', 14))
    arp(cap, 4_800_000, SUB_E, ROUTER)
    dns(cap, rng, 4_820_000, e, router, 'news.example.com', WEB, 53401)
    http_get(cap, rng, 4_850_000, e, 60001, web, 'news.example.com', '/weather', page(rng, 'Weather', 5))
    pings(cap, rng, 5_200_000, e, web, 3)
    ntp(cap, rng, 5_500_000, e, ntps, 40125)
    return cap


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'examples/demo.pcap'
    cap = build()
    cap.write(out)
    target = 0
    for _, _, data in cap.frames:
        p = Ether(data)
        if p.haslayer(IP) and TARGET[1] in (p[IP].src, p[IP].dst):
            target += 1
    print('%s: %d frames, %d of them the target\'s (%s)' % (out, len(cap.frames), target, TARGET[1]))


if __name__ == '__main__':
    main()

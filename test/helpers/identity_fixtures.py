#!/usr/bin/python3
"""RADIUS accounting and DHCP packets, and an identity test capture, built with scapy (an
independent implementation of the formats). Run by test/helpers/identity-scapy.ts with Debian's
/usr/bin/python3 (python3-scapy):

  golden OUTDIR    OUTDIR/golden.json: {radius: [case], dhcp: [case]}, case = {name, hex (the UDP
                   payload), expect: the values given to scapy, as the parser must read them};
                   OUTDIR/radius.pcap and OUTDIR/dhcp.pcap: the same payloads in Ethernet/IPv4/UDP
                   frames, one per case in order, for tshark
  capture OUTDIR   OUTDIR/identity.pcap and OUTDIR/expected.json: a hotspot's day (see SCENARIO);
                   expected.json = {tasks, frames: [{name, timeUs, matches: [[task, direction, key]]}],
                   events: [identity event]}. The expectations are the scenario's own: who is whose
                   target when, written here from the story, not computed by lig.
"""
import json
import os
import struct
import sys

from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw, conf
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.radius import Radius, RadiusAttribute

conf.verb = 0

ZERO_AUTH = b'\x00' * 16


def attr(t, v):
    return RadiusAttribute(type=t, value=v)


def u32(n):
    return struct.pack('>I', n)


def ip4(text):
    return bytes(int(x) for x in text.split('.'))


def v6prefix(prefix_bytes, length):
    return b'\x00' + bytes([length]) + prefix_bytes


def acct(code=4, ident=1, attrs=()):
    return bytes(Radius(code=code, id=ident, authenticator=ZERO_AUTH, attributes=list(attrs)))


def radius_golden():
    """(name, payload, expect) for Accounting-Requests; expect uses the parser's field names."""
    out = []
    # MikroTik hotspot Start: upper-case MAC with dashes, NAS-Identifier and NAS-IP-Address.
    out.append(('mikrotik-start', acct(ident=17, attrs=[
        attr(40, u32(1)), attr(1, b'alice'), attr(8, ip4('10.5.50.10')), attr(31, b'02-00-00-00-00-AA'),
        attr(44, b'81a0000b'), attr(4, ip4('10.5.0.1')), attr(32, b'hotspot1'), attr(41, u32(0)),
        attr(55, u32(1700000000)), attr(26, b'\x00\x00\x3a\x8c\x0a\x06abcd')]), {
        'identifier': 17, 'statusType': 1, 'userName': 'alice', 'mac': '0200000000aa',
        'framedIp': '10.5.50.10', 'sessionId': '81a0000b', 'nasIp': '10.5.0.1', 'nasIdentifier': 'hotspot1',
        'delayTime': 0, 'eventTimestamp': 1700000000}))
    # Interim-Update with octets and gigawords, IPv6 prefix, MAC with colons (lower case).
    out.append(('interim-gigawords', acct(ident=18, attrs=[
        attr(40, u32(3)), attr(1, b'alice'), attr(31, b'02:00:00:00:00:aa'), attr(44, b'81a0000b'),
        attr(4, ip4('10.5.0.1')), attr(8, ip4('10.5.50.10')), attr(97, v6prefix(bytes.fromhex('20010db800500000'), 64)),
        attr(42, u32(5000)), attr(52, u32(1)), attr(43, u32(0xffffffff)), attr(53, u32(2)), attr(46, u32(300))]), {
        'identifier': 18, 'statusType': 3, 'userName': 'alice', 'mac': '0200000000aa', 'framedIp': '10.5.50.10',
        'framedIpv6Prefix': '20010db8005000000000000000000000', 'framedIpv6PrefixLength': 64,
        'sessionId': '81a0000b', 'nasIp': '10.5.0.1', 'inputOctets': str(2**32 + 5000),
        'outputOctets': str(2 * 2**32 + 0xffffffff), 'sessionTime': 300}))
    # Stop with a terminate cause, Cisco-style MAC, NAS-IPv6-Address only.
    out.append(('stop-cisco-mac-nas-ipv6', acct(ident=19, attrs=[
        attr(40, u32(2)), attr(1, b'bob@realm'), attr(31, b'0200.0000.00bb'), attr(44, b'S-1/2'),
        attr(95, bytes.fromhex('20010db8000000000000000000000001')), attr(49, u32(1)), attr(42, u32(10)),
        attr(43, u32(20)), attr(46, u32(3600))]), {
        'identifier': 19, 'statusType': 2, 'userName': 'bob@realm', 'mac': '0200000000bb', 'sessionId': 'S-1%2F2',
        'nasIpv6': '20010db8000000000000000000000001', 'terminateCause': 1, 'inputOctets': '10', 'outputOctets': '20',
        'sessionTime': 3600}))
    # A phone number in Calling-Station-Id is not a MAC; a bare-hex MAC elsewhere is.
    out.append(('start-not-a-mac', acct(ident=20, attrs=[
        attr(40, u32(1)), attr(1, b'carol'), attr(31, b'+15551234567'), attr(44, b'x'), attr(32, b'nas 2')]), {
        'identifier': 20, 'statusType': 1, 'userName': 'carol', 'callingStationId': True, 'sessionId': 'x',
        'nasIdentifier': 'nas%202'}))
    out.append(('start-bare-hex-mac', acct(ident=21, attrs=[
        attr(40, u32(1)), attr(1, b'dave'), attr(31, b'0200000000DD'), attr(44, b'y'), attr(4, ip4('10.5.0.1'))]), {
        'identifier': 21, 'statusType': 1, 'userName': 'dave', 'mac': '0200000000dd', 'sessionId': 'y', 'nasIp': '10.5.0.1'}))
    # Accounting-On: no session, counted and ignored by the tracker.
    out.append(('accounting-on', acct(ident=22, attrs=[attr(40, u32(7)), attr(4, ip4('10.5.0.1'))]), {
        'identifier': 22, 'statusType': 7, 'nasIp': '10.5.0.1'}))
    return out


def dhcp_payload(op, mac, options, ciaddr='0.0.0.0', yiaddr='0.0.0.0', xid=0x1234):
    chaddr = bytes.fromhex(mac.replace(':', '')) + b'\x00' * 10
    return bytes(BOOTP(op=op, xid=xid, ciaddr=ciaddr, yiaddr=yiaddr, chaddr=chaddr) / DHCP(options=options))


def dhcp_golden():
    out = []
    out.append(('ack', dhcp_payload(2, '02:00:00:00:00:cc', [('message-type', 'ack'), ('server_id', '10.5.60.1'),
                                                          ('lease_time', 600), ('hostname', b'carol-phone'), 'end'],
                                    yiaddr='10.5.60.5', xid=0xabcdef01), {
        'op': 2, 'xid': 0xabcdef01, 'yiaddr': '10.5.60.5', 'chaddr': '0200000000cc', 'messageType': 5, 'serverId': '10.5.60.1',
        'leaseSeconds': 600, 'hostName': 'carol-phone', 'overloaded': False}))
    out.append(('release', dhcp_payload(1, '02:00:00:00:00:cc', [('message-type', 'release'), ('server_id', '10.5.60.1'), 'end'],
                                        ciaddr='10.5.60.5'), {
        'op': 1, 'ciaddr': '10.5.60.5', 'chaddr': '0200000000cc', 'messageType': 7, 'serverId': '10.5.60.1', 'overloaded': False}))
    out.append(('decline', dhcp_payload(1, '02:00:00:00:00:cc', [('message-type', 'decline'), ('requested_addr', '10.5.60.9'), 'pad', 'pad', 'end']), {
        'op': 1, 'chaddr': '0200000000cc', 'messageType': 4, 'requestedAddress': '10.5.60.9', 'overloaded': False}))
    out.append(('nak-overload', dhcp_payload(2, '02:00:00:00:00:cc', [('message-type', 'nak'), (52, b'\x03'), 'end']), {
        'op': 2, 'chaddr': '0200000000cc', 'messageType': 6, 'overloaded': True}))
    out.append(('infinite-lease', dhcp_payload(2, '02:00:00:00:00:ee', [('message-type', 'ack'), ('lease_time', 0xffffffff), 'end'],
                                               yiaddr='10.5.60.7'), {
        'op': 2, 'yiaddr': '10.5.60.7', 'chaddr': '0200000000ee', 'messageType': 5, 'leaseSeconds': 0xffffffff, 'overloaded': False}))
    return out


def write_pcap(path, records):
    """Classic pcap, microsecond times, LINKTYPE_ETHERNET; records are (time_us, frame)."""
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for time_us, data in records:
            fh.write(struct.pack('<IIII', time_us // 1_000_000, time_us % 1_000_000, len(data), len(data)))
            fh.write(data)


def cmd_golden(outdir):
    os.makedirs(outdir, exist_ok=True)
    radius = radius_golden()
    dhcp = dhcp_golden()
    doc = {'radius': [{'name': n, 'hex': p.hex(), 'expect': e} for n, p, e in radius],
           'dhcp': [{'name': n, 'hex': p.hex(), 'expect': e} for n, p, e in dhcp]}
    with open(os.path.join(outdir, 'golden.json'), 'w') as fh:
        json.dump(doc, fh)
    base = 1_700_000_000_000_000
    write_pcap(os.path.join(outdir, 'radius.pcap'), [
        (base + i, bytes(Ether() / IP(src='10.5.0.1', dst='10.5.0.2') / UDP(sport=40000, dport=1813) / Raw(p)))
        for i, (_, p, _) in enumerate(radius)])
    write_pcap(os.path.join(outdir, 'dhcp.pcap'), [
        (base + i, bytes(Ether() / IP(src='10.5.60.1', dst='255.255.255.255') / UDP(sport=67, dport=68) / Raw(p)))
        for i, (_, p, _) in enumerate(dhcp)])


# --- the capture ----------------------------------------------------------------------------------

NAS = '10.5.0.1'
AAA = '10.5.0.2'
NET = '93.184.216.34'
NET6 = '2001:db8:ffff::80'
ROUTER_MAC = '02:00:00:00:00:01'
UPLINK_MAC = '02:00:00:00:00:02'
CAROL_MAC = '02:00:00:00:00:cc'
ALICE_MAC = '02:00:00:00:00:aa'
BASE_US = 1_700_000_000_000_000
SEC = 1_000_000

TASKS = [
    {'taskId': 1, 'username': 'alice'},
    {'taskId': 2, 'mac': CAROL_MAC},
    {'taskId': 3, 'ip': '198.51.100.77/32'},
]

S1 = 'radius:10.5.0.1/a-1'
S3 = 'radius:10.5.0.1/a-3'
C1 = 'dhcp:02:00:00:00:00:cc/10.5.60.5'
C2 = 'dhcp:02:00:00:00:00:cc/10.5.60.6'


def eth():
    return Ether(src=ROUTER_MAC, dst=UPLINK_MAC)


def radius_frame(status, session, user, attrs=(), ident=1):
    base = [attr(40, u32(status)), attr(44, session.encode()), attr(4, ip4(NAS)), attr(32, b'hotspot1')]
    if user:
        base.append(attr(1, user.encode()))
    return eth() / IP(src=NAS, dst=AAA) / UDP(sport=40000 + ident, dport=1813) / Radius(code=4, id=ident, authenticator=ZERO_AUTH, attributes=base + list(attrs))


def dhcp_frame(op, options, ciaddr='0.0.0.0', yiaddr='0.0.0.0', to_server=False):
    sport, dport = (68, 67) if to_server else (67, 68)
    return eth() / IP(src='10.5.60.1', dst='10.5.60.255') / UDP(sport=sport, dport=dport) / Raw(dhcp_payload(op, CAROL_MAC, options, ciaddr, yiaddr))


def traffic(src, dst, name, v6=False):
    layer = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    return eth() / layer / TCP(sport=50000, dport=443, flags='PA') / Raw(('identity test: %s' % name).encode())


def event(t, kind, tasks, key, **fields):
    e = {'timeUs': t, 'kind': kind, 'taskIds': tasks, 'sessionKey': key}
    e.update(fields)
    return e


def scenario():
    """(frames, events): frames are (name, time, scapy frame, [[task, direction, key]])."""
    frames = []
    events = []
    t = BASE_US

    def add(name, frame, matches=()):
        nonlocal t
        t += SEC
        frames.append((name, t, frame, [list(m) for m in matches]))
        return t

    alice1 = dict(username='alice', mac='0200000000aa', ipv4='10.5.50.10', ipv6Prefix='20010db8005000000000000000000000',
                  ipv6PrefixLength=64, sessionId='a-1', nasIp=NAS, nasIdentifier='hotspot1', source='radius')
    # Alice logs in (MikroTik hotspot: MAC upper case with dashes), with an IPv6 prefix.
    at = add('alice-start', radius_frame(1, 'a-1', 'alice', [attr(8, ip4('10.5.50.10')), attr(31, b'02-00-00-00-00-AA'),
                                                           attr(97, v6prefix(bytes.fromhex('20010db800500000'), 64))]))
    events.append(event(at, 'START', [1], S1, sessionStartUs=at, octetsIn='0', octetsOut='0', terminateCause=0, **alice1))
    add('alice-browses', traffic('10.5.50.10', NET, 'alice 1'), [(1, 1, S1)])
    add('alice-answer', traffic(NET, '10.5.50.10', 'alice 2'), [(1, 2, S1)])
    add('alice-v6', traffic('2001:db8:50::1234', NET6, 'alice v6', v6=True), [(1, 1, S1)])
    add('other-subscriber', traffic('10.5.50.20', NET, 'someone else'))
    add('ip-task', traffic('10.5.50.20', '198.51.100.77', 'ip task'), [(3, 2, '')])
    add('malformed-radius', eth() / IP(src=NAS, dst=AAA) / UDP(sport=40100, dport=1813) / Raw(bytes.fromhex('04010030') + b'\x00' * 10))
    at = add('alice-interim', radius_frame(3, 'a-1', 'alice', [attr(8, ip4('10.5.50.10')), attr(31, b'02-00-00-00-00-AA'),
                                                             attr(42, u32(5000)), attr(52, u32(1)), attr(43, u32(7000)),
                                                             attr(46, u32(7))], ident=2))
    events.append(event(at, 'INTERIM', [1], S1, sessionStartUs=BASE_US + SEC, octetsIn=str(2**32 + 5000), octetsOut='7000', terminateCause=0, **alice1))
    add('alice-more', traffic('10.5.50.10', NET, 'alice 3'), [(1, 1, S1)])
    at = add('alice-stop', radius_frame(2, 'a-1', 'alice', [attr(49, u32(1)), attr(42, u32(6000)), attr(43, u32(8000))], ident=3))
    events.append(event(at, 'STOP', [1], S1, sessionStartUs=BASE_US + SEC, octetsIn='6000', octetsOut='8000', terminateCause=1, **alice1))
    add('after-stop', traffic('10.5.50.10', NET, 'no longer alice'))
    add('after-stop-v6', traffic('2001:db8:50::1234', NET6, 'no longer alice v6', v6=True))
    # Bob gets Alice's old address: his traffic is nobody's target.
    add('bob-start', radius_frame(1, 'b-1', 'bob', [attr(8, ip4('10.5.50.10')), attr(31, b'02-00-00-00-00-BB')], ident=4))
    add('bob-browses', traffic('10.5.50.10', NET, 'bob'))
    # Alice again, at a new address.
    alice3 = dict(username='alice', mac='0200000000aa', ipv4='10.5.50.11', ipv6Prefix='', ipv6PrefixLength=0, sessionId='a-3',
                  nasIp=NAS, nasIdentifier='hotspot1', source='radius')
    at = add('alice-start-2', radius_frame(1, 'a-3', 'alice', [attr(8, ip4('10.5.50.11')), attr(31, b'02-00-00-00-00-AA')], ident=5))
    a3_start = at
    events.append(event(at, 'START', [1], S3, sessionStartUs=at, octetsIn='0', octetsOut='0', terminateCause=0, **alice3))
    add('alice-2-browses', traffic('10.5.50.11', NET, 'alice again'), [(1, 1, S3)])
    add('alice-2-hairpin-bob', traffic('10.5.50.11', '10.5.50.10', 'alice to bob'), [(1, 1, S3)])
    # Dave gets 10.5.50.11 without Alice's Stop having been seen: her session ends at once.
    at = add('dave-start', radius_frame(1, 'd-1', 'dave', [attr(8, ip4('10.5.50.11'))], ident=6))
    events.append(event(at, 'STOP', [1], S3, sessionStartUs=a3_start, octetsIn='0', octetsOut='0', terminateCause=0x10001, **alice3))
    add('dave-browses', traffic('10.5.50.11', NET, 'dave'))
    # Carol (MAC target) by DHCP, behind the router (frames carry the router's MAC, not hers).
    carol = dict(username='', mac='0200000000cc', ipv6Prefix='', ipv6PrefixLength=0, sessionId='', nasIp='10.5.60.1', nasIdentifier='',
                 source='dhcp', octetsIn='0', octetsOut='0')
    at = add('carol-ack', dhcp_frame(2, [('message-type', 'ack'), ('server_id', '10.5.60.1'), ('lease_time', 600), 'end'], yiaddr='10.5.60.5'))
    c1_start = at
    events.append(event(at, 'LEASE_BIND', [2], C1, ipv4='10.5.60.5', sessionStartUs=at, leaseSeconds=600, terminateCause=0, **carol))
    add('carol-browses', traffic('10.5.60.5', NET, 'carol'), [(2, 1, C1)])
    at = add('carol-renew', dhcp_frame(2, [('message-type', 'ack'), ('server_id', '10.5.60.1'), ('lease_time', 600), 'end'], yiaddr='10.5.60.5'))
    events.append(event(at, 'INTERIM', [2], C1, ipv4='10.5.60.5', sessionStartUs=c1_start, leaseSeconds=600, terminateCause=0, **carol))
    at = add('carol-release', dhcp_frame(1, [('message-type', 'release'), ('server_id', '10.5.60.1'), 'end'], ciaddr='10.5.60.5', to_server=True))
    events.append(event(at, 'LEASE_RELEASE', [2], C1, ipv4='10.5.60.5', sessionStartUs=c1_start, leaseSeconds=600, terminateCause=0, **carol))
    add('after-release', traffic('10.5.60.5', NET, 'not carol'))
    at = add('carol-ack-2', dhcp_frame(2, [('message-type', 'ack'), ('server_id', '10.5.60.1'), ('lease_time', 60), 'end'], yiaddr='10.5.60.6'))
    c2_start = at
    events.append(event(at, 'LEASE_BIND', [2], C2, ipv4='10.5.60.6', sessionStartUs=at, leaseSeconds=60, terminateCause=0, **carol))
    add('carol-2-browses', traffic(NET, '10.5.60.6', 'carol 2'), [(2, 2, C2)])
    # Nothing for 90 s; the next frame (someone else's) shows the lease ran out at bind + 60 s.
    t += 90 * SEC
    add('later-other', traffic('10.5.50.20', NET, 'later'))
    events.append(event(c2_start + 60 * SEC, 'LEASE_RELEASE', [2], C2, ipv4='10.5.60.6', sessionStartUs=c2_start, leaseSeconds=60,
                        terminateCause=0x10000, **carol))
    add('after-expiry', traffic('10.5.60.6', NET, 'not carol 2'))
    return frames, events


def cmd_capture(outdir):
    os.makedirs(outdir, exist_ok=True)
    frames, events = scenario()
    write_pcap(os.path.join(outdir, 'identity.pcap'), [(t, bytes(f)) for _, t, f, _ in frames])
    doc = {'tasks': TASKS,
           'frames': [{'name': n, 'timeUs': t, 'ip': bytes((f.getlayer(IP) or f.getlayer(IPv6))).hex(), 'matches': m} for n, t, f, m in frames],
           'events': events}
    with open(os.path.join(outdir, 'expected.json'), 'w') as fh:
        json.dump(doc, fh)


def main(argv):
    if len(argv) != 3 or argv[1] not in ('golden', 'capture'):
        sys.exit(__doc__)
    {'golden': cmd_golden, 'capture': cmd_capture}[argv[1]](argv[2])


if __name__ == '__main__':
    main(sys.argv)

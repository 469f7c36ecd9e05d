/**
 * identity-iri.ts: IdentityEvents → session facts → IPIRIContents, field by field, for every
 * step of a session's life, RADIUS and DHCP; the endReason of every terminate cause; and all
 * the records through the independent decoder (etsi-oracle), which must accept them and agree
 * with lig's decoding on every component. Expected values are written out here by hand.
 */
import { strict as assert } from 'node:assert';
import { PS_PDU, decodePsPdu, ipiriPdu, toJsonValue, type RecordContext } from '../../src/etsi';
import { IdentityEvent_Kind as Kind, IdentityEvent_Source as Source } from '../../src/gen/lig/v1/ingest';
import {
  DHCP_LEASE_EXPIRED,
  type IriStep,
  MAX_POP_IDENTIFIER_LENGTH,
  MAX_SESSION_KEY_LENGTH,
  endReasonOf,
  factsOf,
  identityIri,
  identityProblem,
} from '../../src/mediation/identity-iri';
import { diffWithXer, enumValue, find, oracleXerOf, xerHex } from '../helpers/oracle';
import { DHCP_LEASE_DECLINED, DHCP_LEASE_EXPIRED as PROBE_LEASE_EXPIRED, DHCP_LEASE_SUPERSEDED, SESSION_ADDRESS_TAKEN, SESSION_EVICTED } from '../../src/probe/identity/causes';
import { identityEvent } from '../mediation-fixtures';

const T0 = 1_700_000_000_000_000n; // 2023-11-14T22:13:20Z

const RADIUS_START = identityEvent({
  kind: Kind.KIND_SESSION_START,
  username: 'alice',
  mac: Buffer.from([0xaa, 0xbb, 0xcc, 0x00, 0x11, 0x22]),
  ipv4: Buffer.from([10, 5, 0, 23]),
  ipv6Prefix: Buffer.from('20010db8000100020000000000000000', 'hex'),
  ipv6PrefixLength: 64,
  sessionId: '81200001',
  nasIp: Buffer.from([192, 0, 2, 1]),
  nasIdentifier: 'hotspot-1',
  sessionKey: 'radius:192.0.2.1/81200001',
  source: Source.SOURCE_RADIUS,
});

const DHCP_BIND = identityEvent({
  kind: Kind.KIND_LEASE_BIND,
  mac: Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x09]),
  ipv4: Buffer.from([10, 6, 0, 40]),
  nasIp: Buffer.from([10, 6, 0, 1]),
  sessionKey: 'dhcp:02:00:00:00:00:09/10.6.0.40',
  source: Source.SOURCE_DHCP,
  leaseSeconds: 600,
});

const CTX: RecordContext = { liid: 'LIID-IDENT', cin: 7, operatorId: 'OPERATOR-1', authorizationCountryCode: 'DE' };

describe('identity IRI: session facts and IPIRIContents', () => {
  it('facts of a RADIUS Start: every field, bytes as hex, start = the event time when the probe knows none', () => {
    const f = factsOf(RADIUS_START, T0);
    assert.deepEqual(f, {
      key: 'radius:192.0.2.1/81200001',
      source: 'radius',
      username: 'alice',
      mac: 'aabbcc001122',
      ipv4: '0a050017',
      ipv6: '20010db8000100020000000000000000',
      ipv6Length: 64,
      nasIp: 'c0000201',
      nasIdentifier: 'hotspot-1',
      startUs: T0.toString(),
      leaseSeconds: 0,
      leaseFromUs: '0',
      octetsIn: '0',
      octetsOut: '0',
    });
    assert.equal(factsOf({ ...RADIUS_START, sessionStartUs: T0 - 5n }, T0).startUs, (T0 - 5n).toString(), "the probe's start time wins");
  });

  it('an event leaves out what the session knew: the earlier facts fill in; fields of the wrong size count as absent', () => {
    const prior = factsOf(RADIUS_START, T0);
    const stop = identityEvent({ kind: Kind.KIND_SESSION_STOP, sessionKey: prior.key, mac: Buffer.from([1, 2, 3]), ipv4: Buffer.from([1, 2]), octetsIn: 100n, octetsOut: 2n ** 40n });
    const f = factsOf(stop, T0 + 60_000_000n, prior);
    assert.deepEqual(f, { ...prior, octetsIn: '100', octetsOut: (2n ** 40n).toString() });
    const bare = factsOf(identityEvent({ kind: Kind.KIND_SESSION_ACTIVE, sessionKey: 'k', ipv6Prefix: Buffer.alloc(16), ipv6PrefixLength: 0, nasIp: Buffer.alloc(5) }), T0);
    assert.deepEqual([bare.ipv6, bare.ipv6Length, bare.nasIp, bare.startUs], ['', 0, '', '0'], 'no prefix length: no prefix; a session-active start is unknown');
  });

  it('DHCP: the lease runs from the bind, then from each renewal', () => {
    const bound = factsOf(DHCP_BIND, T0);
    assert.deepEqual([bound.source, bound.leaseSeconds, bound.leaseFromUs, bound.startUs], ['dhcp', 600, T0.toString(), T0.toString()]);
    const renewed = factsOf({ ...DHCP_BIND, kind: Kind.KIND_SESSION_INTERIM, leaseSeconds: 900 }, T0 + 300_000_000n, bound);
    assert.deepEqual([renewed.leaseSeconds, renewed.leaseFromUs, renewed.startUs], [900, (T0 + 300_000_000n).toString(), T0.toString()]);
  });

  it('IRI-BEGIN accessAccept of a RADIUS session: every field', () => {
    const { iriType, contents } = identityIri('begin', factsOf(RADIUS_START, T0), T0);
    assert.equal(iriType, 'iRI-Begin');
    assert.deepEqual(contents, {
      accessEventType: 'accessAccept',
      targetUsername: 'alice',
      internetAccessType: 'wirelessLAN',
      iPVersion: 'iPV4andV6',
      targetIPAddress: { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from([10, 5, 0, 23]) }, 'iP-assignment': 'dynamic' },
      targetNetworkID: 'aa:bb:cc:00:11:22',
      startTime: '20231114221320Z',
      pOPIdentifier: { printableIDType: 'hotspot-1' },
      pOPIPAddress: { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from([192, 0, 2, 1]) } },
      additionalIPAddress: {
        'iP-type': 'iPV6',
        'iP-value': { iPBinaryAddress: Buffer.from('20010db8000100020000000000000000', 'hex') },
        'iP-assignment': 'dynamic',
        iPv6PrefixLength: 64,
      },
      authenticationType: 'radiusAAA',
    });
  });

  it('IRI-CONTINUE and IRI-END: counters from the target\'s view (Acct-Input-Octets = transmitted), endTime, endReason', () => {
    const f = factsOf(identityEvent({ ...RADIUS_START, kind: Kind.KIND_SESSION_INTERIM, octetsIn: 1000n, octetsOut: 50_000n }), T0 + 1n, factsOf(RADIUS_START, T0));
    const cont = identityIri('continue', f, T0 + 1n);
    assert.equal(cont.iriType, 'iRI-Continue');
    assert.equal(cont.contents.accessEventType, 'interimUpdate');
    assert.equal(cont.contents.octetsTransmitted, 1000n);
    assert.equal(cont.contents.octetsReceived, 50_000n);
    assert.equal(cont.contents.endTime, undefined);
    const end = identityIri('end', f, T0 + 90_500_000n, 1);
    assert.equal(end.iriType, 'iRI-End');
    assert.deepEqual([end.contents.accessEventType, end.contents.endTime, end.contents.endReason], ['accessEnd', '20231114221450.5Z', 'regularLogoff']);
    assert.deepEqual([end.contents.octetsTransmitted, end.contents.octetsReceived], [1000n, 50_000n]);
    const eoi = identityIri('endOfInterception', f, T0 + 2n);
    assert.deepEqual([eoi.iriType, eoi.contents.accessEventType, eoi.contents.endTime, eoi.contents.endReason], ['iRI-End', 'endOfInterceptionWithSessionActive', undefined, undefined]);
    const active = identityIri('active', { ...f, startUs: '0' }, T0);
    assert.deepEqual([active.iriType, active.contents.accessEventType, active.contents.startTime, active.contents.octetsTransmitted], ['iRI-Begin', 'startOfInterceptionWithSessionActive', undefined, 1000n]);
  });

  it('a DHCP session: the MAC stands for the username, dhcpAAA, expectedEndTime, no counters', () => {
    const f = factsOf(DHCP_BIND, T0);
    const begin = identityIri('begin', f, T0).contents;
    assert.deepEqual(begin, {
      accessEventType: 'accessAccept',
      targetUsername: '02:00:00:00:00:09',
      internetAccessType: 'wirelessLAN',
      iPVersion: 'iPV4',
      targetIPAddress: { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from([10, 6, 0, 40]) }, 'iP-assignment': 'dynamic' },
      targetNetworkID: '02:00:00:00:00:09',
      startTime: '20231114221320Z',
      expectedEndTime: '20231114222320Z',
      pOPIPAddress: { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from([10, 6, 0, 1]) } },
      authenticationType: 'dhcpAAA',
    });
    const end = identityIri('end', f, T0 + 600_000_000n, DHCP_LEASE_EXPIRED).contents;
    assert.deepEqual([end.endReason, end.expectedEndTime, end.octetsReceived], ['leaseExpired', undefined, undefined]);
    const v6only = identityIri('begin', { ...f, ipv4: '', ipv6: '20010db8000000000000000000000000', ipv6Length: 56 }, T0).contents;
    assert.equal(v6only.iPVersion, 'iPV6');
    assert.equal(v6only.targetIPAddress!.iPv6PrefixLength, 56);
    assert.equal(v6only.additionalIPAddress, undefined);
  });

  it('endReason of every terminate cause', () => {
    const radius = Array.from({ length: 20 }, (_, c) => endReasonOf('radius', c));
    assert.deepEqual(radius.slice(0, 7), ['undefined', 'regularLogoff', 'connectionLoss', 'connectionLoss', 'connectionTimeout', 'connectionTimeout', 'undefined']);
    assert.ok(radius.slice(6).every((r) => r === 'undefined'));
    assert.deepEqual([endReasonOf('dhcp', 0), endReasonOf('dhcp', DHCP_LEASE_EXPIRED), endReasonOf('dhcp', 1)], ['regularLogoff', 'leaseExpired', 'undefined']);
    assert.equal(DHCP_LEASE_EXPIRED, PROBE_LEASE_EXPIRED, "the probe's constant");
    for (const cause of [SESSION_ADDRESS_TAKEN, SESSION_EVICTED, DHCP_LEASE_DECLINED, DHCP_LEASE_SUPERSEDED]) {
      assert.deepEqual([endReasonOf('radius', cause), endReasonOf('dhcp', cause)], ['undefined', 'undefined'], 'ends the probe decided: the reason is unknown');
    }
  });

  it('events that cannot be used say why; a long NAS-Identifier is cut to what pOPIdentifier allows', () => {
    assert.match(identityProblem(identityEvent({})) ?? '', /no session/);
    assert.match(identityProblem(identityEvent({ sessionKey: 'x'.repeat(MAX_SESSION_KEY_LENGTH + 1) })) ?? '', /MAX_SESSION_KEY_LENGTH/);
    assert.match(identityProblem(identityEvent({ sessionKey: 'k', source: Source.SOURCE_UNSPECIFIED })) ?? '', /source/);
    assert.match(identityProblem(identityEvent({ sessionKey: 'k', kind: Kind.KIND_UNSPECIFIED })) ?? '', /kind/);
    assert.equal(identityProblem(RADIUS_START), undefined);
    const f = factsOf({ ...RADIUS_START, nasIdentifier: 'n'.repeat(300) }, T0);
    assert.equal(f.nasIdentifier.length, 253);
    const c = identityIri('begin', f, T0).contents;
    assert.deepEqual(c.pOPIdentifier, { printableIDType: 'n'.repeat(MAX_POP_IDENTIFIER_LENGTH) });
  });

  it('every step, RADIUS and DHCP, IPv4, IPv6 and both: the oracle accepts each record and agrees with lig field by field', async function () {
    const steps: IriStep[] = ['begin', 'active', 'continue', 'end', 'endOfInterception'];
    const variants = [
      factsOf({ ...RADIUS_START, octetsIn: 2n ** 33n + 5n, octetsOut: 77n }, T0),
      factsOf({ ...RADIUS_START, ipv4: Buffer.alloc(0) }, T0),
      factsOf({ ...RADIUS_START, ipv6Prefix: Buffer.alloc(0), nasIdentifier: '', username: '' }, T0),
      factsOf(DHCP_BIND, T0),
    ];
    const pdus: Buffer[] = [];
    const expected: { step: IriStep; event: string; username: string }[] = [];
    for (const f of variants) {
      for (const step of steps) {
        const { iriType, contents } = identityIri(step, f, T0 + 1_000_000n, 4);
        pdus.push(ipiriPdu(CTX, pdus.length, { seconds: 1_700_000_001, micros: 0 }, iriType, contents));
        expected.push({ step, event: contents.accessEventType, username: Buffer.from(contents.targetUsername).toString('hex') });
      }
    }
    const xer = await oracleXerOf(this, pdus);
    xer.forEach((x, k) => {
      assert.deepEqual(diffWithXer(PS_PDU, toJsonValue(decodePsPdu(pdus[k]!)), x, `pdu ${k}`), []);
      const ipiri = find(x, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents')!;
      assert.equal(enumValue(find(ipiri, 'accessEventType')!), expected[k]!.event);
      assert.equal(xerHex(find(ipiri, 'targetUsername')!), expected[k]!.username);
    });
    const first = find(xer[2]!, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents')!;
    assert.equal(find(first, 'octetsTransmitted')!.text, String(2n ** 33n + 5n));
    assert.equal(find(first, 'octetsReceived')!.text, '77');
    const end = find(xer[3]!, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents')!;
    assert.equal(enumValue(find(end, 'endReason')!), 'connectionTimeout');
  });
});

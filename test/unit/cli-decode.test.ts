/**
 * `lig decode` through runCli with a captured Io, on streams built with src/etsi/build.ts in
 * a temp dir: the human tree and the JSON lines, a bad PDU in the middle, a cut-off last PDU,
 * garbage, an empty file, --max-pdu-bytes and usage errors. (stdin and the real process are
 * in test/integration/cli-decode-process.test.ts.)
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { CCPayload, RecordContext, Stamp, emailCcPdu, encodePsPdu, ipAddress, ipccPdu, ipiriPdu, keepAlivePdu, psHeader } from '../../src/etsi';
import { ABBREVIATE_OCTETS } from '../../src/etsi/render';

const CTX: RecordContext = { liid: 'LIID-42', operatorId: 'OPERATOR', networkElementId: 'NAS-1', cin: 4711, deliveryCountryCode: 'DE' };
const T: Stamp = { seconds: 1_700_000_000, micros: 123_456 };
/** An IPv4/UDP packet longer than ABBREVIATE_OCTETS, not printable. */
const PACKET = Buffer.concat([Buffer.from('450000400000400040110000c0000201c6336407d4310035002c0000', 'hex'), Buffer.alloc(36, 0xee)]);
const MAIL = Buffer.from('Subject: hi\r\n\r\nbody', 'latin1');

/** A stream of four kinds, and each PDU's bytes. */
function stream(): { parts: Buffer[]; kinds: string[] } {
  const parts = [
    ipiriPdu(CTX, 0, T, 'iRI-Begin', {
      accessEventType: 'sessionStart', targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4',
      targetIPAddress: ipAddress('100.64.0.9', 'dynamic', 32),
    }),
    ipccPdu(CTX, 1, { ...T, micros: 5 }, PACKET, 'fromTarget'),
    emailCcPdu(CTX, 2, T, 'toTarget', 'application', MAIL),
    keepAlivePdu({ ...CTX, cin: undefined }, 3, T),
  ];
  return { parts, kinds: ['IRI iPIRI', 'CC iPCC', 'CC emailCC', 'TRI keep-alive'] };
}

const offsets = (parts: Buffer[]): number[] => parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0));

let dir = '';
function file(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

async function lig(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(l) });
  return { code, out, err };
}

async function ligJson(...argv: string[]) {
  const r = await lig('decode', '--json', ...argv);
  return { ...r, records: r.out.map((l) => JSON.parse(l)) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('lig decode', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-decode-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('human output', () => {
    it('prints a header line per PDU (index, offset, length, kind) and every field as a tree', async () => {
      const { parts, kinds } = stream();
      const r = await lig('decode', file('ok.ber', Buffer.concat(parts)));
      assert.equal(r.code, 0, r.err.join('\n'));
      assert.deepEqual(r.err, []);
      const heads = r.out.filter((l) => l.startsWith('PDU '));
      const at = offsets(parts);
      assert.deepEqual(heads, parts.map((p, i) => `PDU ${i} at offset ${at[i]}, ${p.length} bytes: ${kinds[i]}`));
      // the IPIRI, field by field, nested as in the ASN.1
      const first = r.out.slice(0, r.out.indexOf(heads[1]!) - 1);
      for (const line of [
        '  pSHeader',
        '    li-psDomainId: 0.4.0.2.2.5.1.40',
        '    lawfulInterceptionIdentifier: "LIID-42"',
        '    communicationIdentifier',
        '      networkIdentifier',
        '        operatorIdentifier: "OPERATOR"',
        '        networkElementIdentifier: "NAS-1"',
        '      communicationIdentityNumber: 4711',
        '      deliveryCountryCode: "DE"',
        '    sequenceNumber: 0',
        '    microSecondTimeStamp (2023-11-14T22:13:20.123456Z)',
        '      seconds: 1700000000',
        '      microSeconds: 123456',
        '  payload',
        '    iRIPayloadSequence',
        '      [0]',
        '        iRIType: iRI-Begin',
        '        iRIContents',
        '          iPIRI',
        '            iPIRIObjId: 5.3.20.1',
        '            iPIRIContents',
        '              accessEventType: sessionStart',
        '              targetUsername: "alice"',
        '              internetAccessType: wirelessLAN',
        '                iP-value',
        '                  iPBinaryAddress: 64400009 (100.64.0.9)',
        '                iPv4SubnetMask: ffffffff',
      ]) assert.ok(first.includes(line), `missing line ${JSON.stringify(line)} in\n${first.join('\n')}`);
      // a keep-alive (NULL) is its name alone
      assert.ok(r.out.includes('      keep-alive'));
    });

    it('shows non-printable octets as hex, long ones cut to ABBREVIATE_OCTETS with their length; --full shows all', async () => {
      const { parts } = stream();
      const f = file('cut.ber', Buffer.concat(parts));
      const cut = (await lig('decode', f)).out.filter((l) => l.includes('iPPackets:'));
      assert.deepEqual(cut, [`              iPPackets: ${hex(PACKET.subarray(0, ABBREVIATE_OCTETS))}… (${PACKET.length} bytes)`]);
      const full = (await lig('decode', '--full', f)).out.filter((l) => l.includes('iPPackets:'));
      assert.deepEqual(full, [`              iPPackets: ${hex(PACKET)}`]);
      // the e-mail has CR LF: not printable by octetsText, so hex
      const mail = (await lig('decode', '--full', f)).out.filter((l) => l.includes(' content:'));
      assert.deepEqual(mail, [`            content: ${hex(MAIL)}`]);
    });

    it('counts repeated payloads in the kind, and shows IPv6 addresses as text', async () => {
      const item = (n: number): CCPayload => ({ cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: Buffer.from([n]) } } } });
      const three = encodePsPdu({ pSHeader: psHeader(CTX, 5, T), payload: { cCPayloadSequence: [item(1), item(2), item(3)] } });
      const v6 = ipiriPdu(CTX, 6, T, 'iRI-Report', {
        accessEventType: 'interimUpdate', targetUsername: Buffer.from([0xff, 0x00]), internetAccessType: 'xDSL', iPVersion: 'iPV6',
        targetIPAddress: ipAddress('2001:db8::1', 'dynamic', 64),
      });
      const r = await lig('decode', file('kinds.ber', Buffer.concat([three, v6])));
      assert.equal(r.code, 0);
      assert.equal(r.out[0], `PDU 0 at offset 0, ${three.length} bytes: CC iPCC x3`);
      const second = r.out.findIndex((l) => l.startsWith('PDU 1 '));
      assert.deepEqual(r.out.slice(0, second).filter((l) => /^ {6}\[\d\]$/.test(l)), ['      [0]', '      [1]', '      [2]']);
      assert.ok(r.out.includes('              targetUsername: ff00'));
      assert.ok(r.out.includes('                  iPBinaryAddress: 20010db8000000000000000000000001 (2001:db8::1)'));
      assert.ok(r.out.includes('                iPv6PrefixLength: 64'));
    });
  });

  describe('--json', () => {
    it('prints one object per line: index, offset, length and the PDU as toJsonValue gives it', async () => {
      const { parts } = stream();
      const r = await ligJson(file('ok.ber', Buffer.concat(parts)));
      assert.equal(r.code, 0);
      const at = offsets(parts);
      assert.deepEqual(r.records.map((x) => [x.index, x.offset, x.length, Object.keys(x)]), parts.map((p, i) => [i, at[i], p.length, ['index', 'offset', 'length', 'pdu']]));
      const [iri, cc, mail, ka] = r.records.map((x) => x.pdu);
      assert.equal(iri.pSHeader.lawfulInterceptionIdentifier, hex(Buffer.from('LIID-42')));
      assert.equal(iri.pSHeader.communicationIdentifier.communicationIdentityNumber, 4711);
      assert.deepEqual(cc.pSHeader.microSecondTimeStamp, { seconds: T.seconds, microSeconds: 5 });
      assert.deepEqual(cc.payload.cCPayloadSequence[0], {
        payloadDirection: 'fromTarget', cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: hex(PACKET) } } },
      });
      assert.equal(mail.payload.cCPayloadSequence[0].cCContents.emailCC.content, hex(MAIL));
      assert.deepEqual(ka.payload, { tRIPayload: { 'keep-alive': null } });
      assert.equal(ka.pSHeader.sequenceNumber, 3);
    });
  });

  describe('bad input', () => {
    it('reports a corrupted PDU in the middle with its offset, decodes the ones after it, and exits 1', async () => {
      const { parts } = stream();
      const bad = Buffer.from(parts[1]!);
      // the IPCC's iPCCObjId [0] RELATIVE-OID becomes [7]: framing intact, contents wrong
      const objId = bad.indexOf(Buffer.from([0x80, 0x04, 0x05, 0x03, 0x14, 0x02]));
      assert.ok(objId > 0);
      bad[objId] = 0x87;
      const all = [parts[0]!, bad, parts[2]!, parts[3]!];
      const f = file('bad.ber', Buffer.concat(all));
      const at = offsets(all);

      const j = await ligJson(f);
      assert.equal(j.code, 1);
      assert.equal(j.records.length, 4);
      assert.deepEqual(j.records.map((x) => (x.error ? 'error' : 'pdu')), ['pdu', 'error', 'pdu', 'pdu']);
      assert.deepEqual(Object.keys(j.records[1]), ['index', 'offset', 'length', 'error']);
      assert.equal(j.records[1].offset, at[1]);
      assert.equal(j.records[1].length, bad.length);
      assert.equal(j.records[1].error.code, 'LIG_ERR_BER_UNEXPECTED');
      assert.match(j.records[1].error.message, new RegExp(`\\(at byte ${at[1]! + objId}\\)$`));
      assert.equal(j.records[3].pdu.pSHeader.sequenceNumber, 3);
      assert.deepEqual(j.err, ['lig decode: 1 of 4 PDUs did not decode']);

      const h = await lig('decode', f);
      assert.equal(h.code, 1);
      const line = h.out.find((l) => l.startsWith('PDU 1 '));
      assert.equal(line, `PDU 1 at offset ${at[1]}, ${bad.length} bytes: ERROR LIG_ERR_BER_UNEXPECTED: ${j.records[1].error.message}`);
      assert.ok(h.out.includes(`PDU 2 at offset ${at[2]}, ${parts[2]!.length} bytes: CC emailCC`));
    });

    it('reports a truncated final PDU as TRUNCATED at its offset, after the whole ones', async () => {
      const { parts } = stream();
      const cut = parts[3]!.subarray(0, parts[3]!.length - 3);
      const all = [parts[0]!, parts[1]!, parts[2]!, cut];
      const at = offsets(all);
      const j = await ligJson(file('cut.ber', Buffer.concat(all)));
      assert.equal(j.code, 1);
      assert.deepEqual(j.records.slice(0, 3).map((x) => x.pdu.pSHeader.sequenceNumber), [0, 1, 2]);
      assert.deepEqual([j.records[3].offset, j.records[3].length, j.records[3].error.code], [at[3], cut.length, 'LIG_ERR_BER_TRUNCATED']);
    });

    it('reports garbage as one failed record from its first byte', async () => {
      const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n', 'latin1');
      const j = await ligJson(file('garbage.ber', garbage));
      assert.equal(j.code, 1);
      assert.deepEqual(j.records, [{
        index: 0, offset: 0, length: garbage.length,
        error: { code: 'LIG_ERR_BER_UNEXPECTED', message: 'a PS-PDU starts with SEQUENCE (0x30), found 0x47 (at byte 0)' },
      }]);
      // after good PDUs, the rest of the stream is the failed record
      const { parts } = stream();
      const j2 = await ligJson(file('tail.ber', Buffer.concat([parts[0]!, garbage])));
      assert.equal(j2.code, 1);
      assert.deepEqual(j2.records.map((x) => [x.offset, x.length, x.error?.code]), [[0, parts[0]!.length, undefined], [parts[0]!.length, garbage.length, 'LIG_ERR_BER_UNEXPECTED']]);
    });

    it('decodes an empty file to no records, exit 0, and says so on stderr', async () => {
      const r = await lig('decode', '--json', file('empty.ber', Buffer.alloc(0)));
      assert.equal(r.code, 0);
      assert.deepEqual(r.out, []);
      assert.equal(r.err.length, 1);
      assert.match(r.err[0]!, /holds no PDU/);
    });

    it('--max-pdu-bytes: a PDU above the limit breaks the framing there', async () => {
      const { parts } = stream();
      const big = parts[1]!.length; // the IPCC is the largest
      assert.ok(parts.every((p) => p.length <= big));
      const f = file('limit.ber', Buffer.concat(parts));
      assert.equal((await ligJson('--max-pdu-bytes', String(big), f)).code, 0);
      const j = await ligJson('--max-pdu-bytes', String(parts[0]!.length), f);
      assert.equal(j.code, 1);
      assert.equal(j.records.length, 2);
      assert.equal(j.records[1].offset, parts[0]!.length);
      assert.equal(j.records[1].error.code, 'LIG_ERR_BER_TOO_LARGE');
    });
  });

  describe('usage', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no FILE', [], /FILE is missing/],
      ['two FILEs', ['a', 'b'], /exactly one FILE/],
      ['an unknown flag', ['--jsonl', 'x'], /unknown flag --jsonl \(did you mean --json\?\)/],
      ['a bad --max-pdu-bytes', ['--max-pdu-bytes', '12k', 'x'], /--max-pdu-bytes must be a whole number/],
      ['a --max-pdu-bytes of 0', ['--max-pdu-bytes=0', 'x'], /--max-pdu-bytes must be/],
      ['a missing file', ['/nonexistent/lig/stream.ber'], /cannot open .*: no such file/],
    ];
    for (const [what, argv, message] of cases) {
      it(`exits 2 for ${what}`, async () => {
        const r = await lig('decode', ...argv);
        assert.equal(r.code, 2);
        assert.deepEqual(r.out, []);
        assert.match(r.err.join('\n'), message);
        assert.match(r.err.join('\n'), /\[LIG_ERR_USAGE\]/);
      });
    }

    it('exits 2 for a directory', async () => {
      const r = await lig('decode', dir);
      assert.equal(r.code, 2);
      assert.match(r.err.join('\n'), /is a directory/);
    });

    it('--help prints the flags and exits 0; lig help lists decode', async () => {
      const r = await lig('decode', '--help');
      assert.equal(r.code, 0);
      for (const flag of ['--json', '--full', '--max-pdu-bytes']) assert.ok(r.out.some((l) => l.includes(flag)), flag);
      const top = await lig('help');
      assert.ok(top.out.some((l) => /^ {2}lig decode\s/.test(l)));
    });
  });
});

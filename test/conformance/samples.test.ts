/**
 * Other implementations' handover streams (../shared/reference/samples, recorded from
 * OpenLI by libtrace) through `lig decode --json`, checked PDU by PDU against the
 * independent decoder (../shared/tools/etsi-oracle, asn1c built from the reference ASN.1)
 * with both LI-PS-PDU texts it offers (version 40, and ETSI's own version 35).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { ipccPdu, keepAlivePdu } from '../../src/etsi';
import { PS_PDU } from '../../src/etsi/ps-pdu';
import { OracleVersion, XerNode, diffWithXer, enumValue, find, oracleDecode, parseXer, xerHex } from '../helpers/oracle';
import { requireShared } from '../helpers/shared';

interface JsonRecord {
  index: number;
  offset: number;
  length: number;
  pdu?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON as printed
  error?: { code: string; message: string };
}

/** Each sample and what it holds, as its README and origin describe it. */
const SAMPLES: Array<{ file: string; kinds: Record<string, number> }> = [
  { file: 'libtrace-etsi_10_pings_HI2.raw_tcp', kinds: { 'IRI iPIRI': 1, 'TRI keep-alive': 9 } },
  { file: 'libtrace-etsi_10_pings_HI3.raw_tcp', kinds: { 'CC iPCC': 20, 'TRI keep-alive': 5 } },
  { file: 'libtrace-etsi_file.test', kinds: { 'CC iPMMCC': 100 } },
  { file: 'libtrace-etsi_file_iri.test', kinds: { 'IRI iPMMIRI': 21, 'IRI iPIRI': 1 } },
];

/** OCTET STRINGs that carry the intercepted content itself. */
const PAYLOAD_OCTETS = ['iPPackets', 'truncatedPacket', 'mMCCContents', 'sIPContent', 'originalIPMMMessage', 'content', 'header'];

/** Runs `lig decode --json FILE` in process; returns its exit code and parsed lines. */
async function ligJson(file: string): Promise<{ code: number; records: JsonRecord[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['decode', '--json', file], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, records: out.map((l) => JSON.parse(l) as JsonRecord), err };
}

/** `IRI iPIRI`, `CC iPCC`, `TRI keep-alive`: the payload's kind from lig's JSON. */
function ligKind(pdu: any): string {
  const [alt, v] = Object.entries(pdu.payload as Record<string, any>)[0]!;
  if (alt === 'iRIPayloadSequence') return `IRI ${v.map((p: any) => Object.keys(p.iRIContents)[0]).join(',')}`;
  if (alt === 'cCPayloadSequence') return `CC ${v.map((p: any) => Object.keys(p.cCContents)[0]).join(',')}`;
  if (alt === 'tRIPayload') return `TRI ${Object.keys(v)[0]}`;
  return alt;
}

/** The same, from the oracle's XER. */
function xerKind(pdu: XerNode): string {
  const payload = find(pdu, 'payload')!.children[0]!;
  const items = payload.children;
  if (payload.name === 'iRIPayloadSequence') return `IRI ${items.map((p) => find(p, 'iRIContents')!.children[0]!.name).join(',')}`;
  if (payload.name === 'cCPayloadSequence') return `CC ${items.map((p) => find(p, 'cCContents')!.children[0]!.name).join(',')}`;
  if (payload.name === 'tRIPayload') return `TRI ${items[0]!.name}`;
  return payload.name;
}

/** Every element named `name` under `n`, depth first, in document order. */
function allXer(n: XerNode, name: string): XerNode[] {
  return [...(n.name === name ? [n] : []), ...n.children.flatMap((c) => allXer(c, name))];
}

/** Every value under key `name` in lig's JSON, depth first, in document order. */
function allJson(v: unknown, name: string): unknown[] {
  if (Array.isArray(v)) return v.flatMap((x) => allJson(x, name));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [...(k === name ? [x] : []), ...allJson(x, name)]);
}

/** The timestamps of a PDU (header and payloads) from lig's JSON, as text. */
function ligTimes(pdu: any): string[] {
  const times = allJson(pdu, 'timeStamp').map((t) => `gt ${t}`);
  const micros = allJson(pdu, 'microSecondTimeStamp').map((t: any) => `us ${t.seconds}.${t.microSeconds}`);
  return [...times, ...micros];
}

function xerTimes(pdu: XerNode): string[] {
  const times = allXer(pdu, 'timeStamp').map((t) => `gt ${t.text}`);
  const micros = allXer(pdu, 'microSecondTimeStamp').map((t) => `us ${find(t, 'seconds')!.text}.${find(t, 'microSeconds')!.text}`);
  return [...times, ...micros];
}

/** The named fields the brief singles out, each side reduced to the same plain text. */
function keyFields(lig: any, xer: XerNode): Array<[string, unknown, unknown]> {
  const h = lig.pSHeader;
  const xh = find(xer, 'pSHeader')!;
  const xText = (...p: string[]) => find(xh, ...p)?.text;
  return [
    ['li-psDomainId', h['li-psDomainId'], xText('li-psDomainId')],
    ['lawfulInterceptionIdentifier', h.lawfulInterceptionIdentifier, xerHex(find(xh, 'lawfulInterceptionIdentifier')!)],
    ['communicationIdentityNumber', h.communicationIdentifier.communicationIdentityNumber?.toString(), xText('communicationIdentifier', 'communicationIdentityNumber')],
    ['sequenceNumber', String(h.sequenceNumber), xText('sequenceNumber')],
    ['timeStampQualifier', h.timeStampQualifier, find(xh, 'timeStampQualifier') && enumValue(find(xh, 'timeStampQualifier')!)],
    ['timestamps', ligTimes(lig).join(' | '), xerTimes(xer).join(' | ')],
    ['payload kind', ligKind(lig), xerKind(xer)],
    ...PAYLOAD_OCTETS.map((name): [string, unknown, unknown] => [name, allJson(lig.payload, name).join(' | '), allXer(find(xer, 'payload')!, name).map(xerHex).join(' | ')]),
  ];
}

describe('conformance: other implementations\' streams (shared/reference/samples)', () => {
  for (const { file, kinds } of SAMPLES) {
    describe(file, () => {
      let sample = '';
      let lig: Awaited<ReturnType<typeof ligJson>>;
      before(async function () {
        sample = requireShared(this, 'reference', 'samples', file);
        lig = await ligJson(sample);
      });

      it('lig decodes every PDU (exit 0), with the expected payload kinds', () => {
        assert.equal(lig.code, 0, lig.err.join('\n'));
        assert.deepEqual(lig.records.filter((r) => r.error), []);
        const counts: Record<string, number> = {};
        for (const r of lig.records) counts[ligKind(r.pdu)] = (counts[ligKind(r.pdu)] ?? 0) + 1;
        assert.deepEqual(counts, kinds);
        // PDUs are back to back: each starts where the previous ended
        lig.records.forEach((r, i) => assert.equal(r.offset, i === 0 ? 0 : lig.records[i - 1]!.offset + lig.records[i - 1]!.length));
      });

      for (const version of [40, 35] as OracleVersion[]) {
        describe(`agrees with the etsi-oracle (LI-PS-PDU version ${version})`, () => {
          let xer: XerNode[] = [];
          before(async function () {
            const r = await oracleDecode(this, sample || requireShared(this, 'reference', 'samples', file), version);
            assert.ok(r.ok, `the oracle rejected part of ${file}: ${r.stderr}`);
            xer = parseXer(r.xer);
          });

          it('on the number of PDUs', () => {
            assert.equal(xer.length, lig.records.length);
            assert.ok(xer.every((n) => n.name === 'PS-PDU'));
          });

          it('on LIID, CIN, sequence numbers, timestamps, domain id, payload kind and payload bytes', () => {
            const diffs: string[] = [];
            lig.records.forEach((r, i) => {
              for (const [name, ours, theirs] of keyFields(r.pdu, xer[i]!)) {
                if (ours !== theirs) diffs.push(`PDU ${i} ${name}: lig ${JSON.stringify(ours)}, oracle ${JSON.stringify(theirs)}`);
              }
            });
            assert.deepEqual(diffs, []);
          });

          it('on every field the oracle prints', () => {
            const diffs = lig.records.flatMap((r, i) => diffWithXer(PS_PDU, r.pdu, xer[i]!, `PDU ${i}`));
            assert.deepEqual(diffs, []);
          });
        });
      }
    });
  }

  describe('the comparison itself', () => {
    // A comparison that cannot fail proves nothing: change one value on lig's side and the
    // difference must show, in the named fields and in the full walk.
    let rec: JsonRecord;
    let xer: XerNode;
    before(async function () {
      const sample = requireShared(this, 'reference', 'samples', 'libtrace-etsi_10_pings_HI3.raw_tcp');
      rec = (await ligJson(sample)).records.find((r) => r.pdu && ligKind(r.pdu) === 'CC iPCC')!;
      xer = parseXer((await oracleDecode(this, sample)).xer)[rec.index]!;
    });

    const mutations: Array<[string, (pdu: any) => void]> = [
      ['one byte of the IP packet', (p) => {
        const c = p.payload.cCPayloadSequence[0].cCContents.iPCC.iPCCContents;
        c.iPPackets = (c.iPPackets[0] === '0' ? '1' : '0') + c.iPPackets.slice(1);
      }],
      ['the sequence number', (p) => void (p.pSHeader.sequenceNumber += 1)],
      ['the LIID', (p) => void (p.pSHeader.lawfulInterceptionIdentifier += '00')],
      ['the microseconds', (p) => void (p.pSHeader.microSecondTimeStamp.microSeconds += 1)],
      ['the direction', (p) => void (p.payload.cCPayloadSequence[0].payloadDirection = 'combined')],
      ['a missing optional field', (p) => void delete p.pSHeader.communicationIdentifier.deliveryCountryCode],
    ];
    for (const [what, mutate] of mutations) {
      it(`finds a change of ${what}`, () => {
        assert.deepEqual(diffWithXer(PS_PDU, rec.pdu, xer), []);
        const changed = structuredClone(rec.pdu);
        mutate(changed);
        assert.notDeepEqual(diffWithXer(PS_PDU, changed, xer), []);
      });
    }

    it('finds a change in the named fields', () => {
      const changed = structuredClone(rec.pdu);
      changed.pSHeader.communicationIdentifier.communicationIdentityNumber += 1;
      const before = keyFields(rec.pdu, xer).filter(([, a, b]) => a !== b);
      const after = keyFields(changed, xer).filter(([, a, b]) => a !== b).map(([n]) => n);
      assert.deepEqual(before, []);
      assert.deepEqual(after, ['communicationIdentityNumber']);
    });
  });

  describe('where the oracle is laxer than X.690, lig rejects (found by mutating the samples)', () => {
    // asn1c's BER decoder accepts these malformed encodings; lig reports them at their offset.
    const ctx = { liid: 'L', operatorId: 'OP', cin: 1 };
    const t = { seconds: 1_700_000_000, micros: 0 };
    let dir = '';
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-lax-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function both(ctx: Mocha.Context, name: string, pdu: Buffer) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, pdu);
      const oracle = await oracleDecode(ctx, f);
      return { oracle, xer: parseXer(oracle.xer), lig: await ligJson(f) };
    }

    it('a RELATIVE-OID whose last arc is unterminated (X.690 8.20.2): the oracle drops the arc, lig says BAD_VALUE', async function () {
      const pdu = ipccPdu(ctx, 0, t, Buffer.from('45000014', 'hex'), 'toTarget');
      const objId = pdu.indexOf(Buffer.from('800405031402', 'hex'));
      pdu[objId + 5] = 0x82; // bit 8 set on the last octet: "more octets follow", but none do
      const r = await both(this, 'roid.ber', pdu);
      assert.ok(r.oracle.ok, r.oracle.stderr);
      assert.equal(allXer(r.xer[0]!, 'iPCCObjId')[0]!.text, '5.3.20'); // silently one arc short
      assert.equal(r.lig.code, 1);
      assert.equal(r.lig.records[0]!.error!.code, 'LIG_ERR_BER_BAD_VALUE');
      assert.match(r.lig.records[0]!.error!.message, new RegExp(`\\(at byte ${objId + 2}\\)$`));
    });

    it('an EXPLICIT tag sent primitive (X.690 8.14.2: always constructed): the oracle reads it, lig says UNEXPECTED', async function () {
      const pdu = keepAlivePdu({ ...ctx, cin: undefined }, 0, t);
      const tri = pdu.lastIndexOf(Buffer.from('a2028300', 'hex'));
      assert.equal(tri, pdu.length - 4);
      pdu[tri] = 0x82; // [2] tRIPayload, constructed bit cleared
      const r = await both(this, 'explicit.ber', pdu);
      assert.ok(r.oracle.ok, r.oracle.stderr);
      assert.equal(allXer(r.xer[0]!, 'keep-alive').length, 1);
      assert.deepEqual(r.lig.records.map((x) => [x.error?.code, x.error?.message]), [['LIG_ERR_BER_UNEXPECTED', `tRIPayload: [2] must be constructed (at byte ${tri})`]]);
    });
  });
});

/**
 * lig's application report (src/etsi/app-report.ts): an IPIRI REPORT whose
 * NationalIPIRIParameters carry ligApplicationReport after the extension marker. Golden bytes
 * assembled by hand from the ASN.1 (asn1/LIG-IPAccessPDU.asn); lig's decoder gives the
 * extension back whole (values, lig decode text, records.jsonl JSON); the independent decoder
 * (etsi-oracle, which does not know the extension) accepts the record, skips the extension and
 * agrees with lig on everything else; lig's own profile compiled by asn1c decodes the extension
 * too, component by component as lig does; every limit is refused with its own error.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from '../../src/ber/decode';
import { encode } from '../../src/ber/encode';
import { AppReportInput, MAX_APP_FIELD_NAME_CHARS, MAX_APP_FIELD_VALUE_CHARS, MAX_APP_PROTOCOL_CHARS, MAX_APP_REPORT_FIELDS, appReport } from '../../src/etsi/app-report';
import { AppReportIri, RecordContext, Stamp, appReportPdu } from '../../src/etsi/build';
import { ipAddress } from '../../src/etsi/common';
import { toJsonValue } from '../../src/etsi/json';
import { PS_PDU } from '../../src/etsi/ps-pdu';
import { jsonRecord, renderRecord } from '../../src/etsi/render';
import { decodePsPdu } from '../../src/etsi/stream';
import { EtsiError, EtsiLimitError } from '../../src/errors';
import { diffWithXer, find, oracleXerOf, parseXer } from '../helpers/oracle';
import { skipOrFail } from '../helpers/shared';

/** Hex with `//` comments and any whitespace. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

const T: Stamp = { seconds: 1_700_000_000, micros: 123_456 };
const CTX: RecordContext = { liid: 'LIID-42', operatorId: 'OP', cin: 66051 };

const REPORT: AppReportIri = {
  targetUsername: '', internetAccessType: 'undefined', iPVersion: 'iPV4', targetIPAddress: ipAddress('10.0.0.2'),
  report: {
    protocol: 'http', client: { address: '10.0.0.2', port: 40000 }, server: { address: '93.184.216.34', port: 80 }, transport: 6,
    fields: [{ name: 'host', value: 'example.org' }, { name: 'kind', value: 'request' }],
  },
};

const GOLDEN = `
30 81 c2                                      // PS-PDU, 194 octets
  a1 30                                       // [1] pSHeader PSHeader
    80 07 04 00 02 02 05 01 28                //   [0] li-psDomainId {0 4 0 2 2 5 1 40}
    81 07 4c 49 49 44 2d 34 32                //   [1] lawfulInterceptionIdentifier "LIID-42"
    a3 0b                                     //   [3] communicationIdentifier
      a0 04 80 02 4f 50                       //     [0] networkIdentifier { [0] operatorIdentifier "OP" }
      81 03 01 02 03                          //     [1] communicationIdentityNumber 66051
    84 02 00 80                               //   [4] sequenceNumber 128
    a7 0b                                     //   [7] microSecondTimeStamp
      80 04 65 53 f1 00                       //     [0] seconds 1700000000
      81 03 01 e2 40                          //     [1] microSeconds 123456
  a2 81 8d                                    // [2] payload
    a0 81 8a                                  //   [0] iRIPayloadSequence
      30 81 87                                //     IRIPayload
        80 01 04                              //       [0] iRIType iRI-Report(4)
        a2 81 81                              //       [2] iRIContents (CHOICE: explicit)
          a2 7f                               //         [2] iPIRI IPIRI
            80 04 05 03 14 01                 //           [0] iPIRIObjId {5 3 20 1}
            a1 77                             //           [1] iPIRIContents IPIRIContents
              80 01 06                        //             [0] accessEventType interimUpdate(6)
              81 00                           //             [1] targetUsername '' (no session)
              82 01 00                        //             [2] internetAccessType undefined(0)
              83 01 01                        //             [3] iPVersion iPV4(1)
              a4 0b                           //             [4] targetIPAddress IPAddress
                81 01 00                      //               [1] iP-type iPV4(0)
                a2 06 81 04 0a 00 00 02       //               [2] iP-value [1] iPBinaryAddress 10.0.0.2
              b4 5d                           //             [20] nationalIPIRIParameters (after the -3 marker)
                81 02 55 53                   //               [1] countryCode "US"
                aa 57                         //               [10] ligApplicationReport (lig's, after the marker)
                  80 04 68 74 74 70           //                 [0] protocol "http"
                  a1 12                       //                 [1] client LigFlowEnd
                    a0 0b                     //                   [0] address IPAddress
                      81 01 00                //                     [1] iP-type iPV4(0)
                      a2 06 81 04 0a 00 00 02 //                     [2] iP-value [1] 10.0.0.2
                    81 03 00 9c 40            //                   [1] port 40000 (00 first: 9c alone is negative)
                  a2 10                       //                 [2] server LigFlowEnd
                    a0 0b                     //                   [0] address IPAddress
                      81 01 00                //                     [1] iP-type iPV4(0)
                      a2 06 81 04 5d b8 d8 22 //                     [2] iP-value [1] 93.184.216.34
                    81 01 50                  //                   [1] port 80
                  83 01 06                    //                 [3] transport 6 (TCP)
                  a4 26                       //                 [4] fields SEQUENCE OF LigField
                    30 13                     //                   LigField
                      80 04 68 6f 73 74       //                     [0] name "host"
                      81 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 // [1] value "example.org"
                    30 0f                     //                   LigField
                      80 04 6b 69 6e 64       //                     [0] name "kind"
                      81 07 72 65 71 75 65 73 74 //                  [1] value "request"
`;

const v4 = (a: string) => ({ 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from(a.split('.').map(Number)) } });

/** The decoded value, written out (not taken from the builder). */
const VALUE = {
  pSHeader: {
    'li-psDomainId': '0.4.0.2.2.5.1.40', lawfulInterceptionIdentifier: text('LIID-42'),
    communicationIdentifier: { networkIdentifier: { operatorIdentifier: text('OP') }, communicationIdentityNumber: 66051 },
    sequenceNumber: 128, microSecondTimeStamp: { seconds: 1_700_000_000, microSeconds: 123_456 },
  },
  payload: {
    iRIPayloadSequence: [{
      iRIType: 'iRI-Report',
      iRIContents: {
        iPIRI: {
          iPIRIObjId: '5.3.20.1',
          iPIRIContents: {
            accessEventType: 'interimUpdate', targetUsername: Buffer.alloc(0), internetAccessType: 'undefined', iPVersion: 'iPV4',
            targetIPAddress: v4('10.0.0.2'),
            nationalIPIRIParameters: {
              countryCode: 'US',
              ligApplicationReport: {
                protocol: 'http', client: { address: v4('10.0.0.2'), port: 40000 }, server: { address: v4('93.184.216.34'), port: 80 },
                transport: 6, fields: [{ name: 'host', value: 'example.org' }, { name: 'kind', value: 'request' }],
              },
            },
          },
        },
      },
    }],
  },
};

/** Buffers and Uint8Arrays compared as bytes. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(toJsonValue(v)));

describe('etsi application report (ligApplicationReport in NationalIPIRIParameters)', () => {
  it('the golden bytes are one well-formed PDU: the hand-made lengths add up', () => {
    const g = hex(GOLDEN);
    assert.equal(g.length, 3 + 0xc2);
    assert.doesNotThrow(() => decode(PS_PDU, g));
  });

  it('the builder writes exactly the golden bytes', () => {
    assert.equal(appReportPdu(CTX, 128, T, REPORT).toString('hex'), hex(GOLDEN).toString('hex'));
  });

  it('decoding gives every value back, the extension included; encoding them gives the bytes again', () => {
    const d = decodePsPdu(hex(GOLDEN));
    assert.deepEqual(plain(d), plain(VALUE));
    assert.equal(encode(PS_PDU, VALUE).toString('hex'), hex(GOLDEN).toString('hex'));
  });

  it('lig decode shows the report field by field, records.jsonl holds it whole', () => {
    const pdu = decodePsPdu(hex(GOLDEN));
    const shown = renderRecord({ index: 0, offset: 0, length: 197, pdu });
    for (const line of ['ligApplicationReport', 'protocol: "http"', 'port: 40000', '(93.184.216.34)', 'transport: 6', 'name: "host"', 'value: "example.org"', 'value: "request"']) {
      assert.ok(shown.includes(line), `${line} in:\n${shown}`);
    }
    assert.ok(!shown.includes('unknown'), 'nothing left unrecognised');
    const json = JSON.parse(jsonRecord({ index: 0, offset: 0, length: 197, pdu })) as { pdu: typeof VALUE };
    const lig = json.pdu.payload.iRIPayloadSequence[0]!.iRIContents.iPIRI.iPIRIContents.nationalIPIRIParameters.ligApplicationReport;
    assert.deepEqual(lig.fields, [{ name: 'host', value: 'example.org' }, { name: 'kind', value: 'request' }]);
    assert.equal(lig.server.port, 80);
  });

  it('etsi-oracle, which does not know the extension, accepts the record, skips it and agrees on the rest', async function () {
    this.timeout(120_000);
    const other: AppReportIri = {
      targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV6', targetIPAddress: ipAddress('2001:db8::2'),
      report: { protocol: 'dns', client: { address: '2001:db8::2' }, transport: 17, fields: [] },
    };
    const pdus = [hex(GOLDEN), appReportPdu({ ...CTX, timestampFormat: 'generalized' }, 129, T, other)];
    const xer = await oracleXerOf(this, pdus);
    xer.forEach((x, k) => {
      const np = find(x, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents', 'nationalIPIRIParameters')!;
      assert.deepEqual(np.children.map((c) => c.name), ['countryCode'], 'the oracle skipped the extension');
      // lig's view without the extension is the oracle's, field by field
      const json = toJsonValue(decodePsPdu(pdus[k]!)) as typeof VALUE;
      const p = json.payload.iRIPayloadSequence[0]!.iRIContents.iPIRI.iPIRIContents.nationalIPIRIParameters as { ligApplicationReport?: unknown };
      assert.ok(p.ligApplicationReport !== undefined);
      delete p.ligApplicationReport;
      assert.deepEqual(diffWithXer(PS_PDU, json, x, `pdu ${k}`), []);
    });
  });

  it("lig's own profile (asn1/), compiled by asn1c, decodes the extension as lig does", async function () {
    this.timeout(300_000);
    if (spawnSync('sh', ['-c', 'command -v asn1c && command -v make && command -v cc']).status !== 0) {
      skipOrFail(this, 'compiling the profile needs asn1c, make and a C compiler: apt-get install asn1c build-essential');
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-app-profile-'));
    const run = (cmd: string, args: string[]) => new Promise<string>((resolve, reject) => {
      execFile(cmd, args, { cwd: work, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} failed: ${String(stderr || stdout).slice(-2000)}`));
        else resolve(stdout);
      });
    });
    try {
      const files = ['LIG-PS-PDU.asn', 'LIG-IPAccessPDU.asn', 'LIG-EmailPDU.asn'];
      for (const f of files) {
        const t = fs.readFileSync(path.resolve(__dirname, '..', '..', 'asn1', f), 'utf8')
          .replace(/18446744073709551615/g, '9223372036854775807') // asn1c 0.9.28 cannot hold 2^64-1
          .replace('SEQUENCE OF INTEGER (0..4294967295),', 'SEQUENCE OF INTEGER,'); // an asn1c 0.9.28 bug
        fs.writeFileSync(path.join(work, f), t);
      }
      fs.writeFileSync(path.join(work, 'outside.asn'), [ // the modules the profile imports from outside itself
        'IPMultimediaPDU DEFINITIONS IMPLICIT TAGS ::= BEGIN',
        'IPMMCC ::= SEQUENCE { iPMMCCObjId [0] RELATIVE-OID, ... }',
        'IPMMIRI ::= SEQUENCE { iPMMIRIObjId [0] RELATIVE-OID, ... }',
        'END',
        'LIG-HI1NotificationOperations DEFINITIONS IMPLICIT TAGS ::= BEGIN',
        'HI1-Operation ::= CHOICE { liActivated [1] NULL, ... }',
        'END',
      ].join('\n'));
      await run('asn1c', ['-fcompound-names', '-pdu=PS-PDU', ...files, 'outside.asn']);
      await run('make', ['-f', 'Makefile.am.sample', '-j2']);
      fs.writeFileSync(path.join(work, 'app.ber'), hex(GOLDEN));
      const docs = parseXer(await run(path.join(work, 'progname'), ['-c', '-iber', '-oxer', 'app.ber']));
      assert.equal(docs.length, 1);
      assert.deepEqual(diffWithXer(PS_PDU, toJsonValue(decodePsPdu(hex(GOLDEN))), docs[0]!, 'profile'), []);
      const lig = find(docs[0]!, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents', 'nationalIPIRIParameters', 'ligApplicationReport');
      assert.deepEqual(lig?.children.map((c) => c.name), ['protocol', 'client', 'server', 'transport', 'fields']);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  describe('limits: each its own error; at the limit still written', () => {
    const base: AppReportInput = { protocol: 'http', fields: [] };
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: 'peers', value: `10.0.0.${i % 256}:6881` }));
    const cases: Array<[string, AppReportInput, AppReportInput, number]> = [
      ['MAX_APP_PROTOCOL_CHARS', { ...base, protocol: 'p'.repeat(MAX_APP_PROTOCOL_CHARS) }, { ...base, protocol: 'p'.repeat(MAX_APP_PROTOCOL_CHARS + 1) }, MAX_APP_PROTOCOL_CHARS],
      ['MAX_APP_FIELD_NAME_CHARS', { ...base, fields: [{ name: 'n'.repeat(MAX_APP_FIELD_NAME_CHARS), value: '' }] }, { ...base, fields: [{ name: 'n'.repeat(MAX_APP_FIELD_NAME_CHARS + 1), value: '' }] }, MAX_APP_FIELD_NAME_CHARS],
      // characters, not octets: 2048 three-octet characters are at the limit
      ['MAX_APP_FIELD_VALUE_CHARS', { ...base, fields: [{ name: 'host', value: '€'.repeat(MAX_APP_FIELD_VALUE_CHARS) }] }, { ...base, fields: [{ name: 'host', value: 'v'.repeat(MAX_APP_FIELD_VALUE_CHARS + 1) }] }, MAX_APP_FIELD_VALUE_CHARS],
      ['MAX_APP_REPORT_FIELDS', { ...base, fields: many(MAX_APP_REPORT_FIELDS) }, { ...base, fields: many(MAX_APP_REPORT_FIELDS + 1) }, MAX_APP_REPORT_FIELDS],
    ];
    for (const [name, ok, over, limit] of cases) {
      it(name, () => {
        const pdu = appReportPdu(CTX, 1, T, { ...REPORT, report: ok });
        const back = decodePsPdu(pdu) as unknown as typeof VALUE;
        const lig = back.payload.iRIPayloadSequence[0]!.iRIContents.iPIRI.iPIRIContents.nationalIPIRIParameters.ligApplicationReport;
        assert.deepEqual(lig.fields, ok.fields);
        assert.throws(() => appReport(over), (e: unknown) => e instanceof EtsiLimitError && e.limit === limit && e.message.includes(name));
      });
    }

    it('an empty protocol or name, an address that is not one, a port or transport out of range: EtsiError', () => {
      for (const bad of [
        { ...base, protocol: '' },
        { ...base, fields: [{ name: '', value: 'x' }] },
        { ...base, client: { address: 'example.org' } },
        { ...base, server: { address: '10.0.0.1', port: 65536 } },
        { ...base, transport: 256 },
      ]) {
        assert.throws(() => appReport(bad), EtsiError, JSON.stringify(bad));
      }
    });
  });
});

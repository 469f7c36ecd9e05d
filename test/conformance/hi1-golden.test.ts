/**
 * HI1 notifications (TS 102 232-1 Payload hI1-Operation [3], TS 101 671 HI1NotificationOperations
 * version 7) pinned to bytes assembled by hand from the ASN.1, each TLV derived in its comment:
 * class (context = 10), constructed bit (0x20), tag number; IMPLICIT (the tag replaces the
 * universal one) unless the component's type is a CHOICE, whose alternative keeps its own tag
 * inside an EXPLICIT one (X.680 31.2.7). Both modules are DEFINITIONS IMPLICIT TAGS.
 *
 * For each vector the builder writes exactly these bytes, decoding them gives the values
 * written out here, and encoding those values gives the bytes again. Vectors lig does not write
 * (domainID, utcTime, the national parameters, alarms, a future alternative) pin the decoder.
 *
 * Then two independent decoders, both built with asn1c at test time (CI installs it; nothing
 * is skipped there): ETSI's own HI1NotificationOperations text with the HI2Operations types it
 * imports, compiled into the etsi-oracle's LI-PS-PDU with the hI1-Operation alternative put
 * back (the oracle drops it, and so refuses every HI1 PDU: shown below), decodes every vector
 * with constraints checked and agrees with lig component by component; and lig's own profile
 * (asn1/LIG-HI1NotificationOperations.asn) decodes every HI1-Operation lig writes.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readElement } from '../../src/ber/reader';
import { UNKNOWN } from '../../src/ber/decode';
import { PS_PDU, RecordContext, Stamp, decodePsPdu, encodePsPdu, hi1NotificationPdu, toJsonValue } from '../../src/etsi';
import { HI1_OPERATION } from '../../src/etsi/hi1';
import { diffWithXer, enumValue, find, oracleDecode, parseXer, xerHex } from '../helpers/oracle';
import { REPO_ROOT, requireShared, skipOrFail } from '../helpers/shared';

/** Hex with `//` comments and any whitespace. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

const T: Stamp = { seconds: 1_700_000_000, micros: 123_456 }; // 2023-11-14T22:13:20.123456Z
/** A full context: the builder must drop its CIN (a notification belongs to no communication). */
const FULL: RecordContext = {
  liid: 'LIID-42', operatorId: 'OP', networkElementId: 'NE1', cin: 66051, authorizationCountryCode: 'DE',
  deliveryCountryCode: 'DE', interceptionPointId: 'IP1', timeStampQualifier: 'timeOfInterception',
};
/** A minimal one, whose operator id (11 octets) is too long for HI2Operations' operator-Identifier (1..5). */
const MINIMAL: RecordContext = { liid: 'LIID-42', operatorId: 'EXAMPLE-NET' };
/** Exactly 5 octets of operator id, and GeneralizedTime in the header. */
const FIVE: RecordContext = { liid: 'LIID-42', operatorId: 'ABCDE', timestampFormat: 'generalized' };

const LIID = '4c 49 49 44 2d 34 32'; // "LIID-42"
const GT = '32 30 32 33 31 31 31 34 32 32 31 33 32 30 2e 31 32 33 34 35 36 5a'; // "20231114221320.123456Z", 22 octets
const DOMAIN_ID = '80 07 04 00 02 02 05 01 28'; // [0] li-psDomainId {0 4 0 2 2 5 1 40}: context primitive 0 = 0x80; 0*40+4, one octet per arc
const MICROS = `
    a7 0b                                 // [7] microSecondTimeStamp: IMPLICIT SEQUENCE, context|constructed|7 = 0xa7
      80 04 65 53 f1 00                   //   [0] seconds 1700000000
      81 03 01 e2 40                      //   [1] microSeconds 123456`;

/** The Notification's timeStamp as lig writes it: 31 octets. */
const TIME_STAMP = `
        a3 1d                             // [3] timeStamp TimeStamp: a CHOICE, so EXPLICIT: context|constructed|3 = 0xa3
          a0 1b                           //   [0] localTime LocalTimeStamp: IMPLICIT SEQUENCE, context|constructed|0 = 0xa0
            80 16 ${GT}                   //     [0] generalizedTime: IMPLICIT GeneralizedTime, context primitive 0 = 0x80
            81 01 00                      //     [1] winterSummerIndication notProvided(0): IMPLICIT ENUMERATED = 0x81`;

// PSHeader of FULL with sequence number 0 and no CIN: 63 content octets.
const HEADER_FULL = `
  a1 3f                                   // [1] pSHeader PSHeader: IMPLICIT SEQUENCE, context|constructed|1 = 0xa1
    ${DOMAIN_ID}
    81 07 ${LIID}                         //   [1] lawfulInterceptionIdentifier "LIID-42"
    82 02 44 45                           //   [2] authorizationCountryCode "DE"
    a3 0f                                 //   [3] communicationIdentifier (no communicationIdentityNumber: no CIN)
      a0 09                               //     [0] networkIdentifier
        80 02 4f 50                       //       [0] operatorIdentifier "OP"
        81 03 4e 45 31                    //       [1] networkElementIdentifier "NE1"
      82 02 44 45                         //     [2] deliveryCountryCode "DE"
    84 01 00                              //   [4] sequenceNumber 0
    86 03 49 50 31                        //   [6] interceptionPointID "IP1"
    ${MICROS}
    88 01 01                              //   [8] timeStampQualifier timeOfInterception(1)`;

// PSHeader of MINIMAL with sequence number n (0..127): 51 content octets.
const headerMinimal = (n: number) => `
  a1 33                                   // [1] pSHeader
    ${DOMAIN_ID}
    81 07 ${LIID}                         //   [1] lawfulInterceptionIdentifier "LIID-42"
    a3 0f                                 //   [3] communicationIdentifier
      a0 0d                               //     [0] networkIdentifier
        80 0b 45 58 41 4d 50 4c 45 2d 4e 45 54  // [0] operatorIdentifier "EXAMPLE-NET" (11 octets)
    84 01 ${n.toString(16).padStart(2, '0')}    // [4] sequenceNumber ${n}
    ${MICROS}`;

// PSHeader of FIVE with sequence number 2 and a GeneralizedTime: 56 content octets.
const HEADER_FIVE = `
  a1 38                                   // [1] pSHeader
    ${DOMAIN_ID}
    81 07 ${LIID}                         //   [1] lawfulInterceptionIdentifier "LIID-42"
    a3 09                                 //   [3] communicationIdentifier
      a0 07                               //     [0] networkIdentifier
        80 05 41 42 43 44 45              //       [0] operatorIdentifier "ABCDE"
    84 01 02                              //   [4] sequenceNumber 2
    85 16 ${GT}                           //   [5] timeStamp GeneralizedTime`;

// --- the expected decoded values, written out -------------------------------------------------

const MICRO_VALUE = { seconds: 1700000000, microSeconds: 123456 };
const HEADER_FULL_VALUE = {
  'li-psDomainId': '0.4.0.2.2.5.1.40', lawfulInterceptionIdentifier: bytes('LIID-42'), authorizationCountryCode: 'DE',
  communicationIdentifier: { networkIdentifier: { operatorIdentifier: bytes('OP'), networkElementIdentifier: bytes('NE1') }, deliveryCountryCode: 'DE' },
  sequenceNumber: 0, interceptionPointID: 'IP1', microSecondTimeStamp: MICRO_VALUE, timeStampQualifier: 'timeOfInterception',
};
const headerMinimalValue = (n: number) => ({
  'li-psDomainId': '0.4.0.2.2.5.1.40', lawfulInterceptionIdentifier: bytes('LIID-42'),
  communicationIdentifier: { networkIdentifier: { operatorIdentifier: bytes('EXAMPLE-NET') } }, sequenceNumber: n, microSecondTimeStamp: MICRO_VALUE,
});
const HEADER_FIVE_VALUE = {
  'li-psDomainId': '0.4.0.2.2.5.1.40', lawfulInterceptionIdentifier: bytes('LIID-42'),
  communicationIdentifier: { networkIdentifier: { operatorIdentifier: bytes('ABCDE') } }, sequenceNumber: 2, timeStamp: '20231114221320.123456Z',
};
const LOCAL_TIME = { localTime: { generalizedTime: '20231114221320.123456Z', winterSummerIndication: 'notProvided' } };
const operatorOnly = (op: string) => ({ 'network-Identifier': { 'operator-Identifier': bytes(op) } });

interface Vector {
  name: string;
  /** Absent for vectors lig reads but does not write. */
  build?: () => Buffer;
  golden: string;
  value: { pSHeader: Record<string, unknown>; payload: Record<string, unknown> };
  /** Whether ETSI's text can decode it (not a future alternative). */
  standard: boolean;
}

const VECTORS: Vector[] = [
  {
    name: 'liActivated with every optional component lig writes',
    build: () => hi1NotificationPdu(FULL, 0, T, 'activated', { targetInformation: 'alice@example.org' }),
    golden: `30 81 8a ${HEADER_FULL}            // PS-PDU SEQUENCE, 138 content octets (81: one length octet follows)
      a2 47                                 // [2] payload Payload: a CHOICE, so EXPLICIT: context|constructed|2 = 0xa2
        a3 45                               //   [3] hI1-Operation HI1-Operation: a CHOICE, so EXPLICIT again = 0xa3
          a1 43                             //     [1] liActivated Notification: IMPLICIT SEQUENCE, context|constructed|1 = 0xa1
            81 07 ${LIID}                   //       [1] lawfulInterceptionIdentifier: IMPLICIT OCTET STRING, context primitive 1 = 0x81
            a2 06                           //       [2] communicationIdentifier (HI2Operations): IMPLICIT SEQUENCE = 0xa2
              a1 04                         //         [1] network-Identifier Network-Identifier: IMPLICIT SEQUENCE = 0xa1
                80 02 4f 50                 //           [0] operator-Identifier "OP": IMPLICIT OCTET STRING = 0x80
            ${TIME_STAMP}
            86 11 61 6c 69 63 65 40 65 78 61 6d 70 6c 65 2e 6f 72 67  // [6] target-Information "alice@example.org": context primitive 6 = 0x86`,
    value: {
      pSHeader: HEADER_FULL_VALUE,
      payload: { 'hI1-Operation': { liActivated: { lawfulInterceptionIdentifier: bytes('LIID-42'), communicationIdentifier: operatorOnly('OP'), timeStamp: LOCAL_TIME, 'target-Information': bytes('alice@example.org') } } },
    },
    standard: true,
  },
  {
    name: 'liDeactivated with no optional component (operator id too long for HI2Operations)',
    build: () => hi1NotificationPdu(MINIMAL, 1, T, 'deactivated'),
    golden: `30 63 ${headerMinimal(1)}             // PS-PDU, 99 content octets
      a2 2c                                 // [2] payload (EXPLICIT)
        a3 2a                               //   [3] hI1-Operation (EXPLICIT)
          a2 28                             //     [2] liDeactivated Notification: context|constructed|2 = 0xa2
            81 07 ${LIID}                   //       [1] lawfulInterceptionIdentifier
            ${TIME_STAMP}`,
    value: {
      pSHeader: headerMinimalValue(1),
      payload: { 'hI1-Operation': { liDeactivated: { lawfulInterceptionIdentifier: bytes('LIID-42'), timeStamp: LOCAL_TIME } } },
    },
    standard: true,
  },
  {
    name: 'liModified with a 5-octet operator and target-Information, GeneralizedTime header',
    build: () => hi1NotificationPdu(FIVE, 2, T, 'modified', { targetInformation: '192.0.2.1' }),
    golden: `30 7e ${HEADER_FIVE}                 // PS-PDU, 126 content octets
      a2 42                                 // [2] payload (EXPLICIT)
        a3 40                               //   [3] hI1-Operation (EXPLICIT)
          a3 3e                             //     [3] liModified Notification: context|constructed|3 = 0xa3
            81 07 ${LIID}                   //       [1] lawfulInterceptionIdentifier
            a2 09                           //       [2] communicationIdentifier
              a1 07                         //         [1] network-Identifier
                80 05 41 42 43 44 45        //           [0] operator-Identifier "ABCDE" (the most SIZE (1..5) allows)
            ${TIME_STAMP}
            86 09 31 39 32 2e 30 2e 32 2e 31  // [6] target-Information "192.0.2.1"`,
    value: {
      pSHeader: HEADER_FIVE_VALUE,
      payload: { 'hI1-Operation': { liModified: { lawfulInterceptionIdentifier: bytes('LIID-42'), communicationIdentifier: operatorOnly('ABCDE'), timeStamp: LOCAL_TIME, 'target-Information': bytes('192.0.2.1') } } },
    },
    standard: true,
  },
  {
    name: 'liActivated as another mediator may send it: domainID, CIN, network element, utcTime, national parameters',
    golden: `30 81 8a ${headerMinimal(3)}          // PS-PDU, 138 content octets
      a2 53                                 // [2] payload (EXPLICIT)
        a3 51                               //   [3] hI1-Operation (EXPLICIT)
          a1 4f                             //     [1] liActivated
            80 07 04 00 02 02 00 01 06      //       [0] domainID OBJECT IDENTIFIER {0 4 0 2 2 0 1 6} (hi1OperationId): context primitive 0 = 0x80
            81 07 ${LIID}                   //       [1] lawfulInterceptionIdentifier
            a2 1d                           //       [2] communicationIdentifier
              80 08 31 32 33 34 35 36 37 38 //         [0] communication-Identity-Number "12345678" (ASCII digits)
              a1 11                         //         [1] network-Identifier
                80 02 4f 50                 //           [0] operator-Identifier "OP"
                a1 0b                       //           [1] network-Element-Identifier: a CHOICE, so EXPLICIT = 0xa1
                  83 09 31 39 32 2e 30 2e 32 2e 31  //     [3] iP-Format "192.0.2.1": IMPLICIT OCTET STRING = 0x83
            a3 0f                           //       [3] timeStamp (EXPLICIT)
              81 0d 32 33 31 31 31 34 32 32 31 33 32 30 5a  // [1] utcTime "231114221320Z": IMPLICIT UTCTime, context primitive 1 = 0x81
            a5 04                           //       [5] national-HI1-ASN1parameters: IMPLICIT SEQUENCE = 0xa5
              81 02 44 45                   //         [1] countryCode PrintableString "DE"
            86 05 61 6c 69 63 65            //       [6] target-Information "alice"`,
    value: {
      pSHeader: headerMinimalValue(3),
      payload: {
        'hI1-Operation': {
          liActivated: {
            domainID: '0.4.0.2.2.0.1.6',
            lawfulInterceptionIdentifier: bytes('LIID-42'),
            communicationIdentifier: {
              'communication-Identity-Number': bytes('12345678'),
              'network-Identifier': { 'operator-Identifier': bytes('OP'), 'network-Element-Identifier': { 'iP-Format': bytes('192.0.2.1') } },
            },
            timeStamp: { utcTime: '231114221320Z' },
            'national-HI1-ASN1parameters': { countryCode: 'DE' },
            'target-Information': bytes('alice'),
          },
        },
      },
    },
    standard: true,
  },
  {
    name: 'alarms-indicator with a local time and its winter/summer indication',
    golden: `30 67 ${headerMinimal(4)}             // PS-PDU, 103 content octets
      a2 30                                 // [2] payload (EXPLICIT)
        a3 2e                               //   [3] hI1-Operation (EXPLICIT)
          a4 2c                             //     [4] alarms-indicator Alarm-Indicator: IMPLICIT SEQUENCE = 0xa4
            a2 15                           //       [2] timeStamp (EXPLICIT: a CHOICE)
              a0 13                         //         [0] localTime
                80 0e 32 30 32 33 31 31 31 34 32 33 31 33 32 30  // [0] generalizedTime "20231114231320" (local, no zone)
                81 01 01                    //           [1] winterSummerIndication winterTime(1)
            83 0a 70 72 6f 62 65 20 6c 6f 73 74  //   [3] alarm-information "probe lost"
            84 07 ${LIID}                   //       [4] lawfulInterceptionIdentifier (an extension addition here)`,
    value: {
      pSHeader: headerMinimalValue(4),
      payload: {
        'hI1-Operation': {
          'alarms-indicator': {
            timeStamp: { localTime: { generalizedTime: '20231114231320', winterSummerIndication: 'winterTime' } },
            'alarm-information': bytes('probe lost'),
            lawfulInterceptionIdentifier: bytes('LIID-42'),
          },
        },
      },
    },
    standard: true,
  },
  {
    name: 'an HI1-Operation alternative newer than version 7 ([9]): kept with its bytes',
    golden: `30 3e ${headerMinimal(5)}             // PS-PDU, 62 content octets
      a2 07                                 // [2] payload (EXPLICIT)
        a3 05                               //   [3] hI1-Operation (EXPLICIT)
          a9 03 80 01 00                    //     [9] an unknown alternative, constructed, holding [0] 00`,
    value: { pSHeader: headerMinimalValue(5), payload: { 'hI1-Operation': { [UNKNOWN]: { tag: '[9]', bytes: hex('a9 03 80 01 00') } } } },
    standard: false,
  },
];

describe('HI1 notifications: golden bytes (TS 101 671 HI1NotificationOperations in TS 102 232-1)', () => {
  for (const v of VECTORS) {
    describe(v.name, () => {
      const golden = hex(v.golden);

      if (v.build) {
        it('the builder writes exactly the golden bytes', () => {
          assert.equal(v.build!().toString('hex'), golden.toString('hex'));
        });
      }

      it('decoding the golden bytes gives the values written out', () => {
        assert.deepEqual(decodePsPdu(golden), v.value);
      });

      it('encoding those values gives the golden bytes', () => {
        if (!v.standard) return void assert.throws(() => encodePsPdu(v.value as never), /no alternative/); // lig never writes an unknown alternative
        assert.equal(encodePsPdu(v.value as never).toString('hex'), golden.toString('hex'));
      });
    });
  }

  it('every length in the golden vectors is its content length (a hand error would show here)', () => {
    for (const v of VECTORS) {
      const b = hex(v.golden);
      const el = readElement(b, 0);
      assert.equal(el.end, b.length, v.name);
    }
  });
});

// --- the independent decoders -----------------------------------------------------------------

/** Runs a command in `cwd`; resolves with stdout, rejects with its output on a non-zero exit. */
function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${String(stderr || stdout).slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

function needCompiler(ctx: Mocha.Context): void {
  if (spawnSync('sh', ['-c', 'command -v asn1c && command -v make && command -v cc']).status !== 0) {
    skipOrFail(ctx, 'compiling the HI1 decoder needs asn1c, make and a C compiler: apt-get install asn1c build-essential');
  }
}

/** ASN.1 text without comments (`--` to the end of the line; none of the texts used here continue a line after a comment). */
const uncomment = (s: string): string => s.replace(/--[^\n]*/g, '');

/** One type assignment `Name ::= ...` of a module: to the end of its braces, or of its line. */
function assignment(src: string, name: string): string {
  const at = new RegExp(`^${name.replace(/-/g, '\\-')}\\s*::=`, 'm').exec(src);
  if (!at) throw new Error(`the reference text has no ${name}`);
  const eol = src.indexOf('\n', at.index);
  const brace = src.indexOf('{', at.index);
  const nextLine = src.slice(eol + 1).trimStart();
  if (brace < 0 || (brace > eol && !nextLine.startsWith('{'))) return src.slice(at.index, eol);
  let depth = 0;
  for (let i = brace; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(at.index, i + 1);
  }
  throw new Error(`${name}: unbalanced braces`);
}

/** HI2Operations' types of the same names as LI-PS-PDU's, renamed for asn1c (one compilation, one namespace). */
const HI2_TYPES = [
  'CommunicationIdentifier', 'Network-Identifier', 'Network-Element-Identifier', 'IPAddress', 'IP-value',
  'TimeStamp', 'LocalTimeStamp', 'LawfulInterceptionIdentifier',
];
const renameHi2 = (s: string): string =>
  s.replace(new RegExp(`(?<![A-Za-z0-9-])(${HI2_TYPES.join('|')})(?![A-Za-z0-9-])`, 'g'), 'HI2-$1');

/**
 * ETSI's HI1NotificationOperations text (version 7) without the ROSE definitions (as
 * TS 102 232-1's own copy disables them), and the HI2Operations types it imports, taken from
 * the reference text.
 */
function standardModules(hi1Text: string, hi2Text: string): { hi1: string; hi2: string } {
  let hi1 = uncomment(hi1Text)
    .replace(/IMPORTS[\s\S]*?;/, 'IMPORTS CommunicationIdentifier, TimeStamp, LawfulInterceptionIdentifier FROM HI2Operations;')
    // the operation, its errors and their set stand together between the OIDs and HI1-Operation
    .replace(/sending-of-HI1-Notification\s+OPERATION\s*::=[\s\S]*?(?=HI1-Operation\s*::=)/, '');
  for (const gone of ['OPERATION', 'ERROR', 'Remote-Operations']) {
    if (hi1.includes(gone)) throw new Error(`the HI1 text still mentions ${gone}: the reference text changed`);
  }
  hi1 = renameHi2(hi1).replace(/\blawfulInterceptDomainId\b/g, 'hi1LawfulInterceptDomainId'); // LI-PS-PDU defines the same value
  const src = uncomment(hi2Text);
  const types = HI2_TYPES.map((n) => assignment(src, n)).join('\n\n');
  const hi2 = `HI2Operations DEFINITIONS IMPLICIT TAGS ::=\nBEGIN\n\n${renameHi2(types)}\n\nEND\n`;
  return { hi1, hi2 };
}

/** Compiles `files` (name → text) with asn1c into a BER→XER converter for `pdu`; cached by content under os.tmpdir(). */
async function compile(files: Record<string, string>, pdu: string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify([pdu, files])).digest('hex').slice(0, 16);
  const final = path.join(os.tmpdir(), `lig-hi1-asn1c-${hash}`);
  const progname = path.join(final, 'progname');
  if (fs.existsSync(progname)) return progname;
  const work = fs.mkdtempSync(`${final}.build.`);
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(work, name), text);
    await run('asn1c', ['-fcompound-names', `-pdu=${pdu}`, ...Object.keys(files)], work);
    await run('make', ['-f', 'Makefile.am.sample', '-j2'], work);
    try {
      fs.renameSync(work, final); // built aside, then moved: a concurrent build of the same inputs is harmless
    } catch {
      if (!fs.existsSync(progname)) throw new Error(`cannot move the build to ${final}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return progname;
}

/** Decodes one element with an asn1c converter, constraints checked (-c); one XER document. */
async function asn1cDecode(progname: string, element: Buffer, dir: string, name: string) {
  const file = path.join(dir, `${name}.ber`);
  fs.writeFileSync(file, element);
  const docs = parseXer(await run(progname, ['-c', '-iber', '-oxer', file], dir));
  assert.equal(docs.length, 1);
  return docs[0]!;
}

/** The HI1-Operation element inside a PS-PDU: payload [2] → hI1-Operation [3] → its one child. */
function hi1Element(pdu: Buffer): Buffer {
  const root = readElement(pdu, 0);
  const inner = root.children[1]!.children[0]!.children[0]!;
  return pdu.subarray(inner.start, inner.end);
}

describe('HI1 notifications: ETSI\'s HI1NotificationOperations text, compiled by asn1c into the PS-PDU', () => {
  let progname: string;
  let tmp: string;

  before(async function () {
    needCompiler(this);
    const hi1Text = fs.readFileSync(requireShared(this, 'reference', 'asn1', 'etsi', 'HI1NotificationOperations,ver7.asn'), 'utf8');
    const hi2Text = fs.readFileSync(requireShared(this, 'reference', 'asn1', 'third-party-edited', 'HI2Operations.asn'), 'utf8');
    const oracle = requireShared(this, 'tools', 'etsi-oracle');
    // the oracle's own LI-PS-PDU and service modules (version 40), with hI1-Operation put back
    const oracleBin = (await run(oracle, ['build'], REPO_ROOT, { ...process.env, ETSI_ORACLE_VERSION: '40' })).trim().split('\n').pop()!;
    const oracleDir = path.dirname(oracleBin);
    const read = (f: string) => fs.readFileSync(path.join(oracleDir, f), 'utf8');
    const psPdu = read('LI-PS-PDU.asn');
    const restored = psPdu
      .replace(/^--REMOVED: (\s*hI1-Operation\s+\[3\]\s+HI1-Operation,.*)$/m, '$1')
      .replace('FROM IPMultimediaPDU;', 'FROM IPMultimediaPDU\n    HI1-Operation FROM HI1NotificationOperations;');
    assert.ok(/^\s*hI1-Operation\s+\[3\]/m.test(restored) && restored.includes('FROM HI1NotificationOperations;'), "the oracle's LI-PS-PDU.asn changed: cannot put hI1-Operation back");
    const { hi1, hi2 } = standardModules(hi1Text, hi2Text);
    progname = await compile({
      'Common-Parameters.asn': read('Common-Parameters.asn'),
      'LI-PS-PDU.asn': restored,
      'IPAccessPDU.asn': read('IPAccessPDU.asn'),
      'EmailPDU.asn': read('EmailPDU.asn'),
      'IPMultimediaPDU.asn': read('IPMultimediaPDU.asn'),
      'HI1NotificationOperations.asn': hi1,
      'HI2Operations.asn': hi2,
    }, 'PS-PDU');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-hi1-golden-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [i, v] of VECTORS.entries()) {
    if (!v.standard) continue;
    it(`decodes, constraints checked, and agrees with lig component by component: ${v.name}`, async () => {
      const golden = hex(v.golden);
      const doc = await asn1cDecode(progname, golden, tmp, `v${i}`);
      assert.deepEqual(diffWithXer(PS_PDU, toJsonValue(decodePsPdu(golden)), doc), []);
    });
  }

  it('refuses, as lig does, a timeStamp tagged IMPLICITly (the mistake the explicit CHOICE tag rule prevents)', async () => {
    const wrong = hex(`30 61 ${headerMinimal(1)}
      a2 2a a3 28 a2 26                     // payload, hI1-Operation, liDeactivated
        81 07 ${LIID}
        a3 1b                               // [3] timeStamp with LocalTimeStamp's contents straight inside: no [0] localTime
          80 16 ${GT}
          81 01 00`);
    assert.equal(readElement(wrong, 0).end, wrong.length);
    await assert.rejects(asn1cDecode(progname, wrong, tmp, 'wrong'), /failed/);
    assert.throws(() => decodePsPdu(wrong), (e: Error & { code?: string }) => e.code === 'LIG_ERR_BER_UNEXPECTED');
  });

  it('holds the values given to the builders, read from the XER alone', async () => {
    const doc = await asn1cDecode(progname, hi1NotificationPdu(FULL, 0, T, 'activated', { targetInformation: 'alice@example.org' }), tmp, 'built');
    const n = find(doc, 'payload', 'hI1-Operation', 'liActivated')!;
    assert.ok(n, 'liActivated');
    assert.equal(xerHex(find(n, 'lawfulInterceptionIdentifier')!), bytes('LIID-42').toString('hex'));
    assert.equal(xerHex(find(n, 'communicationIdentifier', 'network-Identifier', 'operator-Identifier')!), bytes('OP').toString('hex'));
    assert.equal(find(n, 'timeStamp', 'localTime', 'generalizedTime')!.text, '20231114221320.123456Z');
    assert.equal(enumValue(find(n, 'timeStamp', 'localTime', 'winterSummerIndication')!), 'notProvided');
    assert.equal(xerHex(find(n, 'target-Information')!), bytes('alice@example.org').toString('hex'));
    assert.equal(find(doc, 'pSHeader', 'communicationIdentifier', 'communicationIdentityNumber'), undefined, 'no CIN');
    assert.equal(find(doc, 'pSHeader', 'sequenceNumber')!.text, '0');
  });

  it('the etsi-oracle, whose build drops hI1-Operation, refuses each HI1 PDU for that alternative and for nothing else', async function () {
    const file = path.join(tmp, 'stream.ber');
    const standard = VECTORS.filter((v) => v.standard);
    fs.writeFileSync(file, Buffer.concat(standard.map((v) => hex(v.golden))));
    const r = await oracleDecode(this, file);
    assert.equal(r.ok, false);
    const refusals = r.stderr.trim().split('\n');
    assert.equal(refusals.length, standard.length);
    for (const line of refusals) assert.match(line, /does not decode: .*constraint check failed: Payload: no CHOICE element given/);
  });
});

describe("HI1 notifications: lig's profile (asn1/LIG-HI1NotificationOperations.asn), compiled by asn1c", () => {
  let progname: string;
  let tmp: string;

  before(async function () {
    needCompiler(this);
    const read = (f: string) => fs.readFileSync(path.join(REPO_ROOT, 'asn1', f), 'utf8');
    progname = await compile({
      'LIG-HI1NotificationOperations.asn': read('LIG-HI1NotificationOperations.asn'),
      'LIG-HI2Operations.asn': read('LIG-HI2Operations.asn'),
    }, 'HI1-Operation');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-hi1-profile-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [i, v] of VECTORS.entries()) {
    if (!v.standard) continue;
    it(`decodes the HI1-Operation and agrees with lig: ${v.name}`, async () => {
      const golden = hex(v.golden);
      const doc = await asn1cDecode(progname, hi1Element(golden), tmp, `p${i}`);
      const json = toJsonValue((decodePsPdu(golden).payload as { 'hI1-Operation': unknown })['hI1-Operation']);
      assert.deepEqual(diffWithXer(HI1_OPERATION, json, doc), []);
    });
  }
});

/**
 * HI1 notifications (src/etsi/hi1.ts, hi1NotificationPdu): what the builder takes and refuses
 * (typed errors that never quote the target), how it maps warrant events to HI1-Operation
 * alternatives, when HI2Operations' short operator-Identifier is written, how `lig decode`
 * and records.jsonl show the records, and that hostile or newer input decodes to values or
 * typed errors, never a crash. The exact bytes are pinned in test/conformance/hi1-golden.
 */
import { strict as assert } from 'node:assert';
import { UNKNOWN } from '../../src/ber/decode';
import { readElement } from '../../src/ber/reader';
import { EtsiLimitError, LigError } from '../../src/errors';
import { RecordContext, Stamp, decodePsPdu, encodePsPdu, hi1NotificationPdu, keepAlivePdu } from '../../src/etsi';
import { StreamDecoder } from '../../src/etsi/stream-decoder';
import { HI1_EVENTS, MAX_TARGET_INFORMATION_BYTES, Notification, hi1Operation, hi1OperationName } from '../../src/etsi/hi1';
import { jsonRecord, payloadKind, renderRecord } from '../../src/etsi/render';
import { prng } from '../fixtures/capture-golden';

const CTX: RecordContext = { liid: 'LIID-U', operatorId: 'OPR', cin: 9, authorizationCountryCode: 'FR' };
const T: Stamp = { seconds: 1_700_000_000, micros: 5 };
const SECRET = 'secret-target@example.org';

/** The Notification inside a decoded HI1 PDU, whatever its alternative. */
function notificationOf(pdu: Buffer): { alt: string; n: Notification & Record<string, unknown> } {
  const op = (decodePsPdu(pdu).payload as Record<string, Record<string, unknown>>)['hI1-Operation']!;
  const [alt, n] = Object.entries(op)[0]!;
  return { alt, n: n as Notification & Record<string, unknown> };
}

const code = (c: string) => (e: unknown) => e instanceof LigError && e.code === c;

describe('etsi: HI1 notifications', () => {
  describe('hi1NotificationPdu', () => {
    it('maps activated, deactivated and modified to liActivated, liDeactivated and liModified', () => {
      assert.deepEqual(HI1_EVENTS, { activated: 'liActivated', deactivated: 'liDeactivated', modified: 'liModified' });
      for (const [event, alt] of Object.entries(HI1_EVENTS)) {
        const pdu = hi1NotificationPdu(CTX, 3, T, event as keyof typeof HI1_EVENTS);
        assert.equal(notificationOf(pdu).alt, alt);
        assert.equal(payloadKind(decodePsPdu(pdu)), `HI1 ${alt}`);
      }
    });

    it('refuses any other event with a typed error', () => {
      for (const bad of ['started', 'toString', '', 'constructor']) {
        assert.throws(() => hi1NotificationPdu(CTX, 0, T, bad as never), code('LIG_ERR_ETSI_INVALID'), bad);
      }
    });

    it('writes the header as for other records, without the CIN, and the time twice: header and notification', () => {
      const pdu = decodePsPdu(hi1NotificationPdu(CTX, 7, T, 'activated'));
      assert.equal(pdu.pSHeader.communicationIdentifier.communicationIdentityNumber, undefined);
      assert.equal(pdu.pSHeader.sequenceNumber, 7);
      assert.equal(pdu.pSHeader.authorizationCountryCode, 'FR');
      assert.deepEqual(pdu.pSHeader.microSecondTimeStamp, { seconds: T.seconds, microSeconds: 5 });
      const { n } = notificationOf(hi1NotificationPdu(CTX, 7, T, 'activated'));
      assert.deepEqual(n.timeStamp, { localTime: { generalizedTime: '20231114221320.000005Z', winterSummerIndication: 'notProvided' } });
      assert.equal(Buffer.from(n.lawfulInterceptionIdentifier as Uint8Array).toString(), 'LIID-U');
      assert.equal(n.domainID, undefined, 'domainID is for FTP delivery only');
    });

    it('writes communicationIdentifier only when the operator id fits HI2Operations (1..5 octets, counted as UTF-8)', () => {
      const op = (operatorId: string) => notificationOf(hi1NotificationPdu({ ...CTX, operatorId }, 0, T, 'modified')).n.communicationIdentifier;
      assert.deepEqual(op('ABCDE'), { 'network-Identifier': { 'operator-Identifier': Buffer.from('ABCDE') } });
      assert.deepEqual(op('éé'), { 'network-Identifier': { 'operator-Identifier': Buffer.from('éé', 'utf8') } }, '4 octets');
      assert.equal(op('ABCDEF'), undefined);
      assert.equal(op('ééé'), undefined, '6 octets');
    });

    it('takes target-Information of 1..MAX_TARGET_INFORMATION_BYTES printable ASCII characters', () => {
      assert.equal(MAX_TARGET_INFORMATION_BYTES, 256);
      for (const text of ['x', SECRET, 'a'.repeat(256), ' ~']) {
        const { n } = notificationOf(hi1NotificationPdu(CTX, 0, T, 'activated', { targetInformation: text }));
        assert.equal(Buffer.from(n['target-Information'] as Uint8Array).toString('latin1'), text);
      }
      assert.equal(notificationOf(hi1NotificationPdu(CTX, 0, T, 'activated', {})).n['target-Information'], undefined);
    });

    it('refuses empty, non-ASCII or over-long target-Information with typed errors that do not quote it', () => {
      const cases: Array<[string, string]> = [['', 'LIG_ERR_ETSI_INVALID'], [`${SECRET}é`, 'LIG_ERR_ETSI_INVALID'], [`${SECRET}\n`, 'LIG_ERR_ETSI_INVALID'], [SECRET.repeat(11), 'LIG_ERR_ETSI_TOO_LARGE']];
      for (const [text, want] of cases) {
        assert.throws(() => hi1NotificationPdu(CTX, 0, T, 'activated', { targetInformation: text }), (e: unknown) => {
          assert.ok(e instanceof LigError && e.code === want, `${want}: ${String(e)}`);
          assert.ok(!e.message.includes(SECRET) && !e.message.includes('LIID-U'), e.message);
          if (want === 'LIG_ERR_ETSI_TOO_LARGE') assert.equal((e as EtsiLimitError).limit, MAX_TARGET_INFORMATION_BYTES);
          return true;
        });
      }
    });

    it('the LIID is checked as everywhere else (1..25 octets)', () => {
      assert.throws(() => hi1NotificationPdu({ ...CTX, liid: 'L'.repeat(26) }, 0, T, 'activated'), code('LIG_ERR_BER_RANGE'));
    });
  });

  describe('showing them', () => {
    const pdu = hi1NotificationPdu(CTX, 2, T, 'deactivated', { targetInformation: 'alice' });

    it('lig decode: a header line "HI1 liDeactivated" and every field named as in the ASN.1', () => {
      const text = renderRecord({ index: 0, offset: 0, length: pdu.length, pdu: decodePsPdu(pdu) });
      const lines = text.split('\n');
      assert.equal(lines[0], `PDU 0 at offset 0, ${pdu.length} bytes: HI1 liDeactivated`);
      const tail = lines.slice(lines.indexOf('  payload')).map((l) => l.trimEnd());
      assert.deepEqual(tail, [
        '  payload',
        '    hI1-Operation',
        '      liDeactivated',
        '        lawfulInterceptionIdentifier: "LIID-U"',
        '        communicationIdentifier',
        '          network-Identifier',
        '            operator-Identifier: "OPR"',
        '        timeStamp',
        '          localTime',
        '            generalizedTime: 20231114221320.000005Z',
        '            winterSummerIndication: notProvided',
        '        target-Information: "alice"',
      ]);
    });

    it('records.jsonl / lig decode --json: octets as hex, names as in the ASN.1', () => {
      const j = JSON.parse(jsonRecord({ index: 4, offset: 10, length: pdu.length, pdu: decodePsPdu(pdu) }));
      assert.deepEqual(j.pdu.payload, {
        'hI1-Operation': {
          liDeactivated: {
            lawfulInterceptionIdentifier: Buffer.from('LIID-U').toString('hex'),
            communicationIdentifier: { 'network-Identifier': { 'operator-Identifier': Buffer.from('OPR').toString('hex') } },
            timeStamp: { localTime: { generalizedTime: '20231114221320.000005Z', winterSummerIndication: 'notProvided' } },
            'target-Information': Buffer.from('alice').toString('hex'),
          },
        },
      });
    });

    it('names the alternative of any decoded HI1-Operation', () => {
      assert.equal(hi1OperationName({ liModified: {} }), 'liModified');
      assert.equal(hi1OperationName({ [UNKNOWN]: { tag: '[9]', bytes: new Uint8Array() } }), 'unknown [9]');
      assert.equal(hi1OperationName(undefined), '(none)');
      assert.equal(hi1OperationName({}), '(none)');
    });
  });

  describe('robust decoding', () => {
    const good = hi1NotificationPdu(CTX, 1, T, 'activated', { targetInformation: 'alice' });

    /** `good` with `extra` appended inside its Notification (all lengths here are short-form). */
    function withInNotification(extra: Buffer): Buffer {
      const root = readElement(good, 0);
      const payload = root.children[1]!;
      const wrapper = payload.children[0]!;
      const n = wrapper.children[0]!;
      const grow = (b: Buffer, at: number) => { b[at + 1]! += extra.length; };
      const out = Buffer.concat([good.subarray(0, n.end), extra, good.subarray(n.end)]);
      for (const el of [root, payload, wrapper, n]) {
        if (el.start !== 0) grow(out, el.start);
      }
      out[1]! += extra.length; // the PS-PDU's own length (short form: under 128 octets)
      return out;
    }

    it('keeps an unknown extension addition of Notification, with its bytes', () => {
      assert.ok(good.length + 4 < 128, 'short-form lengths throughout');
      const pdu = withInNotification(Buffer.from('87 02 4f 4b'.replace(/ /g, ''), 'hex'));
      const { n } = notificationOf(pdu);
      assert.deepEqual(n[UNKNOWN], [{ tag: '[7]', bytes: Buffer.from('87024f4b', 'hex') }]);
      assert.equal(Buffer.from(n['target-Information'] as Uint8Array).toString(), 'alice');
    });

    it('refuses a Notification without its mandatory timeStamp with a typed error', () => {
      const n = notificationOf(good).n;
      const broken = { pSHeader: decodePsPdu(good).pSHeader, payload: { 'hI1-Operation': { liActivated: { ...n, timeStamp: undefined } } } };
      assert.throws(() => encodePsPdu(broken as never), code('LIG_ERR_BER_MISSING'));
      const root = readElement(good, 0);
      const ts = root.children[1]!.children[0]!.children[0]!.children.find((c) => c.tag === 3)!;
      const cut = Buffer.concat([good.subarray(0, ts.start), good.subarray(ts.end)]);
      const shrink = ts.end - ts.start;
      for (const el of [root.children[1]!, root.children[1]!.children[0]!, root.children[1]!.children[0]!.children[0]!]) cut[el.start + 1]! -= shrink;
      cut[1]! -= shrink;
      assert.throws(() => decodePsPdu(cut), code('LIG_ERR_BER_MISSING'));
    });

    it('every truncation and every single-byte change decodes or fails with a LigError, never anything else', () => {
      for (let n = 0; n < good.length; n++) {
        assert.throws(() => decodePsPdu(good.subarray(0, n)), (e: unknown) => e instanceof LigError, `cut at ${n}`);
      }
      const rnd = prng(101);
      for (let i = 0; i < 3000; i++) {
        const b = Buffer.from(good);
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        try {
          decodePsPdu(b);
        } catch (e) {
          assert.ok(e instanceof LigError, `change ${i}: ${String(e)}`);
        }
      }
    });

    it('a stream of notifications and keep-alives decodes the same fed byte by byte', () => {
      const list = [good, keepAlivePdu({ liid: 'K', operatorId: 'OP' }, 0, T), hi1NotificationPdu(CTX, 2, T, 'deactivated')];
      const stream = Buffer.concat(list);
      const d = new StreamDecoder();
      const got = [];
      for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
      got.push(...d.end());
      assert.deepEqual(got.map((r) => [r.error, r.pdu && payloadKind(r.pdu)]), [[undefined, 'HI1 liActivated'], [undefined, 'TRI keep-alive'], [undefined, 'HI1 liDeactivated']]);
    });

    it('hi1Operation values round-trip through the encoder', () => {
      const value = hi1Operation('modified', { liid: 'LIID-U', operatorId: 'OPR', time: '20231114221320Z', targetInformation: 'x' });
      const pdu = encodePsPdu({ pSHeader: decodePsPdu(good).pSHeader, payload: { 'hI1-Operation': value } });
      assert.deepEqual(notificationOf(pdu).n, {
        lawfulInterceptionIdentifier: Buffer.from('LIID-U'),
        communicationIdentifier: { 'network-Identifier': { 'operator-Identifier': Buffer.from('OPR') } },
        timeStamp: { localTime: { generalizedTime: '20231114221320Z', winterSummerIndication: 'notProvided' } },
        'target-Information': Buffer.from('x'),
      });
    });
  });
});

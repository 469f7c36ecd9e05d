/**
 * Bad input on one connection: bytes that cannot start a PDU, a length over the limit, a
 * well-framed PDU that does not decode, a connection cut inside a PDU. Each is counted and
 * recorded at its offset; a framing failure closes that connection (there is no telling where
 * the next PDU would start), a PDU that only fails to decode does not. Other connections go on
 * being served, and every byte received is in the raw file.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordContext, Stamp, ipccPdu, keepAlivePdu } from '../../src/etsi';
import { Lemf } from '../../src/lemf';
import { ipv4Udp } from '../helpers/identity-packets';
import { Client, Setup, closeLemfSuite, collect, openLemfSuite, pdus, readRecords } from './lemf-helpers';

const M: RecordContext = { liid: 'LIID-M', operatorId: 'OP', cin: 1 };
const T: Stamp = { seconds: 1_700_000_000, micros: 0 };
const cc = (seq: number) => ipccPdu(M, seq, T, ipv4Udp('192.0.2.1', '192.0.2.2', 1, 2, Buffer.from('x')), 'toTarget');
const ka = (seq: number) => keepAlivePdu({ liid: M.liid, operatorId: 'OP' }, seq, T);

describe('lig lemf: malformed input', () => {
  let s: Setup;
  let out: string;
  let lemf: Lemf;
  /** Everything sent on HI3, in the order the LEMF processed it (one connection at a time here). */
  const sent: Buffer[] = [];

  before(async () => ({ s, out, lemf } = await openLemfSuite('lig-lemf-bad-')));
  after(() => closeLemfSuite(s, lemf));

  /** A connection that stays up for the whole suite, checked after each bad one. */
  let steady: Client;
  let steadySeq = 0;
  async function steadyStillServed(): Promise<void> {
    const n = steady.answers.length;
    const bytes = Buffer.concat([cc(steadySeq++), ka(500 + n)]);
    const done = pdus(lemf, 'hi3', 2);
    steady.socket.write(bytes);
    sent.push(bytes);
    await done;
    const answers = await steady.answered(n + 1);
    assert.equal(answers[n]!.pSHeader.sequenceNumber, 500 + n);
  }

  it('a good connection is served', async () => {
    steady = await Client.open(s, lemf.addresses.hi3.port);
    await steadyStillServed();
  });

  it('bytes that cannot start a PDU mid-stream: counted, that connection closed, the others unaffected', async () => {
    const bad = await Client.open(s, lemf.addresses.hi3.port);
    const garbage = Buffer.from('ff00deadbeef' + '41'.repeat(50), 'hex');
    const first = cc(100);
    const outcomes = pdus(lemf, 'hi3', 2);
    bad.socket.write(Buffer.concat([first, garbage]));
    const [ok, broken] = await outcomes;
    sent.push(first, garbage);
    assert.equal(ok!.error, undefined);
    assert.equal(broken!.error?.code, 'LIG_ERR_BER_UNEXPECTED');
    assert.equal(broken!.offset, ok!.offset + first.length);
    await bad.whenClosed();
    await steadyStillServed();
  });

  it('a length over the PDU limit: counted as a framing failure, connection closed', async () => {
    const bad = await Client.open(s, lemf.addresses.hi3.port);
    const huge = Buffer.from('3084ffffffff0000', 'hex');
    const outcome = pdus(lemf, 'hi3', 1);
    bad.socket.write(huge);
    sent.push(huge);
    const [o] = await outcome;
    assert.equal(o!.error?.code, 'LIG_ERR_BER_TOO_LARGE');
    await bad.whenClosed();
    await steadyStillServed();
  });

  it('a whole PDU that does not decode: counted, the connection goes on', async () => {
    const c = await Client.open(s, lemf.addresses.hi3.port);
    const wrong = Buffer.from('3003020100', 'hex'); // a SEQUENCE, but not a PS-PDU
    const outcome = pdus(lemf, 'hi3', 2);
    c.socket.write(Buffer.concat([wrong, ka(7)]));
    sent.push(wrong, ka(7));
    const [o] = await outcome;
    assert.equal(o!.error?.code, 'LIG_ERR_BER_UNEXPECTED');
    const [answer] = await c.answered(1);
    assert.equal(answer!.pSHeader.sequenceNumber, 7);
    await c.end();
  });

  it('a connection cut inside a PDU: the partial PDU is kept and counted as truncated', async () => {
    const c = await Client.open(s, lemf.addresses.hi3.port);
    const part = cc(200).subarray(0, 20);
    const outcome = pdus(lemf, 'hi3', 1);
    c.socket.write(part);
    sent.push(part);
    await c.end();
    const [o] = await outcome;
    assert.equal(o!.error?.code, 'LIG_ERR_BER_TRUNCATED');
    await steadyStillServed();
  });

  it('counts it all; hi3.ber holds every byte received, records.jsonl an error line per failure', async () => {
    const closed = collect(lemf, 'closed', 1);
    await steady.end();
    await closed;
    const summary = await lemf.close();
    assert.equal(summary.decodeErrors, 3);
    assert.equal(summary.truncated, 1);
    assert.ok(fs.readFileSync(path.join(out, 'hi3.ber')).equals(Buffer.concat(sent)));
    const errors = readRecords(out).filter((r) => r.error).map((r) => r.error.code);
    assert.deepEqual(errors, ['LIG_ERR_BER_UNEXPECTED', 'LIG_ERR_BER_TOO_LARGE', 'LIG_ERR_BER_UNEXPECTED', 'LIG_ERR_BER_TRUNCATED']);
  });
});

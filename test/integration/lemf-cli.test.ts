/**
 * `lig lemf` as a real process (main() from src/ through tsx): it prints the bound addresses,
 * serves a client, honours --no-ack-pdus, and on SIGTERM prints the summary (totals, no LIID),
 * writes summary.json and exits 0. A usage error exits 2.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordContext, Stamp, ipiriPdu, keepAlivePdu, pduAckRequestPdu, triPdu } from '../../src/etsi';
import { lig, lines, stop } from '../helpers/lig-process';
import { Client, Setup, setup, startLemf } from './lemf-helpers';

const C: RecordContext = { liid: 'LIID-CLI', operatorId: 'OP', cin: 9 };
const T: Stamp = { seconds: 1_700_000_000, micros: 5 };

describe('lig lemf as a process', () => {
  let s: Setup;

  before(async () => {
    s = await setup('lig-lemf-cli-');
  });
  after(() => fs.rmSync(s.tmp, { recursive: true, force: true }));

  it('prints its addresses, answers, declines PDU acknowledgement with --no-ack-pdus, and sums up on SIGTERM', async () => {
    const out = path.join(s.tmp, 'out');
    const p = lig(['lemf', '--hi2', '127.0.0.1:0', '--hi3', '127.0.0.1:0', '--out', out, '--ca', s.pki.ca, '--cert', s.pki.lemf.cert, '--key', s.pki.lemf.key, '--no-ack-pdus']);
    const [l2, l3] = await lines(p, 2);
    const m2 = /^hi2 listening on 127\.0\.0\.1:(\d+)$/.exec(l2 ?? '');
    const m3 = /^hi3 listening on 127\.0\.0\.1:(\d+)$/.exec(l3 ?? '');
    assert.ok(m2 && m3, `stdout: ${p.stdout.join('\n')}\nstderr: ${p.stderr}`);

    const c = await Client.open(s, Number(m2[1]));
    c.socket.write(Buffer.concat([
      triPdu({ liid: C.liid, operatorId: 'OP' }, 1, T, { optionRequest: { requestedOptions: [{ pDUAcknowledgement: null }] } }),
      ipiriPdu(C, 0, T, 'iRI-Begin', { accessEventType: 'accessAccept', targetUsername: 'carol', internetAccessType: 'lAN', iPVersion: 'iPV4' }),
      pduAckRequestPdu(C, 2, T),
      keepAlivePdu({ liid: C.liid, operatorId: 'OP' }, 3, T),
    ]));
    const answers = await c.answered(2);
    assert.deepEqual(answers.map((a) => [a.pSHeader.sequenceNumber, a.payload]), [
      [1, { tRIPayload: { optionResponse: { acceptedOptions: [], declinedOptions: [{ pDUAcknowledgement: null }] } } }],
      [3, { tRIPayload: { 'keep-aliveResponse': null } }],
    ], 'the acknowledgement request goes unanswered: the keep-alive after it is answered next');
    await c.end();

    assert.equal(await stop(p, 'SIGTERM'), 0, p.stderr);
    const printed = p.stdout.slice(2).join('\n');
    assert.match(printed, /records: 1 IRI, 0 CC \(0 packets\) for 1 LIID\(s\), 4 PDUs in all/);
    assert.match(printed, /answered: 1 keep-alives, 0 PDU acknowledgements, 1 option requests/);
    assert.ok(!printed.includes(C.liid) && !p.stderr.includes(C.liid), 'no LIID printed or logged');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.records, { [C.liid]: { iri: 1, cc: 0, ccPackets: 0 } });
    assert.match(p.stderr, /hi2 conn 1: connected from 127\.0\.0\.1:\d+ \(CN=mediator, mediator\)/);
  });

  it('exits 2 on a usage error, 1 when the certificate files are wrong or the port is taken', async () => {
    const usage = lig(['lemf', '--hi2', '127.0.0.1:0', '--hi3', '127.0.0.1:0']);
    assert.equal(await usage.exit, 2);
    assert.match(usage.stderr, /--out is required/);
    const badAddr = lig(['lemf', '--hi2', '127.0.0.1', '--hi3', '127.0.0.1:0', '--out', s.tmp, '--ca', s.pki.ca, '--cert', s.pki.lemf.cert, '--key', s.pki.lemf.key]);
    assert.equal(await badAddr.exit, 2);
    assert.match(badAddr.stderr, /--hi2 must be ADDR:PORT/);
    const wrongKey = lig(['lemf', '--hi2', '127.0.0.1:0', '--hi3', '127.0.0.1:0', '--out', path.join(s.tmp, 'o2'), '--ca', s.pki.ca, '--cert', s.pki.lemf.cert, '--key', s.pki.mediator.key]);
    assert.equal(await wrongKey.exit, 1);
    assert.match(wrongKey.stderr, /LIG_ERR_CERT_KEY_MISMATCH/);
    const taken = await startLemf(s, path.join(s.tmp, 'o3'));
    try {
      const busy = lig(['lemf', '--hi2', '127.0.0.1:0', '--hi3', `127.0.0.1:${taken.addresses.hi3.port}`, '--out', path.join(s.tmp, 'o4'), '--ca', s.pki.ca, '--cert', s.pki.lemf.cert, '--key', s.pki.lemf.key]);
      assert.equal(await busy.exit, 1);
      assert.match(busy.stderr, /hi3 cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \[LIG_ERR_LEMF_LISTEN\]/);
    } finally {
      await taken.close();
    }
  });
});

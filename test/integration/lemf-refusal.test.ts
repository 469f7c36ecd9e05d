/**
 * The LEMF admits only clients with a valid certificate from the agency's CA. A client with no
 * certificate, one from another CA, or an expired one is refused in the handshake, the refusal
 * is logged with its reason (and nothing of the keys), and nothing it sent is stored. Each
 * refusal has a control: the mediator's certificate, on the same LEMF, gets through.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { keepAlivePdu } from '../../src/etsi';
import { Lemf, RefusalEvent } from '../../src/lemf';
import { makeExpiredLeaf, makeForeignPki } from '../../src/pki';
import type { PemPaths } from '../../src/pki/files';
import { Client, Setup, collect, readRecords, setup, startLemf } from './lemf-helpers';

const KA = keepAlivePdu({ liid: 'LIID-R', operatorId: 'OP' }, 1, { seconds: 1_700_000_000, micros: 0 });

describe('lig lemf: refusals', () => {
  let s: Setup;
  let out: string;
  let lemf: Lemf;
  let foreign: PemPaths;
  let expired: PemPaths;

  before(async () => {
    s = await setup('lig-lemf-refuse-');
    foreign = (await makeForeignPki(path.join(s.tmp, 'foreign'), { role: 'mediator', name: 'mediator' })).leaf;
    expired = await makeExpiredLeaf(s.pki.dir, { role: 'mediator', name: 'old-mediator' });
    out = path.join(s.tmp, 'out');
    lemf = await startLemf(s, out);
  });
  after(async () => {
    await lemf.close().catch(() => undefined);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  /**
   * Connects with `opts` and writes a keep-alive as soon as the client thinks it may (with TLS
   * 1.3 the client finishes before the server has checked its certificate); resolves with the
   * LEMF's refusal and how the client ended.
   */
  async function attempt(hi: 'hi2' | 'hi3', opts: tls.ConnectionOptions): Promise<{ refusal: RefusalEvent; client: Client }> {
    const refused = collect<RefusalEvent>(lemf, 'refused', 1);
    const client = new Client(lemf.addresses[hi].port, { ca: fs.readFileSync(s.pki.ca), ...opts });
    client.socket.on('secureConnect', () => client.socket.write(KA));
    const [refusal] = await refused;
    await client.whenClosed();
    return { refusal: refusal!, client };
  }

  const leafOpts = (p: PemPaths): tls.ConnectionOptions => ({ cert: fs.readFileSync(p.cert), key: fs.readFileSync(p.key) });

  const cases: Array<[string, 'hi2' | 'hi3', () => tls.ConnectionOptions, string]> = [
    ['no client certificate', 'hi2', () => ({}), 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'],
    ['a certificate from another CA', 'hi3', () => leafOpts(foreign), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['an expired certificate', 'hi2', () => leafOpts(expired), 'CERT_HAS_EXPIRED'],
  ];
  for (const [what, hi, opts, reason] of cases) {
    it(`refuses ${what} on ${hi}, logs why, stores nothing; the mediator's certificate gets through`, async () => {
      const size = (f: string) => fs.statSync(path.join(out, f)).size;
      const before = [size(`${hi}.ber`), readRecords(out).length];
      const { refusal, client } = await attempt(hi, opts());
      assert.equal(refusal.hi, hi);
      assert.equal(refusal.reason, reason);
      assert.equal(client.answers.length, 0, 'no keep-alive answered');
      assert.ok(s.logs.some((l) => l.startsWith(`${hi}: refused a connection from 127.0.0.1:`) && l.endsWith(`: ${reason}`)), s.logs.join('\n'));
      assert.deepEqual([size(`${hi}.ber`), readRecords(out).length], before, 'nothing stored');

      // control: the same LEMF, the mediator's certificate
      const ok = await Client.open(s, lemf.addresses[hi].port);
      ok.socket.write(KA);
      const [answer] = await ok.answered(1);
      assert.deepEqual(answer!.payload, { tRIPayload: { 'keep-aliveResponse': null } });
      const closed = collect(lemf, 'closed', 1);
      await ok.end();
      await closed;
      assert.deepEqual([size(`${hi}.ber`), readRecords(out).length], [before[0]! + KA.length, before[1]! + 1], 'the control is stored');
    });
  }

  it('counts the refusals; the log holds no key material', async () => {
    const summary = await lemf.close();
    assert.equal(summary.refusals, 3);
    assert.equal(summary.connections, 3);
    const keys = [s.pki.lemf.key, s.pki.mediator.key, s.pki.caKey].map((f) => fs.readFileSync(f, 'utf8'));
    for (const line of s.logs) {
      assert.ok(!/PRIVATE KEY|BEGIN/.test(line), line);
      for (const k of keys) for (const chunk of k.split('\n').filter((x) => x.length > 20)) assert.ok(!line.includes(chunk), line);
    }
  });
});

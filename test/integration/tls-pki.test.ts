/**
 * The certificates lig makes, in real TLS handshakes on 127.0.0.1 (node:tls, the server
 * requiring client certificates as the mediator does): the right peers connect and are
 * identified; no client certificate, one from another CA, an expired one, or one without
 * the usage its side needs is refused, and so is a server not matching the expected name.
 * Each refusal is checked against a control that differs only in the certificate.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { identityOf, issueInto, loadTlsMaterial, makeExpiredLeaf, makeForeignPki, makeTestPki, type TestPki } from '../../src/pki';
import type { PemPaths } from '../../src/pki/files';

interface ServerOutcome {
  /** The identity the server read from the client certificate, if the handshake completed. */
  identity?: unknown;
  /** Why the server refused: the verify error, else the TLS error code. */
  refusal?: string;
}

interface ClientOutcome {
  data: string;
  errorCode?: string;
}

/** Both ends of one attempt: awaited together, so no event spills into the next attempt. */
type Attempt = Promise<[ClientOutcome, ServerOutcome]>;

/** A TLS server like the mediator's (client certificates required and verified against the CA). */
async function withServer(ca: string, own: PemPaths, fn: (connect: (client: tls.ConnectionOptions) => Attempt) => Promise<void>): Promise<void> {
  const m = loadTlsMaterial({ ca, cert: own.cert, key: own.key });
  let onOutcome: ((o: ServerOutcome) => void) | undefined;
  const server = tls.createServer({ ca: m.ca, cert: m.cert, key: m.key, requestCert: true, rejectUnauthorized: true }, (sock) => {
    const identity = identityOf(sock.getPeerCertificate());
    sock.end(JSON.stringify(identity));
    onOutcome?.({ identity });
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, sock: tls.TLSSocket) => {
    onOutcome?.({ refusal: String(sock.authorizationError ?? err.code) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await fn((client) => {
      const serverOutcome = new Promise<ServerOutcome>((resolve) => (onOutcome = resolve));
      const clientOutcome = new Promise<ClientOutcome>((resolve) => {
        const sock = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...client });
        let data = '';
        let errorCode: string | undefined;
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (data += d));
        sock.on('error', (e: NodeJS.ErrnoException) => (errorCode = e.code));
        sock.on('close', () => resolve({ data, errorCode }));
      });
      return Promise.all([clientOutcome, serverOutcome]);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('TLS with lig certificates', () => {
  let tmp: string;
  let pki: TestPki;
  let foreign: PemPaths;
  let expired: PemPaths;
  let wrongHost: PemPaths;

  const read = (p: string): Buffer => fs.readFileSync(p);
  const asClient = (p: PemPaths, ca = pki.ca): tls.ConnectionOptions => ({ ca: read(ca), cert: read(p.cert), key: read(p.key) });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-tls-'));
    pki = await makeTestPki(path.join(tmp, 'set'));
    // The impostor even takes a real probe's name: only the CA tells them apart.
    foreign = (await makeForeignPki(path.join(tmp, 'foreign'), { name: 'probe-1' })).leaf;
    expired = await makeExpiredLeaf(pki.dir, { name: 'probe-9' });
    wrongHost = await issueInto({ dir: pki.dir, role: 'lemf', name: 'lemf-elsewhere', san: ['lemf.example.net'], bits: 2048 });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a probe connects to the mediator, which reads its identity', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      const [c, s] = await connect(asClient(pki.probe));
      assert.deepEqual(s, { identity: { name: 'probe-1', role: 'probe' } });
      assert.equal(c.errorCode, undefined);
      assert.deepEqual(JSON.parse(c.data), { name: 'probe-1', role: 'probe' });
    });
  });

  it('admin and auditor connect and are told apart', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      for (const who of ['admin', 'auditor'] as const) {
        const [c, s] = await connect(asClient(pki[who]));
          assert.deepEqual(s.identity, { name: who, role: who });
        assert.deepEqual(JSON.parse(c.data), { name: who, role: who });
      }
    });
  });

  it('the mediator connects to a LEMF as a client', async () => {
    await withServer(pki.ca, pki.lemf, async (connect) => {
      const [c, s] = await connect(asClient(pki.mediator));
      assert.deepEqual(s.identity, { name: 'mediator', role: 'mediator' });
      assert.equal(c.errorCode, undefined);
    });
  });

  it('refuses a client without a certificate', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      const [c, s] = await connect({ ca: read(pki.ca) });
      assert.deepEqual(s, { refusal: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
      assert.equal(c.data, '');
    });
  });

  it('refuses a client certificate from another CA', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      const [c, s] = await connect(asClient(foreign));
      assert.deepEqual(s, { refusal: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      assert.equal(c.data, '');
    });
  });

  it('refuses an expired client certificate', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      const [c, s] = await connect(asClient(expired));
      assert.deepEqual(s, { refusal: 'CERT_HAS_EXPIRED' });
      assert.equal(c.data, '');
    });
  });

  it('refuses a server-only (lemf) certificate offered as a client certificate', async () => {
    await withServer(pki.ca, pki.mediator, async (connect) => {
      const [c, s] = await connect(asClient(pki.lemf));
      assert.deepEqual(s, { refusal: 'INVALID_PURPOSE' });
      assert.equal(c.data, '');
    });
  });

  it('a client refuses a client-only (probe) certificate offered by a server', async () => {
    await withServer(pki.ca, pki.probe, async (connect) => {
      const [c, s] = await connect(asClient(pki.mediator));
      assert.equal(c.errorCode, 'INVALID_PURPOSE');
      assert.equal(s.identity, undefined);
      assert.equal(c.data, '');
    });
  });

  it('a client refuses a server whose certificate is for another name, and accepts it under that name', async () => {
    await withServer(pki.ca, wrongHost, async (connect) => {
      const [refused, refusedAtServer] = await connect(asClient(pki.mediator));
      assert.equal(refused.errorCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(refused.data, '');
      assert.equal(refusedAtServer.identity, undefined);
      const [c, s] = await connect({ ...asClient(pki.mediator), servername: 'lemf.example.net' });
      assert.equal(c.errorCode, undefined);
      assert.deepEqual(s.identity, { name: 'mediator', role: 'mediator' });
    });
  });

  it('a client refuses a server from another CA', async () => {
    const other = await makeForeignPki(path.join(tmp, 'foreign-server'), { role: 'mediator', name: 'mediator' });
    await withServer(other.ca, other.leaf, async (connect) => {
      const [c, s] = await connect(asClient(pki.probe));
      // node:tls sends the server's CA along with its certificate, hence "self-signed in chain".
      assert.equal(c.errorCode, 'SELF_SIGNED_CERT_IN_CHAIN');
      assert.equal(s.identity, undefined);
      assert.equal(c.data, '');
    });
  });
});

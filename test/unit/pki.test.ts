/**
 * Certificate tooling: the fields of what it issues (checked with node:crypto, i.e. OpenSSL,
 * and the raw extensions through forge's ASN.1 reader), option checks, identities, safe
 * writes, and every error loadTlsMaterial gives.
 */
import { strict as assert } from 'node:assert';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import forge from 'node-forge';
import { CertError } from '../../src/errors';
import {
  caPaths,
  generateRsaKeyPair,
  identityOf,
  initPki,
  issueInto,
  issueLeaf,
  loadTlsMaterial,
  makeExpiredLeaf,
  makeForeignPki,
  makeNotYetValidLeaf,
  makeTestPki,
  newLeaf,
  parseSans,
  readCa,
  usesNativeKeyGeneration,
  type TestPki,
} from '../../src/pki';
import { ipBytes } from '../../src/pki/san';

const DAY_MS = 24 * 60 * 60 * 1000;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OID_SHA256_RSA = '1.2.840.113549.1.1.11';

const x509 = (p: string): X509Certificate => new X509Certificate(fs.readFileSync(p));
const forgeCert = (p: string): forge.pki.Certificate => forge.pki.certificateFromPem(fs.readFileSync(p, 'latin1'));
const mode = (p: string): number => fs.statSync(p).mode & 0o777;

/** Asserts `fn` throws a CertError with `code` whose message has no key material. */
function throwsCert(fn: () => unknown, code: string, messageIncludes?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CertError, `expected CertError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!/PRIVATE KEY|MII/.test(e.message), `key material in: ${e.message}`);
    if (messageIncludes !== undefined) assert.ok(e.message.includes(messageIncludes), `"${e.message}" lacks "${messageIncludes}"`);
    return true;
  });
}

async function rejectsCert(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof CertError && e.code === code);
}

/** The keyIdentifier inside a raw authorityKeyIdentifier extension value. */
function akiKeyId(cert: forge.pki.Certificate): string {
  const ext = cert.getExtension('authorityKeyIdentifier') as { value: string } | undefined;
  assert.ok(ext, 'no authorityKeyIdentifier');
  const seq = forge.asn1.fromDer(ext.value);
  const kid = (seq.value as forge.asn1.Asn1[]).find((v) => v.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && v.type === 0);
  assert.ok(kid, 'no keyIdentifier in authorityKeyIdentifier');
  return forge.util.bytesToHex(kid.value as string);
}

describe('pki', () => {
  let tmp: string;
  let pki: TestPki;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-pki-'));
    pki = await makeTestPki(path.join(tmp, 'set'), { probes: ['probe-1', 'probe-2'] });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('keys', () => {
    it('uses native key generation and makes keys of the size asked', async () => {
      assert.equal(usesNativeKeyGeneration(), true);
      const k = await generateRsaKeyPair(2048);
      assert.equal(k.publicKey.n.bitLength(), 2048);
      assert.equal(k.publicKey.e.toString(16), '10001');
    });

    it('refuses key sizes out of range', async () => {
      await rejectsCert(generateRsaKeyPair(1024), 'LIG_ERR_CERT_OPTIONS');
      await rejectsCert(generateRsaKeyPair(2049), 'LIG_ERR_CERT_OPTIONS');
      await rejectsCert(generateRsaKeyPair(16384), 'LIG_ERR_CERT_OPTIONS');
    });
  });

  describe('the CA', () => {
    it('is a self-signed CA: CA:true critical, keyCertSign + cRLSign critical, SKI, SHA-256', () => {
      const ca = x509(pki.ca);
      assert.equal(ca.ca, true);
      assert.equal(ca.subject, ca.issuer);
      assert.ok(ca.checkIssued(ca));
      assert.ok(ca.verify(ca.publicKey));
      const f = forgeCert(pki.ca);
      const bc = f.getExtension('basicConstraints') as { cA: boolean; critical: boolean };
      assert.deepEqual([bc.cA, bc.critical], [true, true]);
      const ku = f.getExtension('keyUsage') as Record<string, boolean>;
      assert.deepEqual([ku['keyCertSign'], ku['cRLSign'], ku['critical'], ku['digitalSignature']], [true, true, true, false]);
      assert.ok(f.getExtension('subjectKeyIdentifier'));
      assert.ok(f.verifySubjectKeyIdentifier());
      assert.equal(f.siginfo.algorithmOid, OID_SHA256_RSA);
      assert.equal(mode(pki.caKey), 0o600);
      assert.equal(mode(pki.ca), 0o644);
    });

    it('gets a distinct name each time, so two CAs can share a trust file', async () => {
      const other = await makeForeignPki(path.join(tmp, 'names'));
      assert.notEqual(x509(other.ca).subject, x509(pki.ca).subject);
    });
  });

  describe('leaves', () => {
    const roles = [
      ['mediator', 'mediator', [OID_SERVER_AUTH, OID_CLIENT_AUTH]],
      ['lemf', 'lemf', [OID_SERVER_AUTH]],
      ['probe', 'probe-1', [OID_CLIENT_AUTH]],
      ['probe', 'probe-2', [OID_CLIENT_AUTH]],
      ['admin', 'admin', [OID_CLIENT_AUTH]],
      ['auditor', 'auditor', [OID_CLIENT_AUTH]],
    ] as const;
    for (const [role, name, eku] of roles) {
      it(`${name}: OU=${role}, CN=${name}, usages ${eku.length === 2 ? 'server+client' : eku[0] === OID_SERVER_AUTH ? 'server' : 'client'}, signed by the CA`, () => {
        const p = name.startsWith('probe') ? pki.probes[name]! : pki[role as 'mediator' | 'lemf' | 'admin' | 'auditor'];
        const c = x509(p.cert);
        const ca = x509(pki.ca);
        assert.equal(c.subject, `O=lig\nOU=${role}\nCN=${name}`);
        assert.equal(c.ca, false);
        assert.deepEqual([...c.keyUsage].sort(), [...eku].sort());
        assert.equal(c.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
        assert.ok(c.checkIssued(ca));
        assert.ok(c.verify(ca.publicKey));
        assert.ok(c.checkPrivateKey(createPrivateKey(fs.readFileSync(p.key))));
        assert.equal(c.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
        const f = forgeCert(p.cert);
        const bc = f.getExtension('basicConstraints') as { cA: boolean; critical: boolean };
        assert.deepEqual([bc.cA, bc.critical], [false, true]);
        const ku = f.getExtension('keyUsage') as Record<string, boolean>;
        assert.deepEqual([ku['digitalSignature'], ku['keyEncipherment'], ku['keyCertSign'], ku['critical']], [true, true, false, true]);
        assert.equal(akiKeyId(f), (forgeCert(pki.ca).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier);
        assert.equal(f.siginfo.algorithmOid, OID_SHA256_RSA);
        assert.equal(mode(p.key), 0o600);
        assert.ok(fs.readFileSync(p.key, 'latin1').startsWith('-----BEGIN PRIVATE KEY-----'));
      });
    }

    it('has random, positive, 16-byte serials, all different', () => {
      const files = [pki.ca, pki.mediator.cert, pki.lemf.cert, pki.admin.cert, pki.auditor.cert, ...Object.values(pki.probes).map((p) => p.cert)];
      const serials = files.map((f) => x509(f).serialNumber);
      for (const s of serials) {
        assert.equal(s.length, 32, s);
        assert.ok(parseInt(s[0]!, 16) < 8, `negative serial ${s}`);
        assert.ok(s[0] !== '0' || parseInt(s[1]!, 16) >= 8, `non-minimal serial ${s}`);
      }
      assert.equal(new Set(serials).size, serials.length);
    });

    it('takes DNS and IP SANs, v4 and v6, and the validity asked for', async () => {
      const ca = readCa(pki.dir);
      const t0 = Date.now();
      const pem = await newLeaf(ca, { role: 'lemf', name: 'agency', san: ['lemf.example.net', '10.1.2.3', '2001:db8::1', '::ffff:192.0.2.1', 'LEMF.example.net'], days: 10, bits: 2048 });
      const t1 = Date.now();
      const c = new X509Certificate(pem.cert);
      assert.equal(c.subjectAltName, 'DNS:lemf.example.net, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201');
      assert.ok(c.checkHost('lemf.example.net'));
      assert.ok(c.checkIP('2001:db8::1'));
      assert.ok(!c.checkHost('localhost'));
      const to = new Date(c.validTo).getTime();
      assert.ok(to >= t0 + 10 * DAY_MS - 1000 && to <= t1 + 10 * DAY_MS, `validTo ${c.validTo}`);
      const from = new Date(c.validFrom).getTime();
      assert.ok(from < t0 && from >= t0 - 10 * 60 * 1000, `validFrom ${c.validFrom} should be a few minutes back`);
    });

    it('takes explicit notBefore/notAfter, but never outlives the CA', async () => {
      const ca = readCa(pki.dir);
      const keys = await generateRsaKeyPair(2048);
      const nb = new Date(Date.UTC(2020, 0, 1));
      const na = new Date(Date.UTC(2020, 0, 2));
      const old = new X509Certificate(forge.pki.certificateToPem(issueLeaf(ca, keys.publicKey, { role: 'probe', name: 'old', notBefore: nb, notAfter: na })));
      assert.equal(new Date(old.validFrom).getTime(), nb.getTime());
      assert.equal(new Date(old.validTo).getTime(), na.getTime());
      const long = new X509Certificate(forge.pki.certificateToPem(issueLeaf(ca, keys.publicKey, { role: 'probe', name: 'long', days: 36500 })));
      assert.equal(long.validTo, x509(pki.ca).validTo);
    });

    it('refuses bad names, roles, SANs and validity before making a key', () => {
      const ca = readCa(pki.dir);
      const pub = ca.cert.publicKey as forge.pki.rsa.PublicKey;
      const bad: Array<Parameters<typeof issueLeaf>[2]> = [
        { role: 'probe', name: '../etc/passwd' },
        { role: 'probe', name: 'ca' },
        { role: 'probe', name: 'probe-1-key' },
        { role: 'probe', name: '' },
        { role: 'probe', name: '-x' },
        { role: 'root' as 'probe', name: 'x' },
        { role: 'lemf', san: [] },
        { role: 'lemf', san: ['not a host'] },
        { role: 'lemf', san: ['10.1.2'] },
        { role: 'lemf', san: ['fe80::1%eth0'] },
        { role: 'lemf', days: 0 },
        { role: 'lemf', days: 1.5 },
        { role: 'lemf', days: 36501 },
        { role: 'lemf', notBefore: new Date(Date.UTC(2020, 0, 2)), notAfter: new Date(Date.UTC(2020, 0, 1)) },
        { role: 'lemf', notAfter: new Date('nonsense') },
      ];
      for (const opts of bad) throwsCert(() => issueLeaf(ca, pub, opts), 'LIG_ERR_CERT_OPTIONS');
    });
  });

  describe('SANs', () => {
    it('parses DNS names and IPs, dropping duplicates', () => {
      assert.deepEqual(
        parseSans(['localhost', 'LocalHost', '127.0.0.1', '::1', '0:0::1', '*.example.com']).map((s) => `${s.type}:${s.value}`),
        ['dns:localhost', 'ip:127.0.0.1', 'ip:::1', 'dns:*.example.com'],
      );
    });

    it('encodes IPv6 in all its forms to 16 bytes', () => {
      const cases: Array<[string, string]> = [
        ['::1', '00000000000000000000000000000001'],
        ['::', '00000000000000000000000000000000'],
        ['1::', '00010000000000000000000000000000'],
        ['fe80::1:2', 'fe800000000000000000000000010002'],
        ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
        ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
        ['1.2.3.4', '01020304'],
      ];
      for (const [ip, hex] of cases) assert.equal(ipBytes(ip)?.toString('hex'), hex, ip);
      for (const s of ['x', '1.2.3', '1:2:3:4:5:6:7:8:9', '::1%lo', '256.1.1.1']) assert.equal(ipBytes(s), undefined, s);
    });
  });

  describe('identityOf', () => {
    it('reads name and role from PEM, DER, X509Certificate and peer-certificate objects', () => {
      const pem = fs.readFileSync(pki.probe.cert, 'latin1');
      const c = new X509Certificate(pem);
      assert.deepEqual(identityOf(pem), { name: 'probe-1', role: 'probe' });
      assert.deepEqual(identityOf(c.raw), { name: 'probe-1', role: 'probe' });
      assert.deepEqual(identityOf(x509(pki.admin.cert)), { name: 'admin', role: 'admin' });
      assert.deepEqual(identityOf(c.toLegacyObject()), { name: 'probe-1', role: 'probe' });
      assert.deepEqual(identityOf({ subject: { C: '', ST: '', L: '', O: 'lig', OU: 'auditor', CN: 'auditor' } }), { name: 'auditor', role: 'auditor' });
    });

    it('refuses no certificate, a CA, unknown roles and ambiguous subjects', () => {
      throwsCert(() => identityOf({}), 'LIG_ERR_CERT_IDENTITY');
      throwsCert(() => identityOf(null), 'LIG_ERR_CERT_IDENTITY');
      throwsCert(() => identityOf(x509(pki.ca)), 'LIG_ERR_CERT_IDENTITY', 'OU');
      const subject = (s: Record<string, unknown>) => ({ subject: s }) as unknown as Parameters<typeof identityOf>[0];
      throwsCert(() => identityOf(subject({ CN: 'x', OU: 'root' })), 'LIG_ERR_CERT_IDENTITY');
      throwsCert(() => identityOf(subject({ CN: 'x', OU: ['probe', 'admin'] })), 'LIG_ERR_CERT_IDENTITY');
      throwsCert(() => identityOf(subject({ CN: '../x', OU: 'probe' })), 'LIG_ERR_CERT_IDENTITY');
      throwsCert(() => identityOf('not a certificate'), 'LIG_ERR_CERT_NOT_PEM');
    });
  });

  describe('loadTlsMaterial', () => {
    let bad: string;
    before(() => {
      bad = path.join(tmp, 'bad');
      fs.mkdirSync(bad);
    });
    const write = (name: string, data: string | Buffer): string => {
      const p = path.join(bad, name);
      fs.writeFileSync(p, data);
      return p;
    };

    it('loads a good set, with the PEM bytes as read', () => {
      const m = loadTlsMaterial({ ca: pki.ca, cert: pki.mediator.cert, key: pki.mediator.key });
      assert.deepEqual(m.cert, fs.readFileSync(pki.mediator.cert));
      assert.deepEqual(m.key, fs.readFileSync(pki.mediator.key));
      assert.deepEqual(m.ca, fs.readFileSync(pki.ca));
      assert.deepEqual(identityOf(m.leaf), { name: 'mediator', role: 'mediator' });
      assert.equal(m.issuer.fingerprint256, x509(pki.ca).fingerprint256);
    });

    it('accepts a CA file that holds several CAs', async () => {
      const other = await makeForeignPki(path.join(tmp, 'bundle'));
      const both = write('two-cas.pem', Buffer.concat([fs.readFileSync(other.ca), fs.readFileSync(pki.ca)]));
      assert.equal(loadTlsMaterial({ ca: both, cert: pki.probe.cert, key: pki.probe.key }).leaf.subject, 'O=lig\nOU=probe\nCN=probe-1');
      assert.equal(loadTlsMaterial({ ca: both, cert: other.leaf.cert, key: other.leaf.key }).issuer.fingerprint256, x509(other.ca).fingerprint256);
    });

    it('names a missing file, or one that cannot be read', () => {
      const missing = path.join(bad, 'missing.pem');
      throwsCert(() => loadTlsMaterial({ ca: missing, cert: pki.probe.cert, key: pki.probe.key }), 'LIG_ERR_CERT_FILE', `${missing}: the CA file does not exist`);
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: missing, key: pki.probe.key }), 'LIG_ERR_CERT_FILE', `${missing}: the certificate file`);
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: pki.probe.cert, key: missing }), 'LIG_ERR_CERT_FILE', `${missing}: the key file`);
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: pki.probe.cert, key: bad }), 'LIG_ERR_CERT_FILE', 'is a directory');
    });

    it('refuses files that are not PEM of the right kind, without quoting them', () => {
      const garbage = write('garbage.pem', 'hello, not a certificate\n');
      const broken = write('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      const brokenKey = write('broken-key.pem', '-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n');
      const encrypted = write(
        'encrypted-key.pem',
        createPrivateKey(fs.readFileSync(pki.probe.key)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }),
      );
      const { ca, probe } = pki;
      throwsCert(() => loadTlsMaterial({ ca: garbage, cert: probe.cert, key: probe.key }), 'LIG_ERR_CERT_NOT_PEM', 'the CA file holds no PEM certificate');
      throwsCert(() => loadTlsMaterial({ ca, cert: garbage, key: probe.key }), 'LIG_ERR_CERT_NOT_PEM', 'the certificate file holds no PEM certificate');
      throwsCert(() => loadTlsMaterial({ ca, cert: probe.key, key: probe.key }), 'LIG_ERR_CERT_NOT_PEM', 'the certificate file holds no PEM certificate');
      throwsCert(() => loadTlsMaterial({ ca, cert: broken, key: probe.key }), 'LIG_ERR_CERT_NOT_PEM', 'not a valid X.509');
      throwsCert(() => loadTlsMaterial({ ca, cert: probe.cert, key: garbage }), 'LIG_ERR_CERT_NOT_PEM', 'holds no PEM private key');
      throwsCert(() => loadTlsMaterial({ ca, cert: probe.cert, key: probe.cert }), 'LIG_ERR_CERT_NOT_PEM', 'holds no PEM private key');
      throwsCert(() => loadTlsMaterial({ ca, cert: probe.cert, key: brokenKey }), 'LIG_ERR_CERT_NOT_PEM', 'does not parse');
      throwsCert(() => loadTlsMaterial({ ca, cert: probe.cert, key: encrypted }), 'LIG_ERR_CERT_NOT_PEM', 'encrypted');
    });

    it('refuses a key that does not belong to the certificate', () => {
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: pki.mediator.cert, key: pki.probe.key }), 'LIG_ERR_CERT_KEY_MISMATCH', pki.probe.key);
    });

    it('refuses a CA file that holds a leaf', () => {
      throwsCert(() => loadTlsMaterial({ ca: pki.lemf.cert, cert: pki.probe.cert, key: pki.probe.key }), 'LIG_ERR_CERT_NOT_CA', '"CN=lemf"');
    });

    it('refuses a certificate from another CA', async () => {
      const other = await makeForeignPki(path.join(tmp, 'foreign'), { name: 'probe-1' });
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: other.leaf.cert, key: other.leaf.key }), 'LIG_ERR_CERT_UNTRUSTED', 'was not issued by the CA');
      throwsCert(() => loadTlsMaterial({ ca: other.ca, cert: pki.probe.cert, key: pki.probe.key }), 'LIG_ERR_CERT_UNTRUSTED');
    });

    it('refuses a CA with the same name but another key', async () => {
      const cn = /CN=(.*)/.exec(x509(pki.ca).subject)![1]!;
      const twin = await makeForeignPki(path.join(tmp, 'twin'), { commonName: cn });
      assert.equal(x509(twin.ca).subject, x509(pki.ca).subject);
      throwsCert(() => loadTlsMaterial({ ca: twin.ca, cert: pki.probe.cert, key: pki.probe.key }), 'LIG_ERR_CERT_UNTRUSTED');
    });

    it('refuses a certificate whose signature was altered (names and key ids still match)', () => {
      const der = Buffer.from(x509(pki.probe.cert).raw);
      der[der.length - 1]! ^= 0x01; // the last byte lies in the signature
      const forged = write('forged.pem', `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
      assert.ok(x509(forged).checkIssued(x509(pki.ca)));
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: forged, key: pki.probe.key }), 'LIG_ERR_CERT_UNTRUSTED');
    });

    it('refuses an expired certificate and one not valid yet', async () => {
      const out = path.join(tmp, 'dated');
      const expired = await makeExpiredLeaf(pki.dir, { outDir: out });
      const early = await makeNotYetValidLeaf(pki.dir, { outDir: out });
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: expired.cert, key: expired.key }), 'LIG_ERR_CERT_EXPIRED', 'CN=expired');
      throwsCert(() => loadTlsMaterial({ ca: pki.ca, cert: early.cert, key: early.key }), 'LIG_ERR_CERT_NOT_YET_VALID', 'CN=not-yet-valid');
    });

    it('checks validity at the time given, the CA included', () => {
      const paths = { ca: pki.ca, cert: pki.probe.cert, key: pki.probe.key };
      throwsCert(() => loadTlsMaterial(paths, { now: new Date(Date.now() + 900 * DAY_MS) }), 'LIG_ERR_CERT_EXPIRED', pki.probe.cert);
      throwsCert(() => loadTlsMaterial({ ...paths, cert: pki.ca, key: pki.caKey }, { now: new Date(Date.now() + 4000 * DAY_MS) }), 'LIG_ERR_CERT_EXPIRED');
      throwsCert(() => loadTlsMaterial(paths, { now: new Date(Date.now() - DAY_MS) }), 'LIG_ERR_CERT_NOT_YET_VALID');
    });
  });

  describe('writing sets', () => {
    it('refuses to overwrite without force, and replaces (still 0600) with it', async () => {
      const dir = path.join(tmp, 'rewrite');
      await initPki({ dir, bits: 2048, probes: [] });
      const before = fs.readFileSync(path.join(dir, 'ca-key.pem'));
      await rejectsCert(initPki({ dir, bits: 2048 }), 'LIG_ERR_CERT_EXISTS');
      assert.deepEqual(fs.readFileSync(path.join(dir, 'ca-key.pem')), before);
      fs.chmodSync(path.join(dir, 'mediator-key.pem'), 0o644);
      await initPki({ dir, bits: 2048, force: true });
      assert.notDeepEqual(fs.readFileSync(path.join(dir, 'ca-key.pem')), before);
      assert.equal(mode(path.join(dir, 'mediator-key.pem')), 0o600);
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
      loadTlsMaterial({ ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'probe-1.pem'), key: path.join(dir, 'probe-1-key.pem') });
    });

    it('refuses a probe name twice, or one taken by a role', async () => {
      await rejectsCert(initPki({ dir: path.join(tmp, 'dup'), bits: 2048, probes: ['p', 'p'] }), 'LIG_ERR_CERT_OPTIONS');
      await rejectsCert(initPki({ dir: path.join(tmp, 'dup'), bits: 2048, probes: ['mediator'] }), 'LIG_ERR_CERT_OPTIONS');
      assert.equal(fs.existsSync(path.join(tmp, 'dup')), false);
    });

    it('keeps the CA key apart with caDir, and issues from it', async () => {
      const dir = path.join(tmp, 'site');
      const caDir = path.join(tmp, 'offline-ca');
      const r = await initPki({ dir, caDir, bits: 2048 });
      assert.equal(fs.existsSync(path.join(dir, 'ca-key.pem')), false);
      assert.equal(r.ca.key, path.join(caDir, 'ca-key.pem'));
      assert.deepEqual(fs.readFileSync(path.join(dir, 'ca.pem')), fs.readFileSync(path.join(caDir, 'ca.pem')));
      await rejectsCert(issueInto({ dir, role: 'probe', name: 'probe-2', bits: 2048 }), 'LIG_ERR_CERT_FILE');
      const leaf = await issueInto({ dir, caDir, role: 'probe', name: 'probe-2', bits: 2048 });
      assert.deepEqual(identityOf(x509(leaf.cert)), { name: 'probe-2', role: 'probe' });
      loadTlsMaterial({ ca: path.join(dir, 'ca.pem'), cert: leaf.cert, key: leaf.key });
      await rejectsCert(issueInto({ dir, caDir, role: 'probe', name: 'probe-2', bits: 2048 }), 'LIG_ERR_CERT_EXISTS');
      await rejectsCert(issueInto({ dir, caDir, role: 'probe', bits: 2048 }), 'LIG_ERR_CERT_OPTIONS');
      // A directory whose ca.pem is another CA would get a leaf it cannot verify: refused.
      await rejectsCert(issueInto({ dir: pki.dir, caDir, role: 'probe', name: 'stray', bits: 2048 }), 'LIG_ERR_CERT_OPTIONS');
      assert.equal(fs.existsSync(path.join(pki.dir, 'stray.pem')), false);
      assert.equal(fs.existsSync(caPaths(caDir).key), true);
    });
  });
});

/**
 * `lig certs init` and `lig certs issue` through runCli, into temp dirs: the files of the
 * layout, key modes, what is printed (paths, never key contents), refusals and exit codes.
 */
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { identityOf, loadTlsMaterial } from '../../src/pki';


interface Run {
  code: number;
  out: string;
  err: string;
}

async function lig(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Asserts nothing printed holds key material: no PEM key header, no line of any key file. */
function assertNoKeyMaterial(r: Run, dir: string): void {
  const printed = r.out + r.err;
  assert.ok(!printed.includes('PRIVATE KEY'), printed);
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('-key.pem'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'latin1').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      assert.ok(!printed.includes(line), `a line of ${f} was printed`);
    }
  }
}

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('lig certs', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-certs-cli-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('init writes the CA and every leaf, keys 0600, and prints paths only', async () => {
    const dir = path.join(tmp, 'certs');
    const r = await lig('certs', 'init', '--dir', dir, '--bits', '2048', '--probe', 'probe-1', '--probe', 'probe-2', '--san', 'mediator.example.net', '--san', '192.0.2.10', '--days', '30');
    assert.equal(r.code, 0, r.err);
    const names = ['ca', 'mediator', 'lemf', 'admin', 'auditor', 'probe-1', 'probe-2'];
    assert.deepEqual(fs.readdirSync(dir).sort(), names.flatMap((n) => [`${n}-key.pem`, `${n}.pem`]).sort());
    for (const n of names) {
      assert.equal(mode(path.join(dir, `${n}-key.pem`)), 0o600, n);
      assert.ok(r.out.includes(path.join(dir, `${n}.pem`)), `${n}.pem not printed`);
      assert.ok(r.out.includes(path.join(dir, `${n}-key.pem`)), `${n}-key.pem not printed`);
    }
    assertNoKeyMaterial(r, dir);
    const m = loadTlsMaterial({ ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'probe-2.pem'), key: path.join(dir, 'probe-2-key.pem') });
    assert.deepEqual(identityOf(m.leaf), { name: 'probe-2', role: 'probe' });
    const med = new X509Certificate(fs.readFileSync(path.join(dir, 'mediator.pem')));
    assert.equal(med.subjectAltName, 'DNS:mediator.example.net, IP Address:192.0.2.10');
    const days = (new Date(med.validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `valid for ${days} days`);
  });

  it('init refuses to overwrite keys without --force, and replaces them with it', async () => {
    const dir = path.join(tmp, 'again');
    assert.equal((await lig('certs', 'init', '--dir', dir, '--bits', '2048')).code, 0);
    const key = fs.readFileSync(path.join(dir, 'ca-key.pem'));
    const refused = await lig('certs', 'init', '--dir', dir, '--bits', '2048');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /\[LIG_ERR_CERT_EXISTS\]/);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'ca-key.pem')), key);
    const forced = await lig('certs', 'init', '--dir', dir, '--bits', '2048', '--force');
    assert.equal(forced.code, 0, forced.err);
    assert.notDeepEqual(fs.readFileSync(path.join(dir, 'ca-key.pem')), key);
    assertNoKeyMaterial(forced, dir);
  });

  it('init --ca-dir keeps the CA key out of --dir; issue adds a probe from it', async () => {
    const dir = path.join(tmp, 'site');
    const caDir = path.join(tmp, 'ca');
    const r = await lig('certs', 'init', '--dir', dir, '--ca-dir', caDir, '--bits', '2048');
    assert.equal(r.code, 0, r.err);
    assert.equal(fs.existsSync(path.join(dir, 'ca-key.pem')), false);
    assert.equal(mode(path.join(caDir, 'ca-key.pem')), 0o600);
    const issued = await lig('certs', 'issue', '--dir', dir, '--ca-dir', caDir, '--role', 'probe', '--name', 'probe-2', '--bits', '2048');
    assert.equal(issued.code, 0, issued.err);
    assert.ok(issued.out.includes(path.join(dir, 'probe-2-key.pem')));
    assertNoKeyMaterial(issued, dir);
    assertNoKeyMaterial(r, caDir);
    assert.equal(mode(path.join(dir, 'probe-2-key.pem')), 0o600);
    const m = loadTlsMaterial({ ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'probe-2.pem'), key: path.join(dir, 'probe-2-key.pem') });
    assert.deepEqual(identityOf(m.leaf), { name: 'probe-2', role: 'probe' });
    const again = await lig('certs', 'issue', '--dir', dir, '--ca-dir', caDir, '--role', 'probe', '--name', 'probe-2', '--bits', '2048');
    assert.equal(again.code, 1);
    assert.match(again.err, /\[LIG_ERR_CERT_EXISTS\]/);
  });

  it('issue without a CA in the directory says which file is missing', async () => {
    const dir = path.join(tmp, 'empty');
    const r = await lig('certs', 'issue', '--dir', dir, '--role', 'lemf', '--bits', '2048');
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(path.join(dir, 'ca.pem')), r.err);
    assert.match(r.err, /\[LIG_ERR_CERT_FILE\]/);
  });

  it('refuses bad command lines with usage errors (exit 2)', async () => {
    const dir = path.join(tmp, 'usage');
    const cases = [
      ['certs'],
      ['certs', 'frobnicate'],
      ['certs', 'init'],
      ['certs', 'init', '--dir', dir, '--bits', 'many'],
      ['certs', 'init', '--dir', dir, '--nope'],
      ['certs', 'init', '--dir', dir, 'extra'],
      ['certs', 'issue', '--dir', dir, '--role', 'root'],
    ];
    for (const argv of cases) {
      const r = await lig(...argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    }
    assert.equal(fs.existsSync(dir), false);
  });

  it('refuses bad values with precise errors before writing anything', async () => {
    const dir = path.join(tmp, 'values');
    for (const [flag, value] of [['--bits', '1024'], ['--days', '0'], ['--san', 'not a name'], ['--probe', '../x']] as const) {
      const r = await lig('certs', 'init', '--dir', dir, flag, value);
      assert.equal(r.code, 1, `${flag} ${value}`);
      assert.match(r.err, /\[LIG_ERR_CERT_OPTIONS\]/);
    }
    assert.equal(fs.existsSync(dir), false);
  });

  it('prints help', async () => {
    const r = await lig('certs', 'init', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /--ca-dir/);
    assert.match(r.out, /--probe/);
  });
});

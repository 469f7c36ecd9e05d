/**
 * `lig decode` as a real process: the CLI's main() from src/ (loaded through tsx, so the
 * test never runs a stale dist/), real stdout and exit code, a FILE and stdin (`-`).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecordContext, Stamp, ipccPdu, keepAlivePdu } from '../../src/etsi';
import { REPO_ROOT } from '../helpers/shared';

const CTX: RecordContext = { liid: 'LIID-P', operatorId: 'OP', cin: 3 };
const T: Stamp = { seconds: 1_700_000_000, micros: 1 };
const PACKET = Buffer.from('4500001c000040004011000ac0000201c6336407d43100350008abcd', 'hex');

/** Runs `lig ARGV` as bin/lig would, from src/; feeds `stdin` and waits for the exit. */
function ligProcess(argv: string[], stdin?: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', "require('./src/cli/main').main(process.argv.slice(1))", '--', ...argv], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

describe('lig decode as a process', () => {
  let dir = '';
  const parts = [ipccPdu(CTX, 0, T, PACKET, 'toTarget'), keepAlivePdu({ ...CTX, cin: undefined }, 1, T), ipccPdu(CTX, 2, T, PACKET, 'fromTarget')];
  const stream = Buffer.concat(parts);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-decode-proc-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes a FILE to JSON lines on stdout, exit 0', async () => {
    const f = path.join(dir, 'hi3.ber');
    fs.writeFileSync(f, stream);
    const r = await ligProcess(['decode', f, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const recs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(recs.map((x) => [x.index, x.offset, x.length]), [[0, 0, parts[0]!.length], [1, parts[0]!.length, parts[1]!.length], [2, parts[0]!.length + parts[1]!.length, parts[2]!.length]]);
    assert.equal(recs[2].pdu.payload.cCPayloadSequence[0].cCContents.iPCC.iPCCContents.iPPackets, PACKET.toString('hex'));
  });

  it('reads stdin for FILE -, and exits 1 when a PDU is cut off', async () => {
    const ok = await ligProcess(['decode', '-'], stream);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.split('\n').filter((l) => l.startsWith('PDU ')).length, 3);
    const cut = await ligProcess(['decode', '--json', '-'], stream.subarray(0, stream.length - 1));
    assert.equal(cut.code, 1);
    const last = JSON.parse(cut.stdout.trimEnd().split('\n').pop()!);
    assert.equal(last.error.code, 'LIG_ERR_BER_TRUNCATED');
    assert.match(cut.stderr, /1 of 3 PDUs did not decode/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await ligProcess(['decode', '--no-such-flag', '-']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag --no-such-flag/);
  });
});

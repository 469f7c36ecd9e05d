/**
 * The admin API's pure parts: the role table (every call for admin, reading for auditor,
 * nothing for the other roles), targets and warrants between proto and the model, and the
 * CLI's flags (targets, times, the certificate flags).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { isLigError } from '../../src/errors';
import * as pb from '../../src/gen/lig/v1/admin';
import { ALL_CALLS, READ_CALLS, authorize, targetOf, targetToProto, warrantToProto } from '../../src/provisioning/admin-service';
import { ADMIN_FLAGS, adminTlsPaths } from '../../src/cli/admin-flags';
import { parseArgs } from '../../src/cli/args';
import { targetFlag, targetName, timeFlag, warrantJson } from '../../src/cli/warrant';
import type { Warrant } from '../../src/provisioning';
import { ROLES } from '../../src/pki';
import { HOUR, T0, spec } from './provisioning-fixtures';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isLigError(e) ? e.code : 'not a lig error';
  }
};

describe('admin: roles, mapping and flags', () => {
  it('lets admin make every call, auditor only the reading ones, and no other role any', () => {
    assert.deepEqual([...ALL_CALLS].sort(), ['activateWarrant', 'auditLog', 'createWarrant', 'getWarrant', 'listAgencies', 'listProbes', 'listWarrants', 'modifyWarrant', 'stopWarrant']);
    for (const role of ROLES) {
      for (const call of ALL_CALLS) {
        const allowed = role === 'admin' || (role === 'auditor' && READ_CALLS.has(call));
        const got = code(() => authorize({ name: `${role}-1`, role }, call));
        assert.equal(got, allowed ? undefined : 'LIG_ERR_ADMIN_DENIED', `${role} ${call}`);
      }
    }
    assert.deepEqual(authorize({ name: 'alice', role: 'admin' }, 'createWarrant'), { name: 'alice', role: 'admin' });
    assert.deepEqual(authorize({ name: 'audrey', role: 'auditor' }, 'auditLog'), { name: 'audrey', role: 'auditor' });
  });

  it('maps targets both ways; an IP host has no prefix in text, a prefix keeps it', () => {
    const cases: [pb.WarrantTarget, string][] = [
      [{ kind: { $case: 'ip', ip: '192.0.2.7' } }, 'ip:192.0.2.7'],
      [{ kind: { $case: 'ip', ip: '2001:db8::/56' } }, 'ip:2001:db8::/56'],
      [{ kind: { $case: 'mac', mac: '00:11:22:aa:bb:cc' } }, 'mac:00:11:22:aa:bb:cc'],
      [{ kind: { $case: 'username', username: 'alice' } }, 'user:alice'],
      [{ kind: { $case: 'email', email: 'a@example.org' } }, 'email:a@example.org'],
    ];
    for (const [t, text] of cases) {
      assert.deepEqual(targetToProto(targetOf(t)), t);
      assert.equal(targetName(t), text);
      assert.deepEqual(targetFlag(text), t);
    }
    assert.deepEqual(targetOf({ kind: { $case: 'ip', ip: '192.0.2.7' } }), { kind: 'ip', family: 4, address: '192.0.2.7', prefixLength: 32 });
    // An invalid address is handed to the store's validation as it is (it names the problem there).
    assert.deepEqual(targetOf({ kind: { $case: 'ip', ip: '192.0.2.0/8' } }), { kind: 'ip', family: 4, address: '192.0.2.0', prefixLength: 8 });
    assert.equal(code(() => targetOf({ kind: undefined })), 'LIG_ERR_ADMIN_REQUEST');
  });

  it('maps a warrant to proto and to the CLI\'s JSON with every field', () => {
    const w: Warrant = {
      ...spec({ startTime: new Date(T0 + HOUR), probes: ['probe-1'] }),
      id: 7,
      state: 'stopped',
      version: 3,
      createdAt: new Date(T0),
      createdBy: 'alice',
      activatedAt: new Date(T0 + 1),
      activatedBy: 'alice',
      endedAt: new Date(T0 + 2),
      endedBy: 'bob',
      endReason: 'order revoked',
    };
    const p = warrantToProto(w);
    assert.equal(p.state, pb.WarrantState.WARRANT_STATE_STOPPED);
    assert.equal(p.type, pb.InterceptType.INTERCEPT_TYPE_CONTENT);
    const j = warrantJson(pb.Warrant.decode(pb.Warrant.encode(p).finish()));
    assert.deepEqual(j, {
      id: 7,
      liid: w.liid,
      agency: 'fbi',
      country: 'US',
      type: 'content',
      state: 'stopped',
      version: 3,
      targets: w.targets.map((t) => targetName(targetToProto(t))),
      startTime: new Date(T0 + HOUR).toISOString(),
      endTime: w.endTime.toISOString(),
      compliance: w.compliance,
      probes: ['probe-1'],
      createdAt: new Date(T0).toISOString(),
      createdBy: 'alice',
      activatedAt: new Date(T0 + 1).toISOString(),
      activatedBy: 'alice',
      endedAt: new Date(T0 + 2).toISOString(),
      endedBy: 'bob',
      endReason: 'order revoked',
    });
  });

  it('reads TIME flags: ISO 8601 with a zone, now, +DURATION; anything else is a usage error', () => {
    const now = Date.UTC(2030, 0, 1);
    assert.equal(timeFlag('end', '2030-01-02T00:00:00Z', now), BigInt(Date.UTC(2030, 0, 2)));
    assert.equal(timeFlag('end', '2030-01-02T02:00+02:00', now), BigInt(Date.UTC(2030, 0, 2)));
    assert.equal(timeFlag('end', '2030-01-01T00:00:00.250Z', now), BigInt(now + 250));
    assert.equal(timeFlag('end', 'now', now), BigInt(now));
    assert.equal(timeFlag('end', '+90s', now), BigInt(now + 90_000));
    assert.equal(timeFlag('end', '+1h30m', now), BigInt(now + 5_400_000));
    for (const bad of ['2030-01-02', '2030-01-02T00:00:00', 'tomorrow', '+', '+5', '']) {
      assert.equal(code(() => timeFlag('end', bad, now)), 'LIG_ERR_USAGE', bad);
    }
    for (const bad of ['192.0.2.7', 'ip:', 'phone:123', ':x']) assert.equal(code(() => targetFlag(bad)), 'LIG_ERR_USAGE', bad);
  });

  it('takes the client certificate as --certs DIR [--name] or as three files, never a mix', () => {
    const parse = (...argv: string[]) => parseArgs(argv, ADMIN_FLAGS);
    assert.deepEqual(adminTlsPaths(parse('--certs', 'c')), { ca: path.join('c', 'ca.pem'), cert: path.join('c', 'admin.pem'), key: path.join('c', 'admin-key.pem') });
    assert.deepEqual(adminTlsPaths(parse('--certs', 'c', '--name', 'auditor')).cert, path.join('c', 'auditor.pem'));
    assert.deepEqual(adminTlsPaths(parse('--ca', 'a', '--cert', 'b', '--key', 'k')), { ca: 'a', cert: 'b', key: 'k' });
    for (const argv of [[], ['--ca', 'a'], ['--certs', 'c', '--key', 'k'], ['--name', 'admin'], ['--certs', 'c', '--name', '../x']]) {
      assert.equal(code(() => adminTlsPaths(parse(...argv))), 'LIG_ERR_USAGE', argv.join(' '));
    }
  });
});

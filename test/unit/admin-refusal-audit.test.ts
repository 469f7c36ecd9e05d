/**
 * RefusalAudit on a real audit log, with a clock the test moves: the first refusal of a kind
 * is on the log at once, a flood of the same kind costs one more entry per window (with the
 * count), different kinds (another call, another peer) are not merged, and close() writes
 * what was still being counted. The log verifies throughout.
 */
import { strict as assert } from 'node:assert';
import { AuditLog } from '../../src/provisioning';
import { REFUSAL_AUDIT_WINDOW_MS, RefusalAudit, type Refusal } from '../../src/provisioning/refusal-audit';
import { ManualClock } from '../helpers/manual-clock';
import { T0, dataDirHooks } from './provisioning-fixtures';

const denied = (call: string, peer = 'audrey'): Refusal => ({ action: 'admin.denied', peer, role: 'auditor', call, code: 'LIG_ERR_ADMIN_DENIED', address: '127.0.0.1:40000' });

describe('admin: refusals on the audit log', () => {
  const h = dataDirHooks();
  let clock: ManualClock;
  let audit: AuditLog;
  let refusals: RefusalAudit;

  beforeEach(() => {
    clock = new ManualClock(T0);
    audit = h.track(AuditLog.open(h.dir(), { clock: () => new Date(clock.now()) }));
    refusals = new RefusalAudit(audit, { clock });
  });

  const logged = () => audit.entries().map((e) => ({ action: e.action, subject: e.subject, actor: e.actor, after: e.after as Record<string, unknown> }));

  it('writes the first refusal at once, and a flood of the same as one entry with its count when the window closes', () => {
    refusals.refused(denied('createWarrant'));
    assert.deepEqual(logged(), [
      { action: 'admin.denied', subject: 'peer/audrey', actor: 'mediator', after: { role: 'auditor', call: 'createWarrant', code: 'LIG_ERR_ADMIN_DENIED', count: 1, address: '127.0.0.1:40000' } },
    ]);
    for (let i = 0; i < 500; i++) refusals.refused(denied('createWarrant'));
    assert.equal(logged().length, 1, 'the flood is counted, not written');
    clock.advance(REFUSAL_AUDIT_WINDOW_MS);
    const after = logged();
    assert.equal(after.length, 2);
    assert.deepEqual({ ...after[1]!.after, from: undefined, to: undefined }, { role: 'auditor', call: 'createWarrant', code: 'LIG_ERR_ADMIN_DENIED', count: 500, address: '127.0.0.1:40000', coalesced: true, from: undefined, to: undefined });
    refusals.refused(denied('createWarrant'));
    assert.equal(logged().length, 3, 'after the window the next refusal is written at once again');
    assert.equal(refusals.total, 502);
    assert.ok(audit.verify().ok);
  });

  it('keeps kinds apart: each call and each peer has its own entry', () => {
    refusals.refused(denied('createWarrant'));
    refusals.refused(denied('activateWarrant'));
    refusals.refused(denied('createWarrant', 'mallory'));
    refusals.refused({ action: 'tls.refused', peer: 'lemf', role: 'lemf', call: 'ingest', code: 'LIG_ERR_INGEST_NOT_PROBE' });
    assert.deepEqual(
      logged().map((e) => [e.action, e.subject, e.after.call]),
      [
        ['admin.denied', 'peer/audrey', 'createWarrant'],
        ['admin.denied', 'peer/audrey', 'activateWarrant'],
        ['admin.denied', 'peer/mallory', 'createWarrant'],
        ['tls.refused', 'peer/lemf', 'ingest'],
      ],
    );
  });

  it('writes what it was still counting at close(), and nothing more after it', () => {
    refusals.refused(denied('stopWarrant'));
    refusals.refused(denied('stopWarrant'));
    refusals.refused(denied('stopWarrant'));
    refusals.close();
    assert.deepEqual(logged().map((e) => e.after.count), [1, 2]);
    assert.deepEqual(clock.pending(), [], 'no timer left behind');
    refusals.refused(denied('stopWarrant'));
    assert.equal(logged().length, 2);
  });

  it('names a certificate without a lig identity peer/unknown', () => {
    refusals.refused({ action: 'tls.refused', peer: undefined, role: undefined, call: 'admin', code: 'LIG_ERR_CERT_IDENTITY' });
    assert.deepEqual(logged()[0]!.subject, 'peer/unknown');
    assert.equal(logged()[0]!.after.role, null);
  });
});

/**
 * Child of the provisioning crash test: creates and activates a warrant in the data directory
 * given, then stops it but dies by SIGKILL right after the stop's audit entry is durable and
 * before the warrant row and the anchor are committed (the one window the store documents).
 */
import { AuditLog, WarrantStore } from '../../src/provisioning';
import { ADMIN, AGENCIES, TestClock, spec } from './provisioning-fixtures';

const dir = process.argv[2]!;
const clock = new TestClock();
const audit = AuditLog.open(dir, { clock: clock.now });
const store = WarrantStore.open(dir, { agencies: AGENCIES, audit, clock: clock.now });
const w = store.create(spec(), ADMIN);
store.activate(w.id, ADMIN);
const appendThen = audit.appendThen.bind(audit);
// Fault injection at the documented point: the entry is written and fsync'ed, then the process dies.
audit.appendThen = (e, _then) =>
  appendThen(e, () => {
    process.kill(process.pid, 'SIGKILL');
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  });
store.stop(w.id, ADMIN, 'crash test');
process.stdout.write('not killed\n');

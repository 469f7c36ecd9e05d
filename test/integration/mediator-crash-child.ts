/**
 * Child process of mediator-crash.test.ts: runs the mediator from the config file `argv[2]`
 * (no gRPC: it plays the ingest server itself) and accepts batches `argv[3]`..`argv[4]` of
 * probe-1, several in flight, printing "acked <id>" as each becomes acknowledged (every
 * batch up to it durable, as the server acknowledges). After the last one it waits until the
 * agency has confirmed everything, closes and prints "done". It is killed mid-stream by the
 * test. Batch contents are a function of the batch id (see crashBatch).
 */
import { loadMediatorConfig } from '../../src/config';
import { Task_Type } from '../../src/gen/lig/v1/ingest';
import { Mediator } from '../../src/mediation/mediator';
import { runChild } from '../helpers/crash-child';
import { crashBatch } from './mediator-crash-batches';

const IN_FLIGHT = 8;

async function main(): Promise<void> {
  const [file, fromArg, toArg] = process.argv.slice(2);
  if (!file || !fromArg || !toArg) throw new Error('usage: mediator-crash-child CONFIG FROM TO');
  const from = Number(fromArg);
  const to = Number(toArg);
  const mediator = await Mediator.start(loadMediatorConfig(file), {
    ingest: false,
    deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 },
    log: (level, m) => process.stderr.write(`child ${level}: ${m}\n`),
  });
  const tasks = mediator.handler.tasksFor('probe-1').tasks;
  const cc = tasks.find((t) => t.type === Task_Type.TYPE_CONTENT)!.taskId;
  const iri = tasks.find((t) => t.type === Task_Type.TYPE_IRI_ONLY)!.taskId;
  process.stdout.write('ready\n');

  const done = new Set<number>();
  let acked = from - 1;
  const inFlight = new Set<Promise<void>>();
  for (let id = from; id <= to; id++) {
    const p = mediator.handler.accept('probe-1', crashBatch(id, cc, iri), 'spool-1').then(() => {
      done.add(id);
      while (done.has(acked + 1)) {
        done.delete(++acked);
        process.stdout.write(`acked ${acked}\n`);
      }
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  // Wait for the agency to confirm everything (the LEMF answered keep-alives after it).
  while (mediator.status().agencies.some((a) => a.journals.some((j) => j.backlogRecords > 0))) await new Promise((r) => setTimeout(r, 20));
  await mediator.close();
  process.stdout.write('done\n');
}

runChild('mediator-crash-child', main);

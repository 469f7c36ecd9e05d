/**
 * What the ingest server (ingest-server.ts) needs from the mediator core: the task lists it
 * pushes to probes, and somewhere to make batches durable. The server owns the transport
 * (mTLS, identity, limits, ordering, acks, backpressure); the core owns meaning and storage.
 */
import type { Batch, TaskList } from '../gen/lig/v1/ingest';

export interface IngestHandler {
  /** The complete task list for `probe` (its certificate name): only that probe's tasks. */
  tasksFor(probe: string): TaskList;

  /**
   * Calls `listener(probe)` whenever that probe's task list changed; the server then sends
   * tasksFor(probe) to it if it is connected. Returns a function that unsubscribes.
   */
  onTasksChanged(listener: (probe: string) => void): () => void;

  /**
   * Makes every record built from `batch` durable; resolves only once they are. Called once
   * per new batch id, in batch order, possibly before earlier calls have resolved (up to the
   * server's backpressure limits): the order of calls is the order of the batches. A batch is
   * acknowledged to the probe only after accept() resolved for it and every batch before it.
   * A rejection ends the probe's stream with the status mapped from the error (status.ts);
   * the probe keeps the batch and sends it again after reconnecting.
   *
   * `spool` is the probe's spool id (Hello.spool_id): batch ids are numbered per spool, and a
   * new spool starts again at 1, so a batch is identified by (probe, spool, batch id).
   */
  accept(probe: string, batch: Batch, spool: string): Promise<void>;

  /**
   * Optional: the first batch id of `probe`'s spool `spool` the core has not made durable (its
   * durable watermark + 1; 1n for a spool it does not know). Batches below it are acknowledged
   * without being passed to accept() again, so a resend after a mediator restart makes no
   * duplicate. Answering for the probe's previous spool would drop its new batches: key it
   * by spool.
   */
  firstUnacked?(probe: string, spool: string): bigint;
}

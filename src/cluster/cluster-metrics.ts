// One /metrics for all workers. With FERRY_WORKERS > 1 every scrape lands on whichever worker
// the primary hands its connection to, so a worker answering with its own counters would make
// every counter jump between the workers' values from one scrape to the next (and Prometheus
// would read each drop as a restart). Instead the worker that takes the scrape asks the
// primary, the primary gathers every worker's registry over the cluster's IPC channel
// (prom-client's AggregatorRegistry: counters and histograms summed, gauges by the aggregator
// each declares) and sends the one text back.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { MetricsUnavailableError } from '../metrics.ts';

const ASK = 'ferry:metrics-ask';
const ANSWER = 'ferry:metrics-answer';

/** prom-client waits 5 s for the workers itself; a little longer here covers the IPC both ways. */
const ANSWER_TIMEOUT_MS = 7_000;

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

const isAsk = (m: unknown): m is Ask => typeof m === 'object' && m !== null && (m as Ask).type === ASK && typeof (m as Ask).id === 'number';
const isAnswer = (m: unknown): m is Answer => typeof m === 'object' && m !== null && (m as Answer).type === ANSWER && typeof (m as Answer).id === 'number';

/** In the primary: answer the workers' requests for every worker's metrics in one text. */
export function gatherWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isAsk(message)) return;
    const reply = (answer: Omit<Answer, 'type' | 'id'>) => {
      // The asking worker may have died meanwhile: nobody is left to answer.
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer } satisfies Answer);
    };
    aggregator.clusterMetrics().then(
      (body) => reply({ body }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

/**
 * In a worker: offer this registry to the primary's gatherings, and return how to ask for all
 * of them. Only one registry per process can be offered: a worker runs one Ferry.
 */
export function clusterMetricsOf(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes prom-client answer the primary's requests in this worker.
  new AggregatorRegistry();
  const waiting = new Map<number, { resolve: (body: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isAnswer(message)) return;
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    clearTimeout(w.timer);
    if (message.body !== undefined) w.resolve(message.body);
    else w.reject(new MetricsUnavailableError(`the workers' metrics could not be gathered: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const fail = (why: string) => {
        clearTimeout(timer);
        waiting.delete(id);
        reject(new MetricsUnavailableError(`the workers' metrics could not be gathered: ${why}`));
      };
      const timer = setTimeout(() => fail('the primary did not answer'), ANSWER_TIMEOUT_MS);
      timer.unref();
      waiting.set(id, { resolve, reject, timer });
      // The channel is gone only when the primary is: this worker is about to be stopped.
      if (!process.connected) fail('the primary is gone');
      else process.send!({ type: ASK, id } satisfies Ask, (err: Error | null) => err && fail(err.message));
    });
}

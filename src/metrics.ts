// Every Prometheus metric Ferry exports, in one place: the names an operator's dashboards and
// alerts depend on (all prefixed ferry_), and the few methods the rest of the code calls to move
// them. One registry per Ferry instance (a service, never module state): tests run several
// Ferrys in one process, and each must count only its own work.
//
// Labels never carry a raw URL, a file id or a user id: URLs hold tokens and signs, and ids
// would make one series per user. Routes are labelled by their template (/file/slot/:slotId).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './metric-series.ts';
import type { StorageFailure, StorageLayer } from './storage-error.ts';
import type { WorkQueue } from './primitives/work-queue.ts';

/** What a download answered: the outcomes of the download pipeline, plus its refusals. */
export type DownloadOutcomeLabel = 'bytes' | 'redirect' | 'not_modified' | 'refused' | 'failed';
/** Which download endpoint: /file/download/chat, /file/download/avatar, /file/blob/… */
export type DownloadEndpoint = 'chat' | 'avatar' | 'blob';
export type DerivativeResult = 'made' | 'reused' | 'failed';
/** Where a membership answer came from (ferry_membership_lookups_total). */
export type MembershipLookupResult = 'hit' | 'table' | 'asked' | 'stale' | 'unavailable';
export type MembershipAskOutcome = 'member' | 'not_member' | 'unavailable';

/** Seconds: requests are mostly fast metadata answers, some stream big files for minutes. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds: an IM server on the same network answers in milliseconds; the timeout defaults to 2 s. */
const ASK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds: a thumbnail takes tens of milliseconds, a video cover or voice conversion seconds. */
const MEDIA_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The status label of each status class, made once rather than per request. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** The metrics could not be gathered from every worker (one died mid-scrape, or did not answer). */
export class MetricsUnavailableError extends Error {}

export class FerryMetrics {
  readonly registry = new Registry();

  // --- HTTP (moved by every request: metric-series.ts, not prom-client's own types) ---
  private readonly requests = this.hot(
    new SeriesCounter('ferry_http_requests_total', 'HTTP requests answered, by route template, method and status class (2xx, 3xx, 4xx, 5xx)', ['route', 'method', 'status']),
  );
  private readonly requestSeconds = this.hot(
    new SeriesHistogram(
      'ferry_http_request_duration_seconds',
      'Time from a request arriving to its answer being sent, by route template and method',
      ['route', 'method'],
      REQUEST_BUCKETS,
    ),
  );

  // --- uploads ---
  private readonly uploadFiles = new Counter({
    name: 'ferry_upload_files_total',
    help: 'Uploads completed (the record turned ready), by Lanying file_type (avatar-user, avatar-group for avatars)',
    labelNames: ['file_type'] as const,
    registers: [this.registry],
  });
  private readonly uploadBytes = new Counter({
    name: 'ferry_upload_bytes_total',
    help: 'Bytes of completed uploads, by Lanying file_type (avatar-user, avatar-group for avatars)',
    labelNames: ['file_type'] as const,
    registers: [this.registry],
  });

  // --- downloads (moved by every download) ---
  private readonly downloads = this.hot(
    new SeriesCounter(
      'ferry_downloads_total',
      'Download requests by endpoint and outcome: bytes (200/206), redirect (302), not_modified (304), refused (an error code or 416), failed (storage error)',
      ['endpoint', 'outcome'],
    ),
  );
  private readonly downloadBytes = this.hot(
    new SeriesCounter('ferry_download_bytes_total', 'Bytes of file bodies Ferry sent (redirected downloads are served by the store and not counted)', ['endpoint']),
  );

  // --- derivatives (thumbnails, covers, voice conversion) ---
  private readonly derivatives = new Counter({
    name: 'ferry_derivatives_total',
    help: 'Derivative requests by kind (image, video-frame, voice) and result: made, reused (already stored), failed',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  private readonly derivativeSeconds = new Histogram({
    name: 'ferry_derivative_duration_seconds',
    help: 'Time to make one derivative (copy, decode, encode, store), by kind; waiting in the queue not included',
    labelNames: ['kind'] as const,
    buckets: MEDIA_BUCKETS,
    registers: [this.registry],
  });

  // --- storage ---
  private readonly storageErrors = new Counter({
    name: 'ferry_storage_errors_total',
    help: 'Requests answered 10009 (or 500 on the admin API) because storage failed, by layer (database, store, scratch) and kind (busy, full, read-only, unavailable, failed; missing: a record whose bytes are gone)',
    labelNames: ['layer', 'kind'] as const,
    registers: [this.registry],
  });

  // --- membership (IM-server lookups and their cache) ---
  private readonly membershipLookups = new Counter({
    name: 'ferry_membership_lookups_total',
    help: "Membership questions of the access rules, by where the answer came from: hit (this node's half-second copy), table (Ferry's table: pushed or event-fed members, a fresh remembered IM answer, or no IM server to ask), asked (the IM server answered now), stale (the IM server did not answer; its last answer was used), unavailable (no usable answer: 60040)",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly lookupChildren: Partial<Record<MembershipLookupResult, { inc(): void }>> = {};
  private readonly membershipAsks = new Counter({
    name: 'ferry_membership_asks_total',
    help: "Questions Ferry sent to the operator's IM server, by outcome: member, not_member, unavailable (timeout, HTTP error, unreachable, or an answer that is not one)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly membershipAskSeconds = new Histogram({
    name: 'ferry_membership_ask_seconds',
    help: "Time the operator's IM server took to answer one membership question (timeouts included, at FERRY_MEMBERSHIP_TIMEOUT_MS)",
    buckets: ASK_BUCKETS,
    registers: [this.registry],
  });

  /** Register a metric of metric-series.ts, which prom-client's registry reads like its own. */
  private hot<M extends SeriesCounter | SeriesHistogram>(metric: M): M {
    this.registry.registerMetric(metric as unknown as Metric);
    return metric;
  }

  /** the exposition text: this registry's, or every worker's together (cluster/cluster-metrics.ts) */
  private readonly gather: () => Promise<string>;

  /**
   * allWorkers: in a worker of FERRY_WORKERS > 1, how to gather every worker's metrics given
   * this one's registry, so that a scrape counts the whole Ferry whichever worker takes it.
   */
  constructor(opts: { mediaQueue?: WorkQueue; allWorkers?: (registry: Registry) => () => Promise<string> } = {}) {
    this.gather = opts.allWorkers ? opts.allWorkers(this.registry) : () => this.registry.metrics();
    // Process and event-loop metrics: CPU, memory, handles, GC, event-loop lag.
    collectDefaultMetrics({ register: this.registry, prefix: 'ferry_' });
    const queue = opts.mediaQueue;
    new Gauge({
      name: 'ferry_media_queue_waiting',
      help: 'Media jobs (decodes, ffmpeg runs) waiting for a slot; new ones are refused (60022) beyond FERRY_MEDIA_MAX_QUEUED',
      registers: [this.registry],
      collect() {
        this.set(queue?.queued ?? 0);
      },
    });
    new Gauge({
      name: 'ferry_media_queue_running',
      help: 'Media jobs running now (at most FERRY_MEDIA_CONCURRENCY)',
      registers: [this.registry],
      collect() {
        this.set(queue?.active ?? 0);
      },
    });
  }

  /** One answered request; route is the template, never the URL. */
  request(route: string, method: string, statusCode: number, seconds: number): void {
    this.requests.add(1, route, method, STATUS_CLASSES[Math.floor(statusCode / 100)] ?? `${Math.floor(statusCode / 100)}xx`);
    this.requestSeconds.observe(seconds, route, method);
  }

  uploadCompleted(fileType: string, bytes: number): void {
    this.uploadFiles.inc({ file_type: fileType });
    this.uploadBytes.inc({ file_type: fileType }, bytes);
  }

  download(endpoint: DownloadEndpoint, outcome: DownloadOutcomeLabel, bodyBytes = 0): void {
    this.downloads.add(1, endpoint, outcome);
    if (bodyBytes > 0) this.downloadBytes.add(bodyBytes, endpoint);
  }

  derivative(kind: string, result: DerivativeResult, seconds?: number): void {
    this.derivatives.inc({ kind, result });
    if (seconds !== undefined) this.derivativeSeconds.observe({ kind }, seconds);
  }

  /** A request failed on storage: a StorageError, or 'missing' for a record whose bytes are gone. */
  storageError(layer: StorageLayer, kind: StorageFailure | 'missing'): void {
    this.storageErrors.inc({ layer, kind });
  }

  /** One membership question of the access rules answered (or refused with 60040). */
  membershipLookup(result: MembershipLookupResult): void {
    // Bound children: a hit is counted on every group download, so skip the label hashing.
    (this.lookupChildren[result] ??= this.membershipLookups.labels(result)).inc();
  }

  /** One question sent to the IM server, and how long it took. */
  membershipAsk(outcome: MembershipAskOutcome, seconds: number): void {
    this.membershipAsks.inc({ outcome });
    this.membershipAskSeconds.observe(seconds);
  }

  /** The Prometheus text exposition of every metric (of every worker, when there are several). */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.gather() };
  }
}

// Each request's logger (req.log), made when the request first writes a line its level lets
// through rather than when the request arrives. fastify makes a pino child per request, and
// pino serializes the child's bindings (the request id) into it up front: that cost a 16 KiB
// download about 5% of its rate, although at the default level most requests log nothing
// (measured in alternating pairs, pinned as the benchmarks are). Lines look exactly as before:
// the child that writes them is the one fastify would have made.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger & Pick<Logger, 'isLevelEnabled'>,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** the child fastify would have made, made now */
  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  private write(level: Level, args: unknown[]): void {
    // The child has the parent's level (requestLogger makes no lazy one for another level).
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    (this.real()[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

/**
 * fastify's childLoggerFactory. `logger` is the one fastify gives it: Ferry's pino logger, wrapped
 * by fastify with its own serializers (the reply of "request completed" becomes its status
 * code), so every child must come from it. A route with a log level or serializers of its own
 * (Ferry has none) gets its child at once, as fastify would make it.
 */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const pinoLogger = logger as FastifyBaseLogger & Partial<Pick<Logger, 'isLevelEnabled'>>;
  if (options.level !== undefined || options.serializers !== undefined || typeof pinoLogger.isLevelEnabled !== 'function') {
    return logger.child(bindings, options);
  }
  return new LazyRequestLogger(pinoLogger as FastifyBaseLogger & Pick<Logger, 'isLevelEnabled'>, bindings, options);
}

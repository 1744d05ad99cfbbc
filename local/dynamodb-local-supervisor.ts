/**
 * Keeps DynamoDB Local's Java process under watch for the runtime's life.
 *
 * Java can die under the runtime (an OOM kill, a stray `kill -9`, a crash).
 * Left alone, every AWS call would fail with connection errors forever while
 * `/healthz` still said ok and clients waited for messages that never come.
 * So its `exit` is the signal: the death is logged once, as an error saying
 * what happened, and health turns unavailable with that reason. Then:
 *
 * - persisted tables (`--persist`): DynamoDB Local is started again on the
 *   same folder and the same port, so the DynamoDB front and the stream
 *   poller keep their endpoint, and the lease sweeper re-queues the requests
 *   that were in flight;
 * - tables in memory: they are gone with the process, and a runtime on empty
 *   tables would answer for requests it no longer knows, so the supervisor
 *   reports the loss (`lost`) and the runtime stops.
 */
import { type DynamoDbLocal, type DynamoDbLocalExit, type DynamoDbLocalOptions, startDynamoDbLocal } from './dynamodb-local';
import { describeError, type Logger, silentLogger } from './log';

/** Why DynamoDB Local is not serving, or `undefined` while it is. */
export type DynamoDbLocalUnavailability = string | undefined;

/** DynamoDB Local died and could not be brought back (its tables were in memory, or restarts failed). */
export class DynamoDbLocalLostError extends Error {
  override readonly name = 'DynamoDbLocalLostError';
}

export interface DynamoDbLocalSupervisorOptions {
  /** Tables persisted in this folder: a dead DynamoDB Local is restarted on it. In memory when absent. */
  readonly persistDir?: string;
  /** How many times a restart is tried before giving up (default 3). */
  readonly restartAttempts?: number;
  /** Pause between restart attempts (default 1 s). */
  readonly restartDelayMs?: number;
  readonly log?: Logger;
  /** Starts one DynamoDB Local (tests inject a stand-in). */
  readonly start?: (options: DynamoDbLocalOptions) => Promise<DynamoDbLocal>;
}

/**
 * A DynamoDB Local that is restarted when it dies on persisted data.
 *
 * @example
 * const dynamodb = await SupervisedDynamoDbLocal.start({ persistDir: '.streamer/db', log });
 * void dynamodb.lost.then((error) => shutDown(error));
 * dynamodb.unavailability(); // undefined while serving, else the reason
 */
export class SupervisedDynamoDbLocal {
  /** Settles (never rejects) if DynamoDB Local is gone for good; the runtime cannot serve after that. */
  readonly lost: Promise<DynamoDbLocalLostError>;
  private declareLost!: (error: DynamoDbLocalLostError) => void;
  private current: DynamoDbLocal;
  private down: DynamoDbLocalUnavailability;
  private stopped = false;
  private restarting?: Promise<void>;
  private readonly log: Logger;
  private readonly startOne: (options: DynamoDbLocalOptions) => Promise<DynamoDbLocal>;

  private constructor(
    first: DynamoDbLocal,
    private readonly options: DynamoDbLocalSupervisorOptions,
  ) {
    this.current = first;
    this.log = options.log ?? silentLogger;
    this.startOne = options.start ?? startDynamoDbLocal;
    this.lost = new Promise((resolve) => (this.declareLost = resolve));
    this.watch(first);
  }

  /** Starts DynamoDB Local and watches it. */
  static async start(options: DynamoDbLocalSupervisorOptions = {}): Promise<SupervisedDynamoDbLocal> {
    const start = options.start ?? startDynamoDbLocal;
    return new SupervisedDynamoDbLocal(await start({ persistDir: options.persistDir, log: options.log }), options);
  }

  /** The same endpoint for the runtime's whole life: a restart reuses the port. */
  get endpoint(): string {
    return this.current.endpoint;
  }

  get port(): number {
    return this.current.port;
  }

  /** The Java process serving now. */
  get pid(): number {
    return this.current.pid;
  }

  /** Why DynamoDB Local is not serving right now, or `undefined` while it is. */
  unavailability(): DynamoDbLocalUnavailability {
    return this.down;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting;
    await this.current.stop();
  }

  private watch(instance: DynamoDbLocal): void {
    void instance.exited.then((exit) => {
      if (this.stopped || instance !== this.current) return;
      this.onDeath(instance, exit);
    });
  }

  private onDeath(instance: DynamoDbLocal, exit: DynamoDbLocalExit): void {
    const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    const what = `DynamoDB Local (pid ${instance.pid}, port ${instance.port}) exited unexpectedly (${how})`;
    if (!this.options.persistDir) {
      this.down = `${what}; its tables were in memory and are lost`;
      // The one line that says what happened; the runtime stops on `lost`.
      this.log.error(`${what}: its tables were in memory and are lost, so the runtime stops (run it with --persist <dir> to survive this)`);
      this.declareLost(new DynamoDbLocalLostError(`${what}; its tables were in memory and are lost`));
      return;
    }
    this.down = `${what}; restarting it`;
    this.log.error(`${what}: restarting it on port ${instance.port} with the tables in ${this.options.persistDir}`);
    this.restarting = this.restart(instance.port, what).finally(() => (this.restarting = undefined));
  }

  private async restart(port: number, what: string): Promise<void> {
    const attempts = this.options.restartAttempts ?? 3;
    const began = Date.now();
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts && !this.stopped; attempt++) {
      try {
        const next = await this.startOne({ persistDir: this.options.persistDir, port, log: this.options.log });
        if (this.stopped) {
          await next.stop();
          return;
        }
        this.current = next;
        this.down = undefined;
        this.watch(next);
        this.log.info(`DynamoDB Local restarted (pid ${next.pid}, port ${port}) in ${Date.now() - began} ms; interrupted requests resume when their leases expire`);
        return;
      } catch (error) {
        lastError = error;
        this.log.warn(`restarting DynamoDB Local failed (attempt ${attempt} of ${attempts}): ${describeError(error)}`);
        await new Promise((resolve) => setTimeout(resolve, this.options.restartDelayMs ?? 1000));
      }
    }
    if (this.stopped) return;
    const reason = `${what} and could not be restarted: ${describeError(lastError)}`;
    this.down = reason;
    this.log.error(`${reason}; the runtime stops`);
    this.declareLost(new DynamoDbLocalLostError(reason));
  }
}

/**
 * The supervisor's decisions, with a stand-in for the Java process (the
 * real one is killed in tests/reliability/dynamodb-local-death.test.ts).
 */
import type { DynamoDbLocal, DynamoDbLocalExit, DynamoDbLocalOptions } from '../../local/dynamodb-local';
import { DynamoDbLocalLostError, SupervisedDynamoDbLocal } from '../../local/dynamodb-local-supervisor';
import { createLogger } from '../../local/log';
import { waitFor } from '../support/wait-for';

interface FakeJava extends DynamoDbLocal {
  die(exit: DynamoDbLocalExit): void;
  stopped: boolean;
}

function fakeStarter(failures = 0) {
  const started: Array<{ options: DynamoDbLocalOptions; java: FakeJava }> = [];
  let failuresLeft = failures;
  let nextPid = 100;
  const start = async (options: DynamoDbLocalOptions): Promise<DynamoDbLocal> => {
    if (started.length > 0 && failuresLeft-- > 0) throw new Error('port 8000 in use');
    let die!: (exit: DynamoDbLocalExit) => void;
    const exited = new Promise<DynamoDbLocalExit>((resolve) => (die = resolve));
    const port = options.port ?? 8000;
    const java: FakeJava = {
      endpoint: `http://127.0.0.1:${port}`,
      port,
      pid: nextPid++,
      exited,
      die,
      stopped: false,
      stop: async () => {
        java.stopped = true;
        die({ code: 0, signal: null });
      },
    };
    started.push({ options, java });
    return java;
  };
  return { start, started };
}

function recordingLog() {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', 'dynamodb', (_level, line) => lines.push(line)) };
}

it('restarts a persisted DynamoDB Local that died on the same port and folder, unavailable until it serves', async () => {
  const fake = fakeStarter();
  const { started } = fake;
  // What health said while the restart was under way.
  const whileRestarting: Array<string | undefined> = [];
  const start = (options: DynamoDbLocalOptions): Promise<DynamoDbLocal> => {
    if (started.length > 0) whileRestarting.push(dynamodb.unavailability());
    return fake.start(options);
  };
  const { lines, log } = recordingLog();
  const dynamodb: SupervisedDynamoDbLocal = await SupervisedDynamoDbLocal.start({ persistDir: '/data/db', start, log, restartDelayMs: 1 });
  expect(dynamodb.unavailability()).toBeUndefined();

  started[0]!.java.die({ code: null, signal: 'SIGKILL' });
  await waitFor(() => started.length === 2 && dynamodb.unavailability() === undefined, 2000);

  expect(whileRestarting).toEqual([expect.stringMatching(/DynamoDB Local \(pid 100, port 8000\) exited unexpectedly \(killed by SIGKILL\)/)]);

  expect(started[1]!.options).toMatchObject({ persistDir: '/data/db', port: 8000 });
  expect(dynamodb.pid).toBe(101);
  expect(dynamodb.endpoint).toBe('http://127.0.0.1:8000');
  expect(lines.filter((line) => line.includes('ERROR'))).toHaveLength(1);
  await dynamodb.stop();
  expect(started[1]!.java.stopped).toBe(true);
});

it('reports in-memory tables lost when DynamoDB Local dies, and does not restart it', async () => {
  const { start, started } = fakeStarter();
  const { lines, log } = recordingLog();
  const dynamodb = await SupervisedDynamoDbLocal.start({ start, log });

  started[0]!.java.die({ code: 137, signal: null });
  const lost = await dynamodb.lost;

  expect(lost).toBeInstanceOf(DynamoDbLocalLostError);
  expect(lost.message).toMatch(/exited unexpectedly \(exit code 137\); its tables were in memory and are lost/);
  expect(dynamodb.unavailability()).toMatch(/in memory/);
  expect(started).toHaveLength(1);
  expect(lines.filter((line) => line.includes('ERROR'))).toHaveLength(1);
  await dynamodb.stop();
});

it('gives up after the restart attempts and reports DynamoDB Local lost', async () => {
  const { start, started } = fakeStarter(5);
  const { log } = recordingLog();
  const dynamodb = await SupervisedDynamoDbLocal.start({ persistDir: '/data/db', start, log, restartAttempts: 2, restartDelayMs: 1 });

  started[0]!.java.die({ code: null, signal: 'SIGKILL' });
  const lost = await dynamodb.lost;

  expect(lost.message).toMatch(/could not be restarted: .*port 8000 in use/);
  expect(dynamodb.unavailability()).toBe(lost.message);
  await dynamodb.stop();
});

it('does not treat its own stop as a death', async () => {
  const { start, started } = fakeStarter();
  const { lines, log } = recordingLog();
  const dynamodb = await SupervisedDynamoDbLocal.start({ persistDir: '/data/db', start, log });
  await dynamodb.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(started).toHaveLength(1);
  expect(lines.filter((line) => line.includes('ERROR'))).toEqual([]);
  expect(dynamodb.unavailability()).toBeUndefined();
});

/**
 * Calling the runtime's emulated AWS APIs as a function would. Those APIs
 * answer only calls signed by a function's role session and allowed by its
 * policies, so a test that exercises them directly borrows the fixture
 * router's credentials (its `whoami` action) and runs on a manifest whose
 * router role also holds the grants the test needs: both explicit here.
 */
import type { DeploymentManifest } from '../../local/deployment';
import type { LocalRuntimeHandle } from './local-runtime';
import { withStatement } from './manifest-edits';
import { openSocket } from './socket-client';

export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The router role, plus the management API and the Invoke API on everything: what these tests call. */
export function grantFixtureCalls(manifest: DeploymentManifest): DeploymentManifest {
  return withStatement(manifest, 'router', {
    Sid: 'FixtureCallsFromTests',
    Effect: 'Allow',
    Action: ['execute-api:ManageConnections', 'lambda:InvokeFunction'],
    Resource: ['*'],
  });
}

/** The fixture router's session credentials, read through its `whoami` action. */
export async function fixtureRouterCredentials(runtime: LocalRuntimeHandle): Promise<SessionCredentials> {
  const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'fixture-caller', tenant: 'tests' })}`);
  try {
    socket.send({ id: 'whoami', action: 'whoami' });
    const answer = await socket.next<{ type: string; credentials: SessionCredentials }>((m) => m.type === 'whoami');
    return answer.credentials;
  } finally {
    await socket.close();
  }
}

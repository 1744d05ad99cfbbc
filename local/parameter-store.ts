/**
 * SSM Parameter Store, as the functions reach it: the parameters the
 * manifest creates (`aws:ssm/parameter:Parameter`), plus any a function is
 * told to read that the stack keeps elsewhere (`streamer:jwtSecretParameter`),
 * which start with the local development secret and are named loudly at
 * start-up. Every call must carry a valid SigV4 signature from a function's
 * credentials and is authorized against its role: `ssm:GetParameter` on the
 * parameter's ARN, and `kms:Decrypt` on its key when a customer key encrypts
 * it and the call asks for the decrypted value, as AWS checks both. A denied
 * call answers `AccessDeniedException` as SSM does.
 *
 * Only `GetParameter` is served (what Powertools Parameters calls); any other
 * operation is refused with a 400 naming it. An operator changes a value with
 * `PUT /_local/parameters?name=<name>` (what `aws ssm put-parameter --overwrite`
 * does on AWS): the version goes up, as it does there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenEphemeral } from './ephemeral-server';
import { ENV } from '../functions/core/env-names';
import { isSecretMarker, type LocalDeployment } from './deployment';
import { readBody } from './http-responses';
import { type LocalIam, sendAwsResponse } from './local-iam';
import { describeError, type Logger } from './log';

/** SSM's own limit on a request body is far below this; anything larger is not a real call. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** An advanced parameter holds at most 8 KB; a standard one 4 KB. */
const MAX_VALUE_BYTES = { Standard: 4096, Advanced: 8192 } as const;

interface StoredParameter {
  readonly name: string;
  readonly arn: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly tier: 'Standard' | 'Advanced';
  /** A customer KMS key ARN; `undefined`: `aws/ssm`, which needs no grant. */
  readonly keyArn: string | undefined;
  value: string;
  version: number;
  lastModified: number;
}

export interface ParameterStoreOptions {
  readonly deployment: LocalDeployment;
  readonly iam: LocalIam;
  /** Values of the manifest's redacted secrets, by config key (`streamer:jwtSecret`). */
  readonly secrets: Readonly<Record<string, string>>;
  /** What a parameter kept outside the stack holds here: the local development secret. */
  readonly developmentSecret: string;
  readonly host: string;
  readonly log: Logger;
}

export interface RunningParameterStore {
  readonly endpoint: string;
  /** Overwrites a parameter's value (an operator's `put-parameter --overwrite`); false when there is no such parameter. */
  put(name: string, value: string): boolean;
  stop(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';

function ssmError(status: number, type: string, message: string): { status: number; headers: Record<string, string>; body: string } {
  return { status, headers: { 'Content-Type': JSON_11 }, body: JSON.stringify({ __type: type, message }) };
}

/** The parameter's ARN: a name's leading "/" is not repeated after `parameter`. */
function parameterArn(deployment: LocalDeployment, name: string): string {
  return `arn:aws:ssm:${deployment.region}:${deployment.accountId}:parameter/${name.replace(/^\//, '')}`;
}

/** The parameters the deployment holds, values resolved. */
function deployedParameters(options: ParameterStoreOptions): Map<string, StoredParameter> {
  const { deployment, log } = options;
  const stored = new Map<string, StoredParameter>();
  const now = Date.now();
  for (const parameter of deployment.parameters) {
    let value: string;
    if (isSecretMarker(parameter.value)) {
      const secret = options.secrets[parameter.value.$secret];
      if (secret === undefined) {
        log.warn(
          `SSM parameter ${parameter.name} holds the secret ${parameter.value.$secret}, which the local runtime has no value for: ` +
            'it holds the local development secret instead',
        );
      }
      value = secret ?? options.developmentSecret;
    } else {
      value = parameter.value;
    }
    stored.set(parameter.name, { ...parameter, value, version: 1, lastModified: now });
  }
  // A function told to read a parameter the stack does not create (kept elsewhere): the local development secret stands in.
  for (const fn of deployment.functions) {
    const name = fn.environment[ENV.jwtSecretParameter];
    if (typeof name !== 'string' || stored.has(name) || [...stored.values()].some((p) => p.arn === name)) continue;
    const arn = name.startsWith('arn:') ? name : parameterArn(deployment, name);
    const key = name.startsWith('arn:') ? name.replace(/^.*:parameter/, '') : name;
    log.warn(
      `${fn.name} reads the SSM parameter ${name}, which this stack does not create: locally it holds the development secret ` +
        '(set STREAMER_JWT_SECRET to use another)',
    );
    stored.set(key, { name: key, arn, type: 'SecureString', tier: 'Standard', keyArn: undefined, value: options.developmentSecret, version: 1, lastModified: now });
  }
  return stored;
}

export async function startParameterStore(options: ParameterStoreOptions): Promise<RunningParameterStore> {
  const { deployment, iam, log } = options;
  const parameters = deployedParameters(options);
  const find = (nameOrArn: string): StoredParameter | undefined =>
    parameters.get(nameOrArn) ?? [...parameters.values()].find((p) => p.arn === nameOrArn || p.name === `/${nameOrArn}`);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request, MAX_REQUEST_BYTES);
    const authentication = await iam.authenticate('ssm', { method: request.method ?? 'POST', rawPath: request.url ?? '/', headers: request.headers, body });
    if (!authentication.ok) return sendAwsResponse(response, authentication.response);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== 'AmazonSSM.GetParameter') {
      log.error(`SSM ${target || '(no X-Amz-Target)'} from ${authentication.principal.functionName}: only GetParameter is emulated`);
      return sendAwsResponse(response, ssmError(400, 'UnsupportedOperation', `${target} is not emulated by the local runtime (only GetParameter is)`));
    }
    let input: { Name?: unknown; WithDecryption?: unknown };
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as typeof input;
    } catch {
      return sendAwsResponse(response, ssmError(400, 'ValidationException', 'The request body is not JSON'));
    }
    if (typeof input.Name !== 'string' || input.Name === '') {
      return sendAwsResponse(response, ssmError(400, 'ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"));
    }
    const parameter = find(input.Name);
    // IAM is checked before existence, as AWS does: a caller without the grant learns nothing.
    const resource = parameter?.arn ?? (input.Name.startsWith('arn:') ? input.Name : parameterArn(deployment, input.Name));
    const refusal = iam.authorize('ssm', authentication.principal, 'ssm:GetParameter', resource);
    if (refusal) return sendAwsResponse(response, refusal);
    if (!parameter) return sendAwsResponse(response, ssmError(400, 'ParameterNotFound', `Parameter ${input.Name} not found.`));
    const decrypt = input.WithDecryption === true;
    if (parameter.type === 'SecureString' && decrypt && parameter.keyArn !== undefined) {
      const denied = iam.authorize('ssm', authentication.principal, 'kms:Decrypt', parameter.keyArn);
      if (denied) return sendAwsResponse(response, denied);
    }
    // Without decryption AWS returns the ciphertext; nothing here can read it either.
    const value = parameter.type === 'SecureString' && !decrypt ? Buffer.from(`encrypted:${parameter.name}:${parameter.version}`).toString('base64') : parameter.value;
    const answer = JSON.stringify({
      Parameter: {
        Name: parameter.name,
        Type: parameter.type,
        Value: value,
        Version: parameter.version,
        LastModifiedDate: parameter.lastModified / 1000,
        ARN: parameter.arn,
        DataType: 'text',
      },
    });
    response.writeHead(200, { 'Content-Type': JSON_11, 'Content-Length': Buffer.byteLength(answer) });
    response.end(answer);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error(`SSM front failed: ${describeError(error)}`);
      if (!response.headersSent) sendAwsResponse(response, ssmError(500, 'InternalServerError', 'Internal error'));
      else response.destroy();
    });
  });
  const listening = await listenEphemeral(server, options.host);
  return {
    ...listening,
    put(name, value) {
      const parameter = find(name);
      if (!parameter) return false;
      if (Buffer.byteLength(value) > MAX_VALUE_BYTES[parameter.tier]) {
        throw new RangeError(`a ${parameter.tier} parameter holds at most ${MAX_VALUE_BYTES[parameter.tier]} bytes`);
      }
      parameter.value = value;
      parameter.version++;
      parameter.lastModified = Date.now();
      log.info(`SSM parameter ${parameter.name} is now version ${parameter.version}`);
      return true;
    },
  };
}

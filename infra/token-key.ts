/**
 * Where `connect` reads the HS256 key: an SSM Parameter Store SecureString.
 *
 * With `streamer:jwtSecret` the stack creates the parameter
 * (`/<deployment>/token-key`) from the Pulumi secret, holding the key-set
 * document of `functions/core/auth/token-key-set.ts` (the previous key and
 * the end of its overlap window during a rotation). With
 * `streamer:jwtSecretParameter` it refers to a parameter kept elsewhere. In
 * both cases only the parameter's name reaches the function's environment,
 * and only `connect`'s role may read it (its `tokenKey` capability).
 *
 * Why Parameter Store and not Secrets Manager: a standard SecureString costs
 * nothing (Secrets Manager bills every secret monthly and every 10,000
 * calls), is encrypted with the free AWS-managed `aws/ssm` key unless the
 * stack names its own, and the rotation this needs (two keys during an
 * overlap window, then one) is the key-set document, not Secrets Manager's
 * rotation Lambda. See docs/deploy.md.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serializeTokenKeySet } from '../functions/core/auth/token-key-set';
import type { StackConfig } from './config';

/** What the token key capability grants and hands over. */
export interface TokenKeyReference {
  /** What `GetParameter` is called with: the parameter's name (or the ARN it was given as). */
  readonly parameterName: pulumi.Input<string>;
  readonly parameterArn: pulumi.Input<string>;
  /** A customer KMS key to grant `kms:Decrypt` on; `undefined`: `aws/ssm`, no grant needed. */
  readonly kmsKeyArn: string | undefined;
  readonly refreshSeconds: number;
}

export interface TokenKeyArgs {
  readonly deploymentName: string;
  readonly auth: StackConfig['auth'];
}

/** The ARN of a parameter given by name, in this account and region (a name's leading "/" is not repeated). */
function parameterArnOf(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  if (name.startsWith('arn:')) return pulumi.output(name);
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const region = aws.getRegionOutput({}, { parent }).region;
  const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
  return pulumi.interpolate`arn:${partition}:ssm:${region}:${accountId}:parameter/${name.replace(/^\//, '')}`;
}

export class TokenKey extends pulumi.ComponentResource {
  /** The parameter this stack created; `undefined` when it refers to one or uses a public key source. */
  readonly parameter: aws.ssm.Parameter | undefined;
  /** `undefined` for a public key or JWKS source: nothing secret to read. */
  readonly reference: TokenKeyReference | undefined;

  constructor(name: string, args: TokenKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:TokenKey', name, {}, opts);
    const { auth } = args;
    if (auth.source === 'jwtSecret') {
      const previous = auth.previous;
      const value = pulumi.secret(
        pulumi.all([auth.secret, previous?.secret ?? '']).apply(([current, previousSecret]) =>
          serializeTokenKeySet(previous === undefined ? { current } : { current, previous: previousSecret, previousAcceptedUntil: previous.acceptedUntil }),
        ),
      );
      this.parameter = new aws.ssm.Parameter(
        `${name}-token-key`,
        {
          name: `/${args.deploymentName}/token-key`,
          description: 'Streamer: the HS256 key set connect verifies tokens with (docs/deploy.md, "Token keys")',
          type: 'SecureString',
          // Standard tier: free, 4 KB (a key-set document is well under 1 KB).
          tier: 'Standard',
          value,
          ...(auth.kmsKeyArn !== undefined && { keyId: auth.kmsKeyArn }),
        },
        { parent: this },
      );
      this.reference = {
        parameterName: this.parameter.name,
        parameterArn: this.parameter.arn,
        kmsKeyArn: auth.kmsKeyArn,
        refreshSeconds: auth.refreshSeconds,
      };
    } else if (auth.source === 'jwtSecretParameter') {
      this.parameter = undefined;
      this.reference = {
        parameterName: auth.parameter,
        parameterArn: parameterArnOf(auth.parameter, this),
        kmsKeyArn: auth.kmsKeyArn,
        refreshSeconds: auth.refreshSeconds,
      };
    } else {
      this.parameter = undefined;
      this.reference = undefined;
    }
    this.registerOutputs({});
  }
}

/**
 * The API Gateway WebSocket API, in two components because the functions sit
 * between them: {@link WebSocketApi} (the API itself: its id and ARNs are
 * what the functions' environment and IAM need) and {@link WebSocketRoutes}
 * (routes to those functions, invoke permissions, and the stage that
 * deploys them).
 *
 * Only `$connect`, `$disconnect` and `$default` exist: every client frame goes
 * to `$default` (the router), whatever its `action`, so the wire protocol is
 * the router's business, exactly as in the local runtime.
 *
 * `$connect` is behind a Lambda REQUEST authorizer (the `authorizer`
 * function): API Gateway answers a refused token with 401 before `connect`
 * runs, and hands the identity the authorizer returns to every later route
 * of the connection as `requestContext.authorizer`, so the router needs no
 * read to know who sent a frame. It has no identity sources (the token may
 * come from the query's `token` or `Authorization`, or the header: API
 * Gateway would refuse a handshake that lacks any source named) and no
 * result cache (WebSocket APIs have none).
 *
 * `$default` is two-way: its `$default` route response makes API Gateway send
 * the router's returned `body` to the client, so a frame's own reply (a
 * `pong`, a sync result, an error, the `ack`) needs no `PostToConnection`.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export const ROUTE_KEYS = { connect: '$connect', disconnect: '$disconnect', default: '$default' } as const;
export type RouteKey = (typeof ROUTE_KEYS)[keyof typeof ROUTE_KEYS];

/** Routes behind the token authorizer: API Gateway allows a Lambda authorizer on `$connect` only. */
export const AUTHORIZED_ROUTES: ReadonlySet<RouteKey> = new Set<RouteKey>([ROUTE_KEYS.connect]);

/** Routes whose function's return value goes back to the client (API Gateway's route responses). */
export const TWO_WAY_ROUTES: ReadonlySet<RouteKey> = new Set<RouteKey>([ROUTE_KEYS.default]);

/** The key of a route response, and the selection expression that always picks it (proxy integrations have one). */
export const ROUTE_RESPONSE_KEY = '$default';

/** Management API methods on `@connections/{id}`: post to, read, and close a connection. */
export type ConnectionMethod = 'POST' | 'GET' | 'DELETE';

export interface WebSocketApiArgs {
  /** Physical API name. */
  readonly apiName: string;
  readonly stageName: string;
}

export class WebSocketApi extends pulumi.ComponentResource {
  readonly api: aws.apigatewayv2.Api;
  readonly stageName: string;
  /** `wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: what clients connect to. */
  readonly url: pulumi.Output<string>;
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: the `@connections` management API. */
  readonly managementEndpoint: pulumi.Output<string>;

  constructor(name: string, args: WebSocketApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:WebSocketApi', name, {}, opts);
    this.stageName = args.stageName;
    this.api = new aws.apigatewayv2.Api(
      `${name}-websocket`,
      {
        name: args.apiName,
        protocolType: 'WEBSOCKET',
        // No route matches an action, so every frame falls through to $default.
        routeSelectionExpression: '$request.body.action',
        description: 'Streamer: long-running operations with live progress over a WebSocket',
      },
      { parent: this },
    );
    this.url = pulumi.interpolate`${this.api.apiEndpoint}/${args.stageName}`;
    // Same host as the WebSocket endpoint, over HTTPS (right in every partition, unlike a hard-coded domain).
    this.managementEndpoint = this.api.apiEndpoint.apply((endpoint) => `${endpoint.replace(/^wss:/, 'https:')}/${args.stageName}`);
    this.registerOutputs({ url: this.url, managementEndpoint: this.managementEndpoint });
  }

  /** `execute-api:ManageConnections` resource for one method on any connection of this stage. */
  connectionsArn(method: ConnectionMethod): pulumi.Output<string> {
    return pulumi.interpolate`${this.api.executionArn}/${this.stageName}/${method}/@connections/*`;
  }

  /** Source ARN of an authorizer of this API, for its function's invoke permission. */
  authorizerArn(authorizerId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`${this.api.executionArn}/authorizers/${authorizerId}`;
  }

  /** Source ARN of one route on this stage, for Lambda invoke permissions. */
  routeArn(routeKey: RouteKey): pulumi.Output<string> {
    return pulumi.interpolate`${this.api.executionArn}/${this.stageName}/${routeKey}`;
  }
}

export interface WebSocketRoutesArgs {
  readonly api: WebSocketApi;
  /** The function behind each route. */
  readonly targets: { readonly connect: aws.lambda.Function; readonly disconnect: aws.lambda.Function; readonly default: aws.lambda.Function };
  /** The Lambda REQUEST authorizer of the {@link AUTHORIZED_ROUTES} (it verifies the client's token). */
  readonly authorizer: aws.lambda.Function;
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetentionDays: number;
  /** Set the region's API Gateway CloudWatch role (account-wide), which access logging needs. */
  readonly manageApiGatewayAccount: boolean;
}

/** Access log line per connect, message and disconnect. Never the query string: it carries the client's token. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  connectionId: '$context.connectionId',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  requestTimeEpoch: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  integrationLatency: '$context.integrationLatency',
  error: '$context.error.message',
});

export class WebSocketRoutes extends pulumi.ComponentResource {
  readonly routes: Readonly<Record<keyof typeof ROUTE_KEYS, aws.apigatewayv2.Route>>;
  readonly authorizer: aws.apigatewayv2.Authorizer;
  readonly stage: aws.apigatewayv2.Stage;
  readonly accessLogGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: WebSocketRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:WebSocketRoutes', name, {}, opts);
    const { api } = args.api;

    this.authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-token`,
      {
        apiId: api.id,
        name: 'token',
        authorizerType: 'REQUEST',
        authorizerUri: args.authorizer.invokeArn,
        // No identity sources: the token has three places (see the module comment), and API Gateway
        // would answer 401 without invoking the authorizer when a named source is missing.
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-token`,
      {
        action: 'lambda:InvokeFunction',
        function: args.authorizer.name,
        principal: 'apigateway.amazonaws.com',
        sourceArn: args.api.authorizerArn(this.authorizer.id),
      },
      { parent: this },
    );

    const routes = {} as Record<keyof typeof ROUTE_KEYS, aws.apigatewayv2.Route>;
    const routeResponses: aws.apigatewayv2.RouteResponse[] = [];
    for (const [route, routeKey] of Object.entries(ROUTE_KEYS) as [keyof typeof ROUTE_KEYS, RouteKey][]) {
      const target = args.targets[route];
      const integration = new aws.apigatewayv2.Integration(
        `${name}-${route}`,
        { apiId: api.id, integrationType: 'AWS_PROXY', integrationMethod: 'POST', integrationUri: target.invokeArn },
        { parent: this },
      );
      new aws.lambda.Permission(
        `${name}-${route}`,
        {
          action: 'lambda:InvokeFunction',
          function: target.name,
          principal: 'apigateway.amazonaws.com',
          sourceArn: args.api.routeArn(routeKey),
        },
        { parent: this },
      );
      routes[route] = new aws.apigatewayv2.Route(
        `${name}-${route}`,
        {
          apiId: api.id,
          routeKey,
          // The authorizer answers a refused token with 401 (the protocol's contract); other routes inherit its identity.
          ...(AUTHORIZED_ROUTES.has(routeKey) ? { authorizationType: 'CUSTOM', authorizerId: this.authorizer.id } : { authorizationType: 'NONE' }),
          target: pulumi.interpolate`integrations/${integration.id}`,
          ...(TWO_WAY_ROUTES.has(routeKey) && { routeResponseSelectionExpression: ROUTE_RESPONSE_KEY }),
        },
        { parent: this },
      );
      if (TWO_WAY_ROUTES.has(routeKey)) {
        routeResponses.push(new aws.apigatewayv2.RouteResponse(
          `${name}-${route}`,
          { apiId: api.id, routeId: routes[route].id, routeResponseKey: ROUTE_RESPONSE_KEY },
          { parent: this },
        ));
      }
    }
    this.routes = routes;

    // The first automatic deployment must already send the router's replies back.
    const dependsOn: pulumi.Resource[] = [...Object.values(routes), ...routeResponses];
    if (args.manageApiGatewayAccount) dependsOn.push(this.apiGatewayAccount(name));

    this.accessLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { name: pulumi.interpolate`/aws/apigateway/${api.name}/${args.api.stageName}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    // Created after the routes so that its first automatic deployment already routes every frame.
    this.stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: api.id,
        name: args.api.stageName,
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingRateLimit: args.throttling.rateLimit,
          throttlingBurstLimit: args.throttling.burstLimit,
          dataTraceEnabled: false,
        },
        accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
      },
      { parent: this, dependsOn },
    );
    this.registerOutputs({ stageName: this.stage.name });
  }

  /**
   * API Gateway writes WebSocket logs through one role per account and
   * region. Without it, a stage with access logging cannot be created.
   */
  private apiGatewayAccount(name: string): aws.apigateway.Account {
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const role = new aws.iam.Role(
      `${name}-apigateway-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      },
      { parent: this },
    );
    const pushLogs = new aws.iam.RolePolicyAttachment(
      `${name}-apigateway-logs`,
      {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`,
      },
      { parent: this },
    );
    return new aws.apigateway.Account(
      `${name}-apigateway-account`,
      { cloudwatchRoleArn: role.arn },
      { parent: this, dependsOn: [pushLogs] },
    );
  }
}

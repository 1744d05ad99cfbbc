/**
 * AWS list prices the cost figures use: region us-east-1, on-demand, no free
 * tier, no Savings Plans. Written down on 2026-11-23 from the AWS pricing
 * pages (DynamoDB on-demand at the rates in force since its 1 November 2024
 * reduction; Lambda, API Gateway and DynamoDB Streams unchanged since
 * then). They are constants, not looked up: re-check them before quoting a
 * figure to a customer.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2026-11-23',
  /** DynamoDB on-demand, per write request unit (1 KB, standard table class). */
  dynamodbWriteRequestUnit: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit (4 KB strongly consistent, or 2 × 4 KB eventually consistent). */
  dynamodbReadRequestUnit: 0.125 / 1e6,
  /** DynamoDB Streams GetRecords made by a Lambda event source mapping are free. */
  dynamodbStreamsReadForLambda: 0,
  /** Lambda, per request (invocation). */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda duration per GB-second, first pricing tier. */
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 } as Readonly<Record<string, number>>,
  /** API Gateway WebSocket, per message (first billion a month; billed in 32 KB increments), both directions. */
  apiGatewayMessage: 1.0 / 1e6,
  /** API Gateway WebSocket, per connection minute. */
  apiGatewayConnectionMinute: 0.25 / 1e6,
} as const;

/** API Gateway meters WebSocket messages in 32 KB increments. */
export const API_GATEWAY_MESSAGE_INCREMENT_BYTES = 32 * 1024;

/**
 * `local/iam`: what the local runtime needs to refuse AWS calls the way AWS
 * would — verify the caller's SigV4 signature, evaluate its role's
 * identity-based policies, and answer with the service's own error.
 */
export { IamError, PolicyDocumentError, UnsupportedConditionOperatorError } from './errors';
export {
  evaluatePolicies,
  validatePolicyDocument,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type MatchedStatement,
  type NamedPolicyDocument,
  type OneOrMany,
  type PolicyDocument,
  type PolicyStatement,
} from './policy-evaluator';
export type { ConditionBlock, ConditionValue, RequestContext } from './policy-conditions';
export { isPresigned, verifyPresignedUrl, MAX_PRESIGNED_EXPIRY_SECONDS, type PresignedVerification } from './presigned-url';
export { verifySigV4, type SecretLookup, type SignedHttpRequest, type SigningSecret, type SigV4FailureReason, type SigV4Verification } from './sigv4';
export {
  accessDeniedMessage,
  accessDeniedResponse,
  assumedRoleArn,
  authenticationFailureResponse,
  s3ErrorResponse,
  type AccessDenial,
  type AwsErrorResponse,
  type DenyingService,
} from './aws-denials';
export { findUnknownActions, loadIamDataCatalog, type ActionCatalog, type UnknownAction } from './action-catalog';

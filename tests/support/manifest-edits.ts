/**
 * Edits of a rendered deployment manifest, for tests that run the local
 * runtime on a deployment that differs from the program's in one known way:
 * a role missing one statement (to show the call that needs it is denied),
 * a role with one more (to exercise an API no shipped function is granted),
 * or a route without its route response (one-way, as before two-way routes).
 */
import type { DeploymentManifest, ManifestResource, PolicyDocument, PolicyStatementDocument } from '../../local/deployment';

const ROLE_POLICY = 'aws:iam/rolePolicy:RolePolicy';

/** The role policy of the function whose logical resource name is `streamer-<fn>`. */
function editPolicy(manifest: DeploymentManifest, fn: string, edit: (statements: PolicyStatementDocument[]) => PolicyStatementDocument[]): DeploymentManifest {
  let found = false;
  const resources = manifest.resources.map((resource): ManifestResource => {
    if (resource.type !== ROLE_POLICY || resource.name !== `streamer-${fn}`) return resource;
    found = true;
    const document = JSON.parse(resource.inputs.policy as string) as PolicyDocument;
    const statements = Array.isArray(document.Statement) ? [...document.Statement] : [document.Statement as PolicyStatementDocument];
    const policy = JSON.stringify({ ...document, Statement: edit(statements) });
    return { ...resource, inputs: { ...resource.inputs, policy }, outputs: { ...resource.outputs, policy } };
  });
  if (!found) throw new Error(`the manifest has no role policy streamer-${fn}`);
  return { ...manifest, resources };
}

export function withoutStatement(manifest: DeploymentManifest, fn: string, sid: string): DeploymentManifest {
  return editPolicy(manifest, fn, (statements) => {
    const kept = statements.filter((statement) => statement.Sid !== sid);
    if (kept.length === statements.length) throw new Error(`streamer-${fn}'s role has no statement ${sid}`);
    return kept;
  });
}

export function withStatement(manifest: DeploymentManifest, fn: string, statement: PolicyStatementDocument): DeploymentManifest {
  return editPolicy(manifest, fn, (statements) => [...statements, statement]);
}

/** The deployment with every route one-way: no route responses, no selection expressions. */
export function withoutRouteResponses(manifest: DeploymentManifest): DeploymentManifest {
  const resources = manifest.resources
    .filter((resource) => resource.type !== 'aws:apigatewayv2/routeResponse:RouteResponse')
    .map((resource): ManifestResource => {
      if (resource.type !== 'aws:apigatewayv2/route:Route') return resource;
      const { routeResponseSelectionExpression: _dropped, ...inputs } = resource.inputs;
      return { ...resource, inputs };
    });
  return { ...manifest, resources };
}

/** The deployment with the `$connect` authorizer requiring these identity sources (`route.request.header.X`, …). */
export function withAuthorizerIdentitySources(manifest: DeploymentManifest, identitySources: readonly string[]): DeploymentManifest {
  let found = false;
  const resources = manifest.resources.map((resource): ManifestResource => {
    if (resource.type !== 'aws:apigatewayv2/authorizer:Authorizer') return resource;
    found = true;
    return { ...resource, inputs: { ...resource.inputs, identitySources: [...identitySources] } };
  });
  if (!found) throw new Error('the manifest has no authorizer');
  return { ...manifest, resources };
}

/**
 * The deployment as it was before the `$connect` route had its token
 * authorizer: the route open (`authorizationType: NONE`), no authorizer. A
 * connection opened then carries no authorizer context on its later events.
 */
export function withoutConnectAuthorizer(manifest: DeploymentManifest): DeploymentManifest {
  let found = false;
  const resources = manifest.resources
    .filter((resource) => resource.type !== 'aws:apigatewayv2/authorizer:Authorizer')
    .map((resource): ManifestResource => {
      if (resource.type !== 'aws:apigatewayv2/route:Route' || resource.inputs.routeKey !== '$connect') return resource;
      found = true;
      const { authorizerId: _dropped, ...inputs } = resource.inputs;
      return { ...resource, inputs: { ...inputs, authorizationType: 'NONE' } };
    });
  if (!found) throw new Error('the manifest has no $connect route');
  return { ...manifest, resources };
}

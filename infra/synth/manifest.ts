/**
 * Synth: the real Pulumi program (`index.ts`) rendered without the engine
 * into one JSON manifest of every resource, with AWS-shaped ids and ARNs.
 * The local runtime boots from it, and two manifests diff like
 * `pulumi preview --diff` (see `diff.ts`).
 *
 * The rendering is canonical (resources sorted by URN, object keys sorted,
 * every generated id a hash of the URN), so the same program and config give
 * byte-identical JSON, and secret config values never appear in it: each
 * occurrence is replaced by a {@link SecretMarker}.
 *
 * @example
 * const manifest = await renderManifest({ root, config: loadStackConfig({ root, stack: 'local' }) });
 * fs.writeFileSync('dist/deployment.json', serializeManifest(manifest));
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as fs from 'node:fs';
import { directoryHash } from '../function-bundles';
import { AwsShapedMocks, DEFAULT_ACCOUNT_ID, DEFAULT_REGION, PARTITION, type AwsTarget } from './aws-shapes';
import type { StackConfigSource } from './stack-config';

export {
  MANIFEST_VERSION,
  type ArchiveMarker,
  type AssetMarker,
  type DeploymentManifest,
  type JsonObject,
  type JsonValue,
  type ManifestResource,
  type ResourceMarker,
  type SecretMarker,
} from '../../functions/core/deployment-manifest';
import { MANIFEST_VERSION, type DeploymentManifest, type JsonObject, type JsonValue, type ManifestResource } from '../../functions/core/deployment-manifest';

/** What to render. */
export interface RenderOptions {
  /** The project root: `index.ts`, `Pulumi.yaml`, and what archive paths are relative to. */
  readonly root: string;
  readonly config: StackConfigSource;
  /** Defaults to {@link DEFAULT_ACCOUNT_ID}, or the first of `aws:allowedAccountIds`. */
  readonly accountId?: string;
  /** Loads the program; must import it only when called (after the mocks are set). Defaults to `index.ts`. */
  readonly loadProgram?: () => Promise<Record<string, unknown>>;
}

/** Thrown when the installed Pulumi SDK no longer has the internals synth watches. */
export class SynthRuntimeError extends Error {
  constructor(detail: string) {
    super(`synth cannot render with this @pulumi/pulumi: ${detail} (update infra/synth/manifest.ts)`);
    this.name = 'SynthRuntimeError';
  }
}

// Pulumi's wire form of special values (runtime/rpc.ts).
const SIG = pulumi.runtime.specialSigKey;
const UNKNOWN = pulumi.runtime.unknownValue;

/** The secret values to hunt for, longest first so a key whose value contains another's is named. */
interface KnownSecret {
  readonly key: string;
  readonly value: string;
}

/** The program's marker for a secret it made itself, whose value matches no config key. */
const PROGRAM_SECRET = '(program)';

class ValueRenderer {
  constructor(
    private readonly root: string,
    private readonly secrets: readonly KnownSecret[],
  ) {}

  /** A known secret inside `text`, if any. */
  private secretIn(text: string): KnownSecret | undefined {
    return this.secrets.find((secret) => text === secret.value || (secret.value.length >= 8 && text.includes(secret.value)));
  }

  /** Counts, while rendering, how many known secrets were replaced. */
  replaced = 0;

  /** Pulumi's wire form (`serializeProperties`, a protobuf Struct as JS) to manifest JSON. */
  render(value: unknown): JsonValue {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') {
      if (value === UNKNOWN) return { $unknown: true };
      const secret = this.secretIn(value);
      if (secret !== undefined) {
        this.replaced++;
        return { $secret: secret.key };
      }
      return value;
    }
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((item) => this.render(item));
    if (typeof value !== 'object') return String(value);
    const object = value as Record<string, unknown>;
    switch (object[SIG]) {
      case pulumi.runtime.specialSecretSig:
        return this.renderSecret(object.value);
      case pulumi.runtime.specialArchiveSig:
        return { $archive: this.renderFileLike(object) };
      case pulumi.runtime.specialAssetSig:
        return { $asset: this.renderFileLike(object) };
      case pulumi.runtime.specialResourceSig:
        return { $resource: String(object.urn) };
      default: {
        const out: { [key: string]: JsonValue } = {};
        for (const key of Object.keys(object)) if (object[key] !== undefined) out[key] = this.render(object[key]);
        return out;
      }
    }
  }

  /**
   * A value the program marked secret. A leaf is replaced whole. A structure
   * (a function's whole `environment` becomes secret when one variable is)
   * keeps its plain parts, which the local runtime needs, and loses only the
   * secret strings; if none is a known secret, it is replaced whole.
   */
  private renderSecret(inner: unknown): JsonValue {
    if (inner === null || typeof inner !== 'object') {
      const secret = typeof inner === 'string' ? this.secretIn(inner) : undefined;
      return { $secret: secret?.key ?? PROGRAM_SECRET };
    }
    const before = this.replaced;
    const rendered = this.render(inner);
    return this.replaced > before ? rendered : { $secret: PROGRAM_SECRET };
  }

  private renderFileLike(object: Record<string, unknown>): JsonObject {
    const out: JsonObject = {};
    if (typeof object.path === 'string') {
      out.path = this.portable(object.path);
      // A folder's contents, hashed as an archive of it would hold them: a code change shows in a diff, no change shows nothing.
      const folder = path.resolve(this.root, object.path);
      if (fs.existsSync(folder) && fs.statSync(folder).isDirectory()) out.sha256 = directoryHash(folder);
    }
    if (typeof object.text === 'string') out.text = this.render(object.text);
    if (typeof object.uri === 'string') out.uri = object.uri;
    if (object.assets !== undefined) out.assets = this.render(object.assets);
    return out;
  }

  /** Relative to the project root, `/`-separated: the manifest must not carry one machine's paths. */
  private portable(file: string): string {
    return path.relative(this.root, path.resolve(file)).split(path.sep).join('/') || '.';
  }
}

/** Objects with their keys sorted, recursively: one canonical JSON text per value. */
export function canonical(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value).sort()) out[key] = canonical(value[key]);
  return out;
}

/** The manifest as written to disk: canonical JSON, two-space indent, final newline. */
export function serializeManifest(manifest: DeploymentManifest): string {
  return `${JSON.stringify(canonical(manifest as unknown as JsonValue), null, 2)}\n`;
}

/** What the watched monitor learnt of one registration. */
interface Registration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | undefined;
  readonly custom: boolean;
  /** Wire form, as the program sent it. */
  readonly inputs: unknown;
}

/** The parts of Pulumi's `MockMonitor` synth relies on (internal, hence checked). */
interface WatchableMonitor {
  registerResource(request: RegisterRequest, callback: unknown): unknown;
  newUrn(parent: string, type: string, name: string): string;
  getRegisteredResources(): Map<string, { readonly id: string | null; readonly state: unknown }>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): unknown } | undefined;
}

function isWatchable(monitor: unknown): monitor is WatchableMonitor {
  const m = monitor as Partial<WatchableMonitor> | undefined;
  return typeof m?.registerResource === 'function' && typeof m.newUrn === 'function' && typeof m.getRegisteredResources === 'function';
}

/**
 * Records every registration with its URN and parent, which Pulumi's mock
 * arguments lack. The mock's `newResource` runs synchronously inside
 * `registerResource`, so the registration in flight is the one it answers.
 */
function watch(monitor: WatchableMonitor, registrations: Registration[]): (args: pulumi.runtime.MockResourceArgs) => string {
  let inFlight: Registration | undefined;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const parent = request.getParent() || undefined;
    const registration: Registration = {
      urn: monitor.newUrn(request.getParent(), request.getType(), request.getName()),
      type: request.getType(),
      name: request.getName(),
      parent,
      custom: request.getCustom(),
      inputs: request.getObject()?.toJavaScript() ?? {},
    };
    registrations.push(registration);
    inFlight = registration;
    try {
      return register(request, callback);
    } finally {
      inFlight = undefined;
    }
  };
  return (args) => {
    if (inFlight === undefined || inFlight.type !== args.type || inFlight.name !== args.name) {
      throw new SynthRuntimeError(`a resource (${args.type} ${args.name}) was created outside registerResource`);
    }
    return inFlight.urn;
  };
}

/** Waits until no registration is pending and none started meanwhile (outputs can create resources late). */
async function settle(registrations: readonly Registration[]): Promise<void> {
  const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs?: () => Promise<void> };
  if (typeof settings.waitForRPCs !== 'function') throw new SynthRuntimeError('runtime/settings.waitForRPCs is gone');
  for (;;) {
    const seen = registrations.length;
    await settings.waitForRPCs();
    await new Promise((done) => setImmediate(done));
    if (registrations.length === seen) return;
  }
}

const asObject = (value: JsonValue): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {});

/** A Struct (a component's registered outputs) or already plain JS. */
function plain(state: unknown): unknown {
  const struct = state as { toJavaScript?: () => unknown } | null;
  return typeof struct?.toJavaScript === 'function' ? struct.toJavaScript() : state;
}

/**
 * Runs the program under {@link AwsShapedMocks} and renders what it
 * registered. Loads the program once per process: Pulumi's runtime state is
 * global, so render each stack in its own process (the CLI does).
 */
export async function renderManifest(options: RenderOptions): Promise<DeploymentManifest> {
  const { root, config } = options;
  const region = config.values['aws:region'] ?? DEFAULT_REGION;
  const allowed = config.values['aws:allowedAccountIds'];
  const accountId = options.accountId ?? (allowed !== undefined ? firstAccount(allowed) : undefined) ?? DEFAULT_ACCOUNT_ID;
  const target: AwsTarget = { accountId, region };

  // The program finds its sources through this variable; bundled, its own `__dirname` is not the project root.
  process.env.STREAMER_PROJECT_ROOT = root;

  const registrations: Registration[] = [];
  let urnOf: ((args: pulumi.runtime.MockResourceArgs) => string) | undefined;
  const mocks = new AwsShapedMocks(target, (args) => {
    if (urnOf === undefined) throw new SynthRuntimeError('the monitor was not watched');
    return urnOf(args);
  });
  await pulumi.runtime.setMocks(mocks, config.project, config.stack, false);
  const monitor: unknown = pulumi.runtime.getMonitor();
  if (!isWatchable(monitor)) throw new SynthRuntimeError('the mock monitor has no registerResource/newUrn/getRegisteredResources');
  urnOf = watch(monitor, registrations);
  pulumi.runtime.setAllConfig({ ...config.values }, [...config.secretKeys]);

  const program = await (options.loadProgram ?? (() => import('../../index') as Promise<Record<string, unknown>>))();
  const exportsWire = await pulumi.runtime.serializeProperties('synth-exports', { ...program });
  await settle(registrations);

  const secrets: KnownSecret[] = config.secretKeys
    .map((key) => ({ key, value: config.values[key] }))
    .filter((secret): secret is KnownSecret => typeof secret.value === 'string' && secret.value !== '')
    .sort((a, b) => b.value.length - a.value.length);
  const renderer = new ValueRenderer(root, secrets);
  const registered = monitor.getRegisteredResources();

  const resources = registrations
    .map((registration): ManifestResource => {
      const state = registered.get(registration.urn);
      return {
        urn: registration.urn,
        type: registration.type,
        name: registration.name,
        id: state?.id || null,
        ...(registration.parent !== undefined ? { parent: registration.parent } : {}),
        custom: registration.custom,
        inputs: asObject(renderer.render(registration.inputs)),
        outputs: asObject(renderer.render(plain(state?.state))),
      };
    })
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  assertUniqueUrns(resources);

  const streamerConfig: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config.values)) {
    if (!key.startsWith(`${config.project}:`)) continue;
    streamerConfig[key] = config.secretKeys.includes(key) ? { [SIG]: pulumi.runtime.specialSecretSig, value } : value;
  }

  return {
    manifestVersion: MANIFEST_VERSION,
    project: config.project,
    stack: config.stack,
    region,
    accountId,
    partition: PARTITION,
    config: asObject(renderer.render(streamerConfig)),
    resources,
    outputs: asObject(renderer.render(exportsWire)),
  };
}

function firstAccount(json: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

function assertUniqueUrns(resources: readonly ManifestResource[]): void {
  for (let i = 1; i < resources.length; i++) {
    if (resources[i].urn === resources[i - 1].urn) throw new SynthRuntimeError(`two resources share the URN ${resources[i].urn}`);
  }
}

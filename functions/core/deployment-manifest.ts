/**
 * The deployment manifest's format: what synth (`infra/synth/`) writes when
 * it renders the Pulumi program, and what the local runtime (`local/`) boots
 * from. One definition, so the writer and the reader cannot disagree. Types
 * only (and the version): no function imports this at run time.
 */

/** Bumped when a reader of the manifest would misread the new shape. */
export const MANIFEST_VERSION = 1;

/** Any value the manifest holds. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Where a secret was: the config key whose value it holds (`streamer:jwtSecret`), or `(program)` for one the program made. */
export interface SecretMarker {
  readonly $secret: string;
}

/** A file archive (a function's code): its path relative to the project root, `/`-separated, and the SHA-256 of its contents. */
export interface ArchiveMarker {
  readonly $archive: { readonly path?: string; readonly sha256?: string; readonly uri?: string; readonly assets?: JsonObject };
}

/** An asset: a file (relative path), inline text, or a URI. */
export interface AssetMarker {
  readonly $asset: { readonly path?: string; readonly text?: string; readonly uri?: string };
}

/** A reference to another resource of the manifest. */
export interface ResourceMarker {
  readonly $resource: string;
}

/** One resource as registered by the program. */
export interface ManifestResource {
  readonly urn: string;
  /** Pulumi type token: `aws:lambda/function:Function`, `streamer:infra:WebSocketApi`. */
  readonly type: string;
  /** The logical name the program gave it. */
  readonly name: string;
  /** The physical id AWS would assign; `null` for components. */
  readonly id: string | null;
  /** URN of the parent; absent at top level. */
  readonly parent?: string;
  /** `false` for component resources (no cloud object behind them). */
  readonly custom: boolean;
  /** What the program passed, resolved. */
  readonly inputs: JsonObject;
  /** Inputs merged with what AWS computes (ARNs, URLs, auto-names); a component's registered outputs. */
  readonly outputs: JsonObject;
}

/** The whole deployment, as one document. */
export interface DeploymentManifest {
  readonly manifestVersion: typeof MANIFEST_VERSION;
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** Every `streamer:*` value the program read, secrets marked. */
  readonly config: JsonObject;
  /** Sorted by URN. */
  readonly resources: readonly ManifestResource[];
  /** The stack's exports. */
  readonly outputs: JsonObject;
}


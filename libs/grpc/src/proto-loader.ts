import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import type { GrpcObject } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';

/**
 * proto-loader options used at runtime; they match the `gen:protos` generator flags so the generated
 * types describe the loaded objects (camelCase fields, int64 as string, enums as names, defaults
 * filled in, a virtual field naming the set member of each oneof).
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Options of {@link resolveProtosDir} and {@link loadProtoPackage}. */
export interface ProtosDirOptions {
  /** Directory holding the `isams_sync/...` proto tree (a service's config passes it in containers). */
  protosDir?: string;
}

/**
 * The protos root: the explicit option, else the `PROTOS_DIR` environment variable (container images
 * copy `protos/` and set it), else the repository's `protos/` found by walking up from this file (dev,
 * tests). Throws a clear error when none exists.
 */
export function resolveProtosDir(options: ProtosDirOptions = {}): string {
  const explicit = options.protosDir ?? process.env.PROTOS_DIR;
  if (explicit !== undefined && explicit !== '') {
    const dir = resolve(explicit);
    if (!existsSync(dir))
      throw new Error(`Protos directory ${dir} does not exist (protosDir option / PROTOS_DIR)`);
    return dir;
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'protos');
    if (existsSync(join(candidate, 'isams_sync'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('Cannot find the protos directory: set PROTOS_DIR or pass protosDir');
}

/**
 * Loads a proto file (path relative to the protos root, or absolute for test fixtures) into a
 * proto-loader `PackageDefinition` with {@link PROTO_LOADER_OPTIONS}; imports resolve from the root.
 */
export function loadProtoDefinition(protoPath: string, options: ProtosDirOptions = {}): PackageDefinition {
  const root = resolveProtosDir(options);
  const file = isAbsolute(protoPath) ? protoPath : join(root, protoPath);
  return loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [root] });
}

/**
 * Loads a proto file into a grpc-js `GrpcObject` (service client constructors with `.service`
 * definitions, message types). Pass the generated `<File>ProtoGrpcType` as `T` for typed access.
 *
 * @example
 * ```ts
 * const pkg = loadProtoPackage<RosterServiceProtoGrpcType>('isams_sync/roster/v1/roster_service.proto');
 * const { RosterService } = pkg.isams_sync.roster.v1;
 * ```
 */
export function loadProtoPackage<T = GrpcObject>(protoPath: string, options: ProtosDirOptions = {}): T {
  return loadPackageDefinition(loadProtoDefinition(protoPath, options)) as T;
}

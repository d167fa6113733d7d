import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  workspaces: string[];
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('the one Dockerfile', () => {
  it('copies every workspace manifest into the dependency layer, kept in its folder, and no sources', () => {
    const copy = /^COPY --parents (.+) \.\/$/m.exec(dockerfile);
    expect(copy, 'COPY --parents <manifests> ./').not.toBeNull();
    const sources = copy![1]!.split(' ');
    expect(sources).toEqual([
      'package.json',
      'package-lock.json',
      ...manifest.workspaces.map((pattern) => `${pattern}/package.json`),
    ]);
    expect(dockerfile.split('FROM deps AS build')[0]).not.toMatch(/^COPY (libs|services)\//m);
    expect(/^# syntax=docker\/dockerfile:1\n/.test(dockerfile), 'syntax 1.x, which has COPY --parents').toBe(
      true,
    );
  });

  it('builds on the Node the project runs on, pinned by digest', () => {
    const image = /^ARG NODE_IMAGE=node:(\S+?)-bookworm-slim@sha256:([0-9a-f]{64})$/m.exec(dockerfile);
    expect(image, 'ARG NODE_IMAGE=node:<version>-bookworm-slim@sha256:<digest>').not.toBeNull();
    expect(image![1]).toBe(manifest.devDependencies.node);
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from).toEqual(['${NODE_IMAGE}', 'deps', '${NODE_IMAGE}']);
  });

  it('is what skaffold builds for every deployed service, with SERVICE set', () => {
    const skaffold = readFileSync(join(root, 'skaffold.yaml'), 'utf8');
    const services = readdirSync(join(root, 'services')).filter(
      (s) => s !== 'isams-simulator' && existsSync(join(root, 'services', s, 'src/main.ts')),
    );
    for (const svc of services) {
      expect(skaffold).toContain(
        `- image: isams-sync-${svc}\n      context: .\n      docker:\n        dockerfile: Dockerfile\n        buildArgs:\n          SERVICE: ${svc}\n`,
      );
      expect(existsSync(join(root, 'services', svc, 'Dockerfile')), `services/${svc}/Dockerfile`).toBe(false);
    }
  });
});

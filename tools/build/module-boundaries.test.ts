import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const eslintConfig = readFileSync(join(root, 'eslint.config.js'), 'utf8');

/** Every Nx project under libs/ and services/ with its tags and package name. */
function projects(): Array<{ dir: string; tags: string[]; packageName: string }> {
  return ['libs', 'services'].flatMap((top) =>
    readdirSync(join(root, top))
      .map((name) => join(top, name))
      .filter((dir) => existsSync(join(root, dir, 'project.json')))
      .map((dir) => ({
        dir,
        tags:
          (JSON.parse(readFileSync(join(root, dir, 'project.json'), 'utf8')) as { tags?: string[] }).tags ??
          [],
        packageName: (JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string })
          .name,
      })),
  );
}

/**
 * `@nx/enforce-module-boundaries` lets a project whose tags match no constraint import anything: a
 * new service or lib without its rule in eslint.config.js would have no boundary at all (found by
 * adding a service as docs/development.md says: it could import `@isams-sync/isams` unchecked).
 */
describe('module boundaries cover every project', () => {
  it('each project has one scope tag and one layer tag, each with a constraint in eslint.config.js', () => {
    for (const p of projects()) {
      const scopes = p.tags.filter((t) => t.startsWith('scope:'));
      const layers = p.tags.filter((t) => t.startsWith('type:'));
      expect(scopes, `${p.dir}: one scope:* tag`).toHaveLength(1);
      expect(layers, `${p.dir}: one type:* tag`).toHaveLength(1);
      for (const tag of [...scopes, ...layers])
        expect(eslintConfig, `${p.dir}: a depConstraint for ${tag} in eslint.config.js`).toContain(
          `sourceTag: '${tag}'`,
        );
    }
  });

  it('every service is in the list of packages nothing may import', () => {
    for (const p of projects().filter((x) => x.dir.startsWith('services/')))
      expect(eslintConfig, `${p.packageName} in servicePackages`).toContain(`'${p.packageName}',`);
  });
});

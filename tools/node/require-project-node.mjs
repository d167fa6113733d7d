// Fails fast, with the one-line fix, when a project script runs on a Node.js other than the one the
// project brings. `npm ci` installs that Node (the `node` package in devDependencies) as
// node_modules/.bin/node, which npm puts first on the PATH of every npm script; the machine's own
// Node (often older) is used only when a script is started some other way, or when `npm ci` ran with
// --ignore-scripts (the `node` package's install script is what fetches the binary).
// Imported first by every npm script that runs project code: `node --import ./tools/node/require-project-node.mjs …`.
import { readFileSync } from 'node:fs';
import semver from 'semver';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/**
 * Checks a Node.js version against the project's `engines.node` range.
 * @returns undefined when it satisfies the range, else the one-line message to print.
 */
export function nodeVersionProblem(version = process.versions.node, execPath = process.execPath) {
  const range = manifest.engines?.node;
  if (typeof range !== 'string' || semver.satisfies(version, range)) return undefined;
  return (
    `isams-sync needs Node.js ${range} but this is ${version} (${execPath}). ` +
    "Fix: run `npm ci` (it installs the project's Node into node_modules/.bin) and start scripts with `npm run <script>`."
  );
}

const problem = nodeVersionProblem();
if (problem !== undefined) {
  process.stderr.write(`\n${problem}\n\n`);
  process.exit(1);
}

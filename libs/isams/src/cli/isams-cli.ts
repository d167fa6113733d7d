#!/usr/bin/env node
// `npm run isams -- inspect [--json] <file-or-url> [--key-env VAR]` — see libs/isams/README.md.
import { runCli } from './inspect';

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
});
process.exitCode = code;

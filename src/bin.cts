#!/usr/bin/env node
/**
 * The nix-hug executable (package.json's `bin`). CommonJS, so that
 * `--version`, a piped help page and `completion SHELL` are printed before
 * Node sets up its ES module loader (fast-answers.cts says why); everything
 * else loads the CLI, an ES module (cli.ts), which runs on import.
 */
import { answerFast } from './fast-answers.cjs';

if (!answerFast(process.argv.slice(2), process.stdout)) void import('./cli.js');

#!/usr/bin/env node
// `npx ferry …`: the operator's command line. Runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

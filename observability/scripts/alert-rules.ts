#!/usr/bin/env node
/**
 * Writes `ops/alerts/prometheus-rule.yaml`, the PrometheusRule for
 * prometheus-operator users, from the plain rules file
 * `ops/alerts/switchyard.rules.yaml` (the one source of the rules).
 * `npm run alert-rules -w @switchyard/observability`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { prometheusRule } from './prometheus-rule.ts';

const source = fileURLToPath(new URL('../ops/alerts/switchyard.rules.yaml', import.meta.url));
const target = fileURLToPath(new URL('../ops/alerts/prometheus-rule.yaml', import.meta.url));
await writeFile(target, prometheusRule(await readFile(source, 'utf8')));
process.stdout.write(`wrote ${target}\n`);

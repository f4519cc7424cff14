/**
 * `node --import ./hide-otel.mjs …`: the process behaves as if `@opentelemetry/*` were not
 * installed (every import of it fails with ERR_MODULE_NOT_FOUND), so a benchmark child can show
 * what the resolver costs without OpenTelemetry installed, beside the same child with it installed.
 */
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/')) {
    const e = new Error("Cannot find package '" + specifier + "' (hidden by bench/children/hide-otel.mjs)");
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}`)}`,
);

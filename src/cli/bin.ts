#!/usr/bin/env node
/**
 * The `airflow-secrets` executable. On the Node versions this package supports (`engines`), the AWS
 * SDK's multi-line Node-version notice is turned off with the SDK's own opt-out
 * (`AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`), in this process only and unless already set.
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > 20 || (major === 20 && minor >= 19)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  env: process.env,
});

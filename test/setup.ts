/**
 * Runs before every test file. Makes the network loopback-only: the SDKs are told not to probe
 * cloud metadata servers, proxies are bypassed for loopback, and any attempt to open a socket to a
 * non-loopback address throws and fails the test that made it.
 */
import dns from 'node:dns';
import net from 'node:net';
import { afterEach, expect } from 'vitest';
import { loadYamlParser } from '../src/backends/local-filesystem/parse.js';

// The YAML parser loads on first use; tests that parse YAML text synchronously (not through the
// backend) get it here, as a bundle-free Node process would through require(esm).
await loadYamlParser();

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.NO_PROXY = '127.0.0.1,localhost,::1';
process.env.no_proxy = '127.0.0.1,localhost,::1';
for (const k of [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'http_proxy',
  'https_proxy',
  'grpc_proxy',
  'ALL_PROXY',
  'all_proxy',
]) {
  delete process.env[k];
}
for (const k of ['VAULT_ADDR', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX', 'AWS_PROFILE'])
  delete process.env[k];

const violations: string[] = [];

function isLoopback(host: string | undefined): boolean {
  if (host === undefined || host === '') return true; // Node defaults to localhost
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (h.startsWith('::ffff:127.')) return true;
  return false;
}

function record(what: string): never {
  violations.push(what);
  throw new Error(`test network guard: refused non-loopback connection to ${what}`);
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  let host: string | undefined;
  let port: unknown;
  let isPath = false;
  if (Array.isArray(first)) {
    const o = first[0] as { host?: string; port?: unknown; path?: string } | undefined;
    host = o?.host;
    port = o?.port;
    isPath = typeof o?.path === 'string';
  } else if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; port?: unknown; path?: string };
    host = o.host;
    port = o.port;
    isPath = typeof o.path === 'string';
  } else if (typeof first === 'string' && Number.isNaN(Number(first))) {
    isPath = true; // a unix socket path
  } else {
    port = first;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  if (!isPath && !isLoopback(host)) record(`${host}:${String(port)}`);
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

const originalLookup = dns.lookup;
(dns as { lookup: unknown }).lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
  if (!isLoopback(hostname)) record(`dns:${hostname}`);
  return (originalLookup as (...a: unknown[]) => unknown)(hostname, ...rest);
};

afterEach(() => {
  const seen = violations.splice(0);
  expect(seen, 'non-loopback network attempts').toEqual([]);
});

/**
 * The AWS settings the SDK would otherwise read from `process.env` and the shared config files,
 * taken instead from the environment the adapter was given (`resolverFromEnv(env)`, the CLI's
 * `--env-file`): region, credentials, retry mode and attempts, FIPS/dual-stack endpoints, the
 * defaults mode, the app id, configured endpoint URLs. Used when `AwsCommonOptions.env` is set.
 *
 * What the SDK still reads from the process, and why (docs/security.md): the container and
 * instance metadata credential providers read their own `AWS_CONTAINER_*` / `AWS_EC2_METADATA_*`
 * settings from `process.env` (the SDK takes no environment for them; they describe the machine
 * the process runs on), and `os.homedir()` when the given env has no `HOME`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackendError } from '../../errors.js';

type Env = Record<string, string | undefined>;
export type AwsIdentity = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type Provider = () => Promise<AwsIdentity>;

/** Thrown by a credentials provider when part of a key pair is set and part is not (as botocore's PartialCredentialsError). */
export class PartialAwsCredentials extends Error {
  override name = 'PartialAwsCredentials';
  constructor(
    /** What is missing, in words: `AWS secret access key`, … */
    readonly missing: string,
    /** Where the rest was found, e.g. `AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not`. */
    readonly detail: string,
  ) {
    super(`missing ${missing} (${detail})`);
  }
}

/** No provider of the chain found credentials; `tried` lists where we looked, in words. */
export class NoAwsCredentials extends Error {
  override name = 'NoAwsCredentials';
  constructor(readonly tried: string) {
    super(`no AWS credentials (${tried})`);
  }
}

/**
 * The key pair of `keyId`/`secret`/`token` named by `names` (kwargs or environment variables), or
 * a provider that fails saying which part is missing, or `undefined` when none of them is set.
 */
export function staticCredentials(
  keyId: string | undefined,
  secret: string | undefined,
  token: string | undefined,
  names: { keyId: string; secret: string; token: string },
): AwsIdentity | Provider | undefined {
  if (keyId && secret)
    return { accessKeyId: keyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
  if (!keyId && !secret && !token) return undefined;
  const missing =
    !keyId && !secret
      ? 'AWS access key id and secret access key'
      : !secret
        ? 'AWS secret access key'
        : 'AWS access key id';
  const given = [keyId && names.keyId, secret && names.secret, token && names.token].filter(Boolean);
  const absent = [!keyId && names.keyId, !secret && names.secret].filter(Boolean);
  const are = (list: unknown[]) => `${list.join(' and ')} ${list.length > 1 ? 'are' : 'is'}`;
  const detail = `${are(given)} set but ${are(absent)} not`;
  return () => Promise.reject(new PartialAwsCredentials(missing, detail));
}

type CredentialProviders = typeof import('@aws-sdk/credential-providers');

/** The shared credentials and config files `env` names (else `~/.aws/credentials` and `~/.aws/config`). */
export function sharedFiles(env: Env): { filepath: string; configFilepath: string } {
  const home = env.HOME || env.USERPROFILE || os.homedir();
  return {
    filepath: env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'),
    configFilepath: env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config'),
  };
}

/**
 * The SDK's default chain, without its `process.env` links: the profile (`AWS_PROFILE` of `env`,
 * else `default`) in the files `env` names, web identity from `env`'s `AWS_WEB_IDENTITY_TOKEN_FILE`
 * and `AWS_ROLE_ARN`, then container and instance metadata.
 */
export function defaultChain(cp: CredentialProviders, env: Env, clientConfig: object): Provider {
  const files = sharedFiles(env);
  const profile = env.AWS_PROFILE || 'default';
  const links: [string, Provider][] = [
    [`profile '${profile}'`, cp.fromIni({ profile, ...files, clientConfig })],
  ];
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
    const init = {
      webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE,
      roleArn: env.AWS_ROLE_ARN,
      ...(env.AWS_ROLE_SESSION_NAME ? { roleSessionName: env.AWS_ROLE_SESSION_NAME } : {}),
      clientConfig,
    };
    links.push(['web identity', cp.fromTokenFile(init)]);
  }
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
    links.push(['container metadata', cp.fromContainerMetadata()]);
  }
  // The SDK's own switch lives in process.env; either environment can turn the probe off.
  const imdsOff = [env, process.env].some((e) => e.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true');
  if (!imdsOff) links.push(['instance metadata', cp.fromInstanceMetadata()]);
  return async () => {
    for (const [, link] of links) {
      try {
        return await link();
      } catch (e) {
        if ((e as { tryNextLink?: unknown })?.tryNextLink === false) throw e;
      }
    }
    const tried = [
      'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set',
      ...links.map(([what]) => `${what}: none`),
    ];
    throw new NoAwsCredentials(tried.join('; '));
  };
}

/**
 * The region of `profile` in the config file `env` names (`[default]` or `[profile NAME]`), as
 * botocore reads it when neither `region_name` nor `AWS_REGION`/`AWS_DEFAULT_REGION` is set.
 */
export function regionFromConfigFile(env: Env, profile: string | undefined): string | undefined {
  let text: string;
  try {
    text = readFileSync(sharedFiles(env).configFilepath, 'utf8');
  } catch {
    return undefined;
  }
  const name = profile || env.AWS_PROFILE || 'default';
  const wanted = name === 'default' ? ['default', 'profile default'] : [`profile ${name}`];
  let inside = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      inside = wanted.includes(header[1]!.replace(/\s+/g, ' '));
      continue;
    }
    const kv = inside ? /^region\s*=\s*(\S+)/.exec(line) : null;
    if (kv) return kv[1];
  }
  return undefined;
}

/**
 * SDK client settings the SDK would load from `process.env` and the config files when absent:
 * given explicitly from `env` (with the SDK's defaults when `env` has none).
 */
export function explicitSdkSettings(env: Env, hasEndpoint: boolean): Record<string, unknown> {
  const yes = (v: string | undefined) => v?.toLowerCase() === 'true';
  return {
    useFipsEndpoint: yes(env.AWS_USE_FIPS_ENDPOINT),
    useDualstackEndpoint: yes(env.AWS_USE_DUALSTACK_ENDPOINT),
    retryMode: env.AWS_RETRY_MODE === 'adaptive' ? 'adaptive' : 'standard',
    defaultsMode: 'legacy',
    authSchemePreference: [],
    userAgentAppId: async () => env.AWS_SDK_UA_APP_ID,
    // Without an endpoint of ours, the SDK would look for AWS_ENDPOINT_URL_* in process.env.
    ...(hasEndpoint ? {} : { ignoreConfiguredEndpointUrls: true }),
  };
}

/** `AWS_MAX_ATTEMPTS` of `env`, when it is a whole number ≥ 1. */
export function maxAttemptsFrom(env: Env): number | undefined {
  const n = Number(env.AWS_MAX_ATTEMPTS);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** A failure of {@link staticCredentials} or {@link defaultChain} as the typed error of one read. */
export function credentialsError(backend: string, secretName: string, e: unknown): BackendError | undefined {
  if (e instanceof PartialAwsCredentials) {
    return new BackendError(
      backend,
      'failed',
      `${backend}: cannot read '${secretName}': missing ${e.missing} (${e.detail})`,
      { secretName },
    );
  }
  if (e instanceof NoAwsCredentials) {
    return new BackendError(
      backend,
      'failed',
      `${backend}: cannot read '${secretName}': no AWS credentials found (${e.tried}); set aws_access_key_id and aws_secret_access_key, profile_name or role_arn`,
      { secretName },
    );
  }
  return undefined;
}

/**
 * The Google provider's own shared module (the Secret Manager adapter and the Vault adapter's gcp
 * login both use google-auth-library): silencing its debug logger, which under
 * `GOOGLE_SDK_NODE_LOGGING` prints token endpoints' answers (access tokens, signed JWTs).
 */

/**
 * The static logger of a google-auth-library copy (`AuthClient.log`) swapped for `quiet`
 * (google-logging-utils' no-op `placeholder`): process-wide for that copy.
 */
export function silenceAuthLibrary(
  lib: { AuthClient?: { log?: unknown } } | undefined,
  quiet: unknown,
): void {
  const AuthClient = lib?.AuthClient;
  if (quiet && AuthClient && 'log' in AuthClient) AuthClient.log = quiet;
}

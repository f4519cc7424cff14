/**
 * The Azure fakes as the tests use them: a throw-away certificate, a fake Key Vault and a fake
 * Entra ID tenant over HTTPS on 127.0.0.1 (test/fakes/azure-fake.ts), the tokens Entra issues
 * accepted by the vault, and the SDK options that trust the certificate and reach the fakes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type EntraFake,
  type KeyVaultFake,
  makeSelfSignedCert,
  startEntraFake,
  startKeyVaultFake,
  type Tls,
} from '../fakes/azure-fake.js';

export interface AzureFixture {
  /** A temporary directory (holds the certificate), removed by `close`. */
  dir: string;
  tls: Tls;
  vault: KeyVaultFake;
  entra: EntraFake;
  /** SecretClient options: trust the throw-away certificate; allow the challenge resource on 127.0.0.1. */
  clientOptions(): { tlsOptions: { ca: string }; disableChallengeResourceVerification: true };
  /** @azure/identity options pointing at the fake Entra ID (https authority, no instance discovery). */
  credentialOptions(): { authorityHost: string; disableInstanceDiscovery: true; tlsOptions: { ca: string } };
  close(): Promise<void>;
}

export async function startAzureFixture(options: {
  tenantId: string;
  /** The one application the fake Entra ID knows. */
  clientId: string;
  clientSecret: string;
  /** A bearer token the vault accepts without Entra ID (for a static credential). */
  staticToken: string;
}): Promise<AzureFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'akv-fixture-'));
  const tls = makeSelfSignedCert(dir);
  const vault = await startKeyVaultFake({ tls, tenantId: options.tenantId });
  vault.tokens.add(options.staticToken);
  const entra = await startEntraFake({
    tls,
    tenantId: options.tenantId,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    onToken: (t) => vault.tokens.add(t),
  });
  return {
    dir,
    tls,
    vault,
    entra,
    clientOptions: () => ({ tlsOptions: { ca: tls.cert }, disableChallengeResourceVerification: true }),
    credentialOptions: () => ({
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: tls.cert },
    }),
    async close() {
      await vault.close();
      await entra.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A credential that hands out `token` and never leaves the process. */
export const staticTokenCredential = (token: string) => ({
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
});

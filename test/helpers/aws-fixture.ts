/** What every AWS adapter test passes to reach the wire-level fake (test/fakes/aws-fake.ts). */
import { type AwsFake, zeroDelayRetry } from '../fakes/aws-fake.js';

export interface AwsTestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const AWS_TEST_CREDS: AwsTestCredentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/**
 * The fake's endpoint, an explicit region and credentials (nothing is looked up on the machine),
 * and a retry strategy of `attempts` attempts without back-off delay.
 */
export function awsFakeOptions(
  fake: AwsFake,
  {
    attempts = 3,
    credentials = AWS_TEST_CREDS,
  }: { attempts?: number; credentials?: AwsTestCredentials } = {},
) {
  return {
    endpoint: fake.url,
    region: 'us-east-1',
    credentials,
    clientConfig: { retryStrategy: zeroDelayRetry(attempts) },
  };
}

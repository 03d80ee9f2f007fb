import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start servers on 127.0.0.1 only; nothing here may reach the network.
    // CDK_VALIDATION=false: CDK's built-in CloudFormation rule check costs ~10 s per synthesized stack;
    // `npx cdk synth` (and so every deploy) still runs it.
    env: {
      AWS_REGION: 'us-east-1',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      CDK_VALIDATION: 'false',
    },
  },
})

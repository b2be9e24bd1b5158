import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../infra/build.js';

const text = readFileSync(path.resolve(import.meta.dirname, '../../../serverless.yml'), 'utf8');
const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'));
const yaml = lines.join('\n');

/** serverless.yml is the alternative (Serverless Devs) path; it must agree with what npm run deploy creates. */
describe('serverless.yml', () => {
  it('deploys each function from its bundle folder with the bundle handler', () => {
    for (const fn of FUNCTIONS) {
      expect(yaml).toContain(`functionName: ecs-backup-${fn}`);
      expect(yaml).toContain(`code: ./dist/functions/${fn}`);
    }
    expect(yaml.match(/handler: index\.handler/g)).toHaveLength(FUNCTIONS.length);
  });

  it('sends every function log to SLS and sets no instance concurrency (custom runtimes only in FC 3.0)', () => {
    expect(yaml.match(/logConfig: \$\{vars\.logConfig\}/g)).toHaveLength(FUNCTIONS.length);
    expect(yaml).not.toContain('instanceConcurrency');
  });

  it('keeps the API token out of the file and the HTTP trigger off the internet', () => {
    expect(yaml).not.toMatch(/API_TOKEN:/);
    expect(yaml).toContain('API_TOKEN_SECRET: ecs-backup-api-token');
    expect(yaml).toContain('disableURLInternet: true');
  });

  it('passes queue bodies undecoded and dead-letters undeliverable events', () => {
    expect(yaml).toContain('IsBase64Decode: false');
    expect(yaml).toMatch(/deadLetterQueue:\n\s+Arn: acs:mns:.*:\/queues\/ecs-backup-jobs-dlq/);
  });
});

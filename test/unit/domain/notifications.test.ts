import { describe, expect, it } from 'vitest';
import {
  checkWebhookUrl,
  isPrivateAddress,
  nextAttempt,
  subscriptionMatches,
  toCloudEvent,
  type ProductEvent,
  type Subscription,
} from '../../../lib/domain/notifications.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('isPrivateAddress', () => {
  it.each([
    ['loopback v4', '127.0.0.1', true],
    ['loopback v4 elsewhere in 127/8', '127.8.9.10', true],
    ['loopback v6', '::1', true],
    ['unspecified', '0.0.0.0', true],
    ['private 10/8', '10.1.2.3', true],
    ['private 172.16/12 low end', '172.16.0.1', true],
    ['private 172.16/12 high end', '172.31.255.255', true],
    ['just past 172.16/12', '172.32.0.1', false],
    ['private 192.168/16', '192.168.1.1', true],
    ['link-local v4', '169.254.169.254', true],
    ['shared space (metadata service 100.100.100.200)', '100.100.100.200', true],
    ['unique local v6', 'fd00::1', true],
    ['link-local v6', 'fe80::1', true],
    ['v4-mapped loopback', '::ffff:127.0.0.1', true],
    ['multicast', '224.0.0.1', true],
    ['public v4', '8.8.8.8', false],
    ['public v4 next to shared space', '100.128.0.1', false],
    ['public v6', '2001:4860:4860::8888', false],
  ])('%s: %s → %s', (_name, address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe('checkWebhookUrl', () => {
  const cloud = { requireHttps: true, allowPrivate: false };
  const local = { requireHttps: false, allowPrivate: false };

  it('accepts a public https URL', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', cloud)).toBeNull();
  });
  it('refuses http in the cloud but not locally', () => {
    expect(checkWebhookUrl('http://hooks.example.com/x', cloud)).toBe('must use https');
    expect(checkWebhookUrl('http://hooks.example.com/x', local)).toBeNull();
  });
  it('refuses loopback, private and localhost names unless allowed', () => {
    expect(checkWebhookUrl('https://127.0.0.1:8443/x', cloud)).toMatch(/private, loopback or link-local/);
    expect(checkWebhookUrl('https://[::1]/x', cloud)).toMatch(/private/);
    expect(checkWebhookUrl('https://localhost/x', cloud)).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
    expect(checkWebhookUrl('https://10.0.0.5/x', cloud)).toMatch(/private/);
    expect(checkWebhookUrl('http://127.0.0.1:9/x', { requireHttps: false, allowPrivate: true })).toBeNull();
  });
  it('refuses what is not an http URL, and credentials in it', () => {
    expect(checkWebhookUrl('not a url', local)).toBe('must be an absolute URL');
    expect(checkWebhookUrl('ftp://example.com/x', local)).toBe('must be an http or https URL');
    expect(checkWebhookUrl('https://u:p@example.com/x', local)).toBe('must not carry credentials');
  });
});

describe('nextAttempt', () => {
  const policy = { firstRetrySeconds: 30, windowSeconds: 86_400, maxDelaySeconds: 6 * 3600 };

  it('doubles the wait after each failure', () => {
    expect(nextAttempt(policy, T0, 1, T0)).toEqual({ retryAt: T0 + 30_000 });
    expect(nextAttempt(policy, T0, 2, T0)).toEqual({ retryAt: T0 + 60_000 });
    expect(nextAttempt(policy, T0, 5, T0)).toEqual({ retryAt: T0 + 480_000 });
  });
  it('never waits longer than the longest delay', () => {
    expect(nextAttempt(policy, T0, 20, T0)).toEqual({ retryAt: T0 + 6 * 3600_000 });
  });
  it('gives up when the next attempt would fall past the retry window', () => {
    const late = T0 + 86_400_000 - 10_000;
    const res = nextAttempt(policy, T0, 3, late);
    expect(res).toEqual({ dead: expect.stringContaining('gave up after 3 attempts') });
  });
});

describe('subscriptionMatches and the CloudEvent', () => {
  const sub = (filter: Subscription['filter']): Subscription => ({
    id: 'sub-1',
    target: { kind: 'webhook', url: 'https://hooks.example.com' },
    events: ['job.failed'],
    filter,
    secret: 'whsec_x',
    createdAt: T0,
    updatedAt: T0,
    version: 1,
  });
  const event: ProductEvent = {
    id: 'job-1/FAILED',
    type: 'job.failed',
    at: T0,
    scope: { instanceId: 'i-1', planId: 'plan-1' },
    subject: 'job-1',
    data: { jobId: 'job-1' },
  };

  it('matches on type and on every filter field set', () => {
    expect(subscriptionMatches(sub({}), event)).toBe(true);
    expect(subscriptionMatches(sub({ instanceId: 'i-1', planId: 'plan-1' }), event)).toBe(true);
    expect(subscriptionMatches(sub({ instanceId: 'i-2' }), event)).toBe(false);
    expect(subscriptionMatches(sub({ planId: 'plan-2' }), event)).toBe(false);
    expect(subscriptionMatches(sub({}), { ...event, type: 'job.completed' })).toBe(false);
  });

  it('is a CloudEvents 1.0 structured event', () => {
    expect(toCloudEvent(event)).toEqual({
      specversion: '1.0',
      id: 'job-1/FAILED',
      source: '/ecs-backup',
      type: 'com.ecs-backup.job.failed',
      time: '2026-06-01T00:00:00.000Z',
      subject: 'job-1',
      datacontenttype: 'application/json',
      data: { jobId: 'job-1' },
    });
  });
});

/** `subscriptions ls|create|deliveries|rm`: webhook and MNS topic notifications of events. */
import type { Command } from 'commander';
import { context } from '../context.js';
import type { Column } from '../output.js';
import { addListOptions, collect, enc, printList, type ListOptions } from './common.js';
import { namingOptions } from './field-options.js';

interface SubscriptionView {
  id: string;
  url?: string;
  mnsTopic?: string;
  events: string[];
  filter: { instanceId?: string; planId?: string };
  createdAt: string;
  secret?: string;
}

interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: { at: string; status: number | null; error: string | null }[];
  nextAttemptAt: string | null;
  deadReason: string | null;
  createdAt: string;
}

const filterSummary = (s: SubscriptionView) =>
  Object.entries(s.filter)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

const subscriptionColumns: Column<SubscriptionView>[] = [
  { header: 'SUBSCRIPTION', value: (s) => s.id },
  { header: 'TO', value: (s) => s.url ?? `mns:${s.mnsTopic}` },
  { header: 'EVENTS', value: (s) => s.events },
  { header: 'FILTER', value: filterSummary },
  { header: 'CREATED', value: (s) => s.createdAt },
];

const deliveryColumns: Column<DeliveryView>[] = [
  { header: 'DELIVERY', value: (d) => d.id },
  { header: 'EVENT', value: (d) => d.eventType },
  { header: 'STATUS', value: (d) => d.status },
  { header: 'ATTEMPTS', value: (d) => d.attempts.length },
  { header: 'LAST', value: (d) => d.attempts.at(-1)?.error ?? d.attempts.at(-1)?.status },
  { header: 'NEXT ATTEMPT', value: (d) => d.nextAttemptAt },
  { header: 'DEAD BECAUSE', value: (d) => d.deadReason },
];

const SUBSCRIPTION_FIELD_OPTIONS = {
  url: '--url',
  mnsTopic: '--mns-topic',
  events: '--event',
  'filter.instanceId': '--instance',
  'filter.planId': '--plan',
};

interface CreateOptions {
  url?: string;
  mnsTopic?: string;
  event?: string[];
  instance?: string;
  plan?: string;
}

export function registerSubscriptions(program: Command): void {
  const subs = program.command('subscriptions').description('event notifications by webhook or MNS topic');
  addListOptions(subs.command('ls').alias('list').description('list subscriptions')).action(
    async (o: ListOptions, cmd: Command) => {
      const ctx = context(cmd);
      await printList(ctx, '/subscriptions', o, {}, subscriptionColumns, 'no subscriptions');
    },
  );

  subs
    .command('create')
    .description('subscribe a webhook URL or an MNS topic to events; prints the signing secret once')
    .option('--url <url>', 'webhook receiver (https in the cloud)')
    .option('--mns-topic <topic>', 'MNS topic of this account, instead of --url')
    .option(
      '--event <type>',
      'event type, e.g. job.failed, job.completed, backup.expired, backup.lock-drift, protection.changed, backup.verification-failed (repeatable)',
      collect,
    )
    .option('--instance <instanceId>', 'only events of this instance')
    .option('--plan <planId>', 'only events of this plan')
    .action(async (o: CreateOptions, cmd: Command) => {
      const ctx = context(cmd);
      const filter = {
        ...(o.instance ? { instanceId: o.instance } : {}),
        ...(o.plan ? { planId: o.plan } : {}),
      };
      const body = {
        ...(o.url === undefined ? {} : { url: o.url }),
        ...(o.mnsTopic === undefined ? {} : { mnsTopic: o.mnsTopic }),
        events: o.event ?? [],
        ...(Object.keys(filter).length ? { filter } : {}),
      };
      const created = await namingOptions(SUBSCRIPTION_FIELD_OPTIONS, () =>
        ctx.client.post<SubscriptionView>('/subscriptions', body),
      );
      ctx.out.done(
        `subscription ${created.id} created\n` +
          `signing secret: ${created.secret}\n` +
          'keep it now: it will not be shown again (receivers verify webhook-signature with it)',
        created,
      );
    });

  addListOptions(
    subs
      .command('deliveries')
      .description('deliveries of a subscription: attempts, retries, dead letters')
      .argument('<subscriptionId>'),
  ).action(async (subscriptionId: string, o: ListOptions, cmd: Command) => {
    const ctx = context(cmd);
    await printList(
      ctx,
      `/subscriptions/${enc(subscriptionId)}/deliveries`,
      o,
      {},
      deliveryColumns,
      'no deliveries',
    );
  });

  subs
    .command('rm')
    .alias('delete')
    .description('unsubscribe; pending deliveries end, their records stay')
    .argument('<subscriptionId>')
    .action(async (subscriptionId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const answer = await ctx.client.del<{ subscriptionId: string }>(
        `/subscriptions/${enc(subscriptionId)}`,
      );
      ctx.out.done(`subscription ${answer.subscriptionId} deleted`, { ...answer, deleted: true });
    });
}

/**
 * `ecs-backup`: the command-line tool on the public `/api/v1` (the same routes as the console).
 * Parsing, help and usage errors are commander's; this file maps every ending to an exit code:
 * 0 ok, 1 job ended FAILED/CANCELED/SKIPPED/EXPIRED, 2 usage, 3 API refused, 4 API unreachable.
 */
import { Command, CommanderError, Option } from 'commander';
import { registerBackups } from './commands/backups.js';
import { registerExports } from './commands/exports.js';
import { registerInstances } from './commands/instances.js';
import { registerJobs } from './commands/jobs.js';
import { registerLogin } from './commands/login.js';
import { registerPlans } from './commands/plans.js';
import { registerRules } from './commands/rules.js';
import { registerSubscriptions } from './commands/subscriptions.js';
import { SHELLS } from './completion.js';
import { lastExitCode } from './context.js';
import { CliError, EXIT } from './errors.js';
import pkg from '../../package.json' with { type: 'json' };

export function buildProgram(): Command {
  const program = new Command('ecs-backup')
    .description('Scheduled, agentless backups of Alibaba Cloud ECS instances, from the command line')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .option('--endpoint <url>', 'API endpoint (env ECS_BACKUP_ENDPOINT, or the saved login)')
    .option('--token <token>', 'API token (env ECS_BACKUP_TOKEN, or the saved login)')
    .addOption(
      new Option('--output <format>', 'table or json (default: table on a terminal)').choices([
        'table',
        'json',
      ]),
    );
  registerInstances(program);
  registerPlans(program);
  registerJobs(program);
  registerBackups(program);
  registerExports(program);
  registerRules(program);
  registerSubscriptions(program);
  registerLogin(program);
  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(program.createArgument('<shell>', 'bash, zsh or fish').choices(Object.keys(SHELLS)))
    .action((shell: keyof typeof SHELLS) => {
      process.stdout.write(SHELLS[shell](program));
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return lastExitCode();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof CliError) {
      process.stderr.write(`error: ${e.message.replace(/^\n/, '')}\n`);
      return e.exitCode;
    }
    process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

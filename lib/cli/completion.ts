/**
 * `completion bash|zsh|fish`: completion scripts generated from the command tree itself, so a new
 * command or option completes without anyone editing a script. Commands and subcommands complete
 * by name; each command completes its own options.
 */
import type { Command } from 'commander';

interface Entry {
  /** Space-separated command path, e.g. `plans ls`; `` for the program. */
  key: string;
  words: string[];
  leaf: boolean;
}

function longOptions(cmd: Command): string[] {
  return cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l));
}

function entries(program: Command): Entry[] {
  const out: Entry[] = [{ key: '', words: program.commands.map((c) => c.name()), leaf: false }];
  for (const c of program.commands) {
    if (c.commands.length) {
      out.push({ key: c.name(), words: c.commands.map((s) => s.name()), leaf: false });
      for (const s of c.commands)
        out.push({ key: `${c.name()} ${s.name()}`, words: longOptions(s), leaf: true });
    } else out.push({ key: c.name(), words: longOptions(c), leaf: true });
  }
  const globals = longOptions(program);
  return out.map((e) => (e.leaf ? { ...e, words: [...e.words, ...globals] } : e));
}

/** A leaf at depth one (`protect i-x --…`) keeps its key however many words follow. */
function pattern(e: Entry, quote: (s: string) => string): string {
  return e.leaf && !e.key.includes(' ') ? `${quote(e.key)}|${quote(`${e.key} `)}*` : quote(e.key);
}

function bash(program: Command): string {
  const cases = entries(program)
    .map((e) => `    ${pattern(e, (s) => `"${s}"`)}) words="${e.words.join(' ')}" ;;`)
    .join('\n');
  return `# ecs-backup completion for bash: source <(ecs-backup completion bash)
_ecs_backup() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" key words=""
  if [ "$COMP_CWORD" -eq 1 ]; then key=""
  elif [ "$COMP_CWORD" -eq 2 ]; then key="\${COMP_WORDS[1]}"
  else key="\${COMP_WORDS[1]} \${COMP_WORDS[2]}"; fi
  case "$key" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _ecs_backup ecs-backup
`;
}

function zsh(program: Command): string {
  const cases = entries(program)
    .map((e) => `    ${pattern(e, (s) => `'${s}'`)}) opts=(${e.words.join(' ')}) ;;`)
    .join('\n');
  return `#compdef ecs-backup
# ecs-backup completion for zsh: source <(ecs-backup completion zsh)
_ecs_backup() {
  local key
  local -a opts
  if (( CURRENT == 2 )); then key=''
  elif (( CURRENT == 3 )); then key="\${words[2]}"
  else key="\${words[2]} \${words[3]}"; fi
  case "$key" in
${cases}
  esac
  compadd -- $opts
}
compdef _ecs_backup ecs-backup
`;
}

function fish(program: Command): string {
  const lines = [
    '# ecs-backup completion for fish: ecs-backup completion fish | source',
    'complete -c ecs-backup -f',
    ...program.commands.map(
      (c) =>
        `complete -c ecs-backup -n '__fish_use_subcommand' -a ${c.name()} -d ${JSON.stringify(c.description())}`,
    ),
  ];
  const optionLines = (cmd: Command, condition: string) =>
    [...cmd.options, ...program.options]
      .filter((o) => o.long)
      .map(
        (o) =>
          `complete -c ecs-backup -n '${condition}' -l ${o.long!.slice(2)} -d ${JSON.stringify(o.description)}`,
      );
  for (const c of program.commands) {
    if (!c.commands.length) {
      lines.push(...optionLines(c, `__fish_seen_subcommand_from ${c.name()}`));
      continue;
    }
    const subs = c.commands.map((s) => s.name()).join(' ');
    for (const s of c.commands)
      lines.push(
        `complete -c ecs-backup -n '__fish_seen_subcommand_from ${c.name()}; and not __fish_seen_subcommand_from ${subs}' -a ${s.name()} -d ${JSON.stringify(s.description())}`,
        ...optionLines(
          s,
          `__fish_seen_subcommand_from ${c.name()}; and __fish_seen_subcommand_from ${s.name()}`,
        ),
      );
  }
  return `${lines.join('\n')}\n`;
}

export const SHELLS = { bash, zsh, fish } as const;

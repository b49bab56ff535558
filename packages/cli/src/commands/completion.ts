import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { Action } from "../program.js";

/** Commands and their long options, read from the program so completion never lags behind it. */
function vocabulary(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const globals = program.options
    .map((option) => option.long)
    .filter((long): long is string => !!long);
  for (const command of program.commands) {
    const own = command.options
      .map((option) => option.long)
      .filter((long): long is string => !!long);
    words.set(command.name(), [...own, ...globals, "--help"]);
  }
  return words;
}

function bashScript(words: Map<string, string[]>): string {
  const cases = [...words]
    .map(([name, options]) => `    ${name}) opts="${options.join(" ")}" ;;`)
    .join("\n");
  return `# wf completion for bash: add to ~/.bashrc: source <(wf completion bash)
_wf_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} command=\${COMP_WORDS[1]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${[...words.keys()].join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "$command" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _wf_complete wf
`;
}

function zshScript(words: Map<string, string[]>): string {
  return `# wf completion for zsh: add to ~/.zshrc: source <(wf completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(words)}`;
}

export function registerCompletion(program: Command, action: Action): void {
  program
    .command("completion")
    .description("print a shell completion script: source <(wf completion bash)")
    .argument("[shell]", "bash or zsh", "bash")
    .action(
      action(async (context, shell: string) => {
        const words = vocabulary(program);
        if (shell === "bash") context.out.line(bashScript(words));
        else if (shell === "zsh") context.out.line(zshScript(words));
        else
          throw new UsageError(
            `wf completion supports bash and zsh, got ${JSON.stringify(shell)}.`,
          );
      }),
    );
}

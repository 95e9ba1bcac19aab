// `urllib3-ts completion bash|zsh`: shell completion scripts generated from
// the option table, so every option completes and file-valued ones complete
// file names. Install: `source <(urllib3-ts completion bash)`, or for zsh save
// the output as `_urllib3-ts` in a directory on $fpath.

import { OPTIONS } from './option-table.js';

const METHODS = 'GET HEAD POST PUT PATCH DELETE OPTIONS';

export function bashCompletion(): string {
  const words = OPTIONS.flatMap((o) => (o.short !== undefined ? [o.short, o.long] : [o.long])).join(' ');
  const fileOpts = OPTIONS.filter((o) => o.complete === 'file')
    .flatMap((o) => (o.short !== undefined ? [o.short, o.long] : [o.long]))
    .join('|');
  const choiceCases = OPTIONS.filter((o) => Array.isArray(o.complete))
    .map(
      (o) =>
        `    ${o.long}) COMPREPLY=($(compgen -W "${(o.complete as string[]).join(' ')}" -- "$cur")); return ;;`,
    )
    .join('\n');
  const valueOpts = OPTIONS.filter((o) => o.value !== undefined && o.complete === undefined)
    .flatMap((o) => (o.short !== undefined ? [o.short, o.long] : [o.long]))
    .join('|');
  return `# bash completion for urllib3-ts; load with: source <(urllib3-ts completion bash)
_urllib3_ts() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${fileOpts}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
${choiceCases}
    ${valueOpts}) COMPREPLY=(); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "${words}" -- "$cur"))
  elif [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${METHODS} completion" -- "$cur"))
  elif [[ "\${COMP_WORDS[1]}" == completion ]]; then
    COMPREPLY=($(compgen -W "bash zsh" -- "$cur"))
  fi
}
complete -o default -F _urllib3_ts urllib3-ts
`;
}

function zshQuote(text: string): string {
  return text.replace(/'/g, `'\\''`).replace(/[[\]:]/g, (c) => `\\${c}`);
}

export function zshCompletion(): string {
  const specs = OPTIONS.map((o) => {
    const help = zshQuote(o.help);
    let action = '';
    if (o.value !== undefined) {
      const name = zshQuote(o.value.replace(/'/g, ''));
      if (o.complete === 'file') action = `:${name}:_files`;
      else if (Array.isArray(o.complete)) action = `:${name}:(${(o.complete as string[]).join(' ')})`;
      else action = `:${name}: `;
    }
    // A repeatable option is `*`-prefixed and excludes nothing; others exclude their other spelling.
    if (o.short !== undefined) {
      const prefix = o.repeat ? '*' : `(${o.short} ${o.long})`;
      return `  '${prefix}'{${o.short},${o.long}}'[${help}]${action}'`;
    }
    return `  '${o.repeat ? '*' : ''}${o.long}[${help}]${action}'`;
  });
  return `#compdef urllib3-ts
# zsh completion for urllib3-ts; save as _urllib3-ts in a directory on $fpath,
# or load at once with: source <(urllib3-ts completion zsh)
_urllib3_ts() {
  _arguments -s \\
${specs.join(' \\\n')} \\
    '1:method or URL:(${METHODS} completion)' \\
    '*:request item or URL: '
}
if [[ "$funcstack[1]" == _urllib3_ts || "$funcstack[1]" == _urllib3-ts ]]; then
  _urllib3_ts "$@"
else
  compdef _urllib3_ts urllib3-ts
fi
`;
}

# zsh -f zsh-complete.zsh FPATH_DIR LINE...
# For each LINE, prints "== LINE" and then every candidate zsh's completion
# system offers when TAB is pressed at its end, as <<word word ...>> lines.
# It runs an interactive zsh on a pseudo-terminal (zsh/zpty) with FPATH_DIR
# in $fpath, wraps `compadd` to print the candidates, types the line, presses
# TAB, clears the line with ^U (^C would flush the typeahead) and waits,
# bounded, for the output of a marker command.
zmodload zsh/zpty
local dir=$1; shift
local out chunk line
integer n=0 i

sync() {
  n+=1
  zpty -w z "$1"
  zpty -w z "print MARK-\$(( $n * 7 ))"
  out='' i=0
  while (( i++ < 200 )); do
    if zpty -r -t z chunk; then
      out+=$chunk
      [[ $out == *MARK-$(( n * 7 ))* ]] && return 0
    else
      sleep 0.05
    fi
  done
  print -u2 "zsh did not answer after: $1"
  zpty -d z
  exit 1
}

zpty z zsh -f -i
sync "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
sync 'zstyle ":completion:*" insert-tab false; compadd() { local -a __h; builtin compadd -O __h "$@"; (( $#__h )) && print -rl -- "<<"${^__h}">>"; builtin compadd "$@" }'
for line in "$@"; do
  sync "$line"$'\t\x15'
  print -r -- "== $line"
  print -r -- "$out" | grep -ao '<<[^>]*>>'
done
zpty -d z

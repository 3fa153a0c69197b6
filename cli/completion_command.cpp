#include <iostream>

#include "cli/commands.h"

namespace s3hc::cli {

namespace {

// Completes the subcommands and their options; file names after -f/--file. Loaded with
// `source <(s3hc-ctl completion bash)`, or installed as
// /etc/bash_completion.d/s3hc-ctl.
constexpr const char* kBashCompletion = R"(_s3hc_ctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local global="--control --token-file --ca-file --timeout-ms --json --help --version"
  case "$prev" in
    -f|--file|--token-file|--ca-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --cache-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  local words=" ${COMP_WORDS[*]:1:COMP_CWORD-1} " choices
  case "$words" in
    *" policy get "*) choices="--version" ;;
    *" policy set "*|*" policy apply "*) choices="-f --file --expect-version --comment" ;;
    *" policy validate "*|*" policy diff "*|*" config validate "*) choices="-f --file" ;;
    *" policy history "*) choices="--limit" ;;
    *" policy rollback "*) choices="--expect-version --comment" ;;
    *" policy "*) choices="get set apply validate diff history rollback" ;;
    *" config "*) choices="validate" ;;
    *" completion "*) choices="bash" ;;
    *" proxies "*|*" stats "*|*" status "*) choices="" ;;
    *" purge "*) choices="--cache-dir --prefix" ;;
    *" warm "*) choices="-f --file --proxy --parallel" ;;
    *" cache inspect "*) choices="--cache-dir" ;;
    *" cache "*) choices="inspect" ;;
    *) choices="status policy proxies stats purge warm cache config completion $global" ;;
  esac
  COMPREPLY=($(compgen -W "$choices" -- "$cur"))
}
complete -F _s3hc_ctl s3hc-ctl
)";

}  // namespace

void add_completion_command(CLI::App& app, Invocation&) {
  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->require_subcommand(1);
  completion->add_subcommand("bash", "bash: source <(s3hc-ctl completion bash)")
      ->callback([] { std::cout << kBashCompletion; });
}

}  // namespace s3hc::cli

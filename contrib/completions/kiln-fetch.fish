# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kiln_fetch_global_optspecs
    string join \n V config= root= store= q/quiet v/verbose json no-progress h/help
end

function __fish_kiln_fetch_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kiln_fetch_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kiln_fetch_using_subcommand
    set -l cmd (__fish_kiln_fetch_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -s V -d 'Print the version (alone: with a command it is an error, never a silent success)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "install" -d 'Install a build by number or by channel, and make it current'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "rollback" -d 'Switch back to the previous build (or --to N)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "list" -d 'Installed builds, current, and the channel last followed'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "verify" -d 'Re-hash the current build\'s files; exit 1 on any drift'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "remove" -d 'Take a package off the host: its entry points, `current` and every build'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "follow" -d 'Keep a package at a channel\'s build: poll its pointer, install when it moves'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "gc" -d 'Remove old builds (never current nor the rollback target)'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "version" -d 'Print kiln-fetch\'s version'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "man" -d 'Print kiln-fetch\'s man page, or write every page into a directory'
complete -c kiln-fetch -n "__fish_kiln_fetch_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l version -d 'The build number to install' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l channel -d 'Install the build this channel points at' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l restart -d 'Also restart this service when the package changes (repeatable)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l no-restart -d 'Do not restart services'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l dry-run -d 'Say what would happen; change nothing'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l reinstall -d 'Download and unpack a fresh copy even if the build is on the host (repairs a build `verify` found changed); restarts and health-checks like any change'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand install" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l to -d 'The build to go back to; default the previous one in the history' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l no-restart -d 'Do not restart services'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand list" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand verify" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l dry-run -d 'Say what would be removed; change nothing'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand remove" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l channel -d 'The channel to follow' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l interval -d 'Time between polls (with 10% jitter), e.g. 30s, 5m' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l once -d 'Poll once and exit (for a timer)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l no-restart -d 'Do not restart services'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand follow" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l keep -d 'Builds to keep per package (current and the rollback target are always kept); default the config\'s `keep`' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand gc" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand version" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l out -d 'Write every page into DIR instead of printing kiln-fetch.1' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l config -d 'Config file; default /etc/kiln/fetch.toml (optional when --store is given)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l root -d 'Put the whole host layout under DIR (default the config\'s root, else /)' -r -F
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l store -d 'Store URL or path (overrides the config\'s store)' -r
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -s q -l quiet -d 'Print only errors and results'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand man" -s h -l help -d 'Print help'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "install" -d 'Install a build by number or by channel, and make it current'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "rollback" -d 'Switch back to the previous build (or --to N)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "list" -d 'Installed builds, current, and the channel last followed'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "verify" -d 'Re-hash the current build\'s files; exit 1 on any drift'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "remove" -d 'Take a package off the host: its entry points, `current` and every build'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "follow" -d 'Keep a package at a channel\'s build: poll its pointer, install when it moves'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "gc" -d 'Remove old builds (never current nor the rollback target)'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "version" -d 'Print kiln-fetch\'s version'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "man" -d 'Print kiln-fetch\'s man page, or write every page into a directory'
complete -c kiln-fetch -n "__fish_kiln_fetch_using_subcommand help; and not __fish_seen_subcommand_from install rollback list verify remove follow gc version completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

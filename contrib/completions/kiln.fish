# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kiln_global_optspecs
    string join \n V/version C= q/quiet v/verbose json no-progress offline distdir= j/jobs= sandbox= remote-cache= remote-cache-mode= remote-instance= remote-executor= remote-fallback h/help
end

function __fish_kiln_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kiln_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kiln_using_subcommand
    set -l cmd (__fish_kiln_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kiln -n "__fish_kiln_needs_command" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_needs_command" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_needs_command" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_needs_command" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_needs_command" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_needs_command" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_needs_command" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_needs_command" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_needs_command" -s V -l version -d 'Print the version (alone: with a command it is an error)'
complete -c kiln -n "__fish_kiln_needs_command" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_needs_command" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_needs_command" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_needs_command" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_needs_command" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_needs_command" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "build" -d 'Build targets; prints each bundle\'s label, path and sha256'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "test" -d 'Run tests; passing results are cached and print "(cached) PASSED"'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "fetch" -d 'Download and extract the archives the targets use, into the cache'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "query" -d 'List targets, or ask what depends on what (--output label|json|dot)'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "publish" -d 'Build bundles and publish them to the store as build N'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "promote" -d 'Point a channel at a published build'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "releases" -d 'List a package\'s builds and where its channels point'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "status" -d 'The fleet from its receipts: which hosts run which build of a package'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "clean" -d 'Remove kiln-out/ (the cache is kept)'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "gc" -d 'Trim the local cache (least recently used first) and sweep leftovers of killed runs'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "sha256" -d 'Print the sha256 of files or URLs (the pin for WORKSPACE.toml)'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "keygen" -d 'Write a new ed25519 key pair for signing: FILE (secret) and FILE.pub'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "keys" -d 'Sign and publish the store\'s keys record with the root key: which release keys may sign which packages'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "worker" -d 'Run actions for a REAPI server (BuildGrid\'s Bots API) in kiln\'s sandbox'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "man" -d 'Print kiln\'s man page, or write every page into a directory'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand test" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand test" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand test" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand test" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand test" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand test" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand test" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand test" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand test" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand test" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand test" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand test" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand test" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand test" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l output -d '`label`: one label a line; `json`: one JSON object (as --json); `dot`: a Graphviz graph of the labels and the edges between them' -r -f -a "label\t''
json\t''
dot\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -a "deps" -d 'Everything LABEL depends on, directly or not'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -a "rdeps" -d 'Every target that depends on LABEL, directly or not'
complete -c kiln -n "__fish_kiln_using_subcommand query; and not __fish_seen_subcommand_from deps rdeps help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l output -d '`label`: one label a line; `json`: one JSON object (as --json); `dot`: a Graphviz graph of the labels and the edges between them' -r -f -a "label\t''
json\t''
dot\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from deps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l output -d '`label`: one label a line; `json`: one JSON object (as --json); `dot`: a Graphviz graph of the labels and the edges between them' -r -f -a "label\t''
json\t''
dot\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from rdeps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from help" -f -a "deps" -d 'Everything LABEL depends on, directly or not'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from help" -f -a "rdeps" -d 'Every target that depends on LABEL, directly or not'
complete -c kiln -n "__fish_kiln_using_subcommand query; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l build-number -d 'The build number (a positive integer); default $BUILD_NUMBER' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l store -d 'Store URL or path; default [store] url in WORKSPACE.toml, else file://.kiln/store' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l channel -d 'Also point this channel at the new build' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l signing-key -d 'Sign the release records (and channel pointer) with this key; default $KILN_SIGNING_KEY' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand publish" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand publish" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand publish" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l channel -d 'The channel to move' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l reason -d 'Why, for the channel\'s history' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l expires -d 'Hosts refuse to follow the pointer after this long (e.g. 30d, 12h)' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l signing-key -d 'Sign the pointer with this key; default $KILN_SIGNING_KEY' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l store -d 'Store URL or path; default [store] url in WORKSPACE.toml' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand promote" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l allow-unsigned -d 'Move a signed channel without a key (hosts that require signatures refuse it)'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l store -d 'Store URL or path; default [store] url in WORKSPACE.toml' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l trusted-key -d 'A public key whose signatures count (repeatable); default the public half of --signing-key or $KILN_SIGNING_KEY' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l signing-key -d 'With --verify: the signing key whose public half to trust' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand releases" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand releases" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l verify -d 'Check every signature and each channel\'s history chain, from the store alone'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand releases" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand status" -l channel -d 'Compare each host with this channel\'s build' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l stale -d 'A host whose last receipt is older than this is stale: more than the hosts\' [receipts] heartbeat (1h unless set), which idle followers write at' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l trusted-host-key -d 'A host key whose signed receipts count as verified (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l store -d 'Store URL or path; default [store] url in WORKSPACE.toml' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand status" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand status" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand status" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand status" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand status" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand status" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand status" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand status" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand status" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand status" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand clean" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand clean" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand clean" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l max-size -d 'Remove entries, least recently used first, until the cache holds at most SIZE (e.g. 500M, 20G)' -r
complete -c kiln -n "__fish_kiln_using_subcommand gc" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand gc" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand gc" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand sha256" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l out -d 'The secret key\'s file; the public key goes to FILE.pub' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l root -d 'A root key: it signs only keys records (`kiln keys`); keep it offline'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l root-key -d 'The root key (`kiln keygen --root`); default $KILN_ROOT_KEY' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l grant -d 'PACKAGES=KEY: a release key and the packages it may sign (`*` for all, or `solr,hello`); repeatable' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l version -d 'The record\'s version; default one past the store\'s' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l expires -d 'Hosts refuse the record after this long' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l store -d 'Store URL or path; default [store] url in WORKSPACE.toml' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand keys" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand keys" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand keys" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l server -d 'The REAPI server\'s Bots service: grpc://HOST:PORT or grpcs://HOST:PORT' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l instance -d 'The REAPI instance name (default: the server\'s default instance, "")' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l name -d 'The worker\'s name: bot ids are NAME-0, NAME-1, ... (default: the host name)' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand worker" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand worker" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand completions" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand completions" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand man" -l out -d 'Write every page into DIR instead of printing kiln.1' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand man" -s C -d 'Run as if started in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand man" -l distdir -d 'A directory of archive files, looked up by file name before any download' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand man" -s j -l jobs -d 'How many actions run at once; default the number of cores' -r
complete -c kiln -n "__fish_kiln_using_subcommand man" -l sandbox -d 'Where actions run: `linux` (namespaces; the default) or `none` (no isolation)' -r -f -a "linux\t'Namespaces: only declared inputs, no network, private /tmp, read-only everything else'
none\t'No isolation; results are marked and never shared through a remote cache'"
complete -c kiln -n "__fish_kiln_using_subcommand man" -l remote-cache -d 'A remote build cache shared by CI workers (overrides [cache] url)' -r
complete -c kiln -n "__fish_kiln_using_subcommand man" -l remote-cache-mode -d '`read` never writes the remote cache (pull-request builds); overrides [cache] mode' -r -f -a "read\t''
read-write\t''"
complete -c kiln -n "__fish_kiln_using_subcommand man" -l remote-instance -d 'The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance)' -r
complete -c kiln -n "__fish_kiln_using_subcommand man" -l remote-executor -d 'A REAPI server that runs the actions the cache misses (overrides [remote] executor); it is the build\'s remote cache too' -r
complete -c kiln -n "__fish_kiln_using_subcommand man" -s q -l quiet -d 'Print only errors and results'
complete -c kiln -n "__fish_kiln_using_subcommand man" -s v -l verbose -d 'Say more: which mirror, cache hits and misses (repeatable)'
complete -c kiln -n "__fish_kiln_using_subcommand man" -l json -d 'Print exactly one JSON object on stdout, failures included (docs/json.md)'
complete -c kiln -n "__fish_kiln_using_subcommand man" -l no-progress -d 'Never draw progress bars (they are drawn only on a terminal anyway)'
complete -c kiln -n "__fish_kiln_using_subcommand man" -l offline -d 'Use only archives already in the cache (or in a --distdir)'
complete -c kiln -n "__fish_kiln_using_subcommand man" -l remote-fallback -d 'When the remote executor cannot be reached, run actions here (one warning) instead of failing the build'
complete -c kiln -n "__fish_kiln_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "build" -d 'Build targets; prints each bundle\'s label, path and sha256'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "test" -d 'Run tests; passing results are cached and print "(cached) PASSED"'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "fetch" -d 'Download and extract the archives the targets use, into the cache'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "query" -d 'List targets, or ask what depends on what (--output label|json|dot)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "publish" -d 'Build bundles and publish them to the store as build N'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "promote" -d 'Point a channel at a published build'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "releases" -d 'List a package\'s builds and where its channels point'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "status" -d 'The fleet from its receipts: which hosts run which build of a package'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "clean" -d 'Remove kiln-out/ (the cache is kept)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "gc" -d 'Trim the local cache (least recently used first) and sweep leftovers of killed runs'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "sha256" -d 'Print the sha256 of files or URLs (the pin for WORKSPACE.toml)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "keygen" -d 'Write a new ed25519 key pair for signing: FILE (secret) and FILE.pub'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "keys" -d 'Sign and publish the store\'s keys record with the root key: which release keys may sign which packages'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "worker" -d 'Run actions for a REAPI server (BuildGrid\'s Bots API) in kiln\'s sandbox'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "man" -d 'Print kiln\'s man page, or write every page into a directory'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from query" -f -a "deps" -d 'Everything LABEL depends on, directly or not'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from query" -f -a "rdeps" -d 'Every target that depends on LABEL, directly or not'

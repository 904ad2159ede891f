_kiln() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="kiln"
                ;;
            kiln,build)
                cmd="kiln__subcmd__build"
                ;;
            kiln,clean)
                cmd="kiln__subcmd__clean"
                ;;
            kiln,completions)
                cmd="kiln__subcmd__completions"
                ;;
            kiln,fetch)
                cmd="kiln__subcmd__fetch"
                ;;
            kiln,gc)
                cmd="kiln__subcmd__gc"
                ;;
            kiln,help)
                cmd="kiln__subcmd__help"
                ;;
            kiln,keygen)
                cmd="kiln__subcmd__keygen"
                ;;
            kiln,keys)
                cmd="kiln__subcmd__keys"
                ;;
            kiln,man)
                cmd="kiln__subcmd__man"
                ;;
            kiln,promote)
                cmd="kiln__subcmd__promote"
                ;;
            kiln,publish)
                cmd="kiln__subcmd__publish"
                ;;
            kiln,query)
                cmd="kiln__subcmd__query"
                ;;
            kiln,releases)
                cmd="kiln__subcmd__releases"
                ;;
            kiln,sha256)
                cmd="kiln__subcmd__sha256"
                ;;
            kiln,status)
                cmd="kiln__subcmd__status"
                ;;
            kiln,test)
                cmd="kiln__subcmd__test"
                ;;
            kiln,worker)
                cmd="kiln__subcmd__worker"
                ;;
            kiln__subcmd__help,build)
                cmd="kiln__subcmd__help__subcmd__build"
                ;;
            kiln__subcmd__help,clean)
                cmd="kiln__subcmd__help__subcmd__clean"
                ;;
            kiln__subcmd__help,completions)
                cmd="kiln__subcmd__help__subcmd__completions"
                ;;
            kiln__subcmd__help,fetch)
                cmd="kiln__subcmd__help__subcmd__fetch"
                ;;
            kiln__subcmd__help,gc)
                cmd="kiln__subcmd__help__subcmd__gc"
                ;;
            kiln__subcmd__help,help)
                cmd="kiln__subcmd__help__subcmd__help"
                ;;
            kiln__subcmd__help,keygen)
                cmd="kiln__subcmd__help__subcmd__keygen"
                ;;
            kiln__subcmd__help,keys)
                cmd="kiln__subcmd__help__subcmd__keys"
                ;;
            kiln__subcmd__help,man)
                cmd="kiln__subcmd__help__subcmd__man"
                ;;
            kiln__subcmd__help,promote)
                cmd="kiln__subcmd__help__subcmd__promote"
                ;;
            kiln__subcmd__help,publish)
                cmd="kiln__subcmd__help__subcmd__publish"
                ;;
            kiln__subcmd__help,query)
                cmd="kiln__subcmd__help__subcmd__query"
                ;;
            kiln__subcmd__help,releases)
                cmd="kiln__subcmd__help__subcmd__releases"
                ;;
            kiln__subcmd__help,sha256)
                cmd="kiln__subcmd__help__subcmd__sha256"
                ;;
            kiln__subcmd__help,status)
                cmd="kiln__subcmd__help__subcmd__status"
                ;;
            kiln__subcmd__help,test)
                cmd="kiln__subcmd__help__subcmd__test"
                ;;
            kiln__subcmd__help,worker)
                cmd="kiln__subcmd__help__subcmd__worker"
                ;;
            kiln__subcmd__help__subcmd__query,deps)
                cmd="kiln__subcmd__help__subcmd__query__subcmd__deps"
                ;;
            kiln__subcmd__help__subcmd__query,rdeps)
                cmd="kiln__subcmd__help__subcmd__query__subcmd__rdeps"
                ;;
            kiln__subcmd__query,deps)
                cmd="kiln__subcmd__query__subcmd__deps"
                ;;
            kiln__subcmd__query,help)
                cmd="kiln__subcmd__query__subcmd__help"
                ;;
            kiln__subcmd__query,rdeps)
                cmd="kiln__subcmd__query__subcmd__rdeps"
                ;;
            kiln__subcmd__query__subcmd__help,deps)
                cmd="kiln__subcmd__query__subcmd__help__subcmd__deps"
                ;;
            kiln__subcmd__query__subcmd__help,help)
                cmd="kiln__subcmd__query__subcmd__help__subcmd__help"
                ;;
            kiln__subcmd__query__subcmd__help,rdeps)
                cmd="kiln__subcmd__query__subcmd__help__subcmd__rdeps"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        kiln)
            opts="-V -C -q -v -j -h --version --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__build)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__clean)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__completions)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__fetch)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__gc)
            opts="-C -q -v -j -h --max-size --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --max-size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help)
            opts="build test fetch query publish promote releases status clean gc sha256 keygen keys worker completions man help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__build)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__clean)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__fetch)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__gc)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__keygen)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__keys)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__man)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__promote)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__publish)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__query)
            opts="deps rdeps"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__query__subcmd__deps)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__query__subcmd__rdeps)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__releases)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__sha256)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__test)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__help__subcmd__worker)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__keygen)
            opts="-C -q -v -j -h --out --root --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__keys)
            opts="-C -q -v -j -h --root-key --grant --version --expires --store --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --grant)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --expires)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --store)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__man)
            opts="-C -q -v -j -h --out --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__promote)
            opts="-C -q -v -j -h --channel --reason --expires --signing-key --allow-unsigned --store --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --channel)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reason)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --expires)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signing-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --store)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__publish)
            opts="-C -q -v -j -h --build-number --store --channel --signing-key --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --build-number)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --store)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --channel)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signing-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query)
            opts="-C -q -v -j -h --output --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help deps rdeps help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -W "label json dot" -- "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__deps)
            opts="-C -q -v -j -h --output --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -W "label json dot" -- "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__help)
            opts="deps rdeps help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__help__subcmd__deps)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__help__subcmd__rdeps)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__query__subcmd__rdeps)
            opts="-C -q -v -j -h --output --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -W "label json dot" -- "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__releases)
            opts="-C -q -v -j -h --store --verify --trusted-key --signing-key --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --store)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signing-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__sha256)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__status)
            opts="-C -q -v -j -h --channel --stale --trusted-host-key --store --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --channel)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stale)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-host-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --store)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__test)
            opts="-C -q -v -j -h --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kiln__subcmd__worker)
            opts="-C -q -v -j -h --server --instance --name --quiet --verbose --json --no-progress --offline --distdir --jobs --sandbox --remote-cache --remote-cache-mode --remote-instance --remote-executor --remote-fallback --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --server)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --distdir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sandbox)
                    COMPREPLY=($(compgen -W "linux none" -- "${cur}"))
                    return 0
                    ;;
                --remote-cache)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-cache-mode)
                    COMPREPLY=($(compgen -W "read read-write" -- "${cur}"))
                    return 0
                    ;;
                --remote-instance)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --remote-executor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _kiln -o nosort -o bashdefault -o default kiln
else
    complete -F _kiln -o bashdefault -o default kiln
fi

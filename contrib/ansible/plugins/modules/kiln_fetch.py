#!/usr/bin/python
# Copyright: kiln developers
# Apache License 2.0 (see the kiln repository's LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kiln_fetch
short_description: Install a kiln bundle on a host, by build number or by channel
description:
  - Runs C(kiln-fetch), which downloads the build, checks its signature and every byte
    against the signed release record, unpacks it, switches C(current) atomically,
    links a tool's entry points into C(/usr/local/bin), restarts the package's services,
    runs its health check and rolls back on failure.
  - C(changed) is what kiln-fetch reports, so a handler notified by this task runs only
    when the host's build changed.
  - Check mode is kiln-fetch's C(--dry-run) and touches nothing. Diff mode shows the
    build before and after.
version_added: "0.1.0"
options:
  name:
    description: The package, as the store names it (a bundle's name).
    type: str
    required: true
  version:
    description:
      - The build number to install (with I(state=present)), or to go back to (with
        I(state=rolled_back)). Exactly one of I(version) and I(channel) for
        I(state=present).
    type: int
  channel:
    description: Install the build this channel points at (for example C(prod)).
    type: str
  state:
    description:
      - C(present) installs the build and makes it current.
      - C(absent) removes the package from the host (its entry points, C(current) and
        every build); stop its services first.
      - C(rolled_back) switches back to the previous build (or to I(version)).
    type: str
    choices: [present, absent, rolled_back]
    default: present
  restart:
    description: Restart the package's services when the build changes.
    type: bool
    default: true
  config:
    description: kiln-fetch's config file (default C(/etc/kiln/fetch.toml)).
    type: path
  root:
    description: Put the whole host layout under this directory (default the config's root).
    type: path
  store:
    description: The store URL or path, overriding the config's.
    type: str
  executable:
    description: The kiln-fetch binary.
    type: path
    default: kiln-fetch
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - kiln-fetch's own exit codes and messages are passed on; see its docs/operations.md.
author:
  - kiln developers
"""

EXAMPLES = r"""
- name: Solr at build 42, restarting nginx when it changes
  kiln.tools.kiln_fetch:
    name: solr
    version: 42
  notify: restart nginx

- name: jq, following the prod channel
  kiln.tools.kiln_fetch:
    name: jq
    channel: prod

- name: Back to the build before
  kiln.tools.kiln_fetch:
    name: solr
    state: rolled_back

- name: Take jq off the host
  kiln.tools.kiln_fetch:
    name: jq
    state: absent
"""

RETURN = r"""
build:
  description: The build now current (for check mode, the one that would be).
  type: int
  returned: when state is present or rolled_back
previous:
  description: The build current before the task, or null. With state=present it is
    returned by a failed task too, as the build the host still runs (or went back to).
  type: int
  returned: success, and failure with state=present
restarted:
  description: The services restarted, in order.
  type: list
  elements: str
  returned: when state is present or rolled_back
removed:
  description: The builds removed (state absent).
  type: list
  elements: int
  returned: when state is absent
hint:
  description: kiln-fetch's advice on a failure.
  type: str
  returned: on failure
exit_code:
  description: kiln-fetch's exit code on a failure (1 the work, 2 bad input, 3 the environment, 4 rolled back to a build that is unhealthy too).
  type: int
  returned: on failure
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def base_command(module):
    """kiln-fetch with the task's config, root and store."""
    p = module.params
    cmd = [p["executable"]]
    for flag in ("config", "root", "store"):
        if p[flag] is not None:
            cmd += ["--" + flag, str(p[flag])]
    return cmd


def kiln_fetch(module, args, on_failure=None):
    """Run kiln-fetch with --json; return its one object. A failure fails the task with
    kiln-fetch's message, and the fields of `on_failure` (what the host ran before)."""
    cmd = base_command(module) + ["--json"] + args
    rc, out, err = module.run_command(cmd)
    try:
        obj = json.loads(out)
    except ValueError:
        module.fail_json(msg="kiln-fetch printed no JSON object: " + (err or out).strip(), rc=rc, cmd=cmd)
    if not isinstance(obj, dict) or not isinstance(obj.get("changed"), bool):
        module.fail_json(msg="kiln-fetch printed JSON that is not its result object", rc=rc, cmd=cmd)
    # The exit code decides as much as the object: either saying failure is a failure.
    if obj.get("failed") or rc != 0:
        module.fail_json(
            msg=obj.get("error") or err.strip() or "kiln-fetch exited %d" % rc,
            hint=obj.get("hint"),
            exit_code=obj.get("exit_code", rc),
            changed=obj.get("changed") is True,
            **(on_failure or {})
        )
    return obj


def current_build(module, name):
    """The build of `name` current on the host, or None; None too if kiln-fetch cannot
    say (the install that follows reports why)."""
    rc, out, _ = module.run_command(base_command(module) + ["--json", "list", name])
    try:
        rows = json.loads(out).get("packages", []) if rc == 0 else []
    except (ValueError, AttributeError):
        return None
    return next((r.get("current") for r in rows if r.get("package") == name), None)


def build_text(name, build):
    return "%s %s\n" % (name, "build %d" % build if build is not None else "not installed")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="int"),
            channel=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent", "rolled_back"]),
            restart=dict(type="bool", default=True),
            config=dict(type="path"),
            root=dict(type="path"),
            store=dict(type="str"),
            executable=dict(type="path", default="kiln-fetch"),
        ),
        mutually_exclusive=[("version", "channel")],
        required_if=[("state", "present", ("version", "channel"), True)],
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    result = dict(changed=False)
    # A package name as the store has it, never something kiln-fetch would read as a flag.
    if not NAME.match(name):
        module.fail_json(msg="name %r is not a package name: use letters, digits, '.', '_' and '-', starting with a letter or digit" % name)
    if p["version"] is not None and (isinstance(p["version"], bool) or p["version"] < 1):
        module.fail_json(msg="version must be a build number (a positive whole number), not %r" % p["version"])
    if p["state"] == "absent" and p["version"] is not None:
        module.fail_json(msg="state=absent takes no version: it removes every build of the package")

    if p["state"] == "present":
        args = ["install", name]
        args += ["--version", str(p["version"])] if p["version"] is not None else ["--channel", p["channel"]]
        if not p["restart"]:
            args.append("--no-restart")
        if module.check_mode:
            args.append("--dry-run")
        # What runs now, for a failed task to return as `previous` (read from the
        # host's own state: no store request).
        obj = kiln_fetch(module, args, on_failure=dict(previous=current_build(module, name)))
        plan = obj.get("dry_run") or {}
        before = plan.get("switch_from", obj.get("previous")) if plan else obj.get("previous")
        after = obj.get("build")
        result.update(
            changed=obj["changed"],
            build=after,
            previous=before,
            restarted=plan.get("restart", []) if plan else obj.get("restarted", []),
        )
        if module._diff and result["changed"]:
            result["diff"] = dict(before=build_text(name, before), after=build_text(name, after))
    elif p["state"] == "absent":
        if p["channel"] is not None:
            module.fail_json(msg="state=absent takes no channel")
        args = ["remove", name] + (["--dry-run"] if module.check_mode else [])
        obj = kiln_fetch(module, args)
        result.update(changed=obj["changed"], previous=obj.get("previous"), removed=obj.get("removed", []))
        if module._diff and result["changed"]:
            result["diff"] = dict(before=build_text(name, obj.get("previous")), after=build_text(name, None))
    else:
        if p["channel"] is not None:
            module.fail_json(msg="state=rolled_back takes a version (the build to go back to), not a channel")
        listed = kiln_fetch(module, ["list"])
        row = next((r for r in listed.get("packages", []) if r.get("package") == name), None)
        current = row.get("current") if row else None
        target = p["version"] if p["version"] is not None else (row or {}).get("rollback_target")
        if current is None or target is None or not module.check_mode:
            # kiln-fetch says what is wrong (not installed, nothing to go back to) and
            # does the rollback.
            args = ["rollback", name]
            if p["version"] is not None:
                args += ["--to", str(p["version"])]
            if not p["restart"]:
                args.append("--no-restart")
            if module.check_mode:
                module.fail_json(
                    msg="%s has no build to roll back to" % name if current is not None else "%s is not installed" % name,
                    hint="name one with version",
                    exit_code=2,
                )
            obj = kiln_fetch(module, args)
            result.update(
                changed=obj["changed"],
                build=obj.get("build"),
                previous=obj.get("previous"),
                restarted=obj.get("restarted", []),
            )
        else:
            # What the rollback would do is what installing the target would: the
            # store is asked (the build exists, its signature holds), nothing changes.
            args = ["install", name, "--version", str(target), "--dry-run"]
            if not p["restart"]:
                args.append("--no-restart")
            obj = kiln_fetch(module, args)
            plan = obj.get("dry_run") or {}
            result.update(changed=obj["changed"], build=target, previous=current, restarted=plan.get("restart", []))
        if module._diff and result["changed"]:
            result["diff"] = dict(before=build_text(name, current), after=build_text(name, result["build"]))

    module.exit_json(**result)


if __name__ == "__main__":
    main()

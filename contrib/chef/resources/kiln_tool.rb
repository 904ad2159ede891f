# kiln_tool: install a kiln bundle on the node with kiln-fetch, by build number or by
# a channel's latest. The resource is updated only when kiln-fetch says `changed`, so
# `notifies :restart, 'service[x]'` behaves like Chef's own resources. Why-run mode is
# kiln-fetch's --dry-run. kiln-fetch's exit codes: 1 the work failed, 2 bad input,
# 3 the environment; its message and hint are the failure's.
#
# Not run against a Chef client here (Chef cannot be installed on the build machines);
# CI checks its syntax with `ruby -c`. docs/operations.md shows a recipe.

require 'json'

unified_mode true
resource_name :kiln_tool
provides :kiln_tool

property :package_name, String, name_property: true
property :version, Integer
property :channel, String
property :restart, [true, false], default: true
property :config, String
property :root, String
property :store, String
property :executable, String, default: 'kiln-fetch'

default_action :install

action_class do
  def kiln_fetch(*args)
    cmd = [new_resource.executable]
    %i(config root store).each do |flag|
      value = new_resource.send(flag)
      cmd += ["--#{flag}", value] unless value.nil?
    end
    cmd += ['--json'] + args
    out = shell_out(*cmd)
    begin
      result = JSON.parse(out.stdout)
    rescue JSON::ParserError
      raise "kiln-fetch printed no JSON object (exit #{out.exitstatus}): #{out.stderr.strip}"
    end
    if result['failed']
      hint = result['hint'] ? " (hint: #{result['hint']})" : ''
      raise "kiln-fetch #{args.first} #{new_resource.package_name}: #{result['error']}#{hint}"
    end
    result
  end

  def restart_args
    new_resource.restart ? [] : ['--no-restart']
  end

  def built(build)
    build.nil? ? 'nothing' : "build #{build}"
  end
end

action :install do
  if new_resource.version.nil? == new_resource.channel.nil?
    raise "kiln_tool[#{new_resource.package_name}]: give exactly one of version and channel"
  end
  target = new_resource.version ? ['--version', new_resource.version.to_s] : ['--channel', new_resource.channel]
  args = ['install', new_resource.package_name] + target + restart_args
  args << '--dry-run' if Chef::Config[:why_run]
  result = kiln_fetch(*args)
  if result['changed']
    previous = result.dig('dry_run', 'switch_from') || result['previous']
    converge_by("install #{new_resource.package_name} #{built(result['build'])} (was #{built(previous)})") {}
  end
end

action :rollback do
  args = ['rollback', new_resource.package_name] + restart_args
  args += ['--to', new_resource.version.to_s] if new_resource.version
  if Chef::Config[:why_run]
    # kiln-fetch rollback has no dry run: what it would do, from `list`.
    row = (kiln_fetch('list', new_resource.package_name)['packages'] || [])
          .find { |r| r['package'] == new_resource.package_name }
    target = new_resource.version || (row && row['rollback_target'])
    if row && target && target != row['current']
      converge_by("roll #{new_resource.package_name} back to #{built(target)} (was #{built(row['current'])})") {}
    end
  else
    result = kiln_fetch(*args)
    if result['changed']
      converge_by("roll #{new_resource.package_name} back to #{built(result['build'])} (was #{built(result['previous'])})") {}
    end
  end
end

action :remove do
  args = ['remove', new_resource.package_name]
  args << '--dry-run' if Chef::Config[:why_run]
  result = kiln_fetch(*args)
  converge_by("remove #{new_resource.package_name} (was #{built(result['previous'])})") {} if result['changed']
end

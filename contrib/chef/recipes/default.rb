# An example: solr at build 42, restarted by its own service resource when it changes.
service 'solr' do
  action :nothing
end

kiln_tool 'solr' do
  version 42
  notifies :restart, 'service[solr]'
end

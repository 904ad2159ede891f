"""drain-node NODE: take a node out of the load balancer (here: say what would happen)."""

import click


@click.command()
@click.argument("node")
@click.option("--dry-run", is_flag=True, help="Say what would be done, do nothing.")
def main(node, dry_run):
    """Drain NODE: stop sending it new work, wait for what it has."""
    verb = "would drain" if dry_run else "draining"
    click.echo(f"{verb} {node}")

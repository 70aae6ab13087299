"""The audit programme: cycles, teams, site sampling, plans, the start of an audit."""

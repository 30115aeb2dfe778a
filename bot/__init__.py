"""schemabot: the review of a team's Alembic schema changes, run from Slack."""

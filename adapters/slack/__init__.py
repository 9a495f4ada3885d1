"""The Slack adapter (slack-bolt, async): conversations for customers, `/shop` store tools for staff."""

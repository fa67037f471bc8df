"""mentiondesk: the command line, settings and the embedded supervisor."""

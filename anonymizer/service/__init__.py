"""The web service: the same pipeline over HTTP, with accounts and figures in a database."""

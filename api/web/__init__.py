"""The web pages: server-rendered HTML (Jinja2) for applicants and assessors, with sessions and CSRF tokens.

``site`` puts them on the app; ``pages`` is the shell every page uses (rendering, sign-in state, error pages,
form errors); ``routes/`` holds one router per area; ``form`` reads the proposal form; templates, static files
and texts (webtext.yaml) sit beside them.
"""

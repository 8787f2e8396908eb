"""The web pages: server-rendered HTML (Jinja2) for applicants and assessors, with sessions and CSRF tokens.

``pages`` is the shell every page uses (rendering, sign-in state, error pages, form errors); ``routes/`` holds
one router per area; ``form`` reads the proposal form; templates, static files and texts (webtext.yaml) sit
beside them.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from .pages import HERE, missing_page
from .routes import apply, checks, queue, signin


def add_web(app: FastAPI) -> None:
    """Mount the static files, register the pages (in their areas' order) and the browser's 404 page."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.missing_page = missing_page
    for area in (signin, apply, checks, queue):
        app.include_router(area.router)

"""The web pages as one site: static files, the pages of every area in order, the browser's 404 page."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from .pages import HERE, missing_page
from .routes import apply, checks, queue, receipt, signin


def add_web(app: FastAPI) -> None:
    """Mount the static files, register the pages (in their areas' order) and the browser's 404 page."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.missing_page = missing_page
    for area in (signin, apply, checks, receipt, queue):
        app.include_router(area.router)

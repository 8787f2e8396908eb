"""The web pages as one site: static files, the pages of every area in order, the pages' error page."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from .pages import HERE, error_page
from .routes import apply, checks, queue, receipt, signin


def add_web(app: FastAPI) -> None:
    """Mount the static files, register the pages (in their areas' order), where pages live and their error page."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.page_error = error_page
    areas = (signin, apply, checks, receipt, queue)
    # the first part of every page's address: a request there is a page's, and an error there gets a page
    app.state.page_areas = frozenset("/" + route.path.split("/")[1] for area in areas
                                     for route in area.router.routes if hasattr(route, "path"))
    for area in areas:
        app.include_router(area.router)

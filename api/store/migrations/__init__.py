"""Alembic migrations of the biotoets database (shipped as package data; run by ``biotoets db upgrade``)."""

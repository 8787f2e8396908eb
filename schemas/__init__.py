"""Package marker: schemas of biotoets."""

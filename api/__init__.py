"""Package marker: api of biotoets."""

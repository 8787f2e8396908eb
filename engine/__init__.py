"""Package marker: engine of biotoets."""

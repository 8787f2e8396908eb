"""Package marker: rules of biotoets."""

"""Package marker: casebase of biotoets."""

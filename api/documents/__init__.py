"""Proposals as documents: reading them (inputs), answering their open questions (answers), writing verdicts
and rules as text (render)."""

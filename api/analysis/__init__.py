"""Work over many proposals: the case base, generated proposals, and the impact of a policy scenario."""

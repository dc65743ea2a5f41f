"""Who asks: the roles a person can have, as every layer names them (the pack's clauses are written for one
of them, or for both)."""

ROLES = ("staff", "parent")

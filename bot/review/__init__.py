"""The governors' annual review (`policybot office review --from DATE --to DATE --out review.pdf`): a PDF built
only from what happened, in four steps: `gather` (store rows → a `Review`, no model), `themes` (unanswered
questions grouped with the engine's embeddings, redacted), `health` (the pack's own numbering, placeholders and
disagreeing clauses) and `pdf` (with `charts`). `build.write_review` runs them in order."""

from bot.review.build import build_review, write_review

__all__ = ["build_review", "write_review"]

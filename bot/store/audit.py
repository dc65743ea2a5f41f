"""The audit log: who in the office did what to which item or case, and when."""

from __future__ import annotations

from bot.store.connection import Room


class Audit(Room):
    def record(self, actor: str, action: str, target: str, detail: str = "") -> None:
        with self.atomic() as db:
            db["audit_log"].insert({"at": self.stamp(), "actor": actor, "action": action, "target": target, "detail": detail})

    def entries(self) -> list[dict]:
        with self.reading() as db:
            return list(db["audit_log"].rows_where(order_by="id"))

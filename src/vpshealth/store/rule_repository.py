"""Alert rule settings: stored defaults and per-host overrides."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import Engine, delete, insert, select

from vpshealth.domain.alert_rules import RULE_SPECS, RuleBook, RuleSet
from vpshealth.store.schema import rules

StoredRules = tuple[dict[str, float], dict[int, dict[str, float]]]
"""The stored defaults, and each host's overrides by host id."""


class RuleRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def stored(self) -> StoredRules:
        """The stored defaults and every host's overrides, in one read."""
        defaults: dict[str, float] = {}
        overrides: dict[int, dict[str, float]] = defaultdict(dict)
        with self._engine.connect() as conn:
            for row in conn.execute(select(rules.c.host_id, rules.c.rule, rules.c.value)):
                if row.rule not in RULE_SPECS:
                    continue  # a rule from a newer version
                value = float(json.loads(row.value))
                if row.host_id is None:
                    defaults[row.rule] = value
                else:
                    overrides[row.host_id][row.rule] = value
        return defaults, dict(overrides)

    def rule_book(self, base: Mapping[str, float] | None = None) -> RuleBook:
        """Every host's rules as stored now; ``base``: levels from the environment, under the
        stored ones."""
        return RuleBook(base, *self.stored())

    def rules_for(self, host_id: int | None, base: Mapping[str, float] | None = None) -> RuleSet:
        return self.rule_book(base).rules(host_id)

    def overrides_of(self, host_id: int | None) -> dict[str, float]:
        defaults, overrides = self.stored()
        return defaults if host_id is None else overrides.get(host_id, {})

    def update(self, host_id: int | None, values: Mapping[str, float | None], now: int) -> None:
        """Set rules for one host (None: the defaults) in one transaction; a value of None
        removes the setting, so the default applies again."""
        scope = rules.c.host_id.is_(None) if host_id is None else rules.c.host_id == host_id
        with self._engine.begin() as conn:
            for name, value in values.items():
                conn.execute(delete(rules).where(scope, rules.c.rule == name))
                if value is not None:
                    conn.execute(
                        insert(rules).values(
                            host_id=host_id, rule=name, value=json.dumps(value), updated_at=now
                        )
                    )

"""Bring the store's schema to the newest Alembic revision; print JSON {"before", "after"}.

Run by the playbook with the appliance's virtualenv as the service user, so that `changed`
means a migration really ran.
"""
import json

from alembic.runtime.migration import MigrationContext

from appliance.settings import load_settings
from appliance.store.db import Store


def current(store):
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def main():
    store = Store(load_settings().db_url)
    try:
        before = current(store)
        store.migrate()
        print(json.dumps({"before": before, "after": current(store)}))
    finally:
        store.dispose()


if __name__ == "__main__":
    main()

"""moto's server, with each DynamoDB operation made atomic.

moto's server handles requests on threads, and its DynamoDB backend evaluates a
condition and then writes without a lock, so two concurrent conditional writes (or
transactions) on the same item can both pass their conditions. Real DynamoDB never
allows that, and Pitchside's correctness rests on it (the event log's head, dedup
records, ownership of WhatsApp numbers), so the port suite's concurrency test would
fail at random against plain moto. One lock around the backend's item operations makes
moto as strict as DynamoDB here; SQS (whose long polls must not block) is untouched.

Usage: python infra/moto_server.py -H 127.0.0.1 -p 5000 (the same flags as moto_server).
"""

import functools
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()

for _name in ("put_item", "get_item", "query", "update_item", "delete_item",
              "transact_write_items", "transact_get_items", "batch_write_item"):
    _method = getattr(DynamoDBBackend, _name, None)
    if _method is None:
        continue

    def _atomic(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with _lock:
                return method(*args, **kwargs)
        return wrapper

    setattr(DynamoDBBackend, _name, _atomic(_method))

if __name__ == "__main__":
    main()
